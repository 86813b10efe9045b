/**
 * `adaptive-access reap`: finishes what VALID UNTIL starts, on every target in the catalog.
 * Once (cron, a Kubernetes CronJob) or with `--watch` (systemd, a Deployment). Every pass
 * is the runtime's `reap()` over every target, acting only on credentials the catalog
 * recorded as issued, so the catalog records each reaped role exactly as the provider's
 * own reaping does.
 *
 * Watching sleeps until the next expiry rather than polling the targets: the earliest
 * future VALID UNTIL among the catalog's live credentials on the targets, or their expiry
 * in the catalog, capped at --max-sleep. Expiries are turned into durations by the
 * servers' own clocks, so a skewed clock here neither wakes early nor sleeps late. While
 * asleep it asks the catalog (one indexed query) every --poll seconds whether a grant
 * issued meanwhile expires sooner.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ReapReport, Runtime } from '../runtime';
import { secondsOption } from './args';
import { catalogSettingsFrom, openRuntimeFor, type CatalogValues } from './catalog';
import { CliError, errorText, EXIT_OK, UsageError } from '../terminal/errors';
import { columns, oneLine, type Output } from '../terminal/output';
import { observePasses, parseListenAddress, type PassObserver } from './reaper-observability';

/** The options of `reap`, as parsed. */
export interface ReapValues extends CatalogValues {
  readonly watch?: boolean | undefined;
  readonly 'max-sleep'?: string | undefined;
  readonly poll?: string | undefined;
  readonly json?: boolean | undefined;
  readonly 'metrics-addr'?: string | undefined;
}

/** One reaped role, as reported. */
export interface ReapedLine {
  readonly target: string;
  readonly role: string;
  readonly member: string | null;
  readonly endpoint: string | null;
  readonly expiredAt: string | null;
  /** When its revocation was done (sessions ended, role dropped), by the target's clock. */
  readonly endedAt: string;
  /** Seconds from expiry to `endedAt` (same clock); null when the expiry is unknown. */
  readonly latencySeconds: number | null;
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
  /** Roles re-issued or extended while the pass ran: left alone. */
  readonly skipped: Array<{ target: string; role: string }>;
}

/** Events of `reap --watch --json`, one JSON object per line. */
export type WatchEvent =
  | { readonly event: 'started'; readonly at: string }
  /** --metrics-addr: where /metrics, /healthz and /readyz are served. */
  | { readonly event: 'listening'; readonly at: string; readonly address: string }
  | ({ readonly event: 'reaped'; readonly at: string } & ReapedLine)
  | { readonly event: 'failed'; readonly at: string; readonly target: string; readonly role: string; readonly error: string }
  /** A target (or, with target null, the catalog) could not be scanned; retried later. */
  | { readonly event: 'error'; readonly at: string; readonly target: string | null; readonly error: string }
  | { readonly event: 'sleeping'; readonly at: string; readonly until: string; readonly nextExpiry: string | null }
  | { readonly event: 'stopped'; readonly at: string; readonly signal: string };

/** Wake this long after an expiry: VALID UNTIL has microseconds, timers milliseconds. */
const WAKE_MARGIN_MS = 5;

export async function reap(values: ReapValues, out: Output): Promise<number> {
  const watching = values.watch === true;
  if (!watching) {
    for (const name of ['max-sleep', 'poll', 'metrics-addr'] as const) {
      if (values[name] !== undefined) throw new UsageError(`option '--${name}' applies only with --watch`, 'reap');
    }
  }
  const maxSleepMs = secondsOption('reap', 'max-sleep', values['max-sleep'], 60);
  const pollMs = secondsOption('reap', 'poll', values.poll, 5);
  const listen = values['metrics-addr'] === undefined ? undefined : parseListenAddress(values['metrics-addr']);
  const settings = catalogSettingsFrom('reap', values, out.io.env);
  const open = (): Promise<Runtime> => openRuntimeFor('reap', settings, values['catalog-schema']);
  if (watching) {
    const first = await open();
    const announced: string[] = [];
    let observer: PassObserver;
    try {
      observer = await observePasses(listen, { settings, schema: values['catalog-schema'] }, (address) => announced.push(address));
    } catch (err) {
      await first.close();
      throw new CliError(`cannot serve metrics on ${values['metrics-addr']}: ${errorText(err)}`, 'Choose a free port and an address of this machine.');
    }
    return watchLoop(first, open, out, { json: values.json === true, maxSleepMs, pollMs, observer, listening: announced[0] });
  }
  const runtime = await open();
  try {
    return await reapOnce(runtime, out, values.json === true);
  } finally {
    await runtime.close();
  }
}

// ---------------------------------------------------------------------------------------
// Once

function reapedLines(report: ReapReport): ReapedLine[] {
  return report.results.flatMap((r) =>
    r.reaped.map((x) => ({
      target: r.target,
      role: x.role,
      member: x.member,
      endpoint: x.endpoint,
      expiredAt: x.expiredAt?.toISOString() ?? null,
      endedAt: x.endedAt.toISOString(),
      latencySeconds: x.expiredAt === null ? null : Math.max(0, x.endedAt.getTime() - x.expiredAt.getTime()) / 1000,
    })),
  );
}

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

// ---------------------------------------------------------------------------------------
// Watch

interface WatchOptions {
  readonly json: boolean;
  readonly maxSleepMs: number;
  readonly pollMs: number;
  readonly observer: PassObserver;
  /** Where the metrics server listens, when there is one. */
  readonly listening: string | undefined;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Runs passes until SIGINT or SIGTERM. `first` is the runtime opened at start (a failure to
 * open it is the one failure that ends the command); after a pass with errors the runtime
 * is opened anew, so a target whose settings changed in the catalog meanwhile (a rotated
 * admin password, a new host) is reached with its current settings next time.
 */
async function watchLoop(first: Runtime, open: () => Promise<Runtime>, out: Output, options: WatchOptions): Promise<number> {
  let runtime: Runtime | undefined = first;
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== undefined) {
      // A second signal: the person wants out now, even in the middle of a pass.
      out.note(`${signal} again: exiting without finishing the current pass.`);
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
    }
    stoppedBy = signal;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const emit = (event: WatchEvent): void => {
    if (options.json) return out.json(event);
    printEvent(event, out);
  };
  let failures = 0;
  let reopen = false;
  try {
    emit({ event: 'started', at: new Date().toISOString() });
    if (options.listening !== undefined) emit({ event: 'listening', at: new Date().toISOString(), address: options.listening });
    while (!stop.signal.aborted) {
      let wakeAt: number;
      try {
        if (reopen && runtime) {
          reopen = false;
          const stale = runtime;
          runtime = undefined;
          await stale.close().catch(() => undefined);
        }
        runtime ??= await open();
        const report = await runtime.reap();
        options.observer.passed(report, new Date());
        const at = new Date().toISOString();
        for (const line of reapedLines(report)) emit({ event: 'reaped', at, ...line });
        for (const r of report.results) for (const f of r.failed) emit({ event: 'failed', at, target: r.target, role: f.role, error: f.error });
        for (const e of report.errors) emit({ event: 'error', at, target: e.target, error: e.error });
        // A duration by the servers' clocks, waited on ours: skew between them does not matter.
        const next = report.msUntilNextExpiry === null ? null : new Date(Date.now() + report.msUntilNextExpiry);
        wakeAt = Math.min(next === null ? Infinity : next.getTime() + WAKE_MARGIN_MS, Date.now() + options.maxSleepMs);
        emit({ event: 'sleeping', at: new Date().toISOString(), until: new Date(wakeAt).toISOString(), nextExpiry: next?.toISOString() ?? null });
        failures = 0;
        reopen = report.errors.length > 0;
      } catch (err) {
        // The catalog itself failed (unreachable, restarted): back off, up to --max-sleep.
        failures++;
        options.observer.catalogFailed();
        emit({ event: 'error', at: new Date().toISOString(), target: null, error: errorText(err) });
        await runtime?.close().catch(() => undefined);
        runtime = undefined;
        wakeAt = Date.now() + Math.min(options.maxSleepMs, options.pollMs * 2 ** Math.min(failures - 1, 10));
        emit({ event: 'sleeping', at: new Date().toISOString(), until: new Date(wakeAt).toISOString(), nextExpiry: null });
      }
      await sleepUntil(wakeAt, runtime, options.pollMs, stop.signal);
    }
    emit({ event: 'stopped', at: new Date().toISOString(), signal: stoppedBy ?? 'none' });
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await options.observer.close();
    await runtime?.close();
  }
}

/**
 * Sleeps until `wakeAt`, or until `signal` aborts; every `pollMs` asks the catalog whether
 * a grant issued meanwhile expires sooner, and if so wakes for it instead.
 */
async function sleepUntil(wakeAt: number, catalog: Pick<Runtime, 'msUntilNextExpiry'> | undefined, pollMs: number, signal: AbortSignal): Promise<void> {
  let wake = wakeAt;
  while (!signal.aborted && Date.now() < wake) {
    // Without a catalog (it failed; the next pass opens it again) there is nothing to poll.
    const step = Math.min(wake, catalog === undefined ? Infinity : Date.now() + pollMs) - Date.now();
    try {
      await delay(Math.max(0, step), undefined, { signal });
    } catch {
      return; // aborted
    }
    if (Date.now() >= wake || catalog === undefined) return;
    try {
      const ms = await catalog.msUntilNextExpiry();
      if (ms !== null && Date.now() + ms + WAKE_MARGIN_MS < wake) wake = Date.now() + ms + WAKE_MARGIN_MS;
    } catch {
      // The catalog is unreachable: the next pass reports it.
    }
  }
}

function printEvent(event: WatchEvent, out: Output): void {
  switch (event.event) {
    case 'started':
      out.note(`${event.at}  watching the targets in the catalog; stop with Ctrl-C or SIGTERM`);
      return;
    case 'listening':
      out.note(`${event.at}  metrics on http://${event.address}/metrics, probes on /healthz and /readyz`);
      return;
    case 'reaped':
      out.line(
        `${event.at}  ${out.paint('green', 'reaped')}  target=${event.target} role=${event.role} member=${event.member ?? '-'} ` +
          `endpoint=${event.endpoint ?? '-'} expired_at=${event.expiredAt ?? '-'} latency=${event.latencySeconds === null ? '-' : `${event.latencySeconds}s`}`,
      );
      return;
    case 'failed':
      out.line(`${event.at}  ${out.paint('red', 'failed')}  target=${event.target} role=${event.role}: ${oneLine(event.error)} (left disabled, retried)`);
      return;
    case 'error':
      out.line(`${event.at}  ${out.paint('red', 'error')}  ${event.target === null ? 'catalog' : `target=${event.target}`}: ${oneLine(event.error)} (retried)`);
      return;
    case 'sleeping':
      out.note(`${event.at}  next expiry ${event.nextExpiry ?? 'none known'}; sleeping until ${event.until}`);
      return;
    case 'stopped':
      out.note(`${event.at}  stopped (${event.signal})`);
      return;
  }
}
