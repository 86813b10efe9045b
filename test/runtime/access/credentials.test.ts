/**
 * Time-limited credentials against real PostgreSQL: SCRAM verifiers identical to the
 * server's own, role names, issuing (one transaction, constant round trips), re-issue,
 * extension, listing, and expiry enforced by PostgreSQL without any reaper.
 */
import { Client, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import {
  MAX_ROLE_NAME_BYTES,
  extendCredentials,
  issueCredentials,
  listManagedRoles,
  loginRoleName,
  type CredentialRequest,
} from '../../../src/runtime/access/credentials';
import { MANAGED_ROLE } from '../../../src/runtime/pg/roles';
import { generatePassword, scramSha256Verifier, scramSha256VerifierAsync } from '../../../src/runtime/access/scram';
import { ident, literal } from '../../../src/runtime/pg/sql';
import type { TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { targetDbFor } from '../../fixtures/target-db';
import { serverClock, untilServerPasses } from '../service-fixture';

const READ_ONLY = 'endpoint_read_only';

describe('scramSha256Verifier (no server)', () => {
  it('has PostgreSQL’s format with the requested iterations and salt', () => {
    const salt = Buffer.alloc(16, 7);
    const verifier = scramSha256Verifier('secret', { iterations: 4096, salt });
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(verifier.split('$')[1]).toBe(`4096:${salt.toString('base64')}`);
    expect(scramSha256Verifier('secret', { salt })).toBe(verifier);
    expect(scramSha256Verifier('secret')).not.toBe(scramSha256Verifier('secret'));
  });

  it('gives the same verifier synchronously and on the thread pool', async () => {
    const salt = Buffer.from('0123456789abcdef');
    expect(await scramSha256VerifierAsync('pässwörd', { salt, iterations: 1000 })).toBe(
      scramSha256Verifier('pässwörd', { salt, iterations: 1000 }),
    );
  });

  it('generates strong, URL-safe, distinct passwords', () => {
    const passwords = new Set(Array.from({ length: 1000 }, () => generatePassword()));
    expect(passwords.size).toBe(1000);
    for (const p of passwords) {
      expect(p.length).toBeGreaterThanOrEqual(32);
      expect(p).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeURIComponent(p)).toBe(p);
    }
  });
});

describe('loginRoleName (no server)', () => {
  it('is readable when the pair fits', () => {
    expect(loginRoleName('dev1@company.com', 'postgres-dev-access')).toBe('dev1@company.com/postgres-dev-access');
  });

  it('is deterministic and at most 63 bytes, also for long, non-ASCII and odd input', () => {
    const inputs: Array<[string, string]> = [
      ['a'.repeat(200) + '@example.com', 'endpoint'],
      ['dev@example.com', 'e'.repeat(300)],
      ['ü'.repeat(100) + '@exämple.com', 'zugriff-lesend'],
      ['pg_admin@example.com', 'ep'],
      ['we/ird@example.com', 'ep'],
      ['x@y', 'end~point'],
      ['"; drop role postgres; --', "it's"],
      ['😀'.repeat(40), '😀'.repeat(40)],
    ];
    for (const [member, endpoint] of inputs) {
      const name = loginRoleName(member, endpoint);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_ROLE_NAME_BYTES);
      expect(loginRoleName(member, endpoint)).toBe(name);
      expect(name.startsWith('pg_')).toBe(false);
    }
  });

  it('never lets the member/endpoint split be ambiguous', () => {
    expect(loginRoleName('a/b', 'c')).not.toBe(loginRoleName('a', 'b/c'));
    expect(loginRoleName('a b', 'c')).not.toBe(loginRoleName('a_b', 'c'));
    expect(loginRoleName('x@y', 'ep~0123456789abcdef')).not.toBe(loginRoleName('x@y', 'ep'));
  });

  it('has no collisions over 10,000 long, near-identical pairs', () => {
    const names = new Set<string>();
    let count = 0;
    for (let i = 0; i < 2500; i++) {
      const member = `first.middle.lastname.with.a.rather.long.name+tag${i}@subdivision.example-company.com`;
      for (const endpoint of [
        'postgres-production-read-only-access',
        'postgres-production-read-only-accesS',
        'postgres-production-read-only-access/eu',
        'postgres production read only access',
      ]) {
        const name = loginRoleName(member, endpoint);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_ROLE_NAME_BYTES);
        names.add(name);
        count++;
      }
    }
    expect(count).toBe(10_000);
    expect(names.size).toBe(10_000);
  });

  it('refuses empty parts', () => {
    expect(() => loginRoleName('', 'ep')).toThrow(/member/);
    expect(() => loginRoleName('a@b', '')).toThrow(/endpoint/);
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;
  let admin: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
    // Until the access-role code runs here, the marker and access roles are made by hand.
    await admin.query(`
      create role ${ident(MANAGED_ROLE)} nologin;
      create role ${ident(READ_ONLY)} nologin;
      create table items (id int primary key, name text);
      insert into items values (1, 'one'), (2, 'two');
      grant select on all tables in schema public to ${ident(READ_ONLY)};
    `);
  });
  afterAll(async () => {
    await admin?.end();
    await target?.close();
    await cluster?.stop();
  });

  function memberClient(roleName: string, password: string): Client {
    return new Client({ ...cluster.clientConfig(), user: roleName, password });
  }

  async function canLogIn(roleName: string, password: string): Promise<boolean> {
    const client = memberClient(roleName, password);
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === '28P01') return false;
      throw err;
    }
  }

  function request(member: string, ttlSeconds: number, extra: Partial<CredentialRequest> = {}): CredentialRequest {
    return { member, endpoint: 'postgres-read', accessRole: READ_ONLY, ttlSeconds, ...extra };
  }

  describe('SCRAM verifier', () => {
    it.each([
      ['a generated password', generatePassword()],
      ['ASCII with spaces and quotes', `correct horse 'battery' "staple"`],
      ['composed non-ASCII', 'pässwörd'],
      ['NFKC-mapped ligature and non-ASCII space', 'ﬁ\u00a0x'],
      ['soft hyphen (mapped to nothing)', 'a\u00adb'],
      ['ASCII control character (used raw)', 'bell\u0007'],
      ['prohibited C.2.2 character (used raw)', 'ﬁ\u0085'],
      ['right-to-left text', 'שלום'],
      ['mixed bidi (used raw)', 'ﬁש'],
      ['only a mapped-to-nothing character (used raw)', '\u00ad'],
    ])('is the verifier PostgreSQL computes itself: %s', async (_label, password) => {
      const role = `scram_probe_${Math.random().toString(36).slice(2)}`;
      // Test-only: the server hashes a clear-text password so we can compare.
      await admin.query(`set password_encryption = 'scram-sha-256'; create role ${ident(role)} password ${literal(password)}`);
      const { rows } = await admin.query<{ v: string }>('select rolpassword as v from pg_authid where rolname = $1', [role]);
      const stored = rows[0]!.v;
      const [, iterSalt] = stored.split('$');
      const [iterations, salt] = iterSalt!.split(':');
      expect(scramSha256Verifier(password, { iterations: Number(iterations), salt: Buffer.from(salt!, 'base64') })).toBe(stored);
      await admin.query(`drop role ${ident(role)}`);
    });

    it('lets node-postgres log in with the password of a role created from the verifier', async () => {
      const password = generatePassword();
      for (const iterations of [4096, 10_000]) {
        const role = `scram_login_${iterations}`;
        await admin.query(`create role ${ident(role)} login password ${literal(scramSha256Verifier(password, { iterations }))}`);
        const { rows } = await admin.query<{ v: string }>('select rolpassword as v from pg_authid where rolname = $1', [role]);
        expect(rows[0]!.v.startsWith(`SCRAM-SHA-256$${iterations}:`)).toBe(true);
        const client = memberClient(role, password);
        await client.connect();
        const who = await client.query<{ u: string }>('select current_user as u');
        expect(who.rows[0]!.u).toBe(role);
        await client.end();
        expect(await canLogIn(role, `${password}x`)).toBe(false);
      }
    });
  });

  describe('issueCredentials', () => {
    it('issues a credential that logs in, can SELECT and cannot INSERT', async () => {
      const [cred] = await issueCredentials(target, [request('reader@example.com', 3600, { group: 'analysts' })]);
      expect(cred).toMatchObject({ member: 'reader@example.com', endpoint: 'postgres-read', roleName: 'reader@example.com/postgres-read' });
      // An hour from the server's clock when it issued.
      const { validUntil, grantedAt } = cred!;
      expect(validUntil.getTime() - grantedAt.getTime()).toBe(3600_000);
      expect(grantedAt.getTime()).toBeLessThanOrEqual((await serverClock(cluster)).getTime());
      expect(cred!.password.length).toBeGreaterThanOrEqual(32);

      const client = memberClient(cred!.roleName, cred!.password);
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>('select name from items order by id');
        expect(rows.map((r) => r.name)).toEqual(['one', 'two']);
        await expect(client.query("insert into items values (3, 'three')")).rejects.toMatchObject({ code: '42501' });
      } finally {
        await client.end();
      }

      const { rows } = await admin.query<{ login: boolean; until: Date; comment: string; stored: string }>(
        `select rolcanlogin as login, rolvaliduntil as until, shobj_description(oid, 'pg_authid') as comment, rolpassword as stored
           from pg_authid where rolname = $1`,
        [cred!.roleName],
      );
      expect(rows[0]!.login).toBe(true);
      expect(rows[0]!.until.getTime()).toBe(validUntil.getTime());
      expect(rows[0]!.stored.startsWith('SCRAM-SHA-256$4096:')).toBe(true);
      const metadata = JSON.parse(rows[0]!.comment) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        managed_by: 'adaptive-access',
        member: 'reader@example.com',
        endpoint: 'postgres-read',
        group: 'analysts',
        granted_at: grantedAt.toISOString(),
        expires_at: validUntil.toISOString(),
      });
    });

    it('lets PostgreSQL itself refuse the password after VALID UNTIL, with no reaper running', async () => {
      const [cred] = await issueCredentials(target, [request('shortlived@example.com', 2)]);
      expect(await canLogIn(cred!.roleName, cred!.password)).toBe(true);
      await untilServerPasses(cluster, cred!.validUntil);
      expect(await canLogIn(cred!.roleName, cred!.password)).toBe(false);
      // Still there, with the expiry it was issued with: ending sessions and dropping the role is the reaper's job.
      const { rows } = await admin.query<{ until: Date }>('select rolvaliduntil as until from pg_roles where rolname = $1', [cred!.roleName]);
      expect(rows.map((r) => r.until.getTime())).toEqual([cred!.validUntil.getTime()]);
    });

    it('issues hundreds of credentials in one transaction, one script per hundred roles', async () => {
      const counted = new WeakSet<PoolClient>();
      let queries = 0;
      const onAcquire = (client: PoolClient): void => {
        if (counted.has(client)) return;
        counted.add(client);
        const original = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as { query: unknown }).query = (...args: unknown[]) => {
          queries++;
          return original(...args);
        };
      };
      target.pool.on('acquire', onAcquire);
      try {
        const until = 3600;
        queries = 0;
        const few = await issueCredentials(target, Array.from({ length: 3 }, (_, i) => request(`few-${i}@example.com`, until)));
        const forFew = queries;
        queries = 0;
        const many = await issueCredentials(target, Array.from({ length: 250 }, (_, i) => request(`many-${i}@example.com`, until)));
        const forMany = queries;
        expect(few).toHaveLength(3);
        expect(many).toHaveLength(250);
        // BEGIN, locks, marker role, its verification, role states, the server's clock, the script(s), COMMIT:
        // the roles' statements go in scripts of 100, each sent as soon as its verifiers are computed.
        expect(forFew).toBeLessThanOrEqual(8);
        expect(forMany).toBe(forFew + 2);

        // One transaction: every new pg_authid row carries the same xmin.
        const { rows } = await admin.query<{ xids: string; n: string }>(
          'select count(distinct xmin::text) as xids, count(*) as n from pg_authid where rolname = any($1)',
          [many.map((c) => c.roleName)],
        );
        expect(rows[0]).toEqual({ xids: '1', n: '250' });
        expect(new Set(many.map((c) => c.password)).size).toBe(250);
        // A sample of them logs in.
        for (const cred of [many[0]!, many[124]!, many[249]!]) expect(await canLogIn(cred.roleName, cred.password)).toBe(true);
      } finally {
        target.pool.off('acquire', onAcquire);
      }
    });

    it('applies nothing when any request fails', async () => {
      const until = 3600;
      const requests = [request('atomic-1@example.com', until), request('atomic-2@example.com', until, { accessRole: 'no_such_access_role' })];
      await expect(issueCredentials(target, requests)).rejects.toThrow(/no_such_access_role/);
      const { rowCount } = await admin.query('select 1 from pg_roles where rolname like $1', ['atomic-%']);
      expect(rowCount).toBe(0);
    });

    it('refuses bad input before touching the server', async () => {
      for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(issueCredentials(target, [request('bad-ttl@example.com', ttl)])).rejects.toThrow(/ttlSeconds must be a whole number of seconds, at least 1/);
      }
      await expect(issueCredentials(target, [request('dup@example.com', 60), request('dup@example.com', 90)])).rejects.toThrow(/same credential/);
      await expect(issueCredentials(target, [request('m@example.com', 60, { accessRole: MANAGED_ROLE })])).rejects.toThrow(/marker/);
      const { rowCount } = await admin.query('select 1 from pg_roles where rolname = any($1)', [
        ['bad-ttl', 'dup', 'm'].map((m) => loginRoleName(`${m}@example.com`, 'postgres-read')),
      ]);
      expect(rowCount).toBe(0);
      expect(await issueCredentials(target, [])).toEqual([]);
    });

    it('works with names that need quoting or a hash suffix', async () => {
      const member = `o'brien "the tester" ${'x'.repeat(80)}@example.com`;
      const [cred] = await issueCredentials(target, [request(member, 600, { endpoint: 'ro; drop table items' })]);
      expect(Buffer.byteLength(cred!.roleName)).toBeLessThanOrEqual(63);
      expect(await canLogIn(cred!.roleName, cred!.password)).toBe(true);
      const listed = (await listManagedRoles(target)).find((r) => r.roleName === cred!.roleName);
      expect(listed?.metadata?.member).toBe(member);
      expect(listed?.metadata?.endpoint).toBe('ro; drop table items');
    });

    it('re-issues an existing credential in place: new password and expiry, memberships reset', async () => {
      const first = (await issueCredentials(target, [request('again@example.com', 600)]))[0]!;
      // Drift by hand: an extra membership the credential must not keep.
      await admin.query(`grant pg_read_all_settings to ${ident(first.roleName)}`);
      const second = (await issueCredentials(target, [request('again@example.com', 7200, { group: 'renewed' })]))[0]!;
      expect(second.validUntil.getTime() - second.grantedAt.getTime()).toBe(7200_000);
      expect(second.grantedAt.getTime()).toBeGreaterThanOrEqual(first.grantedAt.getTime());
      expect(second.roleName).toBe(first.roleName);
      expect(second.password).not.toBe(first.password);
      expect(await canLogIn(first.roleName, first.password)).toBe(false);
      expect(await canLogIn(second.roleName, second.password)).toBe(true);
      const listed = (await listManagedRoles(target)).find((r) => r.roleName === first.roleName)!;
      expect(listed.memberOf).toEqual([READ_ONLY]);
      expect(listed.validUntil?.getTime()).toBe(second.validUntil.getTime());
      expect(listed.metadata?.group).toBe('renewed');
    });

    it('re-issue removes attributes added by hand, which listing shows until then', async () => {
      const first = (await issueCredentials(target, [request('elevated@example.com', 600)]))[0]!;
      const listed = async () => (await listManagedRoles(target)).find((r) => r.roleName === first.roleName)!;
      const before = (await listed()).elevated;
      await admin.query(`alter role ${ident(first.roleName)} createdb createrole bypassrls noinherit`);
      const drifted = (await listed()).elevated;

      const second = (await issueCredentials(target, [request('elevated@example.com', 1200)]))[0]!;
      const { rows } = await admin.query(
        'select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit from pg_roles where rolname = $1',
        [second.roleName],
      );
      expect(rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, rolinherit: true }]);
      expect(await canLogIn(second.roleName, second.password)).toBe(true);
      expect(before).toEqual([]);
      expect(drifted).toEqual(['CREATEDB', 'CREATEROLE', 'BYPASSRLS']);
      expect((await listed()).elevated).toEqual([]);
    });

    it('never takes over an existing role that is not managed', async () => {
      const name = loginRoleName('human@example.com', 'postgres-read');
      await admin.query(`create role ${ident(name)} login password 'hand-made'`);
      await expect(issueCredentials(target, [request('human@example.com', 600)])).rejects.toThrow(/exist but were not issued by adaptive-access/);
      const { rows } = await admin.query<{ until: Date | null; managed: boolean }>(
        `select rolvaliduntil as until, pg_has_role(oid, $2, 'member') as managed from pg_roles where rolname = $1`,
        [name, MANAGED_ROLE],
      );
      expect(rows[0]).toEqual({ until: null, managed: false });
      expect(await canLogIn(name, 'hand-made')).toBe(true);
    });
  });

  describe('extendCredentials and listManagedRoles', () => {
    it('extends live credentials and never revives expired or disabled ones', async () => {
      const [live, expiring, disabled] = await issueCredentials(target, [
        request('extend-live@example.com', 600),
        request('extend-expiring@example.com', 2),
        request('extend-disabled@example.com', 600),
      ]);
      await admin.query(`alter role ${ident(disabled!.roleName)} nologin`);
      await admin.query(`create role "not-managed-extend" login valid until 'infinity'`);
      await untilServerPasses(cluster, expiring!.validUntil);

      const later = new Date(live!.validUntil.getTime() + 7200_000);
      const result = await extendCredentials(target, [live!.roleName, expiring!.roleName, disabled!.roleName, 'not-managed-extend', 'nobody'], later);
      expect(result.extended).toEqual([live!.roleName]);
      expect(Object.fromEntries(result.skipped.map((s) => [s.role, s.reason]))).toEqual({
        [expiring!.roleName]: 'already expired',
        [disabled!.roleName]: 'login disabled (revoked)',
        'not-managed-extend': 'not a credential issued by adaptive-access',
        nobody: 'no such role',
      });

      const roles = new Map((await listManagedRoles(target)).map((r) => [r.roleName, r]));
      expect(roles.get(live!.roleName)?.validUntil?.getTime()).toBe(later.getTime());
      expect(roles.get(live!.roleName)?.metadata?.expires_at).toBe(later.toISOString());
      expect(roles.get(expiring!.roleName)?.validUntil?.getTime()).toBe(expiring!.validUntil.getTime());
      expect(roles.has('not-managed-extend')).toBe(false);
      expect(await canLogIn(live!.roleName, live!.password)).toBe(true);
      expect(await canLogIn(expiring!.roleName, expiring!.password)).toBe(false);
      // An expiry the server's clock has passed changes nothing (revoking is how to end a credential).
      const past = await extendCredentials(target, [live!.roleName], live!.grantedAt);
      expect(past).toEqual({ extended: [], skipped: [{ role: live!.roleName, reason: 'the new expiry has already passed; revoke instead' }] });
      expect((await listManagedRoles(target)).find((r) => r.roleName === live!.roleName)?.validUntil?.getTime()).toBe(later.getTime());
      expect(await canLogIn(live!.roleName, live!.password)).toBe(true);
      // Dropped so that later tests issue on a clean marker role: verifyManagedRole counts a
      // NOLOGIN member (this hand-disabled credential) as one adaptive-access did not add.
      await admin.query(`drop role ${ident(disabled!.roleName)}; drop role "not-managed-extend"`);
    });

    it('lists managed login roles with expiry, login state, memberships and metadata', async () => {
      const [cred] = await issueCredentials(target, [request('listed@example.com', 900, { group: 'g1', comment: 'on call' })]);
      const roles = await listManagedRoles(target);
      const listed = roles.find((r) => r.roleName === cred!.roleName);
      expect(listed).toEqual({
        roleName: cred!.roleName,
        canLogin: true,
        validUntil: cred!.validUntil,
        memberOf: [READ_ONLY],
        elevated: [],
        metadata: expect.objectContaining({ member: 'listed@example.com', endpoint: 'postgres-read', group: 'g1', comment: 'on call' }) as unknown,
      });
      // Only members of the marker: neither the admin, nor the access role, nor hand-made roles.
      const names = roles.map((r) => r.roleName);
      expect(names).not.toContain('postgres');
      expect(names).not.toContain(READ_ONLY);
      expect(names).not.toContain(MANAGED_ROLE);
    });
  });
});
