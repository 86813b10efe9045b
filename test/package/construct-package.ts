/**
 * The standalone test of a construct package (scripts/build-construct-packages.ts), shared by
 * the CDK Terrain and CDKTF files: the package is built and packed once per file, installed
 * with its core into an app in an empty temp dir (from the npm cache, no network), and the
 * app is synthesized and deployed by that core's CLI against real PostgreSQL; a member logs
 * in with the credential the stack outputs, and destroy removes the role.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConstructPackage, constructFlavour, type ConstructFlavour } from '../../scripts/build-construct-packages';
import type { LocalCluster } from '../../src/localpg';
import { checkTtl } from '../../src/runtime/validation';
import { TerraformDir } from '../constructs/support';
import { accessRoles, credentialList, installAdaptiveProvider, loginAs, prepareCluster } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..');
/**
 * A bound on a hang for a CLI step (synth, or init + apply / destroy through the CLI): a
 * deploy that takes 30 s alone took over a minute with other files running beside it.
 */
const CLI_STEP_TIMEOUT = 300_000;
const NODE22_SHIMS = path.join(repoRoot, 'test', 'fixtures', 'preload', 'node22-shims.mjs');

/** The user's app: every L2 construct the package offers for one endpoint, in plain JavaScript. */
function appSource(flavour: ConstructFlavour): string {
  return `const { App, LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } = require('${flavour.core}');
const { AccessGroup, AdaptiveProvider, AdminCredentials, Authorization, Endpoint, PostgresTarget } = require('${flavour.packageName}');

const env = process.env;
const app = new App({ stackTraces: false });
const stack = new TerraformStack(app, 'access');
new LocalBackend(stack, { path: 'terraform.access.tfstate' });
new AdaptiveProvider(stack, 'adaptive');
const password = new TerraformVariable(stack, 'pg_password', { type: 'string', sensitive: true });
const target = new PostgresTarget(stack, 'postgres', {
  name: 'package-postgres',
  host: env.APP_PG_HOST,
  port: Number(env.APP_PG_PORT),
  databaseName: 'production',
  credentials: AdminCredentials.fromPassword(env.APP_PG_USER, password.stringValue),
  tls: { mode: 'disable' },
});
const readers = new Authorization(stack, 'readers', {
  name: 'package-readers',
  permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] },
});
const endpoint = new Endpoint(stack, 'read_access', { name: 'package-read-access', target, authorization: readers, ttl: env.APP_TTL || '1h' });
const group = new AccessGroup(stack, 'analysts', { name: 'package-analysts', members: ['analyst@company.com'], endpoints: [endpoint] });
new TerraformOutput(stack, 'credentials', { value: group.credentials, sensitive: true });
app.synth();
`;
}

/** Our environment without settings that would leak into the app, npm or Terraform. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(TF_|ADAPTIVE_|CDKTF_|CDKTN_|NODE_PATH$|npm_)/.test(key)));
}

/** A child's failure with its output (without stack frames), as an error to report. */
function childFailure(what: string, error: unknown): Error {
  const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
  const lines = `${stdout}\n${stderr}`.split('\n').filter((line) => !/^\s+at /.test(line));
  return new Error(`${what} failed: ${(error as Error).message.split('\n')[0] ?? ''}\n${lines.slice(-40).join('\n')}`);
}

async function runIn(cwd: string, command: string, args: readonly string[], env: Record<string, string | undefined>): Promise<string> {
  const result = await run(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => {
    throw childFailure(`${path.basename(command)} ${args[0] ?? ''}`, error);
  });
  return result.stdout;
}

/** The installed version of a package of the checkout, so the app asks npm for what its cache holds. */
function checkoutVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

export function describeConstructPackage(core: ConstructFlavour['core']): void {
  const flavour = constructFlavour(core);
  // The CLI is the checkout's; everything the app loads comes from the app's own node_modules.
  const cli = path.join(repoRoot, 'node_modules', '.bin', flavour.cliCommand);
  let scratch: string;
  let appDir: string;
  let mirrorDir: string;

  /**
   * The CLI, offline: checkpoint and crash reports off, any other attempt at the network fails
   * at once. cdktn-cli declares Node.js 22; on an older Node.js it gets the preload that
   * stands in for the one function it misses (see the preload's comment).
   */
  function cliRun(args: readonly string[], env: Record<string, string>): Promise<string> {
    // The CLIs point Terraform at a plugin cache in HOME unless told not to: shared by every test
    // file (and run) installing this provider's version, each install with its own code cache.
    const offline = { CHECKPOINT_DISABLE: '1', CI: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
    const needsShim = core === 'cdktn' && Number(process.versions.node.split('.')[0]) < 22;
    const shim = needsShim ? { NODE_OPTIONS: `--import=${pathToFileURL(NODE22_SHIMS).href}` } : {};
    return runIn(appDir, cli, args, { ...cleanEnv(), ...offline, ...shim, ...env });
  }

  beforeAll(async () => {
    scratch = realpathSync(mkdtempSync(path.join(os.tmpdir(), `adaptive-${core}-package-test-`)));
    appDir = path.join(scratch, 'app');
    mkdirSync(appDir);
    const [tarball, mirror] = await Promise.all([buildConstructPackage(flavour, path.join(scratch, 'packages')), installAdaptiveProvider(path.join(scratch, 'provider'))]);
    mirrorDir = mirror;
    writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify({ name: 'access-app', version: '1.0.0', private: true }, null, 2)}\n`);
    writeFileSync(
      path.join(appDir, 'cdktf.json'),
      `${JSON.stringify({ language: 'typescript', app: 'node main.js', output: 'cdktf.out', projectId: 'access-app', sendCrashReports: 'false', terraformProviders: [], terraformModules: [], context: {} }, null, 2)}\n`,
    );
    writeFileSync(path.join(appDir, 'main.js'), appSource(flavour));
    const install = [tarball, `${core}@${checkoutVersion(core)}`, `constructs@${checkoutVersion('constructs')}`];
    await runIn(appDir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...install], { ...cleanEnv(), npm_config_update_notifier: 'false' });
  }, CLI_STEP_TIMEOUT);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it(`installs ${flavour.packageName} with ${core} and constructs as the app's own packages`, async () => {
    const resolved = async (request: string): Promise<string> => (await runIn(appDir, process.execPath, ['-p', `require.resolve(${JSON.stringify(request)})`], cleanEnv())).trim();
    const modules = path.join(appDir, 'node_modules');
    for (const name of [flavour.packageName, core, 'constructs']) expect(await resolved(name)).toContain(`${modules}${path.sep}${name}${path.sep}`);
    // The core is a peer: the package's bindings load the app's copy, so its constructs belong to the app's stacks.
    const fromPackage = (await runIn(path.join(modules, flavour.packageName), process.execPath, ['-p', `require.resolve('${core}')`], cleanEnv())).trim();
    expect(fromPackage).toBe(await resolved(core));
    const manifest = JSON.parse(readFileSync(path.join(modules, flavour.packageName, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(['constructs', core].sort());
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('adaptive-access');
    expect(manifest.version).toBe((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
    expect(readFileSync(path.join(modules, flavour.packageName, 'README.md'), 'utf8')).toContain(`npm install ${flavour.packageName} ${core}@`);
  });

  it('fails synth on a bad value with the runtime validator message', async () => {
    const failure = await runIn(appDir, process.execPath, ['main.js'], { ...cleanEnv(), APP_PG_HOST: 'localhost', APP_PG_PORT: '5432', APP_PG_USER: 'admin', APP_TTL: '8 hours', CDKTF_OUTDIR: path.join(scratch, 'invalid.out') }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    const [ttlIssue] = checkTtl('8 hours');
    expect(failure?.message).toContain(`[access/read_access] ttl: ${ttlIssue?.message ?? 'a ttl message'}`);
  });

  describe.each(eachPostgres())('$name', ({ binaries }) => {
    let cluster: LocalCluster;
    let deployEnv: Record<string, string>;
    let stack: TerraformDir;
    let outdir: string;

    beforeAll(async () => {
      cluster = await startPostgres(binaries);
      const { env: providerEnv } = await prepareCluster(cluster);
      outdir = path.join(scratch, `out-${binaries.major}`);
      stack = new TerraformDir(path.join(outdir, 'stacks', 'access'), { mirrorDir, configDir: path.join(scratch, `config-${binaries.major}`), env: providerEnv });
      deployEnv = {
        ...providerEnv,
        APP_PG_HOST: cluster.host,
        APP_PG_PORT: String(cluster.port),
        APP_PG_USER: cluster.user,
        TF_VAR_pg_password: cluster.password,
        TF_CLI_CONFIG_FILE: stack.cliConfigPath,
      };
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it(`synthesizes with \`${flavour.cliCommand} synth\``, async () => {
      await cliRun(['synth', '--output', outdir], deployEnv);
      const config = JSON.parse(readFileSync(path.join(outdir, 'stacks', 'access', 'cdk.tf.json'), 'utf8')) as {
        terraform: { required_providers: Record<string, { source: string }> };
        resource: Record<string, Record<string, Record<string, unknown>>>;
      };
      expect(config.terraform.required_providers.adaptive?.source).toMatch(/adaptive$/);
      expect(Object.keys(config.resource).sort()).toEqual(['adaptive_authorization', 'adaptive_endpoint', 'adaptive_group', 'adaptive_resource']);
      expect(config.resource.adaptive_resource?.postgres).toMatchObject({ type: 'postgres', name: 'package-postgres', port: String(cluster.port), password: '${var.pg_password}' });
      expect(readFileSync(path.join(outdir, 'stacks', 'access', 'cdk.tf.json'), 'utf8')).not.toContain(cluster.password);
    }, CLI_STEP_TIMEOUT);

    it(`deploys offline with \`${flavour.cliCommand} deploy\`; the member logs in with the issued credential`, async () => {
      const deployed = await cliRun(['deploy', 'access', '--skip-provider-lock', '--auto-approve', '--output', outdir], deployEnv);
      expect(deployed).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
      const outputs = await stack.outputs();
      expect(outputs.credentials?.sensitive).toBe(true);
      const [credential, ...others] = credentialList(outputs.credentials?.value);
      expect(others).toEqual([]);
      expect({ member: credential?.member, endpoint: credential?.endpoint }).toEqual({ member: 'analyst@company.com', endpoint: 'package-read-access' });
      expect(await accessRoles(cluster)).toContain(credential?.username);
      const client = await loginAs(credential!);
      try {
        expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
        await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
      } finally {
        await client.end();
      }
    }, CLI_STEP_TIMEOUT);

    it(`destroys with \`${flavour.cliCommand} destroy\`: the roles are gone`, async () => {
      const destroyed = await cliRun(['destroy', 'access', '--auto-approve', '--output', outdir], deployEnv);
      expect(destroyed).toContain('Destroy complete! Resources: 4 destroyed.');
      expect(await accessRoles(cluster)).toEqual([]);
    }, CLI_STEP_TIMEOUT);
  });
}
