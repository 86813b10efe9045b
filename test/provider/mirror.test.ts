/**
 * Installing for Terraform: the filesystem-mirror layout, the wrapper Terraform executes,
 * and the CLI configuration that points at the mirror.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliConfigFor, normalSourceAddress, parseSourceAddress, PROVIDER_SOURCE, shebangSafe, terraformPlatform, writeFilesystemMirror } from '../../src/install/mirror';
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
    // No shell between Terraform and Node: the executable is the launcher with a `#!` line.
    expect(readFileSync(executable, 'utf8').startsWith(`#!${process.execPath}\n`)).toBe(true);
  });

  it('runs as CommonJS inside a JavaScript project of type module', () => {
    const project = path.join(dir, 'esm-project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), '{"type":"module"}\n');
    const bundle = path.join(dir, 'cjs-bundle.cjs');
    writeFileSync(bundle, "process.stdout.write(typeof require + ' ' + typeof module);\n");
    const { packageDir, executable } = writeFilesystemMirror({ mirrorDir: path.join(project, 'mirror'), sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: bundle });
    expect(execFileSync(executable, { encoding: 'utf8' })).toBe('function object');
    // Without the package's own package.json, Node would take the extension-less file for ESM and refuse it.
    rmSync(path.join(packageDir, 'package.json'));
    expect(() => execFileSync(executable, { encoding: 'utf8', stdio: 'pipe' })).toThrow(/ERR_UNKNOWN_FILE_EXTENSION/);
  });

  it('falls back to a /bin/sh wrapper when Node\'s path cannot go on a #! line', () => {
    expect(shebangSafe('/usr/bin/node')).toBe(true);
    expect(shebangSafe('/opt/my tools/node')).toBe(false);
    expect(shebangSafe(`/${'n'.repeat(130)}`)).toBe(false);
    expect(shebangSafe('node')).toBe(false);
    const bundle = path.join(dir, 'spaced-bundle.cjs');
    writeFileSync(bundle, "process.stdout.write('ran with ' + process.argv.slice(2).join(' '));\n");
    // A Node reached through a directory with a space in its name.
    const spaced = path.join(dir, 'node dir');
    mkdirSync(spaced);
    symlinkSync(process.execPath, path.join(spaced, 'node'));
    const { executable } = writeFilesystemMirror({ mirrorDir: path.join(dir, 'spaced-mirror'), sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: bundle, nodePath: path.join(spaced, 'node') });
    const text = readFileSync(executable, 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toContain(`exec '${path.join(spaced, 'node')}' "$dir/adaptive-plugin.cjs" "$@"`);
    expect(execFileSync(executable, ['a', 'b'], { encoding: 'utf8' })).toBe('ran with a b');
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
