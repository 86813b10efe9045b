/**
 * The just-in-time example through real Terraform and the real plugin, on real PostgreSQL:
 * one `terraform apply` opens an `adaptive_credential`, a `local-exec` job runs psql with
 * it (an allowed and a refused statement) and leaves a session open; when the run ends the
 * role is gone and that session has been ended. A plan alone leaves no role. A run whose
 * plugin is killed (-9) after Open leaves the credential to the reaper, which removes it at
 * its expiry. No password of the credential is in the state, `terraform show -json` or the
 * plan file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { Catalog, parseCatalogKey } from '../../src/runtime/catalog';
import { runCli } from '../cli/run-cli';
import { exampleWorkspace, prepareCluster, scratchDir, sql } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformWorkspace } from '../fixtures/terraform';
import { untilServerPasses } from '../runtime/service-fixture';

const scratch = scratchDir('adaptive-just-in-time-');
let mirrorDir: string;

beforeAll(async () => {
  const installed = await runCli(['install', '--json', '--dir', scratch.dir]);
  if (installed.code !== 0) throw new Error(`adaptive-access install failed:\n${installed.stderr}`);
  mirrorDir = (JSON.parse(installed.stdout) as { mirrorDir: string }).mirrorDir;
});
afterAll(() => scratch.remove());

const ENDPOINT = 'oncall-access';
const MEMBER = 'oncall@company.com';

/**
 * The job the test runs instead of the example's: an allowed and a refused statement, the
 * password kept for the test to look for, and a session left open in the background (it
 * waits until the server shows that session, so the run cannot end before it exists).
 */
function jobScript(dir: string): string {
  const file = (name: string): string => JSON.stringify(path.join(dir, name));
  return [
    'set -e',
    `printf %s "$PGPASSWORD" > ${file('password')}`,
    `printf %s "$PGUSER" > ${file('user')}`,
    `psql -X -A -t -v ON_ERROR_STOP=1 -c 'select count(*) from orders' > ${file('allowed')}`,
    `if psql -X -v ON_ERROR_STOP=1 -c 'delete from orders' 2> ${file('refused')}; then echo unexpected > ${file('refused')}; fi`,
    `nohup psql -X -c 'select pg_sleep(600)' > ${file('background')} 2>&1 &`,
    `echo $! > ${file('background.pid')}`,
    `until [ "$(psql -X -A -t -c "select count(*) from pg_stat_activity where usename = current_user and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()")" = 1 ]; do sleep 0.05; done`,
  ].join('\n');
}

/** Resolves when process `pid` has exited (polling its existence, as a shell `wait` cannot: it is not our child). */
async function untilExited(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves when `file` exists. */
async function untilFile(file: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pids of the plugin processes Terraform started for this workspace. */
function pluginPids(ws: TerraformWorkspace): number[] {
  const mark = path.join(ws.dir, '.terraform', 'providers');
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;
  let catalog: Catalog;
  let jobDir: string;

  /** The on-demand login roles of the example's endpoint that exist on the target. */
  async function onDemandRoles(): Promise<string[]> {
    const rows = await sql<{ rolname: string }>(cluster, 'postgres', "select rolname::text from pg_roles where rolname like $1 || '#%' order by 1", [
      `${MEMBER}/${ENDPOINT}`,
    ]);
    return rows.map((r) => r.rolname);
  }

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    jobDir = scratchDir('adaptive-jit-job-').dir;
    writeFileSync(path.join(jobDir, 'job.sh'), jobScript(jobDir));
    ws = exampleWorkspace('just-in-time', {
      mirrorDir,
      env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' },
      vars: {
        pg_host: cluster.host,
        pg_port: String(cluster.port),
        pg_username: cluster.user,
        pg_password: cluster.password,
        job: `sh ${path.join(jobDir, 'job.sh')}`,
      },
    });
    await ws.init();
    catalog = await Catalog.open(env.ADAPTIVE_CATALOG_URL!, { key: parseCatalogKey(env.ADAPTIVE_CATALOG_KEY!) });
  });
  afterAll(async () => {
    await catalog?.close();
    ws?.dispose();
    await cluster?.stop();
  });

  it('one apply opens a credential, the job uses it, and the run ends with the role gone and its session ended', async () => {
    const applied = await ws.apply();
    expect(applied.stdout).toMatch(/terraform_data\.job.*Creation complete/);

    const user = readFileSync(path.join(jobDir, 'user'), 'utf8');
    const password = readFileSync(path.join(jobDir, 'password'), 'utf8');
    expect(user.startsWith(`${MEMBER}/${ENDPOINT}#`)).toBe(true);
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(readFileSync(path.join(jobDir, 'allowed'), 'utf8').trim()).toBe('2');
    expect(readFileSync(path.join(jobDir, 'refused'), 'utf8')).toMatch(/permission denied for table orders/);

    // The background session was ended by Close: its psql exits with the server's message.
    await untilExited(Number(readFileSync(path.join(jobDir, 'background.pid'), 'utf8')));
    expect(readFileSync(path.join(jobDir, 'background'), 'utf8')).toMatch(/terminating connection|server closed the connection/);
    expect(await onDemandRoles()).toEqual([]);
    // The group (delivery "none") holds no standing credential: no login role of the pair at all.
    expect(await sql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [`${MEMBER}/${ENDPOINT}`])).toEqual([]);
    const sessions = await sql(cluster, 'postgres', 'select pid from pg_stat_activity where usename = $1', [user]);
    expect(sessions).toEqual([]);

    const events = await catalog.readAudit({ member: MEMBER });
    const mine = events.filter((e) => e.roleName === user).map((e) => [e.event, e.detail.reason ?? e.detail.via]);
    expect(mine).toEqual([
      ['grant.ephemeral', 'terraform'],
      ['revoke', 'closed'],
    ]);

    // The CLI's audit lists it by its event name.
    const audit = await runCli(['audit', '--event', 'grant.ephemeral', '--json'], { env });
    expect(audit.code, audit.stderr).toBe(0);
    expect((JSON.parse(audit.stdout) as { events: Array<{ role: string }> }).events.map((e) => e.role)).toContain(user);

    // Nothing of the credential is in state or in `terraform show -json`.
    // Nor the admin's password (write-only).
    const state = readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8');
    expect(state).not.toContain(password);
    expect(state).not.toContain(user);
    expect(state).not.toContain(cluster.password);
    const shown = await ws.ok(['show', '-json']);
    expect(shown.stdout).not.toContain(password);
    expect(shown.stdout).not.toContain(cluster.password);
  });

  it('a plan alone issues and revokes, and leaves no role; the plan file holds no password', async () => {
    const before = (await catalog.readAudit({ event: 'grant.ephemeral' })).length;
    const planned = await ws.run(['plan', '-no-color', '-input=false', '-out=tfplan']);
    expect(planned.code).toBe(0);
    expect(await onDemandRoles()).toEqual([]);
    const grants = await catalog.readAudit({ event: 'grant.ephemeral' });
    expect(grants.length).toBe(before + 1);
    const opened = grants[grants.length - 1]!.roleName!;
    const closed = await catalog.readAudit({ event: 'revoke' });
    expect(closed.filter((e) => e.roleName === opened).map((e) => e.detail.reason)).toEqual(['closed']);
    expect((await catalog.liveCredentials({ kind: 'ephemeral' })).length).toBe(0);

    // The plan file (a zip) holds neither the credential's password nor its user.
    const listing = spawnSync('unzip', ['-Z1', path.join(ws.dir, 'tfplan')], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const contents = spawnSync('unzip', ['-p', path.join(ws.dir, 'tfplan')], { encoding: 'latin1', maxBuffer: 64 << 20 }).stdout;
    expect(contents.length).toBeGreaterThan(0);
    expect(contents).not.toContain(opened);
    expect(contents).not.toContain(cluster.password);
  });

  it('renews the credential while the run lasts', async () => {
    const seen = path.join(jobDir, 'renewed');
    // Waits, logged in, until its own VALID UNTIL moves: Terraform renewed it (at two thirds of 6 s).
    const job =
      `first=$(psql -X -A -t -c 'select rolvaliduntil from pg_roles where rolname = current_user'); ` +
      `until [ "$(psql -X -A -t -c 'select rolvaliduntil from pg_roles where rolname = current_user')" != "$first" ]; do sleep 0.05; done; ` +
      `printf %s "$PGUSER" > ${JSON.stringify(seen)}`;
    await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve', '-var', `job=${job}`, '-var', 'credential_ttl=6s']);
    const role = readFileSync(seen, 'utf8');
    const events = (await catalog.readAudit({ member: MEMBER })).filter((e) => e.roleName === role).map((e) => e.event);
    expect(events[0]).toBe('grant.ephemeral');
    expect(events).toContain('extend');
    expect(events[events.length - 1]).toBe('revoke');
    expect(await onDemandRoles()).toEqual([]);
  });

  it('a run whose plugin is killed after Open leaves the credential to the reaper, which removes it at expiry', async () => {
    const opened = path.join(jobDir, 'opened');
    const release = path.join(jobDir, 'release');
    const waitingJob = `printf %s "$PGUSER" > ${JSON.stringify(opened)}.tmp && mv ${JSON.stringify(opened)}.tmp ${JSON.stringify(opened)}; until [ -f ${JSON.stringify(release)} ]; do sleep 0.05; done`;
    const run = ws.run(['apply', '-no-color', '-input=false', '-auto-approve', '-var', `job=${waitingJob}`, '-var', 'credential_ttl=6s']);
    await untilFile(opened);
    const role = readFileSync(opened, 'utf8');
    expect(await onDemandRoles()).toEqual([role]);
    const pids = pluginPids(ws);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    writeFileSync(release, '');
    const result = await run;
    expect(result.code).not.toBe(0);
    // Close never came: the role outlives the run until its expiry.
    expect(await onDemandRoles()).toEqual([role]);
    const [record] = await catalog.liveCredentials({ roleName: role });
    expect(record).toBeDefined();

    await untilServerPasses(cluster, record!.expiresAt);
    const reaped = await runCli(['reap'], { env });
    expect(reaped.code).toBe(0);
    expect(await onDemandRoles()).toEqual([]);
    const expired = (await catalog.readAudit({ event: 'expire' })).filter((e) => e.roleName === role);
    expect(expired).toHaveLength(1);
  });
});
