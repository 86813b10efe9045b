/**
 * A group of N members on one endpoint, through real Terraform and the installed plugin,
 * next to psql doing the same work in one transaction (the floor):
 * `node --import tsx bench/many-members.ts [--members 1000] [--pg 15|18]`.
 * Prints seconds and ratios; nothing is asserted. ADAPTIVE_BENCH_PROFILE_DIR=<dir> writes
 * each plugin process's CPU profile (unminified bundle) and peak RSS there;
 * ADAPTIVE_BENCH_TRACE=<file> adds a plan at TF_LOG=trace logged to that file.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findPostgresBinaries } from '../src/localpg';
import { startPostgres } from '../test/fixtures/postgres';
import { prepareCluster, scratchDir, sql } from '../test/fixtures/adaptive';
import { bundlePlugin } from '../src/install/bundle';
import { PROVIDER_SOURCE, writeFilesystemMirror } from '../src/install/mirror';
import { packageVersion } from '../src/install/version';
import { TerraformWorkspace } from '../test/fixtures/terraform';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const members = Number(arg('members', '1000'));
const major = Number(arg('pg', '18'));

const BASE = `
terraform {
  required_providers {
    adaptive = { source = "adaptive-access.local/access/adaptive" }
  }
}
provider "adaptive" {}
variable "pg_host" { type = string }
variable "pg_port" { type = string }
variable "pg_username" { type = string }
variable "pg_password" {
  type      = string
  sensitive = true
}
resource "adaptive_resource" "pg" {
  type          = "postgres"
  name          = "bench"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
}
resource "adaptive_authorization" "read" {
  name          = "bench-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })
}
resource "adaptive_endpoint" "read" {
  name          = "bench-read"
  type          = "direct"
  resource      = adaptive_resource.pg.name
  authorization = adaptive_authorization.read.name
  ttl           = "8h"
}
`;

function group(n: number): string {
  return `
resource "adaptive_group" "many" {
  name      = "bench-many"
  members   = ${JSON.stringify(Array.from({ length: n }, (_, i) => `member${i}@company.com`))}
  endpoints = [adaptive_endpoint.read.name]
}
`;
}

async function timed<T>(what: string, run: () => Promise<T>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${what.padEnd(48)} ${seconds.toFixed(2)} s`);
  return seconds;
}

async function main(): Promise<void> {
  const binaries = findPostgresBinaries().find((b) => b.major === major);
  if (!binaries) throw new Error(`no PostgreSQL ${major}`);
  const cluster = await startPostgres(binaries);
  const scratch = scratchDir('adaptive-bench-');
  const { env } = await prepareCluster(cluster);
  const profDir = process.env.ADAPTIVE_BENCH_PROFILE_DIR;
  // Unminified when profiling, so the profile names our functions.
  const bundle = await bundlePlugin({ entry: path.join(__dirname, '..', 'src/plugin/main.ts'), outfile: path.join(scratch.dir, 'adaptive.cjs'), minify: !profDir });
  const mirrorDir = path.join(scratch.dir, 'mirror');
  writeFilesystemMirror({ mirrorDir, sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: bundle });
  const ws = new TerraformWorkspace({
    mirrorDir,
    files: { 'main.tf': BASE + group(1) },
    env: {
      ...env,
      TF_VAR_pg_host: cluster.host,
      TF_VAR_pg_port: String(cluster.port),
      TF_VAR_pg_username: cluster.user,
      TF_VAR_pg_password: cluster.password,
      ...(profDir ? { ADAPTIVE_BENCH_PROFILE_DIR: profDir, NODE_OPTIONS: `--import ${path.join(__dirname, 'preload', 'plugin-profile.mjs')}` } : {}),
    },
  });
  try {
    await ws.init();
    await ws.apply();
    const plan1 = await timed('terraform plan holding 1', () => ws.plan());
    ws.write('main.tf', BASE);
    await ws.apply();
    ws.write('main.tf', BASE + group(members));
    const apply = await timed(`terraform apply, ${members} members`, () => ws.apply());
    const state = statSync(path.join(ws.dir, 'terraform.tfstate')).size;
    if (process.env.ADAPTIVE_BENCH_STATE) copyFileSync(path.join(ws.dir, 'terraform.tfstate'), process.env.ADAPTIVE_BENCH_STATE);
    const planN = await timed(`terraform plan holding ${members}`, () => ws.plan());
    if (process.env.ADAPTIVE_BENCH_TRACE) await timed('traced plan', () => ws.run(['plan', '-no-color'], { TF_LOG: 'trace', TF_LOG_PATH: process.env.ADAPTIVE_BENCH_TRACE! }));
    const destroy = await timed(`terraform destroy, ${members} members`, () => ws.ok(['destroy', '-no-color', '-auto-approve', '-target=adaptive_group.many']));
    const left = await sql<{ n: number }>(cluster, 'production', `select count(*)::int as n from pg_roles where rolname like 'member%'`);
    if (left[0]!.n !== 0) throw new Error(`${left[0]!.n} roles left`);

    // The floor: psql, one transaction each, server-side SCRAM from a plain password.
    await sql(cluster, 'production', 'create role floor_group nologin');
    const script = path.join(scratch.dir, 'floor.sql');
    const create = ['begin;'];
    for (let i = 0; i < members; i++) {
      create.push(`create role "floor${i}@company.com" login password 'p${i}-aQ3xZ9qL0wT7vB2nM5kR8sD1fG4hJ6y' valid until 'tomorrow' in role floor_group;`);
      create.push(`comment on role "floor${i}@company.com" is '{"managed_by":"floor","member":"floor${i}@company.com"}';`);
    }
    create.push('commit;');
    writeFileSync(script, create.join('\n'));
    const psql = (file: string): Promise<void> => {
      const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file, cluster.url('production')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      return Promise.resolve();
    };
    const floorCreate = await timed(`psql create, ${members} roles`, () => psql(script));
    const drop = ['begin;', ...Array.from({ length: members }, (_, i) => `drop role "floor${i}@company.com";`), 'commit;'];
    writeFileSync(script, drop.join('\n'));
    const floorDrop = await timed(`psql drop, ${members} roles`, () => psql(script));
    console.log(
      JSON.stringify({
        members,
        pg: major,
        applyRatio: +(apply / floorCreate).toFixed(2),
        planRatio: +(planN / plan1).toFixed(2),
        destroyRatio: +(destroy / floorDrop).toFixed(2),
        stateBytes: state,
      }),
    );
  } finally {
    ws.dispose();
    await cluster.stop();
    scratch.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
