/**
 * Ctrl-C during `terraform apply` of the groups-and-endpoints example. Terraform runs in a
 * process group of its own, as under a terminal, and the whole group gets SIGINT the
 * moment Terraform reports that it started creating a resource of a given type. After it
 * exits: what state records is exactly what the catalog holds, every recorded object
 * exists on the target, and the target holds no role that neither knows of. A second
 * apply then converges, plans no changes, and destroy leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { exampleWorkspace, installAdaptiveProvider, prepareCluster, scratchDir, sql } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformResult, TerraformWorkspace } from '../fixtures/terraform';

/** What a plugin failure looks like in Terraform's output, whatever the RPC. */
const PLUGIN_FAILURE = /Plugin did not respond|panic|The plugin encountered an error|unexpected EOF|plugin (?:crashed|exited)/i;

const TYPES = ['adaptive_resource', 'adaptive_authorization', 'adaptive_endpoint', 'adaptive_group'] as const;
type ResourceType = (typeof TYPES)[number];

/** An apply that was interrupted, with the line of output that triggered the interrupt. */
interface InterruptedRun extends TerraformResult {
  readonly trigger: string | undefined;
}

/**
 * Runs `terraform <args>` in a process group of its own and sends SIGINT to the whole
 * group (Terraform and its plugins, as Ctrl-C does) when a line of its output matches
 * `trigger`. `env` is what the workspace runs with besides its own settings.
 */
function interruptWhen(ws: TerraformWorkspace, env: Readonly<Record<string, string>>, args: readonly string[], trigger: RegExp): Promise<InterruptedRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TF_')));
  const child = spawn(ws.binary, ['-chdir=' + ws.dir, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: ws.cliConfigPath,
      TF_DATA_DIR: path.join(ws.dir, '.terraform'),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '',
      ...env,
    },
  });
  const pid = child.pid;
  let stdout = '';
  let stderr = '';
  let pending = '';
  let triggeredBy: string | undefined;
  let signalError: Error | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stdout += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (triggeredBy !== undefined || !trigger.test(line) || pid === undefined) continue;
      triggeredBy = line;
      try {
        process.kill(-pid, 'SIGINT');
      } catch (err) {
        // process.kill throws only system errors (ESRCH, EPERM).
        signalError = err as Error;
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (signalError !== undefined) reject(signalError);
      else resolve({ code: code ?? -1, stdout, stderr, trigger: triggeredBy });
    });
  });
}

/** Whether Terraform reported the create of `address` as complete (its plugin answered). */
function completedBefore(stdout: string, address: string): boolean {
  return stdout.split('\n').some((line) => line.startsWith(`${address}: Creation complete after `));
}

/** What state, the catalog and the target hold, by name. */
interface Holdings {
  /** `type.label` addresses in state. */
  readonly addresses: string[];
  readonly state: Record<ResourceType, string[]>;
  readonly catalog: Record<ResourceType, string[]>;
  /** Access roles of the endpoints in state, and of those in the catalog. */
  readonly stateAccessRoles: string[];
  readonly catalogAccessRoles: string[];
  /** Login roles handed out in state (group credentials), and recorded live in the catalog. */
  readonly stateLogins: string[];
  readonly catalogLogins: string[];
  /** Roles on the target: endpoint access roles, and login roles this system issued. */
  readonly targetAccessRoles: string[];
  readonly targetLogins: string[];
  readonly targetHasMarkerRole: boolean;
}

interface ShownResource {
  readonly mode: string;
  readonly type: string;
  readonly name: string;
  readonly values: Record<string, unknown>;
}

function sortedStrings(values: Iterable<unknown>): string[] {
  return [...values].map(String).sort();
}

async function holdings(ws: TerraformWorkspace, cluster: LocalCluster): Promise<Holdings> {
  // `show -json` carries the credentials' passwords too: only names are taken from it.
  const shown = JSON.parse((await ws.ok(['show', '-json'])).stdout) as { values?: { root_module?: { resources?: ShownResource[] } } };
  const resources = (shown.values?.root_module?.resources ?? []).filter((r) => r.mode === 'managed');
  const stateNames = (type: ResourceType): string[] => sortedStrings(resources.filter((r) => r.type === type).map((r) => r.values.name));
  const stateLogins = resources
    .filter((r) => r.type === 'adaptive_group')
    .flatMap((r) => Object.values((r.values.credentials as Record<string, { username: string }> | null) ?? {}).map((c) => c.username));

  const catalogReady = (await sql<{ ready: boolean }>(cluster, 'adaptive_catalog', "select to_regclass('adaptive.credentials') is not null as ready"))[0]?.ready;
  const names = async (table: string): Promise<string[]> =>
    catalogReady ? sortedStrings((await sql<{ name: string }>(cluster, 'adaptive_catalog', `select name from adaptive.${table}`)).map((r) => r.name)) : [];
  const catalogEndpoints = catalogReady
    ? await sql<{ name: string; access_role: string }>(cluster, 'adaptive_catalog', 'select name, access_role from adaptive.endpoints')
    : [];
  const catalogLogins = catalogReady
    ? (await sql<{ role_name: string }>(cluster, 'adaptive_catalog', 'select role_name from adaptive.credentials where revoked_at is null')).map((r) => r.role_name)
    : [];

  const targetAccessRoles = await sql<{ name: string }>(cluster, 'postgres', "select rolname::text as name from pg_roles where rolname like 'adaptive\\_ep\\_%'");
  const targetLogins = await sql<{ name: string }>(
    cluster,
    'postgres',
    `select r.rolname::text as name
       from pg_auth_members m join pg_roles r on r.oid = m.member join pg_roles g on g.oid = m.roleid
      where g.rolname = 'adaptive_managed'`,
  );
  const marker = await sql(cluster, 'postgres', "select 1 from pg_roles where rolname = 'adaptive_managed'");

  return {
    addresses: resources.map((r) => `${r.type}.${r.name}`).sort(),
    state: Object.fromEntries(TYPES.map((t) => [t, stateNames(t)])) as Record<ResourceType, string[]>,
    catalog: {
      adaptive_resource: await names('resources'),
      adaptive_authorization: await names('authorizations'),
      adaptive_endpoint: sortedStrings(catalogEndpoints.map((e) => e.name)),
      adaptive_group: await names('"groups"'),
    },
    stateAccessRoles: sortedStrings(resources.filter((r) => r.type === 'adaptive_endpoint').map((r) => r.values.access_role)),
    catalogAccessRoles: sortedStrings(catalogEndpoints.map((e) => e.access_role)),
    stateLogins: sortedStrings(stateLogins),
    catalogLogins: sortedStrings(catalogLogins),
    targetAccessRoles: sortedStrings(targetAccessRoles.map((r) => r.name)),
    targetLogins: sortedStrings(targetLogins.map((r) => r.name)),
    targetHasMarkerRole: marker.length === 1,
  };
}

/** State, catalog and target agree: nothing recorded is missing, nothing present is unrecorded. */
function expectConsistent(h: Holdings): void {
  for (const type of TYPES) expect(h.state[type], `${type}: state vs catalog`).toEqual(h.catalog[type]);
  expect(h.stateAccessRoles, 'access roles: state vs catalog').toEqual(h.catalogAccessRoles);
  expect(h.targetAccessRoles, 'access roles: target vs catalog').toEqual(h.catalogAccessRoles);
  expect(h.stateLogins, 'login roles: state vs catalog').toEqual(h.catalogLogins);
  expect(h.targetLogins, 'login roles: target vs catalog').toEqual(h.catalogLogins);
  if (h.state.adaptive_resource.length > 0) expect(h.targetHasMarkerRole).toBe(true);
}

const EVERYTHING = [
  'adaptive_authorization.postgres_developer',
  'adaptive_authorization.postgres_readonly',
  'adaptive_endpoint.postgres_dev_access',
  'adaptive_endpoint.postgres_readonly_access',
  'adaptive_group.postgres_analysts',
  'adaptive_group.postgres_developers',
  'adaptive_resource.postgres',
];

/** Where to interrupt: the first `Creating...` of a resource type. */
const POINTS: ReadonlyArray<{ type: ResourceType; trigger: RegExp; halts: boolean }> = [
  { type: 'adaptive_resource', trigger: /^adaptive_resource\.\w+: Creating\.\.\.$/, halts: true },
  { type: 'adaptive_endpoint', trigger: /^adaptive_endpoint\.\w+: Creating\.\.\.$/, halts: true },
  // Both groups may already be in flight when the interrupt lands, so the apply may have
  // nothing left to halt; consistency must hold either way.
  { type: 'adaptive_group', trigger: /^adaptive_group\.\w+: Creating\.\.\.$/, halts: false },
];

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;
  const scratch = scratchDir('adaptive-interrupt-');

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const prepared = await prepareCluster(cluster);
    const mirrorDir = await installAdaptiveProvider(scratch.dir);
    const vars = { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password };
    env = { ...prepared.env, ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [`TF_VAR_${k}`, v])) };
    ws = exampleWorkspace('groups-and-endpoints', { mirrorDir, env: prepared.env, vars });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
    scratch.remove();
  });

  it.each(POINTS)('Ctrl-C at the first $type creation leaves state, catalog and target consistent; apply converges; destroy cleans up', async (point) => {
    const interrupted = await interruptWhen(ws, env, ['apply', '-no-color', '-input=false', '-auto-approve'], point.trigger);
    const output = interrupted.stdout + interrupted.stderr;
    expect(interrupted.trigger, output).toBeDefined();
    expect(interrupted.code, output).toBe(1);
    expect(interrupted.stdout).toContain('Interrupt received');
    expect(output).not.toMatch(PLUGIN_FAILURE);

    const after = await holdings(ws, cluster);
    const started = /^(\S+): Creating/.exec(interrupted.trigger ?? '')!.at(1)!;
    if (completedBefore(interrupted.stdout, started)) {
      // The create reached the plugin and ran to its end although Terraform had asked the
      // provider to stop: recorded in state (and, checked below, in the catalog), not orphaned.
      expect(after.addresses).toContain(started);
    } else {
      // Terraform announces a create ("Creating...") before its own stop check (the stop
      // hook runs after the one that prints); a Ctrl-C landing in between halts the create
      // before it is sent to the plugin. Then nothing was created: no failure reported for
      // it, state does not hold it, and (checked below) neither does the catalog.
      expect(output).toContain('execution halted');
      expect(output).not.toContain(`with ${started}`);
      expect(after.addresses).not.toContain(started);
    }
    if (point.halts) expect(after.addresses.length, 'the interrupt stopped the apply before the end').toBeLessThan(EVERYTHING.length);
    expectConsistent(after);

    await ws.apply();
    const plan = await ws.plan();
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes.');
    const converged = await holdings(ws, cluster);
    expect(converged.addresses).toEqual(EVERYTHING);
    expect(converged.catalogLogins).toHaveLength(4);
    expectConsistent(converged);

    await ws.destroy();
    const left = await holdings(ws, cluster);
    expect(left.addresses).toEqual([]);
    expect(left.catalog).toEqual({ adaptive_resource: [], adaptive_authorization: [], adaptive_endpoint: [], adaptive_group: [] });
    expect(left.catalogLogins).toEqual([]);
    expect(left.targetAccessRoles).toEqual([]);
    expect(left.targetLogins).toEqual([]);
    // Five Terraform runs of the whole example, on a machine that may be busy.
  }, 240_000);
});
