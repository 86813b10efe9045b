/**
 * Packaging the provider for Terraform, shared by `adaptive-access install`, the demo, the
 * tests and scripts: bundle the plugin's entry point with esbuild, copy the bundle into a
 * filesystem mirror next to a shell wrapper, and write the Terraform CLI configuration that
 * points at the mirror. Failures are CliErrors that name the step and the fix.
 */
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, errorText } from '../terminal/errors';
import { bundlePlugin } from './bundle';
import { cliConfigFor, PROVIDER_SOURCE, writeFilesystemMirror } from './mirror';
import { packageVersion } from './version';

export { bundlePlugin, type BundleOptions } from './bundle';
export { cliConfigFor, normalSourceAddress, parseSourceAddress, PROVIDER_SOURCE, type SourceAddress, terraformPlatform, writeFilesystemMirror, type MirrorInstall, type MirrorOptions } from './mirror';
export { packageVersion, providerVersion } from './version';

/**
 * The plugin's entry point (src/plugin/main): the TypeScript source when the caller runs
 * from source, the compiled JavaScript when it runs from dist/, so the plugin is always
 * built from the same tree as the program that installs it.
 */
export function pluginEntry(kind: 'launcher' | 'single-file' = 'launcher'): string {
  // `main`: a launcher and a server part in two files (the installed mirror); `single`: one
  // file, for a single executable.
  const name = kind === 'launcher' ? 'main' : 'single';
  const entry = path.join(__dirname, '..', 'plugin', `${name}${path.extname(__filename)}`);
  if (!existsSync(entry)) {
    throw new CliError(`the provider plugin's entry point ${entry} is missing`, 'Reinstall adaptive-access (npm install adaptive-access, or npm ci and npm run build in its repository).');
  }
  return entry;
}

/** What `installProvider` installed. */
export interface ProviderInstall {
  readonly source: string;
  readonly version: string;
  /** The platform directory holding the package. */
  readonly packageDir: string;
  /** The executable Terraform runs. */
  readonly executable: string;
}

/** Options of `installProvider`. */
export interface InstallOptions {
  /** The directory the mirror and the CLI configuration go into (named in error messages). */
  readonly dir: string;
  /** The filesystem mirror's root (usually `<dir>/mirror`). */
  readonly mirrorDir: string;
  /** The provider's source address, `host/namespace/type` (default `PROVIDER_SOURCE`). */
  readonly source?: string;
  /** Where to write the Terraform CLI configuration that points at the mirror. */
  readonly cliConfigFile: string;
  /** Text before the provider_installation block (comments). */
  readonly cliConfigHeader?: string;
  /** Text after it (e.g. `disable_checkpoint = true`). */
  readonly cliConfigTrailer?: string;
  /** How the caller chooses another directory, for the fix in an error (e.g. `with --dir DIR`). */
  readonly chooseDirHint?: string;
  /** Told when a step begins, for progress lines. */
  readonly onStep?: (step: 'bundling' | 'mirroring') => void;
  /** False for a readable bundle, whose CPU profiles name our functions (default true). */
  readonly minify?: boolean;
}

/**
 * Bundles the plugin and installs it into the mirror, then writes the CLI configuration.
 * The bundle is made in a private scratch directory inside `dir` (two installs at once
 * never share a half-written bundle) and removed afterwards; the configuration is written
 * through a temporary file, so a reader never sees half of it.
 */
export async function installProvider(options: InstallOptions): Promise<ProviderInstall> {
  const version = packageVersion();
  const source = options.source ?? PROVIDER_SOURCE;
  const entry = pluginEntry();
  const scratch = mkdtempSync(path.join(options.dir, '.bundle-'));
  try {
    options.onStep?.('bundling');
    let bundle: string;
    try {
      bundle = await bundlePlugin({ entry, outfile: path.join(scratch, 'adaptive-plugin.cjs'), ...(options.minify === undefined ? {} : { minify: options.minify }) });
    } catch (err) {
      throw new CliError(
        `cannot bundle the provider plugin: ${errorText(err)}`,
        'Reinstall adaptive-access with its dependencies (npm install adaptive-access, or npm ci in its repository: they provide esbuild and the plugin\'s dependencies), then try again.',
        { cause: err },
      );
    }
    options.onStep?.('mirroring');
    try {
      const installed = writeFilesystemMirror({ mirrorDir: options.mirrorDir, sourceAddress: source, version, pluginEntry: bundle });
      writeAtomically(options.cliConfigFile, `${options.cliConfigHeader ?? ''}${cliConfigFor(options.mirrorDir, source)}${options.cliConfigTrailer ?? ''}`);
      return { source, version, ...installed };
    } catch (err) {
      throw new CliError(`cannot write the provider into ${options.dir}: ${errorText(err)}`, `Choose another directory${options.chooseDirHint ? ` ${options.chooseDirHint}` : ''}, or fix its permissions.`, { cause: err });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Writes `content` to `file` through a temporary file, so a reader never sees half of it. */
function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
