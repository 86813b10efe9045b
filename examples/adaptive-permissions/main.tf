# Adaptive's own YAML spelling of permissions, exactly as Adaptive's documentation writes it:
# `allow:` entries of database, privileges and objects. `objects: [ALL]` is every table of
# schema public, now and later; `database` must be the database the resource connects to.
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
  resource_type = "postgres"
  permissions   = <<-EOT
    allow:
      - database: production
        privileges:
          - SELECT
        objects:
          - ALL
  EOT
  description   = "Read-only access to PostgreSQL databases"
}

# Several entries: they must agree on the database and the privileges (one authorization
# grants one set of privileges); for different privileges, write two authorizations.
resource "adaptive_authorization" "app_writer" {
  name          = "app-writer"
  resource_type = "postgres"
  permissions   = <<-EOT
    allow:
      - database: production
        privileges: [SELECT, INSERT, UPDATE]
        objects: [orders]
      - database: production
        privileges: [SELECT, INSERT, UPDATE]
        objects: [app.settings]
  EOT
  description   = "Write orders and settings"
}

resource "adaptive_endpoint" "readonly" {
  name          = "postgres-readonly-access"
  type          = "direct"
  ttl           = "12h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.postgres_readonly.name
}

resource "adaptive_endpoint" "writer" {
  name          = "app-writer-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.app_writer.name
}

resource "adaptive_group" "analysts" {
  name      = "analysts"
  members   = ["analyst@company.com"]
  endpoints = [adaptive_endpoint.readonly.name]
}

resource "adaptive_group" "writers" {
  name      = "writers"
  members   = ["writer@company.com"]
  endpoints = [adaptive_endpoint.writer.name]
}

output "analyst_credentials" {
  value     = adaptive_group.analysts.credentials
  sensitive = true
}

output "writer_credentials" {
  value     = adaptive_group.writers.credentials
  sensitive = true
}
