/**
 * `reap --watch --metrics-addr`: the Prometheus metrics and the probes, from a real watcher
 * (child process) on a real catalog and target. The catalog is reached through a TCP relay,
 * so the test can cut the network to it and mend it while the watcher runs.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { MemberCredential } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy';
import { APP_SCHEMA_SQL, connectAs, createDatabase, openService, sql, targetConfig, type ServiceHandle } from '../runtime/service-fixture';
import { runCli, startCli, type CliProcess } from './run-cli';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };

async function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The value of one sample in Prometheus text format, e.g. `name{label="x"}`; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let handle: ServiceHandle;
  let proxy: TcpProxy;
  let watch: CliProcess | undefined;
  let brief: MemberCredential;
  let session: Client;
  let address: string;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
    handle = await openService(cluster, 'reapmetrics');
    const s = handle.service;
    await s.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await s.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await s.applyEndpoint({ name: 'brief', type: 'direct', ttlSeconds: 4, resource: 'main', authorization: 'read' });
    await s.applyEndpoint({ name: 'day', type: 'direct', ttlSeconds: 86400, resource: 'main', authorization: 'read' });
    await s.applyGroup({ name: 'day', members: ['ana@example.com'], endpoints: ['day'] }, new Set());
    [brief] = (await s.applyGroup({ name: 'brief', members: ['bo@example.com'], endpoints: ['brief'] }, new Set())).issued as [MemberCredential];
    session = await connectAs(brief);
    session.on('error', () => undefined); // ended by the reaper: expected
    proxy = await startTcpProxy(cluster);
    const catalogUrl = `postgres://${cluster.user}:${encodeURIComponent(cluster.password)}@${proxy.host}:${proxy.port}/${handle.db}`;
    watch = startCli(['reap', '--watch', '--json', '--poll', '0.5', '--max-sleep', '1', '--metrics-addr', '127.0.0.1:0'], {
      env: { ADAPTIVE_CATALOG_URL: catalogUrl, ADAPTIVE_CATALOG_KEY: handle.key.toString('hex') },
    });
    ({ address } = await watch.waitForEvent<{ address: string }>((e) => e.event === 'listening'));
  });
  afterAll(async () => {
    await watch?.stop('SIGKILL');
    await session?.end().catch(() => undefined);
    await proxy?.close();
    await handle?.service.close();
    await cluster?.stop();
  });

  it('serves the credentials per target, then the reaped counter, the latency histogram and the last success after a reap', async () => {
    const before = await get(address, '/metrics');
    expect(before.status).toBe(200);
    // The day-long grant is live throughout; the brief one is live or expired, until reaped.
    expect(sample(before.body, 'adaptive_reaper_credentials{target="main",state="live"}')).toBeGreaterThanOrEqual(1);
    expect(sample(before.body, 'adaptive_reaper_leases_held')).toBe(0);

    const reaped = await watch!.waitForEvent<{ latencySeconds: number; endedAt: string; expiredAt: string }>((e) => e.event === 'reaped' && e.role === brief.username);
    // The JSON log line carries what the histogram observed.
    expect(reaped.latencySeconds).toBe((Date.parse(reaped.endedAt) - Date.parse(reaped.expiredAt)) / 1000);
    expect(reaped.latencySeconds).toBeGreaterThanOrEqual(0);

    const after = (await get(address, '/metrics')).body;
    expect(sample(after, 'adaptive_reaper_reaped_total{target="main"}')).toBe(1);
    expect(sample(after, 'adaptive_reaper_expiry_to_session_end_seconds_count{target="main"}')).toBe(1);
    expect(sample(after, 'adaptive_reaper_expiry_to_session_end_seconds_sum{target="main"}')).toBeCloseTo(reaped.latencySeconds, 3);
    expect(sample(after, 'adaptive_reaper_credentials{target="main",state="live"}')).toBe(1);
    expect(sample(after, 'adaptive_reaper_credentials{target="main",state="expired_unreaped"}')).toBe(0);
    const lastSuccess = sample(after, 'adaptive_reaper_last_success_timestamp_seconds{target="main"}');
    expect(lastSuccess).toBeGreaterThan(Date.parse(reaped.expiredAt) / 1000 - 60);
    expect(after).toContain('# TYPE adaptive_reaper_expiry_to_session_end_seconds histogram');
    expect(after).not.toContain(cluster.password);
    expect(after).not.toContain(brief.username);
  });

  it('/healthz and /readyz are 200 while the catalog answers, 503 naming it while the network to it is cut, 200 again once mended', async () => {
    expect(await get(address, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(address, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    proxy.cut();
    try {
      const down = await get(address, '/healthz');
      expect(down.status).toBe(503);
      expect(down.body).toMatch(/^catalog unreachable: /);
      expect(down.body).not.toContain(cluster.password);
      expect((await get(address, '/readyz')).status).toBe(503);
    } finally {
      proxy.restore();
    }
    expect(await get(address, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(address, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await get(address, '/nowhere')).status).toBe(404);
  });
});

describe('usage', () => {
  it.each([
    [['reap', '--metrics-addr', '127.0.0.1:9464'], /option '--metrics-addr' applies only with --watch/],
    [['reap', '--watch', '--metrics-addr', 'localhost'], /option '--metrics-addr' must be HOST:PORT/],
    [['reap', '--watch', '--metrics-addr', '127.0.0.1:70000'], /option '--metrics-addr' must be HOST:PORT/],
  ])('%j exits 2', async (args, message) => {
    const r = await runCli(args, { env: { ADAPTIVE_CATALOG_URL: 'postgres://u@127.0.0.1:1/db' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
