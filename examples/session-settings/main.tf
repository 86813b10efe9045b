# Session settings for an endpoint's members: the schemas their sessions search, how long a
# statement may run, how long a session may sit idle, and how many sessions each member may
# have open at once. They are set on each member's login role (ALTER ROLE ... SET), so every
# client gets them without configuring anything.
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

variable "statement_timeout" {
  type    = string
  default = "30s"
}

variable "idle_session_timeout" {
  type    = string
  default = "10m"
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

resource "adaptive_authorization" "app_readonly" {
  name          = "app-readonly"
  description   = "Read-only access to the app and public schemas"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["app", "public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "app_support" {
  name          = "app-support"
  type          = "direct"
  ttl           = "4h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.app_readonly.name

  # `select * from settings` finds app.settings.
  search_path = ["app", "public"]
  # A runaway query is cancelled; a forgotten session is closed (PostgreSQL 14+).
  statement_timeout    = var.statement_timeout
  idle_session_timeout = var.idle_session_timeout
  # One session at a time per member.
  connection_limit = 1
}

resource "adaptive_group" "support" {
  name      = "support"
  members   = ["support1@company.com"]
  endpoints = [adaptive_endpoint.app_support.name]
}

output "support_credentials" {
  value     = adaptive_group.support.credentials
  sensitive = true
}
