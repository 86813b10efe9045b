/**
 * Revocation and the reaper against real PostgreSQL: open sessions end, roles that own
 * objects in several databases are still dropped, a failed drop leaves the role disabled
 * and retried, roles outside `adaptive_managed` are never touched, and the watch loop wakes
 * at the expiry instant itself.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { MANAGED_ROLE, REVOKED_OWNER_ROLE, issueCredentials, listManagedRoles, type IssuedCredential } from '../../../src/runtime/access/credentials';
import { nextExpiry, reapOnce, watch, type ReaperEvent } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/access/sql';
import type { TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { targetDbFor } from '../../fixtures/target-db';

const READER = 'reaper_reader';
const WRITER = 'reaper_writer';

function inSeconds(seconds: number): Date {
  return new Date(Date.now() + seconds * 1000);
}

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

  function writer(member: string, validUntil: Date) {
    return { member, endpoint: 'writer', accessRole: WRITER, validUntil };
  }

  describe('revokeCredentials', () => {
    it('refuses roles that are not members of adaptive_managed, and leaves them untouched', async () => {
      await admin.query(`
        create role bystander login password 'bystander-pw' in role ${ident(READER)};
        comment on role bystander is 'a human';
        create table bystander_table (id int);
        alter table bystander_table owner to bystander;
        create role managed_super superuser nologin valid until '2000-01-01' in role ${ident(MANAGED_ROLE)};
      `);
      const session = new Client({ ...cluster.clientConfig(), user: 'bystander', password: 'bystander-pw' });
      await session.connect();
      try {
        const result = await revokeCredentials(target, ['bystander', 'managed_super', 'postgres'], 'test');
        expect(result.revoked).toEqual([]);
        expect(Object.fromEntries(result.failed.map((f) => [f.role, f.error]))).toEqual({
          bystander: expect.stringMatching(/^refused: not a member of adaptive_managed/) as unknown,
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
        // The reaper ignores the bystander even if it has "expired", and never drops the superuser.
        await admin.query(`alter role bystander valid until '2000-01-01'`);
        const reaped = await reapOnce(target);
        expect(reaped.reaped.map((r) => r.role)).not.toContain('bystander');
        expect(reaped.failed.map((f) => f.role)).toEqual(['managed_super']);
        expect(await roleExists('bystander')).toBe(true);
      } finally {
        await session.end();
        await admin.query('drop role managed_super');
      }
    });

    it('ends open sessions and drops a role that owns objects in several databases', async () => {
      const [cred] = await issueCredentials(target, [writer('owner@example.com', inSeconds(600))]);
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
      const [cred] = await issueCredentials(target, [writer('stuck@example.com', inSeconds(600))]);
      const locked = await connectAs(cred!, 'lockeddb');
      await locked.client.query('create table owned_locked (id int)');
      await locked.client.end();
      await admin.query('alter database lockeddb allow_connections false');
      try {
        const before = Date.now();
        const result = await revokeCredentials(target, [cred!.roleName], 'removed from group');
        expect(result.revoked).toEqual([]);
        expect(result.failed).toEqual([{ role: cred!.roleName, error: expect.stringMatching(/lockeddb.*does not allow connections/) as unknown }]);

        const roles = await listManagedRoles(target);
        const left = roles.find((r) => r.roleName === cred!.roleName);
        expect(left).toMatchObject({ canLogin: false, memberOf: [] });
        expect(left!.validUntil!.getTime()).toBeLessThanOrEqual(Date.now());
        expect(left!.validUntil!.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(left!.metadata).toMatchObject({ member: 'stuck@example.com', revoke_reason: 'removed from group' });
        expect(await canLogIn(cred!.roleName, cred!.password)).toBe(false);
      } finally {
        await admin.query('alter database lockeddb allow_connections true');
      }
      const pass = await reapOnce(target);
      expect(pass.reaped.map((r) => r.role)).toEqual([cred!.roleName]);
      expect(pass.reaped[0]).toMatchObject({ member: 'stuck@example.com', endpoint: 'writer' });
      expect(pass.failed).toEqual([]);
      expect(await roleExists(cred!.roleName)).toBe(false);
      expect(await ownerOf('owned_locked', 'lockeddb')).toBe(REVOKED_OWNER_ROLE);
    });
  });

  describe('reapOnce and nextExpiry', () => {
    it('reaps exactly the managed roles expired by `now`, and reports the next expiry', async () => {
      const base = Date.now();
      const at = (minutes: number): Date => new Date(base + minutes * 60_000);
      const issued = await issueCredentials(target, [
        { member: 'r10@example.com', endpoint: 'reader', accessRole: READER, validUntil: at(10) },
        { member: 'r20@example.com', endpoint: 'reader', accessRole: READER, validUntil: at(20) },
        { member: 'r30@example.com', endpoint: 'reader', accessRole: READER, validUntil: at(30) },
      ]);
      await admin.query(`create role "expired-human" login valid until '2001-01-01'`);
      try {
        expect(await nextExpiry(target)).toEqual(at(10));
        const pass = await reapOnce(target, at(15));
        expect(pass).toMatchObject({ target: target.name, failed: [], skipped: [] });
        expect(pass.reaped).toEqual([{ role: issued[0]!.roleName, member: 'r10@example.com', endpoint: 'reader', expiredAt: at(10) }]);
        expect(await nextExpiry(target)).toEqual(at(20));
        expect(await nextExpiry(target, at(25))).toEqual(at(30));
        expect(await roleExists('expired-human')).toBe(true);
        expect((await reapOnce(target, at(15))).reaped).toEqual([]);
      } finally {
        await admin.query('drop role "expired-human"');
        await revokeCredentials(target, issued.map((c) => c.roleName), 'cleanup');
      }
      expect(await nextExpiry(target)).toBeNull();
    });
  });

  describe('watch', () => {
    it('ends the session of an expired credential within 2 s of expiry and drops it, though it owned a table', async () => {
      const validUntil = inSeconds(2.5);
      const [cred] = await issueCredentials(target, [writer('expiring@example.com', validUntil)]);
      const session = await connectAs(cred!);
      await session.client.query('create table made_by_member (id int); insert into made_by_member values (42)');

      const events: ReaperEvent[] = [];
      const controller = new AbortController();
      let onReaped: () => void = () => undefined;
      const reaped = new Promise<void>((resolve) => (onReaped = resolve));
      const running = watch([target], {
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'reaped' && event.role === cred!.roleName) onReaped();
        },
      });
      try {
        const endedAt = await session.ended;
        expect(endedAt).toBeGreaterThanOrEqual(validUntil.getTime());
        expect(endedAt - validUntil.getTime()).toBeLessThanOrEqual(2000);
        await reaped;
      } finally {
        controller.abort();
        await running;
      }
      // It slept until the expiry instant, not for a fixed poll interval.
      expect(events.find((e) => e.type === 'sleeping')).toMatchObject({ until: validUntil, nextExpiry: validUntil });
      expect(events.find((e) => e.type === 'reaped')).toMatchObject({ target: target.name, role: cred!.roleName, member: 'expiring@example.com', expiredAt: validUntil });
      expect(events.filter((e) => e.type === 'failed' || e.type === 'error')).toEqual([]);
      expect(await roleExists(cred!.roleName)).toBe(false);
      expect(await ownerOf('made_by_member')).toBe(REVOKED_OWNER_ROLE);
      expect((await admin.query<{ id: number }>('select id from made_by_member')).rows).toEqual([{ id: 42 }]);
    });

    it('discovers roles issued while it sleeps, reports unreachable targets, and stops promptly', async () => {
      const broken = targetDbFor(cluster);
      await broken.close();
      const events: ReaperEvent[] = [];
      const controller = new AbortController();
      const waiters: Array<{ test: (e: ReaperEvent) => boolean; resolve: () => void }> = [];
      const waitFor = (test: (e: ReaperEvent) => boolean): Promise<void> =>
        new Promise((resolve) => {
          if (events.some(test)) resolve();
          else waiters.push({ test, resolve });
        });
      const running = watch([target, broken], {
        signal: controller.signal,
        maxSleepMs: 400,
        onEvent: (event) => {
          events.push(event);
          for (const w of waiters) if (w.test(event)) w.resolve();
        },
      });
      try {
        await waitFor((e) => e.type === 'sleeping');
        const first = events.find((e) => e.type === 'sleeping');
        expect(first).toMatchObject({ nextExpiry: null });
        expect(events.find((e) => e.type === 'error')).toMatchObject({ target: broken.name });

        const validUntil = inSeconds(1.5);
        const [cred] = await issueCredentials(target, [{ member: 'late@example.com', endpoint: 'reader', accessRole: READER, validUntil }]);
        await waitFor((e) => e.type === 'sleeping' && e.nextExpiry?.getTime() === validUntil.getTime());
        await waitFor((e) => e.type === 'reaped' && e.role === cred!.roleName);
        expect(await roleExists(cred!.roleName)).toBe(false);

        // Abort in the middle of a sleep: the loop ends without waiting for its timer.
        await waitFor((e) => e.type === 'sleeping' && e.at.getTime() > validUntil.getTime());
      } finally {
        const abortedAt = Date.now();
        controller.abort();
        await running;
        expect(Date.now() - abortedAt).toBeLessThan(200);
      }
    });
  });
});
