/**
 * The parts of a release that need no build: the hashes (h1: against a value computed with
 * coreutils, and against a zip unpacked by Info-ZIP's unzip), the zip (exec bit, same bytes
 * every time), the network mirror JSON merged across platforms, and the checks of --source and
 * --version (a clear error naming the option, nothing written), and that the plugin's bundle
 * requires no package at run time that a single executable could not load.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinModules } from 'node:module';
import { bundlePlugin, pluginEntry } from '../../src/install';
import { checkReleaseVersion, formatSha256Sums, packageHashV1, parseSha256Sums, sha256File, writeExecutableZip, zipHash } from '../../src/release';
import { mergeBuild, readReleaseFiles, writeReleaseFiles } from '../../src/release/network-mirror';
import { runCli } from '../cli/run-cli';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-release-files-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('hashes', () => {
  it('h1: is dirhash Hash1: sorted "<sha256>  <name>" lines, hashed, base64', () => {
    // Computed independently with coreutils on the two files:
    //   (for f in sub/README terraform-provider-x_v1.0.0; do echo "$(sha256sum $f | cut -d' ' -f1)  $f"; done) \
    //     | LC_ALL=C sort -k2 | sha256sum | cut -d' ' -f1 | xxd -r -p | base64
    const files = [
      { name: 'terraform-provider-x_v1.0.0', sha256: sha256('hello\n') },
      { name: 'sub/README', sha256: sha256('world\n') },
    ];
    expect(packageHashV1(files)).toBe('h1:KZBFnVb4W78GPCFzIbt1NEAw5NRsPSsKZlcrtqTftLY=');
    expect(packageHashV1([...files].reverse())).toBe('h1:KZBFnVb4W78GPCFzIbt1NEAw5NRsPSsKZlcrtqTftLY=');
    expect(() => packageHashV1([{ name: 'a\nb', sha256: sha256('') }])).toThrow(/newline/);
  });

  it('h1: of a written zip equals the one computed from what unzip unpacks, and zh: is sha256sum of the zip', async () => {
    const dir = path.join(scratch, 'zip');
    mkdirSync(dir);
    const executable = path.join(dir, 'program');
    writeFileSync(executable, `#!/bin/sh\necho released ${Date.now()}\n`);
    chmodSync(executable, 0o700);
    const name = 'terraform-provider-adaptive_v9.8.7';
    const zipFile = path.join(dir, 'release.zip');
    await writeExecutableZip({ executable, entryName: name, zipFile });

    const unpacked = path.join(dir, 'unpacked');
    execFileSync('unzip', ['-q', zipFile, '-d', unpacked]);
    expect(readdirSync(unpacked)).toEqual([name]);
    expect(statSync(path.join(unpacked, name)).mode & 0o777).toBe(0o755);
    const independent = execFileSync('sh', ['-c', `sha256sum * | sha256sum | cut -d' ' -f1 | xxd -r -p | base64`], { cwd: unpacked, encoding: 'utf8' }).trim();
    expect(packageHashV1([{ name, sha256: await sha256File(executable) }])).toBe(`h1:${independent}`);
    const zipSum = execFileSync('sha256sum', [zipFile], { encoding: 'utf8' }).split(' ')[0]!;
    expect(zipHash(await sha256File(zipFile))).toBe(`zh:${zipSum}`);

    // The same executable gives the same archive (a fixed timestamp, not the build's).
    const again = path.join(dir, 'again.zip');
    await writeExecutableZip({ executable, entryName: name, zipFile: again });
    expect(readFileSync(again).equals(readFileSync(zipFile))).toBe(true);
  });

  it('SHA256SUMS reads what sha256sum writes and writes it back sorted', () => {
    const text = `${sha256('b')}  b.zip\n${sha256('a')} *a.zip\n`;
    const sums = parseSha256Sums(text);
    expect([...sums]).toEqual([
      ['b.zip', sha256('b')],
      ['a.zip', sha256('a')],
    ]);
    expect(formatSha256Sums(sums)).toBe(`${sha256('a')}  a.zip\n${sha256('b')}  b.zip\n`);
    expect(() => parseSha256Sums('not a sum\n')).toThrow(/not a SHA256SUMS line/);
  });
});

describe('network mirror JSON', () => {
  it('a second platform of the same version is added, the first kept; another version is listed beside it', () => {
    const dir = path.join(scratch, 'merge');
    mkdirSync(dir);
    const build = (version: string, platform: string) => ({
      version,
      platform,
      zipName: `terraform-provider-adaptive_${version}_${platform}.zip`,
      zipSha256: sha256(version + platform),
      hashes: [`h1:${platform}`, `zh:${sha256(version + platform)}`],
    });
    writeReleaseFiles(dir, 'adaptive', '1.0.0', mergeBuild(readReleaseFiles(dir, 'adaptive', '1.0.0'), build('1.0.0', 'linux_amd64')));
    writeReleaseFiles(dir, 'adaptive', '1.0.0', mergeBuild(readReleaseFiles(dir, 'adaptive', '1.0.0'), build('1.0.0', 'darwin_arm64')));
    writeReleaseFiles(dir, 'adaptive', '1.1.0', mergeBuild(readReleaseFiles(dir, 'adaptive', '1.1.0'), build('1.1.0', 'linux_amd64')));

    expect(JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'))).toEqual({ versions: { '1.0.0': {}, '1.1.0': {} } });
    expect(JSON.parse(readFileSync(path.join(dir, '1.0.0.json'), 'utf8'))).toEqual({
      archives: {
        darwin_arm64: { url: 'terraform-provider-adaptive_1.0.0_darwin_arm64.zip', hashes: ['h1:darwin_arm64', `zh:${sha256('1.0.0darwin_arm64')}`] },
        linux_amd64: { url: 'terraform-provider-adaptive_1.0.0_linux_amd64.zip', hashes: ['h1:linux_amd64', `zh:${sha256('1.0.0linux_amd64')}`] },
      },
    });
    expect(readFileSync(path.join(dir, 'terraform-provider-adaptive_1.0.0_SHA256SUMS'), 'utf8')).toBe(
      `${sha256('1.0.0darwin_arm64')}  terraform-provider-adaptive_1.0.0_darwin_arm64.zip\n${sha256('1.0.0linux_amd64')}  terraform-provider-adaptive_1.0.0_linux_amd64.zip\n`,
    );
    // Releasing a platform again replaces its entry only.
    writeReleaseFiles(dir, 'adaptive', '1.0.0', mergeBuild(readReleaseFiles(dir, 'adaptive', '1.0.0'), { ...build('1.0.0', 'linux_amd64'), hashes: ['h1:rebuilt'] }));
    const archives = (JSON.parse(readFileSync(path.join(dir, '1.0.0.json'), 'utf8')) as { archives: Record<string, { hashes: string[] }> }).archives;
    expect(Object.keys(archives)).toEqual(['darwin_arm64', 'linux_amd64']);
    expect(archives.linux_amd64?.hashes).toEqual(['h1:rebuilt']);
  });

  it('refuses damaged files, naming them', () => {
    const dir = path.join(scratch, 'damaged');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'index.json'), '{"versions": [');
    expect(() => readReleaseFiles(dir, 'adaptive', '1.0.0')).toThrow(`${path.join(dir, 'index.json')} is not valid JSON`);
    writeFileSync(path.join(dir, 'index.json'), '{"versions": {}}');
    writeFileSync(path.join(dir, '1.0.0.json'), '{"archives": {"linux_amd64": {"url": 1}}}');
    expect(() => readReleaseFiles(dir, 'adaptive', '1.0.0')).toThrow('the archive of linux_amd64 has no url and hashes');
  });
});

// The source address rules themselves are tested on parseSourceAddress (test/provider/mirror.test.ts),
// the one check `install` and `release` share; test/e2e/release-network-mirror.test.ts releases under
// an upper-cased address.
describe('source and version', () => {
  it('takes semantic versions only', () => {
    expect(checkReleaseVersion('1.2.3-rc.1')).toBe('1.2.3-rc.1');
    for (const bad of ['1.2', 'v1.2.3', '1.2.3/../x', '1.2.3-']) expect(() => checkReleaseVersion(bad)).toThrow('is not a semantic version');
  });

  it.each([
    [['--source', 'registry.example.com:99999/platform/adaptive'], /^adaptive-access release: option '--source': the host "registry.example.com:99999" .* is not a hostname/m],
    [['--source', 'registry.example.com/platform'], /^adaptive-access release: option '--source': Provider source address must be host\/namespace\/type/m],
    [['--source', 'registry.example.com/../adaptive'], /^adaptive-access release: option '--source': the namespace "\.\." .* must be 1 to 64 letters/m],
    [['--version', '1.0'], /^adaptive-access release: option '--version': "1.0" is not a semantic version/m],
  ])('release %j is a usage error naming the option, and writes nothing', async (args, message) => {
    const out = path.join(scratch, `cli-${Math.random().toString(16).slice(2)}`);
    const r = await runCli(['release', '--out', out, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Run 'adaptive-access release --help' for usage.");
    expect(existsSync(out)).toBe(false);
  });

  it('release without --out is a usage error', async () => {
    const r = await runCli(['release']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^adaptive-access release: missing option '--out DIR'/m);
  });
});

describe('the bundle a single executable runs', () => {
  it('requires only built-in modules, but for three paths the provider never takes', async () => {
    const bundle = await bundlePlugin({ entry: pluginEntry('single-file'), outfile: path.join(scratch, 'bundle', 'plugin.cjs'), minify: false });
    // One file: nothing beside it (a server part would be out of the executable's reach).
    expect(readdirSync(path.dirname(bundle))).toEqual(['plugin.cjs']);
    const required = new Set([...readFileSync(bundle, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!));
    const packages = [...required].filter((name) => !name.startsWith('node:') && !builtinModules.includes(name)).sort();
    // In a single executable `require` reaches only built-ins: each of these would throw there.
    // @grpc/proto-loader: grpc-js's channelz and ORCA services, never registered by the plugin.
    // @aws-sdk/signature-v4-crt: only for SigV4a (signingRegion '*'), which no client here uses.
    // pg-native: only when `pg.native` is read; the plugin uses the JavaScript client.
    expect(packages).toEqual(['@aws-sdk/signature-v4-crt', '@grpc/proto-loader', 'pg-native']);
  });
});
