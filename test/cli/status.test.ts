/**
 * `adaptive-access status` against a real catalog, run as a child process. One catalog per
 * PostgreSQL major, set up once with the AccessService: two targets, grants to several
 * members through three endpoints, one grant left to expire without reaping, and one
 * group removed (its grant revoked, so it must not be listed). The tests only read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { MemberCredential } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, openService, sql, targetConfig, untilInstant, type ServiceHandle } from '../runtime/service-fixture';
import { runCli, type CliResult } from './run-cli';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const EIGHT_HOURS = 8 * 3600;
const HOUR = 3600;
const ESC = '\u001b[';

/** What `status --json` prints. */
interface StatusJson {
  at: string;
  grants: Array<{
    target: string;
    member: string;
    endpoint: string;
    group: string;
    role: string;
    grantedAt: string;
    expiresAt: string;
    secondsLeft: number;
    expired: boolean;
  }>;
  targets: Array<{ name: string; host: string; port: number; database: string; tags: Record<string, string> }>;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let handle: ServiceHandle;
  let env: Record<string, string>;
  /** Every password handed out, and the targets' admin password: none may ever be printed. */
  const secrets: string[] = [];
  let team: MemberCredential[];
  let brief: MemberCredential;
  let gone: MemberCredential;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    for (const db of ['appdb', 'otherdb']) {
      await createDatabase(cluster, db);
      await sql(cluster, db, APP_SCHEMA_SQL);
    }
    handle = await openService(cluster, 'statuscli');
    const s = handle.service;
    await s.applyResource({ ...targetConfig(cluster, 'main', 'appdb'), tags: { owner: 'data-team', env: 'test' } });
    await s.applyResource(targetConfig(cluster, 'other', 'otherdb'));
    await s.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await s.applyEndpoint({ name: 'main-read', type: 'direct', ttlSeconds: EIGHT_HOURS, resource: 'main', authorization: 'read' });
    await s.applyEndpoint({ name: 'other-read', type: 'direct', ttlSeconds: HOUR, resource: 'other', authorization: 'read' });
    await s.applyEndpoint({ name: 'main-brief', type: 'direct', ttlSeconds: 1, resource: 'main', authorization: 'read' });
    team = (await s.applyGroup({ name: 'team', members: ['ana@example.com', 'bo@example.com'], endpoints: ['main-read', 'other-read'] }, new Set())).issued;
    [brief] = (await s.applyGroup({ name: 'brief', members: ['cy@example.com'], endpoints: ['main-brief'] }, new Set())).issued as [MemberCredential];
    [gone] = (await s.applyGroup({ name: 'gone', members: ['dee@example.com'], endpoints: ['main-read'] }, new Set())).issued as [MemberCredential];
    await s.removeGroup('gone');
    secrets.push(cluster.password, ...[...team, brief, gone].map((c) => c.password!));
    env = { ADAPTIVE_CATALOG_URL: cluster.url(handle.db) };
    // Expired, not reaped: still live in the catalog.
    await untilInstant(brief.expiresAt);
  });
  afterAll(async () => {
    await handle?.service.close();
    await cluster?.stop();
  });

  /** Runs the CLI and checks that no password is in anything it printed. */
  async function status(args: readonly string[], extraEnv: Record<string, string> = env): Promise<CliResult> {
    const r = await runCli(['status', ...args], { env: extraEnv });
    for (const secret of secrets) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
    return r;
  }

  it('lists live grants per target with time left, an expired one awaiting reap, and a summary', async () => {
    const r = await status([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(ESC);
    const lines = r.stdout.trimEnd().split('\n');
    const header = /^MEMBER +ENDPOINT +GROUP +ROLE +GRANTED +EXPIRES +LEFT$/;
    const when = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
    // Targets in name order; within one, soonest expiry first (the expired grant leads).
    expect(lines[0]).toBe('Target main: 3 grants  (tags: env=test, owner=data-team)');
    expect(lines[1]).toMatch(header);
    expect(lines[2]).toMatch(new RegExp(`^cy@example\\.com +main-brief +brief +${brief.username} +${when} +${when} +expired \\d+s ago — awaiting reap$`));
    expect(lines.slice(3, 5).sort()).toEqual([
      expect.stringMatching(new RegExp(`^ana@example\\.com +main-read +team +\\S+ +${when} +${when} +7h 59m$`)),
      expect.stringMatching(new RegExp(`^bo@example\\.com +main-read +team +\\S+ +${when} +${when} +7h 59m$`)),
    ]);
    expect(lines[5]).toBe('');
    expect(lines[6]).toBe('Target other: 2 grants');
    expect(lines[7]).toMatch(header);
    expect(lines.slice(8, 10).map((l) => l.split(/ +/)[0]).sort()).toEqual(['ana@example.com', 'bo@example.com']);
    for (const line of lines.slice(8, 10)) expect(line).toMatch(/ other-read +team +.* 59m( \d+s)?$/);
    expect(lines.slice(10)).toEqual(['', "5 live grants for 3 members on 2 targets; 1 expired, awaiting 'adaptive-access reap'."]);
    // The removed group's grant was revoked: not live.
    expect(r.stdout).not.toContain('dee@example.com');
    expect(r.stdout).not.toContain(gone.username);
  });

  it('--member, --endpoint and --group narrow the list', async () => {
    const bo = await status(['--member', 'bo@example.com']);
    expect(bo.code, bo.stderr).toBe(0);
    const rows = bo.stdout.split('\n').filter((l) => l.includes('@'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^bo@example\.com /);
    expect(bo.stdout).toMatch(/^2 live grants for 1 member on 2 targets\.$/m);

    const endpoint = await status(['--endpoint', 'other-read', '--group', 'team']);
    expect(endpoint.stdout.split('\n').filter((l) => l.includes('@'))).toHaveLength(2);
    expect(endpoint.stdout).not.toContain('Target main');
    expect(endpoint.stdout).toMatch(/^2 live grants for 2 members on 1 target\.$/m);

    const group = await status(['--group', 'brief']);
    expect(group.stdout).toMatch(/^1 live grant for 1 member on 1 target; 1 expired, awaiting 'adaptive-access reap'\.$/m);
  });

  it('says so, naming the filters, when nothing is live, and exits 0', async () => {
    const r = await status(['--target', 'nowhere', '--member', 'ana@example.com']);
    expect(r).toMatchObject({ code: 0, stdout: 'No live grants matching --target nowhere --member ana@example.com.\n', stderr: '' });
    const json = await status(['--target', 'nowhere', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout) as StatusJson).toMatchObject({ grants: [], targets: [] });
  });

  it('--json prints one object with every live grant, time left and the expired flag', async () => {
    const before = Date.now();
    const r = await status(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout) as StatusJson;
    expect(Date.parse(report.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(report.grants).toHaveLength(5);
    // Soonest expiry first.
    expect(report.grants[0]).toEqual({
      target: 'main',
      member: 'cy@example.com',
      endpoint: 'main-brief',
      group: 'brief',
      role: brief.username,
      grantedAt: expect.stringMatching(/Z$/) as unknown,
      expiresAt: brief.expiresAt.toISOString(),
      secondsLeft: 0,
      expired: true,
    });
    for (const c of team) {
      const g = report.grants.find((x) => x.role === c.username)!;
      const ttl = c.endpoint === 'main-read' ? EIGHT_HOURS : HOUR;
      expect(g).toMatchObject({ target: c.endpoint === 'main-read' ? 'main' : 'other', member: c.member, endpoint: c.endpoint, group: 'team', expired: false });
      expect(g.expiresAt).toBe(c.expiresAt.toISOString());
      expect(g.secondsLeft).toBeGreaterThan(ttl - 120);
      expect(g.secondsLeft).toBeLessThanOrEqual(ttl);
      expect(Date.parse(g.expiresAt) - Date.parse(g.grantedAt)).toBe(ttl * 1000);
    }
    expect(report.grants.map((g) => g.role)).not.toContain(gone.username);
    expect(report.targets).toEqual([
      { name: 'main', host: cluster.host, port: cluster.port, database: 'appdb', tags: { owner: 'data-team', env: 'test' } },
      { name: 'other', host: cluster.host, port: cluster.port, database: 'otherdb', tags: {} },
    ]);
  });

  it('needs no catalog key: works without one and with a malformed one', async () => {
    const bad = await status(['--member', 'cy@example.com'], { ...env, ADAPTIVE_CATALOG_KEY: 'not-a-key' });
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stdout).toContain(brief.username);
  });

  it('--catalog-url works as the variable does; no catalog is a usage error', async () => {
    const r = await status(['--catalog-url', env.ADAPTIVE_CATALOG_URL!, '--target', 'other'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Target other: 2 grants$/m);
    const none = await status([], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no catalog database given/);
    expect(none.stderr).toContain("Run 'adaptive-access status --help' for usage.");
  });

  it('usage errors exit 2 with a pointer to the help', async () => {
    for (const args of [['extra'], ['--member'], ['--since', '1h']]) {
      const r = await status(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^adaptive-access status: (unexpected argument 'extra'|option '--member' needs a value|unknown option '--since')\n/);
      expect(r.stderr).toContain("Run 'adaptive-access status --help' for usage.");
    }
  });

  it('reads a database without the catalog as an empty one, and creates nothing in it', async () => {
    await createDatabase(cluster, 'statuscli_new');
    const tables = (): Promise<Array<Record<string, unknown>>> =>
      sql(cluster, 'statuscli_new', "select n.nspname from pg_catalog.pg_namespace n where n.nspname = 'adaptive' union all select c.relname::name from pg_catalog.pg_class c where c.relname = 'schema_migrations'");
    expect(await tables()).toEqual([]);
    const r = await status(['--json'], { ...env, ADAPTIVE_CATALOG_URL: cluster.url('statuscli_new') });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as StatusJson).grants).toEqual([]);
    expect(await tables()).toEqual([]);
  });

  it('an unreachable catalog exits 1 with one line and a fix, without its password', async () => {
    const r = await status([], { ADAPTIVE_CATALOG_URL: 'postgres://someone:hunter2secret@127.0.0.1:1/adaptive' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^adaptive-access status: error: .*Check --catalog-url \/ ADAPTIVE_CATALOG_URL/);
    expect(r.stderr).not.toContain('hunter2secret');
  });
});
