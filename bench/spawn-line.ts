/**
 * Spawn to first line: the moment a child process has written its first line to stdout,
 * which is what go-plugin waits for before it connects (the handshake line). Shared by
 * `cold-start.ts` and the bench's plugin-start row.
 */
import { spawn } from 'node:child_process';

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A script for `node -e` that writes a line like the handshake (a synchronous write to fd 1). */
export const PRINT_LINE_SCRIPT = "require('node:fs').writeSync(1, 'ready\\n')";

/**
 * Milliseconds from spawning `command` to its first complete stdout line, and the line.
 * The child is then ended (SIGKILL) and waited for, so runs never overlap.
 */
export function spawnToFirstLine(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; line: string }> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let result: { ms: number; line: string } | undefined;
    child.once('error', reject);
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (result) return;
      stdout += chunk.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end < 0) return;
      result = { ms: nowMs() - started, line: stdout.slice(0, end) };
      child.kill('SIGKILL');
    });
    child.once('close', (code) => (result ? resolve(result) : reject(new Error(`${command} exited ${code} before writing a line: ${stderr.trim()}`))));
  });
}
