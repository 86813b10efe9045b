/**
 * Credentials a client can use as given: against a verify-full target with a private CA
 * (`tls_root_cert`), each credential carries the CA as `ca_cert`. The docs' one-liners
 * (write `ca_cert` to a file, connect with `uri` plus that file as sslrootcert) work with
 * psql and node-postgres using nothing but the credential's fields; the `uri` alone fails
 * in psql for want of ~/.postgresql/root.crt, which is why `ca_cert` is there. A state
 * written before `ca_cert` existed still plans clean.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import { credentialList, installAdaptiveProvider, prepareCatalog, prepareTarget, printed, scratchDir, tlsAccess, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { TerraformWorkspace } from '../fixtures/terraform';
import { runCli } from '../cli/run-cli';

const run = promisify(execFile);
const PSQL = '/usr/bin/psql';

const MAIN_TF = `
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
resource "adaptive_resource" "db" {
  type          = "postgres"
  name          = "postgres-private-ca"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  password      = var.pg_password
  database_name = "production"
  ssl_mode      = "verify-full"
  tls_root_cert = file("ca-certificate.crt")
}
resource "adaptive_authorization" "read" {
  name          = "private-ca-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })
}
resource "adaptive_endpoint" "read" {
  name          = "private-ca-read"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.db.name
  authorization = adaptive_authorization.read.name
}
resource "adaptive_group" "team" {
  name      = "private-ca-team"
  members   = ["ann@example.com"]
  endpoints = [adaptive_endpoint.read.name]
}
output "credentials" {
  value     = adaptive_group.team.credentials
  sensitive = true
}
`;

const scratch = scratchDir('adaptive-e2e-ca-cert-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ name, binaries }) => {
  let catalog: LocalCluster;
  let target: LocalCluster;
  let pki: TestPki;
  let ws: TerraformWorkspace;
  let catalogEnv: Record<string, string>;
  // A home without ~/.postgresql, so libpq finds no CA but the one it is given.
  const home = path.join(scratch.dir, `home-${name.replace(/\W/g, '-')}`);

  beforeAll(async () => {
    mkdirSync(home, { recursive: true });
    pki = await createTestPki();
    [catalog, target] = await Promise.all([startPostgres(binaries), startTlsPostgres(binaries, { pki, hba: 'tls-only' })]);
    const [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(target, tlsAccess(pki))]);
    catalogEnv = env;
    const vars = { pg_host: target.host, pg_port: String(target.port), pg_username: target.user, pg_password: target.password };
    ws = new TerraformWorkspace({
      files: { 'main.tf': MAIN_TF, 'ca-certificate.crt': pki.ca.certPem },
      mirrorDir,
      env: { ...env, ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [`TF_VAR_${k}`, v])) },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([catalog?.stop(), target?.stop()]);
  });

  async function issued(): Promise<IssuedCredentialOutput> {
    const outputs = await ws.outputs();
    const [credential] = credentialList(outputs.credentials?.value);
    return credential!;
  }

  /** psql with the connection string alone: no PG* variable, no ~/.postgresql. */
  function psql(conninfo: string): Promise<{ stdout: string }> {
    return run(PSQL, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', 'select current_user'], { env: { HOME: home, PATH: process.env.PATH ?? '' } });
  }

  it('hands each credential the CA, with which psql connects by uri plus sslrootcert', async () => {
    await ws.apply();
    const c = await issued();
    expect(c.ca_cert).toBe(pki.ca.certPem);
    expect(c.uri).toMatch(/\?sslmode=verify-full$/);
    // The docs' one-liner: write ca_cert to a file, append it to the uri as sslrootcert.
    const caFile = path.join(home, `ca-${c.username.replace(/\W/g, '_')}.crt`);
    writeFileSync(caFile, c.ca_cert!, { mode: 0o600 });
    const { stdout } = await psql(`${c.uri}&sslrootcert=${caFile}`);
    expect(stdout.trim()).toBe(c.username);
  });

  it('without the CA file, psql refuses the uri as given: the reason for ca_cert', async () => {
    const c = await issued();
    const failure = await psql(c.uri).then(
      () => undefined,
      (err: { stderr?: string }) => err,
    );
    expect(failure?.stderr).toMatch(/root certificate file ".*\.postgresql\/root\.crt" does not exist/);
  });

  it('node-postgres connects with the same two fields, verifying the server against ca_cert', async () => {
    const c = await issued();
    const caFile = path.join(home, 'node-ca.crt');
    writeFileSync(caFile, c.ca_cert!, { mode: 0o600 });
    const client = new Client({ connectionString: `${c.uri}&sslrootcert=${caFile}` });
    await client.connect();
    try {
      const { rows } = await client.query<{ user: string; ssl: boolean }>('select current_user as user, ssl from pg_stat_ssl where pid = pg_backend_pid()');
      expect(rows).toEqual([{ user: c.username, ssl: true }]);
    } finally {
      await client.end();
    }
    // Another CA in the file is refused: the file is what verifies the server.
    writeFileSync(caFile, pki.otherCa.certPem, { mode: 0o600 });
    const wrong = new Client({ connectionString: `${c.uri}&sslrootcert=${caFile}` });
    await expect(wrong.connect()).rejects.toThrow(/certificate/);
  });

  it('the CLI hands a command the CA in a file of its own (PGSSLROOTCERT), removed when the command exits; --env exports one that stays', async () => {
    // The command prints who it is and where the CA file is; psql verifies the server with that file alone.
    const script = `${PSQL} -X -A -t -v ON_ERROR_STOP=1 -c 'select current_user' && test "$(cat "$PGSSLROOTCERT")" = "$CA" && echo "$PGSSLROOTCERT"`;
    const r = await runCli(['credential', '--endpoint', 'private-ca-read', '--member', 'ann@example.com', '--', 'sh', '-c', script], {
      env: { ...catalogEnv, HOME: home, CA: pki.ca.certPem.trimEnd(), PGSSLROOTCERT: '/nonexistent/caller.crt' },
    });
    expect(r.code, r.stderr).toBe(0);
    const [user, caFile] = r.stdout.trim().split('\n');
    expect(user).toMatch(/^ann@example\.com\/private-ca-read#[0-9a-f]{8}$/);
    expect(caFile).toMatch(/adaptive-access-ca-.+\/root\.crt$/);
    expect(existsSync(caFile!)).toBe(false);

    const json = await runCli(['credential', '--endpoint', 'private-ca-read', '--member', 'ann@example.com', '--ttl', '1m', '--json'], { env: catalogEnv });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { ca_cert: string | null }).ca_cert).toBe(pki.ca.certPem);

    // --env: the shell that evaluates the lines connects later, so the CA file stays (private to its owner).
    const env = await runCli(['credential', '--endpoint', 'private-ca-read', '--member', 'ann@example.com', '--ttl', '1m', '--env'], { env: catalogEnv });
    expect(env.code, env.stderr).toBe(0);
    const rootCert = /^export PGSSLROOTCERT='([^']+)'$/m.exec(env.stdout)?.[1];
    expect(rootCert).toBeDefined();
    expect(readFileSync(rootCert!, 'utf8')).toBe(pki.ca.certPem);
    expect(statSync(rootCert!).mode & 0o777).toBe(0o600);
    rmSync(path.dirname(rootCert!), { recursive: true, force: true });
  });

  it('a state written before ca_cert existed plans no change to any resource, and refresh fills ca_cert in', async () => {
    const statePath = path.join(ws.dir, 'terraform.tfstate');
    type Credentials = Record<string, Record<string, unknown>>;
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
      outputs: { credentials: { value: Credentials; type: unknown } };
      resources: Array<{ type: string; instances: Array<{ attributes: { credentials: Credentials } }> }>;
    };
    const group = state.resources.find((r) => r.type === 'adaptive_group')!;
    for (const credential of Object.values(group.instances[0]!.attributes.credentials)) delete credential.ca_cert;
    // The output as the older provider wrote it: its object type without ca_cert too.
    for (const credential of Object.values(state.outputs.credentials.value)) delete credential.ca_cert;
    const outputType = JSON.stringify(state.outputs.credentials.type).replace(/,"ca_cert":"string"|"ca_cert":"string",?/, '');
    state.outputs.credentials.type = JSON.parse(outputType);
    writeFileSync(statePath, JSON.stringify(state));

    const plan = await ws.plan();
    const text = printed(plan);
    // Only the output's shape changes (it gains ca_cert); no resource is to change.
    expect(text).toContain('without changing any real infrastructure');
    expect(text).not.toMatch(/Plan: \d+ to add|will be (updated|created|destroyed|replaced)/);
    await ws.apply();
    expect((await issued()).ca_cert).toBe(pki.ca.certPem);
    const again = await ws.plan();
    expect(again.code, printed(again)).toBe(0);
    expect(printed(again)).toContain('No changes');
  });
});
