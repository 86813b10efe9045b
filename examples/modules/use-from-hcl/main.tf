# The postgres-access module used from plain HCL: analysts get read-only access to the
# public and analytics schemas for 12 hours.
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

module "analysts" {
  source = "../postgres-access"

  name = "hcl-module-analysts"
  target = {
    name          = "hcl-module-postgres"
    host          = var.pg_host
    port          = var.pg_port
    database_name = "production"
    username      = var.pg_username
  }
  admin_password = var.pg_password

  grants = {
    grants  = ["SELECT"]
    schemas = ["public", "analytics"]
    tables  = ["*"]
  }
  ttl     = "12h"
  members = ["analyst1@company.com", "analyst2@company.com"]
}

output "analyst_credentials" {
  value     = module.analysts.credentials
  sensitive = true
}
