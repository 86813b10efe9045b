/**
 * The seed's groups-and-endpoints example, applied by real Terraform with the real plugin
 * against real PostgreSQL: members log in with their own credentials and can do exactly
 * what their authorization allows; a second plan is empty; grants changed by hand show up
 * as drift and are put back; members come and go one at a time; every resource type
 * imports by name; destroy leaves no role behind.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { credentialList, exampleFiles, exampleWorkspace, installAdaptiveProvider, loginAs, prepareCluster, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const scratch = scratchDir('adaptive-e2e-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    ws = exampleWorkspace('groups-and-endpoints', {
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

  async function credentials(output: 'developer_credentials' | 'analyst_credentials'): Promise<IssuedCredentialOutput[]> {
    const outputs = await ws.outputs();
    expect(outputs[output]?.sensitive).toBe(true);
    return credentialList(outputs[output]?.value);
  }

  it('applies, and each member gets a working credential of their own', async () => {
    await ws.apply();
    const developers = await credentials('developer_credentials');
    expect(developers.map((c) => c.member).sort()).toEqual(['dev1@company.com', 'dev2@company.com']);
    expect(new Set(developers.map((c) => c.username)).size).toBe(2);
    const dev1 = developers.find((c) => c.member === 'dev1@company.com')!;
    expect(dev1.endpoint).toBe('postgres-developer-access');
    expect(Date.parse(dev1.expires_at) - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    expect(dev1.uri).toMatch(/^postgresql:\/\/.+@127\.0\.0\.1:\d+\/production\?sslmode=prefer$/);

    const client = await loginAs(dev1);
    try {
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await client.query("insert into public.orders (item) values ('pen')");
      await client.query("update app.settings set value = 'x' where key = 'none'");
      await expect(client.query('truncate public.orders')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select * from analytics.events')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }

    const analysts = await credentials('analyst_credentials');
    const analyst = await loginAs(analysts[0]!);
    try {
      expect((await analyst.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 3 });
      await expect(analyst.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await analyst.end();
    }
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(plan.stdout + plan.stderr).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('reordering members is an in-place update that issues and revokes nothing', async () => {
    const byMember = (list: IssuedCredentialOutput[]): IssuedCredentialOutput[] => [...list].sort((a, b) => a.member.localeCompare(b.member));
    const before = byMember(await credentials('developer_credentials'));
    const example = exampleFiles('groups-and-endpoints')['main.tf']!;
    const reordered = example.replace(/"dev1@company.com",(\s*)"dev2@company.com"/, '"dev2@company.com",$1"dev1@company.com"');
    expect(reordered).not.toBe(example);
    ws.write('main.tf', reordered);
    const plan = await ws.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('adaptive_group.postgres_developers will be updated in-place');
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    await ws.apply();
    // Same roles, same passwords: nothing was issued again or revoked.
    expect(byMember(await credentials('developer_credentials'))).toEqual(before);
    expect((await ws.plan()).code).toBe(0);
    ws.write('main.tf', example);
    await ws.apply();
    expect(byMember(await credentials('developer_credentials'))).toEqual(before);
  });

  it('shows a grant revoked by hand as drift, and applying puts it back', async () => {
    await sql(cluster, 'production', 'revoke select on public.orders from "adaptive_ep_postgres-readonly-access"');
    const plan = await ws.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.postgres_readonly_access will be updated in-place');
    expect(plan.stdout).toMatch(/drift/);
    expect(plan.stdout).toMatch(/missing SELECT on table .*public.*orders/);
    await ws.apply();
    expect((await ws.plan()).code).toBe(0);
    const analyst = await loginAs((await credentials('analyst_credentials'))[0]!);
    try {
      expect((await analyst.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 3 });
    } finally {
      await analyst.end();
    }
  });

  it('removing a member revokes only that member', async () => {
    const before = await credentials('developer_credentials');
    const dev1 = before.find((c) => c.member === 'dev1@company.com')!;
    const dev2 = before.find((c) => c.member === 'dev2@company.com')!;
    const session = await loginAs(dev2);
    // pg reports a terminated session twice (the FATAL, then the closed socket).
    const ended = new Promise<void>((resolve) => session.on('error', () => resolve()));
    ws.write('main.tf', exampleFiles('groups-and-endpoints')['main.tf']!.replace(/"dev1@company.com",\s*"dev2@company.com"/, '"dev1@company.com"'));
    await ws.apply();
    await ended; // dev2's open session was terminated
    await expect(loginAs(dev2)).rejects.toThrow(/password authentication failed|does not exist/);
    const after = await credentials('developer_credentials');
    expect(after).toEqual([dev1]); // dev1 untouched: same role, same password
    const client = await loginAs(dev1);
    await client.end();
    ws.write('main.tf', exampleFiles('groups-and-endpoints')['main.tf']!);
    await ws.apply();
    expect((await credentials('developer_credentials')).length).toBe(2);
    expect((await ws.plan()).code).toBe(0);
  });

  it('upgrades a state written with credentials as lists (schema version 0): no resource changes, same passwords, the outputs become maps', async () => {
    const developers = await credentials('developer_credentials');
    const analysts = await credentials('analyst_credentials');
    const statePath = path.join(ws.dir, 'terraform.tfstate');
    type Instance = { schema_version: number; attributes: Record<string, unknown> };
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
      outputs: Record<string, { value: Record<string, unknown>; type: [string, unknown] }>;
      resources: Array<{ type: string; instances: Instance[] }>;
    };
    // What the list schema wrote: the same objects in a list (sorted by endpoint, then member), and so did the outputs.
    const groups = state.resources.filter((r) => r.type === 'adaptive_group');
    expect(groups).toHaveLength(2);
    for (const group of groups) {
      const instance = group.instances[0]!;
      expect(instance.schema_version).toBe(1);
      instance.schema_version = 0;
      instance.attributes.credentials = Object.values(instance.attributes.credentials as Record<string, unknown>);
      instance.attributes.secrets = [];
    }
    for (const output of Object.values(state.outputs)) {
      expect(output.type[0]).toBe('map');
      output.value = Object.values(output.value) as unknown as Record<string, unknown>;
      output.type = ['list', output.type[1]];
    }
    writeFileSync(statePath, JSON.stringify(state));

    await ws.ok(['plan', '-no-color', '-input=false', '-out=upgrade.tfplan']);
    const planned = JSON.parse((await ws.ok(['show', '-json', 'upgrade.tfplan'])).stdout) as {
      resource_changes: Array<{ address: string; change: { actions: string[] } }>;
      output_changes: Record<string, { actions: string[] }>;
    };
    rmSync(path.join(ws.dir, 'upgrade.tfplan'));
    expect(planned.resource_changes.filter((r) => r.change.actions.join() !== 'no-op').map((r) => r.address)).toEqual([]);
    // Only the outputs change: from the lists the old state held to the maps.
    expect(Object.keys(planned.output_changes).sort()).toEqual(['analyst_credentials', 'developer_credentials']);
    await ws.apply();
    expect(await credentials('developer_credentials')).toEqual(developers);
    expect(await credentials('analyst_credentials')).toEqual(analysts);
    const upgraded = JSON.parse(readFileSync(statePath, 'utf8')) as { resources: Array<{ type: string; instances: Instance[] }> };
    for (const group of upgraded.resources.filter((r) => r.type === 'adaptive_group')) expect(group.instances[0]!.schema_version).toBe(1);
    const again = await ws.plan();
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('imports every resource type by name', async () => {
    const addresses: Array<[string, string]> = [
      ['adaptive_resource.postgres', 'postgres-production'],
      ['adaptive_authorization.postgres_developer', 'postgres-developer'],
      ['adaptive_endpoint.postgres_readonly_access', 'postgres-readonly-access'],
      ['adaptive_group.postgres_analysts', 'data-analysts'],
    ];
    for (const [address, id] of addresses) {
      await ws.ok(['state', 'rm', address]);
      await ws.ok(['import', '-no-color', '-input=false', address, id]);
    }
    const plan = await ws.plan();
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it('destroys everything, leaving no role and no catalog record behind', async () => {
    await ws.destroy();
    const roles = await sql<{ rolname: string }>(
      cluster,
      'postgres',
      "select rolname::text from pg_roles where rolname like 'adaptive_ep_%' or rolname like '%@company.com%'",
    );
    expect(roles).toEqual([]);
    const live = await sql<{ n: number }>(cluster, 'adaptive_catalog', 'select count(*)::int as n from adaptive.credentials where revoked_at is null');
    expect(live[0]!.n).toBe(0);
    const left = await sql<{ n: number }>(
      cluster,
      'adaptive_catalog',
      'select (select count(*) from adaptive.resources) + (select count(*) from adaptive.endpoints) + (select count(*) from adaptive.groups) + (select count(*) from adaptive.authorizations) as n',
    );
    expect(Number(left[0]!.n)).toBe(0);
  });
});
