/**
 * The four named records: put (insert or replace), get, list, delete; the queries the
 * runtime resolves names with; references checked on write; deletes refused, naming what
 * still refers to the record; and an audit event for every change.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, type EndpointSpec } from '../../../src/runtime/catalog';
import type { TargetConfig } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

async function failure(promise: Promise<unknown>): Promise<CatalogError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CatalogError)) throw new Error(`expected a CatalogError, got ${String(err)}`);
  return err;
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

  /** The database of the catalog made last. */
  let currentDb = '';

  async function freshCatalog(): Promise<Catalog> {
    const db = `catalog_${++seq}`;
    currentDb = db;
    // A file copy of the small template is much quicker than WAL-logging it block by block.
    await admin.query(`create database ${ident(db)} strategy = file_copy`);
    const catalog = await Catalog.open(cluster.url(db), { key });
    opened.push(catalog);
    return catalog;
  }

  /** Returns once `n` backends of `db` wait on a lock (polls pg_stat_activity; bounded). */
  async function waitForLockWaiters(db: string, n: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await admin.query<{ waiting: number }>(
        "select count(*)::int as waiting from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'",
        [db],
      );
      if ((rows[0]?.waiting ?? 0) >= n) return;
      if (Date.now() > deadline) throw new Error(`no backend of ${db} started waiting on a lock`);
    }
  }

  const target = (name: string): TargetConfig => ({
    name,
    host: `${name}.db.internal`,
    port: 5432,
    database: 'app',
    username: 'admin',
    password: `${name}-admin-password`,
    sslMode: 'prefer',
  });

  const endpoint = (name: string, over: Partial<EndpointSpec> = {}): EndpointSpec => ({
    name,
    type: 'direct',
    ttlSeconds: 8 * 3600,
    resource: 'prod',
    authorization: 'read',
    accessRole: `adaptive_ep_${name}`,
    ...over,
  });

  /** prod and staging resources, read and write authorizations, endpoints on them. */
  async function seeded(): Promise<Catalog> {
    const catalog = await freshCatalog();
    await catalog.putResource(target('prod'));
    await catalog.putResource(target('staging'));
    await catalog.putAuthorization({
      name: 'read',
      description: 'read everything',
      resourceType: 'postgresql',
      permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] },
    });
    await catalog.putAuthorization({
      name: 'write',
      resourceType: 'postgresql',
      permissions: { grants: ['INSERT', 'UPDATE'], schemas: ['app'], tables: ['app.orders'] },
    });
    await catalog.putEndpoint(endpoint('prod-read'));
    await catalog.putEndpoint(endpoint('prod-write', { authorization: 'write', ttlSeconds: 3600 }));
    await catalog.putEndpoint(endpoint('staging-read', { resource: 'staging' }));
    return catalog;
  }

  it('puts, gets, lists, replaces and deletes resources', async () => {
    const catalog = await freshCatalog();
    const created = await catalog.putResource(target('prod'));
    expect(created).toMatchObject({ name: 'prod', hasStoredSecrets: true, config: { host: 'prod.db.internal', sslMode: 'prefer' } });
    expect(created.createdAt).toBeInstanceOf(Date);

    const replaced = await catalog.putResource({ ...target('prod'), port: 6432 });
    expect(replaced.createdAt).toEqual(created.createdAt);
    expect(replaced.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect((await catalog.getResource('prod'))?.target).toEqual({ ...target('prod'), port: 6432 });
    await catalog.putResource(target('another'));
    expect((await catalog.listResources()).map((r) => r.name)).toEqual(['another', 'prod']);

    expect(await catalog.deleteResource('prod')).toBe(true);
    expect(await catalog.deleteResource('prod')).toBe(false);
    expect(await catalog.getResource('prod')).toBeUndefined();
    expect(await catalog.resourceInfo('prod')).toBeUndefined();

    const events = await catalog.readAudit({ resource: 'prod' });
    expect(events.map((e) => e.event)).toEqual(['resource.create', 'resource.update', 'resource.delete']);
    expect(events[0]!.detail).toEqual({ host: 'prod.db.internal', port: 5432, database: 'app', sslMode: 'prefer', adminSecret: 'inline' });
  });

  it('stores authorizations with their permissions normalised', async () => {
    const catalog = await freshCatalog();
    const stored = await catalog.putAuthorization({
      name: 'rw',
      resourceType: 'postgresql',
      permissions: { grants: ['UPDATE', 'INSERT', 'SELECT', 'SELECT'], schemas: ['sales', 'app', 'app'], tables: ['orders', 'app.orders', 'orders'] },
    });
    // The validation module's normal form: privileges in TABLE_PRIVILEGES order, lists sorted.
    expect(stored).toMatchObject({
      name: 'rw',
      description: '',
      resourceType: 'postgresql',
      permissions: { grants: ['SELECT', 'INSERT', 'UPDATE'], schemas: ['app', 'sales'], tables: ['app.orders', 'orders'] },
    });
    const everything = await catalog.putAuthorization({
      name: 'all-tables',
      resourceType: 'postgresql',
      permissions: { grants: ['SELECT'], schemas: ['app'], tables: ['orders', '*'] },
    });
    expect(everything.permissions.tables).toEqual(['*']);
    expect(await catalog.deleteAuthorization('all-tables')).toBe(true);
    expect(await catalog.getAuthorization('rw')).toEqual(stored);
    const updated = await catalog.putAuthorization({ ...stored, description: 'now described' });
    expect(updated.description).toBe('now described');
    expect(await catalog.listAuthorizations()).toEqual([updated]);
    expect(await catalog.deleteAuthorization('rw')).toBe(true);
    expect(await catalog.getAuthorization('rw')).toBeUndefined();
    const audited = await catalog.readAudit({ event: ['authorization.create', 'authorization.update', 'authorization.delete'] });
    expect(audited.map((e) => `${e.event} ${String(e.detail.authorization)}`)).toEqual([
      'authorization.create rw',
      'authorization.create all-tables',
      'authorization.delete all-tables',
      'authorization.update rw',
      'authorization.delete rw',
    ]);
  });

  it('stores endpoints and finds them by authorization and by resource', async () => {
    const catalog = await seeded();
    expect(await catalog.getEndpoint('prod-write')).toMatchObject({
      name: 'prod-write',
      type: 'direct',
      ttlSeconds: 3600,
      resource: 'prod',
      authorization: 'write',
      accessRole: 'adaptive_ep_prod-write',
    });
    expect((await catalog.listEndpoints()).map((e) => e.name)).toEqual(['prod-read', 'prod-write', 'staging-read']);
    expect((await catalog.endpointsUsingAuthorization('read')).map((e) => e.name)).toEqual(['prod-read', 'staging-read']);
    expect((await catalog.endpointsOnResource('prod')).map((e) => e.name)).toEqual(['prod-read', 'prod-write']);
    expect(await catalog.endpointsOnResource('nowhere')).toEqual([]);

    const raised = await catalog.putEndpoint(endpoint('prod-read', { ttlSeconds: 12 * 3600 }));
    expect(raised.ttlSeconds).toBe(12 * 3600);
    expect((await catalog.readAudit({ endpoint: 'prod-read' })).map((e) => [e.event, e.detail.ttlSeconds])).toEqual([
      ['endpoint.create', 8 * 3600],
      ['endpoint.update', 12 * 3600],
    ]);
  });

  it('refuses an endpoint that refers to what the catalog does not hold, or reuses an access role', async () => {
    const catalog = await seeded();
    const noResource = await failure(catalog.putEndpoint(endpoint('x', { resource: 'missing' })));
    expect(noResource.code).toBe('unknown-reference');
    expect(noResource.message).toBe('endpoint "x" refers to resource "missing", which is not in the catalog');
    const noAuthorization = await failure(catalog.putEndpoint(endpoint('x', { authorization: 'missing' })));
    expect(noAuthorization.message).toBe('endpoint "x" refers to authorization "missing", which is not in the catalog');
    const sameRole = await failure(catalog.putEndpoint(endpoint('x', { accessRole: 'adaptive_ep_prod-read' })));
    expect(sameRole.code).toBe('conflict');
    expect(sameRole.message).toMatch(/access role "adaptive_ep_prod-read" on resource "prod" already belongs to another endpoint/);
    // The same role name on another resource is another role.
    await catalog.putEndpoint(endpoint('x', { resource: 'staging', accessRole: 'adaptive_ep_prod-read' }));
    await expect(failure(catalog.putEndpoint(endpoint('y', { ttlSeconds: 0 })))).resolves.toMatchObject({ code: 'invalid' });
    expect(await catalog.getEndpoint('y')).toBeUndefined();
  });

  it('stores groups, checks their endpoints, and finds the groups of an endpoint', async () => {
    const catalog = await seeded();
    const group = await catalog.putGroup({ name: 'analysts', members: ['ana@example.com', 'bo@example.com'], endpoints: ['prod-read', 'staging-read'] });
    expect(group).toMatchObject({ name: 'analysts', members: ['ana@example.com', 'bo@example.com'], endpoints: ['prod-read', 'staging-read'] });
    await catalog.putGroup({ name: 'writers', members: ['cy@example.com'], endpoints: ['prod-write', 'prod-read'] });
    expect((await catalog.groupsUsingEndpoint('prod-read')).map((g) => g.name)).toEqual(['analysts', 'writers']);
    expect((await catalog.groupsUsingEndpoint('prod-write')).map((g) => g.name)).toEqual(['writers']);

    const updated = await catalog.putGroup({ name: 'analysts', members: ['ana@example.com'], endpoints: ['prod-read'] });
    expect(updated.members).toEqual(['ana@example.com']);
    expect(updated.createdAt).toEqual(group.createdAt);
    expect((await catalog.listGroups()).map((g) => g.name)).toEqual(['analysts', 'writers']);
    expect((await catalog.groupsUsingEndpoint('staging-read')).map((g) => g.name)).toEqual([]);

    const unknown = await failure(catalog.putGroup({ name: 'analysts', members: [], endpoints: ['prod-read', 'gone', 'also-gone'] }));
    expect(unknown.code).toBe('unknown-reference');
    expect(unknown.message).toBe('group "analysts" lists endpoints "gone", "also-gone", which are not in the catalog');
    expect((await catalog.getGroup('analysts'))?.endpoints).toEqual(['prod-read']);

    expect(await catalog.deleteGroup('writers')).toBe(true);
    expect(await catalog.deleteGroup('writers')).toBe(false);
    expect((await catalog.readAudit({ group: 'analysts' })).map((e) => e.event)).toEqual(['group.create', 'group.update']);
  });

  it('refuses to delete an authorization or a resource an endpoint still uses, naming the endpoints', async () => {
    const catalog = await seeded();
    const authorization = await failure(catalog.deleteAuthorization('read'));
    expect(authorization.code).toBe('referenced');
    expect(authorization.message).toMatch(/^cannot delete authorization "read": it is still used by endpoints "prod-read", "staging-read"; /);
    expect(authorization.referencedBy).toEqual([
      { kind: 'endpoint', name: 'prod-read' },
      { kind: 'endpoint', name: 'staging-read' },
    ]);
    const resource = await failure(catalog.deleteResource('staging'));
    expect(resource.message).toMatch(/^cannot delete resource "staging": it is still used by endpoint "staging-read"; /);
    expect(await catalog.getAuthorization('read')).toBeDefined();
    expect(await catalog.resourceInfo('staging')).toBeDefined();

    expect(await catalog.deleteEndpoint('staging-read')).toBe(true);
    expect(await catalog.deleteResource('staging')).toBe(true);
    expect(await catalog.deleteEndpoint('prod-read')).toBe(true);
    expect(await catalog.deleteAuthorization('read')).toBe(true);
  });

  it('refuses to delete an endpoint a group lists or a live credential uses, and a group with live credentials', async () => {
    const catalog = await seeded();
    await catalog.putGroup({ name: 'analysts', members: ['ana@example.com'], endpoints: ['prod-read'] });
    const listed = await failure(catalog.deleteEndpoint('prod-read'));
    expect(listed.message).toMatch(/^cannot delete endpoint "prod-read": it is still used by group "analysts"; /);

    const grantedAt = new Date();
    await catalog.recordIssued([
      { roleName: 'ana_prod_read', resource: 'prod', endpoint: 'prod-read', group: 'analysts', member: 'ana@example.com', grantedAt, expiresAt: new Date(grantedAt.getTime() + 3600_000) },
    ]);
    await catalog.putGroup({ name: 'analysts', members: ['ana@example.com'], endpoints: [] });
    const live = await failure(catalog.deleteEndpoint('prod-read'));
    expect(live.message).toMatch(/^cannot delete endpoint "prod-read": it is still used by 1 live credential \(role "ana_prod_read"\); /);
    expect(live.referencedBy).toEqual([{ kind: 'credential', name: 'ana_prod_read' }]);
    const group = await failure(catalog.deleteGroup('analysts'));
    expect(group.message).toMatch(/^cannot delete group "analysts": it is still used by 1 live credential \(role "ana_prod_read"\); revoke them first/);
    expect(await catalog.getGroup('analysts')).toBeDefined();

    // Revoke, then delete, atomically: what the runtime does when a group is destroyed.
    await catalog.transaction(async (tx) => {
      await tx.markRevoked(['ana_prod_read'], 'group destroyed');
      expect(await tx.deleteGroup('analysts')).toBe(true);
    });
    expect(await catalog.deleteEndpoint('prod-read')).toBe(true);
  });

  it('leaves a refused delete without effect inside a caller transaction', async () => {
    const catalog = await seeded();
    await catalog.transaction(async (tx) => {
      await expect(tx.deleteAuthorization('write')).rejects.toThrow(/still used by endpoint "prod-write"/);
      // The transaction is still usable: the refusal came before any write.
      await tx.putAuthorization({ name: 'audit', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['audit'], tables: ['*'] } });
    });
    expect(await catalog.getAuthorization('write')).toBeDefined();
    expect(await catalog.getAuthorization('audit')).toBeDefined();
  });

  it('orders a delete against a concurrent write that adds a reference', async () => {
    const catalog = await seeded();
    // A transaction adding a group that lists prod-write holds it open while the delete runs.
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    let listed!: () => void;
    const groupWritten = new Promise<void>((resolve) => (listed = resolve));
    const writer = catalog.transaction(async (tx) => {
      await tx.putGroup({ name: 'late', members: ['dee@example.com'], endpoints: ['prod-write'] });
      listed();
      await holding;
    });
    await groupWritten;
    const deleting = catalog.deleteEndpoint('prod-write');
    // Let the writer commit only once the delete is queued behind its lock.
    await waitForLockWaiters(currentDb, 1);
    release();
    await writer;
    const refused = await failure(deleting);
    expect(refused.message).toMatch(/still used by group "late"/);
    expect(await catalog.getEndpoint('prod-write')).toBeDefined();
  });
});
