/**
 * Installs a bundled plugin where `terraform init` finds it without a registry: a
 * filesystem mirror, `<mirror>/<host>/<namespace>/<type>/<version>/<os>_<arch>/`.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
  /** The bundled plugin (one `.cjs` file from `bundlePlugin`). */
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
 * Writes the package: the bundle copied next to a shell wrapper that execs Node on it.
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
  const executable = path.join(packageDir, `terraform-provider-${type}_v${options.version}`);
  writeFileSync(
    executable,
    [
      '#!/bin/sh',
      `# Terraform provider ${options.sourceAddress} ${options.version}: runs the bundled plugin with Node.js.`,
      `exec ${shellQuote(node)} "$(dirname "$0")/${bundleName}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(executable, 0o755);
  return { packageDir, executable };
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
