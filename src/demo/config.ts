/**
 * The Terraform configuration the demo writes: one target (the shop database), two
 * authorizations, three endpoints and three groups, in the same shape as
 * examples/groups-and-endpoints and examples/short-lived.
 */
import { PROVIDER_SOURCE } from '../install';
import { SHOP_DATABASE } from './seed';

/** The three people the demo grants access to. */
export const MEMBERS = {
  analyst: 'ana@example.com',
  developer: 'dev@example.com',
  oncall: 'ops@example.com',
} as const;

/** The endpoints (one per kind of access), by the member kind that uses them. */
export const ENDPOINTS = {
  analyst: 'analyst',
  developer: 'developer',
  oncall: 'oncall',
} as const;

export interface DemoConfigOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The ttl of the on-call endpoint, in seconds. */
  readonly shortTtlSeconds: number;
}

/** The resource address of each block the demo shows the reader. */
export const KEY_BLOCKS = ['"adaptive_authorization" "analyst_readonly"', '"adaptive_endpoint" "oncall"', '"adaptive_group" "oncall"'] as const;

/** main.tf. The admin password is not in it: Terraform reads it from TF_VAR_pg_password. */
export function mainTf(o: DemoConfigOptions): string {
  return [header(), target(o), authorizations(), endpoints(o), groups(), credentialsOutput()].join('\n');
}

function header(): string {
  return `# Written by \`adaptive-access demo\`: time-limited, per-person access to the shop database.
terraform {
  required_providers {
    adaptive = {
      source = "${PROVIDER_SOURCE}"
    }
  }
}

# Reads ADAPTIVE_CATALOG_URL and ADAPTIVE_CATALOG_KEY from the environment.
provider "adaptive" {}

variable "pg_password" {
  type      = string
  sensitive = true
}
`;
}

function target(o: DemoConfigOptions): string {
  return `# The database to grant on, and an admin login the provider manages roles with.
resource "adaptive_resource" "shop" {
  type = "postgres"

  name          = "shop"
  host          = "${o.host}"
  port          = "${o.port}"
  username      = "${o.username}"
  password      = var.pg_password
  database_name = "${SHOP_DATABASE}"
}
`;
}

function authorizations(): string {
  return `resource "adaptive_authorization" "analyst_readonly" {
  name          = "analyst-readonly"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_authorization" "developer_readwrite" {
  name          = "developer-readwrite"
  resource_type = "postgres"

  permissions = jsonencode({
    grants  = ["SELECT", "INSERT", "UPDATE", "DELETE"]
    schemas = ["public"]
    tables  = ["*"]
  })
}
`;
}

function endpoints(o: DemoConfigOptions): string {
  return `resource "adaptive_endpoint" "analyst" {
  name          = "${ENDPOINTS.analyst}"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.shop.name
  authorization = adaptive_authorization.analyst_readonly.name
}

resource "adaptive_endpoint" "developer" {
  name          = "${ENDPOINTS.developer}"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.shop.name
  authorization = adaptive_authorization.developer_readwrite.name
}

resource "adaptive_endpoint" "oncall" {
  name          = "${ENDPOINTS.oncall}"
  type          = "direct"
  ttl           = "${o.shortTtlSeconds}s"
  resource      = adaptive_resource.shop.name
  authorization = adaptive_authorization.analyst_readonly.name
}
`;
}

function groups(): string {
  return `resource "adaptive_group" "analysts" {
  name      = "analysts"
  members   = ["${MEMBERS.analyst}"]
  endpoints = [adaptive_endpoint.analyst.name]
}

resource "adaptive_group" "developers" {
  name      = "developers"
  members   = ["${MEMBERS.developer}"]
  endpoints = [adaptive_endpoint.developer.name]
}

resource "adaptive_group" "oncall" {
  name      = "oncall"
  members   = ["${MEMBERS.oncall}"]
  endpoints = [adaptive_endpoint.oncall.name]
}
`;
}

function credentialsOutput(): string {
  return `# One credential per member and endpoint: username, password, expires_at, host, port, uri, ...
output "credentials" {
  value = concat(
    values(adaptive_group.analysts.credentials),
    values(adaptive_group.developers.credentials),
    values(adaptive_group.oncall.credentials),
  )
  sensitive = true
}
`;
}

/** The blocks named in `KEY_BLOCKS`, cut out of `hcl` as written. */
export function keyBlocks(hcl: string): string[] {
  const lines = hcl.split('\n');
  const blocks: string[] = [];
  for (const name of KEY_BLOCKS) {
    const start = lines.findIndex((l) => l.startsWith(`resource ${name} {`));
    if (start < 0) continue;
    const end = lines.findIndex((l, i) => i > start && l === '}');
    blocks.push(lines.slice(start, end + 1).join('\n'));
  }
  return blocks;
}
