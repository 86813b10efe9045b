/**
 * The `reap --watch --json --metrics-addr 127.0.0.1:0` replicas, each a child process of
 * the real CLI, whose JSON lines are tallied: roles reaped (deduplicated: two replicas may
 * both report a role only if both revoked it), their latency as the replicas measured it,
 * `error` and `failed` events. A replica the soak did not kill that exits is an error.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

const CLI_BIN = path.resolve(__dirname, '..', '..', 'bin', 'adaptive-access.mjs');

export interface ReplicaStats {
  kills: number;
  restarts: number;
  unexpectedExits: number;
  /** Every `reaped` event's role, per replica that reported it. */
  readonly reapedRoles: Map<string, number>;
  readonly replicaLatencies: number[];
  errorEvents: number;
  failedEvents: number;
  readonly errorSamples: string[];
}

interface Replica {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<void>;
  killed: boolean;
}

export class Replicas {
  readonly stats: ReplicaStats = { kills: 0, restarts: 0, unexpectedExits: 0, reapedRoles: new Map(), replicaLatencies: [], errorEvents: 0, failedEvents: 0, errorSamples: [] };
  readonly #env: NodeJS.ProcessEnv;
  readonly #args: string[];
  readonly #replicas: Replica[] = [];

  constructor(catalogUrl: string, catalogKey: Buffer, pollSeconds: string | undefined) {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ADAPTIVE_')));
    this.#env = { ...inherited, ADAPTIVE_CATALOG_URL: catalogUrl, ADAPTIVE_CATALOG_KEY: catalogKey.toString('hex') };
    this.#args = [CLI_BIN, 'reap', '--watch', '--json', '--metrics-addr', '127.0.0.1:0', ...(pollSeconds === undefined ? [] : ['--poll', pollSeconds])];
  }

  start(count: number): void {
    for (let i = 0; i < count; i++) this.#replicas.push(this.#spawn());
  }

  /** SIGKILLs one replica at random and starts another in its place. */
  async killOneAndRestart(): Promise<void> {
    const index = Math.floor(Math.random() * this.#replicas.length);
    const victim = this.#replicas[index]!;
    victim.killed = true;
    victim.child.kill('SIGKILL');
    this.stats.kills++;
    await victim.exited;
    this.#replicas[index] = this.#spawn();
    this.stats.restarts++;
  }

  /** Ends every replica (SIGKILL: what they leave is what a crash leaves) and waits for them. */
  async stopAll(): Promise<void> {
    for (const r of this.#replicas) {
      r.killed = true;
      r.child.kill('SIGKILL');
    }
    await Promise.all(this.#replicas.map((r) => r.exited));
  }

  #spawn(): Replica {
    // Own process group: a Ctrl-C in the terminal reaches the soak, which stops them itself
    // (otherwise they would stop on SIGINT and count as exits the soak did not cause).
    const child = spawn(process.execPath, this.#args, { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let partial = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#take(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const replica: Replica = {
      child,
      killed: false,
      exited: new Promise((resolve) => {
        child.once('close', (code, signal) => {
          if (!replica.killed) {
            this.stats.unexpectedExits++;
            this.#sample(`replica exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
          }
          resolve();
        });
      }),
    };
    child.once('error', (err) => this.#sample(`replica could not start: ${err.message}`));
    return replica;
  }

  #sample(text: string): void {
    if (this.stats.errorSamples.length < 10) this.stats.errorSamples.push(text);
  }

  #take(line: string): void {
    if (line.trim() === '') return;
    let event: { event?: string; role?: string; latencySeconds?: number | null; error?: string; target?: string | null };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      this.#sample(`not a JSON line: ${line.slice(0, 200)}`);
      return;
    }
    if (event.event === 'reaped' && event.role !== undefined) {
      this.stats.reapedRoles.set(event.role, (this.stats.reapedRoles.get(event.role) ?? 0) + 1);
      if (typeof event.latencySeconds === 'number') this.stats.replicaLatencies.push(event.latencySeconds);
    } else if (event.event === 'error' || event.event === 'failed') {
      if (event.event === 'error') this.stats.errorEvents++;
      else this.stats.failedEvents++;
      this.#sample(`${event.event} on ${event.target ?? 'the catalog'}: ${event.error ?? ''}`);
    }
  }
}
