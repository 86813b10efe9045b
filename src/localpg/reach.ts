/**
 * Who runs the server, and whether that user can reach a path.
 *
 * PostgreSQL refuses to run as root, so when we are root the server runs as the
 * `postgres` system user. That user needs search (x) permission on every directory on the
 * way to the binaries and to the data directory; a checkout inside a private directory
 * (mode 0700, what `mktemp -d` makes) denies it.
 */
import { execFileSync } from 'node:child_process';
import { statSync, type Stats } from 'node:fs';
import path from 'node:path';

export const SUPERUSER = 'postgres';

/** The user (and primary group) the server runs as when it is not ourselves. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** Something about the machine that keeps a local cluster from starting, with what to do. */
export class LocalPostgresError extends Error {
  constructor(
    /** What is wrong, as a clause. */
    readonly reason: string,
    /** What to do about it, as a sentence. */
    readonly fix: string,
  ) {
    super(`${reason}. ${fix}`);
    this.name = 'LocalPostgresError';
  }
}

let runAsCache: RunAs | null | undefined;

/** The user the server runs as: null for ourselves, or `postgres` when we are root. */
export function runAs(): RunAs | null {
  if (runAsCache !== undefined) return runAsCache;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return (runAsCache = null);
  const idOf = (flag: string): number => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  try {
    idOf('-u');
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
  }
  return (runAsCache = { uid: idOf('-u'), gid: idOf('-g') });
}

/** Whether the mode bits of `st` grant `who` the permission `bit` (4 read, 2 write, 1 search/execute). */
export function grants(st: Pick<Stats, 'uid' | 'gid' | 'mode'>, who: RunAs, bit: 1 | 2 | 4): boolean {
  if (who.uid === 0) return true;
  const shift = st.uid === who.uid ? 6 : st.gid === who.gid ? 3 : 0;
  return ((st.mode >> shift) & bit) !== 0;
}

/**
 * The first directory on the way to `target` (the root, each ancestor, and `target`
 * itself when it is a directory) that `who` may not pass, or undefined when every one
 * lets `who` through. Decided from the mode bits (supplementary groups and ACLs are not
 * consulted, so a "no" can be too strict, which only costs a copy).
 */
export function blockingDirectory(target: string, who: RunAs): string | undefined {
  const absolute = path.resolve(target);
  const dirs: string[] = [];
  for (let dir = absolute; ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of dirs) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch {
      return dir;
    }
    if (!st.isDirectory()) continue;
    if (!grants(st, who, 1)) return dir;
  }
  return undefined;
}

/** "drwx------ root:root"-style description of a directory, for error messages. */
export function describeDirectory(dir: string): string {
  try {
    const st = statSync(dir);
    return `${dir} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${st.uid})`;
  } catch {
    return dir;
  }
}
