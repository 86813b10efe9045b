variable "name" {
  description = "Name of the authorization, the endpoint and the group this module creates (each kind has its own namespace)."
  type        = string
}

variable "target" {
  description = <<-EOT
    The PostgreSQL target and its admin connection, named as the adaptive_resource
    attributes. The admin secret comes from admin_password, or from AWS Secrets Manager
    (use_aws_secrets = true with aws_secret_name). TLS fields take PEM contents (file(...)).
  EOT
  type = object({
    name            = string
    host            = string
    port            = optional(string, "5432")
    database_name   = string
    username        = optional(string)
    use_aws_secrets = optional(bool)
    aws_region      = optional(string)
    aws_secret_name = optional(string)
    aws_endpoint    = optional(string)
    ssl_mode        = optional(string, "prefer")
    tls_root_cert   = optional(string)
    tls_cert_file   = optional(string)
    tls_server_name = optional(string)
    max_connections = optional(number)
    min_connections = optional(number)
  })
}

variable "admin_password" {
  description = "Password of target.username. Leave null with use_aws_secrets."
  type        = string
  default     = null
  sensitive   = true
}

variable "tls_key_file" {
  description = "PEM contents of the client key for target.tls_cert_file (mutual TLS)."
  type        = string
  default     = null
  sensitive   = true
}

variable "aws_access_key_id" {
  description = "Static AWS access key id for the secret; null uses the AWS SDK credential chain."
  type        = string
  default     = null
  sensitive   = true
}

variable "aws_secret_access_key" {
  description = "Static AWS secret access key, with aws_access_key_id."
  type        = string
  default     = null
  sensitive   = true
}

variable "grants" {
  description = "What the members may do: table privileges on tables of schemas, as in adaptive_authorization's permissions."
  type = object({
    grants  = list(string)
    schemas = list(string)
    tables  = list(string)
  })
}

variable "ttl" {
  description = "How long each member's credential lives from its grant: 30m, 8h, 1d, 7d, ..."
  type        = string
  default     = "8h"
}

variable "members" {
  description = "Email addresses of the people given access."
  type        = list(string)
}
