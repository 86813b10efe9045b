/**
 * Admin sessions do not trust the search path. A member who may create objects in `public`
 * of a target database puts functions and views there that the admin's SQL would call
 * instead of the catalog's own, running with the admin's privileges. Each shadow records
 * its call in a table the test reads, then does what the original does, so the admin's
 * operations would succeed and nobody would notice. After every admin operation (resource
 * with preflight, grants sync, issue, revoke, reap) that table must be empty, and every
 * admin connection (pool and one-off, to any database) must run with
 * `search_path = pg_catalog, pg_temp`, whatever the admin role's own setting.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident, literal } from '../../../src/runtime/pg/sql';
import { Catalog } from '../../../src/runtime/catalog';
import { openTarget } from '../../../src/runtime/connections';
import { AccessService } from '../../../src/runtime/service';
import type { Permissions } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, type TestLogin } from '../../fixtures/target-db';
import { APP_SCHEMA_SQL, createDatabase, openService, sql, targetConfig, type ServiceHandle } from '../service-fixture';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;

/** The table every shadow writes to: which object was called, and as whom. */
const SHADOW_LOG = `
  create table public.shadow_calls (object text not null, caller text not null default current_user);
  grant insert on public.shadow_calls to public;
  create function public.logged(object text) returns boolean language sql
    as $$ insert into public.shadow_calls (object) values (object) returning true $$;`;

/**
 * Functions whose argument types match the admin's calls better than pg_catalog's own, so
 * PostgreSQL picks them with the default search path ("$user", public; pg_catalog
 * implicitly first): an unknown literal goes to `text` (the preferred string type) before
 * `name`, and a `name` argument matches `name` exactly where pg_catalog takes `text`.
 */
const BETTER_MATCHES = `
  create function public.shobj_description(oid, text) returns text language sql
    as $$ select case when public.logged('shobj_description(oid, text)') then pg_catalog.shobj_description($1, $2::name) end $$;
  create function public.has_database_privilege(name, text) returns boolean language sql
    as $$ select public.logged('has_database_privilege(name, text)') and pg_catalog.has_database_privilege($1::text, $2) $$;`;

/**
 * Objects with exactly pg_catalog's signatures: found first once the admin role's search
 * path names public before pg_catalog.
 */
const SAME_SIGNATURES = `
  create function public.pg_advisory_xact_lock(integer, integer) returns void language sql
    as $$ select case when public.logged('pg_advisory_xact_lock(integer, integer)') then pg_catalog.pg_advisory_xact_lock($1, $2) end $$;
  create function public.statement_timestamp() returns timestamptz language sql
    as $$ select case when public.logged('statement_timestamp()') then pg_catalog.statement_timestamp() end $$;
  create function public.pg_has_role(name, oid, text) returns boolean language sql
    as $$ select public.logged('pg_has_role(name, oid, text)') and pg_catalog.pg_has_role($1, $2, $3) $$;
  create view public.pg_roles as select * from pg_catalog.pg_roles where public.logged('pg_roles');`;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let member: TestLogin;
  const handles: ServiceHandle[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    member = await createLoginRole(cluster, 'mallory');
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(() => cluster?.stop());

  /** A target database whose `public` the member may create objects in, with `objects` created by the member. */
  async function hostileDatabase(name: string, objects: string): Promise<void> {
    await createDatabase(cluster, name);
    await sql(cluster, name, `${APP_SCHEMA_SQL}; grant create on schema public to ${ident(member.user)}`);
    const client = await member.connect(name);
    try {
      await client.query(SHADOW_LOG + objects);
    } finally {
      await client.end();
    }
  }

  async function shadowCalls(database: string): Promise<Array<{ object: string; caller: string }>> {
    return sql<{ object: string; caller: string }>(cluster, database, 'select object, caller from public.shadow_calls order by 1, 2');
  }

  /** Every admin operation on the resource `name` (database `database`): apply, sync grants, issue, revoke, reap. */
  async function adminOperations(config: ReturnType<typeof targetConfig>): Promise<void> {
    const h = await openService(cluster, 'searchpath');
    handles.push(h);
    await h.service.applyResource(config);
    await h.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await h.service.applyEndpoint({ name: `${config.name}-read`, type: 'direct', ttlSeconds: HOUR, resource: config.name, authorization: 'read' });
    const group = await h.service.applyGroup({ name: `${config.name}-readers`, members: ['ana@example.com'], endpoints: [`${config.name}-read`] }, new Set());
    expect(group.issued).toHaveLength(1);
    expect(await h.service.removeGroup(`${config.name}-readers`)).toEqual([group.issued[0]!.username]);
    const reaped = await h.service.reap();
    expect(reaped.errors).toEqual([]);
  }

  it('does not call a member function in public that matches an unqualified call better (default search path)', async () => {
    await hostileDatabase('shadowed_default', BETTER_MATCHES);
    await adminOperations(targetConfig(cluster, 'default-path', 'shadowed_default'));
    expect(await shadowCalls('shadowed_default')).toEqual([]);
  });

  it('does not call member objects when the admin role puts public before pg_catalog; every admin session runs with pg_catalog, pg_temp', async () => {
    const password = `admin-${Math.random().toString(36).slice(2)}`;
    await sql(
      cluster,
      cluster.database,
      `create role path_admin login superuser password ${literal(password)};
       alter role path_admin set search_path = public, pg_catalog`,
    );
    await hostileDatabase('shadowed_path', SAME_SIGNATURES);
    const config = targetConfig(cluster, 'hostile-path', 'shadowed_path', { user: 'path_admin', password });
    await adminOperations(config);
    expect(await shadowCalls('shadowed_path')).toEqual([]);

    const target = await openTarget(config);
    try {
      const pooled = await target.pool.query<{ search_path: string }>('show search_path');
      expect(pooled.rows).toEqual([{ search_path: 'pg_catalog, pg_temp' }]);
      // The revocation's connections to other databases, too.
      for (const database of ['shadowed_path', cluster.database]) {
        const other = await target.connect(database);
        try {
          expect((await other.query<{ search_path: string }>('show search_path')).rows).toEqual([{ search_path: 'pg_catalog, pg_temp' }]);
          // RESET returns to the value the session started with, not to the role's setting.
          await other.query('reset search_path');
          expect((await other.query<{ search_path: string }>('show search_path')).rows).toEqual([{ search_path: 'pg_catalog, pg_temp' }]);
        } finally {
          await other.end();
        }
      }
    } finally {
      await target.close();
    }
  });

  it("does not call member objects from the catalog's sessions when its database puts public first", async () => {
    // The catalog's tables are schema-qualified; what it calls (now(), jsonb_build_object) is not.
    const db = 'hostile_catalog';
    await createDatabase(cluster, db);
    await sql(cluster, db, `alter database ${ident(db)} set search_path = public, pg_catalog; grant create on schema public to ${ident(member.user)}`);
    const client = await member.connect(db);
    try {
      await client.query(
        SHADOW_LOG +
          `create function public.now() returns timestamptz language sql
             as $$ select case when public.logged('now()') then pg_catalog.now() end $$;`,
      );
    } finally {
      await client.end();
    }
    const catalog = await Catalog.open(cluster.url(db), { key: randomBytes(32) });
    const service = new AccessService(catalog);
    try {
      await hostileDatabase('catalog_target', '');
      await service.applyResource(targetConfig(cluster, 'catalog-target', 'catalog_target'));
      await service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
      expect((await catalog.readAudit({})).map((e) => e.event)).toEqual(['resource.create', 'authorization.create']);
    } finally {
      await service.close();
    }
    expect(await shadowCalls(db)).toEqual([]);
  });
});
