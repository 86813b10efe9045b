/**
 * `adaptive_resource.connection_url`, applied by real Terraform with the real plugin against
 * real PostgreSQL: the target given as one postgres:// URI (its admin password
 * percent-encoded) is reached, an endpoint on it issues a group member a credential that logs
 * in; the catalog has the parsed settings with the password sealed; the URI is in state only
 * as the sensitive attribute's value and its password nowhere else; a second plan is empty.
 * A grant revoked by hand is drift that applying puts back. Each bad URI fails the plan on
 * connection_url. The target's tags are recorded in the catalog. The configuration is
 * examples/connection-url/main.tf.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident, literal } from '../../src/runtime/pg/sql';
import { credentialList, exampleWorkspace, installAdaptiveProvider, loginAs, openStoredSecrets, prepareCluster, printed, scratchDir, sql, storedResource } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { TerraformWorkspace } from '../fixtures/terraform';

const scratch = scratchDir('adaptive-e2e-url-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

const TERRAFORM_HEADER = `terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}
`;

// As examples/connection-url/main.tf names them.
const ADMIN = 'url_admin';
const TARGET = 'url-target';
const MEMBER = 'url-reader@company.com';
const ACCESS_ROLE = 'adaptive_ep_url-readers';

/** Each mistake in a resource of its own, so one plan reports them all. */
const BAD_TF = `${TERRAFORM_HEADER}
resource "adaptive_resource" "with_host" {
  type           = "postgres"
  name           = "with-host"
  connection_url = "postgres://admin:example@db.example.com/production"
  host           = "db.example.com"
}

resource "adaptive_resource" "malformed" {
  type           = "postgres"
  name           = "malformed"
  connection_url = "postgres://admin:example@db.example.com:99999/production"
}

resource "adaptive_resource" "unknown_keyword" {
  type           = "postgres"
  name           = "unknown-keyword"
  connection_url = "postgres://admin:example@db.example.com/production?sslrootcert=/etc/ca.crt"
}

resource "adaptive_resource" "wrong_scheme" {
  type           = "postgres"
  name           = "wrong-scheme"
  connection_url = "mysql://admin:example@db.example.com/production"
}
`;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let badWs: TerraformWorkspace;
  // Characters a URI must percent-encode: reaching the server proves they were decoded.
  const password = `p@ss/w:rd+%${randomBytes(12).toString('hex')}`;
  let url: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    await sql(cluster, 'postgres', `create role ${ident(ADMIN)} login superuser password ${literal(password)}`);
    url = `postgresql://${ADMIN}:${encodeURIComponent(password)}@${cluster.host}:${cluster.port}/production?sslmode=disable&application_name=url-admin`;
    ws = exampleWorkspace('connection-url', { mirrorDir, env, vars: { pg_url: url } });
    badWs = new TerraformWorkspace({ files: { 'main.tf': BAD_TF }, mirrorDir, env });
    await Promise.all([ws.init(), badWs.init()]);
  });
  afterAll(async () => {
    ws?.dispose();
    badWs?.dispose();
    await cluster?.stop();
  });

  it('applies with connection_url, logging neither it nor its password; the catalog has its parts, the password sealed; a member logs in', async () => {
    // At trace level, Terraform's log and the plugin's lines it relays are in the output too.
    const applied = await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_LOG: 'trace' });
    expect(applied.stderr).toContain('[TRACE]');
    for (const form of [password, encodeURIComponent(password), url]) expect((applied.stdout + applied.stderr).includes(form)).toBe(false);
    const record = await storedResource(cluster, TARGET);
    expect(record?.config).toMatchObject({ host: cluster.host, port: cluster.port, database: 'production', username: ADMIN, sslMode: 'disable', applicationName: 'url-admin' });
    expect(record?.config.tags).toEqual({ owner: 'data-team', env: 'test' });
    expect(JSON.stringify(record?.config)).not.toContain(password);
    expect(openStoredSecrets(env, TARGET, record!).password === password).toBe(true);

    const credentials = credentialList((await ws.outputs()).credentials?.value);
    expect(credentials.map((c) => c.member)).toEqual([MEMBER]);
    const client = await loginAs(credentials[0]!);
    try {
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('state holds the URI only as the sensitive connection_url; its password appears nowhere else', () => {
    const state = JSON.parse(readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')) as {
      resources: Array<{ type: string; instances: Array<{ attributes: Record<string, unknown>; sensitive_attributes: unknown[] }> }>;
    };
    const target = state.resources.find((r) => r.type === 'adaptive_resource')!.instances[0]!;
    expect(target.attributes.connection_url === url).toBe(true);
    expect(JSON.stringify(target.sensitive_attributes)).toContain('connection_url');
    expect(target.attributes).toMatchObject({ host: null, database_name: null, username: null, password: null });
    target.attributes.connection_url = null;
    const rest = JSON.stringify(state);
    for (const form of [password, encodeURIComponent(password), Buffer.from(password).toString('base64')]) expect(rest.includes(form)).toBe(false);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']);
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('shows a grant revoked by hand as drift, and applying puts it back', async () => {
    await sql(cluster, 'production', `revoke select on public.orders from ${ident(ACCESS_ROLE)}`);
    const plan = await ws.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.readers will be updated in-place');
    expect(plan.stdout).toMatch(/missing SELECT on table .*public.*orders/);
    await ws.apply();
    expect((await ws.plan()).code).toBe(0);
    const credentials = credentialList((await ws.outputs()).credentials?.value);
    const client = await loginAs(credentials[0]!);
    try {
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
    } finally {
      await client.end();
    }
  });

  it('each bad URI fails the plan on connection_url', async () => {
    const result = await badWs.run(['plan', '-no-color', '-input=false']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Error: Invalid connection_url with adaptive_resource.with_host,');
    expect(text).toContain(
      'cannot be combined with host: the URL gives the connection settings; remove host, or remove connection_url and set the attributes one by one',
    );
    expect(text).toContain('Error: Invalid connection_url with adaptive_resource.malformed,');
    expect(text).toContain('connection_url is not a URL; write postgres://user:password@host:5432/database?sslmode=verify-full');
    expect(text).toContain("connection_url has the unknown parameter 'sslrootcert'; accepted: host, port, dbname, user, password, sslmode, application_name, connect_timeout");
    expect(text).toContain('connection_url must be a postgres:// or postgresql:// URL, not mysql://');
    expect(text.match(/Error: /g)).toHaveLength(4);
  });
});
