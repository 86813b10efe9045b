/**
 * The bench's command line: how many members, how many runs of each timed command, which
 * PostgreSQL major, where the JSON goes. Bad input is a usage error (exit 2) before
 * anything starts.
 */
import { parseScriptArgs, UsageError, wholeOption } from '../scripts/report-script';

export interface BenchOptions {
  /** Members of the big group (1 endpoint). */
  readonly members: number;
  /** Runs of each timed command; the median is reported. */
  readonly repeat: number;
  /** PostgreSQL major; undefined: the embedded 18, else the first found. */
  readonly pgMajor: number | undefined;
  readonly jsonFile: string | undefined;
  /** Server settings for the cluster (`--pg-setting name=value`), e.g. to see how far a size goes past a limit. */
  readonly pgSettings: Readonly<Record<string, string>>;
  /** Where each plugin process writes its CPU profile and peak RSS (`--profile DIR`); undefined: no profiling. */
  readonly profileDir: string | undefined;
  /** Where a plan holding the N members, at TF_LOG=trace, logs (`--trace FILE`); undefined: no traced plan. */
  readonly traceFile: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

Measures the provider from outside (the installed executable, real Terraform, psql) on a
throwaway cluster, next to the floor each row is compared with, and prints a table and
JSON (see bench/README.md).

Options:
  --members N     Members of the big group, 1 endpoint (default 1000)
  --repeat N      Runs of each timed command; the median is reported (default 3)
  --pg MAJOR      PostgreSQL major to run (default: the embedded 18, else the system's)
  --json FILE     Also write the JSON report to FILE
  --pg-setting NAME=VALUE
                  A server setting for the cluster (repeatable), e.g.
                  max_locks_per_transaction=1024; the report lists them
  --profile DIR   Install a readable (unminified) bundle and write each plugin
                  process's CPU profile (.cpuprofile, for Chrome DevTools or
                  speedscope) and peak RSS into DIR. Profiling slows the plugin:
                  the report says it was on; compare such runs with each other
  --trace FILE    After the timed runs, one more plan holding the N members at
                  TF_LOG=trace, logged to FILE (not timed)
  -h, --help      Show this help
`;

/** The options, or null when help was asked for. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | null {
  const values = parseScriptArgs(argv, {
    members: { type: 'string' },
    repeat: { type: 'string' },
    pg: { type: 'string' },
    json: { type: 'string' },
    'pg-setting': { type: 'string', multiple: true },
    profile: { type: 'string' },
    trace: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  const pgSettings: Record<string, string> = {};
  for (const setting of values['pg-setting'] ?? []) {
    const match = /^([a-z_][a-z0-9_.]*)=(.+)$/.exec(setting);
    if (!match) throw new UsageError(`--pg-setting must be NAME=VALUE (got ${JSON.stringify(setting)})`);
    pgSettings[match[1] as string] = match[2] as string;
  }
  return {
    members: wholeOption('members', values.members, 1000, 1),
    repeat: wholeOption('repeat', values.repeat, 3, 1),
    pgMajor: values.pg === undefined ? undefined : wholeOption('pg', values.pg, 0, 1),
    jsonFile: values.json,
    pgSettings,
    profileDir: values.profile,
    traceFile: values.trace,
  };
}
