/**
 * A group of N members on one endpoint, through Terraform, next to psql doing the same
 * work in one transaction. Each run, back to back:
 *   1. psql: N `CREATE ROLE ... LOGIN PASSWORD '<plain>' VALID UNTIL ... IN ROLE <group>`
 *      + `COMMENT ON ROLE` (the server computes each SCRAM verifier)   -> apply's floor
 *   2. `terraform apply` from empty (resource, authorization, endpoint, group of N),
 *      with the plugin's RSS sampled; then the state file's size
 *   3. `terraform plan` holding the N credentials (no changes)
 *   4. `terraform plan` of the same configuration holding 1 (applied once)  -> its floor
 *   5. `terraform destroy` of it all (the N credentials revoked)
 *   6. psql: N `DROP ROLE` in one transaction                           -> destroy's floor
 * With a trace file, one more plan holding the N members after the last run's step 3, at
 * TF_LOG=trace logged there (not timed).
 * A step that fails ends the runs; its row carries the error, and the rows it kept from
 * being measured say so (the peak RSS until a failed apply is kept).
 */
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { literal, ident } from '../../src/runtime/pg/sql';
import { seconds } from '../measure';
import { RssSampler } from '../rss';
import { superuserSql, TARGET_DB, type BenchWorld, type Workspace } from '../world';

export const MEMBER_ROWS = ['apply', 'planMany', 'destroy', 'peakRss', 'stateSize'] as const;
export type MemberRow = (typeof MEMBER_ROWS)[number];

export interface MemberResults {
  readonly samples: Record<MemberRow, number[]>;
  readonly floors: Record<'apply' | 'planMany' | 'destroy', number[]>;
  readonly errors: Partial<Record<MemberRow, string>>;
}

const FLOOR_GROUP = 'bench_floor_group';

export function memberEmail(i: number): string {
  return `m${String(i + 1).padStart(5, '0')}@bench.example.com`;
}

/** One resource, authorization and endpoint, and a group of the members in terraform.tfvars.json. */
function groupConfig(world: BenchWorld, prefix: string): string {
  const { host, port, user, password } = world.cluster.clientConfig();
  return `terraform {
  required_providers {
    adaptive = { source = "adaptive-access.local/access/adaptive" }
  }
}
provider "adaptive" {}

variable "members" { type = list(string) }

resource "adaptive_resource" "db" {
  type          = "postgres"
  name          = "${prefix}-db"
  host          = ${JSON.stringify(host)}
  port          = "${port}"
  username      = ${JSON.stringify(user)}
  password      = ${JSON.stringify(password)}
  database_name = "${TARGET_DB}"
  ssl_mode      = "disable"
}

resource "adaptive_authorization" "read" {
  name          = "${prefix}-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["app"], tables = ["*"] })
}

resource "adaptive_endpoint" "access" {
  name          = "${prefix}-access"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.db.name
  authorization = adaptive_authorization.read.name
}

resource "adaptive_group" "team" {
  name      = "${prefix}-team"
  members   = var.members
  endpoints = [adaptive_endpoint.access.name]
}
`;
}

/** A workspace holding the group config with `count` members (range() stops at 1024, so a tfvars list). */
export async function groupWorkspace(world: BenchWorld, prefix: string, count: number): Promise<Workspace> {
  return world.workspace({
    'main.tf': groupConfig(world, prefix),
    'terraform.tfvars.json': JSON.stringify({ members: Array.from({ length: count }, (_, i) => memberEmail(i)) }),
  });
}

/** The floor's SQL files: N login roles with plain passwords in a group role, and their drop. */
function floorFiles(world: BenchWorld, members: number): { create: string; drop: string } {
  const validUntil = new Date(Date.now() + 8 * 3600_000).toISOString();
  const create: string[] = [];
  const drop: string[] = [];
  for (let i = 0; i < members; i++) {
    const role = ident(`bench_floor_${String(i + 1).padStart(5, '0')}`);
    const comment = JSON.stringify({ managed_by: 'bench', kind: 'credential', member: memberEmail(i), endpoint: 'floor', granted_at: new Date().toISOString(), expires_at: validUntil });
    create.push(`CREATE ROLE ${role} LOGIN PASSWORD ${literal(randomBytes(24).toString('base64url'))} VALID UNTIL ${literal(validUntil)} IN ROLE ${ident(FLOOR_GROUP)};`);
    create.push(`COMMENT ON ROLE ${role} IS ${literal(comment)};`);
    drop.push(`DROP ROLE ${role};`);
  }
  const files = { create: path.join(world.dir, 'floor-create.sql'), drop: path.join(world.dir, 'floor-drop.sql') };
  writeFileSync(files.create, `${create.join('\n')}\n`);
  writeFileSync(files.drop, `${drop.join('\n')}\n`);
  return files;
}

export async function measureMembers(world: BenchWorld, members: number, repeat: number, traceFile?: string): Promise<MemberResults> {
  const results: MemberResults = {
    samples: { apply: [], planMany: [], destroy: [], peakRss: [], stateSize: [] },
    floors: { apply: [], planMany: [], destroy: [] },
    errors: {},
  };
  await superuserSql(world.cluster, TARGET_DB, `CREATE ROLE ${ident(FLOOR_GROUP)} NOLOGIN`);
  const floor = floorFiles(world, members);
  const one = await groupWorkspace(world, 'one', 1);
  await one.run(['apply', '-auto-approve']);
  const many = await groupWorkspace(world, 'many', members);
  const PLAN = ['plan', '-detailed-exitcode'];
  let step: MemberRow = 'apply';
  try {
    for (let i = 0; i < repeat; i++) {
      step = 'apply';
      results.floors.apply.push(await seconds(() => world.psqlFile(TARGET_DB, floor.create)));
      const rss = new RssSampler(world.pluginProcess());
      rss.start();
      try {
        results.samples.apply.push(await seconds(() => many.run(['apply', '-auto-approve'])));
      } finally {
        rss.stop();
        if (rss.peakMb !== null) results.samples.peakRss.push(rss.peakMb);
      }
      results.samples.stateSize.push(statSync(path.join(many.dir, 'terraform.tfstate')).size / 1024);
      step = 'planMany';
      results.samples.planMany.push(await seconds(() => many.run(PLAN)));
      if (traceFile !== undefined && i === repeat - 1) await many.run(PLAN, [0], { TF_LOG: 'trace', TF_LOG_PATH: path.resolve(traceFile) });
      results.floors.planMany.push(await seconds(() => one.run(PLAN)));
      step = 'destroy';
      results.samples.destroy.push(await seconds(() => many.run(['destroy', '-auto-approve'])));
      results.floors.destroy.push(await seconds(() => world.psqlFile(TARGET_DB, floor.drop)));
    }
  } catch (err) {
    if (world.signal.aborted) throw err;
    results.errors[step] = err instanceof Error ? err.message : String(err);
    for (const row of MEMBER_ROWS) if (results.errors[row] === undefined && results.samples[row].length < repeat) results.errors[row] = `not measured: the ${step} step failed`;
    // The peak until an apply failed is still what the plugin used.
    if (results.samples.peakRss.length > 0) delete results.errors.peakRss;
  }
  if (results.samples.peakRss.length === 0 && results.errors.peakRss === undefined) results.errors.peakRss = 'no plugin process seen in /proc';
  return results;
}
