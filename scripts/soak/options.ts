/**
 * The soak's command line: how long, how many replicas, targets and members, how often a
 * replica is killed, which PostgreSQL major, where the JSON report goes. Bad input is a
 * usage error (exit 2) before anything starts.
 */
import { parseScriptArgs, UsageError, wholeOption } from '../report-script';

/** The shortest ttl a credential gets. */
export const MIN_TTL_SECONDS = 5;

export interface SoakOptions {
  readonly durationSeconds: number;
  readonly replicas: number;
  readonly targets: number;
  readonly members: number;
  readonly killEverySeconds: number;
  /** Each credential's ttl is drawn from 5 s to this (the endpoints' ttl). */
  readonly maxTtlSeconds: number;
  /** Sessions held open per target to time their end from the client side. */
  readonly sessionsPerTarget: number;
  /** PostgreSQL major; undefined: the embedded 18, else the first found. */
  readonly pgMajor: number | undefined;
  /** Passed on as the replicas' `--poll`; undefined: the CLI's default. */
  readonly pollSeconds: string | undefined;
  readonly jsonFile: string | undefined;
}

export const USAGE = `Usage: npm run soak -- [options]

Runs reap --watch replicas against a throwaway cluster of many target databases while
credentials are issued and expire, kills a replica at random now and then, and reports
how late access ended.

Options:
  --duration SECONDS     How long to issue credentials (default 600)
  --replicas N           reap --watch replicas (default 3)
  --targets N            Target databases (default 20)
  --members N            Members per target, each holding one credential (default 50)
  --kill-every SECONDS   SIGKILL a random replica this often and restart it; 0: never (default 30)
  --max-ttl SECONDS      Credentials get ttls spread from 5 s to this (default 120)
  --sessions N           Sessions held open per target to time their end (default 3)
  --pg MAJOR             PostgreSQL major to run (default: the embedded 18, else the system's)
  --poll SECONDS         Passed to the replicas as --poll (default: the CLI's default)
  --json FILE            Also write the JSON report to FILE
  -h, --help             Show this help
`;

/** The options, or null when help was asked for. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | null {
  const values = parseScriptArgs(argv, {
    duration: { type: 'string' },
    replicas: { type: 'string' },
    targets: { type: 'string' },
    members: { type: 'string' },
    'kill-every': { type: 'string' },
    'max-ttl': { type: 'string' },
    sessions: { type: 'string' },
    pg: { type: 'string' },
    poll: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  if (values.poll !== undefined && !(Number(values.poll) > 0)) throw new UsageError(`--poll must be a number of seconds above 0 (got ${JSON.stringify(values.poll)})`);
  const members = wholeOption('members', values.members, 50, 1);
  return {
    durationSeconds: wholeOption('duration', values.duration, 600, 1),
    replicas: wholeOption('replicas', values.replicas, 3, 1),
    targets: wholeOption('targets', values.targets, 20, 1),
    members,
    killEverySeconds: wholeOption('kill-every', values['kill-every'], 30, 0),
    maxTtlSeconds: wholeOption('max-ttl', values['max-ttl'], 120, MIN_TTL_SECONDS),
    sessionsPerTarget: Math.min(members, wholeOption('sessions', values.sessions, 3, 0)),
    pgMajor: values.pg === undefined ? undefined : wholeOption('pg', values.pg, 0, 1),
    pollSeconds: values.poll,
    jsonFile: values.json,
  };
}
