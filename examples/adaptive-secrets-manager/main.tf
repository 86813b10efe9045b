# Adaptive's own Secrets Manager form, as its provider's public examples write it
# (postgres_aws_secrets_manager): no host, the secret holds the address and the admin login
# (username, password, engine, host, port, dbname), read with the IAM role `arn` assumed
# through STS. The AWS credentials that assume it come from the AWS SDK's default chain
# (environment, profile, SSO, instance or task role).
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

# Endpoint overrides: VPC endpoints, or local stand-ins for Secrets Manager and STS; null uses AWS's own.
variable "aws_endpoint" {
  type    = string
  default = null
}

variable "aws_sts_endpoint" {
  type    = string
  default = null
}

provider "adaptive" {
  aws_endpoint     = var.aws_endpoint
  aws_sts_endpoint = var.aws_sts_endpoint
}

resource "adaptive_resource" "pg_pagila_secrets_manager" {
  type      = "postgres_aws_secrets_manager"
  name      = "pagila-tf"
  arn       = "arn:aws:iam::123456789012:role/secretsAccessRole"
  region    = "us-east-1"
  secret_id = "db/postgres/pagila"
}

resource "adaptive_authorization" "pagila_readonly" {
  name          = "pagila-readonly"
  description   = "Read-only access to pagila"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "pagila_readonly" {
  name          = "pagila-readonly-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.pg_pagila_secrets_manager.name
  authorization = adaptive_authorization.pagila_readonly.name
}

resource "adaptive_group" "pagila_analysts" {
  name      = "pagila-analysts"
  members   = ["analyst1@company.com"]
  endpoints = [adaptive_endpoint.pagila_readonly.name]
}

# The same role with the seed's use_aws_secrets form: aws_role_arn means what arn means above.
variable "pg_host" {
  type    = string
  default = "postgres.example.com"
}

variable "pg_port" {
  type    = string
  default = "5432"
}

resource "adaptive_resource" "pg_pagila_use_aws_secrets" {
  type          = "postgres"
  name          = "pagila-seed-form"
  host          = var.pg_host
  port          = var.pg_port
  database_name = "pagila"

  use_aws_secrets = true
  aws_region      = "us-east-1"
  aws_secret_name = "db/postgres/pagila"
  aws_role_arn    = "arn:aws:iam::123456789012:role/secretsAccessRole"
}

output "analyst_credentials" {
  value     = adaptive_group.pagila_analysts.credentials
  sensitive = true
}
