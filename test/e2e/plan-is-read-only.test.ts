/**
 * `terraform plan` is read-only. Plans run on pull requests, often by people or pipelines
 * meant only to look: planning, refreshing, validating and importing must change nothing
 * on the targets or in the catalog, even when a grant has expired and the reaper has work
 * waiting. The expired grant is still reported (a warning in the plan), and the reaper's
 * work happens at the next `terraform apply` that changes something.
 *
 * The short-lived example with a grant that expires while the member keeps a session open:
 * the roles, their memberships and comments, the member's sessions and every catalog table
 * are snapshotted as text before and after each read-only command and must be identical.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident } from '../../src/runtime/pg/sql';
import {
  credentialList,
  exampleWorkspace,
  installAdaptiveProvider,
  loginAs,
  prepareCluster,
  printed,
  scratchDir,
  sql,
  type IssuedCredentialOutput,
} from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformResult, TerraformWorkspace } from '../fixtures/terraform';

const scratch = scratchDir('adaptive-plan-read-only-');
let mirrorDir: string;

beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

const MEMBER = 'oncall@company.com';
const ENDPOINT = 'short-lived-access';
/** Long enough for the member to log in after apply on a busy machine, short enough to wait for. */
const TTL = '15s';

/** Everything a read-only command must leave as it was, rendered as text. */
interface Snapshot {
  readonly roles: string[];
  readonly memberships: string[];
  readonly comments: string[];
  readonly memberSessions: string[];
  readonly catalog: Record<string, string[]>;
}

async function texts(cluster: LocalCluster, database: string, query: string, params: unknown[] = []): Promise<string[]> {
  return (await sql<{ row: string }>(cluster, database, query, params)).map((r) => r.row);
}

async function snapshot(cluster: LocalCluster, member: string): Promise<Snapshot> {
  const tables = await texts(cluster, 'adaptive_catalog', "select tablename::text as row from pg_catalog.pg_tables where schemaname = 'adaptive' order by 1");
  const catalog: Record<string, string[]> = {};
  for (const table of tables) {
    catalog[table] = await texts(cluster, 'adaptive_catalog', `select t::text as row from adaptive.${ident(table)} t order by 1`);
  }
  return {
    roles: await texts(cluster, 'postgres', 'select r::text as row from pg_catalog.pg_roles r order by r.rolname'),
    memberships: await texts(cluster, 'postgres', 'select m::text as row from pg_catalog.pg_auth_members m order by 1'),
    comments: await texts(
      cluster,
      'postgres',
      "select r.rolname::text || ': ' || coalesce(pg_catalog.shobj_description(r.oid, 'pg_authid'), '(none)') as row from pg_catalog.pg_roles r order by r.rolname",
    ),
    memberSessions: await texts(
      cluster,
      'postgres',
      `select (a.pid, a.usename, a.datname, a.client_addr, a.client_port, a.backend_start, a.backend_type)::text as row
         from pg_catalog.pg_stat_activity a where a.usename = $1 order by a.pid`,
      [member],
    ),
    catalog,
  };
}

/**
 * Waits until the role's VALID UNTIL has passed by the server's clock and the credential's
 * expiry by this process's (the provider's warning uses the latter).
 */
async function untilExpired(cluster: LocalCluster, credential: IssuedCredentialOutput): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await sql<{ past: boolean }>(
      cluster,
      'postgres',
      'select pg_catalog.clock_timestamp() > r.rolvaliduntil as past from pg_catalog.pg_roles r where r.rolname = $1',
      [credential.username],
    );
    if (row === undefined) throw new Error(`role ${credential.username} vanished before it expired`);
    if (row.past && Date.now() > Date.parse(credential.expires_at)) return;
    if (Date.now() > deadline) throw new Error(`role ${credential.username} did not expire by ${credential.expires_at}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let credential: IssuedCredentialOutput;
  let session: Client;
  let sessionEnded: Promise<void>;
  let before: Snapshot;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    ws = exampleWorkspace('short-lived', {
      mirrorDir,
      env,
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password, ttl: TTL },
    });
    await ws.init();
  });
  afterAll(async () => {
    await session?.end().catch(() => undefined);
    ws?.dispose();
    await cluster?.stop();
  });

  /** No changes, and the warning that names the expired grant. */
  function expectExpiryWarning(result: TerraformResult): void {
    const output = printed(result);
    expect(result.code, output).toBe(0);
    expect(output).toContain('No changes.');
    expect(output).toContain('Warning: 1 grant(s) of group "oncall" expired');
    expect(output).toContain(`- ${MEMBER} on ${ENDPOINT}: expired at ${credential.expires_at}`);
  }

  it('applies with a short ttl; the member logs in and keeps a session open past expiry', async () => {
    await ws.apply();
    const outputs = await ws.outputs();
    const credentials = credentialList(outputs.credentials?.value);
    expect(credentials.map((c) => [c.member, c.endpoint])).toEqual([[MEMBER, ENDPOINT]]);
    credential = credentials[0]!;
    session = await loginAs(credential);
    // A session the server ends reports an error (the FATAL, then the closed socket).
    sessionEnded = new Promise((resolve) => session.on('error', () => resolve()));
    await untilExpired(cluster, credential);
    await expect(loginAs(credential)).rejects.toThrow(/password authentication failed/);
    expect((await session.query('select 1 as one')).rows).toEqual([{ one: 1 }]);

    before = await snapshot(cluster, credential.username);
    expect(before.roles.some((r) => r.includes(credential.username))).toBe(true);
    expect(before.memberSessions).toHaveLength(1);
    expect(before.catalog.credentials?.filter((c) => c.includes(credential.username))).toHaveLength(1);
  });

  it('terraform plan warns of the expired grant and changes nothing on the target or in the catalog', async () => {
    expectExpiryWarning(await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']));
    expect(await snapshot(cluster, credential.username)).toEqual(before);
    expect((await session.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('terraform plan -refresh-only changes nothing', async () => {
    // Without -detailed-exitcode: Terraform answers 2 for a refresh-only plan of a
    // configuration with sensitive outputs even when it finds no differences.
    const result = await ws.run(['plan', '-refresh-only', '-no-color', '-input=false']);
    expect(result.code, printed(result)).toBe(0);
    expect(printed(result)).toContain('No changes.');
    expect(await snapshot(cluster, credential.username)).toEqual(before);
  });

  it('terraform validate and terraform import change nothing', async () => {
    await ws.ok(['validate', '-no-color']);
    await ws.ok(['state', 'rm', '-no-color', 'adaptive_group.oncall']);
    await ws.ok(['import', '-no-color', '-input=false', 'adaptive_group.oncall', 'oncall']);
    expect(await snapshot(cluster, credential.username)).toEqual(before);
    expect((await session.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('the next terraform apply that changes something reaps: session ended, role dropped, expiry recorded', async () => {
    // A change unrelated to the group: the reaper runs before the provider's first write.
    ws.write(
      'unrelated.tf',
      'resource "adaptive_authorization" "unrelated" {\n' +
        '  name          = "plan-read-only-unrelated"\n' +
        '  resource_type = "postgres"\n' +
        '  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })\n' +
        '}\n',
    );
    await ws.apply();
    await sessionEnded;
    const after = await snapshot(cluster, credential.username);
    expect(after.memberSessions).toEqual([]);
    expect(after.roles.some((r) => r.includes(credential.username))).toBe(false);
    const recorded = await sql<{ revoke_reason: string | null }>(
      cluster,
      'adaptive_catalog',
      'select revoke_reason from adaptive.credentials where role_name = $1',
      [credential.username],
    );
    expect(recorded).toEqual([{ revoke_reason: 'expired' }]);
    const events = await sql<{ event: string }>(cluster, 'adaptive_catalog', "select event from adaptive.audit_log where role_name = $1 and event = 'expire'", [
      credential.username,
    ]);
    expect(events).toHaveLength(1);
  });
});
