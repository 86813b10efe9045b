/**
 * Several `reap --watch` replicas on one catalog (child processes, a real cluster): they
 * split the targets through leases in the catalog, only the holder of a target connects to
 * it, a replica killed with SIGKILL or cut off from the catalog has its targets taken over, and grants issued while
 * they run are ended on time without any --poll wait (LISTEN/NOTIFY), also across a kill.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { MemberCredential } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startTcpProxy } from '../fixtures/tcp-proxy';
import { APP_SCHEMA_SQL, connectAs, createDatabase, openService, sql, targetConfig, type ServiceHandle } from '../runtime/service-fixture';
import { startCli, type CliProcess } from './run-cli';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
/** Takeover and session end must come within this of the kill or the expiry. */
const WITHIN_MS = 2000;

interface LeasesEvent {
  at: string;
  held: string[];
  replicas: number;
}

/** A replica's latest `leases` event (what it holds now), or undefined before its first. */
function latestLeases(replica: CliProcess): LeasesEvent | undefined {
  for (let i = replica.lines.length - 1; i >= 0; i--) {
    const event = JSON.parse(replica.lines[i]!) as { event: string } & LeasesEvent;
    if (event.event === 'leases') return event;
  }
  return undefined;
}

/** Resolves when the replicas' latest leases are disjoint and cover `targets`, each holding its share. */
async function untilShared(replicas: readonly CliProcess[], targets: readonly string[]): Promise<Map<CliProcess, string[]>> {
  const share = Math.ceil(targets.length / replicas.length);
  const settled = (): Map<CliProcess, string[]> | undefined => {
    const held = new Map(replicas.map((r) => [r, latestLeases(r)?.held ?? []]));
    const all = [...held.values()].flat();
    const covers = all.length === targets.length && new Set(all).size === targets.length && targets.every((t) => all.includes(t));
    return covers && [...held.values()].every((h) => h.length <= share) ? held : undefined;
  };
  // Every leases event is a chance to have settled: wait on any replica's next one.
  for (;;) {
    const done = settled();
    if (done) return done;
    const next = replicas.map((r) => r.waitForEvent((e) => e.event === 'leases', { from: r.lines.length }));
    // A replica that exited or stayed silent rejects; only all of them doing so is a failure.
    await Promise.any(next).catch(() => {
      throw new Error(`the replicas stopped changing their leases before sharing ${targets.join(', ')}\n${replicas.map((r) => r.transcript()).join('\n')}`);
    });
    for (const n of next) n.catch(() => undefined);
  }
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  const replicas: CliProcess[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
  });
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.stop('SIGKILL')));
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function startReplicas(handle: ServiceHandle, count: number): CliProcess[] {
    const env = { ADAPTIVE_CATALOG_URL: cluster.url(handle.db), ADAPTIVE_CATALOG_KEY: handle.key.toString('hex') };
    // --poll far beyond the test: grants issued meanwhile must be noticed by notification.
    const started = Array.from({ length: count }, () => startCli(['reap', '--watch', '--json', '--poll', '600', '--max-sleep', '600'], { env }));
    replicas.push(...started);
    return started;
  }

  /** Each database's connections from reaper replicas, by application_name. */
  async function reaperConnections(): Promise<Map<string, Set<string>>> {
    const admin = new Client(cluster.clientConfig());
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string; application_name: string }>(
        "select datname, application_name from pg_stat_activity where application_name like 'adaptive-access reap %'",
      );
      const byDb = new Map<string, Set<string>>();
      for (const r of rows) byDb.set(r.datname, (byDb.get(r.datname) ?? new Set()).add(r.application_name));
      return byDb;
    } finally {
      await admin.end();
    }
  }

  async function replicaName(replica: CliProcess): Promise<string> {
    return (await replica.waitForEvent<{ replica: string }>((e) => e.event === 'started')).replica;
  }

  it('3 replicas split 30 targets, each target connected from its holder only; a killed replica’s targets are taken over within 2 s', async () => {
    const handle = await openService(cluster, 'leases');
    handles.push(handle);
    const targets = Array.from({ length: 30 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
    for (const t of targets) {
      await createDatabase(cluster, `${handle.db}_${t}`);
      await handle.service.applyResource(targetConfig(cluster, t, `${handle.db}_${t}`));
    }
    const three = startReplicas(handle, 3);
    const names = await Promise.all(three.map(replicaName));
    const held = await untilShared(three, targets);
    for (const h of held.values()) expect(h).toHaveLength(10);

    // Each replica passes over its targets after a change of leases; wait for a pass after the last one.
    await Promise.all(three.map((r) => r.waitForEvent((e) => e.event === 'sleeping', { from: r.lines.findLastIndex((l) => l.includes('"leases"')) })));
    const connections = await reaperConnections();
    three.forEach((replica, i) => {
      for (const t of held.get(replica)!) {
        const from = connections.get(`${handle.db}_${t}`);
        // Idle connections may have been closed (idle timeout); any that exist are the holder's.
        if (from) expect([...from]).toEqual([`adaptive-access reap ${names[i]}`]);
      }
    });
    for (const from of connections.values()) expect(from.size).toBe(1);

    const [victim, ...survivors] = three as [CliProcess, CliProcess, CliProcess];
    const orphaned = held.get(victim)!;
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const after = await untilShared(survivors, targets);
    const takenOverAt = Math.max(...survivors.map((s) => Date.parse(latestLeases(s)!.at)));
    expect(takenOverAt - killedAt).toBeLessThan(WITHIN_MS);
    expect([...after.values()].flat().filter((t) => orphaned.includes(t)).sort()).toEqual([...orphaned].sort());
    for (const s of survivors) {
      const events = s.lines.map((l) => JSON.parse(l) as { event: string });
      expect(events.filter((e) => e.event === 'error' || e.event === 'failed'), s.transcript()).toEqual([]);
    }
  });

  it('a replica cut off from the catalog loses its targets to the others within 2 s, and gets its share back once the network is mended', async () => {
    const handle = await openService(cluster, 'cut');
    handles.push(handle);
    const targets = Array.from({ length: 6 }, (_, i) => `c${i + 1}`);
    for (const t of targets) {
      await createDatabase(cluster, `${handle.db}_${t}`);
      await handle.service.applyResource(targetConfig(cluster, t, `${handle.db}_${t}`));
    }
    const proxy = await startTcpProxy(cluster);
    try {
      const key = handle.key.toString('hex');
      const args = ['reap', '--watch', '--json', '--poll', '600', '--max-sleep', '600'];
      const direct = startCli(args, { env: { ADAPTIVE_CATALOG_URL: cluster.url(handle.db), ADAPTIVE_CATALOG_KEY: key } });
      const proxied = `postgres://${cluster.user}:${encodeURIComponent(cluster.password)}@${proxy.host}:${proxy.port}/${handle.db}`;
      const cut = startCli(args, { env: { ADAPTIVE_CATALOG_URL: proxied, ADAPTIVE_CATALOG_KEY: key } });
      replicas.push(direct, cut);
      await untilShared([direct, cut], targets);

      const cutAt = Date.now();
      proxy.cut();
      await untilShared([direct], targets);
      expect(Date.parse(latestLeases(direct)!.at) - cutAt).toBeLessThan(WITHIN_MS);

      proxy.restore();
      // Mended: the cut-off replica registers again and the two share the targets once more.
      const shared = await untilShared([direct, cut], targets);
      for (const held of shared.values()) expect(held).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('grants of 3-10 s on 3 targets end within 2 s of expiry, without --poll, also when a replica is killed just before a batch', async () => {
    const handle = await openService(cluster, 'batches');
    handles.push(handle);
    const targets = ['a', 'b', 'c'];
    for (const t of targets) {
      const db = `${handle.db}_${t}`;
      await createDatabase(cluster, db);
      await sql(cluster, db, APP_SCHEMA_SQL);
      await handle.service.applyResource(targetConfig(cluster, t, db));
    }
    await handle.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    const three = startReplicas(handle, 3);
    const held = await untilShared(three, targets);

    // Issued while the replicas sleep with --poll 600: only the notification can tell them.
    // Each session opens right after its grant, before even a 3 s credential expires.
    const credentials: MemberCredential[] = [];
    const ends: Array<Promise<number>> = [];
    for (const t of targets) {
      for (const ttl of [3, 6, 10]) {
        await handle.service.applyEndpoint({ name: `${t}-${ttl}`, type: 'direct', ttlSeconds: ttl, resource: t, authorization: 'read' });
        const { issued } = await handle.service.applyGroup({ name: `${t}-${ttl}`, members: [`m${ttl}@${t}.example`], endpoints: [`${t}-${ttl}`] }, new Set());
        const [credential] = issued as [MemberCredential];
        const client = await connectAs(credential);
        clients.push(client);
        credentials.push(credential);
        ends.push(new Promise<number>((resolve) => client.once('error', () => resolve(Date.now()))));
      }
    }
    // Kill the holder of 'b' half a second before its 6 s batch; its 3 s grant may be reaped already.
    const victim = [...held.entries()].find(([, h]) => h.includes('b'))![0];
    const batch = credentials.find((c) => c.endpoint === 'b-6')!;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, batch.expiresAt.getTime() - 500 - Date.now())));
    await victim.stop('SIGKILL');

    const ended = await Promise.all(ends);
    credentials.forEach((c, i) => {
      const late = ended[i]! - c.expiresAt.getTime();
      expect(late, `${c.username} ended ${late} ms after its expiry`).toBeGreaterThanOrEqual(0);
      expect(late, `${c.username} ended ${late} ms after its expiry`).toBeLessThan(WITHIN_MS);
    });
    for (const s of three.filter((r) => r !== victim)) {
      const events = s.lines.map((l) => JSON.parse(l) as { event: string });
      expect(events.filter((e) => e.event === 'error' || e.event === 'failed'), s.transcript()).toEqual([]);
    }
  });
});
