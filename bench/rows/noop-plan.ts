/**
 * No-op plan: the seed's production example (examples/production: two resources, two
 * authorizations, two endpoints, two groups of two) applied, then `terraform plan` with
 * nothing to change, next to `terraform plan` of one applied `terraform_data`. The
 * variant points both resources at the bench's cluster with an inline admin password
 * instead of Secrets Manager and TLS, which the bench has no stand-in for.
 */
import type { Sampled } from '../measure';
import { seconds } from '../measure';
import { TARGET_DB, type BenchWorld } from '../world';

const TERRAFORM_BLOCK = `terraform {
  required_providers {
    adaptive = { source = "adaptive-access.local/access/adaptive" }
  }
}
provider "adaptive" {}
`;

function productionVariant(world: BenchWorld): string {
  const { host, port, user, password } = world.cluster.clientConfig();
  const resource = (name: string, pool: string): string => `
resource "adaptive_resource" "${name.replaceAll('-', '_')}" {
  type          = "postgres"
  name          = "${name}"
  host          = ${JSON.stringify(host)}
  port          = "${port}"
  username      = ${JSON.stringify(user)}
  password      = ${JSON.stringify(password)}
  database_name = "${TARGET_DB}"
  ssl_mode      = "disable"${pool}
}
`;
  const authorization = (name: string, grants: string, schemas: string): string => `
resource "adaptive_authorization" "${name.replaceAll('-', '_')}" {
  name          = "${name}"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = [${grants}], schemas = [${schemas}], tables = ["*"] })
}
`;
  const endpoint = (name: string, ttl: string, resource: string, authorization: string): string => `
resource "adaptive_endpoint" "${name.replaceAll('-', '_')}" {
  name          = "${name}"
  type          = "direct"
  ttl           = "${ttl}"
  resource      = adaptive_resource.${resource}.name
  authorization = adaptive_authorization.${authorization}.name
}
`;
  const group = (name: string, members: string, endpoint: string): string => `
resource "adaptive_group" "${name.replaceAll('-', '_')}" {
  name      = "${name}"
  members   = [${members}]
  endpoints = [adaptive_endpoint.${endpoint}.name]
}
`;
  return [
    TERRAFORM_BLOCK,
    resource('postgres-production', '\n  max_connections = 100\n  min_connections = 20'),
    resource('postgres-read-replica', ''),
    authorization('developer-role', '"SELECT", "INSERT", "UPDATE", "DELETE"', '"public", "app"'),
    authorization('analyst-role', '"SELECT"', '"public", "analytics"'),
    group('backend-developers', '"dev1@company.com", "dev2@company.com"', 'postgres_dev_access'),
    endpoint('postgres-dev-access', '8h', 'postgres_production', 'developer_role'),
    group('data-analysts', '"analyst1@company.com", "analyst2@company.com"', 'postgres_analyst_access'),
    endpoint('postgres-analyst-access', '12h', 'postgres_read_replica', 'analyst_role'),
  ].join('');
}

const PLAN = ['plan', '-detailed-exitcode'];

export async function measureNoopPlan(world: BenchWorld, repeat: number): Promise<Sampled> {
  const production = await world.workspace({ 'main.tf': productionVariant(world) });
  await production.run(['apply', '-auto-approve']);
  const floor = await world.workspace({ 'main.tf': 'resource "terraform_data" "one" {}\n' });
  await floor.run(['apply', '-auto-approve']);
  const samples: number[] = [];
  const floorSamples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    // Exit 0 with -detailed-exitcode: no changes, as a no-op plan must be.
    floorSamples.push(await seconds(() => floor.run(PLAN)));
    samples.push(await seconds(() => production.run(PLAN)));
  }
  await production.run(['destroy', '-auto-approve']);
  return { samples, floorSamples };
}
