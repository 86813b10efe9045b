# The seed's mutual TLS example: the server's certificate is verified (chain and hostname)
# and the provider presents a client certificate.
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

resource "adaptive_resource" "postgres_mtls" {
  type = "postgres"

  name          = "postgres-mtls"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"

  # Mutual TLS configuration
  ssl_mode      = "verify-full"
  tls_root_cert = file("ca-certificate.crt")
  tls_cert_file = file("client-certificate.crt")
  tls_key_file  = file("client-key.key")
}
