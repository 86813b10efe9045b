/**
 * `npm run build:constructs [-- --out DIR]`: builds the construct libraries, one npm package
 * per CDK core, from the same hand-written sources (src/constructs and the pure runtime
 * validators they import), CDK Terrain first:
 *
 * 1. copy the sources into a staging folder, with src/constructs/cdk.ts (the one module that
 *    imports the core) importing this flavour's core;
 * 2. generate the L1 bindings with this core's provider generator from the committed
 *    provider schema (src/constructs/generated/provider-schema.json);
 * 3. compile to JavaScript and declarations (tsc);
 * 4. write the package's package.json and README, and `npm pack` it into DIR (default
 *    dist/construct-packages).
 *
 * Nothing in src/ is written to: a build leaves the tree as it was.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { constructPackageReadme } from './construct-package-readme';
import { GENERATED_DIR, REPO_ROOT, SCHEMA_FILE, generateBindings, type ProviderSchemaJson } from './gen-bindings';

const run = promisify(execFile);

/** One CDK core the constructs are built for. */
export interface ConstructFlavour {
  /** The core's npm package, imported by cdk.ts and by the bindings. */
  readonly core: 'cdktn' | 'cdktf';
  /** Its provider generator. */
  readonly generator: string;
  /** Its CLI package and command. */
  readonly cliPackage: string;
  readonly cliCommand: string;
  readonly title: string;
  /** The package's name: the provider package's name and the core's, so each says what it needs. */
  readonly packageName: string;
}

/** CDK Terrain first: it is the maintained core, the one new apps should pick. */
export const CONSTRUCT_FLAVOURS: readonly ConstructFlavour[] = [
  { core: 'cdktn', generator: '@cdktn/provider-generator', cliPackage: 'cdktn-cli', cliCommand: 'cdktn', title: 'CDK Terrain', packageName: 'adaptive-access-cdktn' },
  { core: 'cdktf', generator: '@cdktf/provider-generator', cliPackage: 'cdktf-cli', cliCommand: 'cdktf', title: 'CDKTF', packageName: 'adaptive-access-cdktf' },
];

/** The flavour for `core`. */
export function constructFlavour(core: ConstructFlavour['core']): ConstructFlavour {
  const flavour = CONSTRUCT_FLAVOURS.find((candidate) => candidate.core === core);
  if (!flavour) throw new Error(`no construct flavour for ${core}`);
  return flavour;
}

/** The default output folder of `npm run build:constructs`. */
export const DEFAULT_OUT_DIR = path.join(REPO_ROOT, 'dist', 'construct-packages');

/** The runtime modules the constructs import (pure: checked by the layer rules in `npm run lint`). */
const RUNTIME_SOURCES = [path.join('runtime', 'types.ts'), path.join('runtime', 'validation')];

/** The hand-written import of the core in cdk.ts, which the build points at the flavour's core. */
const CORE_IMPORT = /from 'cdktf';/g;

interface RootPackageJson {
  readonly version: string;
  readonly license: string;
  readonly engines?: Record<string, string>;
  readonly dependencies: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Copies the hand-written sources into `stageDir/src` (same layout as the repository, so
 * relative imports hold) and points cdk.ts at the flavour's core. Fails if any other
 * hand-written module imports the core: cdk.ts must stay the single seam.
 */
function stageSources(stageDir: string, flavour: ConstructFlavour): void {
  const constructsDir = path.join(REPO_ROOT, 'src', 'constructs');
  const stagedConstructs = path.join(stageDir, 'src', 'constructs');
  mkdirSync(stagedConstructs, { recursive: true });
  for (const file of readdirSync(constructsDir).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(path.join(constructsDir, file), 'utf8');
    if (file !== 'cdk.ts' && /from 'cdktf'/.test(text)) throw new Error(`src/constructs/${file} imports cdktf: only cdk.ts may import the core`);
    writeFileSync(path.join(stagedConstructs, file), file === 'cdk.ts' ? pointAtCore(text, flavour.core) : text);
  }
  for (const source of RUNTIME_SOURCES) {
    cpSync(path.join(REPO_ROOT, 'src', source), path.join(stageDir, 'src', source), { recursive: true });
  }
}

/** cdk.ts with its imports of `cdktf` taken from `core` instead. */
export function pointAtCore(cdkSource: string, core: ConstructFlavour['core']): string {
  const imports = cdkSource.match(CORE_IMPORT)?.length ?? 0;
  if (imports === 0) throw new Error("src/constructs/cdk.ts no longer imports from 'cdktf': update the build's CORE_IMPORT");
  return cdkSource.replace(CORE_IMPORT, `from '${core}';`);
}

/** Generates the flavour's bindings from the committed schema into the staged generated/ folder. */
async function stageBindings(stageDir: string, flavour: ConstructFlavour): Promise<void> {
  const schema = readJson<ProviderSchemaJson>(path.join(GENERATED_DIR, SCHEMA_FILE));
  const generatedDir = path.join(stageDir, 'src', 'constructs', 'generated');
  mkdirSync(generatedDir, { recursive: true });
  await generateBindings(schema, generatedDir, flavour.generator);
  const imports = readFileSync(path.join(generatedDir, 'providers', 'adaptive', 'provider', 'index.ts'), 'utf8');
  if (!imports.includes(`from '${flavour.core}'`)) throw new Error(`${flavour.generator} wrote bindings that do not import ${flavour.core}`);
}

/**
 * Compiles the staged sources from the package's entry (index.ts) into `packageDir/lib`.
 * The generated bindings are not written for exactOptionalPropertyTypes and
 * noImplicitOverride (see tsconfig.constructs.json), so the package builds with those two
 * relaxed; the hand-written code is checked with them by `npm run typecheck`.
 */
async function compile(stageDir: string, packageDir: string): Promise<void> {
  const base = readJson<{ compilerOptions: Record<string, unknown> }>(path.join(REPO_ROOT, 'tsconfig.base.json'));
  const tsconfig = {
    compilerOptions: {
      ...base.compilerOptions,
      exactOptionalPropertyTypes: false,
      noImplicitOverride: false,
      sourceMap: false,
      declaration: true,
      rootDir: 'src',
      outDir: path.join(packageDir, 'lib'),
    },
    files: ['src/constructs/index.ts'],
  };
  writeFileSync(path.join(stageDir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  // The compiler resolves the cores, `constructs` and the validators' libraries from the checkout's install.
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(stageDir, 'node_modules'), 'dir');
  await run(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(stageDir, 'tsconfig.json')], {
    cwd: stageDir,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: unknown) => {
    const { stdout = '' } = error as { stdout?: string };
    throw new Error(`tsc failed on the ${path.basename(stageDir)} package:\n${stdout}`);
  });
}

/**
 * The package's package.json. The core and `constructs` are peers, in the ranges the core
 * itself declares, so the app's copies are the ones used; the validators' two libraries
 * are dependencies, at the versions the provider is tested with.
 */
export function constructPackageJson(flavour: ConstructFlavour): Record<string, unknown> {
  const root = readJson<RootPackageJson>(path.join(REPO_ROOT, 'package.json'));
  const core = readJson<{ version: string; peerDependencies: Record<string, string> }>(path.join(REPO_ROOT, 'node_modules', flavour.core, 'package.json'));
  const constructsRange = core.peerDependencies.constructs;
  if (!constructsRange) throw new Error(`${flavour.core} declares no peer range for constructs`);
  const pinned = (name: string): string => {
    const version = root.dependencies[name];
    if (!version) throw new Error(`package.json has no dependency ${name}, which the validators import`);
    return version;
  };
  return {
    name: flavour.packageName,
    version: root.version,
    description: `${flavour.title} constructs for adaptive-access: time-limited, per-person access to PostgreSQL`,
    license: root.license,
    keywords: ['cdk', flavour.core, 'terraform', 'postgresql', 'access'],
    main: 'lib/constructs/index.js',
    types: 'lib/constructs/index.d.ts',
    files: ['lib', 'README.md'],
    ...(root.engines ? { engines: root.engines } : {}),
    dependencies: { jsonschema: pinned('jsonschema'), yaml: pinned('yaml') },
    peerDependencies: { [flavour.core]: `^${core.version}`, constructs: constructsRange },
  };
}

/** Builds one flavour and packs it into `outDir`; returns the tarball's path. */
export async function buildConstructPackage(flavour: ConstructFlavour, outDir: string): Promise<string> {
  const stageDir = mkdtempSync(path.join(os.tmpdir(), `adaptive-${flavour.core}-package-`));
  try {
    const packageDir = path.join(stageDir, 'package');
    stageSources(stageDir, flavour);
    await stageBindings(stageDir, flavour);
    await compile(stageDir, packageDir);
    const packageJson = constructPackageJson(flavour);
    const peers = packageJson.peerDependencies as Record<string, string>;
    writeFileSync(path.join(packageDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    const other = CONSTRUCT_FLAVOURS.find((candidate) => candidate !== flavour);
    writeFileSync(
      path.join(packageDir, 'README.md'),
      constructPackageReadme({ ...flavour, coreRange: peers[flavour.core] ?? '', constructsRange: peers.constructs ?? '', otherPackageName: other?.packageName ?? '' }),
    );
    mkdirSync(outDir, { recursive: true });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: packageDir, env: { ...process.env, npm_config_update_notifier: 'false' } });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error(`npm pack wrote nothing for ${flavour.packageName}`);
    const tarball = path.join(outDir, packed.filename);
    if (!existsSync(tarball)) throw new Error(`npm pack reported ${packed.filename}, which is not in ${outDir}`);
    return tarball;
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
}

/** Builds every flavour (CDK Terrain first) into `outDir`. */
export async function buildConstructPackages(outDir: string = DEFAULT_OUT_DIR): Promise<string[]> {
  const tarballs: string[] = [];
  for (const flavour of CONSTRUCT_FLAVOURS) tarballs.push(await buildConstructPackage(flavour, outDir));
  return tarballs;
}

async function main(): Promise<void> {
  const outFlag = process.argv.indexOf('--out');
  const outDir = outFlag >= 0 ? path.resolve(process.argv[outFlag + 1] ?? '') : DEFAULT_OUT_DIR;
  if (outFlag >= 0 && !process.argv[outFlag + 1]) throw new Error('--out needs a folder');
  for (const flavour of CONSTRUCT_FLAVOURS) {
    const started = Date.now();
    const tarball = await buildConstructPackage(flavour, outDir);
    console.log(`${flavour.packageName} (${flavour.title}): ${path.relative(process.cwd(), tarball)} (${Date.now() - started} ms)`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
