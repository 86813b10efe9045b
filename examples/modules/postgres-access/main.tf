# One target, one permission set, one endpoint applying it for a ttl, and one group of
# people given that endpoint: the HCL twin of the PostgresAccess construct.

resource "adaptive_resource" "this" {
  type = "postgres"

  name          = var.target.name
  host          = var.target.host
  port          = var.target.port
  database_name = var.target.database_name
  username      = var.target.username
  password      = var.admin_password

  use_aws_secrets       = var.target.use_aws_secrets
  aws_region            = var.target.aws_region
  aws_secret_name       = var.target.aws_secret_name
  aws_endpoint          = var.target.aws_endpoint
  aws_access_key_id     = var.aws_access_key_id
  aws_secret_access_key = var.aws_secret_access_key

  ssl_mode        = var.target.ssl_mode
  tls_root_cert   = var.target.tls_root_cert
  tls_cert_file   = var.target.tls_cert_file
  tls_key_file    = var.tls_key_file
  tls_server_name = var.target.tls_server_name

  max_connections = var.target.max_connections
  min_connections = var.target.min_connections
}

resource "adaptive_authorization" "this" {
  name          = var.name
  resource_type = "postgres"
  permissions   = jsonencode(var.grants)
}

resource "adaptive_endpoint" "this" {
  name          = var.name
  type          = "direct"
  ttl           = var.ttl
  resource      = adaptive_resource.this.name
  authorization = adaptive_authorization.this.name
}

resource "adaptive_group" "this" {
  name      = var.name
  members   = var.members
  endpoints = [adaptive_endpoint.this.name]
}
