/**
 * Opening the catalog read-only (what plan, refresh, import, `status` and `audit` do):
 * nothing is migrated or written, a database without the catalog reads as an empty
 * catalog, an older catalog is refused with the way to upgrade it, a newer one as always,
 * and the same open can be made writable for a change (migrating it then).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, CATALOG_MIGRATIONS, CATALOG_VERSION, migrateCatalog, type CatalogOptions } from '../../../src/runtime/catalog';
import { AccessService } from '../../../src/runtime/service';
import type { Permissions, TargetConfig } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const READ: Permissions = { grants: ['SELECT'], schemas: ['public'], tables: ['*'] };

function target(name: string): TargetConfig {
  return { name, host: 'db.internal', port: 5432, database: 'app', username: 'admin', password: 'Adm1n-Pa55word', sslMode: 'verify-full', maxConnections: 2 };
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let admin: Client;
  let seq = 0;
  const opened: Catalog[] = [];
  const key = randomBytes(32);

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshDatabase(): Promise<string> {
    const name = `read_only_${++seq}`;
    await admin.query(`create database ${ident(name)} strategy = file_copy`);
    return name;
  }

  async function open(database: string, options: CatalogOptions = {}): Promise<Catalog> {
    const catalog = await Catalog.open(cluster.url(database), { key, ...options });
    opened.push(catalog);
    return catalog;
  }

  async function query<T extends Record<string, unknown>>(database: string, text: string): Promise<T[]> {
    const client = new Client(cluster.clientConfig(database));
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  }

  /** Every schema and relation of the database outside PostgreSQL's own, with its kind. */
  async function relations(database: string): Promise<string[]> {
    const rows = await query<{ relation: string }>(
      database,
      `select n.nspname::text || coalesce('.' || c.relname || ' (' || c.relkind::text || ')', '') as relation
         from pg_catalog.pg_namespace n left join pg_catalog.pg_class c on c.relnamespace = n.oid
        where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        order by 1`,
    );
    return rows.map((r) => r.relation);
  }

  /** Every row of every catalog table, as text. */
  async function contents(database: string): Promise<string[]> {
    const tables = await query<{ name: string }>(database, "select tablename::text as name from pg_catalog.pg_tables where schemaname = 'adaptive' order by 1");
    const out: string[] = [];
    for (const { name } of tables) {
      for (const row of await query<{ row: string }>(database, `select t::text as row from adaptive.${ident(name)} t order by 1`)) out.push(`${name}: ${row.row}`);
    }
    return out;
  }

  it('reads a database without the catalog as an empty catalog, and leaves it without a schema or table', async () => {
    const db = await freshDatabase();
    const before = await relations(db);
    const catalog = await open(db, { readOnly: true });
    expect(catalog.readOnly).toBe(true);
    expect(catalog.appliedMigrations).toEqual([]);
    expect(await catalog.schemaVersion()).toBe(0);
    expect(await catalog.listResources()).toEqual([]);
    expect(await catalog.getResource('pg')).toBeUndefined();
    expect(await catalog.resourceInfo('pg')).toBeUndefined();
    expect(await catalog.listAuthorizations()).toEqual([]);
    expect(await catalog.getAuthorization('read')).toBeUndefined();
    expect(await catalog.listEndpoints()).toEqual([]);
    expect(await catalog.getEndpoint('e')).toBeUndefined();
    expect(await catalog.listGroups()).toEqual([]);
    expect(await catalog.getGroup('g')).toBeUndefined();
    expect(await catalog.groupsUsingEndpoint('e')).toEqual([]);
    expect(await catalog.liveCredentials()).toEqual([]);
    expect(await catalog.expiredUnrevoked()).toEqual([]);
    expect(await catalog.nextExpiry()).toBeNull();
    expect(await catalog.readAudit()).toEqual([]);
    // The service's read verbs, as the provider's plan, refresh and import call them.
    const service = new AccessService(catalog);
    expect(await service.inspectGroup('g')).toBeNull();
    expect(await service.inspectEndpoint('e')).toBeNull();
    expect(await relations(db)).toEqual(before);
    expect(before.some((r) => r.startsWith('adaptive'))).toBe(false);
  });

  it('refuses writes when opened read-only, whether or not the catalog has tables', async () => {
    const fresh = await freshDatabase();
    const readOnlyFresh = await open(fresh, { readOnly: true });
    const write = readOnlyFresh.putAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await expect(write).rejects.toBeInstanceOf(CatalogError);
    await expect(write).rejects.toMatchObject({ code: 'read-only' });
    expect((await relations(fresh)).some((r) => r.startsWith('adaptive'))).toBe(false);

    const db = await freshDatabase();
    const writable = await open(db);
    await writable.putAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    const before = await contents(db);
    const catalog = await open(db, { readOnly: true });
    expect((await catalog.listAuthorizations()).map((a) => a.name)).toEqual(['read']);
    await expect(catalog.deleteAuthorization('read')).rejects.toMatchObject({ code: 'read-only' });
    await expect(catalog.appendAudit([{ event: 'test' }])).rejects.toMatchObject({ code: 'read-only' });
    await expect(catalog.putAuthorization({ name: 'other', resourceType: 'postgresql', permissions: READ })).rejects.toMatchObject({ code: 'read-only' });
    expect(await contents(db)).toEqual(before);
  });

  it('reads a current catalog as it is, resources with their seals checked', async () => {
    const db = await freshDatabase();
    const writable = await open(db);
    await writable.putResource(target('pg'));
    const catalog = await open(db, { readOnly: true });
    expect(await catalog.schemaVersion()).toBe(CATALOG_VERSION);
    expect((await catalog.getResource('pg'))?.target.password).toBe('Adm1n-Pa55word');
  });

  it('without the key, refuses a catalog older than this build, saying what upgrades it, and leaves it at its version; with the key, upgrades it once and stays read-only', async () => {
    const db = await freshDatabase();
    const older = CATALOG_VERSION - 1;
    await (async () => {
      const client = new Client(cluster.clientConfig(db));
      await client.connect();
      try {
        await migrateCatalog(client, 'adaptive', CATALOG_MIGRATIONS.slice(0, older));
      } finally {
        await client.end();
      }
    })();
    const before = await relations(db);
    const refused = Catalog.open(cluster.url(db), { readOnly: true });
    await expect(refused).rejects.toBeInstanceOf(CatalogError);
    await expect(refused).rejects.toMatchObject({ code: 'outdated' });
    await expect(refused).rejects.toThrow(new RegExp(`is at version ${older}, older than version ${CATALOG_VERSION} .*needs the catalog key.*adaptive-access reap`));
    expect(await relations(db)).toEqual(before);
    const version = async (): Promise<number | undefined> =>
      (await query<{ version: number }>(db, 'select max(version)::int as version from adaptive.schema_migrations'))[0]?.version;
    expect(await version()).toBe(older);

    const upgraded = await Catalog.open(cluster.url(db), { key, readOnly: true });
    try {
      expect(await version()).toBe(CATALOG_VERSION);
      expect(upgraded.readOnly).toBe(true);
      await expect(upgraded.putAuthorization({ name: 'a', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } })).rejects.toMatchObject({ code: 'read-only' });
    } finally {
      await upgraded.close();
    }
  });

  it('refuses a catalog newer than this build, as a writing open does', async () => {
    const db = await freshDatabase();
    await open(db);
    await query(db, `insert into adaptive.schema_migrations (version, name) values (${CATALOG_VERSION + 1}, 'from the future')`);
    await expect(Catalog.open(cluster.url(db), { readOnly: true })).rejects.toMatchObject({ code: 'version' });
  });

  it('becomes writable on the same open: the schema is created then, and writes work', async () => {
    const db = await freshDatabase();
    const catalog = await open(db, { readOnly: true });
    expect(await catalog.listAuthorizations()).toEqual([]);
    expect(await catalog.allowWrites()).toEqual(CATALOG_MIGRATIONS.map((m) => m.version));
    expect(catalog.readOnly).toBe(false);
    expect(await catalog.schemaVersion()).toBe(CATALOG_VERSION);
    await catalog.putAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    expect((await catalog.listAuthorizations()).map((a) => a.name)).toEqual(['read']);
    expect(await catalog.allowWrites()).toEqual([]);
  });
});
