# The seed's basic connection and connection-pool examples: one PostgreSQL target reached
# with an inline admin password, plus the same target with pool sizes.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

# catalog_url and the catalog key come from ADAPTIVE_CATALOG_URL / ADAPTIVE_CATALOG_KEY.
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

resource "adaptive_resource" "postgres_pooled" {
  type = "postgres"

  name          = "postgres-pooled"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"

  # Connection pool configuration
  max_connections = 100
  min_connections = 10
}

output "server_version" {
  value = adaptive_resource.postgres.server_version
}
