/**
 * Access roles managed by a non-superuser admin with CREATEROLE, as on managed PostgreSQL
 * (RDS, Cloud SQL): default privileges only for roles whose privileges the admin has (a
 * warning, not an error and not perpetual drift, for the others), grants through grant
 * options, and drop under PostgreSQL 16+'s CREATEROLE rules (the creator holds ADMIN
 * OPTION but not the role's privileges, which REASSIGN/DROP OWNED require).
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import {
  accessRoleName,
  dropAccessRole,
  ensureManagedRole,
  readAccessRole,
  syncAccessRole,
} from '../../../src/runtime/access/access-role';
import { MANAGED_ROLE } from '../../../src/runtime/pg/roles';
import { ident } from '../../../src/runtime/pg/sql';
import type { Permissions, TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, targetDbFor, type TestLogin } from '../../fixtures/target-db';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let provisioner: TestLogin;
  let target: TargetDb;
  /** The superuser, in the application database: plays the legacy schema's owner. */
  let su: Client;
  /** The provisioner, in the application database: plays the application's migrations. */
  let app: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    provisioner = await createLoginRole(cluster, 'provisioner', { createRole: true });
    const bootstrap = new Client(cluster.clientConfig());
    await bootstrap.connect();
    try {
      await bootstrap.query('create database appdb owner provisioner');
    } finally {
      await bootstrap.end();
    }
    su = new Client(cluster.clientConfig('appdb'));
    await su.connect();
    // A schema the admin neither owns nor may act for, shared with it through grant options.
    await su.query('create role legacy_owner nologin');
    await su.query('create schema legacy authorization legacy_owner');
    await su.query('create table legacy.accounts (id int)');
    await su.query('alter table legacy.accounts owner to legacy_owner');
    await su.query('grant usage on schema legacy to provisioner with grant option');
    await su.query('grant select, insert on legacy.accounts to provisioner with grant option');
    app = await provisioner.connect('appdb');
    await app.query('create schema app');
    await app.query('create table app.items (id serial primary key, name text)');
    target = targetDbFor(cluster, 'appdb', provisioner);
  });
  afterAll(async () => {
    await app?.end();
    await su?.end();
    await target?.close();
    await cluster?.stop();
  });

  it('creates the marker role', async () => {
    expect(await ensureManagedRole(target)).toBe(true);
    const { rows } = await su.query('select rolcanlogin from pg_roles where rolname = $1', [MANAGED_ROLE]);
    expect(rows).toEqual([{ rolcanlogin: false }]);
  });

  it('grants through ownership and grant options, warns about default privileges it may not set, and reads back without drift', async () => {
    const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: ['app', 'legacy'], tables: ['*'] };
    const result = await syncAccessRole(target, { endpoint: 'ops', permissions });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(
      /default privileges for tables that "legacy_owner" creates later in schema "legacy" are not set: the admin role "provisioner" may only set them for roles whose privileges it has/,
    );
    expect(await readAccessRole(target, 'ops')).toMatchObject({ permissions, drift: [] });
    // The skipped entry is a standing fact, not drift: the next sync changes nothing.
    expect(await syncAccessRole(target, { endpoint: 'ops', permissions })).toMatchObject({ changed: false });

    const member = await createLoginRole(cluster, 'grace_ops', { memberOf: [accessRoleName('ops')] });
    const client = await member.connect('appdb');
    try {
      await client.query("insert into app.items (name) values ('x')");
      await client.query('select * from legacy.accounts');
      // Created later by the admin: covered by its default privileges.
      await app.query('create table app.later (id serial, v int)');
      await client.query('insert into app.later (v) values (1)');
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'ops')).toMatchObject({ permissions, drift: [] });
  });

  it('a table the admin may not grant on: read shows it as drift, sync fails naming it and changes nothing', async () => {
    // Created later by an owner the admin can neither act for nor grant on behalf of.
    await su.query('create table legacy.private (id int)');
    await su.query('alter table legacy.private owner to legacy_owner');
    const permissions: Permissions = { grants: ['INSERT', 'SELECT'], schemas: ['app', 'legacy'], tables: ['*'] };
    const before = await readAccessRole(target, 'ops');
    expect(before?.drift).toEqual(['missing INSERT, SELECT on table "legacy"."private"']);
    expect(before?.permissions.tables).toEqual(['app.items', 'app.later', 'legacy.accounts']);

    const attempt = syncAccessRole(target, { endpoint: 'ops', permissions });
    await expect(attempt).rejects.toThrow(
      /endpoint "ops": the admin role "provisioner" could not run `GRANT INSERT, SELECT ON TABLE "legacy"."private" TO "adaptive_ep_ops"`: permission denied for table private/,
    );
    expect(await readAccessRole(target, 'ops')).toEqual(before);
    await su.query('drop table legacy.private');
    expect(await readAccessRole(target, 'ops')).toMatchObject({ permissions, drift: [] });
  });

  it('a GRANT that PostgreSQL only warns about (no grant option) is an error, not a silent gap', async () => {
    await su.query('create table legacy.readable (id int)');
    await su.query('alter table legacy.readable owner to legacy_owner');
    await su.query('grant select on legacy.readable to provisioner');
    const attempt = syncAccessRole(target, { endpoint: 'peek', permissions: { grants: ['SELECT'], schemas: ['legacy'], tables: ['readable'] } });
    await expect(attempt).rejects.toThrow(
      /endpoint "peek": the admin role "provisioner" could not grant everything the authorization needs .*: missing SELECT on table "legacy"."readable"\. Nothing was changed\./,
    );
    expect(await readAccessRole(target, 'peek')).toBeNull();
  });

  it('drops the role it created, members and all', async () => {
    const role = accessRoleName('ops');
    const dropped = await dropAccessRole(target, 'ops', { revokeMemberships: true });
    expect(dropped).toMatchObject({ dropped: true, revokedMembers: ['grace_ops'] });
    expect((await su.query('select 1 from pg_roles where rolname = $1', [role])).rows).toEqual([]);
    const acl = await su.query(`select count(*)::int as n from pg_default_acl where defaclacl::text like '%' || $1 || '%'`, [role]);
    expect(acl.rows).toEqual([{ n: 0 }]);
    // The member's login role is left to revocation and the reaper, with no access left.
    const member = new Client({ ...cluster.clientConfig('appdb'), user: 'grace_ops', password: 'unused' });
    await expect(member.connect()).rejects.toThrow(/password authentication failed/);
    expect((await su.query(`select has_table_privilege('grace_ops', 'app.items', 'SELECT') as ok`)).rows).toEqual([{ ok: false }]);
    expect(ident(role)).toBe('"adaptive_ep_ops"');
  });
});
