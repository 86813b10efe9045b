/**
 * The audit log: appended in one statement, read back by time, event, person and target,
 * and append-only in the database itself: UPDATE, DELETE and TRUNCATE fail whoever runs
 * them, even a superuser in replica mode.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, type AuditEvent } from '../../../src/runtime/catalog';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const T0 = new Date('2030-06-01T12:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let admin: Client;
  let seq = 0;
  const opened: Catalog[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all([...opened.splice(0).map((c) => c.close()), ...clients.splice(0).map((c) => c.end())]);
  });
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshCatalog(): Promise<{ catalog: Catalog; sql: Client }> {
    const db = `catalog_${++seq}`;
    // A file copy of the small template is much quicker than WAL-logging it block by block.
    await admin.query(`create database ${ident(db)} strategy = file_copy`);
    const catalog = await Catalog.open(cluster.url(db));
    opened.push(catalog);
    const sql = new Client(cluster.clientConfig(db));
    await sql.connect();
    clients.push(sql);
    return { catalog, sql };
  }

  const events: AuditEvent[] = [
    { event: 'grant', at: at(0), resource: 'prod', endpoint: 'prod-read', group: 'analysts', member: 'ana@example.com', roleName: 'r1', detail: { ttlSeconds: 28800 } },
    { event: 'grant', at: at(1), resource: 'prod', endpoint: 'prod-write', group: 'writers', member: 'bo@example.com', roleName: 'r2' },
    { event: 'extend', at: at(2), resource: 'prod', endpoint: 'prod-read', member: 'ana@example.com', roleName: 'r1', detail: { from: 'a', to: 'b' } },
    { event: 'revoke', at: at(3), resource: 'staging', endpoint: 'staging-read', member: 'bo@example.com', roleName: 'r3', detail: { reason: 'member removed' } },
    { event: 'expire', at: at(4), resource: 'prod', endpoint: 'prod-read', member: 'ana@example.com', roleName: 'r1', detail: { sessionsEnded: 2 } },
  ];

  it('appends many events in order and reads them back', async () => {
    const { catalog } = await freshCatalog();
    expect(await catalog.appendAudit(events)).toBe(5);
    expect(await catalog.appendAudit([])).toBe(0);
    const all = await catalog.readAudit();
    expect(all.map((e) => e.event)).toEqual(['grant', 'grant', 'extend', 'revoke', 'expire']);
    expect(all[0]).toMatchObject({
      at: at(0),
      resource: 'prod',
      endpoint: 'prod-read',
      group: 'analysts',
      member: 'ana@example.com',
      roleName: 'r1',
      detail: { ttlSeconds: 28800 },
    });
    expect(all[1]!.detail).toEqual({});
    expect(all[2]!.group).toBeNull();
    const ids = all.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
  });

  it('stamps events with the transaction time when no time is given', async () => {
    const { catalog } = await freshCatalog();
    const before = Date.now();
    await catalog.appendAudit([{ event: 'grant', member: 'ana@example.com' }]);
    const [event] = await catalog.readAudit();
    // Generous bounds: the database's clock is this machine's clock.
    expect(event!.at.getTime()).toBeGreaterThan(before - 60_000);
    expect(event!.at.getTime()).toBeLessThan(Date.now() + 60_000);
  });

  it('filters by time, event, member, resource, endpoint and group, with a limit and either order', async () => {
    const { catalog } = await freshCatalog();
    await catalog.appendAudit(events);
    const read = async (filter: Parameters<Catalog['readAudit']>[0]): Promise<string[]> =>
      (await catalog.readAudit(filter)).map((e) => `${e.event}:${e.roleName ?? ''}`);

    expect(await read({ since: at(1), until: at(3) })).toEqual(['grant:r2', 'extend:r1']);
    expect(await read({ event: 'grant' })).toEqual(['grant:r1', 'grant:r2']);
    expect(await read({ event: ['revoke', 'expire'] })).toEqual(['revoke:r3', 'expire:r1']);
    expect(await read({ member: 'ana@example.com' })).toEqual(['grant:r1', 'extend:r1', 'expire:r1']);
    expect(await read({ resource: 'staging' })).toEqual(['revoke:r3']);
    expect(await read({ endpoint: 'prod-read', since: at(1) })).toEqual(['extend:r1', 'expire:r1']);
    expect(await read({ group: 'writers' })).toEqual(['grant:r2']);
    expect(await read({ limit: 2 })).toEqual(['grant:r1', 'grant:r2']);
    expect(await read({ limit: 2, newestFirst: true })).toEqual(['expire:r1', 'revoke:r3']);
    expect(await read({ member: 'nobody@example.com' })).toEqual([]);
    await expect(catalog.readAudit({ limit: 0 })).rejects.toBeInstanceOf(CatalogError);
  });

  it('refuses malformed events before writing any', async () => {
    const { catalog } = await freshCatalog();
    await expect(catalog.appendAudit([{ event: 'grant' }, { event: '' }])).rejects.toThrow(/audit event 2: event must be a non-empty string/);
    await expect(catalog.appendAudit([{ event: 'grant', detail: [] as unknown as Record<string, unknown> }])).rejects.toThrow(/detail must be an object/);
    expect(await catalog.readAudit()).toEqual([]);
  });

  it.each([
    ['UPDATE', "update adaptive.audit_log set member = 'someone-else@example.com'", /append-only: UPDATE is not allowed on adaptive\.audit_log/],
    ['DELETE', 'delete from adaptive.audit_log', /append-only: DELETE is not allowed on adaptive\.audit_log/],
    ['DELETE of no row', 'delete from adaptive.audit_log where false', /append-only: DELETE is not allowed/],
    ['TRUNCATE', 'truncate adaptive.audit_log', /append-only: TRUNCATE is not allowed on adaptive\.audit_log/],
  ])('refuses %s in the database', async (_label, statement, message) => {
    const { catalog, sql } = await freshCatalog();
    await catalog.appendAudit(events);
    await expect(sql.query(statement)).rejects.toThrow(message);
    expect(await catalog.readAudit()).toHaveLength(events.length);
  });

  it('stays append-only for a superuser in replica mode, which skips ordinary triggers', async () => {
    const { catalog, sql } = await freshCatalog();
    await catalog.appendAudit(events);
    await sql.query("set session_replication_role = 'replica'");
    await expect(sql.query('delete from adaptive.audit_log')).rejects.toThrow(/append-only/);
    await expect(sql.query('truncate adaptive.audit_log')).rejects.toThrow(/append-only/);
    expect(await catalog.readAudit()).toHaveLength(events.length);
  });
});
