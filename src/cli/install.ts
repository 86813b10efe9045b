/**
 * `adaptive-access install`: bundles the plugin, installs it into a filesystem mirror and
 * writes a Terraform CLI configuration that points at it, then tells the person how to use
 * both. Nothing is downloaded: the bundle is made by esbuild from the code that runs this command
 * (the installed package's dist/, or a clone's sources).
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliConfigFor, installProvider, normalSourceAddress, packageVersion, PROVIDER_SOURCE, terraformPlatform } from '../install';
import { PROG } from './spec';
import { CliError, errorText, EXIT_OK, UsageError } from '../terminal/errors';
import type { Output } from '../terminal/output';

/** What `install --json` prints. */
export interface InstallReport {
  /** The Terraform CLI configuration written (for TF_CLI_CONFIG_FILE). */
  readonly cliConfigFile: string;
  /** Its content: the provider_installation block, to merge into ~/.terraformrc instead. */
  readonly cliConfig: string;
  /** The filesystem mirror's root. */
  readonly mirrorDir: string;
  /** The provider's source address. */
  readonly source: string;
  readonly version: string;
  /** Terraform's platform name, e.g. linux_amd64. */
  readonly platform: string;
  /** The package directory inside the mirror. */
  readonly packageDir: string;
  /** The executable Terraform runs. */
  readonly executable: string;
  /** The Node.js binary the provider runs on. */
  readonly node: string;
  /** The `terraform { required_providers { ... } }` block to paste. */
  readonly requiredProviders: string;
}

/** The install directory when `--dir` is not given: XDG's per-user data directory. */
export function defaultInstallDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says to ignore a relative XDG_DATA_HOME.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.local', 'share');
  return path.join(base, 'adaptive-access');
}

/** The block a configuration needs to use the installed provider. */
export function requiredProvidersBlock(source: string, version: string): string {
  return [
    'terraform {',
    '  required_providers {',
    '    adaptive = {',
    `      source  = ${JSON.stringify(source)}`,
    `      version = ${JSON.stringify(version)}`,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The source address from --source (checked, lower-cased), or the project's own. */
function sourceOption(given: string | undefined): string {
  if (given === undefined) return PROVIDER_SOURCE;
  try {
    return normalSourceAddress(given);
  } catch (err) {
    throw new UsageError(`option '--source': ${errorText(err)}`, 'install');
  }
}

function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function install(
  values: { readonly dir?: string | undefined; readonly source?: string | undefined; readonly json?: boolean | undefined },
  out: Output,
): Promise<number> {
  const env = out.io.env;
  // Checked before anything is written: a bad address leaves no half-made install behind.
  const source = sourceOption(values.source);
  const dir = path.resolve(values.dir ?? defaultInstallDir(env));
  const mirrorDir = path.join(dir, 'mirror');
  const cliConfigFile = path.join(dir, 'terraform.rc');

  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create the install directory ${dir}: ${errorText(err)}`, 'Choose another one with --dir DIR, or fix its permissions.', { cause: err });
  }

  const installed = await installProvider({
    dir,
    mirrorDir,
    cliConfigFile,
    source,
    cliConfigHeader:
      `# Terraform CLI configuration written by \`${PROG} install\`: the adaptive provider from the\n` +
      `# filesystem mirror below, every other provider from its registry as usual.\n`,
    chooseDirHint: 'with --dir DIR',
    onStep: (step) => out.note(step === 'bundling' ? `Bundling the provider plugin ${packageVersion()}...` : `Installing it into ${mirrorDir}...`),
  });
  const version = installed.version;

  const report: InstallReport = {
    cliConfigFile,
    cliConfig: cliConfigFor(mirrorDir, source),
    mirrorDir,
    source,
    version,
    platform: terraformPlatform(),
    packageDir: installed.packageDir,
    executable: installed.executable,
    node: process.execPath,
    requiredProviders: requiredProvidersBlock(source, version),
  };
  if (values.json) {
    out.json(report);
    return EXIT_OK;
  }
  printReport(report, out);
  return EXIT_OK;
}

function printReport(r: InstallReport, out: Output): void {
  const b = (text: string): string => out.paint('bold', text);
  out.line(`${out.paint('green', 'Installed')} the adaptive provider ${r.version} (${r.platform}) in ${r.mirrorDir}`);
  out.line();
  out.line(`  ${b('Provider source:')}  ${r.source}`);
  out.line(`  ${b('Version:')}          ${r.version}`);
  out.line(`  ${b('CLI config:')}       ${r.cliConfigFile}`);
  out.line();
  out.line(`${b('1.')} Point Terraform at the CLI configuration (e.g. in your shell profile):`);
  out.line();
  out.line(`     export TF_CLI_CONFIG_FILE=${shellWord(r.cliConfigFile)}`);
  out.line();
  out.line('   TF_CLI_CONFIG_FILE replaces ~/.terraformrc. To keep ~/.terraformrc instead, merge this');
  out.line("   file's provider_installation block into it (only one such block is allowed: add its");
  out.line('   filesystem_mirror, and its exclude line to your direct block).');
  out.line();
  out.line(`${b('2.')} Require the provider in your configuration:`);
  out.line();
  for (const line of r.requiredProviders.replace(/\n$/, '').split('\n')) out.line(`     ${line}`);
  out.line();
  out.line(`${b('3.')} Run terraform init. The lock file (.terraform.lock.hcl) pins the package's checksum:`);
  out.line('   after installing a different build of the same version, delete the provider\'s entry');
  out.line('   from it and run terraform init again.');
}
