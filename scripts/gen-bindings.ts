/**
 * `npm run gen`: regenerates the CDKTF bindings (L1) in src/constructs/generated from the
 * schema of *this* provider, as Terraform itself reports it:
 *
 * 1. bundle the plugin and install it into a throwaway filesystem mirror;
 * 2. `terraform init` a one-block configuration that requires it, then
 *    `terraform providers schema -json`;
 * 3. run `@cdktf/provider-generator` on that schema into a temp dir;
 * 4. bring src/constructs/generated in line with it: files rewritten only when their text
 *    changed, files the generator no longer writes removed.
 *
 * The output depends on nothing but the schema (no timestamps, no paths), so running it on
 * an unchanged schema leaves the tree unchanged. The staleness test in test/constructs
 * calls the same functions and compares.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundlePlugin } from '../src/install/bundle';
import { PROVIDER_SOURCE, writeFilesystemMirror } from '../src/install/mirror';
import { packageVersion } from '../src/install/version';

const run = promisify(execFile);

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Where the committed bindings live (cdktf.json's `codeMakerOutput`). */
export const GENERATED_DIR = path.join(REPO_ROOT, 'src', 'constructs', 'generated');

/**
 * The schema is committed next to the bindings: a reviewer sees what changed in the
 * provider's contract, and a variant of the core (see src/constructs/README.md) can
 * regenerate from it without building the plugin.
 */
export const SCHEMA_FILE = 'provider-schema.json';

/**
 * The JSON `terraform providers schema -json` prints (the parts the generator reads), plus
 * `provider_versions` as `cdktf get` adds it: the version Terraform selected, which the
 * bindings write into `required_providers` (the cdktf CLI refuses a stack without one).
 */
export interface ProviderSchemaJson {
  readonly format_version: string;
  readonly provider_schemas?: Record<string, unknown>;
  readonly provider_versions?: Record<string, string>;
}

/**
 * Terraform's environment for these runs: none of the caller's TF_* settings, a CLI config
 * that installs providers only from `mirrorDir`, no checkpoint calls, and proxies that
 * point nowhere so an attempt to reach a registry fails at once instead of hanging.
 */
export function terraformEnv(workDir: string, mirrorDir: string): NodeJS.ProcessEnv {
  const cliConfig = path.join(workDir, 'terraform.rc');
  writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirrorDir)}\n  }\n}\ndisable_checkpoint = true\n`);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TF_')));
  return {
    ...inherited,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_DATA_DIR: path.join(workDir, '.terraform'),
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
  };
}

/** The provider's schema as Terraform reports it, from the plugin built from this tree. */
export async function readProviderSchema(): Promise<ProviderSchemaJson> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-gen-'));
  try {
    const bundle = await bundlePlugin({ entry: path.join(REPO_ROOT, 'src', 'plugin', 'main.ts'), outfile: path.join(workDir, 'adaptive.cjs') });
    const mirrorDir = path.join(workDir, 'mirror');
    writeFilesystemMirror({ mirrorDir, sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: bundle });
    const configDir = path.join(workDir, 'config');
    mkdirSync(configDir);
    writeFileSync(
      path.join(configDir, 'main.tf'),
      `terraform {\n  required_providers {\n    adaptive = { source = ${JSON.stringify(PROVIDER_SOURCE)} }\n  }\n}\n`,
    );
    const env = terraformEnv(workDir, mirrorDir);
    const terraform = process.env.TERRAFORM_BINARY ?? 'terraform';
    await run(terraform, [`-chdir=${configDir}`, 'init', '-input=false', '-no-color'], { env });
    const { stdout } = await run(terraform, [`-chdir=${configDir}`, 'providers', 'schema', '-json'], { env, maxBuffer: 64 * 1024 * 1024 });
    const version = await run(terraform, [`-chdir=${configDir}`, 'version', '-json'], { env });
    const selections = (JSON.parse(version.stdout) as { provider_selections?: Record<string, string> }).provider_selections ?? {};
    return { ...(JSON.parse(stdout) as ProviderSchemaJson), provider_versions: selections };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * The generator package: `@cdktf/provider-generator`, or the one ADAPTIVE_CDK_GENERATOR
 * names. A CDK Terrain build sets `@cdktn/provider-generator`, whose bindings import `cdktn`
 * (see src/constructs/README.md); both export the same function.
 */
export function generatorPackage(env: NodeJS.ProcessEnv = process.env): string {
  return env.ADAPTIVE_CDK_GENERATOR || '@cdktf/provider-generator';
}

/**
 * Runs the generator (`generatorPackage()` unless named) on `schema` into `outDir` (which
 * should be empty) and writes the schema beside the bindings. The generator's package loads `@cdktf/commons`, which runs
 * `terraform version` as it loads: it gets an isolated configuration too, so a missing
 * ~/.terraformrc is not reported as an error.
 */
export async function generateBindings(schema: ProviderSchemaJson, outDir: string, generator: string = generatorPackage()): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-gen-'));
  const saved = { TF_CLI_CONFIG_FILE: process.env.TF_CLI_CONFIG_FILE, CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE };
  try {
    const env = terraformEnv(workDir, path.join(workDir, 'mirror'));
    process.env.TF_CLI_CONFIG_FILE = env.TF_CLI_CONFIG_FILE;
    process.env.CHECKPOINT_DISABLE = '1';
    const { generateProviderBindingsFromSchema } = (await import(generator)) as typeof import('@cdktf/provider-generator');
    // The generator's declared schema type is stricter than Terraform's JSON; it reads what is there.
    await generateProviderBindingsFromSchema(outDir, schema as Parameters<typeof generateProviderBindingsFromSchema>[1]);
    writeFileSync(path.join(outDir, SCHEMA_FILE), `${JSON.stringify(schema, null, 2)}\n`);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Every file under `dir`, by path relative to it (POSIX separators), with its text. */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(path.relative(dir, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** What differs between two trees: files only in one of them, or with other text. */
export function compareTrees(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): { missing: string[]; extra: string[]; changed: string[] } {
  return {
    missing: [...expected.keys()].filter((file) => !actual.has(file)),
    extra: [...actual.keys()].filter((file) => !expected.has(file)),
    changed: [...expected.keys()].filter((file) => actual.has(file) && actual.get(file) !== expected.get(file)),
  };
}

/** Regenerates into a temp dir and returns the fresh tree (the temp dir is removed). */
export async function freshBindings(schema?: ProviderSchemaJson): Promise<Map<string, string>> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-bindings-'));
  try {
    await generateBindings(schema ?? (await readProviderSchema()), outDir);
    return readTree(outDir);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Makes `targetDir` hold exactly `fresh`: writes only files whose text differs (so an
 * unchanged schema touches nothing) and removes files and then-empty folders that are no
 * longer generated. Returns what it did.
 */
export function syncTree(fresh: ReadonlyMap<string, string>, targetDir: string): { written: string[]; removed: string[] } {
  mkdirSync(targetDir, { recursive: true });
  const current = readTree(targetDir);
  const diff = compareTrees(fresh, current);
  const written = [...diff.missing, ...diff.changed].sort();
  for (const file of written) {
    const full = path.join(targetDir, ...file.split('/'));
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, fresh.get(file) ?? '');
  }
  for (const file of diff.extra) rmSync(path.join(targetDir, ...file.split('/')));
  const pruneEmpty = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) {
        pruneEmpty(full);
        if (readdirSync(full).length === 0) rmSync(full, { recursive: true });
      }
    }
  };
  pruneEmpty(targetDir);
  return { written, removed: diff.extra.sort() };
}

async function main(): Promise<void> {
  const started = Date.now();
  const fresh = await freshBindings();
  const { written, removed } = syncTree(fresh, GENERATED_DIR);
  const where = path.relative(REPO_ROOT, GENERATED_DIR);
  for (const file of written) console.log(`wrote   ${where}/${file}`);
  for (const file of removed) console.log(`removed ${where}/${file}`);
  console.log(`${where}: ${fresh.size} files, ${written.length} written, ${removed.length} removed (${Date.now() - started} ms)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  });
}
