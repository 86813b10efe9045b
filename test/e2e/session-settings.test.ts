/**
 * The session-settings example, applied by real Terraform with the real plugin against real
 * PostgreSQL: the member's session has the endpoint's search_path and timeouts, an
 * unqualified table resolves through the search path, a statement longer than
 * statement_timeout is cancelled, a second session is refused by connection_limit, an idle
 * session is ended by idle_session_timeout; a setting reset by hand shows as drift and
 * applying puts it back; bad settings fail the plan naming the attribute and change nothing.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { ident } from '../../src/runtime/pg/sql';
import { catalogCounts, credentialList, exampleFiles, exampleWorkspace, installAdaptiveProvider, loginAs, prepareCluster, printed, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformWorkspace } from '../fixtures/terraform';

const EXAMPLE = exampleFiles('session-settings')['main.tf']!;
/** Long enough for a session's first statements on a loaded machine, short enough to wait for. */
const IDLE_TIMEOUT = '3s';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  const scratch = scratchDir('adaptive-e2e-session-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    ws = exampleWorkspace('session-settings', {
      mirrorDir,
      env,
      vars: {
        pg_host: cluster.host,
        pg_port: String(cluster.port),
        pg_username: cluster.user,
        pg_password: cluster.password,
        statement_timeout: '1s',
        idle_session_timeout: IDLE_TIMEOUT,
      },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
    scratch.remove();
  });

  async function credential(): Promise<IssuedCredentialOutput> {
    const outputs = await ws.outputs();
    return credentialList(outputs.support_credentials?.value)[0]!;
  }

  const roleSettings = async (role: string): Promise<{ config: string[] | null; connlimit: number } | undefined> =>
    (await sql<{ config: string[] | null; connlimit: number }>(cluster, 'postgres', 'select rolconfig as config, rolconnlimit as connlimit from pg_roles where rolname = $1', [role]))[0];

  /** Resolves when the session is ended by the server, or fails after `ms`. */
  function endedWithin(client: Client, ms: number): Promise<Error> {
    return new Promise((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error(`the session was not ended within ${ms} ms`)), ms);
      // pg reports a terminated session twice (the FATAL, then the closed socket): the first counts.
      client.on('error', (err: Error) => {
        clearTimeout(bound);
        resolve(err);
      });
    });
  }

  it("applies; the member's session has the settings, allowed and refused statements behave, one session at a time", async () => {
    await ws.apply();
    const member = await credential();
    const client = await loginAs(member);
    try {
      const show = async (name: string): Promise<unknown> => Object.values((await client.query(`show ${name}`)).rows[0] as object)[0];
      expect(await show('search_path')).toBe('app, public');
      expect(await show('statement_timeout')).toBe('1s');
      expect(await show('idle_session_timeout')).toBe(IDLE_TIMEOUT);
      // Unqualified: app.settings, found through the search path.
      expect((await client.query('select count(*)::int as n from settings')).rows[0]).toEqual({ n: 0 });
      const cancelled = await client.query('select pg_sleep(5)').catch((err: unknown) => err);
      expect(cancelled).toMatchObject({ code: '57014' });
      expect((cancelled as Error).message).toMatch(/statement timeout/);
      // connection_limit = 1: this session is the one.
      const second = await loginAs(member).catch((err: unknown) => err);
      expect(second).toMatchObject({ code: '53300' });
      expect((second as Error).message).toMatch(/too many connections for role/);
    } finally {
      await client.end();
    }
  });

  it('ends an idle session after idle_session_timeout', async () => {
    const client = await loginAs(await credential());
    const ended = endedWithin(client, 30_000);
    await client.query('select 1');
    const err = await ended;
    await client.end().catch(() => undefined);
    expect(err.message).toMatch(/terminating connection due to idle-session timeout/);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(plan.stdout + plan.stderr).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('shows a setting reset by hand as drift, and applying puts it back', async () => {
    const role = (await credential()).username;
    await sql(cluster, 'postgres', `alter role ${ident(role)} reset statement_timeout`);
    const plan = await ws.plan();
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('adaptive_endpoint.app_support will be updated in-place');
    expect(plan.stdout).toContain(`login role \\"${role}\\": statement_timeout is not set, want 1s`);
    await ws.apply();
    expect((await roleSettings(role))?.config).toContain('statement_timeout=1s');
    expect((await ws.plan()).code).toBe(0);
  });

  const BAD: Array<{ title: string; line: string; bad: string; attribute: string; detail: RegExp }> = [
    { title: 'a negative timeout', line: '  statement_timeout    = var.statement_timeout', bad: '  statement_timeout    = "-5s"', attribute: 'statement_timeout', detail: /"-5s" is negative/ },
    { title: 'a malformed duration', line: '  idle_session_timeout = var.idle_session_timeout', bad: '  idle_session_timeout = "5 minutes"', attribute: 'idle_session_timeout', detail: /"5 minutes" is not a duration/ },
    { title: 'connection_limit = 0', line: '  connection_limit = 1', bad: '  connection_limit = 0', attribute: 'connection_limit', detail: /is 0, which would refuse every session/ },
  ];

  it.each(BAD)('fails the plan on $title naming the attribute, and changes nothing', async ({ line, bad, attribute, detail }) => {
    const role = (await credential()).username;
    const before = { counts: await catalogCounts(cluster), role: await roleSettings(role) };
    expect(EXAMPLE).toContain(line);
    ws.write('main.tf', EXAMPLE.replace(line, bad));
    try {
      const plan = await ws.plan();
      expect(plan.code).toBe(1);
      const output = printed(plan);
      expect(output).toContain(`Error: Invalid ${attribute}`);
      expect(output).toContain(bad.trim().replace(/\s+/g, ' '));
      expect(output).toMatch(detail);
      const applied = await ws.apply().then(
        () => 'applied',
        (err: unknown) => String(err),
      );
      expect(applied).not.toBe('applied');
    } finally {
      ws.write('main.tf', EXAMPLE);
    }
    expect({ counts: await catalogCounts(cluster), role: await roleSettings(role) }).toEqual(before);
  });
});
