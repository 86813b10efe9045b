/**
 * A group of thousands of members on a server whose lock table is small: issuing and
 * revoking split into transactions that fit it (about two lock-table entries per role, see
 * `rolesPerTransaction`), every member's password works, an endpoint apply (a raised ttl)
 * reaches every role, destroy leaves nothing behind, and
 * a failure in a later batch leaves nothing half-applied: the batches already committed
 * are revoked again and recorded as rolled back.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { accessRoleName } from '../../src/runtime/access/access-role';
import { rolesPerTransaction } from '../../src/runtime/access/login-roles';
import type { MemberCredential } from '../../src/runtime/service';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, credentialRows, loginResult, managedLoginRoles, openService, sql, targetConfig, type ServiceHandle } from './service-fixture';

const MEMBERS = 2000;
/**
 * 10 x (20 + 0) = 200 lock-table entries: one transaction of 2,000 roles (about 4,000
 * entries) fails with "out of shared memory" here, as 10,000 roles do with the defaults
 * (the server has some room beyond the nominal size, so the test overshoots it by far).
 */
const SMALL_LOCK_TABLE = { max_connections: '20', max_locks_per_transaction: '10' };
/** A third of 200 entries, two per role. */
const PER_TRANSACTION = 33;

/** Whether `password` matches a stored SCRAM-SHA-256 verifier: the check the server makes at login. */
function verifierAccepts(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const salted = pbkdf2Sync(password, Buffer.from(match[2]!, 'base64'), Number(match[1]), 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
  return storedKey === match[3];
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries, { settings: SMALL_LOCK_TABLE });
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function groupSetUp(): Promise<{ h: ServiceHandle; endpoint: string; members: string[] }> {
    const n = ++seq;
    const h = await openService(cluster);
    handles.push(h);
    await h.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await h.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['app'], tables: ['items'] } });
    const endpoint = `bulk-${n}`;
    await h.service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds: 3600, resource: 'main', authorization: 'read' });
    return { h, endpoint, members: Array.from({ length: MEMBERS }, (_, i) => `m${i}.t${n}@example.com`) };
  }

  /** The stored verifier, VALID UNTIL and the access-role membership of each role. */
  async function rolesOnTarget(names: readonly string[], accessRole: string): Promise<Map<string, { verifier: string; inAccessRole: boolean; xmin: string }>> {
    const rows = await sql<{ name: string; verifier: string; in_access_role: boolean; xmin: string }>(
      cluster,
      'appdb',
      `select a.rolname::text as name, a.rolpassword as verifier, a.xmin::text as xmin,
              pg_has_role(a.oid, $2, 'USAGE') as in_access_role
         from pg_authid a where a.rolname = any($1) and a.rolcanlogin and a.rolvaliduntil > now()`,
      [names, accessRole],
    );
    return new Map(rows.map((r) => [r.name, { verifier: r.verifier, inAccessRole: r.in_access_role, xmin: r.xmin }]));
  }

  it('the server fits fewer roles per transaction than the group holds', async () => {
    const client = new Client(cluster.clientConfig('appdb'));
    await client.connect();
    try {
      expect(await rolesPerTransaction(client)).toBe(PER_TRANSACTION);
    } finally {
      await client.end();
    }
  });

  it(`issues ${MEMBERS} members' credentials in batches that fit the lock table; each password works; destroy leaves nothing`, async () => {
    const { h, endpoint, members } = await groupSetUp();
    const result = await h.service.applyGroup({ name: `bulk-${seq}`, members, endpoints: [endpoint] }, new Set());
    expect(result.issued).toHaveLength(MEMBERS);
    expect(new Set(result.issued.map((c) => c.username)).size).toBe(MEMBERS);

    const byName = new Map<string, MemberCredential>(result.issued.map((c) => [c.username, c]));
    const roles = await rolesOnTarget([...byName.keys()], accessRoleName(endpoint));
    expect(roles.size).toBe(MEMBERS);
    for (const [name, role] of roles) {
      expect(role.inAccessRole, name).toBe(true);
      expect(verifierAccepts(role.verifier, byName.get(name)!.password!), name).toBe(true);
    }
    // Several transactions (one pg_authid xmin each), none larger than the lock table allows.
    const perTransaction = new Map<string, number>();
    for (const role of roles.values()) perTransaction.set(role.xmin, (perTransaction.get(role.xmin) ?? 0) + 1);
    expect(perTransaction.size).toBe(Math.ceil(MEMBERS / PER_TRANSACTION));
    expect(Math.max(...perTransaction.values())).toBe(PER_TRANSACTION);
    // Logging in for real, first and last of the group.
    expect(await loginResult(result.issued[0]!)).toBe('ok');
    expect(await loginResult(result.issued[MEMBERS - 1]!)).toBe('ok');

    const recorded = await credentialRows(cluster, h.db);
    expect(recorded.filter((r) => r.revoked_at === null)).toHaveLength(MEMBERS);
    const grants = await sql<{ n: number }>(cluster, h.db, `select count(*)::int as n from adaptive.audit_log where event = 'grant'`);
    expect(grants[0]!.n).toBe(MEMBERS);

    // An endpoint apply touches every live role (memberships, session settings, and here a
    // raised ttl): in batches too.
    const raised = await h.service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds: 7200, resource: 'main', authorization: 'read' });
    expect(raised.extended).toHaveLength(MEMBERS);
    const later = await sql<{ n: number }>(cluster, 'appdb', `select count(*)::int as n from pg_roles where rolname = any($1) and rolvaliduntil > now() + interval '1 hour'`, [
      [...byName.keys()],
    ]);
    expect(later[0]!.n).toBe(MEMBERS);

    const revoked = await h.service.removeGroup(`bulk-${seq}`);
    expect(revoked).toHaveLength(MEMBERS);
    expect((await managedLoginRoles(cluster)).filter((r) => r.includes(`.t${seq}@`))).toEqual([]);
    expect((await rolesOnTarget([...byName.keys()], accessRoleName(endpoint))).size).toBe(0);
    const after = await credentialRows(cluster, h.db);
    expect(after.filter((r) => r.revoked_at === null)).toEqual([]);
    expect(after.filter((r) => r.revoke_reason === 'group destroyed')).toHaveLength(MEMBERS);
    // Two thousand server-side PBKDF2s each way take a minute on a loaded 2-core machine.
  }, 300_000);

  it('a failure in a later batch revokes the batches already committed: nothing is left half-applied', async () => {
    const { h, endpoint, members } = await groupSetUp();
    // The catalog refuses to record one member of the sixth batch: batches one to five are
    // committed and recorded, the sixth committed on the target but not recorded.
    const refused = members[5 * PER_TRANSACTION + 7]!;
    await sql(
      cluster,
      h.db,
      `create function adaptive.refuse_one() returns trigger language plpgsql as $$
         begin if new.member = '${refused}' then raise exception 'catalog refused %', new.member; end if; return new; end $$;
       create trigger refuse_one before insert on adaptive.credentials for each row execute function adaptive.refuse_one()`,
    );
    await expect(h.service.applyGroup({ name: `bulk-${seq}`, members, endpoints: [endpoint] }, new Set())).rejects.toThrow(/catalog refused/);

    expect((await managedLoginRoles(cluster)).filter((r) => r.includes(`.t${seq}@`))).toEqual([]);
    const recorded = await credentialRows(cluster, h.db);
    expect(recorded.filter((r) => r.revoked_at === null)).toEqual([]);
    expect(recorded).toHaveLength(5 * PER_TRANSACTION);
    expect(recorded.every((r) => r.revoke_reason === 'rolled back')).toBe(true);
    expect(await h.catalog.getGroup(`bulk-${seq}`)).toBeUndefined();
  });
});
