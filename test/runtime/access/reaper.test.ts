/**
 * Revocation and the reaper against real PostgreSQL: open sessions end, roles that own
 * objects in several databases are still dropped, a failed drop leaves the role disabled
 * and retried, roles outside `adaptive_managed` (or without our comment, or superusers) are
 * never touched, and the reaper judges expiry by the server's clock and looks only at the
 * roles it is told were issued. (The watcher, `reap --watch`, is tested in test/cli.)
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { MANAGED_BY, issueCredentials, listManagedRoles, type IssuedCredential } from '../../../src/runtime/access/credentials';
import { MANAGED_ROLE, REVOKED_OWNER_ROLE } from '../../../src/runtime/pg/roles';
import { msUntilNextExpiry, reapOnce } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident, literal } from '../../../src/runtime/pg/sql';
import type { TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { targetDbFor } from '../../fixtures/target-db';
import { serverClock, untilServerPasses } from '../service-fixture';

const READER = 'reaper_reader';
const WRITER = 'reaper_writer';

/** A connected member session, and the moment the server ended it ('error' or 'end'). */
interface Session {
  readonly client: Client;
  readonly ended: Promise<number>;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;
  let admin: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
    await admin.query(`
      create role ${ident(MANAGED_ROLE)} nologin;
      create role ${ident(READER)} nologin;
      create role ${ident(WRITER)} nologin;
      create table shared_data (id int primary key);
      grant select on all tables in schema public to ${ident(READER)}, ${ident(WRITER)};
      grant create on schema public to ${ident(WRITER)};
    `);
    await admin.query('create database otherdb');
    await admin.query('create database lockeddb');
    for (const db of ['otherdb', 'lockeddb']) {
      const c = await target.connect(db);
      await c.query(`grant create on schema public to ${ident(WRITER)}; create table admin_table (id int)`);
      await c.end();
    }
  });
  afterAll(async () => {
    await admin?.end();
    await target?.close();
    await cluster?.stop();
  });

  async function connectAs(cred: IssuedCredential, database = 'postgres'): Promise<Session> {
    const client = new Client({ ...cluster.clientConfig(database), user: cred.roleName, password: cred.password });
    const ended = new Promise<number>((resolve) => {
      client.on('error', () => resolve(Date.now()));
      client.on('end', () => resolve(Date.now()));
    });
    await client.connect();
    return { client, ended };
  }

  async function canLogIn(user: string, password: string): Promise<boolean> {
    const client = new Client({ ...cluster.clientConfig(), user, password });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === '28P01') return false;
      throw err;
    }
  }

  async function roleExists(name: string): Promise<boolean> {
    const { rowCount } = await admin.query('select 1 from pg_roles where rolname = $1', [name]);
    return rowCount === 1;
  }

  async function ownerOf(table: string, database = 'postgres'): Promise<string | undefined> {
    const c = database === 'postgres' ? admin : await target.connect(database);
    try {
      const { rows } = await c.query<{ owner: string }>('select tableowner as owner from pg_tables where tablename = $1', [table]);
      return rows[0]?.owner;
    } finally {
      if (c !== admin) await c.end();
    }
  }

  function writer(member: string, ttlSeconds: number) {
    return { member, endpoint: 'writer', accessRole: WRITER, ttlSeconds };
  }

  describe('revokeCredentials', () => {
    it('refuses roles that are not members of adaptive_managed, members without our comment, and superusers, and leaves them untouched', async () => {
      // The superuser carries our comment, so that it is refused for being a superuser.
      await admin.query(`
        create role managed_plain login valid until '2000-01-01' in role ${ident(MANAGED_ROLE)};
        create role bystander login password 'bystander-pw' in role ${ident(READER)};
        comment on role bystander is 'a human';
        create table bystander_table (id int);
        alter table bystander_table owner to bystander;
        create role managed_super superuser nologin valid until '2000-01-01' in role ${ident(MANAGED_ROLE)};
        comment on role managed_super is ${literal(JSON.stringify({ managed_by: MANAGED_BY, kind: 'credential', member: 'su@example.com', endpoint: 'writer' }))};
      `);
      const session = new Client({ ...cluster.clientConfig(), user: 'bystander', password: 'bystander-pw' });
      await session.connect();
      try {
        const result = await revokeCredentials(target, ['bystander', 'managed_plain', 'managed_super', 'postgres'], 'test');
        expect(result.revoked).toEqual([]);
        expect(Object.fromEntries(result.failed.map((f) => [f.role, f.error]))).toEqual({
          bystander: expect.stringMatching(/^refused: not a member of adaptive_managed/) as unknown,
          managed_plain: expect.stringMatching(/^refused: no credential comment of adaptive-access/) as unknown,
          managed_super: expect.stringMatching(/^refused: role is a superuser/) as unknown,
          postgres: expect.stringMatching(/^refused/) as unknown,
        });
        // Untouched: session alive, login, membership, comment, ownership, expiry.
        expect((await session.query<{ ok: number }>('select 1 as ok')).rows[0]!.ok).toBe(1);
        const { rows } = await admin.query(
          `select rolcanlogin, rolvaliduntil, pg_has_role(oid, $2, 'member') as reader, shobj_description(oid, 'pg_authid') as comment
             from pg_roles where rolname = $1`,
          ['bystander', READER],
        );
        expect(rows[0]).toEqual({ rolcanlogin: true, rolvaliduntil: null, reader: true, comment: 'a human' });
        expect(await ownerOf('bystander_table')).toBe('bystander');
        expect(await canLogIn('bystander', 'bystander-pw')).toBe(true);
        expect(await roleExists('managed_super')).toBe(true);
        // The reaper refuses them all even when told they were issued and they have "expired".
        await admin.query(`alter role bystander valid until '2000-01-01'`);
        const reaped = await reapOnce(target, ['bystander', 'managed_plain', 'managed_super']);
        expect(reaped.reaped).toEqual([]);
        expect(Object.fromEntries(reaped.failed.map((f) => [f.role, f.error]))).toEqual({
          bystander: expect.stringMatching(/^refused: not a member of adaptive_managed/) as unknown,
          managed_plain: expect.stringMatching(/^refused: no credential comment of adaptive-access/) as unknown,
          managed_super: expect.stringMatching(/^refused: role is a superuser/) as unknown,
        });
        expect((await session.query<{ ok: number }>('select 1 as ok')).rows[0]!.ok).toBe(1);
        expect(await roleExists('bystander')).toBe(true);
        expect(await roleExists('managed_super')).toBe(true);
        const plain = await admin.query(`select rolcanlogin, pg_has_role(oid, $2, 'member') as managed from pg_roles where rolname = $1`, ['managed_plain', MANAGED_ROLE]);
        expect(plain.rows).toEqual([{ rolcanlogin: true, managed: true }]);
        expect(await canLogIn('bystander', 'bystander-pw')).toBe(false); // by its own (hand-set) expiry, not by the reaper
        const after = await admin.query(`select rolcanlogin, pg_has_role(oid, $2, 'member') as reader from pg_roles where rolname = $1`, ['bystander', READER]);
        expect(after.rows[0]).toEqual({ rolcanlogin: true, reader: true });
      } finally {
        await session.end();
        await admin.query('drop role managed_super; drop role managed_plain');
      }
    });

    it('ends open sessions and drops a role that owns objects in several databases', async () => {
      const [cred] = await issueCredentials(target, [writer('owner@example.com', 600)]);
      const here = await connectAs(cred!);
      const there = await connectAs(cred!, 'otherdb');
      await here.client.query('create table owned_here (id int); insert into owned_here values (1)');
      await there.client.query('create table owned_there (id int); grant select on owned_there to public');
      // A privilege granted *to* the role in the other database must not block the drop either.
      const other = await target.connect('otherdb');
      await other.query(`grant insert on admin_table to ${ident(cred!.roleName)}`);
      await other.end();

      const result = await revokeCredentials(target, [cred!.roleName, 'never-existed@example.com/writer'], 'removed from group');
      expect(result).toEqual({ revoked: [cred!.roleName, 'never-existed@example.com/writer'], failed: [], skipped: [] });
      await Promise.all([here.ended, there.ended]);
      expect(await roleExists(cred!.roleName)).toBe(false);
      expect(await ownerOf('owned_here')).toBe(REVOKED_OWNER_ROLE);
      expect(await ownerOf('owned_there', 'otherdb')).toBe(REVOKED_OWNER_ROLE);
      expect(await canLogIn(cred!.roleName, cred!.password)).toBe(false);
    });

    it('leaves a role it cannot drop disabled and stripped, and the reaper finishes it later', async () => {
      const [cred] = await issueCredentials(target, [writer('stuck@example.com', 600)]);
      const locked = await connectAs(cred!, 'lockeddb');
      await locked.client.query('create table owned_locked (id int)');
      await locked.client.end();
      await admin.query('alter database lockeddb allow_connections false');
      try {
        const before = await serverClock(cluster);
        const result = await revokeCredentials(target, [cred!.roleName], 'removed from group');
        expect(result.revoked).toEqual([]);
        expect(result.failed).toEqual([{ role: cred!.roleName, error: expect.stringMatching(/lockeddb.*does not allow connections/) as unknown }]);

        const roles = await listManagedRoles(target);
        const left = roles.find((r) => r.roleName === cred!.roleName);
        expect(left).toMatchObject({ canLogin: false, memberOf: [] });
        // Expired by the server's clock, at the moment of the revocation.
        expect(left!.validUntil!.getTime()).toBeLessThanOrEqual((await serverClock(cluster)).getTime());
        expect(left!.validUntil!.getTime()).toBeGreaterThanOrEqual(before.getTime());
        expect(left!.metadata).toMatchObject({ member: 'stuck@example.com', revoke_reason: 'removed from group' });
        expect(await canLogIn(cred!.roleName, cred!.password)).toBe(false);
      } finally {
        await admin.query('alter database lockeddb allow_connections true');
      }
      const pass = await reapOnce(target, [cred!.roleName]);
      expect(pass.reaped.map((r) => r.role)).toEqual([cred!.roleName]);
      expect(pass.reaped[0]).toMatchObject({ member: 'stuck@example.com', endpoint: 'writer' });
      expect(pass.failed).toEqual([]);
      expect(await roleExists(cred!.roleName)).toBe(false);
      expect(await ownerOf('owned_locked', 'lockeddb')).toBe(REVOKED_OWNER_ROLE);
    });
  });

  describe('reapOnce and msUntilNextExpiry', () => {
    /** `msUntilNextExpiry`, with the server's clock read just before and after it. */
    async function timedMsUntil(issued: readonly string[]): Promise<{ ms: number | null; before: number; after: number }> {
      const before = (await serverClock(cluster)).getTime();
      const ms = await msUntilNextExpiry(target, issued);
      const after = (await serverClock(cluster)).getTime();
      return { ms, before, after };
    }

    /** Whether `ms` is the time from the server's clock (within `timed`) to `at`. */
    function expectMsUntil(timed: { ms: number | null; before: number; after: number }, at: Date): void {
      expect(timed.ms).not.toBeNull();
      // Clocks read in ms are truncated from µs: 1 ms of slack on the side of the later read.
      expect(timed.ms!).toBeGreaterThan(at.getTime() - timed.after - 1);
      expect(timed.ms!).toBeLessThanOrEqual(at.getTime() - timed.before + 1);
    }

    it('reaps exactly the issued roles the server clock has expired, and reports how long until the next expiry', async () => {
      // The first lives long enough (5 s) for the checks made before its expiry, also on a loaded machine.
      const issued = await issueCredentials(target, [
        { member: 'r3@example.com', endpoint: 'reader', accessRole: READER, ttlSeconds: 5 },
        { member: 'r600@example.com', endpoint: 'reader', accessRole: READER, ttlSeconds: 600 },
        { member: 'r1200@example.com', endpoint: 'reader', accessRole: READER, ttlSeconds: 1200 },
      ]);
      const [r3, r600, r1200] = issued;
      // Issued the same way and expired as well, but not named as issued (nor is the expired
      // hand-made role): the reaper must not look at them.
      const [unnamed] = await issueCredentials(target, [{ member: 'unnamed@example.com', endpoint: 'reader', accessRole: READER, ttlSeconds: 1 }]);
      await admin.query(`create role "expired-human" login valid until '2001-01-01'`);
      const names = issued.map((c) => c.roleName);
      try {
        // VALID UNTIL on the server is what issuing returned.
        const { rows } = await admin.query<{ name: string; until: Date }>(
          'select rolname::text as name, rolvaliduntil as until from pg_roles where rolname = any($1) order by rolvaliduntil, rolname',
          [issued.map((c) => c.roleName)],
        );
        expect(rows.map((r) => [r.name, r.until.getTime()])).toEqual(issued.map((c) => [c.roleName, c.validUntil.getTime()]));
        expectMsUntil(await timedMsUntil(names), r3!.validUntil);

        // Nothing has expired yet by the server's clock.
        const early = await reapOnce(target, names);
        expect(early).toMatchObject({ target: target.name, reaped: [], failed: [], skipped: [] });
        expect(early.serverNow.getTime()).toBeLessThan(r3!.validUntil.getTime());

        await untilServerPasses(cluster, new Date(Math.max(r3!.validUntil.getTime(), unnamed!.validUntil.getTime())));
        // Expired but not yet reaped: the next expiry looks past it.
        expectMsUntil(await timedMsUntil(names), r600!.validUntil);

        const pass = await reapOnce(target, names);
        expect(pass).toMatchObject({ target: target.name, failed: [], skipped: [] });
        expect(pass.serverNow.getTime()).toBeGreaterThan(r3!.validUntil.getTime());
        expect(pass.reaped).toEqual([{ role: r3!.roleName, member: 'r3@example.com', endpoint: 'reader', expiredAt: r3!.validUntil, endedAt: expect.any(Date) as Date }]);
        // When its revocation was done, by the target's clock: after the scan, so after the expiry.
        expect(pass.reaped[0]!.endedAt.getTime()).toBeGreaterThanOrEqual(pass.serverNow.getTime());
        expect(await roleExists(r3!.roleName)).toBe(false);
        expect(await roleExists(r600!.roleName)).toBe(true);
        expect(await roleExists(r1200!.roleName)).toBe(true);
        expect(await roleExists('expired-human')).toBe(true);
        expect(await roleExists(unnamed!.roleName)).toBe(true);
        expectMsUntil(await timedMsUntil(names), r600!.validUntil);
        expect((await reapOnce(target, names)).reaped).toEqual([]);

        // An expiry moved into the past by hand is reaped at the next pass, whatever the ttl was.
        await admin.query(`alter role ${ident(r600!.roleName)} valid until '2001-01-01 00:00:00+00'`);
        const next = await reapOnce(target, names);
        expect(next.reaped).toEqual([
          { role: r600!.roleName, member: 'r600@example.com', endpoint: 'reader', expiredAt: new Date('2001-01-01T00:00:00Z'), endedAt: expect.any(Date) as Date },
        ]);
        expectMsUntil(await timedMsUntil(names), r1200!.validUntil);
        expect(await msUntilNextExpiry(target, [])).toBeNull();
        expect(await reapOnce(target, [])).toMatchObject({ reaped: [], failed: [], skipped: [] });
        expect(await roleExists(unnamed!.roleName)).toBe(true);
      } finally {
        await admin.query('drop role "expired-human"');
        await revokeCredentials(target, [...issued, unnamed!].map((c) => c.roleName), 'cleanup');
      }
      expect(await msUntilNextExpiry(target, names)).toBeNull();
    });
  });
});
