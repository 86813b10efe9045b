/**
 * Installing for Terraform: the filesystem-mirror layout, the wrapper Terraform executes,
 * and the CLI configuration that points at the mirror.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliConfigFor, normalSourceAddress, parseSourceAddress, PROVIDER_SOURCE, terraformPlatform, writeFilesystemMirror } from '../../src/install/mirror';
import { packageVersion } from '../../src/install/version';
import { cleanup, tempDir } from './support';

const dir = tempDir('toy-mirror-');
afterAll(() => cleanup(dir));

describe('filesystem mirror', () => {
  it('lays the package out as Terraform expects, with a copied bundle and an executable wrapper', () => {
    const bundle = path.join(dir, 'bundle.cjs');
    writeFileSync(bundle, "process.stdout.write('ran with ' + process.argv.slice(2).join(' '));\n");
    const mirrorDir = path.join(dir, 'mirror');
    const { packageDir, executable } = writeFilesystemMirror({ mirrorDir, sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: bundle });
    expect(packageDir).toBe(path.join(mirrorDir, 'adaptive-access.local', 'access', 'adaptive', packageVersion(), terraformPlatform()));
    expect(path.basename(executable)).toBe(`terraform-provider-adaptive_v${packageVersion()}`);
    expect(statSync(executable).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(packageDir, 'adaptive-plugin.cjs'), 'utf8')).toBe(readFileSync(bundle, 'utf8'));
    expect(execFileSync(executable, ['a', 'b'], { encoding: 'utf8' })).toBe('ran with a b');
    // Terraform hands the plugin the user's environment. With an ESM preload in NODE_OPTIONS,
    // Node loads its main file through the ESM loader, which refuses a file named like the
    // executable (`..._v0.1.0`: extension ".0"): the wrapper hands Node the `.cjs` bundle instead.
    const preload = path.join(dir, 'preload.mjs');
    writeFileSync(preload, '\n');
    expect(execFileSync(executable, ['a'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--import ${preload}` } })).toBe('ran with a');
  });

  it('names platforms like Terraform and checks source addresses and versions', () => {
    expect(terraformPlatform('linux', 'x64')).toBe('linux_amd64');
    expect(terraformPlatform('darwin', 'arm64')).toBe('darwin_arm64');
    expect(parseSourceAddress(PROVIDER_SOURCE)).toEqual({ host: 'adaptive-access.local', namespace: 'access', type: 'adaptive' });
    expect(() => parseSourceAddress('adaptive')).toThrow(/host\/namespace\/type/);
    // Terraform's rules: a hostname (optionally :port), then namespace and type of letters,
    // digits and inner hyphens; compared lower-cased.
    expect(parseSourceAddress('Registry.Example.Corp:8443/Platform/adaptive-pg')).toEqual({ host: 'registry.example.corp:8443', namespace: 'platform', type: 'adaptive-pg' });
    expect(normalSourceAddress('Registry.Example.Corp/platform/adaptive')).toBe('registry.example.corp/platform/adaptive');
    const refused: Array<[string, RegExp]> = [
      ['platform/adaptive', /must be host\/namespace\/type/],
      ['registry.example.corp/platform/adaptive/extra', /must be host\/namespace\/type/],
      ['https://registry.example.corp/platform/adaptive', /must be host\/namespace\/type/],
      ['registry..corp/platform/adaptive', /the host "registry\.\.corp" .* is not a hostname/],
      ['-registry.corp/platform/adaptive', /is not a hostname/],
      ['registry.example.corp:99999/platform/adaptive', /is not a hostname/],
      [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.example/platform/adaptive`, /is not a hostname .*at most 253 characters/],
      ['registry.example.corp/../adaptive', /the namespace "\.\."/],
      ['registry.example.corp//adaptive', /the namespace "" .* must be 1 to 64 letters/],
      ['registry.example.corp/plat_form/adaptive', /the namespace "plat_form"/],
      [`registry.example.corp/${'n'.repeat(65)}/adaptive`, /the namespace "n+"/],
      ['registry.example.corp/platform/-adaptive', /the type "-adaptive"/],
      ['registry.example.corp/platform/', /the type ""/],
    ];
    for (const [source, reason] of refused) expect(() => parseSourceAddress(source), source).toThrow(reason);
    expect(() => writeFilesystemMirror({ mirrorDir: dir, sourceAddress: PROVIDER_SOURCE, version: 'latest', pluginEntry: __filename })).toThrow(/semantic/);
  });

  it('writes a CLI configuration taking only our provider from the mirror', () => {
    const config = cliConfigFor('/opt/mirror');
    expect(config).toContain('filesystem_mirror {\n    path    = "/opt/mirror"\n    include = ["adaptive-access.local/access/adaptive"]');
    expect(config).toContain('direct {\n    exclude = ["adaptive-access.local/access/adaptive"]');
  });

  it('reads the version from package.json', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
  });
});
