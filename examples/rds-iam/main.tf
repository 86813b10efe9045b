# IAM database authentication for the admin (Amazon RDS, Aurora): no admin password is
# kept anywhere. Each admin connection signs a fresh 15-minute token with AWS credentials
# (the static keys below, or with them left null the AWS SDK default chain: environment,
# profile, SSO, instance or task role). The admin role needs `GRANT rds_iam TO iam_admin;`
# and the credentials an IAM policy allowing rds-db:connect on
# arn:aws:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/iam_admin.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {
  aws_region = var.aws_region
}

variable "pg_host" {
  type    = string
  default = "prod.abc123xyz.eu-west-1.rds.amazonaws.com"
}

variable "pg_port" {
  type    = string
  default = "5432"
}

variable "pg_username" {
  type    = string
  default = "iam_admin"
}

variable "aws_region" {
  type    = string
  default = "eu-west-1"
}

variable "aws_access_key_id" {
  type      = string
  default   = null
  sensitive = true
}

variable "aws_secret_access_key" {
  type      = string
  default   = null
  sensitive = true
}

resource "adaptive_resource" "rds" {
  type = "postgres"

  name          = "rds-iam-production"
  host          = var.pg_host
  port          = var.pg_port
  database_name = "production"
  username      = var.pg_username

  # The admin password is an IAM token made for each connection.
  use_rds_iam           = true
  aws_access_key_id     = var.aws_access_key_id
  aws_secret_access_key = var.aws_secret_access_key

  # Tokens travel as passwords: TLS is required, verified against the RDS CA bundle.
  ssl_mode      = "verify-full"
  tls_root_cert = file("rds-ca.pem")
}

resource "adaptive_authorization" "read_orders" {
  name          = "rds-read-orders"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })
}

resource "adaptive_endpoint" "analysts" {
  name          = "rds-analysts"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.rds.name
  authorization = adaptive_authorization.read_orders.name
}

resource "adaptive_group" "analysts" {
  name      = "rds-analysts"
  members   = ["analyst@company.com"]
  endpoints = [adaptive_endpoint.analysts.name]
}

output "credentials" {
  value     = adaptive_group.analysts.credentials
  sensitive = true
}
