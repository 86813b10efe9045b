/**
 * Revocation and the reaper under a non-superuser admin with CREATEROLE and
 * pg_signal_backend, as on managed PostgreSQL. REASSIGN/DROP OWNED need the privileges of
 * the role they act on, which such an admin lacks (before 16 it is no member of the roles it
 * creates; from 16 on its membership has ADMIN OPTION but not INHERIT): credentials whose
 * member created a table are still ended and dropped, the table going to the privilege-less
 * `adaptive_revoked` (never to the admin), which the admin may act as only within the
 * handover; a drop that fails leaves the admin's memberships exactly as they were;
 * preflight names what a second admin needs before it can revoke credentials it did not
 * create; a re-issue removes attributes added by hand, or refuses when it may not.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { accessRoleName, dropAccessRole, ensureManagedRole, syncAccessRole } from '../../../src/runtime/access/access-role';
import { issueCredentials, listManagedRoles, type IssuedCredential } from '../../../src/runtime/access/credentials';
import { REVOKED_OWNER_ROLE } from '../../../src/runtime/pg/roles';
import { reapOnce } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/pg/sql';
import { preflight } from '../../../src/runtime/connections/preflight';
import type { TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, targetDbFor, type TestLogin } from '../../fixtures/target-db';
import { untilServerPasses } from '../service-fixture';

const ENDPOINT = 'builders';
const ACCESS_ROLE = accessRoleName(ENDPOINT);

/** A connected member session, and when the server ended it. */
interface Session {
  readonly client: Client;
  readonly ended: Promise<void>;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let provisioner: TestLogin;
  let target: TargetDb;
  /** The superuser, in the target database. */
  let su: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    provisioner = await createLoginRole(cluster, 'provisioner', { createRole: true, memberOf: ['pg_signal_backend'] });
    const bootstrap = new Client(cluster.clientConfig());
    await bootstrap.connect();
    try {
      await bootstrap.query('create database appdb owner provisioner');
      await bootstrap.query('create database otherdb owner provisioner');
    } finally {
      await bootstrap.end();
    }
    target = targetDbFor(cluster, 'appdb', provisioner);
    su = new Client(cluster.clientConfig('appdb'));
    await su.connect();

    await ensureManagedRole(target);
    // A schema the admin owns, where the endpoint's members may create tables, in the
    // target database and in another one.
    const app = await provisioner.connect('appdb');
    try {
      await app.query('create schema work; create table work.items (id int)');
    } finally {
      await app.end();
    }
    await syncAccessRole(target, { endpoint: ENDPOINT, permissions: { grants: ['SELECT'], schemas: ['work'], tables: ['*'] } });
    for (const db of ['appdb', 'otherdb']) {
      const c = await provisioner.connect(db);
      try {
        await c.query(`create schema if not exists work; grant usage, create on schema work to ${ident(ACCESS_ROLE)}`);
      } finally {
        await c.end();
      }
    }
  });
  afterAll(async () => {
    await su?.end();
    await target?.close();
    await cluster?.stop();
  });

  function request(member: string, ttlSeconds = 3600) {
    return { member, endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds };
  }

  async function connectAs(cred: IssuedCredential, database = 'appdb'): Promise<Session> {
    const client = new Client({ ...cluster.clientConfig(database), user: cred.roleName, password: cred.password });
    const ended = new Promise<void>((resolve) => {
      client.on('error', () => resolve());
      client.on('end', () => resolve());
    });
    await client.connect();
    return { client, ended };
  }

  async function roleExists(name: string): Promise<boolean> {
    return (await su.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1;
  }

  async function ownerOf(table: string, database = 'appdb'): Promise<string | undefined> {
    const c = database === 'appdb' ? su : new Client(cluster.clientConfig(database));
    if (c !== su) await c.connect();
    try {
      const { rows } = await c.query<{ owner: string }>("select tableowner as owner from pg_tables where schemaname = 'work' and tablename = $1", [table]);
      return rows[0]?.owner;
    } finally {
      if (c !== su) await c.end();
    }
  }

  /** The admin's membership rows in `role`, all options included, whatever the major. */
  async function adminMemberships(role: string): Promise<unknown[]> {
    const { rows } = await su.query<{ row: unknown }>(
      `select (to_jsonb(m) - 'oid' - 'roleid' - 'member' - 'grantor') || jsonb_build_object('grantor', pg_get_userbyid(m.grantor)) as row
         from pg_auth_members m
        where m.roleid = (select oid from pg_roles where rolname = $1) and m.member = 'provisioner'::regrole
        order by pg_get_userbyid(m.grantor)`,
      [role],
    );
    return rows.map((r) => r.row);
  }

  /** Every membership the admin holds, by role name (to prove none is left over). */
  async function allAdminMemberships(): Promise<string[]> {
    const { rows } = await su.query<{ role: string }>(
      `select pg_get_userbyid(roleid) as role from pg_auth_members where member = 'provisioner'::regrole order by 1`,
    );
    return rows.map((r) => r.role);
  }

  it('preflight finds nothing missing for this admin', async () => {
    const report = await preflight(target, { manageRoles: ['adaptive_managed', ACCESS_ROLE] });
    expect(report).toMatchObject({ user: 'provisioner', superuser: false, createRole: true, canSignalBackends: true, missing: [] });
  });

  it('revokeCredentials ends the sessions, reassigns the tables the role created here and elsewhere to adaptive_revoked, and drops it', async () => {
    const membershipsBefore = await allAdminMemberships();
    const [cred] = await issueCredentials(target, [request('maker@example.com')]);
    const here = await connectAs(cred!);
    const there = await connectAs(cred!, 'otherdb');
    await here.client.query('create table work.made_here (id int); insert into work.made_here values (1)');
    await there.client.query('create table work.made_there (id int)');

    const result = await revokeCredentials(target, [cred!.roleName], 'removed from group');
    expect(result).toEqual({ revoked: [cred!.roleName], failed: [], skipped: [] });
    await Promise.all([here.ended, there.ended]);
    expect(await roleExists(cred!.roleName)).toBe(false);
    expect(await ownerOf('made_here')).toBe(REVOKED_OWNER_ROLE);
    expect(await ownerOf('made_there', 'otherdb')).toBe(REVOKED_OWNER_ROLE);
    expect((await su.query('select id from work.made_here')).rows).toEqual([{ id: 1 }]);
    expect(await allAdminMemberships()).toEqual(membershipsBefore);
    // The admin acted as adaptive_revoked only inside the handover's transaction.
    expect(await adminMemberships(REVOKED_OWNER_ROLE)).toEqual(
      binaries.major >= 16 ? [expect.objectContaining({ admin_option: true, inherit_option: false, set_option: false }) as unknown] : [],
    );
    expect((await su.query(`select pg_has_role('provisioner', $1, 'USAGE') as usage`, [REVOKED_OWNER_ROLE])).rows).toEqual([{ usage: false }]);
  });

  it('a drop that fails leaves the role disabled, still owning its table here, and the admin’s memberships as they were; the reaper finishes later', async () => {
    const [cred] = await issueCredentials(target, [request('blocked@example.com')]);
    const role = cred!.roleName;
    if (binaries.major >= 16) {
      // A membership the admin granted itself without INHERIT before: revocation turns
      // INHERIT on for its own work and must turn it off again.
      const self = await provisioner.connect('appdb');
      try {
        await self.query(`grant ${ident(role)} to provisioner with inherit false`);
      } finally {
        await self.end();
      }
    }
    const membershipsBefore = await adminMemberships(role);
    const here = await connectAs(cred!);
    const there = await connectAs(cred!, 'otherdb');
    await here.client.query('create table work.kept_here (id int)');
    await there.client.query('create table work.moved_there (id int)');
    // A privilege granted to the role by someone else: DROP OWNED run by the admin cannot
    // revoke it, so DROP ROLE fails.
    await su.query('create table work.su_table (id int)');
    await su.query(`grant select on work.su_table to ${ident(role)}`);

    const result = await revokeCredentials(target, [role], 'removed from group');
    expect(result.revoked).toEqual([]);
    expect(result.failed).toEqual([{ role, error: expect.stringMatching(/disabled but not dropped.*privileges for table work\.su_table/) as unknown }]);
    await Promise.all([here.ended, there.ended]);
    const left = (await listManagedRoles(target)).find((r) => r.roleName === role);
    expect(left).toMatchObject({ canLogin: false, memberOf: [] });
    // The last transaction rolled back as a whole; the other database's cleanup committed,
    // its membership grant taken back in the same transaction.
    expect(await ownerOf('kept_here')).toBe(role);
    expect(await ownerOf('moved_there', 'otherdb')).toBe(REVOKED_OWNER_ROLE);
    expect(await adminMemberships(role)).toEqual(membershipsBefore);
    const { rows } = await su.query(`select pg_has_role('provisioner', $1, 'USAGE') as usage`, [role]);
    expect(rows).toEqual([{ usage: false }]);

    await su.query(`revoke select on work.su_table from ${ident(role)}`);
    const pass = await reapOnce(target, [role]);
    expect(pass).toMatchObject({ failed: [], skipped: [] });
    expect(pass.reaped.map((r) => r.role)).toEqual([role]);
    expect(await roleExists(role)).toBe(false);
    expect(await ownerOf('kept_here')).toBe(REVOKED_OWNER_ROLE);
  });

  it('reapOnce ends the session of an expired role that created a table, reassigns the table and drops the role', async () => {
    const [cred] = await issueCredentials(target, [request('expiring@example.com', 3)]);
    const session = await connectAs(cred!);
    await session.client.query('create table work.made_by_expiring (id int)');

    // Before its expiry by the server's clock the reaper leaves it; after, it reaps it.
    expect(await reapOnce(target, [cred!.roleName])).toMatchObject({ reaped: [], failed: [], skipped: [] });
    await untilServerPasses(cluster, cred!.validUntil);
    const pass = await reapOnce(target, [cred!.roleName]);
    expect(pass).toMatchObject({ failed: [], skipped: [] });
    expect(pass.reaped).toEqual([{ role: cred!.roleName, member: 'expiring@example.com', endpoint: ENDPOINT, expiredAt: cred!.validUntil, endedAt: expect.any(Date) as Date }]);
    await session.ended;
    expect(await roleExists(cred!.roleName)).toBe(false);
    expect(await ownerOf('made_by_expiring')).toBe(REVOKED_OWNER_ROLE);
  });

  it('a second admin is told what it needs to revoke credentials it did not create, and with that it can', async () => {
    const [cred] = await issueCredentials(target, [request('handover@example.com')]);
    const session = await connectAs(cred!);
    await session.client.query('create table work.made_before_handover (id int)');

    const successor = await createLoginRole(cluster, 'successor', { createRole: true, memberOf: ['pg_signal_backend'] });
    await su.query('grant create on schema work to successor');
    const second = targetDbFor(cluster, 'appdb', successor);
    try {
      const report = await preflight(second);
      if (binaries.major >= 16) {
        // PostgreSQL 16+: CREATEROLE manages only the roles it holds ADMIN OPTION on.
        // ... including adaptive_revoked, which it must act as to hand over what the
        // credential owns, granted so that it cannot use the role outside that.
        expect(report.missing.map((m) => m.fix)).toEqual([
          `GRANT "${REVOKED_OWNER_ROLE}" TO "successor" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;`,
          `GRANT ${ident(cred!.roleName)} TO "successor" WITH ADMIN OPTION;`,
        ]);
        expect(report.missing[1]?.what).toMatch(/could neither revoke nor reap/);
        for (const m of report.missing) await su.query(m.fix);
        expect((await preflight(second)).missing).toEqual([]);
      } else {
        // Before 16, CREATEROLE manages every role that is not a superuser.
        expect(report.missing).toEqual([]);
      }

      const result = await revokeCredentials(second, [cred!.roleName], 'admin handover');
      expect(result).toEqual({ revoked: [cred!.roleName], failed: [], skipped: [] });
      await session.ended;
      expect(await roleExists(cred!.roleName)).toBe(false);
      expect(await ownerOf('made_before_handover')).toBe(REVOKED_OWNER_ROLE);
    } finally {
      await second.close();
    }
  });

  it('preflight asks a NOINHERIT admin for INHERIT before PostgreSQL 16 only', async () => {
    const rigid = await createLoginRole(cluster, 'rigid_admin', { createRole: true, memberOf: ['pg_signal_backend'] });
    await su.query('alter role rigid_admin noinherit');
    const rigidTarget = targetDbFor(cluster, 'appdb', rigid);
    try {
      const report = await preflight(rigidTarget);
      if (binaries.major >= 16) {
        // Its grant to itself says WITH INHERIT TRUE, whatever the role's default; and its
        // pg_signal_backend membership kept the INHERIT it was granted with. What it lacks is
        // ADMIN OPTION on the role another admin created (as any second admin).
        expect(report.missing.map((m) => m.fix)).toEqual([`GRANT "${REVOKED_OWNER_ROLE}" TO "rigid_admin" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;`]);
      } else {
        // Before 16 NOINHERIT also withholds pg_signal_backend's privileges.
        expect(report.missing.map((m) => m.fix)).toEqual(['GRANT pg_signal_backend TO "rigid_admin";', 'ALTER ROLE "rigid_admin" INHERIT;']);
        expect(report.missing[1]?.what).toMatch(/NOINHERIT/);
      }
    } finally {
      await rigidTarget.close();
    }
  });

  it('a member’s SECURITY DEFINER function goes to adaptive_revoked as SECURITY INVOKER, the admin holding no membership after', async () => {
    const membershipsBefore = await allAdminMemberships();
    const [cred] = await issueCredentials(target, [request('definer@example.com')]);
    const session = await connectAs(cred!);
    await session.client.query('create function work.who_defines() returns text language sql security definer as $$ select current_user::text $$');
    const result = await revokeCredentials(target, [cred!.roleName], 'removed from group');
    expect(result).toEqual({ revoked: [cred!.roleName], failed: [], skipped: [] });
    await session.ended;
    const { rows } = await su.query(`select pg_get_userbyid(proowner) as owner, prosecdef as definer from pg_proc where proname = 'who_defines'`);
    expect(rows).toEqual([{ owner: REVOKED_OWNER_ROLE, definer: false }]);
    expect(await allAdminMemberships()).toEqual(membershipsBefore);
  });

  it('re-issue by this admin removes CREATEROLE added by hand, and refuses (changing nothing) an attribute it may not remove', async () => {
    const [first] = await issueCredentials(target, [request('attributes@example.com')]);
    const role = cred(first);
    await su.query(`alter role ${ident(role)} createrole`);
    const [second] = await issueCredentials(target, [request('attributes@example.com')]);
    expect((await su.query('select rolcreaterole from pg_roles where rolname = $1', [role])).rows).toEqual([{ rolcreaterole: false }]);

    await su.query(`alter role ${ident(role)} replication`);
    const attempt = issueCredentials(target, [request('attributes@example.com')]);
    await expect(attempt).rejects.toThrow(
      new RegExp(`refusing to re-issue: role ${escape(ident(role))} holds REPLICATION, .*may not remove.*ALTER ROLE ${escape(ident(role))} NOREPLICATION;`),
    );
    // Nothing changed: the credential issued before still logs in, and still has REPLICATION.
    const session = await connectAs(second!);
    await session.client.end();
    expect((await su.query('select rolreplication from pg_roles where rolname = $1', [role])).rows).toEqual([{ rolreplication: true }]);
    await su.query(`alter role ${ident(role)} noreplication`);
    expect((await revokeCredentials(target, [role], 'test done')).revoked).toEqual([role]);

    function cred(c: IssuedCredential | undefined): string {
      return c!.roleName;
    }
    function escape(text: string): string {
      return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  });

  it('dropAccessRole still drops the endpoint’s access role once no credential is left', async () => {
    // Issued credentials carry metadata (on 16+ the marker's creator is a member too).
    expect((await listManagedRoles(target)).filter((r) => r.metadata !== null)).toEqual([]);
    const dropped = await dropAccessRole(target, ENDPOINT);
    expect(dropped).toMatchObject({ role: ACCESS_ROLE, dropped: true, revokedMembers: [] });
    expect(await roleExists(ACCESS_ROLE)).toBe(false);
  });
});
