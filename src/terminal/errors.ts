/**
 * What ends a command early, and how it is told: a usage error (exit 2, with a pointer to
 * the command's help) or a failure (exit 1, one line saying what went wrong and what to
 * do). Stack traces only with `--debug`: an operator needs the cause, not our call stack.
 */
import { inspect } from 'node:util';
import { oneLine, type Output } from './output';
// The one error-text helper is the runtime's (its public interface), so a message reads the same
// whether the runtime or a command reports it.
import { errorText } from '../runtime';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure with a cause the person running the command can act on. */
export class CliError extends Error {
  constructor(
    message: string,
    /** What to do about it, as a sentence. */
    readonly fix?: string,
    options: { readonly cause?: unknown; readonly exitCode?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }

  readonly exitCode: number;
}

/** The command line itself is wrong: unknown command or option, missing or bad value. */
export class UsageError extends CliError {
  constructor(
    message: string,
    /** The command whose help to point at; undefined for the top level. */
    readonly command?: string,
  ) {
    super(message, undefined, { exitCode: EXIT_USAGE });
    this.name = 'UsageError';
  }
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** Reports `err` on stderr and returns the exit code. */
export function reportError(err: unknown, out: Output, options: { readonly prog: string; readonly debug: boolean }): number {
  const prefix = out.paintErr('bold', `${options.prog}:`);
  if (err instanceof UsageError) {
    const help = err.command === undefined ? 'adaptive-access --help' : `adaptive-access ${err.command} --help`;
    out.note(`${prefix} ${oneLine(err.message)}`);
    out.note(`Run '${help}' for usage.`);
    return err.exitCode;
  }
  const message = errorText(err);
  const fix = err instanceof CliError ? err.fix : 'Run again with --debug for details.';
  out.note(`${prefix} ${out.paintErr('red', 'error:')} ${sentence(oneLine(message))}${fix ? ` ${fix}` : ''}`);
  if (options.debug) for (const line of traceOf(err)) out.note(line);
  return err instanceof CliError ? err.exitCode : EXIT_FAILURE;
}

/** The stack of an error and of each cause under it. */
function traceOf(err: unknown): string[] {
  const lines: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (e instanceof Error) {
      lines.push(`${depth === 0 ? '' : 'caused by: '}${e.stack ?? `${e.name}: ${e.message}`}`);
      e = e.cause;
    } else {
      lines.push(`caused by: ${inspect(e)}`);
      e = undefined;
    }
  }
  return lines;
}

export { errorText };
