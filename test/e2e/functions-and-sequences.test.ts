/**
 * examples/functions-and-sequences, applied by real Terraform with the real plugin against
 * real PostgreSQL: a member may draw numbers from exactly the sequences granted and EXECUTE
 * exactly the functions granted (named, or `*` including those created after apply); a
 * REVOKE by hand shows as drift and apply puts it back; bad permissions (malformed JSON, an
 * unknown privilege, a function the target lacks) fail at plan, naming `permissions`, with
 * nothing changed on the target.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { catalogCounts, credentialList, exampleFiles, exampleWorkspace, installAdaptiveProvider, loginAs, prepareCluster, printed, scratchDir, sql } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { sqlState } from '../fixtures/target-db';
import type { TerraformWorkspace } from '../fixtures/terraform';

/** The objects the example names, created before apply; PUBLIC may execute no new function. */
const BILLING_SQL = `
  alter default privileges revoke execute on functions from public;
  create schema billing;
  create schema reports;
  create table billing.invoices (id serial primary key, amount integer not null);
  create sequence billing.invoice_numbers;
  create sequence billing.ledger_numbers;
  create function billing.invoice_total(n integer) returns integer language sql as 'select n * 2';
  create function billing.invoice_total(n text) returns text language sql as 'select n';
  create function billing.void_invoice(n integer) returns integer language sql as 'select n';
  create sequence reports.run_numbers;
  create function reports.daily(n integer) returns integer language sql as 'select n + 1';
`;

const BILLING_ROLE = 'adaptive_ep_billing-clerk-access';
const MAIN_TF = exampleFiles('functions-and-sequences')['main.tf']!;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const scratch = scratchDir('adaptive-e2e-fns-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    await sql(cluster, 'production', BILLING_SQL);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    ws = exampleWorkspace('functions-and-sequences', {
      mirrorDir,
      env,
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
    scratch.remove();
  });

  /** The member's credential for one endpoint. */
  async function login(endpoint: string): Promise<Client> {
    const credentials = credentialList((await ws.outputs()).credentials?.value);
    return loginAs(credentials.find((c) => c.endpoint === endpoint)!);
  }

  /** What the billing access role holds on the target, to show that a failed plan changed nothing. */
  async function billingAcl(): Promise<unknown[]> {
    return sql(
      cluster,
      'production',
      `select c.relname::text, c.relacl::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('billing', 'reports')
       union all select p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.proacl::text
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('billing', 'reports')
       order by 1, 2`,
    );
  }

  it('applies; the member may use exactly the named sequence and function overload', async () => {
    const applied = await ws.apply();
    expect(applied.code, printed(applied)).toBe(0);
    const clerk = await login('billing-clerk-access');
    try {
      expect((await clerk.query("select nextval('billing.invoice_numbers')::int as n")).rows).toEqual([{ n: 1 }]);
      expect(await sqlState(clerk.query("select nextval('billing.ledger_numbers')"))).toBe('42501');
      expect((await clerk.query('select billing.invoice_total(21) as n')).rows).toEqual([{ n: 42 }]);
      expect(await sqlState(clerk.query("select billing.invoice_total('x'::text)"))).toBe('42501');
      expect(await sqlState(clerk.query('select billing.void_invoice(1)'))).toBe('42501');
      // INSERT brings USAGE on the table's own serial sequence.
      await clerk.query('insert into billing.invoices (amount) values (10)');
      expect(await sqlState(clerk.query('select billing.invoice_total(1), nextval($1)', ['reports.run_numbers']))).toBe('42501');
    } finally {
      await clerk.end();
    }
    expect((await ws.plan()).code).toBe(0);
  });

  it('"*" covers functions and sequences created after apply', async () => {
    await sql(cluster, 'production', "create sequence reports.later_numbers; create function reports.weekly(n integer) returns integer language sql as 'select n * 7'");
    const runner = await login('reports-runner-access');
    try {
      expect((await runner.query('select reports.daily(1) as d, reports.weekly(2) as w')).rows).toEqual([{ d: 2, w: 14 }]);
      expect((await runner.query("select nextval('reports.run_numbers')::int as a, nextval('reports.later_numbers')::int as b")).rows).toEqual([{ a: 1, b: 1 }]);
      expect(await sqlState(runner.query('select billing.void_invoice(1)'))).toBe('42501');
    } finally {
      await runner.end();
    }
  });

  it('a REVOKE by hand shows as drift in plan, and apply puts it back', async () => {
    await sql(cluster, 'production', `revoke execute on function billing.invoice_total(integer) from "${BILLING_ROLE}"; revoke usage on sequence billing.invoice_numbers from "${BILLING_ROLE}"`);
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.billing will be updated in-place');
    expect(plan.stdout).toMatch(/missing EXECUTE on function .*invoice_total/);
    expect(plan.stdout).toMatch(/missing USAGE on sequence .*invoice_numbers/);
    await ws.apply();
    expect((await ws.plan()).code).toBe(0);
    const clerk = await login('billing-clerk-access');
    try {
      expect((await clerk.query("select billing.invoice_total(2) as n, nextval('billing.invoice_numbers')::int > 0 as drawn")).rows).toEqual([{ n: 4, drawn: true }]);
    } finally {
      await clerk.end();
    }
  });

  /** The billing clerk's `permissions = jsonencode({...})`, as the example writes it. */
  const BILLING_PERMISSIONS = /permissions = jsonencode\(\{\n {4}grants {4}= \["SELECT", "INSERT"\][^]*?\n {2}\}\)/.exec(MAIN_TF)![0];

  /** Plans with the billing clerk's permissions replaced by `text` (a heredoc): it must fail, naming `pattern`, with nothing changed. */
  async function failsAtPlan(text: string, pattern: RegExp): Promise<string> {
    const aclBefore = await billingAcl();
    const countsBefore = await catalogCounts(cluster);
    ws.write('main.tf', MAIN_TF.replace(BILLING_PERMISSIONS, `permissions = <<-EOT\n${text}\nEOT`));
    try {
      const plan = await ws.plan();
      const output = printed(plan);
      expect(plan.code, output).toBe(1);
      expect(output).toMatch(/Error: Invalid permissions/);
      expect(output).toContain('with adaptive_authorization.billing_clerk');
      expect(output).toMatch(pattern);
      expect(await billingAcl()).toEqual(aclBefore);
      expect(await catalogCounts(cluster)).toEqual(countsBefore);
      return output;
    } finally {
      ws.write('main.tf', MAIN_TF);
    }
  }

  const GOOD = {
    grants: ['SELECT', 'INSERT'],
    schemas: ['billing'],
    tables: ['billing.invoices'],
    sequences: { privileges: ['USAGE'], names: ['billing.invoice_numbers'] },
  };

  it('a function the target lacks fails at plan naming permissions and the function; nothing changed', async () => {
    const output = await failsAtPlan(JSON.stringify({ ...GOOD, functions: ['billing.invoice_totl(integer)'] }), /function .*invoice_totl.* does not exist/);
    expect(output).toContain('endpoint "billing-clerk-access" (resource "postgres-billing")');
  });

  it('malformed JSON, malformed YAML and an unknown privilege fail at plan; nothing changed', async () => {
    await failsAtPlan('{"grants": ["SELECT",], "schemas": ["billing"], "tables": ["billing.invoices"]}', /is not valid JSON: .* at line 1, column \d+/);
    await failsAtPlan('allow:\n  - database: production\n    privileges: [SELECT\n    objects: [ALL]', /is neither JSON nor valid YAML: at line \d+/);
    await failsAtPlan(JSON.stringify({ ...GOOD, grants: ['SELECT', 'INSERTT'] }), /Invalid permissions\.grants\[1\].*"INSERTT" is not a table privilege \(did you mean INSERT\?\)/);
  });
});
