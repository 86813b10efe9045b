/**
 * The short-lived example (a 5-second ttl), applied by real Terraform with the real plugin
 * (installed by `adaptive-access install`) against real PostgreSQL, through expiry:
 * PostgreSQL refuses the password on time; `terraform plan` shows no changes but warns
 * which grant expired; `adaptive-access reap` ends the session still open and drops the
 * role, and the catalog records it.
 *
 * The provider also reaps on its own during an apply, before its first change
 * (`reap_on_run`, on by default), never during a plan. To tell which component did what,
 * the workspace adds a variable for that setting to the example (an override file, the
 * example itself unchanged): the first expiry is left to the CLI; the renewed grant's
 * expiry survives a plan with the setting on, the next apply that changes something drops
 * it, and the CLI finds nothing left.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { Catalog, parseCatalogKey } from '../../src/runtime/catalog';
import { runCli } from '../cli/run-cli';
import { credentialList, exampleWorkspace, loginAs, prepareCluster, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformResult, TerraformWorkspace } from '../fixtures/terraform';
import { untilInstant } from '../runtime/service-fixture';

const scratch = scratchDir('adaptive-short-lived-');
let mirrorDir: string;

beforeAll(async () => {
  const installed = await runCli(['install', '--json', '--dir', scratch.dir]);
  if (installed.code !== 0) throw new Error(`adaptive-access install failed:\n${installed.stderr}`);
  mirrorDir = (JSON.parse(installed.stdout) as { mirrorDir: string }).mirrorDir;
});
afterAll(() => scratch.remove());

/** Makes the provider's own reaping a variable of the workspace. */
const REAP_ON_RUN_FILES = {
  'reap_on_run.tf': 'variable "reap_on_run" {\n  type    = bool\n  default = true\n}\n',
  'reap_on_run_override.tf': 'provider "adaptive" {\n  reap_on_run = var.reap_on_run\n}\n',
};

/** A resource unrelated to the grant, to give an apply something to change. */
const UNRELATED_AUTHORIZATION =
  'resource "adaptive_authorization" "unrelated" {\n' +
  '  name          = "short-lived-unrelated"\n' +
  '  resource_type = "postgres"\n' +
  '  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })\n' +
  '}\n';

const MEMBER = 'oncall@company.com';
const ENDPOINT = 'short-lived-access';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;
  let catalog: Catalog;
  const sessions: Client[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    ws = exampleWorkspace('short-lived', {
      mirrorDir,
      env,
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password },
      files: REAP_ON_RUN_FILES,
    });
    await ws.init();
    catalog = await Catalog.open(env.ADAPTIVE_CATALOG_URL!, { key: parseCatalogKey(env.ADAPTIVE_CATALOG_KEY!) });
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await catalog?.close();
    ws?.dispose();
    await cluster?.stop();
  });

  const reapOnRun = (on: boolean): string => `-var=reap_on_run=${String(on)}`;

  function apply(on: boolean, ...args: string[]): Promise<TerraformResult> {
    return ws.ok(['apply', '-no-color', '-input=false', '-auto-approve', reapOnRun(on), ...args]);
  }

  function plan(on: boolean): Promise<TerraformResult> {
    return ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode', reapOnRun(on)]);
  }

  async function credential(): Promise<IssuedCredentialOutput> {
    const outputs = await ws.outputs();
    const value = credentialList(outputs.credentials?.value);
    expect(value.map((c) => [c.member, c.endpoint])).toEqual([[MEMBER, ENDPOINT]]);
    return value[0]!;
  }

  async function roleExists(role: string): Promise<boolean> {
    return (await sql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [role])).length === 1;
  }

  /** No changes (exit code 0), and the warning that names the expired grant. */
  function expectNoChangesButWarning(result: TerraformResult, c: IssuedCredentialOutput): void {
    // Terraform wraps diagnostics to the terminal width: compare with spaces collapsed.
    const output = (result.stdout + result.stderr).replace(/\s+/g, ' ');
    expect(result.code, output).toBe(0);
    expect(output).toContain('No changes.');
    expect(output).toContain('Warning: 1 grant(s) of group "oncall" expired');
    expect(output).toContain(`- ${MEMBER} on ${ENDPOINT}: expired at ${c.expires_at}`);
    expect(output).toContain('terraform apply -replace=');
  }

  /** The catalog holds the credential revoked as 'expired', with one 'expire' audit event. */
  async function expectRecordedExpired(c: IssuedCredentialOutput): Promise<void> {
    const rows = await sql<{ revoke_reason: string | null; revoked_at: Date | null }>(
      cluster,
      'adaptive_catalog',
      'select revoke_reason, revoked_at from adaptive.credentials where role_name = $1',
      [c.username],
    );
    expect(rows).toEqual([{ revoke_reason: 'expired', revoked_at: expect.any(Date) as Date }]);
    const events = (await catalog.readAudit({ event: 'expire' })).filter((e) => e.roleName === c.username);
    expect(events).toEqual([
      expect.objectContaining({ member: MEMBER, endpoint: ENDPOINT, group: 'oncall', resource: 'postgres-short-lived', detail: expect.objectContaining({ role_dropped: true }) as unknown }),
    ]);
  }

  let first: IssuedCredentialOutput;
  let firstSession: Client;

  it('applies; the member logs in with the issued credential and keeps a session open', async () => {
    await apply(false);
    first = await credential();
    firstSession = await loginAs(first);
    sessions.push(firstSession);
    // A session the server ends reports an error (twice: the FATAL, then the closed socket).
    firstSession.on('error', () => undefined);
    const left = Date.parse(first.expires_at) - Date.now();
    expect(left, 'the 5-second grant should still be live right after apply').toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5000);
    expect((await firstSession.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
  });

  it('after expiry a new login is refused, and plan shows no changes but warns (and leaves the role)', async () => {
    await untilInstant(new Date(first.expires_at), 250);
    await expect(loginAs(first)).rejects.toThrow(/password authentication failed/);
    expectNoChangesButWarning(await plan(false), first);
    // A plan never reaps: the role is still there, and the open session still runs.
    expect(await roleExists(first.username)).toBe(true);
    expect((await firstSession.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect((await catalog.expiredUnrevoked()).map((c) => c.roleName)).toEqual([first.username]);
  });

  it('adaptive-access reap ends the open session, drops the role and records the expiry', async () => {
    const ended = new Promise<void>((resolve) => firstSession.on('error', () => resolve()));
    const r = await runCli(['reap'], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^postgres-short-lived +${first.username} +${MEMBER.replace(/\./g, '\\.')} +${ENDPOINT} +`, 'm'));
    expect(r.stdout).toContain('Reaped 1 expired role on 1 target.');
    await ended;
    expect(await roleExists(first.username)).toBe(false);
    await expectRecordedExpired(first);
    // Access ended by design: still no changes, still the warning.
    expectNoChangesButWarning(await plan(false), first);
  });

  it('a renewed grant, once expired, survives a plan and is reaped by the next apply that changes something; the CLI then finds nothing', async () => {
    await apply(true, '-replace=adaptive_group.oncall');
    const second = await credential();
    expect(second.username).toBe(first.username); // same member and endpoint: same role name, a new role
    expect(second.password).not.toBe(first.password);
    const client = await loginAs(second);
    await client.end();

    await untilInstant(new Date(second.expires_at), 250);
    await expect(loginAs(second)).rejects.toThrow(/password authentication failed/);
    expect(await roleExists(second.username)).toBe(true);
    expectNoChangesButWarning(await plan(true), second);
    expect(await roleExists(second.username)).toBe(true);
    // Any change will do: the provider reaps before its first write of the apply.
    ws.write('unrelated.tf', UNRELATED_AUTHORIZATION);
    await apply(true);
    expect(await roleExists(second.username)).toBe(false);
    const rows = await sql<{ revoke_reason: string | null }>(cluster, 'adaptive_catalog', 'select revoke_reason from adaptive.credentials where role_name = $1 order by id', [
      second.username,
    ]);
    expect(rows).toEqual([{ revoke_reason: 'expired' }, { revoke_reason: 'expired' }]);
    expect((await catalog.readAudit({ event: 'expire' })).filter((e) => e.roleName === second.username)).toHaveLength(2);

    const r = await runCli(['reap'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'Nothing to reap on 1 target.\n', stderr: '' });
  });

  it('destroys cleanly after expiry', async () => {
    await ws.ok(['destroy', '-no-color', '-input=false', '-auto-approve', reapOnRun(true)]);
    const roles = await sql(cluster, 'postgres', "select rolname from pg_roles where rolname like 'adaptive_ep_%' or rolname like '%@company.com%'");
    expect(roles).toEqual([]);
  });
});
