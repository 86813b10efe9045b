/**
 * examples/adaptive-permissions: Adaptive's YAML `allow:` spelling of permissions, as its
 * documentation writes it, applied by real Terraform against real PostgreSQL. The members
 * can do what the YAML says and no more; plans stay clean (the YAML is kept in state) and
 * after an import; a database other than the target's, entries with different privileges
 * and malformed YAML fail at plan naming `permissions`, with nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident } from '../../src/runtime/pg/sql';
import { accessRoles, catalogCounts, credentialList, exampleFiles, exampleWorkspace, installAdaptiveProvider, loginAs, prepareCluster, printed, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { sqlState } from '../fixtures/target-db';
import type { TerraformWorkspace } from '../fixtures/terraform';

const MAIN_TF = exampleFiles('adaptive-permissions')['main.tf']!;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const scratch = scratchDir('adaptive-e2e-yaml-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    ws = exampleWorkspace('adaptive-permissions', {
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

  async function credential(output: 'analyst_credentials' | 'writer_credentials'): Promise<IssuedCredentialOutput> {
    return (credentialList((await ws.outputs())[output]?.value))[0]!;
  }

  it('applies; the read-only member can SELECT every table of public and is refused INSERT', async () => {
    const applied = await ws.apply();
    expect(applied.code, printed(applied)).toBe(0);
    const analyst = await loginAs(await credential('analyst_credentials'));
    try {
      expect((await analyst.query('select count(*)::int as n from public.orders')).rows).toEqual([{ n: 2 }]);
      expect(await sqlState(analyst.query("insert into public.orders (item) values ('no')"))).toBe('42501');
      // ALL is schema public only.
      expect(await sqlState(analyst.query('select * from app.settings'))).toBe('42501');
    } finally {
      await analyst.end();
    }
  });

  it('several entries: their tables (a bare name is in public) with their privileges, nothing else', async () => {
    const writer = await loginAs(await credential('writer_credentials'));
    try {
      await writer.query("insert into public.orders (item) values ('pen')");
      await writer.query("insert into app.settings (key, value) values ('k', 'v')");
      expect(await sqlState(writer.query('delete from public.orders'))).toBe('42501');
      expect(await sqlState(writer.query('select * from analytics.events'))).toBe('42501');
    } finally {
      await writer.end();
    }
  });

  it('shows a grant revoked by hand as drift, and applying puts it back', async () => {
    await sql(cluster, 'production', `revoke select on public.orders from ${ident('adaptive_ep_postgres-readonly-access')}`);
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.readonly will be updated in-place');
    expect(plan.stdout).toMatch(/missing SELECT on table .*public.*orders/);
    expect((await ws.apply()).code).toBe(0);
    const analyst = await loginAs(await credential('analyst_credentials'));
    try {
      // The writer added a row above: the member sees what the admin sees.
      const rows = await sql<{ n: number }>(cluster, 'production', 'select count(*)::int as n from public.orders');
      expect((await analyst.query('select count(*)::int as n from public.orders')).rows).toEqual(rows);
    } finally {
      await analyst.end();
    }
  });

  it('plans no changes, also after importing the authorization (its YAML is kept)', async () => {
    expect((await ws.plan()).code).toBe(0);
    await ws.ok(['state', 'rm', 'adaptive_authorization.postgres_readonly']);
    await ws.ok(['import', '-no-color', '-input=false', 'adaptive_authorization.postgres_readonly', 'postgres-readonly']);
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(0);
  });

  /** Plans `main.tf` with `from` replaced by `to`: it fails naming permissions and `pattern`, and nothing changes. */
  async function failsAtPlan(from: string, to: string, pattern: RegExp): Promise<void> {
    expect(MAIN_TF).toContain(from);
    const before = { roles: await accessRoles(cluster), counts: await catalogCounts(cluster) };
    ws.write('main.tf', MAIN_TF.replace(from, to));
    try {
      const plan = await ws.plan();
      const output = printed(plan);
      expect(plan.code, output).toBe(1);
      expect(output).toMatch(/Error: Invalid permissions/);
      expect(output).toMatch(pattern);
      expect({ roles: await accessRoles(cluster), counts: await catalogCounts(cluster) }).toEqual(before);
    } finally {
      ws.write('main.tf', MAIN_TF);
    }
  }

  it("a database other than the target's fails at plan, naming permissions and both databases", async () => {
    await failsAtPlan(
      '      - database: production\n        privileges:\n          - SELECT',
      '      - database: staging\n        privileges:\n          - SELECT',
      /with adaptive_authorization\.postgres_readonly.*endpoint "postgres-readonly-access".*written for database "?staging"?, but the endpoint's resource connects to database "?production"?/,
    );
  });

  it('entries with different privileges fail at plan, saying how to split them', async () => {
    await failsAtPlan(
      "objects: [app.settings]",
      "objects: [app.settings]\n      - database: production\n        privileges: [DELETE]\n        objects: [orders]",
      /Invalid permissions\.allow\[2\]\.privileges.*\(line 8\) grants DELETE where allow\[0\] grants SELECT, INSERT, UPDATE; .*two adaptive_authorization resources/,
    );
  });

  it('malformed YAML and an unknown privilege fail at plan naming the line', async () => {
    await failsAtPlan('privileges: [SELECT, INSERT, UPDATE]\n        objects: [orders]', 'privileges: [SELECT, INSERT, UPDATE\n        objects: [orders]', /is neither JSON nor valid YAML: at line \d+/);
    await failsAtPlan('          - SELECT\n', '          - SELEKT\n', /Invalid permissions\.allow\[0\]\.privileges\[0\].*\(line 4\) is not a table privilege \(did you mean SELECT\?\)/);
  });
});
