# The seed's AWS Secrets Manager example: the admin credentials live in a secret whose JSON
# holds username, password, engine, host, port and dbname. Only the reference is stored.
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

resource "adaptive_resource" "postgres_secrets" {
  type = "postgres"

  name          = "postgres-secure"
  host          = var.pg_host
  port          = var.pg_port
  database_name = "production"

  # AWS Secrets Manager integration
  use_aws_secrets       = true
  aws_region            = "us-east-1"
  aws_secret_name       = "postgres-credentials"
  aws_access_key_id     = var.aws_access_key
  aws_secret_access_key = var.aws_secret_key
  aws_endpoint          = var.aws_endpoint
}
