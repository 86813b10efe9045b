# A target given as one connection URL (libpq's URI form), as Neosync and most drivers take it.
# The URL is sensitive: the provider stores its parts in the catalog with the password sealed,
# and Terraform keeps it in state only as this attribute's value.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}

# postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=verify-full
# (percent-encode reserved characters in the password: @ as %40, / as %2F, : as %3A)
variable "pg_url" {
  type      = string
  sensitive = true
}

resource "adaptive_resource" "pg" {
  type           = "postgres"
  name           = "url-target"
  connection_url = var.pg_url
  tags           = { owner = "data-team", env = "test" }
}

resource "adaptive_authorization" "read" {
  name          = "url-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })
}

resource "adaptive_endpoint" "readers" {
  name          = "url-readers"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.pg.name
  authorization = adaptive_authorization.read.name
}

resource "adaptive_group" "readers" {
  name      = "url-readers"
  members   = ["url-reader@company.com"]
  endpoints = [adaptive_endpoint.readers.name]
}

output "credentials" {
  value     = adaptive_group.readers.credentials
  sensitive = true
}
