/**
 * Invalid configurations of the groups-and-endpoints example fail at `terraform plan`:
 * exit code 1, one error that Terraform places on the offending attribute's line, a
 * message saying what is wrong and what would be accepted, and no sign of the plugin
 * failing. The unmodified example plans cleanly on an empty catalog (its groups refer to
 * endpoints created in the same apply) without writing to it, and an endpoint name that
 * exists nowhere is caught by consulting the catalog. A catalog the plan cannot reach, or
 * one older than the provider, fails the plan on the provider block.
 */
import { createServer } from 'node:net';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { CATALOG_MIGRATIONS, CATALOG_VERSION, migrateCatalog } from '../../src/runtime/catalog';
import { runCli } from '../cli/run-cli';
import { accessRoles, exampleFiles, exampleWorkspace, installAdaptiveProvider, prepareCluster, scratchDir, sql } from '../fixtures/adaptive';
import { CertificateAuthority } from '../fixtures/pki';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { edit, lineNumber, plain, shownDiagnostics, type ShownDiagnostic } from '../fixtures/diagnostics';
import type { TerraformResult, TerraformWorkspace } from '../fixtures/terraform';

const EXAMPLE = exampleFiles('groups-and-endpoints')['main.tf']!;

/** What a plugin failure looks like in Terraform's output, whatever the RPC. */
const PLUGIN_FAILURE = /Plugin did not respond|panic|The plugin encountered an error|unexpected EOF|plugin (?:crashed|exited)/i;

/** Where Terraform should point: the block and the attribute line inside it. */
interface Place {
  /** E.g. `resource "adaptive_resource" "postgres"`, or `provider "adaptive"`. */
  readonly block: string;
  /** The configuration line the error is on, exactly as written. */
  readonly line: string;
}

/** Asserts a failed plan with one error at `place`, and returns that error. */
function expectPlanError(result: TerraformResult, configuration: string, place: Place, summary: string): ShownDiagnostic {
  const output = result.stdout + result.stderr;
  expect(result.code, output).toBe(1);
  expect(output).not.toMatch(PLUGIN_FAILURE);
  const errors = shownDiagnostics(result.stderr).filter((d) => d.severity === 'Error');
  expect(errors.map((d) => d.summary)).toEqual([summary]);
  const n = lineNumber(configuration, place.block, place.line);
  const where = place.block.replace(/^(resource|provider) /, 'in $1 ');
  // Terraform names the block and shows the attribute's line in the diagnostic's margin.
  expect(plain(result.stderr)).toContain(`│   on main.tf line ${n}, ${where}:\n│ ${String(n).padStart(4)}: ${place.line}\n`);
  return errors[0]!;
}

interface InvalidCase {
  readonly title: string;
  readonly configuration: string;
  readonly place: Place;
  readonly summary: string;
  /** The whole detail, or parts of it when the rest depends on the order Terraform plans in. */
  readonly detail: string | { readonly includes: readonly string[] };
  readonly env?: Readonly<Record<string, string>>;
}

const TARGET = 'resource "adaptive_resource" "postgres"';
const READONLY = 'resource "adaptive_authorization" "postgres_readonly"';
const DEV_ENDPOINT = 'resource "adaptive_endpoint" "postgres_dev_access"';
const READONLY_ENDPOINT = 'resource "adaptive_endpoint" "postgres_readonly_access"';
const DEVELOPERS = 'resource "adaptive_group" "postgres_developers"';
const ANALYSTS = 'resource "adaptive_group" "postgres_analysts"';
const DATABASE_LINE = '  database_name = "production"';
const LONG_NAME = 'a'.repeat(200);
const MISSPELLED_ENDPOINT = edit(EXAMPLE, 'adaptive_endpoint.postgres_readonly_access.name', '"postgres-readonly-acess"');
const VERIFY_CA_LINE = '  ssl_mode      = "verify-ca"';
/** verify-ca without tls_root_cert: every public CA trusted, no host name checked. */
const VERIFY_CA_WITHOUT_ROOT_CERT = edit(EXAMPLE, DATABASE_LINE, `${DATABASE_LINE}\n${VERIFY_CA_LINE}`);
const VERIFY_CA_REFUSAL =
  '"verify-ca" needs tls_root_cert: without it any certificate that a public CA in the system trust store issued, for any host name, is accepted ' +
  "(libpq refuses this too); set tls_root_cert to the CA certificate that signed the server's certificate, " +
  'or use ssl_mode "verify-full" to trust the system store with host name checking';

const CASES: readonly InvalidCase[] = [
  {
    title: 'ssl_mode "verify_full"',
    configuration: edit(EXAMPLE, DATABASE_LINE, `${DATABASE_LINE}\n  ssl_mode      = "verify_full"`),
    place: { block: TARGET, line: '  ssl_mode      = "verify_full"' },
    summary: 'Invalid ssl_mode',
    detail: '"verify_full" is not an sslmode; accepted: disable, allow, prefer, require, verify-ca, verify-full, as in libpq (default prefer)',
  },
  {
    title: 'ssl_mode "verify-ca" without tls_root_cert',
    configuration: VERIFY_CA_WITHOUT_ROOT_CERT,
    place: { block: TARGET, line: VERIFY_CA_LINE },
    summary: 'Invalid ssl_mode',
    detail: VERIFY_CA_REFUSAL,
  },
  {
    title: 'tls_cert_file without tls_key_file',
    configuration: edit(EXAMPLE, DATABASE_LINE, `${DATABASE_LINE}\n  tls_cert_file = file("client.crt")`),
    place: { block: TARGET, line: '  tls_cert_file = file("client.crt")' },
    summary: 'Missing tls_key_file',
    detail:
      'tls_key_file is required when tls_cert_file is set: a client certificate needs its key; add tls_key_file = file("client.key"), or remove tls_cert_file',
  },
  {
    title: 'an unknown privilege in permissions',
    configuration: edit(EXAMPLE, 'grants  = ["SELECT"]', 'grants  = ["SELEKT"]'),
    place: { block: READONLY, line: '  permissions = jsonencode({' },
    summary: 'Invalid permissions.grants[0]',
    detail:
      '"SELEKT" is not a table privilege (did you mean SELECT?); accepted: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, or ALL for all of them (any letter case)',
  },
  {
    title: 'ttl "8 hours"',
    configuration: edit(EXAMPLE, 'ttl           = "8h"', 'ttl           = "8 hours"'),
    place: { block: DEV_ENDPOINT, line: '  ttl           = "8 hours"' },
    summary: 'Invalid ttl',
    detail: '"8 hours" is not a duration; write a number and a unit, e.g. 30m, 8h, 1h30m or 7d (units s, m, h, d, w; from 1s to 365d)',
  },
  {
    title: 'ttl "forever"',
    configuration: edit(EXAMPLE, 'ttl           = "12h"', 'ttl           = "forever"'),
    place: { block: READONLY_ENDPOINT, line: '  ttl           = "forever"' },
    summary: 'Invalid ttl',
    detail: '"forever" is not a duration; write a number and a unit, e.g. 30m, 8h, 1h30m or 7d (units s, m, h, d, w; from 1s to 365d)',
  },
  {
    title: 'a group listing an endpoint name that exists nowhere (empty catalog)',
    configuration: MISSPELLED_ENDPOINT,
    place: { block: ANALYSTS, line: '  endpoints = [' },
    summary: 'Unknown endpoint "postgres-readonly-acess"',
    // Whether the correctly named endpoint was planned before this group (and so can be
    // suggested) depends on Terraform's scheduling; the rest of the message does not.
    detail: {
      includes: [
        'endpoints lists "postgres-readonly-acess", but no adaptive_endpoint has that name: the catalog holds none, and this configuration plans none before this group.',
        'List an existing endpoint, or refer to one this configuration creates as adaptive_endpoint.<label>.name, so that Terraform creates it before the group.',
      ],
    },
  },
  {
    title: 'a member that is not an email address',
    configuration: edit(EXAMPLE, '"dev2@company.com"', '"not-an-email"'),
    place: { block: DEVELOPERS, line: '    "not-an-email"' },
    summary: 'Invalid members[1]',
    detail: `"not-an-email" is not an email address (no '@'); write an email address, e.g. dev1@company.com`,
  },
  {
    // members is a list kept in the order written: the error points at the element itself.
    title: 'a member that is not an email address, written after a valid one that sorts later',
    configuration: edit(EXAMPLE, '"dev1@company.com",\n    "dev2@company.com"', '"zed@company.com",\n    "not-an-email"'),
    place: { block: DEVELOPERS, line: '    "not-an-email"' },
    summary: 'Invalid members[1]',
    detail: `"not-an-email" is not an email address (no '@'); write an email address, e.g. dev1@company.com`,
  },
  {
    title: 'the same person twice, differing in case',
    configuration: edit(EXAMPLE, '"dev2@company.com"', '"DEV1@company.com"'),
    place: { block: DEVELOPERS, line: '    "DEV1@company.com"' },
    summary: 'Invalid members[1]',
    detail: '"DEV1@company.com" is the same member as "dev1@company.com" once lower-cased (members[0] and members[1]); list each person once',
  },
  {
    title: 'a 200-character name',
    configuration: edit(EXAMPLE, 'name = "data-analysts"', `name = "${LONG_NAME}"`),
    place: { block: ANALYSTS, line: `  name = "${LONG_NAME}"` },
    summary: 'Invalid name',
    detail:
      `"${'a'.repeat(48)}"... is 200 characters long, more than 63; a name is 1 to 63 characters: letters, digits, '-', '_' and '.', ` +
      'starting with a letter or digit, e.g. postgres-production',
  },
  {
    title: 'port "99999"',
    configuration: edit(EXAMPLE, 'port          = var.pg_port', 'port          = "99999"'),
    place: { block: TARGET, line: '  port          = "99999"' },
    summary: 'Invalid port',
    detail: '"99999" is out of range; write a whole number from 1 to 65535, e.g. "5432"',
  },
  {
    title: 'password together with use_aws_secrets = true',
    configuration: edit(EXAMPLE, DATABASE_LINE, `${DATABASE_LINE}\n  use_aws_secrets = true\n  aws_secret_name = "postgres-production-admin"`),
    place: { block: TARGET, line: '  password      = var.pg_password' },
    summary: 'Invalid password',
    detail:
      'password must not be set when use_aws_secrets = true: the admin password comes from the secret aws_secret_name; remove password, or set use_aws_secrets = false',
  },
  {
    title: "arn (Adaptive's Secrets Manager form) with type = \"postgres\"",
    configuration: edit(EXAMPLE, DATABASE_LINE, `${DATABASE_LINE}\n  arn           = "arn:aws:iam::123456789012:role/secretsAccessRole"`),
    place: { block: TARGET, line: '  arn           = "arn:aws:iam::123456789012:role/secretsAccessRole"' },
    summary: 'Invalid arn',
    detail:
      'arn is only used with type = "postgres_aws_secrets_manager" (Adaptive\'s Secrets Manager form); with type = "postgres" write use_aws_secrets = true with aws_role_arn, or remove arn',
  },
  {
    title: 'type = "postgres_aws_secrets_manager" without secret_id',
    configuration: edit(edit(EXAMPLE, '  type = "postgres"', '  type = "postgres_aws_secrets_manager"'), '  password      = var.pg_password\n', ''),
    place: { block: TARGET, line: '  type = "postgres_aws_secrets_manager"' },
    summary: 'Missing secret_id',
    detail:
      'secret_id is required with type = "postgres_aws_secrets_manager": the name or ARN of the secret holding username, password, host, port and dbname',
  },
  {
    title: 'no catalog_url and no ADAPTIVE_CATALOG_URL',
    configuration: EXAMPLE,
    env: { ADAPTIVE_CATALOG_URL: '' },
    place: { block: 'provider "adaptive"', line: 'provider "adaptive" {}' },
    summary: 'No catalog database configured',
    detail:
      "No catalog database is configured: set the provider's catalog_url or the ADAPTIVE_CATALOG_URL environment variable to a PostgreSQL URL " +
      'such as postgres://user:password@host:5432/database',
  },
  {
    title: 'a malformed catalog_key',
    configuration: edit(EXAMPLE, 'provider "adaptive" {}', 'provider "adaptive" {\n  catalog_key = "not a key!"\n}'),
    place: { block: 'provider "adaptive"', line: '  catalog_key = "not a key!"' },
    summary: 'Invalid catalog_key',
    detail:
      "The catalog key (catalog_key or ADAPTIVE_CATALOG_KEY) is neither hex nor base64. Set the provider's catalog_key (or the ADAPTIVE_CATALOG_KEY " +
      'environment variable) to 32 random bytes, written as 64 hex characters or in base64; make one with `openssl rand -hex 32`.',
  },
];

/** A local port nothing listens on: one the system just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const scratch = scratchDir('adaptive-invalid-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    const ca = await CertificateAuthority.create('Adaptive Invalid Config CA');
    const client = await ca.issue({ commonName: cluster.user, usage: 'client' });
    ws = exampleWorkspace('groups-and-endpoints', {
      mirrorDir,
      env,
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password },
      files: { 'client.crt': client.certPem },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
    scratch.remove();
  });

  /** Every schema and relation (with its kind) of the catalog database, outside PostgreSQL's own. */
  async function catalogRelations(): Promise<string[]> {
    const rows = await sql<{ relation: string }>(
      cluster,
      'adaptive_catalog',
      `select n.nspname::text || coalesce('.' || c.relname || ' (' || c.relkind::text || ')', '') as relation
         from pg_catalog.pg_namespace n left join pg_catalog.pg_class c on c.relnamespace = n.oid
        where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        order by 1`,
    );
    return rows.map((r) => r.relation);
  }

  /** `terraform plan` with colours, as a terminal shows it (the `│` margin included). */
  function plan(configuration: string, env: Readonly<Record<string, string>> = {}): Promise<TerraformResult> {
    ws.write('main.tf', configuration);
    return ws.run(['plan', '-input=false', '-detailed-exitcode'], env);
  }

  it('plans the unmodified example cleanly on a brand-new catalog database, and leaves it without a schema or table', async () => {
    const before = await catalogRelations();
    expect(before.filter((r) => r.startsWith('adaptive'))).toEqual([]);
    const result = await plan(EXAMPLE);
    expect(result.code, plain(result.stdout + result.stderr)).toBe(2);
    expect(shownDiagnostics(result.stdout + result.stderr)).toEqual([]);
    expect(plain(result.stdout)).toContain('Plan: 7 to add, 0 to change, 0 to destroy.');
    // A plan only reads: the catalog's schema is created by the first apply.
    expect(await catalogRelations()).toEqual(before);
    // A group listing an endpoint by a name this configuration does not plan makes the
    // plan look in the catalog: it holds none, and still has no tables afterwards.
    const checked = await plan(MISSPELLED_ENDPOINT);
    const shown = expectPlanError(checked, MISSPELLED_ENDPOINT, { block: ANALYSTS, line: '  endpoints = [' }, 'Unknown endpoint "postgres-readonly-acess"');
    expect(shown.detail).toContain('the catalog holds none');
    expect(await catalogRelations()).toEqual(before);
  });

  it.each(CASES)('refuses $title at plan time, on the attribute', async (c) => {
    const result = await plan(c.configuration, c.env);
    const shown = expectPlanError(result, c.configuration, c.place, c.summary);
    if (typeof c.detail === 'string') expect(shown.detail).toBe(c.detail);
    else for (const part of c.detail.includes) expect(shown.detail).toContain(part);
  });

  it('refuses verify-ca without tls_root_cert at apply too, and creates nothing', async () => {
    ws.write('main.tf', VERIFY_CA_WITHOUT_ROOT_CERT);
    const result = await ws.run(['apply', '-input=false', '-auto-approve']);
    const shown = expectPlanError(result, VERIFY_CA_WITHOUT_ROOT_CERT, { block: TARGET, line: VERIFY_CA_LINE }, 'Invalid ssl_mode');
    expect(shown.detail).toBe(VERIFY_CA_REFUSAL);
    expect(plain(result.stdout)).not.toMatch(/Creating\.\.\.|Creation complete/);
    expect(await accessRoles(cluster)).toEqual([]);
    // Refused while planning, before any change: the catalog was not even given its tables.
    expect((await catalogRelations()).filter((r) => r.startsWith('adaptive'))).toEqual([]);
    const show = await ws.run(['show', '-json']);
    expect(show.code, show.stderr).toBe(0);
    const state = JSON.parse(show.stdout) as { values?: { root_module?: { resources?: unknown[] } } };
    expect(state.values?.root_module?.resources ?? []).toEqual([]);
  });

  /** Asserts the plan failed on the provider block because the catalog cannot be reached, and returns the detail. */
  function expectUnreachable(result: TerraformResult): string {
    const output = plain(result.stdout + result.stderr);
    expect(result.code, output).toBe(1);
    expect(output).not.toMatch(PLUGIN_FAILURE);
    expect(output).not.toContain('Plan:');
    const errors = shownDiagnostics(result.stderr).filter((d) => d.severity === 'Error');
    expect(errors.map((d) => d.summary)).toEqual(['Cannot reach the catalog database']);
    const detail = errors[0]!.detail;
    // The URL without its password, what happened, and what to change.
    expect(detail).not.toContain(cluster.password);
    expect(output).not.toContain(cluster.password);
    expect(detail).toContain('To fix it in the catalog URL:');
    expect(detail).toContain('Check catalog_url (or ADAPTIVE_CATALOG_URL) and that the database exists and accepts connections from here');
    return detail;
  }

  it('fails the plan when the catalog database does not exist, naming it without the password', async () => {
    const result = await plan(EXAMPLE, { ADAPTIVE_CATALOG_URL: cluster.url('no_such_catalog') });
    const detail = expectUnreachable(result);
    expect(detail).toMatch(
      new RegExp(`^Cannot connect to the catalog database ${cluster.user}@${cluster.host}:${cluster.port}/no_such_catalog: .*"no_such_catalog" does not exist`),
    );
    // Set in the environment, not the provider block: Terraform shows no attribute line.
    expect(plain(result.stderr)).not.toContain('catalog_url =');
  });

  it('fails the plan when nothing listens at the catalog URL, on the catalog_url attribute', async () => {
    const port = await closedPort();
    const url = `postgres://${cluster.user}:${encodeURIComponent(cluster.password)}@127.0.0.1:${port}/adaptive_catalog`;
    const configuration = edit(EXAMPLE, 'provider "adaptive" {}', `provider "adaptive" {\n  catalog_url = "${url}"\n}`);
    const result = await plan(configuration);
    expect(result.code, plain(result.stdout + result.stderr)).toBe(1);
    // Terraform shows the attribute's line with the sensitive value, so only the diagnostic's text is checked for the password.
    const shown = shownDiagnostics(result.stderr).filter((d) => d.severity === 'Error');
    expect(shown.map((d) => d.summary)).toEqual(['Cannot reach the catalog database']);
    expect(shown[0]!.context.join('\n')).toContain('in provider "adaptive"');
    expect(shown[0]!.context.join('\n')).toContain('catalog_url');
    const detail = shown[0]!.detail;
    expect(detail).not.toContain(cluster.password);
    expect(detail).toMatch(new RegExp(`^Cannot connect to the catalog database ${cluster.user}@127\\.0\\.0\\.1:${port}/adaptive_catalog: `));
    expect(detail).toContain('To fix it in the catalog URL:');
    expect(detail).toContain('Check catalog_url (or ADAPTIVE_CATALOG_URL)');
  });

  it('upgrades a catalog older than the provider once, in the first plan that holds the key (the one write a plan may make), and plans', async () => {
    await sql(cluster, 'postgres', 'create database adaptive_catalog_old');
    const client = new Client(cluster.clientConfig('adaptive_catalog_old'));
    await client.connect();
    try {
      await migrateCatalog(client, 'adaptive', CATALOG_MIGRATIONS.slice(0, CATALOG_VERSION - 1));
    } finally {
      await client.end();
    }
    const oldCatalog = { ADAPTIVE_CATALOG_URL: cluster.url('adaptive_catalog_old') };
    // Without the key (status, audit) it is refused, with the way to upgrade it.
    const status = await runCli(['status'], { env: { ...oldCatalog } });
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`is at version ${CATALOG_VERSION - 1}, older than version ${CATALOG_VERSION}`);
    const version = async (): Promise<number | undefined> =>
      (await sql<{ version: number }>(cluster, 'adaptive_catalog_old', 'select max(version)::int as version from adaptive.schema_migrations'))[0]?.version;
    expect(await version()).toBe(CATALOG_VERSION - 1);

    const upgraded = await plan(EXAMPLE, oldCatalog);
    expect(upgraded.code, plain(upgraded.stdout + upgraded.stderr)).toBe(2);
    expect(plain(upgraded.stdout)).toContain('Plan: 7 to add, 0 to change, 0 to destroy.');
    expect(await version()).toBe(CATALOG_VERSION);
  });

  describe('once the example is applied', () => {
    beforeAll(async () => {
      ws.write('main.tf', EXAMPLE);
      await ws.apply();
    });

    it('the apply after plans on the empty catalog created its schema, at this build\'s version, with the records', async () => {
      const [row] = await sql<{ version: number }>(cluster, 'adaptive_catalog', 'select max(version)::int as version from adaptive.schema_migrations');
      expect(row?.version).toBe(CATALOG_VERSION);
      const groups = await sql<{ name: string }>(cluster, 'adaptive_catalog', 'select name from adaptive."groups" order by name');
      expect(groups.map((g) => g.name)).toEqual(['data-analysts', 'postgres-developers']);
    });

    it('lets a group list an existing endpoint by its name', async () => {
      const literal = edit(EXAMPLE, 'adaptive_endpoint.postgres_readonly_access.name', '"postgres-readonly-access"');
      const result = await plan(literal);
      expect(result.code, plain(result.stdout + result.stderr)).toBe(0);
      expect(shownDiagnostics(result.stdout + result.stderr)).toEqual([]);
    });

    it('refuses a misspelled endpoint name, suggesting the one in the catalog', async () => {
      const result = await plan(MISSPELLED_ENDPOINT);
      const shown = expectPlanError(result, MISSPELLED_ENDPOINT, { block: ANALYSTS, line: '  endpoints = [' }, 'Unknown endpoint "postgres-readonly-acess"');
      expect(shown.detail).toBe(
        'endpoints lists "postgres-readonly-acess", but no adaptive_endpoint has that name: the catalog holds none, and this configuration ' +
          'plans none before this group. Did you mean "postgres-readonly-access"? Known endpoints: "postgres-developer-access", ' +
          '"postgres-readonly-access". List an existing endpoint, or refer to one this configuration creates as adaptive_endpoint.<label>.name, ' +
          'so that Terraform creates it before the group.',
      );
    });

    it('names an authorization the catalog does not hold at apply, on the endpoint\'s authorization line, and changes nothing', async () => {
      // A literal name gives Terraform no order and the plan no check: the runtime finds it
      // missing, and the resource words that in Terraform's terms.
      const line = '  authorization = "postgres-readonly-missing"';
      const missing = edit(EXAMPLE, '  authorization = adaptive_authorization.postgres_readonly.name', line);
      const before = await sql(cluster, 'adaptive_catalog', 'select name, "authorization", access_role from adaptive.endpoints order by name');
      const rolesBefore = await accessRoles(cluster);
      ws.write('main.tf', missing);
      const result = await ws.run(['apply', '-input=false', '-auto-approve']);
      const shown = expectPlanError(result, missing, { block: READONLY_ENDPOINT, line }, 'Unknown authorization "postgres-readonly-missing"');
      expect(shown.detail).toBe(
        'No adaptive_authorization named "postgres-readonly-missing" is in the catalog. Create the adaptive_authorization with this name first ' +
          '(check the spelling), or refer to one this configuration creates as adaptive_authorization.<label>.name, so that Terraform creates it first.',
      );
      expect(await sql(cluster, 'adaptive_catalog', 'select name, "authorization", access_role from adaptive.endpoints order by name')).toEqual(before);
      expect(await accessRoles(cluster)).toEqual(rolesBefore);
    });
  });
});
