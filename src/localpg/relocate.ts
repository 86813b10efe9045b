/**
 * PostgreSQL binaries the server's user can run.
 *
 * As root, the server runs as the `postgres` user (see reach.ts). When the binaries lie
 * where that user cannot pass (the embedded build inside a checkout in a private
 * directory), the installation (bin, lib, share: the build finds its libraries and data
 * files relative to its binaries) is copied once into a world-readable, root-owned cache
 * directory in the temp dir, named after its contents, and run from there. Like the
 * initdb templates, the copy is made in a scratch directory and renamed into place, so
 * parallel test workers never see half a copy.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './binaries';
import { blockingDirectory, describeDirectory, grants, LocalPostgresError, SUPERUSER, type RunAs } from './reach';

const execFileAsync = promisify(execFile);

/** The parts of an installation prefix a relocatable build needs. */
const PARTS = ['bin', 'lib', 'share'] as const;

const RUN_ELSEWHERE = 'or run as a user other than root (PostgreSQL then runs as that user)';

/** Why `who` cannot run the server from `binDir`, or undefined when it can. */
export function unreachableBecause(binDir: string, who: RunAs): string | undefined {
  const blocking = blockingDirectory(binDir, who);
  if (blocking !== undefined) return `${describeDirectory(blocking)} does not let it pass`;
  for (const program of ['initdb', 'postgres']) {
    const file = path.join(binDir, program);
    try {
      if (!grants(statSync(file), who, 1)) return `${file} is not executable by it`;
    } catch {
      return `${file} is missing`;
    }
  }
  return undefined;
}

/** The temp dir, once `who` is known to reach it: templates and data directories live there. */
export function reachableTempDir(who: RunAs | null): string {
  const tmp = os.tmpdir();
  const blocking = who ? blockingDirectory(tmp, who) : undefined;
  if (blocking !== undefined) {
    throw new LocalPostgresError(
      `PostgreSQL runs as the ${SUPERUSER} user when started as root, and that user cannot reach the temporary directory ${tmp} ` +
        `for its data: ${describeDirectory(blocking)} does not let it pass`,
      `Set TMPDIR to a directory every user can pass through (e.g. TMPDIR=/tmp), ${RUN_ELSEWHERE}.`,
    );
  }
  return tmp;
}

const prepared = new Map<string, Promise<PostgresBinaries>>();

/**
 * `binaries` as `who` can run them: unchanged when we run the server ourselves or `who`
 * reaches them (through the path given or its real path), otherwise a cached copy.
 */
export function reachableBinaries(binaries: PostgresBinaries, who: RunAs | null): Promise<PostgresBinaries> {
  if (!who) return Promise.resolve(binaries);
  let result = prepared.get(binaries.binDir);
  if (!result) {
    result = prepare(binaries, who);
    prepared.set(binaries.binDir, result);
    // A failure is not remembered: the next attempt decides afresh.
    result.catch(() => prepared.delete(binaries.binDir));
  }
  return result;
}

async function prepare(binaries: PostgresBinaries, who: RunAs): Promise<PostgresBinaries> {
  const tmp = reachableTempDir(who);
  const realBinDir = realpathSync(binaries.binDir);
  for (const binDir of [binaries.binDir, realBinDir]) {
    if (unreachableBecause(binDir, who) === undefined) return { ...binaries, binDir };
  }
  const why = unreachableBecause(realBinDir, who) ?? 'it is not reachable';
  const prefix = path.dirname(realBinDir);
  const cannotRun = `PostgreSQL runs as the ${SUPERUSER} user when started as root, and that user cannot run the binaries in ${binaries.binDir}: ${why}`;
  const fix = `Install PostgreSQL (or this checkout) where every user can pass through, e.g. not under a private (mode 0700) directory, ${RUN_ELSEWHERE}.`;
  if (path.basename(realBinDir) !== 'bin' || !existsSync(path.join(prefix, 'share')) || !existsSync(path.join(prefix, 'lib'))) {
    throw new LocalPostgresError(`${cannotRun}; and ${prefix} is not an installation (bin, lib, share) that can be copied elsewhere`, fix);
  }

  const cacheDir = path.join(tmp, `adaptive-pg-bin-${binaries.major}-${contentKey(prefix, binaries.version)}`);
  if (!existsSync(path.join(cacheDir, 'bin', 'postgres'))) {
    const scratch = mkdtempSync(path.join(tmp, 'adaptive-pg-bin-copy-'));
    try {
      await execFileAsync('cp', ['-a', ...PARTS.map((part) => path.join(prefix, part)), scratch]);
      // Readable and runnable by everyone, writable by root only.
      await execFileAsync('chmod', ['-R', 'u+w,a+rX,go-w', scratch]);
      chmodSync(scratch, 0o755);
      try {
        renameSync(scratch, cacheDir);
      } catch (err) {
        // Another worker won the race: use its copy.
        if (!existsSync(path.join(cacheDir, 'bin', 'postgres'))) throw err;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  checkOwnedByUs(cacheDir);
  const copied = { ...binaries, binDir: path.join(cacheDir, 'bin') };
  const still = unreachableBecause(copied.binDir, who);
  if (still !== undefined) throw new LocalPostgresError(`${cannotRun}; nor the copy in ${cacheDir}: ${still}`, fix);
  return copied;
}

/** The cache lies in a shared temp dir: only a copy that nobody but us can have written is run. */
function checkOwnedByUs(cacheDir: string): void {
  const st = lstatSync(cacheDir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new LocalPostgresError(
      `${describeDirectory(cacheDir)} is not a directory that only root can write, so the PostgreSQL binaries in it are not run`,
      `Remove it (rm -rf ${cacheDir}) and run again.`,
    );
  }
}

/**
 * A short hash of the installation: the version, every entry's name, type, mode and size
 * (and link target), and the programs' contents. Reading the programs (not the 60 MB of
 * libraries) keeps this fast; a different build differs in its programs.
 */
function contentKey(prefix: string, version: string): string {
  const hash = createHash('sha256').update(version);
  const walk = (rel: string): void => {
    const full = path.join(prefix, rel);
    const st = lstatSync(full);
    hash.update(`\0${rel}\0${st.mode.toString(8)}\0${st.size}`);
    if (st.isSymbolicLink()) hash.update(`\0${readlinkSync(full)}`);
    else if (st.isDirectory()) for (const entry of readdirSync(full).sort()) walk(path.join(rel, entry));
    else if (rel.startsWith(`bin${path.sep}`)) hash.update(readFileSync(full));
  };
  for (const part of PARTS) walk(part);
  return hash.digest('hex').slice(0, 16);
}
