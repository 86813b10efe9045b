/**
 * `adaptive-access reap`: finishes what VALID UNTIL starts, on every target in the catalog.
 * Once (cron, a Kubernetes CronJob) or with `--watch` (systemd, a Deployment). Every pass
 * is the runtime's `reap()` over every target, acting only on credentials the catalog
 * recorded as issued, so the catalog records each reaped role exactly as the provider's
 * own reaping does.
 *
 * Watching (reap-watch.ts) runs as one of any number of replicas sharing the targets
 * through leases in the catalog, sleeps until the next expiry among its targets (by the
 * servers' clocks), and is woken by the catalog when a grant is issued, extended or
 * revoked; --poll is the safety net for a lost notification connection.
 */
import type { ReapReport, Runtime } from '../runtime';
import { secondsOption } from './args';
import { catalogSettingsFrom, openRuntimeFor, type CatalogValues } from './catalog';
import { CliError, errorText, EXIT_OK, UsageError } from '../terminal/errors';
import { columns, oneLine, type Output } from '../terminal/output';
import { observePasses, parseListenAddress, type PassObserver } from './reaper-observability';
import { reapedLines, type ReapedLine } from './reap-lines';
import { replicaName, watchLoop } from './reap-watch';

/** The options of `reap`, as parsed. */
export interface ReapValues extends CatalogValues {
  readonly watch?: boolean | undefined;
  readonly 'max-sleep'?: string | undefined;
  readonly poll?: string | undefined;
  readonly json?: boolean | undefined;
  readonly 'metrics-addr'?: string | undefined;
}

/** What `reap --json` prints (without --watch). */
export interface ReapJsonReport {
  /** True when every expired role was reaped. */
  readonly ok: boolean;
  readonly at: string;
  /** Targets scanned successfully. */
  readonly targets: string[];
  readonly reaped: ReapedLine[];
  /** Roles that could not be dropped: left disabled, retried on the next run. */
  readonly failed: Array<{ target: string; role: string; error: string }>;
  /** Targets that could not be scanned at all. */
  readonly errors: Array<{ target: string; error: string }>;
  /** Roles re-issued or extended while the pass ran, or revoked meanwhile by another process: left alone. */
  readonly skipped: Array<{ target: string; role: string }>;
}

export async function reap(values: ReapValues, out: Output): Promise<number> {
  const watching = values.watch === true;
  if (!watching) {
    for (const name of ['max-sleep', 'poll', 'metrics-addr'] as const) {
      if (values[name] !== undefined) throw new UsageError(`option '--${name}' applies only with --watch`, 'reap');
    }
  }
  const maxSleepMs = secondsOption('reap', 'max-sleep', values['max-sleep'], 60);
  // Grants issued meanwhile are notified (LISTEN/NOTIFY); polling is the safety net only.
  const pollMs = secondsOption('reap', 'poll', values.poll, 30);
  const listen = values['metrics-addr'] === undefined ? undefined : parseListenAddress(values['metrics-addr']);
  const settings = catalogSettingsFrom('reap', values, out.io.env);
  if (watching) {
    // Named in the targets' pg_stat_activity, so each replica's connections can be told apart.
    const replica = replicaName();
    const open = (): Promise<Runtime> => openRuntimeFor('reap', settings, values['catalog-schema'], `adaptive-access reap ${replica}`);
    const first = await open();
    const announced: string[] = [];
    let observer: PassObserver;
    try {
      observer = await observePasses(listen, { settings, schema: values['catalog-schema'] }, (address) => announced.push(address));
    } catch (err) {
      await first.close();
      throw new CliError(`cannot serve metrics on ${values['metrics-addr']}: ${errorText(err)}`, 'Choose a free port and an address of this machine.');
    }
    return watchLoop(first, open, replica, out, { json: values.json === true, maxSleepMs, pollMs, observer, listening: announced[0] });
  }
  const runtime = await openRuntimeFor('reap', settings, values['catalog-schema']);
  try {
    return await reapOnce(runtime, out, values.json === true);
  } finally {
    await runtime.close();
  }
}

// ---------------------------------------------------------------------------------------
// Once

function toJsonReport(report: ReapReport, at: Date): ReapJsonReport {
  const failed = report.results.flatMap((r) => r.failed.map((f) => ({ target: r.target, role: f.role, error: f.error })));
  return {
    ok: failed.length === 0 && report.errors.length === 0,
    at: at.toISOString(),
    targets: report.results.map((r) => r.target),
    reaped: reapedLines(report),
    failed,
    errors: report.errors.map((e) => ({ target: e.target, error: e.error })),
    skipped: report.results.flatMap((r) => r.skipped.map((role) => ({ target: r.target, role }))),
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

async function reapOnce(runtime: Runtime, out: Output, json: boolean): Promise<number> {
  const at = new Date();
  const report = toJsonReport(await runtime.reap(), at);
  if (json) out.json(report);
  else printOnce(report, out);
  if (report.ok) return EXIT_OK;
  const parts = [
    report.failed.length > 0 ? `${plural(report.failed.length, 'expired role')} could not be dropped (left disabled)` : '',
    report.errors.length > 0 ? `${plural(report.errors.length, 'target')} could not be reaped` : '',
  ].filter(Boolean);
  throw new CliError(
    `${parts.join(' and ')}: ${[...report.failed.map((f) => `${f.target}/${f.role}: ${f.error}`), ...report.errors.map((e) => `${e.target}: ${e.error}`)][0] ?? ''}`,
    'Fix the cause shown and run reap again; what was left is retried.',
  );
}

function printOnce(report: ReapJsonReport, out: Output): void {
  const total = report.targets.length + report.errors.length;
  if (report.reaped.length > 0) {
    const rows = [
      ['TARGET', 'ROLE', 'MEMBER', 'ENDPOINT', 'EXPIRED AT'],
      ...report.reaped.map((r) => [r.target, r.role, r.member ?? '-', r.endpoint ?? '-', r.expiredAt ?? '-']),
    ];
    columns(rows).forEach((line, i) => out.line(i === 0 ? out.paint('bold', line) : line));
  }
  for (const f of report.failed) out.line(`${out.paint('red', 'FAILED')}  ${f.target}  ${f.role}: ${oneLine(f.error)}`);
  for (const e of report.errors) out.line(`${out.paint('red', 'ERROR')}   ${e.target}: ${oneLine(e.error)}`);
  const problems = [
    report.failed.length > 0 ? `${plural(report.failed.length, 'role')} could not be dropped` : '',
    report.errors.length > 0 ? `${report.errors.length} of ${plural(total, 'target')} could not be reaped` : '',
  ].filter(Boolean);
  if (problems.length === 0) {
    out.line(report.reaped.length === 0 ? `Nothing to reap on ${plural(total, 'target')}.` : `Reaped ${plural(report.reaped.length, 'expired role')} on ${plural(total, 'target')}.`);
  } else {
    const done = report.reaped.length === 0 ? 'Nothing reaped' : `Reaped ${plural(report.reaped.length, 'expired role')}`;
    out.line(`${done}; ${out.paint('red', `${problems.join('; ')}.`)}`);
  }
}
