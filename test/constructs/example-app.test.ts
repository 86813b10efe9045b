/**
 * The CDKTF example app, end to end: synthesized, each stack initialised against the
 * filesystem mirror and applied by real Terraform with the real plugin, against real
 * PostgreSQL.
 *
 * The production stack runs with every part of the guide's example: a primary that
 * demands client certificates and a replica that accepts only TLS, both verified by name
 * (verify-full against `localhost`), admin credentials from Secrets Manager (a local
 * endpoint speaking its protocol), the primary checked against certs/ca-cert.pem and the
 * replica against the system trust store, to which NODE_EXTRA_CA_CERTS adds the test CA.
 * The postgres-access HCL module is applied from plain HCL and from CDKTF against a plain
 * cluster. Members log in with the credentials the stacks output; destroy leaves nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveProvider, AdminCredentials, Authorization, Endpoint, PostgresTarget, issueMessage } from '../../src/constructs';
import { App, TerraformStack } from '../../src/constructs/cdk';
import type { LocalCluster } from '../../src/localpg';
import { checkPermissions, checkTargetInput, checkTtl } from '../../src/runtime/validation';
import { credentialList, installAdaptiveProvider, loginAs, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { createTestPki, type KeyPairPem, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import { catalogCounts, managedRoles, prepareProduction, query, TerraformDir, type Access } from './support';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * A child process's failure as an error whose text carries the child's stderr without its
 * stack frames (they point into bundles the test runner cannot map).
 */
function childFailure(what: string, error: unknown): Error {
  const raw = (error as { stderr?: unknown }).stderr;
  const stderr = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  const lines = stderr.split('\n').filter((line) => !/^\s+at /.test(line));
  return new Error(`${what} failed: ${(error as Error).message.split('\n')[0] ?? ''}\n${lines.slice(-40).join('\n')}`);
}

/** Runs the example app as `cdktf synth` would (its `app` command), with `env` laid over ours. */
async function synthApp(env: Record<string, string> & { CDKTF_OUTDIR: string }): Promise<void> {
  mkdirSync(path.dirname(env.CDKTF_OUTDIR), { recursive: true });
  await run(process.execPath, ['--import', 'tsx', path.join('examples', 'cdktf', 'main.ts')], { cwd: repoRoot, env: { ...cleanEnv(), ...env } }).catch(
    (error: unknown) => {
      throw childFailure('the example app', error);
    },
  );
}

/** Our environment without settings that would leak into the app or Terraform. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TF_') && !key.startsWith('ADAPTIVE_')));
}

/** The cdktf CLI, offline: checkpoint calls off, and any other attempt to reach the network fails at once. */
async function cdktf(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await run(path.join(repoRoot, 'node_modules', '.bin', 'cdktf'), args, {
    cwd: repoRoot,
    // No plugin cache in HOME (the CLI's default): other test files install this provider's version too.
    env: { ...cleanEnv(), CHECKPOINT_DISABLE: '1', CI: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', ...env },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: unknown) => {
    throw childFailure(`cdktf ${args[0] ?? ''}`, error);
  });
  return result.stdout;
}

/** Every file under `dir` with its text, by relative path. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function expectEmptyCatalog(counts: Record<string, number>): void {
  expect(counts).toEqual({ resources: 0, authorizations: 0, endpoints: 0, groups: 0, live_credentials: 0 });
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let adminCert: KeyPairPem;
  let catalog: LocalCluster;
  let primary: LocalCluster;
  let replica: LocalCluster;
  let secrets: SecretsManagerFixture;
  let primaryAccess: Access;
  let replicaAccess: Access;
  let production: TerraformDir;
  let moduleStack: TerraformDir;
  let providerEnv: Record<string, string>;
  let mirrorDir: string;
  let appSettings: Record<string, string> & { CDKTF_OUTDIR: string };
  // Made in beforeAll, so a run that filters these tests out leaves nothing behind.
  let scratch: string;
  let outdir: string;
  let certsDir: string;
  let stateDir: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-cdktf-e2e-'));
    outdir = path.join(scratch, 'cdktf.out');
    certsDir = path.join(scratch, 'certs');
    stateDir = path.join(scratch, 'state');
    pki = await createTestPki();
    [catalog, primary, replica, secrets, mirrorDir] = await Promise.all([
      startPostgres(binaries),
      startTlsPostgres(binaries, { pki, hba: 'client-cert' }),
      startTlsPostgres(binaries, { pki, hba: 'tls-only' }),
      startSecretsManager(),
      installAdaptiveProvider(scratch),
    ]);
    // The primary wants a client certificate whose CN is the user, from the admin too.
    adminCert = await pki.clientCert(primary.user);
    primaryAccess = { ssl: { ca: pki.ca.certPem, cert: adminCert.certPem, key: adminCert.keyPem } };
    replicaAccess = { ssl: { ca: pki.ca.certPem } };
    await query(catalog, 'postgres', 'create database adaptive_catalog');
    await Promise.all([prepareProduction(primary, primaryAccess), prepareProduction(replica, replicaAccess), prepareProduction(catalog)]);
    for (const [name, cluster] of [['postgres-prod-credentials', primary], ['postgres-replica-credentials', replica]] as const) {
      secrets.putSecret(name, { username: cluster.user, password: cluster.password, engine: 'postgres', host: 'localhost', port: cluster.port, dbname: 'production' });
    }
    mkdirSync(certsDir);
    writeFileSync(path.join(certsDir, 'ca-cert.pem'), pki.ca.certPem);
    writeFileSync(path.join(certsDir, 'client-cert.pem'), adminCert.certPem);
    writeFileSync(path.join(certsDir, 'client-key.pem'), adminCert.keyPem, { mode: 0o600 });
    mkdirSync(stateDir);

    appSettings = {
      CDKTF_OUTDIR: outdir,
      // Host names the server certificates list, so verify-full checks them by name.
      ADAPTIVE_PRIMARY_HOST: 'localhost',
      ADAPTIVE_PRIMARY_PORT: String(primary.port),
      ADAPTIVE_REPLICA_HOST: 'localhost',
      ADAPTIVE_REPLICA_PORT: String(replica.port),
      ADAPTIVE_AWS_ENDPOINT: secrets.endpoint,
      ADAPTIVE_CERTS_DIR: certsDir,
      ADAPTIVE_MODULE_HOST: catalog.host,
      ADAPTIVE_MODULE_PORT: String(catalog.port),
      ADAPTIVE_MODULE_USERNAME: catalog.user,
      ADAPTIVE_STATE_DIR: stateDir,
    };
    await synthApp(appSettings);

    providerEnv = {
      ADAPTIVE_CATALOG_URL: catalog.url('adaptive_catalog'),
      ADAPTIVE_CATALOG_KEY: randomBytes(32).toString('hex'),
      // The plugin's Node trusts the test CA the replica's certificate chains to.
      NODE_EXTRA_CA_CERTS: path.join(certsDir, 'ca-cert.pem'),
    };
    const configDir = path.join(scratch, 'config');
    production = new TerraformDir(path.join(outdir, 'stacks', 'production'), {
      mirrorDir,
      configDir,
      env: { ...providerEnv, TF_VAR_aws_access_key: secrets.accessKeyId, TF_VAR_aws_secret_key: secrets.secretAccessKey },
    });
    moduleStack = new TerraformDir(path.join(outdir, 'stacks', 'postgres-access-module'), {
      mirrorDir,
      configDir,
      env: { ...providerEnv, TF_VAR_pg_password: catalog.password },
    });
  });
  afterAll(async () => {
    await Promise.all([catalog?.stop(), primary?.stop(), replica?.stop(), secrets?.close()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  async function credentials(terraform: TerraformDir, output: string): Promise<IssuedCredentialOutput[]> {
    const outputs = await terraform.outputs();
    expect(outputs[output]?.sensitive).toBe(true);
    return credentialList(outputs[output]?.value);
  }

  it('synthesizes both stacks with relative paths only and no secret in the output', () => {
    const files = filesUnder(outdir);
    expect(Object.keys(files).sort()).toEqual(
      expect.arrayContaining(['manifest.json', path.join('stacks', 'production', 'cdk.tf.json'), path.join('stacks', 'postgres-access-module', 'cdk.tf.json')]),
    );
    const text = Object.values(files).join('\n');
    expect(text).not.toContain(scratch);
    expect(text).not.toContain(repoRoot);
    for (const secret of [catalog.password, primary.password, replica.password, secrets.secretAccessKey, adminCert.keyPem.split('\n')[1]!]) {
      expect(text.includes(secret)).toBe(false);
    }
    const config = JSON.parse(files[path.join('stacks', 'production', 'cdk.tf.json')]!) as {
      terraform: { backend: { local: { path: string } } };
      resource: { adaptive_resource: Record<string, Record<string, unknown>> };
    };
    expect(config.terraform.backend.local.path).toBe('../../../state/terraform.production.tfstate');
    const prod = Object.values(config.resource.adaptive_resource).find((r) => r.name === 'postgres-production');
    expect(prod).toMatchObject({
      ssl_mode: 'verify-full',
      tls_key_file: '${file("../../../certs/client-key.pem")}',
      aws_secret_access_key: '${var.aws_secret_key}',
      max_connections: 100,
      min_connections: 20,
    });
  });

  it('applies the production stack: both targets through Secrets Manager and verified TLS', async () => {
    await production.init();
    await production.apply();
    const addresses = (await production.ok(['state', 'list'])).stdout.split('\n').filter(Boolean);
    expect(addresses.map((a) => a.split('.')[0]).sort()).toEqual([
      'adaptive_authorization',
      'adaptive_authorization',
      'adaptive_endpoint',
      'adaptive_endpoint',
      'adaptive_group',
      'adaptive_group',
      'adaptive_resource',
      'adaptive_resource',
    ]);
    expect(existsSync(path.join(stateDir, 'terraform.production.tfstate'))).toBe(true);
    expect(new Set(secrets.requests.map((r) => (r.body as { SecretId?: string }).SecretId))).toEqual(new Set(['postgres-prod-credentials', 'postgres-replica-credentials']));
    expect(await catalogCounts(catalog)).toEqual({ resources: 2, authorizations: 2, endpoints: 2, groups: 2, live_credentials: 4 });
  });

  it('developers log in on the primary over TLS with a client certificate, with developer-role grants', async () => {
    const developers = await credentials(production, 'developer_credentials');
    expect(developers.map((c) => c.member).sort()).toEqual(['dev1@company.com', 'dev2@company.com']);
    const dev1 = developers.find((c) => c.member === 'dev1@company.com')!;
    expect({ endpoint: dev1.endpoint, host: dev1.host, port: dev1.port, database: dev1.database, sslmode: dev1.sslmode }).toEqual({
      endpoint: 'postgres-dev-access',
      host: 'localhost',
      port: primary.port,
      database: 'production',
      sslmode: 'verify-full',
    });
    expect(Date.parse(dev1.expires_at) - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    const cert = await pki.clientCert(dev1.username);
    const client = await loginAs(dev1, { ssl: { ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem } });
    try {
      expect((await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0]?.ssl).toBe(true);
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await client.query("insert into public.orders (item) values ('pen')");
      await client.query("insert into app.settings (key, value) values ('theme', 'dark')");
      await client.query("delete from app.settings where key = 'theme'");
      await expect(client.query('truncate public.orders')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select * from analytics.events')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('analysts log in on the replica over TLS, read-only on public and analytics', async () => {
    const analysts = await credentials(production, 'analyst_credentials');
    expect(analysts.map((c) => c.member).sort()).toEqual(['analyst1@company.com', 'analyst2@company.com']);
    const analyst = analysts[0]!;
    expect({ endpoint: analyst.endpoint, port: analyst.port, sslmode: analyst.sslmode }).toEqual({ endpoint: 'postgres-analyst-access', port: replica.port, sslmode: 'verify-full' });
    expect(Date.parse(analyst.expires_at) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    const client = await loginAs(analyst, { ssl: { ca: pki.ca.certPem } });
    try {
      expect((await client.query('select count(*)::int as n from analytics.events')).rows[0]).toEqual({ n: 1 });
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select * from app.settings')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('plans no changes on a second run', async () => {
    const plan = await production.plan();
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it('destroys the production stack, leaving no role on either server and nothing in the catalog', async () => {
    await production.destroy();
    expect(await managedRoles(primary, primaryAccess)).toEqual([]);
    expect(await managedRoles(replica, replicaAccess)).toEqual([]);
    expectEmptyCatalog(await catalogCounts(catalog));
  });

  it('applies the postgres-access module from plain HCL, and destroys it', async () => {
    const modules = path.join(scratch, 'modules');
    for (const name of ['postgres-access', 'use-from-hcl']) cpSync(path.join(repoRoot, 'examples', 'modules', name), path.join(modules, name), { recursive: true });
    const hcl = new TerraformDir(path.join(modules, 'use-from-hcl'), {
      mirrorDir,
      configDir: path.join(scratch, 'config'),
      env: {
        ...providerEnv,
        TF_VAR_pg_host: catalog.host,
        TF_VAR_pg_port: String(catalog.port),
        TF_VAR_pg_username: catalog.user,
        TF_VAR_pg_password: catalog.password,
      },
    });
    await hcl.init();
    await hcl.apply();
    await expectAnalystsCanRead(await credentials(hcl, 'analyst_credentials'), 'hcl-module-analysts');
    expect((await hcl.plan()).code).toBe(0);
    await hcl.destroy();
    expect(await managedRoles(catalog)).toEqual([]);
    expectEmptyCatalog(await catalogCounts(catalog));
  });

  it('deploys the postgres-access module from CDKTF (TerraformHclModule) with `cdktf deploy`, and destroys it', async () => {
    // The CLI synthesizes again (same settings), then runs terraform in the stack with the mirror.
    const env = { ...appSettings, ...providerEnv, TF_CLI_CONFIG_FILE: moduleStack.cliConfigPath, TF_VAR_pg_password: catalog.password };
    const deployed = await cdktf(['deploy', 'postgres-access-module', '--skip-provider-lock', '--auto-approve', '--output', outdir], env);
    expect(deployed).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    await expectAnalystsCanRead(await credentials(moduleStack, 'analyst_credentials'), 'cdktf-module-analysts');
    expect((await moduleStack.plan()).code).toBe(0);
    const destroyed = await cdktf(['destroy', 'postgres-access-module', '--auto-approve', '--output', outdir], env);
    expect(destroyed).toContain('Destroy complete! Resources: 4 destroyed.');
    expect(await managedRoles(catalog)).toEqual([]);
    expectEmptyCatalog(await catalogCounts(catalog));
  });

  /** The module's analysts: one credential each, read-only on public and analytics. */
  async function expectAnalystsCanRead(issued: IssuedCredentialOutput[], endpoint: string): Promise<void> {
    expect(issued.map((c) => [c.member, c.endpoint]).sort()).toEqual([
      ['analyst1@company.com', endpoint],
      ['analyst2@company.com', endpoint],
    ]);
    const client = await loginAs(issued[0]!);
    try {
      expect((await client.query('select count(*)::int as n from analytics.metrics')).rows[0]).toEqual({ n: 0 });
      await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  }
});

describe('the app and Terraform', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-cdktf-cli-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('`cdktf synth` (the CLI, offline) writes what running the app writes', async () => {
    const cliOut = path.join(scratch, 'cli', 'cdktf.out');
    const appOut = path.join(scratch, 'app', 'cdktf.out');
    mkdirSync(path.dirname(cliOut), { recursive: true });
    await cdktf(['synth', '--output', cliOut], {});
    await synthApp({ CDKTF_OUTDIR: appOut });
    const stacks = (dir: string): Record<string, string> => Object.fromEntries(Object.entries(filesUnder(dir)).filter(([file]) => file.startsWith('stacks')));
    expect(Object.keys(stacks(cliOut)).length).toBeGreaterThan(2);
    expect(stacks(cliOut)).toEqual(stacks(appOut));
  });

  it('`terraform plan` on a stack synthesized without validation refuses it with the messages synth gives', async () => {
    const outdir = path.join(scratch, 'invalid');
    const app = new App({ outdir, skipValidation: true, stackTraces: false });
    const stack = new TerraformStack(app, 'invalid');
    new AdaptiveProvider(stack, 'adaptive');
    new PostgresTarget(stack, 'postgres', {
      name: 'postgres-production',
      host: 'postgres.example.com',
      databaseName: 'production',
      credentials: AdminCredentials.fromPassword('admin', 'not-a-real-password'),
      tls: { mode: 'verify_full' as 'verify-full' },
    });
    new Authorization(stack, 'role', { name: 'role', permissions: { grants: ['SELEKT' as 'SELECT'], schemas: ['public'], tables: ['*'] } });
    new Endpoint(stack, 'access', { name: 'access', target: 'postgres-production', authorization: 'role', ttl: '8 hours' });
    app.synth();

    const mirrorDir = await installAdaptiveProvider(path.join(scratch, 'provider'));
    const terraform = new TerraformDir(path.join(outdir, 'stacks', 'invalid'), { mirrorDir, configDir: path.join(scratch, 'config') });
    await terraform.init();
    const result = await terraform.run(['plan', '-json', '-no-color', '-input=false']);
    expect(result.code).toBe(1);
    // `plan -json` streams one JSON message a line; the diagnostics carry summary and detail.
    const details = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type?: string; diagnostic?: { severity: string; detail: string } })
      .filter((m) => m.type === 'diagnostic' && m.diagnostic?.severity === 'error')
      .map((m) => m.diagnostic?.detail ?? '');
    const issues = [
      ...checkTargetInput({ type: 'postgres', name: 'postgres-production', host: 'postgres.example.com', database_name: 'production', username: 'admin', password: 'x', ssl_mode: 'verify_full' }),
      ...checkPermissions({ grants: ['SELEKT'], schemas: ['public'], tables: ['*'] }),
      ...checkTtl('8 hours'),
    ];
    expect(issues).toHaveLength(3);
    // Terraform's detail names the attribute when the message starts with a verb about it; the runtime's words are the same.
    for (const issue of issues) expect(details.some((detail) => detail.endsWith(issue.message)), issueMessage(issue)).toBe(true);
    expect(details).toHaveLength(issues.length);
  });
});
