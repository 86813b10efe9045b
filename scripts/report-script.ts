/**
 * What the measuring scripts (`npm run soak`, `npm run bench`) share: usage errors, whole-number
 * options, and the program around a run: parse the arguments (exit 2 on bad usage), run with
 * Ctrl-C and SIGTERM turned into an abort so the run cleans up after itself, print the report
 * as a table and as JSON (also to `--json FILE`), exit 0 when the report is clean, 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: the script prints it with its usage and exits 2. */
export class UsageError extends Error {}

/** The script's options as `parseArgs` reads them (strict, no positionals); a bad command line is a `UsageError`. */
export function parseScriptArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--name`'s whole-number value (`fallback` when absent), at least `min`. */
export function wholeOption(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number, at least ${min} (got ${JSON.stringify(text)})`);
  return n;
}

/** One measuring script. */
export interface ReportScript<Options extends { readonly jsonFile: string | undefined }, Report extends { readonly ok: boolean }> {
  /** Its name, the prefix of its messages on stderr. */
  readonly name: string;
  readonly usage: string;
  /** The options, or null when help was asked for; throws `UsageError`. */
  parse(argv: readonly string[]): Options | null;
  /** The run; `signal` aborts on Ctrl-C, and the run then stops and cleans up. */
  run(options: Options, signal: AbortSignal): Promise<Report>;
  table(report: Report): string;
}

async function main<O extends { readonly jsonFile: string | undefined }, R extends { readonly ok: boolean }>(script: ReportScript<O, R>): Promise<number> {
  let options: O | null;
  try {
    options = script.parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${script.name}: ${err.message}\n\n${script.usage}`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(script.usage);
    return 0;
  }
  const abort = new AbortController();
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${script.name}: ${signal}: stopping and cleaning up\n`);
    abort.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const report = await script.run(options, abort.signal);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(`${script.table(report)}\n\n${json}`);
  if (options.jsonFile !== undefined) writeFileSync(options.jsonFile, json);
  return report.ok ? 0 : 1;
}

/** Runs the script as the program and exits with its code. */
export function runReportScript<O extends { readonly jsonFile: string | undefined }, R extends { readonly ok: boolean }>(script: ReportScript<O, R>): void {
  main(script).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${script.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
