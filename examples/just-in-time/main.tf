# Just-in-time access declared in code. The group says who may have access to which
# endpoint; a run that needs the database opens an on-demand credential for one member,
# uses it, and the credential is revoked (sessions ended, role dropped) when the run ends.
# No password, the admin's included, is ever in Terraform state or in a plan file.
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

# Ephemeral: Terraform keeps it out of saved plans; it reaches only the write-only password_wo.
variable "pg_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Who runs the job below: must be a member of the group.
variable "member" {
  type    = string
  default = "oncall@company.com"
}

# How long the job's credential works before Terraform renews it (up to the endpoint's ttl).
variable "credential_ttl" {
  type    = string
  default = "10m"
}

# What the job runs with the credential in PG* environment variables.
variable "job" {
  type    = string
  default = "psql -v ON_ERROR_STOP=1 -c 'select count(*) from orders'"
}

resource "adaptive_resource" "postgres" {
  type = "postgres"

  name          = "postgres-just-in-time"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  database_name = "production"

  # Write-only: stored encrypted in the catalog, never in state. Bump the version to apply a new one.
  password_wo         = var.pg_password
  password_wo_version = 1
}

resource "adaptive_authorization" "readonly" {
  name          = "just-in-time-readonly"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "oncall" {
  name          = "oncall-access"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.readonly.name
}

# Eligibility: these people may open a credential on these endpoints. "none": the group
# issues no standing credential at all.
resource "adaptive_group" "oncall" {
  name                = "oncall"
  members             = ["oncall@company.com", "sre@company.com"]
  endpoints           = [adaptive_endpoint.oncall.name]
  credential_delivery = "none"
}

# Opened when the run needs it, renewed while it lasts, revoked when it ends. Naming the
# group by its id makes Terraform open the credential only once the group exists.
ephemeral "adaptive_credential" "job" {
  endpoint = adaptive_endpoint.oncall.name
  group    = adaptive_group.oncall.id
  member   = var.member
  ttl      = var.credential_ttl
}

# Runs the job on every apply, with the credential in its environment only.
resource "terraform_data" "job" {
  triggers_replace = [timestamp()]

  provisioner "local-exec" {
    command = var.job
    environment = {
      PGHOST     = ephemeral.adaptive_credential.job.host
      PGPORT     = ephemeral.adaptive_credential.job.port
      PGDATABASE = ephemeral.adaptive_credential.job.database
      PGUSER     = ephemeral.adaptive_credential.job.username
      PGPASSWORD = ephemeral.adaptive_credential.job.password
      PGSSLMODE  = ephemeral.adaptive_credential.job.sslmode
    }
  }
}
