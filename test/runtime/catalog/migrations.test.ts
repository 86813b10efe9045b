/**
 * Catalog migrations: applied once, in order, in their own schema; idempotent on reopen;
 * exactly once when many processes open a fresh catalog at the same moment; and a catalog
 * migrated by a newer build is refused instead of being written with an older idea of it.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident, qualified } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, CATALOG_MIGRATIONS, CATALOG_VERSION, migrateCatalog, type CatalogOptions } from '../../../src/runtime/catalog';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let admin: Client;
  let seq = 0;
  const opened: Catalog[] = [];

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
    const name = `catalog_${++seq}`;
    // A file copy of the small template is much quicker than WAL-logging it block by block.
    await admin.query(`create database ${ident(name)} strategy = file_copy`);
    return name;
  }

  async function open(database: string, options: CatalogOptions = {}): Promise<Catalog> {
    const catalog = await Catalog.open(cluster.url(database), options);
    opened.push(catalog);
    return catalog;
  }

  async function withClient<T>(database: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client(cluster.clientConfig(database));
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  interface MigrationRow {
    version: number;
    name: string;
    applied_at: Date;
  }

  function migrationRows(database: string, schema = 'adaptive'): Promise<MigrationRow[]> {
    return withClient(database, async (client) => {
      const { rows } = await client.query<MigrationRow>(
        `select version, name, applied_at from ${qualified(schema, 'schema_migrations')} order by version`,
      );
      return rows;
    });
  }

  it('applies every migration once to a fresh catalog, in the adaptive schema', async () => {
    const db = await freshDatabase();
    const catalog = await open(db);
    expect(catalog.appliedMigrations).toEqual(CATALOG_MIGRATIONS.map((m) => m.version));
    expect(catalog.schema).toBe('adaptive');
    expect(await catalog.schemaVersion()).toBe(CATALOG_VERSION);

    const rows = await migrationRows(db);
    expect(rows.map((r) => [r.version, r.name])).toEqual(CATALOG_MIGRATIONS.map((m) => [m.version, m.name]));
    for (const row of rows) expect(row.applied_at).toBeInstanceOf(Date);

    const tables = await withClient(db, async (client) => {
      const { rows: found } = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'adaptive' order by table_name",
      );
      return found.map((r) => r.table_name);
    });
    expect(tables).toEqual(['audit_log', 'authorizations', 'credentials', 'endpoints', 'groups', 'reaper_leases', 'reaper_replicas', 'resources', 'schema_migrations']);
  });

  it('does nothing when opened again', async () => {
    const db = await freshDatabase();
    await open(db);
    const before = await migrationRows(db);
    const again = await open(db);
    expect(again.appliedMigrations).toEqual([]);
    expect(await migrationRows(db)).toEqual(before);
  });

  it('applies each migration exactly once when 8 processes open a fresh catalog at once', async () => {
    const db = await freshDatabase();
    const catalogs = await Promise.all(Array.from({ length: 8 }, () => Catalog.open(cluster.url(db))));
    opened.push(...catalogs);

    const applied = catalogs.flatMap((c) => c.appliedMigrations).sort((a, b) => a - b);
    expect(applied).toEqual(CATALOG_MIGRATIONS.map((m) => m.version));
    const counts = await withClient(db, async (client) => {
      const { rows } = await client.query<{ version: number; n: number }>(
        'select version, count(*)::int as n from adaptive.schema_migrations group by version order by version',
      );
      return rows;
    });
    expect(counts).toEqual(CATALOG_MIGRATIONS.map((m) => ({ version: m.version, n: 1 })));
    for (const catalog of catalogs) expect(await catalog.schemaVersion()).toBe(CATALOG_VERSION);
  });

  it('brings an older catalog forward, applying only the missing migrations', async () => {
    const db = await freshDatabase();
    const first = await withClient(db, (client) => migrateCatalog(client, 'adaptive', CATALOG_MIGRATIONS.slice(0, 1)));
    expect(first).toEqual({ applied: [1], version: 1 });

    const catalog = await open(db);
    expect(catalog.appliedMigrations).toEqual(CATALOG_MIGRATIONS.slice(1).map((m) => m.version));
    expect((await migrationRows(db)).map((r) => r.version)).toEqual(CATALOG_MIGRATIONS.map((m) => m.version));
  });

  it('refuses a catalog whose version is newer than this build knows', async () => {
    const db = await freshDatabase();
    await open(db);
    await withClient(db, (client) =>
      client.query('insert into adaptive.schema_migrations (version, name) values ($1, $2)', [CATALOG_VERSION + 1, 'from the future']),
    );
    const refused = Catalog.open(cluster.url(db));
    await expect(refused).rejects.toBeInstanceOf(CatalogError);
    await expect(refused).rejects.toMatchObject({ code: 'version' });
    await expect(refused).rejects.toThrow(
      new RegExp(`version ${CATALOG_VERSION + 1}.*only knows versions up to ${CATALOG_VERSION}.*upgrade the provider`, 'is'),
    );
  });

  it('refuses a catalog whose recorded migration differs from this build', async () => {
    const db = await freshDatabase();
    await open(db);
    await withClient(db, (client) => client.query("update adaptive.schema_migrations set name = 'something else' where version = 1"));
    await expect(Catalog.open(cluster.url(db))).rejects.toThrow(/records migration 1 as "something else".*incompatible build/);
  });

  it('keeps its tables in a schema of any name, quoted', async () => {
    const db = await freshDatabase();
    const schema = 'Ops "Catalog"; drop table x';
    const catalog = await open(db, { schema });
    expect(catalog.appliedMigrations.length).toBe(CATALOG_VERSION);
    await catalog.putAuthorization({ name: 'read', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } });
    expect((await catalog.listAuthorizations()).map((a) => a.name)).toEqual(['read']);
    expect((await migrationRows(db, schema)).length).toBe(CATALOG_VERSION);
    // Two catalogs in one database do not see each other.
    const other = await open(db);
    expect(await other.listAuthorizations()).toEqual([]);
  });

  it('reports an unreachable or refused catalog without its password', async () => {
    const db = await freshDatabase();
    const password = 'Wrong-Catalog-Passw0rd';
    const url = `postgres://postgres:${password}@127.0.0.1:${cluster.port}/${db}`;
    const failure = await Catalog.open(url).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CatalogError);
    const err = failure as CatalogError;
    expect(err.code).toBe('connect');
    expect(err.message).toMatch(new RegExp(`cannot connect to the catalog database postgres@127\\.0\\.0\\.1:${cluster.port}/${db}: .*password authentication failed`));
    expect(err.message).not.toContain(password);
  });
});
