# Access that is gone five seconds after it is granted: for trying out expiry and the
# reaper. After expiry, login is refused; `terraform plan` shows no changes but warns
# which grants expired; `adaptive-access reap` ends open sessions and drops the roles.
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
  default = "127.0.0.1"
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

variable "ttl" {
  type    = string
  default = "5s"
}

resource "adaptive_resource" "postgres" {
  type = "postgres"

  name          = "postgres-short-lived"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
}

resource "adaptive_authorization" "readonly" {
  name          = "short-lived-readonly"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "brief" {
  name          = "short-lived-access"
  type          = "direct"
  ttl           = var.ttl
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.readonly.name
}

resource "adaptive_group" "oncall" {
  name      = "oncall"
  members   = ["oncall@company.com"]
  endpoints = [adaptive_endpoint.brief.name]
}

output "credentials" {
  value     = adaptive_group.oncall.credentials
  sensitive = true
}
