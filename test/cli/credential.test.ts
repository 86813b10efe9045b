/**
 * `adaptive-access credential` against a real catalog and a real target, run as a child
 * process. The catalog is set up with the AccessService (a target, an authorization, an
 * endpoint and a group per test); the CLI issues on-demand credentials through the
 * runtime's verb, and the tests check what the target and the catalog hold afterwards: the
 * credential's own login role gone once its command exits (or is signalled), recorded
 * revoked, a `grant.ephemeral` audit event, and no password on stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, managedLoginRoles, openService, roleExists, sql, targetConfig, type ServiceHandle } from '../runtime/service-fixture';
import { runCli, startCli, type CliProcess, type CliResult } from './run-cli';

const run = promisify(execFile);

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;
const MEMBER = 'ana@example.com';

/** What `credential --json` prints. */
interface CredentialJson {
  username: string;
  password: string;
  host: string;
  port: number;
  database: string;
  sslmode: string;
  uri: string;
  ca_cert: string | null;
  expires_at: string;
  not_after: string;
  member: string;
  endpoint: string;
  group: string;
}

/** One on-demand credential as the catalog records it. */
interface EphemeralRow {
  role_name: string;
  member: string;
  endpoint: string;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

describe('usage errors exit 2 before anything is issued', () => {
  const base = ['credential', '--endpoint', 'main-read', '--member', MEMBER];
  const cases: Array<[string[], RegExp]> = [
    [['credential', '--member', MEMBER], /^adaptive-access credential: missing option '--endpoint NAME'$/m],
    [['credential', '--endpoint', 'main-read'], /^adaptive-access credential: missing option '--member EMAIL'$/m],
    [['credential', '--endpoint', 'main read', '--member', MEMBER], /option '--endpoint' "main read" contains/],
    [['credential', '--endpoint', 'main-read', '--member', 'ana'], /option '--member' "ana" /],
    [[...base, '--ttl', '15'], /option '--ttl' "15" has no unit/],
    [[...base, '--ttl', '1.5h'], /option '--ttl' "1.5h" has a fraction/],
    [[...base, '--json', '--env'], /options '--json' and '--env' cannot be used together/],
    [[...base, '--env', '--', 'psql'], /option '--env' prints the credential; it does not apply with a command after '--'/],
    [[...base, '--'], /'--' must be followed by the command to run/],
    [[...base, 'psql'], /unexpected argument 'psql'/],
  ];
  it.each(cases)('%j', async (args, message) => {
    // A catalog that does not exist: a usage error must come before any attempt to reach it.
    const r = await runCli(args, { env: { ADAPTIVE_CATALOG_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Run 'adaptive-access credential --help' for usage.");
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  // The embedded build has no psql; the system's (any recent libpq) talks to every major.
  const psql = existsSync(path.join(binaries.binDir, 'psql')) ? path.join(binaries.binDir, 'psql') : 'psql';
  const handles: ServiceHandle[] = [];
  const running: CliProcess[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  interface Setup extends ServiceHandle {
    readonly endpoint: string;
    readonly group: string;
    readonly env: Record<string, string>;
    /** The member's standing credential's role, from the group apply. */
    readonly standing: string;
  }

  /**
   * A catalog with the target 'main', the authorization 'read', an endpoint of this test's
   * own (role names are cluster-wide) and a group giving MEMBER that endpoint.
   */
  async function fresh(endpointTtlSeconds = HOUR): Promise<Setup> {
    const handle = await openService(cluster, 'credcli');
    handles.push(handle);
    const tag = `c${++seq}`;
    const endpoint = `${tag}-read`;
    const group = `${tag}-oncall`;
    await handle.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await handle.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await handle.service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds: endpointTtlSeconds, resource: 'main', authorization: 'read' });
    const { issued } = await handle.service.applyGroup({ name: group, members: [MEMBER], endpoints: [endpoint] }, new Set());
    const env = { ADAPTIVE_CATALOG_URL: cluster.url(handle.db), ADAPTIVE_CATALOG_KEY: handle.key.toString('hex') };
    return { ...handle, endpoint, group, env, standing: issued[0]!.username };
  }

  function credentialArgs(s: Setup, ...more: string[]): string[] {
    return ['credential', '--endpoint', s.endpoint, '--member', MEMBER, ...more];
  }

  async function ephemeralRows(s: Setup): Promise<EphemeralRow[]> {
    return sql<EphemeralRow & Record<string, unknown>>(
      cluster,
      s.db,
      `select role_name, member, endpoint, revoked_at, revoke_reason from adaptive.credentials where kind = 'ephemeral' order by id`,
    );
  }

  /** The one on-demand credential of the test, checked revoked at once ('closed') and its role gone. */
  async function expectRevoked(s: Setup): Promise<EphemeralRow> {
    const rows = await ephemeralRows(s);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ member: MEMBER, endpoint: s.endpoint, revoke_reason: 'closed' });
    expect(row.revoked_at).toBeInstanceOf(Date);
    expect(await roleExists(cluster, row.role_name)).toBe(false);
    // The member's standing credential is another role, untouched.
    expect(row.role_name).not.toBe(s.standing);
    expect(await managedLoginRoles(cluster)).toContain(s.standing);
    return row;
  }

  /** No password (the admin's, or any given) in stderr. */
  function expectNoSecretOnStderr(r: Pick<CliResult, 'stderr'>, ...secrets: string[]): void {
    for (const secret of [cluster.password, ...secrets]) expect(r.stderr).not.toContain(secret);
  }

  it('runs a command with the credential in its environment, then revokes it: role dropped, recorded, audited', async () => {
    const s = await fresh();
    const script = 'echo "password=$PGPASSWORD key=${ADAPTIVE_CATALOG_KEY:-none} url=${ADAPTIVE_CATALOG_URL:-none}"; exec "$0" -X -A -t -c "select current_user, count(*) from app.items"';
    const r = await runCli(credentialArgs(s, '--', 'sh', '-c', script, psql), { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    const row = await expectRevoked(s);
    const [said, selected] = r.stdout.trimEnd().split('\n');
    // The catalog's settings stay with this process; the member's command gets only its credential.
    expect(said).toMatch(/^password=\S+ key=none url=none$/);
    expect(selected).toBe(`${row.role_name}|1`);
    expectNoSecretOnStderr(r, said!.split(' ')[0]!.slice('password='.length));
    expect(r.stderr).toContain(`Issued ${row.role_name} to ${MEMBER} on endpoint ${s.endpoint}`);
    expect(r.stderr).toContain(`Revoked ${row.role_name}`);

    const events = await s.catalog.readAudit({ event: 'grant.ephemeral' });
    expect(events).toEqual([expect.objectContaining({ roleName: row.role_name, member: MEMBER, endpoint: s.endpoint, resource: 'main' })]);
  });

  it("passes the command's exit code on and still revokes: a refused statement, an exit 7", async () => {
    const s = await fresh();
    const refused = await runCli(credentialArgs(s, '--', psql, '-X', '-v', 'ON_ERROR_STOP=1', '-c', 'select * from app.secrets'), { env: s.env });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/permission denied for table secrets/);
    await expectRevoked(s);

    const t = await fresh();
    const seven = await runCli(credentialArgs(t, '--', 'sh', '-c', 'exit 7'), { env: t.env });
    expect(seven.code, seven.stderr).toBe(7);
    await expectRevoked(t);
  });

  it('a command that is not there exits 127 and leaves no role', async () => {
    const s = await fresh();
    const r = await runCli(credentialArgs(s, '--', 'no-such-command-adaptive'), { env: s.env });
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/command not found: no-such-command-adaptive/);
    await expectRevoked(s);
  });

  it('refuses a member no group makes eligible, naming the groups that list the endpoint; nothing issued, nothing run', async () => {
    const s = await fresh();
    const before = await managedLoginRoles(cluster);
    // '--debug' after '--' is the command's own: no stack trace here.
    const r = await runCli(['credential', '--endpoint', s.endpoint, '--member', 'bo@example.com', '--', 'sh', '-c', 'echo ran', '--debug'], { env: s.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^adaptive-access credential: error: --member: /);
    expect(r.stderr).toContain(s.group);
    expect(r.stderr).toContain('Nothing was issued.');
    expect(await ephemeralRows(s)).toEqual([]);
    expect(await managedLoginRoles(cluster)).toEqual(before);
  });

  it('refuses a ttl longer than the endpoint allows, and an endpoint the catalog does not hold', async () => {
    const s = await fresh(HOUR);
    const long = await runCli(credentialArgs(s, '--ttl', '2h'), { env: s.env });
    expect(long.code).toBe(1);
    expect(long.stdout).toBe('');
    expect(long.stderr).toMatch(/^adaptive-access credential: error: --ttl: /);
    const unknown = await runCli(['credential', '--endpoint', 'no-such-endpoint', '--member', MEMBER], { env: s.env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--endpoint: endpoint "no-such-endpoint" is not in the catalog/);
    expect(unknown.stderr).toContain(`The endpoints are: "${s.endpoint}"`);
    expect(await ephemeralRows(s)).toEqual([]);
  });

  it('--json prints one object whose password and uri log in; stderr holds no password and says it lives until expiry', async () => {
    const s = await fresh();
    const r = await runCli(credentialArgs(s, '--json', '--ttl', '10m'), { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const c = JSON.parse(r.stdout) as CredentialJson;
    expect(c).toMatchObject({ host: cluster.host, port: cluster.port, database: 'appdb', sslmode: 'disable', member: MEMBER, endpoint: s.endpoint, group: s.group });
    const ttl = Date.parse(c.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    expect(c.uri).toBe(`postgresql://${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/appdb?sslmode=disable`);
    // A target without tls_root_cert: no CA to hand on.
    expect(c.ca_cert).toBeNull();
    expectNoSecretOnStderr(r, c.password);
    expect(r.stderr).toMatch(/then the reaper drops it/);

    for (const config of [{ connectionString: c.uri }, { host: c.host, port: c.port, database: c.database, user: c.username, password: c.password }]) {
      const client = new Client(config);
      await client.connect();
      try {
        expect((await client.query<{ n: string }>('select count(*) as n from app.items')).rows).toEqual([{ n: '1' }]);
      } finally {
        await client.end();
      }
    }
    // A printed credential stays until expiry; revoked here so the role does not outlive the test.
    await s.service.revokeCredential(c.username, 'closed');
    expect(await roleExists(cluster, c.username)).toBe(false);
  });

  it('--env prints shell-quoted exports that a shell can eval and psql can log in with; the readable form lists every field', async () => {
    const s = await fresh();
    const r = await runCli(credentialArgs(s, '--env'), { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => /^export (\w+)='/.exec(l)?.[1])).toEqual(['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSSLMODE']);
    const { stdout } = await run('sh', ['-c', `${r.stdout}\nprintf '%s\\n' "$PGPASSWORD"; exec "$0" -X -A -t -c 'select current_user'`, psql], { env: { PATH: process.env.PATH } });
    const [password, user] = stdout.trimEnd().split('\n');
    expect(user).toMatch(/^\S+$/);
    expect(r.stdout).toContain(`export PGUSER='${user}'`);
    expectNoSecretOnStderr(r, password!);
    await s.service.revokeCredential(user!, 'closed');

    const readable = await runCli(credentialArgs(s), { env: s.env });
    expect(readable.code, readable.stderr).toBe(0);
    const fields = readable.stdout.trimEnd().split('\n').map((l) => l.split(/ +/, 1)[0]);
    expect(fields).toEqual(['username', 'password', 'host', 'port', 'database', 'sslmode', 'uri', 'expires_at']);
    const readablePassword = /^password +(\S+)$/m.exec(readable.stdout)![1]!;
    expectNoSecretOnStderr(readable, readablePassword);
    await s.service.revokeCredential(/^username +(\S+)$/m.exec(readable.stdout)![1]!, 'closed');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s to the CLI is passed to the command; once it exits the credential is revoked and its session is gone', async (signal, code) => {
    const s = await fresh();
    const cli = startCli(credentialArgs(s, '--', psql, '-X', '-c', 'select pg_sleep(60)'), { env: s.env });
    running.push(cli);
    const role = await untilSessionOf(s, cli);
    const result = await cli.stop(signal);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toContain(`${signal}: passing ${signal} on to`);
    const row = await expectRevoked(s);
    expect(row.role_name).toBe(role);
    expect(await sql(cluster, cluster.database, 'select 1 from pg_stat_activity where usename = $1', [role])).toEqual([]);
  });

  /** Waits until the command's session shows in pg_stat_activity (an event, polled), and returns its role. */
  async function untilSessionOf(s: Setup, cli: CliProcess): Promise<string> {
    for (;;) {
      const [row] = await sql<{ role: string }>(
        cluster,
        cluster.database,
        `select usename::text as role from pg_stat_activity where query = 'select pg_sleep(60)' and usename = any($1)`,
        [(await ephemeralRows(s)).map((r) => r.role_name)],
      );
      if (row !== undefined) return row.role;
      if (cli.child.exitCode !== null) throw new Error(`the CLI exited before its command logged in\n${cli.transcript()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('renews the credential while the command runs, up to the endpoint ttl, and says when the limit is reached', async () => {
    // Time is the subject: the command logs in after the ttl asked for has passed (possible
    // only if renewed), then outlives the endpoint's ttl (the limit renewals stop at).
    // With a 4 s ttl, renewed when a third is left: the login at 5 s comes 1 s after the
    // first expiry and 1.7 s before the renewed one, margins a loaded machine keeps.
    const s = await fresh(12);
    const script = 'sleep 5; "$0" -X -A -t -c "select 1" || exit 9; sleep 8';
    const r = await runCli(credentialArgs(s, '--ttl', '4s', '--', 'sh', '-c', script, psql), { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\n');
    expect(r.stderr).toMatch(/cannot be renewed past \S+ \(endpoint c\d+-read's ttl from issue\)/);
    await expectRevoked(s);
  }, 45_000);
});
