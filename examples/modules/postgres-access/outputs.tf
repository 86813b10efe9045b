output "credentials" {
  description = "One credential per member, keyed \"<endpoint>/<member>\": member, endpoint, username, password, expires_at, host, port, database, sslmode, uri, ca_cert."
  value       = adaptive_group.this.credentials
  sensitive   = true
}

output "access_role" {
  description = "The NOLOGIN role on the target that holds the grants."
  value       = adaptive_endpoint.this.access_role
}

output "endpoint" {
  description = "Name of the endpoint, for groups managed elsewhere."
  value       = adaptive_endpoint.this.name
}
