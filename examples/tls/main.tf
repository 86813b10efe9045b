# The seed's basic TLS example: TLS required, server certificate checked against a CA.
# With a root certificate, "require" behaves as "verify-ca", exactly as libpq does.
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

resource "adaptive_resource" "postgres_tls" {
  type = "postgres"

  name          = "postgres-secure"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"

  # Enable TLS
  ssl_mode      = "require"
  tls_root_cert = file("ca-certificate.crt")
}
