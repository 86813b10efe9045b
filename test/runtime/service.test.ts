/**
 * The access service against real PostgreSQL: resources with their preflight, endpoints
 * and the grants of their access roles, authorization changes re-synced, groups issuing,
 * keeping and revoking credentials that really log in, a failure on a second target rolled
 * back on the first, and removal in (and out of) dependency order.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { accessRoleName } from '../../src/runtime/access/access-role';
import { loginRoleName } from '../../src/runtime/access/credentials';
import { ident } from '../../src/runtime/pg/sql';
import { CatalogError } from '../../src/runtime/catalog';
import { PreflightError } from '../../src/runtime/connections/preflight';
import { NotFoundError, pairKey, type MemberCredential, type PairKey } from '../../src/runtime/service';
import { ValidationError, type Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { createLoginRole } from '../fixtures/target-db';
import {
  APP_SCHEMA_SQL,
  connectAs,
  createDatabase,
  credentialRows,
  loginResult,
  managedLoginRoles,
  openService,
  queryResult,
  roleExists,
  roleNames,
  sorted,
  sql,
  targetConfig,
  untilServerPasses,
  type ServiceHandle,
} from './service-fixture';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const WRITE: Permissions = { grants: ['SELECT', 'INSERT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  /** Holds every catalog and the main target (superuser admin). */
  let main: LocalCluster;
  /** A target managed by non-superuser admins. */
  let other: LocalCluster;
  const handles: ServiceHandle[] = [];
  const clients: Client[] = [];
  let seq = 0;

  beforeAll(async () => {
    [main, other] = await Promise.all([startPostgres(binaries), startPostgres(binaries)]);
    await createDatabase(main, 'appdb');
    await sql(main, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await Promise.all([main?.stop(), other?.stop()]);
  });

  async function fresh(): Promise<ServiceHandle & { tag: string }> {
    const handle = await openService(main);
    handles.push(handle);
    return { ...handle, tag: `t${++seq}` };
  }

  async function session(credential: MemberCredential, password?: string | null): Promise<Client> {
    const client = await connectAs(credential, password);
    clients.push(client);
    return client;
  }

  /** A resource on the main target and the two authorizations. */
  async function basics(h: ServiceHandle): Promise<void> {
    await h.service.applyResource(targetConfig(main, 'main', 'appdb'));
    await h.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await h.service.applyAuthorization({ name: 'write', resourceType: 'postgresql', permissions: WRITE });
  }

  function endpoint(name: string, authorization: string, ttlSeconds = HOUR, resource = 'main') {
    return { name, type: 'direct' as const, ttlSeconds, resource, authorization };
  }

  function pairs(members: readonly string[], endpoints: readonly string[]): Set<PairKey> {
    return new Set(members.flatMap((m) => endpoints.map((e) => pairKey(m, e))));
  }

  // ---------------------------------------------------------------------------------------
  // 1. Resources

  it('applyResource with a superuser admin returns the preflight report, creates adaptive_managed and records the resource', async () => {
    expect(await roleExists(main, 'adaptive_managed')).toBe(false);
    const h = await fresh();
    const report = await h.service.applyResource(targetConfig(main, 'main', 'appdb'));
    expect(report).toMatchObject({ user: 'postgres', database: 'appdb', major: main.major, superuser: true, missing: [] });
    const marker = await sql(main, 'postgres', "select rolcanlogin, rolsuper from pg_roles where rolname = 'adaptive_managed'");
    expect(marker).toEqual([{ rolcanlogin: false, rolsuper: false }]);
    const record = await h.catalog.getResource('main');
    expect(record?.target).toMatchObject({ host: main.host, port: main.port, database: 'appdb', password: main.password });
    expect((await h.catalog.readAudit({ event: 'resource.create' })).map((e) => e.resource)).toEqual(['main']);
  });

  it('applyResource refuses an admin without CREATEROLE with the fix to run, and records nothing', async () => {
    const h = await fresh();
    const plain = await createLoginRole(other, 'plain_admin');
    const failure = await h.service.applyResource(targetConfig(other, 'other', 'postgres', plain)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PreflightError);
    const message = (failure as Error).message;
    expect(message).toContain('ALTER ROLE "plain_admin" CREATEROLE;');
    expect(message).toContain('GRANT pg_signal_backend TO "plain_admin";');
    expect(await h.catalog.getResource('other')).toBeUndefined();
    expect(await h.catalog.listResources()).toEqual([]);
    expect(await h.catalog.readAudit()).toEqual([]);
    expect(await roleExists(other, 'adaptive_managed')).toBe(false);
  });

  it('a CREATEROLE admin issues working credentials, revokes and reaps them though their members created tables; on PostgreSQL 16+ a second one is told to get ADMIN OPTION on the marker role', async () => {
    const h = await fresh();
    const admin = await createLoginRole(other, 'ops_admin', { createRole: true, memberOf: ['pg_signal_backend'] });
    await createDatabase(other, 'opsdb', 'ops_admin');
    const app = await admin.connect('opsdb');
    clients.push(app);
    await app.query(APP_SCHEMA_SQL);

    const report = await h.service.applyResource(targetConfig(other, 'ops', 'opsdb', admin));
    expect(report).toMatchObject({ user: 'ops_admin', superuser: false, createRole: true, missing: [] });
    expect(await roleExists(other, 'adaptive_managed')).toBe(true);
    await h.service.applyAuthorization({ name: 'write', resourceType: 'postgresql', permissions: WRITE });
    await h.service.applyEndpoint(endpoint('ops-write', 'write', HOUR, 'ops'));
    const result = await h.service.applyGroup({ name: 'ops', members: ['ana@example.com'], endpoints: ['ops-write'] }, new Set());
    const member = await session(result.issued[0]!);
    expect(await queryResult(member, "insert into app.items (name) values ('by ana')")).toBe('ok');
    expect(await queryResult(member, 'delete from app.items')).toBe('42501');

    // The marker role now belongs to ops_admin: on PostgreSQL 16+ another CREATEROLE admin
    // could not make members of it, and preflight says so instead of a failure at issue time.
    const second = await createLoginRole(other, 'ops_admin2', { createRole: true, memberOf: ['pg_signal_backend'] });
    const attempt = h.service.applyResource(targetConfig(other, 'ops2', 'opsdb', second));
    if (other.major >= 16) {
      await expect(attempt).rejects.toThrow('GRANT "adaptive_managed" TO "ops_admin2" WITH ADMIN OPTION;');
      await expect(attempt).rejects.toThrow('GRANT "adaptive_revoked" TO "ops_admin2" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;');
      expect(await h.catalog.getResource('ops2')).toBeUndefined();
    } else {
      await expect(attempt).resolves.toMatchObject({ missing: [] });
    }

    // The member creates a table (the admin lets the endpoint's role create in its schema):
    // removing the group still ends the session, hands the table to the privilege-less
    // adaptive_revoked (never to the admin), drops the role.
    await app.query(`grant create on schema app to ${ident(accessRoleName('ops-write'))}`);
    expect(await queryResult(member, 'create table app.ana_notes (id int)')).toBe('ok');
    const anaRole = result.issued[0]!.username;
    expect(await h.service.removeGroup('ops')).toEqual([anaRole]);
    expect(await queryResult(member, 'select 1')).not.toBe('ok');
    expect(await roleExists(other, anaRole)).toBe(false);
    expect(await sql(other, 'opsdb', "select tableowner from pg_tables where tablename = 'ana_notes'")).toEqual([{ tableowner: 'adaptive_revoked' }]);

    // The same for the reaper, once a credential has expired (by the servers' clocks: a short ttl).
    await h.service.applyEndpoint(endpoint('ops-brief', 'write', 3, 'ops'));
    await app.query(`grant create on schema app to ${ident(accessRoleName('ops-brief'))}`);
    const late = await h.service.applyGroup({ name: 'ops-late', members: ['bo@example.com'], endpoints: ['ops-brief'] }, new Set());
    const bo = await session(late.issued[0]!);
    expect(await queryResult(bo, 'create table app.bo_notes (id int)')).toBe('ok');
    // The catalog's clock decides which targets a cheap pass visits, the target's what it reaps.
    await untilServerPasses(main, late.issued[0]!.expiresAt);
    await untilServerPasses(other, late.issued[0]!.expiresAt);
    const pass = await h.service.reap({ onlyRecorded: true });
    expect(pass.errors).toEqual([]);
    expect(pass.results.flatMap((r) => r.failed)).toEqual([]);
    expect(pass.results.flatMap((r) => r.reaped.map((x) => x.role))).toEqual([late.issued[0]!.username]);
    expect(await queryResult(bo, 'select 1')).not.toBe('ok');
    expect(await roleExists(other, late.issued[0]!.username)).toBe(false);
    expect(await sql(other, 'opsdb', "select tableowner from pg_tables where tablename = 'bo_notes'")).toEqual([{ tableowner: 'adaptive_revoked' }]);
  });

  // ---------------------------------------------------------------------------------------
  // 2. Authorizations and endpoints

  it('applyEndpoint naming a missing authorization or resource, or with a bad ttl, fails clearly and changes nothing', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-ep`;
    const rolesBefore = await roleNames(main);
    const auditBefore = await h.catalog.readAudit();

    const noAuth = await h.service.applyEndpoint(endpoint(ep, 'no-such-authorization')).catch((err: unknown) => err);
    // The error says which kind of record and which name; callers word the fix in their own terms.
    expect(noAuth).toBeInstanceOf(NotFoundError);
    expect(noAuth).toMatchObject({ kind: 'authorization', entity: 'no-such-authorization', message: 'authorization "no-such-authorization" is not in the catalog' });
    const noResource = await h.service.applyEndpoint(endpoint(ep, 'read', HOUR, 'no-such-resource')).catch((err: unknown) => err);
    expect(noResource).toBeInstanceOf(NotFoundError);
    expect(noResource).toMatchObject({ kind: 'resource', entity: 'no-such-resource', message: 'resource "no-such-resource" is not in the catalog' });
    const badTtl = await h.service.applyEndpoint(endpoint(ep, 'read', 0)).catch((err: unknown) => err);
    expect(badTtl).toBeInstanceOf(ValidationError);
    expect((badTtl as ValidationError).issues.map((i) => i.field)).toEqual(['ttl']);

    expect(await roleNames(main)).toEqual(rolesBefore);
    expect(await h.catalog.listEndpoints()).toEqual([]);
    expect(await h.catalog.readAudit()).toEqual(auditBefore);
  });

  it('an endpoint’s access role holds the authorization’s grants, and changing the authorization re-syncs it', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-write`;
    const applied = await h.service.applyEndpoint(endpoint(ep, 'write'));
    expect(applied.record).toMatchObject({ name: ep, resource: 'main', authorization: 'write', ttlSeconds: HOUR, accessRole: accessRoleName(ep) });
    const privileges = async (): Promise<Record<string, unknown>> =>
      (
        await sql(
          main,
          'appdb',
          `select has_table_privilege($1, 'app.items', 'SELECT') as sel, has_table_privilege($1, 'app.items', 'INSERT') as ins,
                  has_table_privilege($1, 'app.items', 'UPDATE') as upd, has_table_privilege($1, 'app.secrets', 'SELECT') as secrets`,
          [accessRoleName(ep)],
        )
      )[0]!;
    expect(await privileges()).toEqual({ sel: true, ins: true, upd: false, secrets: false });
    expect((await h.service.inspectEndpoint(ep))?.drift).toEqual([]);

    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [ep] }, new Set());
    const member = await session(issued[0]!);
    expect(await queryResult(member, "insert into app.items (name) values ('x')")).toBe('ok');

    const changed = await h.service.applyAuthorization({ name: 'write', resourceType: 'postgresql', permissions: READ });
    expect(changed.resynced).toEqual([ep]);
    expect(changed.record.permissions).toEqual(READ);
    expect(await privileges()).toEqual({ sel: true, ins: false, upd: false, secrets: false });
    // The open session of the member is refused at once: grants are checked on every statement.
    expect(await queryResult(member, "insert into app.items (name) values ('y')")).toBe('42501');
    expect(await queryResult(member, 'select * from app.items')).toBe('ok');
    const inspection = await h.service.inspectEndpoint(ep);
    expect(inspection).toMatchObject({ desired: READ, drift: [] });

    // The same permissions again: nothing to re-sync.
    expect((await h.service.applyAuthorization({ name: 'write', resourceType: 'postgresql', permissions: READ })).resynced).toEqual([]);
  });

  it('an authorization change one endpoint cannot take is undone on the endpoints already re-synced, and not recorded', async () => {
    const h = await fresh();
    await basics(h);
    const twinDb = `${h.tag}_twin`;
    await createDatabase(main, twinDb);
    await sql(main, twinDb, APP_SCHEMA_SQL);
    await sql(main, 'appdb', 'create table if not exists app.extra (id int)');
    await h.service.applyResource(targetConfig(main, 'twin', twinDb));
    // Re-synced in name order: the one on appdb first, then the one whose database lacks app.extra.
    const [first, second] = [`${h.tag}-a`, `${h.tag}-b`];
    await h.service.applyEndpoint(endpoint(first, 'read'));
    await h.service.applyEndpoint(endpoint(second, 'read', HOUR, 'twin'));

    const wider: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['extra', 'items'] };
    const failure = await h.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: wider }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toContain(`endpoint "${second}"`);
    expect((failure as Error).message).toContain('extra');

    const has = async (table: string): Promise<unknown> =>
      (await sql<{ ok: boolean }>(main, 'appdb', `select has_table_privilege($1, $2, 'SELECT') as ok`, [accessRoleName(first), table]))[0]?.ok;
    expect(await has('app.extra')).toBe(false);
    expect(await has('app.items')).toBe(true);
    expect((await h.catalog.getAuthorization('read'))?.permissions).toEqual(READ);
    expect((await h.service.inspectEndpoint(first))?.drift).toEqual([]);
    expect((await h.service.inspectEndpoint(second))?.drift).toEqual([]);
  });

  it('moving an endpoint to another resource revokes its credentials on the old one and drops the old access role', async () => {
    const h = await fresh();
    await basics(h);
    const otherDb = `${h.tag}_moved`;
    await createDatabase(other, otherDb);
    await sql(other, otherDb, APP_SCHEMA_SQL);
    await h.service.applyResource(targetConfig(other, 'elsewhere', otherDb));
    const ep = `${h.tag}-mv`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    const spec = { name: 'movers', members: ['ana@example.com'], endpoints: [ep] };
    const before = await h.service.applyGroup(spec, new Set());
    const open = await session(before.issued[0]!);

    const moved = await h.service.applyEndpoint(endpoint(ep, 'read', HOUR, 'elsewhere'));
    expect(moved.record).toMatchObject({ resource: 'elsewhere', accessRole: accessRoleName(ep) });
    expect(await roleExists(main, before.issued[0]!.username)).toBe(false);
    expect(await roleExists(main, accessRoleName(ep))).toBe(false);
    expect(await roleExists(other, accessRoleName(ep))).toBe(true);
    expect(await queryResult(open, 'select 1')).not.toBe('ok');
    expect(await h.catalog.liveCredentials()).toEqual([]);
    expect((await credentialRows(main, h.db)).map((r) => r.revoke_reason)).toEqual(['endpoint moved']);

    // Holding the old credential: told it is gone; not holding it: issued on the new target.
    const told = await h.service.applyGroup(spec, pairs(spec.members, [ep]));
    expect(told.issued).toEqual([]);
    expect(told.warnings).toEqual([{ kind: 'credential lost', message: expect.stringContaining('ana@example.com on ' + ep + ' has no live credential') as string }]);
    const after = await h.service.applyGroup(spec, new Set());
    expect(after.issued[0]).toMatchObject({ host: other.host, port: other.port, database: otherDb });
    const member = await session(after.issued[0]!);
    expect(await queryResult(member, 'select * from app.items')).toBe('ok');
  });

  it('moving an endpoint whose old access role cannot be dropped still moves it, and warns (kind "endpoint moved")', async () => {
    const h = await fresh();
    await basics(h);
    const otherDb = `${h.tag}_moved`;
    await createDatabase(other, otherDb);
    await sql(other, otherDb, APP_SCHEMA_SQL);
    await h.service.applyResource(targetConfig(other, 'elsewhere', otherDb));
    const ep = `${h.tag}-stuck`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    // Someone rewrote the role's comment: it no longer says adaptive-access made it, so it is left alone.
    await sql(main, 'appdb', `comment on role ${ident(accessRoleName(ep))} is 'mine now'`);

    const moved = await h.service.applyEndpoint(endpoint(ep, 'read', HOUR, 'elsewhere'));
    expect(moved.record).toMatchObject({ resource: 'elsewhere' });
    expect(await roleExists(other, accessRoleName(ep))).toBe(true);
    expect(await roleExists(main, accessRoleName(ep))).toBe(true);
    expect(moved.warnings).toEqual([
      {
        kind: 'endpoint moved',
        message: expect.stringMatching(new RegExp(`^endpoint "${ep}" moved: its access role on main could not be dropped: .*was not created by adaptive-access`)) as string,
      },
    ]);
    await sql(main, 'appdb', `drop owned by ${ident(accessRoleName(ep))}; drop role ${ident(accessRoleName(ep))}`);
  });

  // ---------------------------------------------------------------------------------------
  // 3. Groups

  it('applyGroup issues members x endpoints credentials that log in and can do exactly what is authorized, and keeps, adds and revokes precisely', async () => {
    const h = await fresh();
    await basics(h);
    const read = `${h.tag}-read`;
    const write = `${h.tag}-write`;
    await h.service.applyEndpoint(endpoint(read, 'read'));
    await h.service.applyEndpoint(endpoint(write, 'write'));
    const [ana, bo, cy] = ['ana@example.com', 'bo@example.com', 'cy@example.com'];
    const passwords = new Map<string, string>();
    const remember = (cs: readonly MemberCredential[]): void => cs.forEach((c) => passwords.set(c.username, c.password!));

    const before = Date.now();
    const first = await h.service.applyGroup({ name: 'team', members: [ana, bo], endpoints: [read, write] }, new Set());
    expect(first.kept).toEqual([]);
    expect(first.revoked).toEqual([]);
    expect(first.warnings).toEqual([]);
    expect(sorted(first.issued.map((c) => c.username))).toEqual(sorted([ana, bo].flatMap((m) => [read, write].map((e) => loginRoleName(m, e)))));
    remember(first.issued);
    for (const c of first.issued) {
      expect(c).toMatchObject({ host: main.host, port: main.port, database: 'appdb', sslmode: 'disable' });
      expect(c.password).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(c.expiresAt.getTime()).toBeGreaterThanOrEqual(before + HOUR * 1000);
      expect(c.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + HOUR * 1000);
      const client = await session(c);
      expect(await queryResult(client, 'select * from app.items')).toBe('ok');
      expect(await queryResult(client, "insert into app.items (name) values ('by member')")).toBe(c.endpoint === write ? 'ok' : '42501');
      expect(await queryResult(client, "update app.items set name = 'changed'")).toBe('42501');
      expect(await queryResult(client, 'select * from app.secrets')).toBe('42501');
      await client.end();
    }
    const live = await h.catalog.liveCredentials({ group: 'team' });
    expect(sorted(live.map((c) => c.roleName))).toEqual(sorted(first.issued.map((c) => c.username)));
    expect((await h.catalog.readAudit({ event: 'grant', group: 'team' })).length).toBe(4);
    expect(await h.catalog.getGroup('team')).toMatchObject({ members: [ana, bo], endpoints: [read, write] });

    // Again with what the caller holds: nothing issued, nothing revoked, passwords unchanged.
    const again = await h.service.applyGroup({ name: 'team', members: [ana, bo], endpoints: [read, write] }, pairs([ana, bo], [read, write]));
    expect(again.issued).toEqual([]);
    expect(again.revoked).toEqual([]);
    expect(again.kept).toHaveLength(4);
    expect(again.kept.every((c) => c.password === null)).toBe(true);
    for (const c of again.kept) expect(await loginResult(c, passwords.get(c.username))).toBe('ok');
    expect((await h.catalog.readAudit({ event: 'grant', group: 'team' })).length).toBe(4);

    // A member joins: only their credentials are issued.
    const joined = await h.service.applyGroup({ name: 'team', members: [ana, bo, cy], endpoints: [read, write] }, pairs([ana, bo], [read, write]));
    expect(sorted(joined.issued.map((c) => c.username))).toEqual(sorted([loginRoleName(cy, read), loginRoleName(cy, write)]));
    expect(joined.revoked).toEqual([]);
    expect(joined.kept).toHaveLength(4);
    remember(joined.issued);
    for (const c of joined.issued) expect(await loginResult(c)).toBe('ok');

    // A member leaves, with a session open: only theirs are revoked, and the session ends.
    const boWrite = first.issued.find((c) => c.member === bo && c.endpoint === write)!;
    const boSession = await session(boWrite);
    expect(await queryResult(boSession, 'select 1')).toBe('ok');
    const left = await h.service.applyGroup({ name: 'team', members: [ana, cy], endpoints: [read, write] }, pairs([ana, bo, cy], [read, write]));
    expect(sorted(left.revoked)).toEqual(sorted([loginRoleName(bo, read), loginRoleName(bo, write)]));
    expect(left.issued).toEqual([]);
    expect(left.kept).toHaveLength(4);
    expect(await queryResult(boSession, 'select 1')).not.toBe('ok');
    expect(await loginResult(boWrite, passwords.get(boWrite.username))).toBe('28P01');
    expect(await roleExists(main, boWrite.username)).toBe(false);
    for (const c of left.kept) expect(await loginResult(c, passwords.get(c.username))).toBe('ok');
    const rows = await credentialRows(main, h.db);
    expect(rows.filter((r) => r.member === bo).map((r) => r.revoke_reason)).toEqual(['member removed', 'member removed']);
    expect(rows.filter((r) => r.member !== bo).every((r) => r.revoked_at === null)).toBe(true);
    const revokes = await h.catalog.readAudit({ event: 'revoke', group: 'team' });
    expect(sorted(revokes.map((e) => e.roleName))).toEqual(sorted(left.revoked));
    expect(revokes.every((e) => e.member === bo && e.detail.reason === 'member removed')).toBe(true);

    // An endpoint leaves the group: its credentials go, with that reason.
    const narrowed = await h.service.applyGroup({ name: 'team', members: [ana, cy], endpoints: [write] }, pairs([ana, cy], [read, write]));
    expect(sorted(narrowed.revoked)).toEqual(sorted([loginRoleName(ana, read), loginRoleName(cy, read)]));
    expect((await credentialRows(main, h.db)).filter((r) => r.endpoint === read && r.member !== bo).map((r) => r.revoke_reason)).toEqual([
      'endpoint removed',
      'endpoint removed',
    ]);
    expect(sorted((await h.catalog.liveCredentials({ group: 'team' })).map((c) => c.roleName))).toEqual(
      sorted([loginRoleName(ana, write), loginRoleName(cy, write)]),
    );
  });

  it('applyGroup re-issues a pair the caller does not hold, replacing the recorded credential', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-read`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    const spec = { name: 'g', members: ['ana@example.com'], endpoints: [ep] };
    const first = await h.service.applyGroup(spec, new Set());
    const renewed = await h.service.applyGroup(spec, new Set());
    expect(renewed.issued.map((c) => c.username)).toEqual([first.issued[0]!.username]);
    expect(await loginResult(renewed.issued[0]!)).toBe('ok');
    expect(await loginResult(first.issued[0]!)).toBe('28P01');
    const rows = await credentialRows(main, h.db);
    expect(rows.map((r) => r.revoke_reason)).toEqual(['replaced', null]);
  });

  it('inspectGroup reports a credential whose role was given attributes by hand as missing, naming them; applying again re-issues it without them', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-read`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    const spec = { name: `${h.tag}-g`, members: ['eve@example.com', 'fay@example.com'], endpoints: [ep] };
    const first = await h.service.applyGroup(spec, new Set());
    const eve = first.issued.find((c) => c.member === 'eve@example.com')!;
    await sql(main, 'postgres', `alter role ${ident(eve.username)} createdb createrole`);

    const seen = await h.service.inspectGroup(spec.name);
    expect(seen!.live.map((c) => c.member)).toEqual(['fay@example.com']);
    expect(seen!.missing.map((c) => [c.member, c.reason])).toEqual([['eve@example.com', expect.stringMatching(/CREATEDB, CREATEROLE/) as unknown]]);

    // CREATEROLE marks an admin: the replaced credential is not revoked (nor anything issued)
    // until someone who can tell removes it; the error says how.
    await expect(h.service.applyGroup(spec, pairs(['fay@example.com'], [ep]))).rejects.toThrow(/CREATEROLE.*NOCREATEROLE/);
    expect((await sql(main, 'postgres', 'select rolcreaterole from pg_roles where rolname = $1', [eve.username]))).toEqual([{ rolcreaterole: true }]);
    await sql(main, 'postgres', `alter role ${ident(eve.username)} nocreaterole`);

    const again = await h.service.applyGroup(spec, pairs(['fay@example.com'], [ep]));
    expect(again.issued.map((c) => c.member)).toEqual(['eve@example.com']);
    const attributes = await sql(main, 'postgres', 'select rolcreatedb, rolcreaterole from pg_roles where rolname = $1', [eve.username]);
    expect(attributes).toEqual([{ rolcreatedb: false, rolcreaterole: false }]);
    expect((await h.service.inspectGroup(spec.name))!.missing).toEqual([]);
    expect(await loginResult(again.issued[0]!)).toBe('ok');
  });

  it('a resource’s revoked_objects is kept in the catalog and decides what becomes of a revoked member’s objects', async () => {
    const h = await fresh();
    await h.service.applyResource({ ...targetConfig(main, 'main', 'appdb'), revokedObjects: 'drop' });
    expect((await h.catalog.getResource('main'))?.target.revokedObjects).toBe('drop');
    await h.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    const ep = `${h.tag}-read`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    await sql(main, 'appdb', `grant create on schema app to ${ident(accessRoleName(ep))}`);
    const spec = { name: `${h.tag}-g`, members: ['gil@example.com'], endpoints: [ep] };
    const table = `${h.tag}_gil_notes`;

    const dropped = await h.service.applyGroup(spec, new Set());
    expect(await queryResult(await session(dropped.issued[0]!), `create table app.${table} (id int)`)).toBe('ok');
    await h.service.removeGroup(spec.name);
    expect(await sql(main, 'appdb', 'select tableowner from pg_tables where tablename = $1', [table])).toEqual([]);

    // Back to the default: the next member's table is kept, owned by adaptive_revoked.
    await h.service.applyResource(targetConfig(main, 'main', 'appdb'));
    expect((await h.catalog.getResource('main'))?.target.revokedObjects).toBeUndefined();
    const kept = await h.service.applyGroup(spec, new Set());
    expect(await queryResult(await session(kept.issued[0]!), `create table app.${table} (id int)`)).toBe('ok');
    await h.service.removeGroup(spec.name);
    expect(await sql(main, 'appdb', 'select tableowner from pg_tables where tablename = $1', [table])).toEqual([{ tableowner: 'adaptive_revoked' }]);
  });

  it('applyEndpoint gives a live credential back a membership it lost, on PostgreSQL 16+ without SET', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-read`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    const result = await h.service.applyGroup({ name: `${h.tag}-g`, members: ['hal@example.com'], endpoints: [ep] }, new Set());
    const login = result.issued[0]!.username;
    await sql(main, 'appdb', `revoke ${ident(accessRoleName(ep))} from ${ident(login)}`);
    expect(await queryResult(await session(result.issued[0]!), 'select * from app.items')).toBe('42501');

    await h.service.applyEndpoint(endpoint(ep, 'read'));
    expect(await queryResult(await session(result.issued[0]!), 'select * from app.items')).toBe('ok');
    if (main.major >= 16) {
      const rows = await sql(
        main,
        'appdb',
        `select inherit_option, set_option from pg_auth_members where roleid = $1::regrole and member = $2::regrole`,
        [ident(accessRoleName(ep)), ident(login)],
      );
      expect(rows).toEqual([{ inherit_option: true, set_option: false }]);
    }
  });

  it('a member already given an endpoint by another group is refused without touching the other group’s credential', async () => {
    const h = await fresh();
    await basics(h);
    const ep = `${h.tag}-read`;
    await h.service.applyEndpoint(endpoint(ep, 'read'));
    const mine = await h.service.applyGroup({ name: 'first', members: ['ana@example.com'], endpoints: [ep] }, new Set());
    const attempt = h.service.applyGroup({ name: 'second', members: ['ana@example.com', 'bo@example.com'], endpoints: [ep] }, new Set());
    await expect(attempt).rejects.toThrow(/member "ana@example\.com" already has endpoint "t\d+-read" through group "first"/);
    expect(await loginResult(mine.issued[0]!)).toBe('ok');
    expect(await roleExists(main, loginRoleName('bo@example.com', ep))).toBe(false);
    expect((await h.catalog.liveCredentials()).map((c) => c.group)).toEqual(['first']);
    expect(await h.catalog.getGroup('second')).toBeUndefined();
  });

  it('a group spanning two targets whose second target is down issues nothing on the first, and the catalog agrees', async () => {
    const h = await fresh();
    await basics(h);
    const spare = await startPostgres(binaries);
    try {
      await createDatabase(spare, 'appdb');
      await sql(spare, 'appdb', APP_SCHEMA_SQL);
      await h.service.applyResource(targetConfig(spare, 'spare', 'appdb'));
      const here = `${h.tag}-here`;
      const there = `${h.tag}-there`;
      await h.service.applyEndpoint(endpoint(here, 'read'));
      await h.service.applyEndpoint(endpoint(there, 'read', HOUR, 'spare'));
      const managedBefore = await managedLoginRoles(main);
      await spare.stop();

      const failure = await h.service
        .applyGroup({ name: 'wide', members: ['ana@example.com', 'bo@example.com'], endpoints: [here, there] }, new Set())
        .catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/spare|refused|connect/i);
      expect(await managedLoginRoles(main)).toEqual(managedBefore);
      expect(await roleExists(main, loginRoleName('ana@example.com', here))).toBe(false);
      expect(await h.catalog.liveCredentials()).toEqual([]);
      expect(await h.catalog.getGroup('wide')).toBeUndefined();
      expect(await h.service.inspectGroup('wide')).toBeNull();
      // Whatever was recorded on the way was recorded as rolled back.
      const rows = await credentialRows(main, h.db);
      expect(rows.every((r) => r.revoke_reason === 'rolled back')).toBe(true);
      // The first target was issued (and recorded) before the second failed, then undone.
      const grants = await h.catalog.readAudit({ event: 'grant' });
      const revokes = await h.catalog.readAudit({ event: 'revoke' });
      expect(sorted(grants.map((e) => e.roleName))).toEqual(sorted([loginRoleName('ana@example.com', here), loginRoleName('bo@example.com', here)]));
      expect(sorted(revokes.map((e) => e.roleName))).toEqual(sorted(grants.map((e) => e.roleName)));
      expect(revokes.every((e) => e.detail.reason === 'rolled back' && e.group === 'wide')).toBe(true);
    } finally {
      await spare.stop();
    }
  });

  // ---------------------------------------------------------------------------------------
  // 7. Removal

  it('removing group, endpoint, authorization and resource in dependency order leaves nothing behind; out of order is refused and changes nothing', async () => {
    const h = await fresh();
    await basics(h);
    const read = `${h.tag}-read`;
    const write = `${h.tag}-write`;
    await h.service.applyEndpoint(endpoint(read, 'read'));
    await h.service.applyEndpoint(endpoint(write, 'write'));
    const members = ['ana@example.com', 'bo@example.com'];
    const { issued } = await h.service.applyGroup({ name: 'team', members, endpoints: [read, write] }, new Set());
    const roles = issued.map((c) => c.username);

    const refusal = async (p: Promise<unknown>): Promise<CatalogError> => {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogError);
      expect((err as CatalogError).code).toBe('referenced');
      return err as CatalogError;
    };
    expect((await refusal(h.service.removeResource('main'))).message).toBe(
      `cannot delete resource "main": it is still used by endpoints "${read}", "${write}"; delete or move those endpoints first`,
    );
    expect((await refusal(h.service.removeAuthorization('read'))).message).toBe(
      `cannot delete authorization "read": it is still used by endpoint "${read}"; delete those endpoints or give them another authorization first`,
    );
    expect((await refusal(h.service.removeEndpoint(read))).message).toMatch(
      new RegExp(`^cannot delete endpoint "${read}": it is still used by group "team"`),
    );
    // Refused before anything was revoked or dropped.
    for (const c of issued) expect(await loginResult(c)).toBe('ok');
    expect(await roleExists(main, accessRoleName(read))).toBe(true);
    expect((await h.catalog.liveCredentials()).length).toBe(4);

    expect(sorted(await h.service.removeGroup('team'))).toEqual(sorted(roles));
    await h.service.removeEndpoint(read);
    await h.service.removeEndpoint(write);
    await h.service.removeAuthorization('read');
    await h.service.removeAuthorization('write');
    await h.service.removeResource('main');

    for (const role of roles) expect(await roleExists(main, role)).toBe(false);
    expect((await managedLoginRoles(main)).filter((r) => r.includes(h.tag))).toEqual([]);
    expect(await roleExists(main, accessRoleName(read))).toBe(false);
    expect(await roleExists(main, accessRoleName(write))).toBe(false);
    expect(await h.catalog.listGroups()).toEqual([]);
    expect(await h.catalog.listEndpoints()).toEqual([]);
    expect(await h.catalog.listAuthorizations()).toEqual([]);
    expect(await h.catalog.listResources()).toEqual([]);
    expect(await h.catalog.liveCredentials()).toEqual([]);
    expect((await credentialRows(main, h.db)).map((r) => r.revoke_reason)).toEqual(Array(4).fill('group destroyed'));
    // Removing what is gone is fine (a retried destroy).
    await h.service.removeGroup('team');
    await h.service.removeEndpoint(read);
  });
});
