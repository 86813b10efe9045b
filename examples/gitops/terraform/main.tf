# The access a team manages through pull requests: the target, one permission set, one
# endpoint, and the people on call. Change `members` (or the ttl) in a pull request; the
# pipeline plans it there, and applies it once merged to main.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }

  # State: this example keeps it in a local file, which a CI runner throws away after each
  # run. Put your own backend here (s3, gcs, azurerm, pg, a Terraform Cloud workspace...),
  # one that locks, e.g.:
  #   backend "pg" {
  #     conn_str = "postgres://terraform@state.db.internal/terraform_state"
  #   }
  backend "local" {}
}

# The catalog comes from ADAPTIVE_CATALOG_URL and ADAPTIVE_CATALOG_KEY (CI secrets).
provider "adaptive" {}

variable "pg_host" {
  type = string
}

variable "pg_port" {
  type    = string
  default = "5432"
}

variable "pg_username" {
  type = string
}

variable "pg_password" {
  type      = string
  sensitive = true
}

resource "adaptive_resource" "postgres" {
  type = "postgres"

  name          = "postgres-gitops"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
}

resource "adaptive_authorization" "readonly" {
  name          = "gitops-readonly"
  description   = "Read-only access for the people on call"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "oncall" {
  name          = "gitops-oncall-readonly"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.readonly.name
}

# Who has access: edit this list in a pull request.
resource "adaptive_group" "oncall" {
  name = "gitops-oncall"

  members = [
    "alice@company.com",
    "bob@company.com",
  ]

  endpoints = [adaptive_endpoint.oncall.name]
}

output "credentials" {
  value     = adaptive_group.oncall.credentials
  sensitive = true
}
