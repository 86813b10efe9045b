/**
 * The seed's basic example (an inline admin password; the same target with pool sizes),
 * applied by real Terraform with the real plugin against real PostgreSQL: a wrong password
 * is refused with the cause and the fix and nothing is recorded; both resources apply and
 * report the server's version; the catalog keeps the password only encrypted; a second
 * plan is empty; destroy leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  accessRoles,
  catalogCounts,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
  openStoredSecrets,
  prepareCluster,
  printed,
  scratchDir,
  sql,
  storedResource,
} from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

// One plugin bundle and mirror for both majors.
const scratch = scratchDir('adaptive-e2e-basic-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    ws = exampleWorkspace('basic', {
      mirrorDir,
      env,
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
  });

  async function stateList(): Promise<string[]> {
    return (await ws.ok(['state', 'list'])).stdout.split('\n').filter(Boolean);
  }

  it('refuses a wrong admin password naming the authentication failure, and records nothing', async () => {
    const wrong = `wrong-${randomBytes(9).toString('hex')}`;
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_VAR_pg_password: wrong });
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Failed to create adaptive_resource');
    expect(text).toContain(`Cannot connect to target "postgres-production" at 127.0.0.1:${cluster.port}`);
    expect(text).toContain('authentication failed for user "postgres"');
    expect(text).toContain('password authentication failed for user "postgres"');
    expect(text).toContain('Fix: check the username and password');
    expect(text.includes(wrong)).toBe(false);
    expect(await stateList()).toEqual([]);
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
  });

  it('applies both resources and reports the server version', async () => {
    await ws.apply();
    expect((await stateList()).sort()).toEqual(['adaptive_resource.postgres', 'adaptive_resource.postgres_pooled']);
    const [{ server_version: version } = { server_version: '' }] = await sql<{ server_version: string }>(cluster, 'postgres', 'show server_version');
    expect(version.startsWith(`${cluster.major}.`)).toBe(true);
    const outputs = await ws.outputs();
    expect(outputs.server_version?.value).toBe(version);

    // The target got the marker role every issued login role will belong to.
    const marker = await sql<{ rolcanlogin: boolean }>(cluster, 'postgres', "select rolcanlogin from pg_roles where rolname = 'adaptive_managed'");
    expect(marker).toEqual([{ rolcanlogin: false }]);
    expect(await catalogCounts(cluster)).toEqual({ ...EMPTY_CATALOG, resources: 2 });
  });

  it('keeps the admin password in the catalog only encrypted', async () => {
    for (const name of ['postgres-production', 'postgres-pooled']) {
      const stored = await storedResource(cluster, name);
      expect(stored).toBeDefined();
      const { config, secrets } = stored!;
      // Booleans first, not the values: a failing assertion must not print the password.
      expect(JSON.stringify(config).includes(cluster.password)).toBe(false);
      expect(config).toMatchObject({ host: cluster.host, port: cluster.port, database: 'production', username: cluster.user, sslMode: 'prefer' });
      expect(secrets).toBeInstanceOf(Buffer);
      expect(secrets!.includes(Buffer.from(cluster.password))).toBe(false);
      const opened = openStoredSecrets(env, name, stored!);
      expect(Object.keys(opened)).toEqual(['password']);
      expect(opened.password === cluster.password).toBe(true);
    }
    const pooled = await storedResource(cluster, 'postgres-pooled');
    expect(pooled?.config).toMatchObject({ maxConnections: 100, minConnections: 10 });
    const plain = await storedResource(cluster, 'postgres-production');
    expect(plain?.config).not.toHaveProperty('maxConnections');
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await stateList()).toEqual([]);
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(cluster)).toEqual([]);
  });
});
