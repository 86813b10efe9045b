/**
 * `use_rds_iam` end to end, with real Terraform, the real plugin and real PostgreSQL over TLS.
 * The plugin's clock is pinned (test/fixtures/preload/fixed-clock.mjs, preloaded through NODE_OPTIONS
 * in the environment Terraform hands the plugin) and its AWS keys are fixed, so the IAM
 * token it signs is known in advance: the test computes it on its own (SigV4, node:crypto:
 * test/fixtures/rds-iam-token.ts, checked against @aws-sdk/rds-signer in
 * test/runtime/connections/rds-iam.test.ts) and makes it the admin's password on a cluster
 * that accepts only TLS. The example examples/rds-iam applies (the plugin connects with
 * that token and nothing else), a member logs in with the issued credential, a second plan
 * (which reads the targets through the catalog's settings) is clean, `adaptive-access check`
 * and `status` work with the stored target. With a wrong key the apply fails with the
 * server's password error explained for IAM and records nothing; ssl_mode = "disable" and a
 * password beside use_rds_iam fail the plan naming the attribute. Destroy leaves nothing.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident, literal } from '../../src/runtime/pg/sql';
import { runCli } from '../cli/run-cli';
import {
  accessRoles,
  catalogCounts,
  credentialList,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
  loginAs,
  openStoredSecrets,
  prepareCatalog,
  prepareTarget,
  printed,
  scratchDir,
  sql,
  storedResource,
  tlsAccess,
  type ClusterAccess,
} from '../fixtures/adaptive';
import { createTestPki, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import { rdsIamToken } from '../fixtures/rds-iam-token';
import { TerraformWorkspace } from '../fixtures/terraform';

const scratch = scratchDir('adaptive-e2e-rds-iam-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

const TARGET = 'rds-iam-production';
const ADMIN = 'iam_admin';
const REGION = 'eu-west-1';
const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const WRONG_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY00';

/** The environment that pins the plugin's clock (and the CLI's) to `at`. */
function fixedClock(at: Date): Record<string, string> {
  const preload = pathToFileURL(path.join(__dirname, '..', 'fixtures', 'preload', 'fixed-clock.mjs')).href;
  return { NODE_OPTIONS: `--import=${preload}`, ADAPTIVE_TEST_FIXED_CLOCK: at.toISOString() };
}

const BAD_TF = `terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {
  aws_region = "${REGION}"
}

resource "adaptive_resource" "plain" {
  type          = "postgres"
  name          = "iam-plain"
  host          = "db.example.com"
  database_name = "production"
  username      = "${ADMIN}"
  use_rds_iam   = true
  ssl_mode      = "disable"
}

resource "adaptive_resource" "with_password" {
  type          = "postgres"
  name          = "iam-with-password"
  host          = "db.example.com"
  database_name = "production"
  username      = "${ADMIN}"
  password      = "not-a-token"
  use_rds_iam   = true
  ssl_mode      = "require"
}
`;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let catalog: LocalCluster;
  let target: LocalCluster;
  let pki: TestPki;
  let access: ClusterAccess;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;
  let token: string;
  // A whole second near now: the plugin's gRPC certificate is dated by the same clock.
  const at = new Date(Math.floor(Date.now() / 1000) * 1000);

  beforeAll(async () => {
    pki = await createTestPki();
    access = tlsAccess(pki);
    [catalog, target] = await Promise.all([startPostgres(binaries), startTlsPostgres(binaries, { pki, hba: 'tls-only' })]);
    [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(target, access)]);
    token = rdsIamToken({ host: target.host, port: target.port, user: ADMIN, region: REGION, ...KEYS, at });
    // The admin's only password is the token the plugin is expected to sign.
    await sql(target, 'postgres', `create role ${ident(ADMIN)} login superuser password ${literal(token)}`, [], access);
    ws = exampleWorkspace('rds-iam', {
      mirrorDir,
      env: { ...env, ...fixedClock(at) },
      vars: {
        pg_host: target.host,
        pg_port: String(target.port),
        pg_username: ADMIN,
        aws_region: REGION,
        aws_access_key_id: KEYS.accessKeyId,
        aws_secret_access_key: KEYS.secretAccessKey,
      },
      files: { 'rds-ca.pem': pki.ca.certPem },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([catalog?.stop(), target?.stop()]);
  });

  it('applies with the IAM token as the only admin password, logging neither it nor the keys; the catalog keeps the region, the keys sealed', async () => {
    const applied = await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_LOG: 'trace' });
    expect(applied.stderr).toContain('[TRACE]');
    const output = applied.stdout + applied.stderr;
    for (const secret of [token, KEYS.secretAccessKey, encodeURIComponent(KEYS.secretAccessKey)]) expect(output.includes(secret)).toBe(false);

    const record = await storedResource(catalog, TARGET);
    expect(record?.config).toMatchObject({ host: target.host, port: target.port, username: ADMIN, sslMode: 'verify-full', rdsIam: { region: REGION } });
    expect(record?.config.rdsIam).toEqual({ region: REGION });
    expect(JSON.stringify(record?.config)).not.toContain(KEYS.accessKeyId);
    expect(openStoredSecrets(env, TARGET, record!)).toEqual({ awsAccessKeyId: KEYS.accessKeyId, awsSecretAccessKey: KEYS.secretAccessKey });
    // The plugin connected as the admin over TLS: the marker role is there.
    expect(await sql(target, 'postgres', "select 1 from pg_roles where rolname = 'adaptive_managed'", [], access)).toHaveLength(1);
  });

  it('a member logs in with the issued credential: the granted statement runs, another is refused', async () => {
    const credentials = credentialList((await ws.outputs()).credentials?.value);
    expect(credentials.map((c) => c.member)).toEqual(['analyst@company.com']);
    const client = await loginAs(credentials[0]!, access);
    try {
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('plans no changes on a second run (the refresh reads the target with a token of its own)', async () => {
    const plan = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']);
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('shows a grant revoked by hand as drift, and applying (through a fresh token) puts it back', async () => {
    await sql(target, 'production', `revoke select on public.orders from ${ident('adaptive_ep_rds-analysts')}`, [], access);
    const plan = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']);
    expect(plan.code, printed(plan)).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.analysts will be updated in-place');
    expect(plan.stdout).toMatch(/missing SELECT on table .*public.*orders/);
    await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect((await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'])).code).toBe(0);
  });

  it('adaptive-access check and status work with the stored target', async () => {
    const cliEnv = { ...env, ...fixedClock(at) };
    const check = await runCli(['check', '--target', TARGET], { env: cliEnv });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`Connection (target "${TARGET}")`);
    expect(check.stdout + check.stderr).not.toContain(token);
    const status = await runCli(['status'], { env: cliEnv });
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain('analyst@company.com');
  });

  it("with a wrong key the apply fails with the server's password error explained for IAM, and records nothing", async () => {
    const wrong = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_VAR_aws_secret_access_key: WRONG_SECRET_KEY });
    expect(wrong.code).toBe(1);
    const text = printed(wrong);
    expect(text).toContain('Failed to update adaptive_resource');
    expect(text).toContain(`Cannot connect to target "${TARGET}"`);
    expect(text).toContain(`the server refused the IAM authentication token of user "${ADMIN}"`);
    expect(text).toContain(`password authentication failed for user "${ADMIN}"`);
    expect(text).toContain(`GRANT rds_iam TO "${ADMIN}";`);
    expect(text).toContain(`rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/${ADMIN}`);
    expect(text).toContain("this machine's clock");
    expect(text.includes(WRONG_SECRET_KEY)).toBe(false);
    // The catalog keeps the keys that work, and the state too: the plan with them is clean.
    const record = await storedResource(catalog, TARGET);
    expect(openStoredSecrets(env, TARGET, record!).awsSecretAccessKey === KEYS.secretAccessKey).toBe(true);
    const plan = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']);
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('ssl_mode = "disable" and a password beside use_rds_iam fail the plan naming the attribute', async () => {
    const bad = new TerraformWorkspace({ files: { 'main.tf': BAD_TF }, mirrorDir, env });
    try {
      await bad.init();
      const result = await bad.run(['plan', '-no-color', '-input=false']);
      expect(result.code).toBe(1);
      const text = printed(result);
      expect(text).toContain('Error: Invalid ssl_mode with adaptive_resource.plain,');
      expect(text).toContain('IAM tokens travel as passwords: ssl_mode must be require or stronger');
      expect(text).toContain('Error: Invalid password with adaptive_resource.with_password,');
      expect(text).toContain('password must not be set when use_rds_iam = true');
      expect(text.match(/Error: /g)).toHaveLength(2);
    } finally {
      bad.dispose();
    }
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(catalog)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(target, access)).toEqual([]);
  });
});
