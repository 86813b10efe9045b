# The seed's complete production example: a primary and a read replica whose admin
# credentials live in AWS Secrets Manager, verified TLS (mutual TLS on the primary),
# developers on the primary for 8 hours and analysts on the replica for 12 hours.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}

variable "primary_host" {
  type    = string
  default = "postgres-primary.internal.company.net"
}

variable "replica_host" {
  type    = string
  default = "postgres-replica.internal.company.net"
}

variable "primary_port" {
  type    = string
  default = "5432"
}

variable "replica_port" {
  type    = string
  default = "5432"
}

variable "aws_access_key" {
  type      = string
  sensitive = true
}

variable "aws_secret_key" {
  type      = string
  sensitive = true
}

# A VPC endpoint or a local stand-in for Secrets Manager; null uses AWS's own endpoint.
variable "aws_endpoint" {
  type    = string
  default = null
}

# PostgreSQL Production Resource
resource "adaptive_resource" "postgres_prod" {
  type = "postgres"

  name          = "postgres-production"
  host          = var.primary_host
  port          = var.primary_port
  database_name = "production"

  # Use AWS Secrets Manager
  use_aws_secrets       = true
  aws_region            = "us-east-1"
  aws_secret_name       = "postgres-prod-credentials"
  aws_access_key_id     = var.aws_access_key
  aws_secret_access_key = var.aws_secret_key
  aws_endpoint          = var.aws_endpoint

  # SSL Configuration
  ssl_mode      = "verify-full"
  tls_root_cert = file("${path.module}/certs/ca-cert.pem")
  tls_cert_file = file("${path.module}/certs/client-cert.pem")
  tls_key_file  = file("${path.module}/certs/client-key.pem")

  # Connection pool
  max_connections = 100
  min_connections = 20
}

# Read Replica for Analytics
resource "adaptive_resource" "postgres_replica" {
  type = "postgres"

  name          = "postgres-read-replica"
  host          = var.replica_host
  port          = var.replica_port
  database_name = "production"

  use_aws_secrets       = true
  aws_region            = "us-east-1"
  aws_secret_name       = "postgres-replica-credentials"
  aws_access_key_id     = var.aws_access_key
  aws_secret_access_key = var.aws_secret_key
  aws_endpoint          = var.aws_endpoint

  # No tls_root_cert: the server is verified against the system's trust store.
  ssl_mode = "verify-full"
}

# Developer Authorization
resource "adaptive_authorization" "dev_role" {
  name          = "developer-role"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT", "INSERT", "UPDATE", "DELETE"]
    schemas = ["public", "app"]
    tables  = ["*"]
  })
}

# Analyst Authorization
resource "adaptive_authorization" "analyst_role" {
  name          = "analyst-role"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public", "analytics"]
    tables  = ["*"]
  })
}

# Developer Group
resource "adaptive_group" "developers" {
  name = "backend-developers"

  members = [
    "dev1@company.com",
    "dev2@company.com"
  ]

  endpoints = [
    adaptive_endpoint.dev_access.name
  ]
}

# Developer Endpoint
resource "adaptive_endpoint" "dev_access" {
  name          = "postgres-dev-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres_prod.name
  authorization = adaptive_authorization.dev_role.name
}

# Analyst Group (Read Replica)
resource "adaptive_group" "analysts" {
  name = "data-analysts"

  members = [
    "analyst1@company.com",
    "analyst2@company.com"
  ]

  endpoints = [
    adaptive_endpoint.analyst_access.name
  ]
}

# Analyst Endpoint (using replica)
resource "adaptive_endpoint" "analyst_access" {
  name          = "postgres-analyst-access"
  type          = "direct"
  ttl           = "12h"
  resource      = adaptive_resource.postgres_replica.name
  authorization = adaptive_authorization.analyst_role.name
}

output "developer_credentials" {
  value     = adaptive_group.developers.credentials
  sensitive = true
}

output "analyst_credentials" {
  value     = adaptive_group.analysts.credentials
  sensitive = true
}
