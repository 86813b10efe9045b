/**
 * `adaptive-access audit` against a real catalog, run as a child process. One catalog per
 * PostgreSQL major, set up once with the AccessService so the log holds what the provider
 * writes: target, authorization, endpoint and group changes, grants, a revocation for a
 * member removed from a group and one for a removed group. One event is appended by hand
 * with secret-looking detail keys, to check they are left out. The tests only read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { pairKey, type MemberCredential } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, openService, sql, targetConfig, type ServiceHandle } from '../runtime/service-fixture';
import { runCli, type CliResult } from './run-cli';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;
const HELP = "Run 'adaptive-access audit --help' for usage.";

/** What `audit --json` prints. */
interface AuditJson {
  events: Array<{
    id: string;
    at: string;
    event: string;
    target: string | null;
    endpoint: string | null;
    group: string | null;
    member: string | null;
    role: string | null;
    detail: Record<string, unknown>;
  }>;
  truncated: boolean;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let handle: ServiceHandle;
  let env: Record<string, string>;
  /** Every password handed out, the targets' admin password, and the planted ones. */
  const secrets = ['planted-password-1', 'planted-token-2'];
  let issued: MemberCredential[];
  /** Every event in the log, oldest first, as the catalog reads it. */
  let all: Awaited<ReturnType<ServiceHandle['catalog']['readAudit']>>;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    for (const db of ['appdb', 'otherdb']) {
      await createDatabase(cluster, db);
      await sql(cluster, db, APP_SCHEMA_SQL);
    }
    handle = await openService(cluster, 'auditcli');
    const s = handle.service;
    await s.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await s.applyResource(targetConfig(cluster, 'other', 'otherdb'));
    await s.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await s.applyEndpoint({ name: 'main-read', type: 'direct', ttlSeconds: HOUR, resource: 'main', authorization: 'read' });
    await s.applyEndpoint({ name: 'other-read', type: 'direct', ttlSeconds: HOUR, resource: 'other', authorization: 'read' });
    const team = { name: 'team', endpoints: ['main-read', 'other-read'] };
    issued = (await s.applyGroup({ ...team, members: ['ana@example.com', 'bo@example.com'] }, new Set())).issued;
    // bo leaves the team: revoked ('member removed'); ana's grants are kept.
    await s.applyGroup({ ...team, members: ['ana@example.com'] }, new Set(['main-read', 'other-read'].map((e) => pairKey('ana@example.com', e))));
    issued.push(...(await s.applyGroup({ name: 'gone', members: ['dee@example.com'], endpoints: ['main-read'] }, new Set())).issued);
    await s.removeGroup('gone');
    await handle.catalog.appendAudit([
      {
        event: 'extend',
        resource: 'main',
        member: 'eve@example.com',
        detail: { password: secrets[0], note: 'by hand', nested: { apiToken: secrets[1], ok: 1 } },
      },
    ]);
    secrets.push(cluster.password, ...issued.map((c) => c.password!));
    env = { ADAPTIVE_CATALOG_URL: cluster.url(handle.db) };
    all = await handle.catalog.readAudit();
  });
  afterAll(async () => {
    await handle?.service.close();
    await cluster?.stop();
  });

  /** Runs the CLI and checks that no password is in anything it printed. */
  async function audit(args: readonly string[], extraEnv: Record<string, string> = env): Promise<CliResult> {
    const r = await runCli(['audit', ...args], { env: extraEnv });
    for (const secret of secrets) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
    return r;
  }

  async function auditJson(args: readonly string[]): Promise<AuditJson> {
    const r = await audit([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    return JSON.parse(r.stdout) as AuditJson;
  }

  /** The data rows of a human table (header and blank lines dropped). */
  function rows(r: CliResult): string[] {
    return r.stdout.trimEnd().split('\n').slice(1);
  }

  it('prints every event oldest first, with compact detail', async () => {
    const r = await audit([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^AT +EVENT +TARGET +ENDPOINT +GROUP +MEMBER +ROLE +DETAIL$/);
    expect(lines).toHaveLength(all.length + 1);
    expect(lines.slice(1).map((l) => l.split(/ +/)[1])).toEqual(all.map((e) => e.event));
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +resource\\.create +main +- +- +- +- +host=${cluster.host} port=${cluster.port} sslMode=disable database=appdb adminSecret=inline$`));
    const bo = issued.find((c) => c.member === 'bo@example.com' && c.endpoint === 'main-read')!;
    expect(r.stdout).toMatch(new RegExp(`^\\S+ +grant +main +main-read +team +bo@example\\.com +${bo.username} +expires_at=\\d{4}-\\S+Z$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\S+ +revoke +main +main-read +team +bo@example\\.com +${bo.username} +reason="member removed"$`, 'm'));
    expect(r.stdout).toMatch(/^\S+ +revoke +main +main-read +gone +dee@example\.com +\S+ +reason="group destroyed"$/m);
    expect(r.stdout).toMatch(/^\S+ +group\.update +- +- +team +- +- +members=\["ana@example\.com"\] endpoints=\["main-read","other-read"\]$/m);
  });

  it('leaves out detail keys that could hold a secret, in the table and in JSON', async () => {
    const r = await audit(['--member', 'eve@example.com']);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r)).toEqual([expect.stringMatching(/ +extend +main +- +- +eve@example\.com +- +note="by hand" nested=\{"ok":1\}$/)]);
    const json = await auditJson(['--member', 'eve@example.com']);
    expect(json.events.map((e) => e.detail)).toEqual([{ note: 'by hand', nested: { ok: 1 } }]);
  });

  it('--event (repeated, comma-separated, group.*), --member, --target and --group filter', async () => {
    const revokes = await auditJson(['--event', 'revoke,expire', '--event', 'extend', '--target', 'main']);
    expect(revokes.events.map((e) => [e.event, e.member, e.detail.reason ?? null])).toEqual([
      ['revoke', 'bo@example.com', 'member removed'],
      ['revoke', 'dee@example.com', 'group destroyed'],
      ['extend', 'eve@example.com', null],
    ]);
    const groups = await auditJson(['--event', 'group.*']);
    expect(groups.events.map((e) => `${e.event} ${e.group}`)).toEqual(['group.create team', 'group.update team', 'group.create gone', 'group.delete gone']);
    const bo = await auditJson(['--member', 'bo@example.com', '--target', 'other']);
    expect(bo.events.map((e) => [e.event, e.target, e.endpoint])).toEqual([
      ['grant', 'other', 'other-read'],
      ['revoke', 'other', 'other-read'],
    ]);
    const gone = await audit(['--group', 'gone', '--event', 'grant']);
    expect(rows(gone)).toEqual([expect.stringMatching(/ grant +main +main-read +gone +dee@example\.com /)]);
  });

  it('--json prints one object: ids, instants, null for absent fields, truncated false', async () => {
    const json = await auditJson([]);
    expect(json.truncated).toBe(false);
    expect(json.events).toHaveLength(all.length);
    expect(json.events.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(json.events.map((e) => e.at)).toEqual(all.map((e) => e.at.toISOString()));
    expect(json.events.find((e) => e.event === 'authorization.create')).toMatchObject({
      target: null,
      endpoint: null,
      group: null,
      member: null,
      role: null,
      detail: { authorization: 'read' },
    });
    const ana = issued.find((c) => c.member === 'ana@example.com' && c.endpoint === 'other-read')!;
    expect(json.events.find((e) => e.event === 'grant' && e.role === ana.username)).toMatchObject({
      target: 'other',
      endpoint: 'other-read',
      group: 'team',
      member: 'ana@example.com',
      detail: { expires_at: ana.expiresAt.toISOString() },
    });
  });

  it('--limit keeps the newest events, prints them oldest first, and says on stderr that more matched', async () => {
    const r = await audit(['--limit', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r).map((l) => l.split(/ +/)[1])).toEqual(all.slice(-3).map((e) => e.event));
    expect(r.stderr).toBe('showing the newest 3 events; use --limit or --since for more\n');
    const json = await audit(['--limit', '3', '--json']);
    const report = JSON.parse(json.stdout) as AuditJson;
    expect(report).toMatchObject({ truncated: true });
    expect(report.events.map((e) => e.id)).toEqual(all.slice(-3).map((e) => e.id));
    expect(json.stderr).toBe('showing the newest 3 events; use --limit or --since for more\n');
    const exact = await audit(['--limit', String(all.length)]);
    expect(rows(exact)).toHaveLength(all.length);
    expect(exact.stderr).toBe('');
  });

  it('--since and --until take times, dates and durations; nothing matching exits 0', async () => {
    expect((await auditJson(['--since', '1h'])).events).toHaveLength(all.length);
    const grants = all.filter((e) => e.event === 'grant');
    const from = grants.at(-1)!.at;
    const later = await auditJson(['--since', from.toISOString()]);
    expect(later.events.map((e) => e.id)).toEqual(all.filter((e) => e.at >= from).map((e) => e.id));
    const before = await auditJson(['--until', from.toISOString(), '--event', 'grant']);
    expect(before.events.map((e) => e.id)).toEqual(grants.filter((e) => e.at < from).map((e) => e.id));
    const none = await audit(['--until', '2000-01-01']);
    expect(none).toMatchObject({ code: 0, stdout: 'No audit events match.\n', stderr: '' });
    const future = await auditJson(['--since', '2999-01-01T00:00:00Z']);
    expect(future).toEqual({ events: [], truncated: false });
  });

  it('bad values, unknown events and stray arguments are usage errors (exit 2) naming the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--since', 'yesterday'], /option '--since' must be a time such as 2026-11-23T09:00:00Z or 2026-11-23, or a duration back from now such as 90s, 30m, 24h, 7d; not 'yesterday'/],
      [['--until', '2026-02-30'], /option '--until' must be a time/],
      [['--since', '1h', '--until', '2h'], /--since \(.+\) must be before --until/],
      [['--event', 'grnt'], /unknown event 'grnt' for --event; known events: grant, grant\.ephemeral, revoke, expire, extend, resource\.create, .*group\.delete/],
      [['--event', 'grant,bogus.*'], /unknown event 'bogus\.\*'/],
      [['--limit', '0'], /option '--limit' must be a whole number from 1 to 100000, not '0'/],
      [['--limit', '100001'], /option '--limit' must be a whole number from 1 to 100000/],
      [['--limit', '2.5'], /option '--limit' must be a whole number/],
      [['extra'], /unexpected argument 'extra'/],
    ];
    for (const [args, message] of cases) {
      const r = await audit(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^adaptive-access audit: ${message.source}`));
      expect(r.stderr).toContain(HELP);
    }
  });

  it('no catalog is a usage error; an unreachable one exits 1 with one line and a fix', async () => {
    const none = await audit([], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no catalog database given/);
    expect(none.stderr).toContain(HELP);
    const down = await audit([], { ADAPTIVE_CATALOG_URL: 'postgres://someone:hunter2secret@127.0.0.1:1/adaptive' });
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/^adaptive-access audit: error: .*Check --catalog-url \/ ADAPTIVE_CATALOG_URL/);
    expect(down.stderr).not.toContain('hunter2secret');
  });
});
