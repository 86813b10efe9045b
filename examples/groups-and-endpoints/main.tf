# The seed's groups and endpoints: developers get CRUD for 8 hours, analysts read-only for
# 12 hours, each member with a credential of their own on the same target.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}

variable "pg_host" {
  type    = string
  default = "postgres.example.com"
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

  name          = "postgres-production"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
}

resource "adaptive_authorization" "postgres_readonly" {
  name          = "postgres-readonly"
  description   = "Read-only access to production database"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_authorization" "postgres_developer" {
  name          = "postgres-developer"
  description   = "Developer access with CRUD permissions"
  resource_type = "postgres"

  permissions = jsonencode({
    grants = [
      "SELECT",
      "INSERT",
      "UPDATE",
      "DELETE"
    ]
    schemas = ["public", "app"]
    tables  = ["*"]
  })
}

resource "adaptive_group" "postgres_developers" {
  name = "postgres-developers"

  members = [
    "dev1@company.com",
    "dev2@company.com"
  ]

  endpoints = [
    adaptive_endpoint.postgres_dev_access.name
  ]
}

resource "adaptive_endpoint" "postgres_dev_access" {
  name          = "postgres-developer-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.postgres_developer.name
}

resource "adaptive_group" "postgres_analysts" {
  name = "data-analysts"

  members = [
    "analyst1@company.com",
    "analyst2@company.com"
  ]

  endpoints = [
    adaptive_endpoint.postgres_readonly_access.name
  ]
}

resource "adaptive_endpoint" "postgres_readonly_access" {
  name          = "postgres-readonly-access"
  type          = "direct"
  ttl           = "12h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.postgres_readonly.name
}

# Each member's credential (username, password, expires_at, a connection URI, ...).
output "developer_credentials" {
  value     = adaptive_group.postgres_developers.credentials
  sensitive = true
}

output "analyst_credentials" {
  value     = adaptive_group.postgres_analysts.credentials
  sensitive = true
}
