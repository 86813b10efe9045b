/**
 * Installs a bundled plugin where `terraform init` finds it without a registry: a
 * filesystem mirror, `<mirror>/<host>/<namespace>/<type>/<version>/<os>_<arch>/`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseSourceAddress } from './source';

export { normalSourceAddress, parseSourceAddress, type SourceAddress } from './source';

/** This project's provider source address. */
export const PROVIDER_SOURCE = 'adaptive-access.local/access/adaptive';

/** Options for `writeFilesystemMirror`. */
export interface MirrorOptions {
  /** The mirror's root directory. */
  readonly mirrorDir: string;
  /** `host/namespace/type`, e.g. `adaptive-access.local/access/adaptive`. */
  readonly sourceAddress: string;
  /** The provider version, e.g. `0.1.0`. */
  readonly version: string;
  /** The bundled plugin (the `.cjs` file from `bundlePlugin`; its `<name>.<part>.cjs` siblings go along). */
  readonly pluginEntry: string;
  /** The Node.js binary the wrapper runs; defaults to the one running now. */
  readonly nodePath?: string;
}

/** What was installed. */
export interface MirrorInstall {
  /** The platform directory holding the package. */
  readonly packageDir: string;
  /** The executable Terraform runs. */
  readonly executable: string;
}

/** Terraform's name for the current platform: `linux_amd64`, `darwin_arm64`. */
export function terraformPlatform(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const archName: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${platform}_${archName[arch] ?? arch}`;
}

/**
 * Writes the package: the bundle (and its separately bundled parts, each with a V8 code
 * cache) copied next to a shell wrapper that execs Node on it.
 * Copying (rather than pointing at the build output) keeps the package, and so the
 * lock file's hash, stable until the next install. The wrapper is POSIX sh; Windows is not
 * supported.
 */
export function writeFilesystemMirror(options: MirrorOptions): MirrorInstall {
  const { host, namespace, type } = parseSourceAddress(options.sourceAddress);
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(options.version)) throw new Error(`Provider version must be semantic (1.2.3), got ${JSON.stringify(options.version)}`);
  if (!existsSync(options.pluginEntry)) throw new Error(`Plugin bundle not found: ${options.pluginEntry}`);
  const packageDir = path.join(options.mirrorDir, host, namespace, type, options.version, terraformPlatform());
  mkdirSync(packageDir, { recursive: true });
  // Not named terraform-provider-*: Terraform would take it for the executable.
  const bundleName = `${type}-plugin.cjs`;
  copyFileSync(options.pluginEntry, path.join(packageDir, bundleName));
  const node = options.nodePath ?? process.execPath;
  for (const part of bundleParts(options.pluginEntry)) {
    const bundled = path.join(path.dirname(options.pluginEntry), part);
    const installed = path.join(packageDir, part);
    // V8's cache differs from one compilation to the next: an unchanged part keeps the cache
    // it has, so installing the same version again leaves the package (and the checksum in
    // users' lock files) as it was.
    if (existsSync(installed) && existsSync(`${installed}.v8cache`) && readFileSync(installed).equals(readFileSync(bundled))) continue;
    copyFileSync(bundled, installed);
    writeCodeCache(node, installed);
  }
  const executable = path.join(packageDir, `terraform-provider-${type}_v${options.version}`);
  writeFileSync(
    executable,
    [
      '#!/bin/sh',
      `# Terraform provider ${options.sourceAddress} ${options.version}: runs the bundled plugin with Node.js.`,
      // The directory by parameter expansion: `$(dirname "$0")` would fork twice per start.
      'case "$0" in */*) dir="${0%/*}" ;; *) dir=. ;; esac',
      `exec ${shellQuote(node)} "$dir/${bundleName}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(executable, 0o755);
  return { packageDir, executable };
}

/** The separately bundled parts next to a bundle: `<name>.<part>.cjs` (see `bundlePlugin`). */
function bundleParts(bundle: string): string[] {
  const prefix = `${path.basename(bundle, '.cjs')}.`;
  return readdirSync(path.dirname(bundle)).filter((file) => file.startsWith(prefix) && file.endsWith('.cjs') && file !== path.basename(bundle));
}

/**
 * Writes `<file>.v8cache`, the compiled code of a bundled part, with the Node that will run
 * it (V8 rejects a cache made by another version or with other flags). The part is compiled
 * as `requireWithCodeCache` in src/provider/code-cache.ts compiles it (the same wrapper
 * around the source, or V8 rejects the cache) and its module body run first, so that the
 * functions its loading compiles are in the cache too. Its body only defines: the server
 * starts when the launcher calls it. Without a cache the plugin works, only slower to start.
 */
function writeCodeCache(node: string, file: string): void {
  const script = [
    "const fs = require('node:fs'), vm = require('node:vm'), path = require('node:path'), { createRequire } = require('node:module');",
    'const file = process.argv[1];',
    "const source = '(function (exports, require, module, __filename, __dirname) { ' + fs.readFileSync(file, 'utf8') + '\\n});';",
    'const compiled = new vm.Script(source, { filename: file, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });',
    'const module = { exports: {} };',
    'compiled.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));',
    "fs.writeFileSync(file + '.v8cache', compiled.createCachedData());",
  ].join('\n');
  execFileSync(node, ['-e', script, file], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The CLI configuration (for `TF_CLI_CONFIG_FILE`) that installs providers from the mirror
 * and everything else from their registries as usual.
 */
export function cliConfigFor(mirrorDir: string, sourceAddress: string = PROVIDER_SOURCE): string {
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirrorDir)}`,
    `    include = [${JSON.stringify(sourceAddress)}]`,
    '  }',
    '  direct {',
    `    exclude = [${JSON.stringify(sourceAddress)}]`,
    '  }',
    '}',
    '',
  ].join('\n');
}
