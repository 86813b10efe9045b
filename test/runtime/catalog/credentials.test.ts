/**
 * Issued credentials: recorded in one statement however many, one live credential per
 * role, revoked with a reason, extended, and the reaper's questions (what is live, what
 * has expired, when is the next expiry). Recording and auditing together are atomic.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, type NewCredential } from '../../../src/runtime/catalog';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const HOUR = 3600_000;
/** A fixed clock for the rows, far from the database's own "now". */
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

function issued(roleName: string, over: Partial<NewCredential> = {}): NewCredential {
  return {
    roleName,
    resource: 'prod',
    endpoint: 'prod-read',
    group: 'analysts',
    member: `${roleName}@example.com`,
    grantedAt: T0,
    expiresAt: at(8),
    ...over,
  };
}

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

  async function freshCatalog(on: LocalCluster = cluster, via: Client = admin): Promise<{ db: string; catalog: Catalog }> {
    const db = `catalog_${++seq}`;
    // A file copy of the small template is much quicker than WAL-logging it block by block.
    await via.query(`create database ${ident(db)} strategy = file_copy`);
    const catalog = await Catalog.open(on.url(db));
    opened.push(catalog);
    return { db, catalog };
  }

  async function count(db: string, where = 'true'): Promise<number> {
    const client = new Client(cluster.clientConfig(db));
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from adaptive.credentials where ${where}`);
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  }

  it('records what was issued and returns it with ids', async () => {
    const { catalog } = await freshCatalog();
    const records = await catalog.recordIssued([issued('ana'), issued('bo', { endpoint: 'prod-write', expiresAt: at(1) })]);
    expect(records.map((r) => [r.roleName, r.endpoint, r.revokedAt, r.revokeReason])).toEqual([
      ['ana', 'prod-read', null, null],
      ['bo', 'prod-write', null, null],
    ]);
    expect(records[0]).toMatchObject({ resource: 'prod', group: 'analysts', member: 'ana@example.com', grantedAt: T0, expiresAt: at(8) });
    expect(BigInt(records[1]!.id)).toBeGreaterThan(BigInt(records[0]!.id));
    expect(await catalog.recordIssued([])).toEqual([]);
  });

  it('records 1000 credentials in one call', async () => {
    const { db, catalog } = await freshCatalog();
    const batch = Array.from({ length: 1000 }, (_, i) => issued(`member_${String(i).padStart(4, '0')}`, { expiresAt: at(1 + (i % 24)) }));
    const records = await catalog.recordIssued(batch);
    expect(records).toHaveLength(1000);
    expect(records.map((r) => r.roleName)).toEqual(batch.map((b) => b.roleName));
    expect(await count(db)).toBe(1000);
    expect(await count(db, 'revoked_at is null')).toBe(1000);
    expect(await catalog.liveCredentials({ resource: 'prod' })).toHaveLength(1000);
  });

  it('sends those 1000 credentials to the server as a single statement', async () => {
    // A cluster of its own that logs every data-modifying statement (without parameters);
    // its log is complete once it has stopped.
    const logged = await startPostgres(binaries, { settings: { log_statement: 'mod', log_parameter_max_length: '0' } });
    try {
      const via = new Client(logged.clientConfig());
      await via.connect();
      try {
        const { catalog } = await freshCatalog(logged, via);
        await catalog.recordIssued(Array.from({ length: 1000 }, (_, i) => issued(`role_${i}`)));
        await catalog.close();
      } finally {
        await via.end();
      }
    } finally {
      await logged.stop();
    }
    const inserts = logged.readLog().split('\n').filter((line) => /statement: |execute [^:]*: /.test(line) && /insert into "adaptive"\."credentials"/i.test(line));
    expect(inserts).toHaveLength(1);
  });

  it('allows one live credential per role, and a new one once it is revoked', async () => {
    const { catalog } = await freshCatalog();
    await catalog.recordIssued([issued('ana')]);
    const again = await catalog.recordIssued([issued('bo'), issued('ana')]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(again).toBeInstanceOf(CatalogError);
    expect((again as CatalogError).code).toBe('conflict');
    expect((again as CatalogError).message).toMatch(/role "ana" already has a live credential in the catalog/);
    // Nothing of the failed batch was kept.
    expect((await catalog.liveCredentials()).map((c) => c.roleName)).toEqual(['ana']);

    await catalog.markRevoked(['ana'], 'replaced');
    await catalog.recordIssued([issued('ana', { grantedAt: at(1), expiresAt: at(9) })]);
    expect((await catalog.liveCredentials()).map((c) => [c.roleName, c.grantedAt])).toEqual([['ana', at(1)]]);
  });

  it('refuses a credential that expires before it is granted', async () => {
    const { catalog } = await freshCatalog();
    await expect(catalog.recordIssued([issued('ana', { expiresAt: T0 })])).rejects.toThrow(/credential 1 \(role "ana"\): expiresAt must be after grantedAt/);
    await expect(catalog.recordIssued([issued('ana', { grantedAt: new Date('nonsense') })])).rejects.toThrow(/grantedAt must be a valid date/);
  });

  it('revokes with a reason, once, and only what is live', async () => {
    const { catalog } = await freshCatalog();
    await catalog.recordIssued([issued('ana'), issued('bo'), issued('cy')]);
    const revoked = await catalog.markRevoked(['ana', 'bo', 'nobody'], 'member removed');
    expect(revoked.map((r) => [r.roleName, r.revokeReason])).toEqual([
      ['ana', 'member removed'],
      ['bo', 'member removed'],
    ]);
    expect(revoked[0]!.revokedAt).toBeInstanceOf(Date);
    expect(await catalog.markRevoked(['ana'], 'expired')).toEqual([]);
    expect((await catalog.liveCredentials()).map((c) => c.roleName)).toEqual(['cy']);

    const when = at(3);
    const [cy] = await catalog.markRevoked(['cy'], 'group destroyed', { at: when });
    expect(cy).toMatchObject({ roleName: 'cy', revokedAt: when, revokeReason: 'group destroyed' });
    await expect(catalog.markRevoked(['cy'], '')).rejects.toThrow(/needs a reason/);
  });

  it('extends live credentials only', async () => {
    const { catalog } = await freshCatalog();
    await catalog.recordIssued([issued('ana'), issued('bo'), issued('cy')]);
    await catalog.markRevoked(['cy'], 'member removed');
    const extended = await catalog.extend(['ana', 'bo', 'cy'], at(12));
    expect(extended.map((c) => [c.roleName, c.expiresAt])).toEqual([
      ['ana', at(12)],
      ['bo', at(12)],
    ]);
    expect((await catalog.liveCredentials()).map((c) => c.expiresAt)).toEqual([at(12), at(12)]);
    await expect(catalog.extend(['ana'], at(-1))).rejects.toThrow(/new expiry is not after the grant/);
  });

  it('filters live credentials by resource, endpoint, group and member', async () => {
    const { catalog } = await freshCatalog();
    await catalog.recordIssued([
      issued('a1', { member: 'ana@example.com', expiresAt: at(2) }),
      issued('a2', { member: 'ana@example.com', endpoint: 'prod-write', group: 'writers', expiresAt: at(1) }),
      issued('b1', { member: 'bo@example.com', resource: 'staging', endpoint: 'staging-read' }),
    ]);
    const names = async (filter: Parameters<Catalog['liveCredentials']>[0]): Promise<string[]> =>
      (await catalog.liveCredentials(filter)).map((c) => c.roleName);
    expect(await names({})).toEqual(['a2', 'a1', 'b1']); // soonest expiry first
    expect(await names({ resource: 'prod' })).toEqual(['a2', 'a1']);
    expect(await names({ endpoint: 'prod-write' })).toEqual(['a2']);
    expect(await names({ group: 'analysts' })).toEqual(['a1', 'b1']);
    expect(await names({ member: 'ana@example.com', group: 'analysts' })).toEqual(['a1']);
    expect(await names({ member: 'nobody@example.com' })).toEqual([]);
  });

  it('lists what has expired but is not revoked, and tells the next expiry', async () => {
    const { catalog } = await freshCatalog();
    expect(await catalog.nextExpiry()).toBeNull();
    await catalog.recordIssued([
      issued('early', { expiresAt: at(1) }),
      issued('mid', { expiresAt: at(2), resource: 'staging' }),
      issued('late', { expiresAt: at(5) }),
      issued('gone', { expiresAt: at(0.5) }),
    ]);
    await catalog.markRevoked(['gone'], 'member removed');

    expect(await catalog.nextExpiry()).toEqual(at(1));
    expect(await catalog.nextExpiry('staging')).toEqual(at(2));
    expect(await catalog.nextExpiry('nowhere')).toBeNull();

    expect((await catalog.expiredUnrevoked(at(0.9))).map((c) => c.roleName)).toEqual([]);
    expect((await catalog.expiredUnrevoked(at(2))).map((c) => c.roleName)).toEqual(['early', 'mid']); // at or before
    expect((await catalog.expiredUnrevoked(at(6), { resource: 'prod' })).map((c) => c.roleName)).toEqual(['early', 'late']);
    expect((await catalog.expiredUnrevoked(at(6), { limit: 1 })).map((c) => c.roleName)).toEqual(['early']);
    // Without a time, the database's clock: these are all in 2030.
    expect(await catalog.expiredUnrevoked()).toEqual([]);

    await catalog.markRevoked(['early'], 'expired');
    expect(await catalog.nextExpiry()).toEqual(at(2));
    expect(await catalog.nextExpiry('prod')).toEqual(at(5));
  });

  it('records credentials and their audit events atomically', async () => {
    const { db, catalog } = await freshCatalog();
    const grant = (c: NewCredential) => ({ event: 'grant', resource: c.resource, endpoint: c.endpoint, group: c.group, member: c.member, roleName: c.roleName });

    const failed = catalog.transaction(async (tx) => {
      expect(tx.inTransaction).toBe(true);
      const creds = [issued('ana'), issued('bo')];
      await tx.recordIssued(creds);
      await tx.appendAudit(creds.map(grant));
      expect(await tx.liveCredentials()).toHaveLength(2); // visible inside
      throw new Error('the target refused the grant');
    });
    await expect(failed).rejects.toThrow('the target refused the grant');
    expect(await count(db)).toBe(0);
    expect(await catalog.readAudit({ event: 'grant' })).toEqual([]);

    const result = await catalog.transaction(async (tx) => {
      const creds = await tx.recordIssued([issued('ana'), issued('bo')]);
      await tx.appendAudit(creds.map(grant));
      // A nested transaction joins the outer one.
      await tx.transaction((inner) => inner.markRevoked(['bo'], 'member removed'));
      return creds.length;
    });
    expect(result).toBe(2);
    expect((await catalog.liveCredentials()).map((c) => c.roleName)).toEqual(['ana']);
    expect((await catalog.readAudit({ event: 'grant' })).map((e) => e.roleName)).toEqual(['ana', 'bo']);
  });

  it('keeps revocation history across re-issue', async () => {
    const { db, catalog } = await freshCatalog();
    for (let round = 0; round < 3; round++) {
      await catalog.recordIssued([issued('ana', { grantedAt: at(round * 10), expiresAt: at(round * 10 + 8) })]);
      await catalog.markRevoked(['ana'], 'expired');
    }
    expect(await count(db, "role_name = 'ana'")).toBe(3);
    expect(await count(db, "role_name = 'ana' and revoke_reason = 'expired'")).toBe(3);
    expect(await catalog.liveCredentials()).toEqual([]);
  });
});
