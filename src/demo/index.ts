/**
 * `adaptive-access demo`: the whole product on this machine in about a minute. A throwaway
 * PostgreSQL, a seeded shop database, the provider installed into a private mirror, a real
 * `terraform apply`, real logins with the issued passwords (one statement allowed, one
 * refused), a short grant expiring and the reaper ending its open session, the audit log,
 * and `terraform destroy`. Everything lives in a temporary directory and a throwaway
 * cluster, both removed at the end, on failure and on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Progress goes to stderr (`[3/9] Installing ... done (1.2 s)`), results to stdout.
 * Passwords are never printed in full.
 */
import { LocalPostgresError } from '../localpg';
import { TerraformError } from '../terraform';
import { CliError, errorText } from '../terminal/errors';
import { oneLine, type Output } from '../terminal/output';
import { MEMBERS } from './config';
import { DemoRun, Interrupted, type DemoOptions } from './run';
import { CATALOG_DATABASE } from './seed';
import {
  credentialOf,
  destroyAndFinish,
  initAndApply,
  installAndConfigure,
  logIn,
  prepare,
  runReaper,
  seed,
  showAuditLog,
  showCredentialsAndLogins,
  startPostgres,
  watchExpiry,
} from './steps';

export { demoBinaries } from './binaries';
export type { DemoOptions } from './run';

export const EXIT_INTERRUPTED = 130;

/** Runs the demo; resolves with the exit code, or rejects with a CliError after cleaning up. */
export async function runDemo(options: DemoOptions, out: Output): Promise<number> {
  const run = new DemoRun(options, out);
  let cleaningUp = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (run.abort.signal.aborted) {
      if (cleaningUp) out.note(`(${signal} again: still cleaning up, one moment)`);
      return;
    }
    run.abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await demoSteps(run);
    return 0;
  } catch (err) {
    cleaningUp = true;
    if (err instanceof Interrupted || run.abort.signal.aborted) {
      await run.cleanUp();
      out.note('Interrupted: cleaned up.');
      return EXIT_INTERRUPTED;
    }
    if (err instanceof TerraformError) {
      out.note(`terraform ${err.command} said:`);
      for (const line of err.tail()) out.note(`  ${line}`);
    }
    await run.cleanUp();
    throw failure(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The steps in order; each says what it shows. */
async function demoSteps(run: DemoRun): Promise<void> {
  const setup = await prepare(run);
  const cluster = await startPostgres(run);
  await seed(run, cluster);
  const tf = await installAndConfigure(run, setup, cluster);
  const applied = await initAndApply(run, tf);
  const logins = await logIn(run, applied.credentials);
  showCredentialsAndLogins(run, applied.line, applied.credentials, cluster, logins);
  const ops = credentialOf(applied.credentials, MEMBERS.oncall);
  await watchExpiry(run, ops, logins.session);
  const catalog = { url: cluster.url(CATALOG_DATABASE), key: setup.key };
  await runReaper(run, catalog, cluster, ops, logins.sessionEnded);
  await showAuditLog(run, catalog);
  await destroyAndFinish(run, tf, setup.dir);
}

/** A failure as the CLI reports it: one line, with a fix. */
function failure(err: unknown): unknown {
  if (err instanceof CliError) return err;
  // The machine keeps PostgreSQL from starting (e.g. as root, from a private directory): say why and what to do.
  if (err instanceof LocalPostgresError) return new CliError(err.reason, err.fix, { cause: err });
  if (err instanceof TerraformError) {
    return new CliError(err.message, 'See terraform\'s output above; run again with --debug for the stack trace.', { cause: err });
  }
  return new CliError(`the demo failed: ${oneLine(errorText(err))}`, 'Everything it started was cleaned up; run again with --debug for details.', { cause: err });
}
