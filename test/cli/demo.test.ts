/**
 * `adaptive-access demo` end to end, as a newcomer runs it: a child process, real
 * PostgreSQL (the embedded build), real Terraform, the real plugin. Checks what it shows,
 * that it never shows a password, and that it leaves nothing behind: not on success, not
 * when interrupted.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from './run-cli';

const LONG = 180_000;

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The working directory and the cluster's port the demo printed. */
function leftovers(r: Pick<CliResult, 'stdout' | 'stderr'>): { dir: string; port: number } {
  const dir = /Working directory: (\S+)/.exec(r.stdout)?.[1];
  const port = /on 127\.0\.0\.1:(\d+)/.exec(r.stderr)?.[1];
  expect(dir, r.stdout + r.stderr).toBeDefined();
  expect(port, r.stdout + r.stderr).toBeDefined();
  return { dir: dir!, port: Number(port) };
}

describe('adaptive-access demo', () => {
  it(
    'runs to completion: grants, logins allowed and refused, expiry, the reaper, the audit log, destroy; nothing left behind',
    async () => {
      const r = await runCli(['demo', '--short-ttl', '5']);
      const all = r.stdout + r.stderr;
      expect(r.code, all).toBe(0);
      const out = r.stdout;
      // The credentials table: three members, masked passwords, countdowns.
      expect(out).toMatch(/MEMBER +ENDPOINT +LOGIN ROLE +PASSWORD +EXPIRES IN/);
      expect(out).toMatch(/ana@example\.com +analyst +ana@example\.com\/analyst +\S{3}\*{9} +7h 59m \d+s/);
      expect(out).toMatch(/dev@example\.com +developer +dev@example\.com\/developer +\S{3}\*{9} +59m \d+s/);
      expect(out).toMatch(/ops@example\.com +oncall +ops@example\.com\/oncall +\S{3}\*{9} +\ds/);
      expect(out).toMatch(/Apply complete! Resources: 9 added, 0 changed, 0 destroyed\./);
      // Logins: allowed and refused by PostgreSQL itself.
      expect(out).toMatch(/allowed +select count\(\*\) from orders +5/);
      expect(out).toMatch(/refused +insert into orders .* +ERROR: +permission denied for table orders/);
      expect(out).toMatch(/allowed +insert into orders .* +INSERT 0 1/);
      expect(out).toMatch(/refused +select \* from finance\.payments +ERROR: +permission denied for schema finance/);
      // Expiry: new logins refused, the open session ended by the reaper, the role dropped.
      expect(out).toMatch(/refused +new login as ops@example\.com\/oncall +FATAL: +password authentication failed/);
      expect(out).toContain('Reaped 1 expired role on 1 target.');
      expect(out).toContain('was ended: FATAL:  terminating connection due to administrator command');
      expect(out).toContain('The login role ops@example.com/oncall was dropped.');
      // The audit log.
      expect(out).toMatch(/^ +\d\d:\d\d:\d\d +grant +ana@example\.com +analyst +analysts +ana@example\.com\/analyst$/m);
      expect(out).toMatch(/^ +\d\d:\d\d:\d\d +expire +ops@example\.com +oncall +oncall +ops@example\.com\/oncall$/m);
      expect(out).toContain('Destroy complete! Resources: 9 destroyed.');
      expect(out).toMatch(/^Done in \d+ s\. Next: /m);
      // Progress on stderr, nine steps.
      expect(r.stderr).toMatch(/^\[1\/9\] Starting a throwaway PostgreSQL 18 \.\.\. PostgreSQL 18\.\S+ on 127\.0\.0\.1:\d+ \(\d+\.\d s\)$/m);
      expect(r.stderr).toMatch(/^\[9\/9\] terraform destroy .* done \(\d+\.\d s\)$/m);
      // No password: nothing secret-looking next to the word, no SCRAM verifier or md5 hash.
      expect(all).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
      expect(all).not.toMatch(/password[^\n]{0,40}[A-Za-z0-9_\-+/=]{20,}/i);
      expect(all).not.toMatch(/postgres(ql)?:\/\/[^\s:@/]+:[^\s@]+@/);
      // Nothing left behind.
      const { dir, port } = leftovers(r);
      expect(existsSync(dir)).toBe(false);
      expect(await listening(port)).toBe(false);
    },
    LONG,
  );

  it(
    'SIGINT during terraform apply: stops, cleans up, exit 130',
    async () => {
      const cli = startCli(['demo', '--short-ttl', '5']);
      await new Promise<void>((resolve, reject) => {
        const seen = (): void => {
          if (/\] terraform apply/.test(cli.stderr)) {
            cli.child.stderr.off('data', seen);
            resolve();
          }
        };
        cli.child.stderr.on('data', seen);
        cli.exited.then(() => reject(new Error(`the demo ended before the apply step\n${cli.transcript()}`)), reject);
      });
      cli.child.kill('SIGINT');
      const r = await cli.exited;
      expect(r.code, cli.transcript()).toBe(130);
      expect(r.stderr).toContain('Interrupted: cleaned up.');
      const { dir, port } = leftovers(r);
      expect(existsSync(dir)).toBe(false);
      expect(await listening(port)).toBe(false);
    },
    LONG,
  );

  it.each([
    [['--short-ttl', '0'], /--short-ttl' must be a whole number of seconds from 1 to 3600, not '0'/],
    [['--short-ttl', 'abc'], /--short-ttl' must be a whole number of seconds from 1 to 3600, not 'abc'/],
    [['extra'], /unexpected argument 'extra'/],
    [['--postgres-bin', '/nonexistent'], /--postgres-bin': \/nonexistent holds no usable PostgreSQL server binaries/],
  ])('usage error: demo %j exits 2', async (args, message) => {
    const r = await runCli(['demo', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Run 'adaptive-access demo --help' for usage.");
  });

  it('without terraform on PATH: exit 1, says so and how to install it, starts nothing', async () => {
    const r = await runCli(['demo'], { env: { PATH: '/nonexistent-bin' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: terraform was not found on PATH.*Install Terraform 1\.5 or later \(https:\/\/developer\.hashicorp\.com\/terraform\/install\)/);
    expect(r.stdout).toBe('');
  });

  it(
    'a TMPDIR only we may pass through: as root (the server runs as postgres) exit 1 at the first step with the cause and the fix, nothing left behind',
    async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'adaptive-private-tmp-')); // mode 0700, as mktemp -d makes it
      try {
        const r = await runCli(['demo', '--short-ttl', '1'], { env: { TMPDIR: tmp } });
        if (process.getuid?.() !== 0) {
          // Not root: the server runs as ourselves, who may pass; nothing to refuse.
          expect(r.code, r.stdout + r.stderr).toBe(0);
          return;
        }
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^\[1\/9\] Starting a throwaway PostgreSQL \d+ \.\.\. failed$/m);
        expect(r.stderr).toContain(
          `error: PostgreSQL runs as the postgres user when started as root, and that user cannot reach the temporary directory ${tmp} for its data: ` +
            `${tmp} (mode 0700, owner uid 0) does not let it pass. ` +
            'Set TMPDIR to a directory every user can pass through (e.g. TMPDIR=/tmp), or run as a user other than root (PostgreSQL then runs as that user).',
        );
        // Its working directory and any scratch are gone (tsx, which runs the sources, keeps its cache there).
        expect(readdirSync(tmp).filter((name) => name.startsWith('adaptive-'))).toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    LONG,
  );
});
