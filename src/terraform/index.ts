/**
 * Running the real `terraform` binary, for the demo and the tests: isolated from the
 * person's own settings (no TF_* variables from outside, no checkpoint calls, no prompts;
 * the caller gives its own CLI configuration). On an interrupt the signal is passed on to
 * terraform once and the caller waits for it to stop.
 */
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The oldest Terraform the demo (and the provider, tfplugin6) works with. */
export const MIN_TERRAFORM: readonly [number, number] = [1, 5];

/** `terraform` on PATH, or undefined. */
export function findTerraform(env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'terraform');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** The environment terraform runs with: the caller's, minus every TF_* setting, plus `extra`. */
export function terraformEnv(env: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('TF_')) clean[k] = v;
  return { ...clean, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', ...extra };
}

/** `terraform version`, e.g. `1.11.4`. */
export async function terraformVersion(binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['version', '-json'], { env, timeout: 30_000 });
  return (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
}

/** Whether `version` is at least MIN_TERRAFORM. */
export function recentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > MIN_TERRAFORM[0] || (major === MIN_TERRAFORM[0] && minor >= MIN_TERRAFORM[1]);
}

/** A terraform command that failed: its exit code and the end of what it wrote. */
export class TerraformError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`terraform ${command} failed (exit code ${code ?? 'none'})`);
    this.name = 'TerraformError';
  }

  /** The last lines terraform wrote, for the report (box-drawing characters removed). */
  tail(count = 8): string[] {
    return this.output
      .split(/\r?\n/)
      .map((l) => l.replace(/[│╷╵]/g, '').trimEnd())
      .filter((l) => l.trim() !== '')
      .slice(-count);
  }
}

export interface TerraformResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** What a terraform command left: its exit code (-1 when it had none) and its output. */
export interface TerraformRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `runTerraform`. */
export interface RunOptions {
  /** The working directory (`-chdir`). */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * When it fires, terraform gets SIGINT (then its process group SIGKILL if it has not
   * stopped within `graceMs`), and the promise settles once it exited. With a signal,
   * terraform runs in a process group of its own, so Ctrl-C in a terminal does not reach it
   * twice (which makes it quit without cleaning up).
   */
  readonly signal?: AbortSignal;
  readonly graceMs?: number;
}

/** Runs `terraform <args>` and resolves with its exit code and output; never rejects on a non-zero exit. */
export function runTerraform(binary: string, args: readonly string[], options: RunOptions): Promise<TerraformRun> {
  const { signal, graceMs = 20_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [`-chdir=${options.dir}`, ...args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: signal !== undefined });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const onAbort = (): void => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => {
        // Terraform and the provider plugin it started share the group.
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** terraform in one working directory, for a program that stops at the first failure (the demo). */
export class Terraform {
  constructor(
    readonly binary: string,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Runs `terraform <args>`; rejects with a TerraformError when it fails. See `runTerraform` for `abort`. */
  async run(args: readonly string[], abort: AbortSignal, graceMs = 20_000): Promise<TerraformResult> {
    const r = await runTerraform(this.binary, args, { dir: this.dir, env: this.env, signal: abort, graceMs });
    if (r.code !== 0) throw new TerraformError(args[0] ?? '', r.code === -1 ? null : r.code, `${r.stdout}\n${r.stderr}`);
    return { stdout: r.stdout, stderr: r.stderr };
  }
}
