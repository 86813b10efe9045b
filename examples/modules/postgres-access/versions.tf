terraform {
  required_version = ">= 1.5"

  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}
