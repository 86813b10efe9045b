/**
 * `adaptive-access install`, run as a child process: it writes the mirror and a CLI
 * configuration, and what it prints is enough for real Terraform to install the provider
 * offline and run it. Installing again changes nothing, so an existing lock file still
 * matches.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROVIDER_SOURCE, terraformPlatform } from '../../src/install/mirror';
import { packageVersion } from '../../src/install/version';
import { TerraformWorkspace } from '../fixtures/terraform';
import { runCli } from './run-cli';

interface InstallJson {
  cliConfigFile: string;
  cliConfig: string;
  mirrorDir: string;
  source: string;
  version: string;
  platform: string;
  packageDir: string;
  executable: string;
  node: string;
  requiredProviders: string;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-install-'));
const workspaces: TerraformWorkspace[] = [];
afterAll(() => {
  for (const ws of workspaces) ws.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every file under `dir` with its content, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else files[path.relative(dir, file)] = `${(statSync(file).mode & 0o777).toString(8)} ${readFileSync(file, 'base64')}`;
    }
  };
  walk(dir);
  return files;
}

async function installJson(args: readonly string[], env: Record<string, string> = {}): Promise<{ report: InstallJson; stderr: string }> {
  const r = await runCli(['install', '--json', ...args], { env });
  expect(r.code, r.stderr).toBe(0);
  // One JSON object on one line, and nothing else on stdout.
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  return { report: JSON.parse(r.stdout) as InstallJson, stderr: r.stderr };
}

describe('install', () => {
  const dir = path.join(scratch, 'explicit');
  let first: InstallJson;
  let ws: TerraformWorkspace;

  it('--json installs into --dir and prints what it wrote as one JSON object', async () => {
    const { report, stderr } = await installJson(['--dir', dir]);
    first = report;
    const version = packageVersion();
    expect(report).toEqual({
      cliConfigFile: path.join(dir, 'terraform.rc'),
      cliConfig: expect.stringContaining('provider_installation {') as string,
      mirrorDir: path.join(dir, 'mirror'),
      source: PROVIDER_SOURCE,
      version,
      platform: terraformPlatform(),
      packageDir: path.join(dir, 'mirror', ...PROVIDER_SOURCE.split('/'), version, terraformPlatform()),
      executable: path.join(dir, 'mirror', ...PROVIDER_SOURCE.split('/'), version, terraformPlatform(), `terraform-provider-adaptive_v${version}`),
      node: process.execPath,
      requiredProviders: expect.stringContaining(`source  = "${PROVIDER_SOURCE}"`) as string,
    });
    expect(report.requiredProviders).toContain(`version = "${version}"`);
    expect(readFileSync(report.cliConfigFile, 'utf8')).toContain(report.cliConfig);
    expect(statSync(report.executable).mode & 0o111).not.toBe(0);
    // Progress goes to stderr; the scratch bundle is gone.
    expect(stderr).toMatch(/Bundling the provider plugin/);
    expect(readdirSync(dir).sort()).toEqual(['mirror', 'terraform.rc']);
  });

  it('what it printed is enough for terraform init, offline, and Terraform runs the installed plugin', async () => {
    ws = new TerraformWorkspace({
      files: { 'main.tf': first.requiredProviders },
      // The printed CLI configuration, instead of the harness's own; the harness's proxy
      // settings still make any network access fail.
      env: { TF_CLI_CONFIG_FILE: first.cliConfigFile },
    });
    workspaces.push(ws);
    const init = await ws.init();
    expect(init.stdout).toMatch(new RegExp(`Installing ${PROVIDER_SOURCE.replace(/\./g, '\\.')} v${packageVersion().replace(/\./g, '\\.')}`));
    const lock = readFileSync(path.join(ws.dir, '.terraform.lock.hcl'), 'utf8');
    expect(lock).toContain(`provider "${PROVIDER_SOURCE}"`);
    expect(lock).toMatch(new RegExp(`version += "${packageVersion().replace(/\./g, '\\.')}"`));
    const schema = await ws.ok(['providers', 'schema', '-json']);
    const parsed = JSON.parse(schema.stdout) as { provider_schemas: Record<string, { resource_schemas: Record<string, unknown> }> };
    expect(Object.keys(parsed.provider_schemas[PROVIDER_SOURCE]?.resource_schemas ?? {}).sort()).toEqual([
      'adaptive_authorization',
      'adaptive_endpoint',
      'adaptive_group',
      'adaptive_resource',
    ]);
  });

  it('running it again changes nothing: same files, same report, and the lock file still matches', async () => {
    const before = snapshot(dir);
    const { report } = await installJson(['--dir', dir]);
    expect(report).toEqual(first);
    expect(snapshot(dir)).toEqual(before);
    // Same package checksum: init against the existing lock file succeeds.
    await ws.init();
  });

  it('without --dir installs per user, under $XDG_DATA_HOME, else ~/.local/share', async () => {
    const xdg = path.join(scratch, 'xdg-data');
    const { report } = await installJson([], { XDG_DATA_HOME: xdg });
    expect(report.cliConfigFile).toBe(path.join(xdg, 'adaptive-access', 'terraform.rc'));
    expect(existsSync(report.executable)).toBe(true);

    const home = path.join(scratch, 'home');
    const r = await runCli(['install'], { env: { HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    const base = path.join(home, '.local', 'share', 'adaptive-access');
    expect(existsSync(path.join(base, 'terraform.rc'))).toBe(true);
    // For a person: where the config is and how to use it, the source, the version, the block to paste.
    expect(r.stdout).toContain(`Installed the adaptive provider ${packageVersion()} (${terraformPlatform()}) in ${path.join(base, 'mirror')}`);
    expect(r.stdout).toContain(`export TF_CLI_CONFIG_FILE=${path.join(base, 'terraform.rc')}`);
    expect(r.stdout).toContain('~/.terraformrc');
    expect(r.stdout).toMatch(new RegExp(`Provider source: +${PROVIDER_SOURCE.replace(/\./g, '\\.')}`));
    expect(r.stdout).toMatch(new RegExp(`Version: +${packageVersion().replace(/\./g, '\\.')}`));
    expect(r.stdout).toContain(
      ['terraform {', '  required_providers {', '    adaptive = {', `      source  = "${PROVIDER_SOURCE}"`, `      version = "${packageVersion()}"`, '    }', '  }', '}']
        .map((l) => `     ${l}`)
        .join('\n'),
    );
    expect(r.stderr).toMatch(/Bundling the provider plugin/);
    expect(r.stdout).not.toMatch(/Bundling/);
  });
});

describe('install --source', () => {
  const custom = 'registry.example.corp/platform/adaptive';

  it('installs under a private registry address that terraform init then resolves from the mirror, offline', async () => {
    const dir = path.join(scratch, 'custom-source');
    // Upper case is accepted and written the way Terraform writes addresses.
    const { report } = await installJson(['--dir', dir, '--source', 'Registry.Example.Corp/platform/adaptive']);
    const version = packageVersion();
    expect(report.source).toBe(custom);
    expect(report.packageDir).toBe(path.join(dir, 'mirror', 'registry.example.corp', 'platform', 'adaptive', version, terraformPlatform()));
    expect(report.requiredProviders).toContain(`source  = "${custom}"`);
    expect(report.cliConfig).toContain(`include = ["${custom}"]`);
    expect(report.cliConfig).toContain(`exclude = ["${custom}"]`);
    expect(report.cliConfig).not.toContain(PROVIDER_SOURCE);
    expect(readFileSync(report.cliConfigFile, 'utf8')).toContain(report.cliConfig);
    expect(existsSync(path.join(dir, 'mirror', ...PROVIDER_SOURCE.split('/')))).toBe(false);

    // The harness's proxy settings make any registry lookup fail: init succeeds only from the mirror.
    const ws = new TerraformWorkspace({ files: { 'main.tf': report.requiredProviders }, env: { TF_CLI_CONFIG_FILE: report.cliConfigFile } });
    workspaces.push(ws);
    const init = await ws.init();
    expect(init.stdout).toContain(`Installing ${custom} v${version}`);
    expect(readFileSync(path.join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toContain(`provider "${custom}"`);
    const schema = await ws.ok(['providers', 'schema', '-json']);
    const parsed = JSON.parse(schema.stdout) as { provider_schemas: Record<string, { resource_schemas: Record<string, unknown> }> };
    expect(Object.keys(parsed.provider_schemas)).toEqual([custom]);
    expect(Object.keys(parsed.provider_schemas[custom]?.resource_schemas ?? {})).toContain('adaptive_group');
  });

  it('refuses a malformed address as a usage error naming the flag, and writes nothing', async () => {
    // The rules themselves are tested on parseSourceAddress (test/provider/mirror.test.ts).
    const cases: Array<[string, RegExp]> = [
      ['https://registry.example.corp/platform/adaptive', /must be host\/namespace\/type/],
      ['registry.example.corp/plat_form/adaptive', /the namespace "plat_form"/],
    ];
    await Promise.all(
      cases.map(async ([source, reason]) => {
        const dir = path.join(scratch, `refused-${reason.source.length}`);
        const r = await runCli(['install', '--dir', dir, '--source', source]);
        expect(r.code, source).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^adaptive-access install: option '--source': /);
        expect(r.stderr).toMatch(reason);
        expect(r.stderr).toContain("Run 'adaptive-access install --help' for usage.");
        expect(existsSync(dir), source).toBe(false);
      }),
    );
  });
});
