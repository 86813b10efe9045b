/**
 * Concurrency: twenty workers issuing, re-issuing, extending, revoking and reaping on one
 * target at once (overlapping roles included) finish without a single error — no "tuple
 * concurrently updated", no deadlock, no duplicate key — and leave exactly the managed
 * roles they say should exist.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { extendCredentials, issueCredentials, listManagedRoles, loginRoleName, type CredentialRequest } from '../../../src/runtime/access/credentials';
import { credentialLockName } from '../../../src/runtime/access/login-roles';
import { MANAGED_ROLE } from '../../../src/runtime/pg/roles';
import { LOCK_NAMESPACE, lockKey } from '../../../src/runtime/pg/locks';
import { reapOnce } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/pg/sql';
import type { TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { targetDbFor } from '../../fixtures/target-db';

const WORKERS = 20;
const ACCESS = ['conc_read', 'conc_write'] as const;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    const admin = new Client(cluster.clientConfig());
    await admin.connect();
    // The marker is left for issueCredentials to create, concurrently, from many workers.
    await admin.query(`
      create role ${ident(ACCESS[0])} nologin;
      create role ${ident(ACCESS[1])} nologin;
      create table conc_items (id int);
      grant select on conc_items to ${ident(ACCESS[0])};
      grant select, insert on conc_items to ${ident(ACCESS[1])};
      grant create on schema public to ${ident(ACCESS[1])};
    `);
    await admin.end();
  });
  afterAll(async () => {
    await target?.close();
    await cluster?.stop();
  });

  it('twenty concurrent workers issue, re-issue, extend, revoke and reap without errors', async () => {
    const request = (member: string, endpoint: string, accessRole: string): CredentialRequest => ({ member, endpoint, accessRole, ttlSeconds: 3600 });
    // Roles every worker touches: all re-issue the shared ones, all revoke the doomed ones.
    const shared = [0, 1, 2].map((k) => request(`shared-${k}@example.com`, 'shared-endpoint', ACCESS[k % 2]!));
    const doomed = [0, 1, 2].map((k) => request(`doomed-${k}@example.com`, 'doomed-endpoint', ACCESS[0]));
    const doomedNames = doomed.map((r) => loginRoleName(r.member, r.endpoint));

    const worker = async (w: number): Promise<string[]> => {
      const own = [0, 1, 2, 3, 4].map((j) => request(`w${w}-m${j}@example.com`, `endpoint-${j % 2}`, ACCESS[j % 2]!));
      const [first, second] = [own.slice(0, 3), own.slice(3)];
      const issued = await issueCredentials(target, [...first, ...(w === 0 ? doomed : [])]);
      await issueCredentials(target, [...second, ...shared]);
      // A member of a revoked credential may still be logged in: revocation must end it.
      const holder = issued[0]!;
      const session = new Client({ ...cluster.clientConfig(), user: holder.roleName, password: holder.password });
      const ended = new Promise<void>((resolve) => {
        session.on('error', () => resolve());
        session.on('end', () => resolve());
      });
      await session.connect();

      const revoked = await revokeCredentials(target, [issued[0]!.roleName, issued[1]!.roleName, ...(w === 0 ? [] : doomedNames)], 'worker revoke');
      expect(revoked.failed).toEqual([]);
      await ended;

      const extended = await extendCredentials(target, [issued[2]!.roleName], new Date(issued[2]!.validUntil.getTime() + 3600_000));
      expect(extended.extended).toEqual([issued[2]!.roleName]);
      // The reaper looks at every role this worker and the others touch, while they work.
      const reaped = await reapOnce(target, [...own, ...shared, ...doomed].map((r) => loginRoleName(r.member, r.endpoint)));
      expect(reaped.failed).toEqual([]);
      // Re-issue one it keeps.
      await issueCredentials(target, [own[4]!]);
      return own.slice(2).map((r) => loginRoleName(r.member, r.endpoint));
    };

    const kept = await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    const expected = new Set([...kept.flat(), ...shared.map((r) => loginRoleName(r.member, r.endpoint))]);
    const managed = await listManagedRoles(target);
    expect(new Set(managed.map((r) => r.roleName))).toEqual(expected);
    expect(managed.every((r) => r.canLogin && r.memberOf.length === 1)).toBe(true);

    // Cross-check against the catalog directly, not only through our own listing.
    const { rows } = await target.pool.query<{ name: string }>(
      `select r.rolname as name from pg_roles r
        where r.oid in (select m.member from pg_auth_members m where m.roleid = (select oid from pg_roles where rolname = $1))`,
      [MANAGED_ROLE],
    );
    expect(new Set(rows.map((r) => r.name))).toEqual(expected);
    expect(expected.size).toBe(WORKERS * 3 + 3);
  });

  it('waits while the access role is locked exclusively (being synced or dropped), then issues', async () => {
    // What the access-role code holds while it changes or drops an access role.
    const holder = new Client(cluster.clientConfig());
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, lockKey(credentialLockName(ACCESS[0]))]);
      let settled = false;
      const issuing = issueCredentials(target, [{ member: 'waiter@example.com', endpoint: 'waiting', accessRole: ACCESS[0], ttlSeconds: 60 }]).finally(
        () => (settled = true),
      );
      // Until the server shows the issuing transaction waiting on that advisory lock (or,
      // were it not to wait, until it has finished).
      while (!settled) {
        const { rows } = await holder.query<{ n: number }>(
          `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and not granted and classid::bigint = $1 and objid::bigint = ($2::bigint & 4294967295)`,
          [LOCK_NAMESPACE, lockKey(credentialLockName(ACCESS[0]))],
        );
        if (rows[0]!.n > 0) break;
      }
      expect(settled).toBe(false);
      await holder.query('commit');
      const [cred] = await issuing;
      expect(cred!.roleName).toBe('waiter@example.com/waiting');
    } finally {
      await holder.end();
    }
  });
});
