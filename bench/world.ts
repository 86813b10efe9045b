/**
 * The bench's world: one throwaway cluster (the catalog database and the `production`
 * target database), the provider installed with `installProvider` into a temp dir whose
 * CLI configuration points Terraform at that mirror only, Terraform working directories
 * in the same temp dir, and `psql` for the floors. Everything is removed by `close()`.
 * With a profile directory, the provider is installed unminified and every plugin process
 * Terraform starts loads bench/preload/plugin-profile.mjs, which writes its CPU profile and
 * peak RSS there.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { installProvider, type ProviderInstall } from '../src/install';
import { findPostgresBinaries, startCluster, type LocalCluster, type PostgresBinaries } from '../src/localpg';
import { ident } from '../src/runtime/pg/sql';
import { findTerraform, runTerraform, terraformEnv, terraformVersion } from '../src/terraform';

export const CATALOG_DB = 'bench_catalog';
export const TARGET_DB = 'production';

/** Loaded into each plugin process when profiling (Node 20 refuses --cpu-prof in NODE_OPTIONS). */
const PROFILE_PRELOAD = path.join(__dirname, 'preload', 'plugin-profile.mjs');

/** How the world is set up: the bench's options that shape it. */
export interface WorldOptions {
  readonly pgMajor: number | undefined;
  readonly pgSettings: Readonly<Record<string, string>>;
  /** Each plugin process's CPU profile and peak RSS go here; undefined: no profiling. */
  readonly profileDir: string | undefined;
}

/** The major asked for, else the embedded build (18), else the first found. */
function chooseBinaries(major: number | undefined): PostgresBinaries {
  const found = findPostgresBinaries();
  const chosen = major === undefined ? (found.find((b) => b.source === 'embedded') ?? found[0]) : found.find((b) => b.major === major);
  if (!chosen) throw new Error(`no PostgreSQL ${major ?? ''} server binaries found (found: ${found.map((b) => `${b.major} (${b.source})`).join(', ') || 'none'})`);
  return chosen;
}

/** Runs SQL as the superuser on one database of the cluster. */
export async function superuserSql(cluster: LocalCluster, database: string, text: string): Promise<void> {
  const client = new Client(cluster.clientConfig(database));
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A Terraform working directory using the installed provider. */
export class Workspace {
  constructor(
    readonly dir: string,
    private readonly world: BenchWorld,
  ) {}

  write(name: string, content: string): void {
    writeFileSync(path.join(this.dir, name), content);
  }

  /** `terraform <args>` (with `env` added to the world's); throws with terraform's last lines when it fails. */
  async run(args: readonly string[], okCodes: readonly number[] = [0], env: Readonly<Record<string, string>> = {}): Promise<number> {
    const result = await runTerraform(this.world.terraform, [...args, '-no-color', '-input=false'], { dir: this.dir, env: { ...this.world.terraformEnv, ...env }, signal: this.world.signal });
    if (this.world.signal.aborted) throw new Error('interrupted');
    if (!okCodes.includes(result.code)) {
      const tail = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .map((l) => l.replace(/[│╷╵]/g, '').trim())
        // Progress lines say nothing about the failure.
        .filter((l) => l !== '' && !/: (Still )?(creating|destroying|reading|modifying)\.\.\./i.test(l))
        .slice(-12)
        .join('\n  ');
      throw new Error(`terraform ${args[0]} exited ${result.code}:\n  ${tail}`);
    }
    return result.code;
  }
}

export class BenchWorld {
  readonly catalogKey = randomBytes(32);
  readonly terraformEnv: NodeJS.ProcessEnv;
  #workspaces = 0;
  #children = new Set<ReturnType<typeof spawn>>();

  private constructor(
    readonly cluster: LocalCluster,
    readonly dir: string,
    readonly provider: ProviderInstall,
    readonly terraform: string,
    readonly terraformVersion: string,
    readonly signal: AbortSignal,
    /** Where plugin processes write their profiles; undefined: not profiling. */
    readonly profileDir: string | undefined,
  ) {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ADAPTIVE_')));
    const profiling = profileDir === undefined ? {} : { NODE_OPTIONS: `--import ${PROFILE_PRELOAD}`, ADAPTIVE_BENCH_PROFILE_DIR: profileDir };
    this.terraformEnv = terraformEnv(inherited, {
      ...profiling,
      TF_CLI_CONFIG_FILE: path.join(dir, 'terraformrc'),
      TF_PLUGIN_CACHE_DIR: '',
      ADAPTIVE_CATALOG_URL: cluster.url(CATALOG_DB),
      ADAPTIVE_CATALOG_KEY: this.catalogKey.toString('hex'),
      // Any attempt to reach the network fails at once instead of hanging.
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
    });
  }

  static async open(options: WorldOptions, signal: AbortSignal): Promise<BenchWorld> {
    const terraform = findTerraform(process.env);
    if (terraform === undefined) throw new Error('terraform is not on PATH');
    const profileDir = options.profileDir === undefined ? undefined : path.resolve(options.profileDir);
    if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-bench-'));
    let cluster: LocalCluster | undefined;
    try {
      const provider = await installProvider({
        dir,
        mirrorDir: path.join(dir, 'mirror'),
        cliConfigFile: path.join(dir, 'terraformrc'),
        cliConfigTrailer: '\ndisable_checkpoint = true\n',
        // Readable, so the profiles name our functions.
        minify: profileDir === undefined,
      });
      cluster = await startCluster({ binaries: chooseBinaries(options.pgMajor), settings: options.pgSettings });
      await superuserSql(cluster, cluster.database, `create database ${ident(CATALOG_DB)}`);
      await superuserSql(cluster, cluster.database, `create database ${ident(TARGET_DB)}`);
      await superuserSql(cluster, TARGET_DB, 'create schema app; create schema analytics; create table app.items (id int primary key)');
      const version = await terraformVersion(terraform, terraformEnv(process.env, {}));
      return new BenchWorld(cluster, dir, provider, terraform, version, signal, profileDir);
    } catch (err) {
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get postgres(): string {
    return `${this.cluster.major} (${this.cluster.binaries.source})`;
  }

  /** A new working directory holding `files`, initialised against the mirror. */
  async workspace(files: Readonly<Record<string, string>>): Promise<Workspace> {
    const dir = path.join(this.dir, `ws${++this.#workspaces}`);
    mkdirSync(dir);
    const ws = new Workspace(dir, this);
    for (const [name, content] of Object.entries(files)) ws.write(name, content);
    await ws.run(['init']);
    return ws;
  }

  /**
   * Runs a SQL file with psql (the system's client) in one transaction, as the superuser;
   * resolves once psql exited 0. Its own process group: Ctrl-C reaches the bench, which ends it.
   */
  psqlFile(database: string, file: string): Promise<void> {
    const { host, port, user, password } = this.cluster.clientConfig();
    const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-h', host, '-p', String(port), '-U', user, '-d', database, '-f', file];
    return new Promise((resolve, reject) => {
      const child = spawn('psql', args, { env: { PATH: process.env.PATH ?? '', PGPASSWORD: password }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      this.#children.add(child);
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
      child.once('error', reject);
      child.once('close', (code) => {
        this.#children.delete(child);
        if (code === 0) resolve();
        else reject(new Error(`psql -f ${path.basename(file)} exited ${code}: ${stderr.trim()}`));
      });
    });
  }

  /**
   * How a plugin process Terraform started here is recognised: a file its command line names
   * (the executable, run by Node through its `#!` line, or the launcher bundle the `/bin/sh`
   * wrapper execs Node on), and its cwd in this directory.
   */
  pluginProcess(): { names: string[]; dir: string } {
    const launcher = readdirSync(this.provider.packageDir).find((name) => name.endsWith('.cjs') && !name.endsWith('.serve.cjs'));
    if (launcher === undefined) throw new Error(`no bundle in ${this.provider.packageDir}`);
    return { names: [path.basename(this.provider.executable), launcher], dir: this.dir };
  }

  /** Keeps a child process to be ended by `close()`. */
  adopt(child: ReturnType<typeof spawn>): void {
    this.#children.add(child);
    child.once('close', () => this.#children.delete(child));
  }

  async close(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    await this.cluster.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
