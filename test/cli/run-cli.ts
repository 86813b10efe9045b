/**
 * Runs `adaptive-access` as a person would: a child process started through the package's
 * bin script, with an environment the test controls (no catalog settings or colour
 * settings leak in from the test's own). `startCli` keeps a long-running one (`reap
 * --watch`) and lets the test wait for lines of its output.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI_BIN = path.join(REPO_ROOT, 'bin', 'adaptive-access.mjs');

/** Variables a run never inherits from the test process. */
const CONTROLLED = ['ADAPTIVE_CATALOG_URL', 'ADAPTIVE_CATALOG_KEY', 'NO_COLOR', 'FORCE_COLOR', 'XDG_DATA_HOME'];

/** The test's environment without the controlled variables, plus `extra`. */
export function cliEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONTROLLED) delete env[name];
  return { ...env, ...extra };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Environment added to `cliEnv()`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Runs the CLI to completion; never throws on a non-zero exit. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cliEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface Waiter {
  readonly match: (line: string) => boolean;
  readonly resolve: (line: string) => void;
  readonly reject: (err: Error) => void;
}

/** A CLI process left running; its stdout is read line by line as it comes. */
export class CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Every complete stdout line so far. */
  readonly lines: string[] = [];
  stderr = '';
  /** Resolves when the process has exited and its output is closed. */
  readonly exited: Promise<CliResult>;
  private partial = '';
  private waiters: Waiter[] = [];
  private done = false;

  constructor(args: readonly string[], options: CliOptions = {}) {
    this.child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cliEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (c: Buffer) => this.take(c.toString('utf8')));
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.done = true;
        if (this.partial !== '') this.push(this.partial);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`the CLI exited (code ${code}, signal ${signal}) before the line awaited\n${this.transcript()}`));
        resolve({ code, signal, stdout: this.lines.join('\n'), stderr: this.stderr });
      });
    });
  }

  private take(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
  }

  private push(line: string): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Everything printed so far, for failure messages. */
  transcript(): string {
    return `--- stdout\n${this.lines.join('\n')}${this.partial}\n--- stderr\n${this.stderr}`;
  }

  /**
   * The first line (already printed, or yet to come, after `from`) that matches. Rejects if
   * the process exits first or after `timeoutMs` (a bound on a hang, not a wait).
   */
  waitForLine(match: (line: string) => boolean, options: { readonly from?: number; readonly timeoutMs?: number } = {}): Promise<string> {
    const seen = this.lines.slice(options.from ?? 0).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.done) return Promise.reject(new Error(`the CLI has exited without printing the line awaited\n${this.transcript()}`));
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no such line within ${timeoutMs} ms\n${this.transcript()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The next JSON line (a `reap --watch --json` event) that satisfies `match`. */
  async waitForEvent<T = Record<string, unknown>>(match: (event: Record<string, unknown>) => boolean, options: { readonly from?: number; readonly timeoutMs?: number } = {}): Promise<T> {
    const line = await this.waitForLine((l) => {
      try {
        return match(JSON.parse(l) as Record<string, unknown>);
      } catch {
        return false;
      }
    }, options);
    return JSON.parse(line) as T;
  }

  /** Sends `signal` and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    if (!this.done) this.child.kill(signal);
    return this.exited;
  }
}

/** Starts the CLI and leaves it running. */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  return new CliProcess(args, options);
}
