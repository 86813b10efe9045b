/**
 * Running the real `terraform` for the demo, isolated from the person's own settings: its
 * own CLI configuration (the adaptive provider from the demo's mirror), no TF_* variables
 * from outside, no checkpoint calls, no prompts. On an interrupt the signal is passed on to
 * terraform once (it runs in a process group of its own, so Ctrl-C in a terminal does not
 * reach it twice and make it quit without cleaning up) and the demo waits for it to stop.
 */
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tail } from './show';

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

  /** The last lines terraform wrote, for the report. */
  tail(): string[] {
    return tail(this.output, 8);
  }
}

export interface TerraformResult {
  readonly stdout: string;
  readonly stderr: string;
}

export class Terraform {
  constructor(
    readonly binary: string,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Runs `terraform <args>` in the working directory and resolves with its output; rejects
   * with a TerraformError when it fails. When `abort` fires, terraform gets SIGINT (then
   * SIGKILL if it has not stopped within `graceMs`), and the promise settles once it exited.
   */
  run(args: readonly string[], abort: AbortSignal, graceMs = 20_000): Promise<TerraformResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, [`-chdir=${this.dir}`, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
      if (abort.aborted) onAbort();
      else abort.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err) => {
        abort.removeEventListener('abort', onAbort);
        reject(err);
      });
      child.once('close', (code) => {
        abort.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (code === 0) resolve({ stdout, stderr });
        else reject(new TerraformError(args[0] ?? '', code, `${stdout}\n${stderr}`));
      });
    });
  }
}
