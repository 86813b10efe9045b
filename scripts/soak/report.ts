/**
 * The soak's report: one JSON object (also written with --json FILE) and the same numbers
 * as a table for people.
 */
import type { SoakOptions } from './options';
import type { IssuerStats } from './issuer';
import type { ReplicaStats } from './replicas';
import type { CatalogCounts, OutlivedStats } from './role-watch';

export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface SoakReport {
  readonly ok: boolean;
  /** What makes `ok` false, for people. */
  readonly problems: string[];
  readonly postgres: string;
  readonly options: Omit<SoakOptions, 'jsonFile'>;
  readonly elapsedSeconds: number;
  readonly interrupted: boolean;
  readonly credentials: { readonly issued: number; readonly issueErrors: number; readonly reapedByReplicas: number; readonly reapedTwice: number; readonly revokedInCatalog: number | null; readonly revokedExpiredInCatalog: number | null };
  readonly sessions: { readonly opened: number; readonly openErrors: number; readonly ended: number; readonly stillOpenPastExpiry: number };
  /** Client side: a held session's end minus its credential's expiry. */
  readonly latencySeconds: LatencySummary;
  /** As the replicas logged it (`latencySeconds` of their `reaped` events). */
  readonly replicaLatencySeconds: LatencySummary;
  readonly outlived: { readonly graceSeconds: number; readonly count: number; readonly worstSeconds: number | null; readonly worstRole: string | null; readonly polls: number; readonly pollErrors: number };
  readonly replicas: { readonly count: number; readonly kills: number; readonly restarts: number; readonly unexpectedExits: number };
  readonly events: { readonly error: number; readonly failed: number };
  readonly errorSamples: string[];
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarise(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number | null): number | null => (n === null ? null : Math.round(n * 1000) / 1000);
  return { count: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? null) };
}

export interface ReportInputs {
  readonly options: SoakOptions;
  readonly postgres: string;
  readonly elapsedSeconds: number;
  readonly interrupted: boolean;
  readonly issuer: IssuerStats;
  readonly replicas: ReplicaStats;
  readonly outlived: OutlivedStats;
  readonly graceSeconds: number;
  readonly catalog: CatalogCounts | null;
}

export function buildReport(i: ReportInputs): SoakReport {
  const { jsonFile: _jsonFile, ...options } = i.options;
  let worst: [string, number] | null = null;
  for (const entry of i.outlived.roles) if (worst === null || entry[1] > worst[1]) worst = entry;
  const reapedTwice = [...i.replicas.reapedRoles.values()].filter((n) => n > 1).length;
  const report: Omit<SoakReport, 'ok' | 'problems'> = {
    postgres: i.postgres,
    options,
    elapsedSeconds: Math.round(i.elapsedSeconds),
    interrupted: i.interrupted,
    credentials: {
      issued: i.issuer.issued,
      issueErrors: i.issuer.issueErrors,
      reapedByReplicas: i.replicas.reapedRoles.size,
      reapedTwice,
      revokedInCatalog: i.catalog?.revoked ?? null,
      revokedExpiredInCatalog: i.catalog?.revokedExpired ?? null,
    },
    sessions: { opened: i.issuer.sessionsOpened, openErrors: i.issuer.sessionOpenErrors, ended: i.issuer.sessionLatencies.length, stillOpenPastExpiry: i.issuer.sessionsStillOpen },
    latencySeconds: summarise(i.issuer.sessionLatencies),
    replicaLatencySeconds: summarise(i.replicas.replicaLatencies),
    outlived: {
      graceSeconds: i.graceSeconds,
      count: i.outlived.roles.size,
      worstSeconds: worst === null ? null : Math.round(worst[1] * 1000) / 1000,
      worstRole: worst?.[0] ?? null,
      polls: i.outlived.polls,
      pollErrors: i.outlived.pollErrors,
    },
    replicas: { count: i.options.replicas, kills: i.replicas.kills, restarts: i.replicas.restarts, unexpectedExits: i.replicas.unexpectedExits },
    events: { error: i.replicas.errorEvents, failed: i.replicas.failedEvents },
    errorSamples: [...i.replicas.errorSamples, ...i.issuer.errorSamples],
  };
  const problems = [
    report.outlived.count > 0 ? `${report.outlived.count} roles outlived their expiry by more than ${i.graceSeconds} s` : '',
    report.sessions.stillOpenPastExpiry > 0 ? `${report.sessions.stillOpenPastExpiry} sessions still open more than 2 s past expiry` : '',
    report.replicas.unexpectedExits > 0 ? `${report.replicas.unexpectedExits} replicas exited on their own` : '',
    report.events.error + report.events.failed > 0 ? `${report.events.error} error and ${report.events.failed} failed events` : '',
    report.credentials.issueErrors > 0 ? `${report.credentials.issueErrors} credentials could not be issued` : '',
    reapedTwice > 0 ? `${reapedTwice} roles were reported reaped more than once` : '',
  ].filter((p) => p !== '');
  const ok = problems.length === 0;
  return { ok, problems, ...report };
}

function seconds(n: number | null): string {
  return n === null ? '-' : `${n.toFixed(3)} s`;
}

/** The report as an aligned two-column table. */
export function reportTable(r: SoakReport): string {
  const rows: Array<[string, string]> = [
    ['result', r.ok ? 'OK' : `PROBLEMS: ${r.problems.join('; ')}`],
    ['postgres', r.postgres],
    ['run', `${r.elapsedSeconds} s${r.interrupted ? ' (interrupted: the server stopped too, numbers are partial)' : ''}, ${r.options.targets} targets x ${r.options.members} members, ${r.replicas.count} replicas`],
    ['credentials issued', `${r.credentials.issued} (${r.credentials.issueErrors} errors)`],
    ['reaped (replicas)', `${r.credentials.reapedByReplicas} roles (${r.credentials.reapedTwice} reported twice)`],
    ['revoked (catalog)', r.credentials.revokedInCatalog === null ? 'unknown (the cluster had stopped)' : `${r.credentials.revokedInCatalog} (${r.credentials.revokedExpiredInCatalog} as expired)`],
    ['sessions', `${r.sessions.opened} opened, ${r.sessions.ended} ended, ${r.sessions.stillOpenPastExpiry} still open past expiry`],
    ['latency (client)', `p50 ${seconds(r.latencySeconds.p50)}, p99 ${seconds(r.latencySeconds.p99)}, max ${seconds(r.latencySeconds.max)} (${r.latencySeconds.count})`],
    ['latency (replicas)', `p50 ${seconds(r.replicaLatencySeconds.p50)}, p99 ${seconds(r.replicaLatencySeconds.p99)}, max ${seconds(r.replicaLatencySeconds.max)} (${r.replicaLatencySeconds.count})`],
    [`outlived > ${r.outlived.graceSeconds} s`, `${r.outlived.count} roles${r.outlived.worstSeconds === null ? '' : `, worst ${seconds(r.outlived.worstSeconds)} (${r.outlived.worstRole})`} (${r.outlived.polls} polls)`],
    ['replica kills', `${r.replicas.kills} kills, ${r.replicas.restarts} restarts, ${r.replicas.unexpectedExits} unexpected exits`],
    ['events', `${r.events.error} error, ${r.events.failed} failed`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const sample of r.errorSamples) lines.push(`  ! ${sample}`);
  return lines.join('\n');
}
