/**
 * Expiry follows the server's clock, never this process's: a CI runner whose clock is off
 * by an hour must neither stretch a grant by the skew nor issue it already expired, and
 * the reaper must neither reap a grant early nor leave an expired one alone. The process
 * clock is moved (only `Date`; timers run in real time) while PostgreSQL keeps the truth.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, credentialRows, loginResult, roleExists, serviceWithEndpoint, sql, untilServerPasses, type ServiceHandle } from './service-fixture';

const HOUR_MS = 3_600_000;
const HALF_HOUR = 1800;

/** Moves this process's clock (Date only) by `skewMs`; it keeps running from there. */
function skewClock(skewMs: number): void {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + skewMs, shouldAdvanceTime: true });
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const fresh = (ttlSeconds: number) => serviceWithEndpoint(cluster, handles, `clock-${++seq}`, ttlSeconds);

  /** The role's VALID UNTIL and how far it is from the server's now(), in ms. */
  async function serverView(role: string): Promise<{ validUntil: Date; leftMs: number }> {
    const [row] = await sql<{ v: Date; left: number }>(
      cluster,
      'postgres',
      `select rolvaliduntil as v, (extract(epoch from rolvaliduntil - now()) * 1000)::float8 as left from pg_roles where rolname = $1`,
      [role],
    );
    return { validUntil: row!.v, leftMs: row!.left };
  }

  for (const [label, skew] of [
    ['an hour ahead', HOUR_MS],
    ['an hour behind', -HOUR_MS],
  ] as const) {
    it(`with the process clock ${label}, a grant expires at the server's now() + ttl, recorded as the server said`, async () => {
      const h = await fresh(HALF_HOUR);
      skewClock(skew);
      const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [h.endpoint] }, new Set());
      const [credential] = issued;
      const view = await serverView(credential!.username);
      // Half an hour on the server, give or take the time the call took.
      expect(view.leftMs).toBeGreaterThan(HALF_HOUR * 1000 - 60_000);
      expect(view.leftMs).toBeLessThanOrEqual(HALF_HOUR * 1000);
      // What Terraform and the catalog are told is what the server enforces.
      expect(credential!.expiresAt.getTime()).toBe(view.validUntil.getTime());
      const [row] = await credentialRows(cluster, h.db);
      expect(row!.expires_at.getTime()).toBe(view.validUntil.getTime());
      // Not born expired: the member logs in.
      expect(await loginResult(credential!)).toBe('ok');
    });
  }

  it('with the process clock an hour ahead, the reaper leaves a grant the server still honours', async () => {
    const h = await fresh(HALF_HOUR);
    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [h.endpoint] }, new Set());
    skewClock(HOUR_MS);
    const cheap = await h.service.reap({ onlyRecorded: true });
    const full = await h.service.reap();
    expect([...cheap.results, ...full.results].flatMap((r) => r.reaped)).toEqual([]);
    expect(await roleExists(cluster, issued[0]!.username)).toBe(true);
    expect(await loginResult(issued[0]!)).toBe('ok');
    expect((await credentialRows(cluster, h.db))[0]!.revoked_at).toBeNull();
  });

  it('with the process clock an hour behind, the reaper ends a grant the server has expired', async () => {
    const h = await fresh(1);
    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [h.endpoint] }, new Set());
    const role = issued[0]!.username;
    await untilServerPasses(cluster, (await serverView(role)).validUntil);
    skewClock(-HOUR_MS);
    const report = await h.service.reap({ onlyRecorded: true });
    expect(report.errors).toEqual([]);
    expect(report.results.flatMap((r) => r.reaped.map((x) => x.role))).toEqual([role]);
    expect(await roleExists(cluster, role)).toBe(false);
    const [row] = await credentialRows(cluster, h.db);
    expect(row!.revoke_reason).toBe('expired');
  });

  it('with the process clock an hour ahead, a raised ttl extends a grant the server still honours', async () => {
    const h = await fresh(HALF_HOUR);
    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [h.endpoint] }, new Set());
    const before = await serverView(issued[0]!.username);
    skewClock(HOUR_MS);
    const raised = await h.service.applyEndpoint({ name: h.endpoint, type: 'direct', ttlSeconds: 2 * HALF_HOUR, resource: 'main', authorization: 'read' });
    expect(raised.extended).toEqual([issued[0]!.username]);
    const after = await serverView(issued[0]!.username);
    expect(after.validUntil.getTime() - before.validUntil.getTime()).toBe(HALF_HOUR * 1000);
  });
});
