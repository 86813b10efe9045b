# The seed's three authorizations: read-only, developer (CRUD) and schema-specific.
# An authorization is a named permission set; it does nothing until an endpoint applies it.
terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}

resource "adaptive_authorization" "postgres_readonly" {
  name          = "postgres-readonly"
  description   = "Read-only access to production database"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_authorization" "postgres_developer" {
  name          = "postgres-developer"
  description   = "Developer access with CRUD permissions"
  resource_type = "postgres"

  permissions = jsonencode({
    grants = [
      "SELECT",
      "INSERT",
      "UPDATE",
      "DELETE"
    ]
    schemas = ["public", "app"]
    tables  = ["*"]
  })
}

resource "adaptive_authorization" "postgres_schema_access" {
  name          = "postgres-analytics-access"
  description   = "Access to analytics schema only"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT", "INSERT"]
    schemas = ["analytics"]
    tables  = ["events", "metrics"]
  })
}
