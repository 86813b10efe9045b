# Permissions beyond tables: EXECUTE on functions and privileges on sequences, named one by
# one or "*" (every one in the listed schemas, now and later). The billing clerk may insert
# invoices, draw invoice numbers and compute totals; the reporting role may call every
# function and read every sequence of schema reports, including those created later.
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

resource "adaptive_resource" "postgres" {
  type = "postgres"

  name          = "postgres-billing"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
}

# Named objects: one table, one sequence, one overload of a function.
resource "adaptive_authorization" "billing_clerk" {
  name          = "billing-clerk"
  description   = "Insert invoices, draw invoice numbers, compute totals"
  resource_type = "postgres"

  permissions = jsonencode({
    grants    = ["SELECT", "INSERT"]
    schemas   = ["billing"]
    tables    = ["billing.invoices"]
    sequences = { privileges = ["USAGE"], names = ["billing.invoice_numbers"] }
    functions = ["billing.invoice_total(integer)"]
  })
}

# "*": every function and sequence of schema reports, now and later; no table at all.
resource "adaptive_authorization" "reports_runner" {
  name          = "reports-runner"
  description   = "Run every report function and read every report sequence"
  resource_type = "postgres"

  permissions = jsonencode({
    schemas   = ["reports"]
    sequences = { privileges = ["USAGE", "SELECT"], names = ["*"] }
    functions = ["*"]
  })
}

resource "adaptive_endpoint" "billing" {
  name          = "billing-clerk-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.billing_clerk.name
}

resource "adaptive_endpoint" "reports" {
  name          = "reports-runner-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.reports_runner.name
}

resource "adaptive_group" "finance" {
  name    = "finance"
  members = ["clerk@company.com"]
  endpoints = [
    adaptive_endpoint.billing.name,
    adaptive_endpoint.reports.name,
  ]
}

output "credentials" {
  value     = adaptive_group.finance.credentials
  sensitive = true
}
