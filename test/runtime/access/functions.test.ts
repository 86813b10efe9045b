/**
 * `functions` in a permission set, against real PostgreSQL: a member can EXECUTE exactly the
 * routines granted (one overload, every overload, or `*` including routines created
 * later), a change by hand is read back as drift and undone by the next sync, and a
 * function that does not exist fails the sync naming it.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { accessRoleName, readAccessRole, syncAccessRole } from '../../../src/runtime/access/access-role';
import { ident } from '../../../src/runtime/pg/sql';
import type { Permissions, TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, sqlState, targetDbFor } from '../../fixtures/target-db';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;
  let admin: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
    // PUBLIC may execute every new function by default: take that away, so that what a
    // member can execute is what its access role holds.
    await admin.query('alter default privileges revoke execute on functions from public');
  });
  afterAll(async () => {
    await admin?.end();
    await target?.close();
    await cluster?.stop();
  });

  /** A logged-in member of the endpoint's access role. */
  async function memberOf(endpoint: string, user: string): Promise<Client> {
    const login = await createLoginRole(cluster, user, { memberOf: [accessRoleName(endpoint)] });
    return login.connect();
  }

  it('one overload by signature: the member can call it, and not the other overload or another function', async () => {
    await admin.query('create schema fns');
    await admin.query('create function fns.total(a integer) returns integer language sql as $$ select a * 2 $$');
    await admin.query('create function fns.total(a text) returns text language sql as $$ select a || a $$');
    await admin.query('create function fns.other() returns integer language sql as $$ select 1 $$');
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['fns'], tables: ['*'], functions: ['fns.total(integer)'] };
    expect((await syncAccessRole(target, { endpoint: 'fn_one', permissions })).warnings).toEqual([]);
    const client = await memberOf('fn_one', 'fn_one_user');
    try {
      expect((await client.query('select fns.total(21) as n')).rows).toEqual([{ n: 42 }]);
      expect(await sqlState(client.query("select fns.total('x'::text)"))).toBe('42501');
      expect(await sqlState(client.query('select fns.other()'))).toBe('42501');
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'fn_one')).toMatchObject({ permissions, drift: [] });
  });

  it('a name without arguments means every overload', async () => {
    await admin.query('create schema fnall');
    await admin.query('create function fnall.f(a integer) returns integer language sql as $$ select a $$');
    await admin.query('create function fnall.f(a text) returns text language sql as $$ select a $$');
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['fnall'], tables: ['*'], functions: ['f'] };
    await syncAccessRole(target, { endpoint: 'fn_overloads', permissions });
    const client = await memberOf('fn_overloads', 'fn_overloads_user');
    try {
      expect((await client.query("select fnall.f(1) as a, fnall.f('b'::text) as b")).rows).toEqual([{ a: 1, b: 'b' }]);
    } finally {
      await client.end();
    }
  });

  it('"*": every function of the schema, also one created after the grant; a manual REVOKE is drift and is put back', async () => {
    await admin.query('create schema fnstar');
    await admin.query('create function fnstar.before() returns integer language sql as $$ select 1 $$');
    const endpoint = 'fn_star';
    const role = accessRoleName(endpoint);
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['fnstar'], tables: ['*'], functions: ['*'] };
    expect((await syncAccessRole(target, { endpoint, permissions })).warnings).toEqual([]);
    await admin.query('create function fnstar.later() returns integer language sql as $$ select 2 $$');
    const client = await memberOf(endpoint, 'fn_star_user');
    try {
      expect((await client.query('select fnstar.before() as a, fnstar.later() as b')).rows).toEqual([{ a: 1, b: 2 }]);
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    await admin.query(`revoke execute on function fnstar.later() from ${ident(role)}`);
    const state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['missing EXECUTE on function "fnstar"."later"()']);
    expect(state?.permissions.functions).toEqual(['fnstar.before()']);
    const repaired = await syncAccessRole(target, { endpoint, permissions });
    expect(repaired.statements).toEqual([`GRANT EXECUTE ON ROUTINE "fnstar"."later"() TO ${ident(role)}`]);
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions, drift: [] });

    // Without `functions`, the next sync takes EXECUTE and the default privileges away.
    const tablesOnly: Permissions = { grants: ['SELECT'], schemas: ['fnstar'], tables: ['*'] };
    await syncAccessRole(target, { endpoint, permissions: tablesOnly });
    expect(await readAccessRole(target, endpoint)).toMatchObject({ permissions: tablesOnly, drift: [] });
    const again = await memberOf(endpoint, 'fn_star_user2');
    try {
      expect(await sqlState(again.query('select fnstar.before()'))).toBe('42501');
    } finally {
      await again.end();
    }
  });

  it('a function that does not exist fails naming it and the field, and changes nothing', async () => {
    await admin.query('create schema fnmissing');
    await admin.query('create function fnmissing.present(a integer) returns integer language sql as $$ select a $$');
    for (const [entry, shown] of [
      ['fnmissing.absent', '"fnmissing.absent"'],
      ['fnmissing.present(text)', '"fnmissing.present(text)"'],
      ['present(no_such_type)', '"present(no_such_type)"'],
    ] as const) {
      const failing = syncAccessRole(target, {
        endpoint: 'fn_missing',
        permissions: { grants: ['SELECT'], schemas: ['fnmissing'], tables: ['*'], functions: [entry] },
      });
      await expect(failing).rejects.toThrow(
        `permissions.functions[0]: endpoint "fn_missing": function ${shown} does not exist in schema "fnmissing" of database "postgres"`,
      );
    }
    expect(await readAccessRole(target, 'fn_missing')).toBeNull();
  });
});
