/**
 * The seed's three authorizations (read-only, developer CRUD, schema-specific), applied
 * by real Terraform with the real plugin: the catalog holds each permission set,
 * normalised, and no target is touched (an authorization does nothing until an endpoint
 * applies it); a second plan is empty; an authorization removed from state imports back by
 * name with an empty plan; an unknown privilege fails `terraform plan` with a diagnostic
 * on `permissions`; destroy leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  accessRoles,
  catalogCounts,
  EMPTY_CATALOG,
  exampleFiles,
  exampleWorkspace,
  installAdaptiveProvider,
  prepareCluster,
  printed,
  scratchDir,
  sql,
} from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

interface AuthorizationRow extends Record<string, unknown> {
  name: string;
  description: string;
  resource_type: string;
  permissions: { grants: string[]; schemas: string[]; tables: string[] };
}

// One plugin bundle and mirror for both majors.
const scratch = scratchDir('adaptive-e2e-authz-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const example = exampleFiles('authorizations')['main.tf']!;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    ws = exampleWorkspace('authorizations', { mirrorDir, env });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
  });

  function authorizations(): Promise<AuthorizationRow[]> {
    return sql<AuthorizationRow>(cluster, 'adaptive_catalog', 'select name, description, resource_type, permissions from adaptive.authorizations order by name');
  }

  it('applies the three authorizations: recorded in the catalog, no target touched', async () => {
    await ws.apply();
    expect(await authorizations()).toEqual([
      {
        name: 'postgres-analytics-access',
        description: 'Access to analytics schema only',
        resource_type: 'postgres',
        permissions: { grants: ['SELECT', 'INSERT'], schemas: ['analytics'], tables: ['events', 'metrics'] },
      },
      {
        name: 'postgres-developer',
        description: 'Developer access with CRUD permissions',
        resource_type: 'postgres',
        permissions: { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['app', 'public'], tables: ['*'] },
      },
      {
        name: 'postgres-readonly',
        description: 'Read-only access to production database',
        resource_type: 'postgres',
        permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] },
      },
    ]);
    expect(await catalogCounts(cluster)).toEqual({ ...EMPTY_CATALOG, authorizations: 3 });
    const roles = await sql(cluster, 'postgres', "select rolname from pg_roles where rolname like 'adaptive%'");
    expect(roles).toEqual([]);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('imports an authorization by name after it left the state, and plans no changes', async () => {
    const address = 'adaptive_authorization.postgres_developer';
    await ws.ok(['state', 'rm', address]);
    expect((await ws.ok(['state', 'list'])).stdout).not.toContain(address);
    const imported = await ws.ok(['import', '-no-color', '-input=false', address, 'postgres-developer']);
    expect(printed(imported)).toContain('Import successful!');
    const shown = await ws.ok(['state', 'show', '-no-color', address]);
    expect(printed(shown)).toContain('name = "postgres-developer"');
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('an unknown privilege fails terraform plan with a diagnostic on permissions', async () => {
    const variant = example.replace('grants  = ["SELECT"]', 'grants  = ["SELEKT"]');
    expect(variant).not.toBe(example);
    ws.write('main.tf', variant);
    try {
      const plan = await ws.plan();
      expect(plan.code).toBe(1);
      const text = printed(plan);
      expect(text).toContain('Error: Invalid permissions.grants[0]');
      expect(text).toContain('with adaptive_authorization.postgres_readonly');
      // Terraform points at the attribute: the `permissions = jsonencode(...)` line.
      expect(text).toMatch(/\d+: permissions = jsonencode\(\{/);
      expect(text).toContain('SELEKT');
      expect(text).toContain('SELECT');
    } finally {
      ws.write('main.tf', example);
    }
    // The plan failed before anything was changed.
    const readonly = (await authorizations()).find((a) => a.name === 'postgres-readonly');
    expect(readonly?.permissions.grants).toEqual(['SELECT']);
  });

  it('destroys everything, leaving no catalog record behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(cluster)).toEqual([]);
  });
});
