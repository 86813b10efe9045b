/**
 * `credential -- COMMAND`: a credential that lives exactly as long as a command. Issued,
 * handed to the command in its environment (never its arguments, which `ps` shows anyone),
 * renewed while the command runs, and revoked the moment it exits, whatever made it exit:
 * its own end, a signal to this process, a failure to start.
 *
 * Signals: SIGINT and SIGTERM are passed on to the command and this process waits for it,
 * then revokes. A signal that arrives while the credential is being issued means the
 * command never starts; one that arrives while revoking is noted and does not stop it.
 * At the third, someone wants out: the command is killed (SIGKILL), or, with no command
 * running (issuing or revoking hangs on a target that does not answer), this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { CATALOG_KEY_ENV, CATALOG_URL_ENV, errorText, type OnDemandCredential, type Runtime } from '../runtime';
import { pgVariables, writeCaFile } from './credential-output';
import { CredentialRenewal } from './credential-renewal';
import { EXIT_FAILURE } from '../terminal/errors';
import { oneLine, type Output } from '../terminal/output';
import { PROG } from './spec';
import { isoSeconds } from './time-format';

export interface RunWithCredential {
  readonly runtime: Runtime;
  /** Issues the credential (with errors explained for the command line). */
  readonly issue: () => Promise<OnDemandCredential>;
  /** The command and its arguments, as given after `--`. */
  readonly command: readonly string[];
  readonly out: Output;
  /** The ttl asked for, which renewals ask again; undefined: the one the credential was issued with. */
  readonly ttlSeconds: number | undefined;
}

/** Shells' codes for a command that could not be started. */
const EXIT_NOT_FOUND = 127;
const EXIT_NOT_EXECUTABLE = 126;

/**
 * Variables the command must not inherit: the catalog's URL (with its password) and key
 * (which decrypts every target's admin password) are this process's, not the member's;
 * PGHOSTADDR and PGSERVICE would send libpq elsewhere than PGHOST says (a service file's
 * settings win over the environment).
 */
const WITHHELD = [CATALOG_URL_ENV, CATALOG_KEY_ENV, 'PGHOSTADDR', 'PGSERVICE'];

/** Runs the command with a credential of its own; resolves to the exit code. */
export async function runWithCredential(run: RunWithCredential): Promise<number> {
  const { out } = run;
  const relay = new SignalRelay(out, run.command[0] ?? '');
  try {
    const credential = await run.issue();
    const ttlSeconds = run.ttlSeconds ?? Math.max(1, Math.round((credential.expiresAt.getTime() - credential.grantedAt.getTime()) / 1000));
    let code = EXIT_FAILURE;
    let renewal: CredentialRenewal | undefined;
    let revoked = false;
    try {
      if (relay.received !== undefined) {
        out.note(`${relay.received} while issuing: ${run.command[0] ?? ''} not started.`);
      } else {
        out.note(`Issued ${credential.username} to ${credential.member} on endpoint ${credential.endpoint} until ${isoSeconds(credential.expiresAt)}; running ${run.command[0] ?? ''}.`);
        renewal = new CredentialRenewal(run.runtime, credential, ttlSeconds, out);
        // The CA lives as long as the command: libpq reads it from a file only.
        const caFile = await writeCaFile(credential);
        try {
          code = await runChild(run.command, childEnv(out.io.env, credential, caFile?.path), relay, out);
        } finally {
          await caFile?.remove();
        }
      }
    } finally {
      // Whatever happened above (even a command line spawn refuses), the credential goes now.
      await renewal?.stop();
      relay.revoking = true;
      revoked = await revoke(run.runtime, credential, renewal?.expiresAt ?? credential.expiresAt, out);
    }
    if (relay.received !== undefined) return 128 + signalNumber(relay.received);
    return revoked || code !== 0 ? code : EXIT_FAILURE;
  } finally {
    relay.close();
  }
}

/** This process's environment for the command: the credential's PG* variables, without what it must not have. */
function childEnv(base: Readonly<Record<string, string | undefined>>, credential: OnDemandCredential, caFile: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of WITHHELD) delete env[name];
  // A PGSSLROOTCERT of the caller's would point at another CA than the target's.
  delete env.PGSSLROOTCERT;
  return { ...env, ...pgVariables(credential, caFile) };
}

/** Runs the command with stdio inherited; resolves to its exit code (128 + n when a signal ended it). */
function runChild(command: readonly string[], env: NodeJS.ProcessEnv, relay: SignalRelay, out: Output): Promise<number> {
  const [file = '', ...args] = command;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (code: number): void => {
      if (settled) return;
      settled = true;
      relay.forwardTo(undefined);
      resolve(code);
    };
    const child = spawn(file, args, { stdio: 'inherit', env });
    relay.forwardTo(child);
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failure to start ends the run here; after a start, 'exit' follows.
      if (child.pid !== undefined) return;
      const notFound = err.code === 'ENOENT';
      out.note(`${PROG} credential: error: ${notFound ? `command not found: ${file}` : `cannot run ${file}: ${err.message}`}.`);
      settle(notFound ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
    });
    child.once('exit', (code, signal) => settle(code ?? 128 + signalNumber(signal)));
  });
}

/**
 * Revokes at once (sessions ended, role dropped). A failure is reported, not thrown: the
 * command's exit code still matters, and the credential stops working at its expiry anyway.
 */
async function revoke(runtime: Runtime, credential: OnDemandCredential, expiresAt: Date, out: Output): Promise<boolean> {
  try {
    await runtime.revokeCredential(credential.roleName, 'closed');
    out.note(`Revoked ${credential.username}: its sessions ended, its role dropped.`);
    return true;
  } catch (err) {
    out.note(
      `${PROG} credential: error: could not revoke ${credential.username}: ${oneLine(errorText(err))}. ` +
        `It stops working at ${isoSeconds(expiresAt)}, and '${PROG} reap' drops it then.`,
    );
    return false;
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : ((constants.signals as Record<string, number | undefined>)[signal] ?? 0);
}

/** Catches SIGINT and SIGTERM for as long as a credential is out, passing them on to the command. */
class SignalRelay {
  /** The first signal received, if any: it decides the exit code. */
  received: NodeJS.Signals | undefined;
  /** Set once the command has ended and the credential is being revoked. */
  revoking = false;
  #child: ChildProcess | undefined;
  #count = 0;

  constructor(
    private readonly out: Output,
    private readonly name: string,
  ) {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  /** The command signals go to, or undefined once it has exited. */
  forwardTo(child: ChildProcess | undefined): void {
    this.#child = child;
  }

  close(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    this.#count++;
    const child = this.#child;
    if (child === undefined) {
      if (this.#count > 2) {
        // Someone wants out now (a target that does not answer); the expiry still holds.
        this.out.note(`${signal} again: exiting now; what was issued stops working at its expiry, and '${PROG} reap' drops it then.`);
        process.exit(128 + signalNumber(this.received));
      }
      this.out.note(`${signal}: ${this.revoking ? 'revoking the credential first' : 'the command will not be started'}; one moment.`);
      return;
    }
    // A terminal's Ctrl-C reaches the command too (same process group); passing it on again
    // is harmless, and needed when the signal was sent to this process alone.
    const forward = this.#count > 2 ? 'SIGKILL' : signal;
    this.out.note(`${signal}: passing ${forward} on to ${this.name}; the credential is revoked when it exits.`);
    child.kill(forward);
  };
}
