/**
 * Endpoint access roles against real PostgreSQL: what a member can and cannot do through
 * one, how re-syncs converge (grants revoked, default privileges removed), how read-back
 * reports drift, hostile names, concurrency, and drop.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import {
  AccessRoleInUseError,
  accessRoleName,
  dropAccessRole,
  ensureManagedRole,
  readAccessRole,
  syncAccessRole,
} from '../../../src/runtime/access/access-role';
import { MANAGED_ROLE } from '../../../src/runtime/pg/roles';
import { ident, qualified } from '../../../src/runtime/pg/sql';
import { ValidationError, type Permissions, type TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, sqlState, targetDbFor, type TestLogin } from '../../fixtures/target-db';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;
  let admin: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await target?.close();
    await cluster?.stop();
  });

  /** A member of the endpoint's access role, logged in. */
  async function memberOf(endpoint: string, user: string): Promise<{ login: TestLogin; client: Client }> {
    const login = await createLoginRole(cluster, user, { memberOf: [accessRoleName(endpoint)] });
    return { login, client: await login.connect() };
  }

  /** How many pg_default_acl rows grant something to `role`. */
  async function defaultAclEntriesFor(role: string): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(
      `select count(distinct d.oid) as n from pg_default_acl d, aclexplode(d.defaclacl) a
        where pg_get_userbyid(a.grantee) = $1`,
      [role],
    );
    return Number(rows[0]!.n);
  }

  it('creates the marker role exactly once when many processes race for it', async () => {
    const targets = Array.from({ length: 5 }, () => targetDbFor(cluster));
    try {
      const created = await Promise.all(targets.flatMap((t) => [ensureManagedRole(t), ensureManagedRole(t)]));
      expect(created.filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all(targets.map((t) => t.close()));
    }
    const { rows } = await admin.query('select rolcanlogin from pg_roles where rolname = $1', [MANAGED_ROLE]);
    expect(rows).toEqual([{ rolcanlogin: false }]);
    expect(await ensureManagedRole(target)).toBe(false);
  });

  it('read-only on every table: the member can SELECT, INSERT is refused (42501), also on tables created later', async () => {
    await admin.query('create table public.ro_items (id serial primary key, name text)');
    await admin.query("insert into public.ro_items (name) values ('a')");
    const result = await syncAccessRole(target, { endpoint: 'ro', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } });
    expect(result.created).toBe(true);
    expect(result.warnings).toEqual([]);
    const { client } = await memberOf('ro', 'alice_ro');
    try {
      expect((await client.query('select name from public.ro_items')).rows).toEqual([{ name: 'a' }]);
      expect(await sqlState(client.query("insert into public.ro_items (name) values ('b')"))).toBe('42501');
      await admin.query('create table public.ro_later (id int)');
      await admin.query('insert into public.ro_later values (7)');
      expect((await client.query('select id from public.ro_later')).rows).toEqual([{ id: 7 }]);
      expect(await sqlState(client.query('delete from public.ro_later'))).toBe('42501');
    } finally {
      await client.end();
    }
  });

  it('INSERT on every table reaches serial tables created after the grant, by the admin and by the schema owner', async () => {
    await admin.query('create schema shop');
    await admin.query('create role shop_owner nologin');
    await admin.query('create schema vendor authorization shop_owner');
    const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: ['shop', 'vendor'], tables: ['*'] };
    await syncAccessRole(target, { endpoint: 'rw', permissions });

    // Created after the grant: by the admin we connect as, and by the schema's owner.
    await admin.query('create table shop.orders (id serial primary key, item text)');
    await admin.query('create table shop.events (id bigint generated always as identity, kind text)');
    await admin.query('set role shop_owner');
    await admin.query('create table vendor.parts (id bigserial primary key, part text)');
    await admin.query('reset role');

    const { client } = await memberOf('rw', 'bob_rw');
    try {
      const { rows } = await client.query<{ id: number }>("insert into shop.orders (item) values ('tea') returning id");
      expect(rows).toEqual([{ id: 1 }]);
      await client.query("insert into shop.events (kind) values ('login')");
      await client.query("insert into vendor.parts (part) values ('bolt')");
      expect((await client.query('select part from vendor.parts')).rows).toEqual([{ part: 'bolt' }]);
      expect(await sqlState(client.query('update shop.orders set item = null'))).toBe('42501');
    } finally {
      await client.end();
    }
    const state = await readAccessRole(target, 'rw');
    expect(state?.drift).toEqual([]);
    expect(state?.permissions).toEqual(permissions);
  });

  it('named tables: only those, in the listed schema', async () => {
    await admin.query('create schema analytics');
    await admin.query('create table analytics.events (id int)');
    await admin.query('create table analytics.metrics (id int)');
    await admin.query('create table analytics.salaries (id int)');
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['analytics'], tables: ['events', 'metrics'] };
    await syncAccessRole(target, { endpoint: 'named', permissions });
    const { client } = await memberOf('named', 'carol_named');
    try {
      await client.query('select * from analytics.events');
      await client.query('select * from analytics.metrics');
      expect(await sqlState(client.query('select * from analytics.salaries'))).toBe('42501');
      expect(await sqlState(client.query('insert into analytics.events values (1)'))).toBe('42501');
      // Named tables do not reach tables created later.
      await admin.query('create table analytics.later (id int)');
      expect(await sqlState(client.query('select * from analytics.later'))).toBe('42501');
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'named')).toMatchObject({ permissions, drift: [] });
    expect(await defaultAclEntriesFor(accessRoleName('named'))).toBe(0);
  });

  it('schema-qualified table names work without listing the schema and grant USAGE on it', async () => {
    await admin.query('create schema billing');
    await admin.query('create table billing.invoices (id serial, total int)');
    await admin.query('create table billing.secrets (id int)');
    const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: [], tables: ['billing.invoices'] };
    await syncAccessRole(target, { endpoint: 'qualified', permissions });
    const { client } = await memberOf('qualified', 'dave_qualified');
    try {
      await client.query('insert into billing.invoices (total) values (3)');
      expect(await sqlState(client.query('select * from billing.secrets'))).toBe('42501');
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'qualified')).toMatchObject({ permissions, drift: [] });
  });

  it('a table whose name contains a dot: found as written in a listed schema, or qualified', async () => {
    await admin.query('create schema dotted');
    await admin.query('create table dotted."events.v2" (id int)');
    await admin.query('create table dotted.other (id int)');
    for (const tables of [['events.v2'], ['dotted.events.v2']]) {
      const permissions: Permissions = { grants: ['SELECT'], schemas: ['dotted'], tables };
      await syncAccessRole(target, { endpoint: 'dotted', permissions });
      expect(await readAccessRole(target, 'dotted')).toMatchObject({ permissions, drift: [] });
    }
    const { client } = await memberOf('dotted', 'ivan_dotted');
    try {
      await client.query('select * from dotted."events.v2"');
      expect(await sqlState(client.query('select * from dotted.other'))).toBe('42501');
    } finally {
      await client.end();
    }
    // Read back without the recorded permissions, the name is written qualified.
    await admin.query(`grant select on dotted.other to ${ident(accessRoleName('dotted'))}`);
    expect((await readAccessRole(target, 'dotted'))?.permissions.tables).toEqual(['dotted.events.v2', 'other']);
  });

  it('re-sync converges: fewer privileges revoke the rest, a new table list drops the old table, * to named drops default privileges', async () => {
    await admin.query('create schema inv');
    await admin.query('create table inv.a (id serial primary key, v int)');
    await admin.query('create table inv.b (id int)');
    const endpoint = 'converge';
    const role = accessRoleName(endpoint);
    await syncAccessRole(target, { endpoint, permissions: { grants: ['INSERT', 'SELECT', 'UPDATE'], schemas: ['inv'], tables: ['*'] } });
    expect(await defaultAclEntriesFor(role)).toBeGreaterThan(0);
    const { client } = await memberOf(endpoint, 'erin_converge');
    try {
      await client.query('insert into inv.a (v) values (1)');

      await syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: ['inv'], tables: ['a'] } });
      expect(await sqlState(client.query('insert into inv.a (v) values (2)'))).toBe('42501');
      expect(await sqlState(client.query('update inv.a set v = 3'))).toBe('42501');
      expect((await client.query('select v from inv.a')).rows).toEqual([{ v: 1 }]);
      expect(await sqlState(client.query('select * from inv.b'))).toBe('42501');
      // `*` is gone, so are its default privileges and the sequence grant.
      expect(await defaultAclEntriesFor(role)).toBe(0);
      const seq = await admin.query<{ ok: boolean }>("select has_sequence_privilege($1, 'inv.a_id_seq', 'USAGE') as ok", [role]);
      expect(seq.rows).toEqual([{ ok: false }]);

      await syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: ['inv'], tables: ['b'] } });
      expect(await sqlState(client.query('select * from inv.a'))).toBe('42501');
      await client.query('select * from inv.b');

      // Dropping the schema from the authorization revokes USAGE too.
      await admin.query('create schema inv2');
      await admin.query('create table inv2.c (id int)');
      await syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: ['inv2'], tables: ['c'] } });
      const usage = await admin.query<{ ok: boolean }>("select has_schema_privilege($1, 'inv', 'USAGE') as ok", [role]);
      expect(usage.rows).toEqual([{ ok: false }]);
      expect(await sqlState(client.query('select * from inv.b'))).toBe('42501');
      await client.query('select * from inv2.c');
    } finally {
      await client.end();
    }
  });

  it('is idempotent: a second sync with the same permissions executes nothing', async () => {
    await admin.query('create schema idem');
    await admin.query('create table idem.t (id serial)');
    const options = { endpoint: 'idem', permissions: { grants: ['INSERT', 'SELECT'], schemas: ['idem'], tables: ['*'] } } as const;
    const first = await syncAccessRole(target, options);
    expect(first.changed).toBe(true);
    expect(first.statements.some((s) => s.startsWith('ALTER DEFAULT PRIVILEGES'))).toBe(true);
    const second = await syncAccessRole(target, options);
    expect(second).toMatchObject({ created: false, changed: false, statements: [], warnings: [] });
  });

  it('reads back what was synced, and reports changes made by hand or tables * does not cover as drift', async () => {
    await admin.query('create schema rep');
    await admin.query('create table rep.t1 (id int)');
    const endpoint = 'reader';
    const role = accessRoleName(endpoint);
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['rep'], tables: ['*'] };
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({ role, permissions, drift: [], managed: true, members: [] });

    // A table created later by a covered role keeps `*` intact.
    await admin.query('create table rep.t2 (id int)');
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    // A manual REVOKE: `*` no longer holds; the tables it does reach are listed.
    await admin.query(`revoke select on rep.t1 from ${ident(role)}`);
    let state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['missing SELECT on table "rep"."t1"']);
    expect(state?.permissions).toEqual({ grants: ['SELECT'], schemas: ['rep'], tables: ['t2'] });
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    // A manual extra GRANT shows up in grants.
    await admin.query(`grant delete on rep.t2 to ${ident(role)}`);
    state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['unexpected DELETE on table "rep"."t2" (granted by "postgres")']);
    expect(state?.permissions.grants).toEqual(['DELETE', 'SELECT']);
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    // A table created later by a role the default privileges do not cover.
    await admin.query('create role rep_writer nologin');
    await admin.query('grant usage, create on schema rep to rep_writer');
    await admin.query('set role rep_writer');
    await admin.query('create table rep.t3 (id int)');
    await admin.query('reset role');
    state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['missing SELECT on table "rep"."t3"']);
    expect(state?.permissions.tables).toEqual(['t1', 't2']);
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    // Default privileges removed by hand.
    await admin.query(`alter default privileges in schema rep revoke select on tables from ${ident(role)}`);
    state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['missing SELECT in default privileges on tables created by "postgres" in schema "rep"']);
    expect(state?.permissions.tables).toEqual(['t1', 't2', 't3']);

    // Privileges granted by someone other than the admin, with grant option, and on a column.
    await syncAccessRole(target, { endpoint, permissions });
    await admin.query('create role rep_delegate nologin');
    await admin.query('grant usage on schema rep to rep_delegate');
    await admin.query('grant select, update on rep.t1 to rep_delegate with grant option');
    await admin.query('set role rep_delegate');
    await admin.query(`grant update on rep.t1 to ${ident(role)} with grant option`);
    await admin.query('reset role');
    await admin.query(`grant insert (id) on rep.t2 to ${ident(role)}`);
    state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(
      expect.arrayContaining([
        'unexpected UPDATE on table "rep"."t1" (granted by "rep_delegate")',
        'unexpected column privilege INSERT ("id") on table "rep"."t2"',
      ]),
    );
    const repaired = await syncAccessRole(target, { endpoint, permissions });
    expect(repaired.warnings).toEqual([]);
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });
  });

  it('undoes escalation by hand: memberships in other roles, LOGIN, grant options', async () => {
    await admin.query('create schema esc');
    await admin.query('create table esc.t (id int)');
    const endpoint = 'escalate';
    const role = accessRoleName(endpoint);
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['esc'], tables: ['t'] };
    await syncAccessRole(target, { endpoint, permissions });
    await admin.query(`grant pg_read_all_data to ${ident(role)}`);
    await admin.query(`alter role ${ident(role)} login createdb`);
    await admin.query(`grant select on esc.t to ${ident(role)} with grant option`);
    const state = await readAccessRole(target, endpoint);
    expect(state?.permissions).toEqual(permissions);
    expect(state?.drift).toEqual(
      expect.arrayContaining([
        'role has LOGIN, CREATEDB',
        'role is a member of "pg_read_all_data"',
        'unexpected grant option for SELECT on table "esc"."t" (granted by "postgres")',
      ]),
    );
    const repaired = await syncAccessRole(target, { endpoint, permissions });
    expect(repaired.warnings).toEqual([]);
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });
    const { rows } = await admin.query<{ rolcanlogin: boolean; rolcreatedb: boolean; n: number }>(
      `select rolcanlogin, rolcreatedb, (select count(*)::int from pg_auth_members where member = r.oid) as n
         from pg_roles r where rolname = $1`,
      [role],
    );
    expect(rows).toEqual([{ rolcanlogin: false, rolcreatedb: false, n: 0 }]);
  });

  it('manages an endpoint on another database of the same server', async () => {
    await admin.query('create database warehouse');
    const wh = new Client(cluster.clientConfig('warehouse'));
    await wh.connect();
    try {
      await wh.query('create schema facts');
      await wh.query('create table facts.sales (id serial, amount int)');
      const endpoint = 'warehouse-rw';
      const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: ['facts'], tables: ['*'] };
      const result = await syncAccessRole(target, { endpoint, permissions, database: 'warehouse' });
      expect(result.database).toBe('warehouse');
      expect(await readAccessRole(target, endpoint)).toMatchObject({ database: 'warehouse', permissions, drift: [] });
      const { login, client } = await memberOf(endpoint, 'heidi_warehouse');
      await client.end();
      await wh.query('create table facts.returns (id serial, amount int)');
      const member = await login.connect('warehouse');
      try {
        await member.query('insert into facts.returns (amount) values (5)');
      } finally {
        await member.end();
      }
      expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });
      await dropAccessRole(target, endpoint, { revokeMemberships: true });
      expect(await readAccessRole(target, endpoint)).toBeNull();
      const acl = await wh.query('select count(*)::int as n from pg_default_acl');
      expect(acl.rows).toEqual([{ n: 0 }]);
    } finally {
      await wh.end();
    }
  });

  it('reads back null for an endpoint without a role', async () => {
    expect(await readAccessRole(target, 'never-synced')).toBeNull();
  });

  it('quotes hostile table and schema names: no injection, and a table literally so named works', async () => {
    await admin.query('create table public.t (id int)');
    const hostileTable = 'x"; drop table t; --';
    const endpoint = 'hostile';
    const attempt = syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: ['public'], tables: [hostileTable] } });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(/endpoint "hostile": table "x""; drop table t; --" does not exist in schema "public"/);
    expect((await admin.query("select to_regclass('public.t') is not null as ok")).rows).toEqual([{ ok: true }]);
    expect(await readAccessRole(target, endpoint)).toBeNull();

    const hostileSchema = "s'; drop schema public cascade; --";
    await expect(
      syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: [hostileSchema], tables: ['*'] } }),
    ).rejects.toThrow(/schema "s'; drop schema public cascade; --" does not exist/);

    await admin.query(`create table public.${ident(hostileTable)} (id int)`);
    await admin.query(`insert into public.${ident(hostileTable)} values (42)`);
    await admin.query(`create schema ${ident(hostileSchema)}`);
    await admin.query(`create table ${qualified(hostileSchema, hostileTable)} (id int)`);
    const permissions: Permissions = { grants: ['SELECT'], schemas: [hostileSchema, 'public'], tables: [hostileTable] };
    await syncAccessRole(target, { endpoint, permissions });
    const { client } = await memberOf(endpoint, 'mallory_hostile');
    try {
      expect((await client.query(`select id from public.${ident(hostileTable)}`)).rows).toEqual([{ id: 42 }]);
      await client.query(`select id from ${qualified(hostileSchema, hostileTable)}`);
      expect(await sqlState(client.query('select * from public.t'))).toBe('42501');
    } finally {
      await client.end();
    }
    expect((await admin.query("select to_regclass('public.t') is not null as ok")).rows).toEqual([{ ok: true }]);
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });
  });

  it('a missing schema or table fails with its name and the endpoint, and changes nothing', async () => {
    await expect(
      syncAccessRole(target, { endpoint: 'missing', permissions: { grants: ['SELECT'], schemas: ['nope'], tables: ['*'] } }),
    ).rejects.toThrow(/permissions\.schemas\[0\]: endpoint "missing": schema "nope" does not exist in database "postgres"/);
    expect(await readAccessRole(target, 'missing')).toBeNull();

    await admin.query('create schema keep');
    await admin.query('create table keep.one (id int)');
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['keep'], tables: ['one'] };
    await syncAccessRole(target, { endpoint: 'missing', permissions });
    const failing = syncAccessRole(target, {
      endpoint: 'missing',
      permissions: { grants: ['DELETE', 'SELECT'], schemas: ['keep'], tables: ['one', 'two'] },
    });
    await expect(failing).rejects.toThrow(/permissions\.tables\[1\]: endpoint "missing": table "two" does not exist in schema "keep"/);
    expect(await readAccessRole(target, 'missing')).toMatchObject({ permissions, drift: [] });
  });

  it('ten concurrent syncs of one role, and of ten roles on one schema, all succeed', async () => {
    await admin.query('create schema busy');
    await admin.query('create table busy.t (id serial)');
    const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: ['busy'], tables: ['*'] };
    const targets = Array.from({ length: 10 }, () => targetDbFor(cluster));
    try {
      const same = await Promise.all(targets.map((t) => syncAccessRole(t, { endpoint: 'busy', permissions })));
      expect(same.filter((r) => r.created)).toHaveLength(1);
      expect(same.filter((r) => r.changed)).toHaveLength(1);
      // Different roles share the schema's pg_default_acl row and the database's ACL.
      const many = await Promise.all(targets.map((t, i) => syncAccessRole(t, { endpoint: `busy-${i}`, permissions })));
      expect(many.every((r) => r.created)).toBe(true);
    } finally {
      await Promise.all(targets.map((t) => t.close()));
    }
    for (let i = 0; i < 10; i++) expect(await readAccessRole(target, `busy-${i}`)).toMatchObject({ permissions, drift: [] });
  });

  it('drop refuses while members remain, then leaves no role, grant or default-privilege entry behind', async () => {
    await admin.query('create schema gone');
    await admin.query('create table gone.t (id serial)');
    const endpoint = 'dropme';
    const role = accessRoleName(endpoint);
    await syncAccessRole(target, { endpoint, permissions: { grants: ['INSERT', 'SELECT'], schemas: ['gone'], tables: ['*'] } });
    expect(await defaultAclEntriesFor(role)).toBe(2);
    const { login, client } = await memberOf(endpoint, 'frank_dropme');
    await client.end();

    // Grants DROP OWNED alone would not remove: another grantor's, and another database's.
    await admin.query('create role gone_delegate nologin');
    await admin.query('grant usage on schema gone to gone_delegate');
    await admin.query('grant delete on gone.t to gone_delegate with grant option');
    await admin.query(`set role gone_delegate; grant delete on gone.t to ${ident(role)}; reset role`);
    await admin.query('create database otherdb');
    const other = new Client(cluster.clientConfig('otherdb'));
    await other.connect();
    try {
      await other.query('create table elsewhere (id int)');
      await other.query(`grant select on elsewhere to ${ident(role)}`);
      await other.query(`alter default privileges grant select on tables to ${ident(role)}`);
    } finally {
      await other.end();
    }

    const refused = dropAccessRole(target, endpoint);
    await expect(refused).rejects.toBeInstanceOf(AccessRoleInUseError);
    await expect(refused).rejects.toThrow(/still has 1 member\(s\): "frank_dropme"/);
    expect(await readAccessRole(target, endpoint)).not.toBeNull();

    const dropped = await dropAccessRole(target, endpoint, { revokeMemberships: true });
    expect(dropped).toMatchObject({ role, dropped: true, revokedMembers: [login.user], warnings: [] });
    expect((await admin.query('select 1 from pg_roles where rolname = $1', [role])).rows).toEqual([]);
    expect(await defaultAclEntriesFor(role)).toBe(0);
    const leftovers = await admin.query(`select count(*)::int as n from pg_default_acl where defaclacl::text like '%' || $1 || '%'`, [role]);
    expect(leftovers.rows).toEqual([{ n: 0 }]);
    expect(await readAccessRole(target, endpoint)).toBeNull();
    expect(await dropAccessRole(target, endpoint)).toMatchObject({ dropped: false });
  });

  it('refuses to manage a role of the same name that it did not create', async () => {
    await admin.query(`create role ${ident(accessRoleName('squatter'))} nologin`);
    const message = /role "adaptive_ep_squatter" exists but was not created by adaptive-access/;
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['public'], tables: ['*'] };
    await expect(syncAccessRole(target, { endpoint: 'squatter', permissions })).rejects.toThrow(message);
    await expect(dropAccessRole(target, 'squatter')).rejects.toThrow(message);
    expect(await readAccessRole(target, 'squatter')).toMatchObject({ managed: false });
  });
});
