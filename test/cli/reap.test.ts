/**
 * `adaptive-access reap` against a real catalog and a real target, run as a child process.
 * Grants are set up with the AccessService directly; the tests wait for their expiry
 * instants (short ttls) and then check what the CLI did on the target (sessions ended,
 * roles dropped), in the catalog (revoked 'expired', an 'expire' audit event), and what
 * it printed and returned.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident } from '../../src/runtime/pg/sql';
import type { MemberCredential } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  APP_SCHEMA_SQL,
  connectAs,
  createDatabase,
  credentialRows,
  loginResult,
  openService,
  queryResult,
  roleExists,
  sql,
  targetConfig,
  untilInstant,
  type ServiceHandle,
} from '../runtime/service-fixture';
import { runCli, startCli, type CliProcess } from './run-cli';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;

/** What `reap --json` prints. */
interface ReapJson {
  ok: boolean;
  at: string;
  targets: string[];
  reaped: Array<{ target: string; role: string; member: string | null; endpoint: string | null; expiredAt: string | null }>;
  failed: Array<{ target: string; role: string; error: string }>;
  errors: Array<{ target: string; error: string }>;
  skipped: Array<{ target: string; role: string }>;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  const clients: Client[] = [];
  const watchers: CliProcess[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop('SIGKILL')));
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * A catalog with the target 'main', the authorization 'read' and endpoints named for
   * this test (role names are cluster-wide, so each test has its own).
   */
  async function fresh(): Promise<ServiceHandle & { tag: string; env: Record<string, string> }> {
    const handle = await openService(cluster, 'reapcli');
    handles.push(handle);
    await handle.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await handle.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    const env = { ADAPTIVE_CATALOG_URL: cluster.url(handle.db), ADAPTIVE_CATALOG_KEY: handle.key.toString('hex') };
    return { ...handle, tag: `r${++seq}`, env };
  }

  /**
   * How soon after an expiry `reap --watch` must have ended the session. A watcher that
   * missed the expiry (or, asleep, the new grant) would sleep on to --max-sleep (60 s); the
   * margin is for a reap pass slowed down by a loaded machine (2.4 s seen with the suite's
   * files running in parallel, against a 2 s bound).
   */
  const REAP_WITHIN_MS = 5000;

  async function grant(h: ServiceHandle, group: string, members: string[], endpoint: string, ttlSeconds: number): Promise<MemberCredential[]> {
    await h.service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds, resource: 'main', authorization: 'read' });
    const { issued } = await h.service.applyGroup({ name: group, members, endpoints: [endpoint] }, new Set());
    return issued;
  }

  async function session(credential: MemberCredential): Promise<Client> {
    const client = await connectAs(credential);
    clients.push(client);
    return client;
  }

  /** Resolves with the time the server ends this session. */
  function endOf(client: Client): Promise<number> {
    return new Promise((resolve) => client.once('error', () => resolve(Date.now())));
  }

  async function expectRecordedExpired(h: ServiceHandle, credential: MemberCredential): Promise<void> {
    const row = (await credentialRows(cluster, h.db)).find((r) => r.role_name === credential.username);
    expect(row).toMatchObject({ revoke_reason: 'expired' });
    expect(row?.revoked_at).toBeInstanceOf(Date);
    const events = await h.catalog.readAudit({ event: 'expire' });
    expect(events.filter((e) => e.roleName === credential.username)).toEqual([
      expect.objectContaining({ resource: 'main', member: credential.member, endpoint: credential.endpoint, detail: expect.objectContaining({ role_dropped: true }) as unknown }),
    ]);
  }

  it('drops an expired credential, ends its open session, records it, and exits 0; a live one is left alone', async () => {
    const h = await fresh();
    const [brief] = await grant(h, 'brief', ['ana@example.com'], `${h.tag}-brief`, 2);
    // Logged in at once, before anything else can use up the 2 s on a loaded machine.
    const open = await session(brief!);
    const [long] = await grant(h, 'long', ['ana@example.com'], `${h.tag}-long`, HOUR);
    const ended = endOf(open);
    await untilInstant(brief!.expiresAt);
    expect(await loginResult(brief!)).toBe('28P01'); // PostgreSQL refuses it; the role and session remain
    expect(await queryResult(open, 'select 1')).toBe('ok');

    const r = await runCli(['reap'], { env: h.env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TARGET +ROLE +MEMBER +ENDPOINT +EXPIRED AT$/);
    expect(lines.slice(1, -1)).toEqual([expect.stringMatching(new RegExp(`^main +${brief!.username} +ana@example\\.com +${h.tag}-brief +\\d{4}-\\d\\d-\\d\\dT`))]);
    expect(lines.at(-1)).toBe('Reaped 1 expired role on 1 target.');
    expect(r.stderr).toBe('');

    await ended;
    expect(await roleExists(cluster, brief!.username)).toBe(false);
    await expectRecordedExpired(h, brief!);
    expect(await loginResult(long!)).toBe('ok');
    expect((await h.catalog.liveCredentials()).map((c) => c.roleName)).toEqual([long!.username]);

    const again = await runCli(['reap'], { env: h.env });
    expect(again).toMatchObject({ code: 0, stdout: 'Nothing to reap on 1 target.\n', stderr: '' });
  });

  it('--json prints one report that parses; --catalog-url works as the variable does', async () => {
    const h = await fresh();
    const issued = await grant(h, 'pair', ['ana@example.com', 'bo@example.com'], `${h.tag}-brief`, 1);
    await untilInstant(new Date(Math.max(...issued.map((c) => c.expiresAt.getTime()))));
    const r = await runCli(['reap', '--json', '--catalog-url', h.env.ADAPTIVE_CATALOG_URL!], { env: { ADAPTIVE_CATALOG_KEY: h.env.ADAPTIVE_CATALOG_KEY! } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout) as ReapJson;
    expect(report).toMatchObject({ ok: true, targets: ['main'], failed: [], errors: [], skipped: [] });
    expect(Date.parse(report.at)).toBeGreaterThan(0);
    expect(report.reaped.map((x) => x.role).sort()).toEqual(issued.map((c) => c.username).sort());
    for (const c of issued) {
      const line = report.reaped.find((x) => x.role === c.username)!;
      expect(line).toMatchObject({ target: 'main', member: c.member, endpoint: c.endpoint });
      // VALID UNTIL and the catalog's expiry are the same instant (to the millisecond at least).
      expect(Math.abs(Date.parse(line.expiredAt!) - c.expiresAt.getTime())).toBeLessThan(1000);
      await expectRecordedExpired(h, c);
    }
  });

  it('exits 1 when a role cannot be dropped (left disabled, reported), and a later run finishes it', async () => {
    const h = await fresh();
    const [brief] = await grant(h, 'stuck', ['ana@example.com'], `${h.tag}-brief`, 1);
    // The role holds a privilege in a database nobody may connect to: its drop cannot finish.
    const locked = `locked_${h.tag}`;
    await createDatabase(cluster, locked);
    await sql(cluster, locked, `create table t (id int); grant select on t to ${ident(brief!.username)}`);
    await sql(cluster, 'postgres', `alter database ${ident(locked)} allow_connections false`);
    try {
      await untilInstant(brief!.expiresAt);

      const r = await runCli(['reap'], { env: h.env });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^FAILED  main  ${brief!.username.replace(/\./g, '\\.')}: `, 'm'));
      expect(r.stdout).toMatch(/^Nothing reaped; 1 role could not be dropped\.$/m);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^adaptive-access reap: error: 1 expired role could not be dropped \(left disabled\): main\/.+ Fix the cause shown and run reap again/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(await roleExists(cluster, brief!.username)).toBe(true);

      const json = await runCli(['reap', '--json'], { env: h.env });
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as ReapJson;
      expect(report).toMatchObject({ ok: false, reaped: [], errors: [], failed: [{ target: 'main', role: brief!.username }] });
    } finally {
      await sql(cluster, 'postgres', `alter database ${ident(locked)} allow_connections true`);
    }
    const done = await runCli(['reap'], { env: h.env });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toContain(brief!.username);
    expect(await roleExists(cluster, brief!.username)).toBe(false);
    await expectRecordedExpired(h, brief!);
  });

  it('exits 1 naming ADAPTIVE_CATALOG_KEY when the key to a stored admin password is missing', async () => {
    const h = await fresh();
    const r = await runCli(['reap'], { env: { ADAPTIVE_CATALOG_URL: h.env.ADAPTIVE_CATALOG_URL! } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ERROR +main: .*ADAPTIVE_CATALOG_KEY/m);
    expect(r.stdout).toMatch(/^Nothing reaped; 1 of 1 target could not be reaped\.$/m);
    expect(r.stderr).toMatch(/^adaptive-access reap: error: 1 target could not be reaped: main: .*ADAPTIVE_CATALOG_KEY/);
  });

  it('--watch ends open sessions within seconds of expiry (not at --max-sleep), also of grants issued while it sleeps, and exits 0 on SIGTERM', async () => {
    const h = await fresh();
    const [first] = await grant(h, 'first', ['ana@example.com'], `${h.tag}-first`, 3);
    const firstSession = await session(first!);
    const firstEnded = endOf(firstSession);

    const watch = startCli(['reap', '--watch', '--json', '--poll', '1'], { env: h.env });
    watchers.push(watch);
    await watch.waitForEvent((e) => e.event === 'started');
    const firstEnd = await firstEnded;
    expect(firstEnd - first!.expiresAt.getTime()).toBeGreaterThanOrEqual(0);
    expect(firstEnd - first!.expiresAt.getTime()).toBeLessThan(REAP_WITHIN_MS);
    await watch.waitForEvent((e) => e.event === 'reaped' && e.role === first!.username);
    await expectRecordedExpired(h, first!);

    // Asleep with nothing due soon: the next grant comes to its notice through the catalog.
    const reapedAt = watch.lines.findIndex((l) => l.includes('"reaped"') && l.includes(first!.username));
    await watch.waitForEvent((e) => e.event === 'sleeping', { from: reapedAt + 1 });
    const [second] = await grant(h, 'second', ['bo@example.com'], `${h.tag}-second`, 3);
    const secondSession = await session(second!);
    const secondEnd = await endOf(secondSession);
    expect(secondEnd - second!.expiresAt.getTime()).toBeGreaterThanOrEqual(0);
    expect(secondEnd - second!.expiresAt.getTime()).toBeLessThan(REAP_WITHIN_MS);
    const reaped = await watch.waitForEvent((e) => e.event === 'reaped' && e.role === second!.username);
    expect(reaped).toMatchObject({ target: 'main', member: 'bo@example.com', endpoint: `${h.tag}-second` });
    await expectRecordedExpired(h, second!);

    const end = await watch.stop('SIGTERM');
    expect(end.code, watch.transcript()).toBe(0);
    const events = watch.lines.map((l) => JSON.parse(l) as { event: string; signal?: string });
    expect(events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(events.filter((e) => e.event === 'error' || e.event === 'failed')).toEqual([]);
  });

  it('--watch outlives its catalog going away: it reports the error, retries, and still stops with exit 0', async () => {
    // A catalog on a cluster of its own (recording the same target), so that it can stop.
    const catalogCluster = await startPostgres(binaries);
    try {
      const elsewhere = await openService(catalogCluster, 'elsewhere');
      await elsewhere.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
      await elsewhere.service.close();
      const watch = startCli(['reap', '--watch', '--json', '--poll', '0.2', '--max-sleep', '0.5'], {
        env: { ADAPTIVE_CATALOG_URL: catalogCluster.url(elsewhere.db), ADAPTIVE_CATALOG_KEY: elsewhere.key.toString('hex') },
      });
      watchers.push(watch);
      await watch.waitForEvent((e) => e.event === 'sleeping');
      await catalogCluster.stop();
      const error = await watch.waitForEvent<{ target: string | null; error: string }>((e) => e.event === 'error');
      expect(error.target).toBeNull();
      expect(error.error).toMatch(/catalog|connect|terminat/i);
      // Still running: it keeps retrying (backing off) until told to stop.
      const mark = watch.lines.length;
      await watch.waitForEvent((e) => e.event === 'error', { from: mark });
      const end = await watch.stop('SIGTERM');
      expect(end.code, watch.transcript()).toBe(0);
      expect(JSON.parse(watch.lines.at(-1)!)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    } finally {
      await catalogCluster.stop();
    }
  });

  it('--watch prints a line per reaped role and stops cleanly on SIGINT', async () => {
    const h = await fresh();
    const [brief] = await grant(h, 'brief', ['cy@example.com'], `${h.tag}-brief`, 1);
    await untilInstant(brief!.expiresAt);
    const watch = startCli(['reap', '--watch'], { env: h.env });
    watchers.push(watch);
    const line = await watch.waitForLine((l) => l.includes(brief!.username));
    expect(line).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z  reaped  target=main role=${brief!.username} member=cy@example\\.com endpoint=${h.tag}-brief expired_at=\\d{4}-`),
    );
    const end = await watch.stop('SIGINT');
    expect(end.code, watch.transcript()).toBe(0);
    expect(watch.stderr).toMatch(/stopped \(SIGINT\)/);
    expect(await roleExists(cluster, brief!.username)).toBe(false);
  });
});
