/**
 * `adaptive-access reap --watch`: passes until SIGINT or SIGTERM, as one of any number of
 * replicas sharing the catalog's targets.
 *
 * - Replicas: every LEASE_TICK_MS a lease round (the runtime's `renewReaperLeases`) keeps
 *   this replica's share of the targets; a pass visits only those, and only this replica
 *   connects to them. A replica that dies or loses the catalog stops renewing, its leases
 *   lapse after LEASE_MS, and the next round of another replica takes them and wakes it
 *   for a pass at once. A replica whose process ended is seen at once (its listening
 *   connection holds a presence lock), so its targets are taken without waiting for the
 *   lapse. On SIGINT/SIGTERM the leases are released, for an immediate takeover.
 * - Wake-ups: after a pass it sleeps until the next expiry among its targets (by the
 *   servers' clocks, so skew here does not matter), at most --max-sleep. A grant issued,
 *   extended or revoked by any process is notified through the catalog (LISTEN/NOTIFY) and
 *   the next expiry is asked again at once; --poll is the safety net when the notification
 *   connection is down.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { CredentialListener, Runtime } from '../runtime';
import { errorText, EXIT_OK } from '../terminal/errors';
import { oneLine, type Output } from '../terminal/output';
import { reapedLines, type ReapedLine } from './reap-lines';
import type { PassObserver } from './reaper-observability';

/** Events of `reap --watch --json`, one JSON object per line. */
export type WatchEvent =
  | { readonly event: 'started'; readonly at: string; readonly replica: string }
  /** --metrics-addr: where /metrics, /healthz and /readyz are served. */
  | { readonly event: 'listening'; readonly at: string; readonly address: string }
  /** The targets this replica holds changed (a replica came or went). */
  | { readonly event: 'leases'; readonly at: string; readonly held: string[]; readonly replicas: number }
  | ({ readonly event: 'reaped'; readonly at: string } & ReapedLine)
  | { readonly event: 'failed'; readonly at: string; readonly target: string; readonly role: string; readonly error: string }
  /** A target (or, with target null, the catalog) could not be scanned; retried later. */
  | { readonly event: 'error'; readonly at: string; readonly target: string | null; readonly error: string }
  | { readonly event: 'sleeping'; readonly at: string; readonly until: string; readonly nextExpiry: string | null }
  | { readonly event: 'stopped'; readonly at: string; readonly signal: string };

/** How long a lease lasts unless renewed, and how often it is renewed. */
const LEASE_MS = 1000;
const LEASE_TICK_MS = 250;
/**
 * After a catalog failure: retry after half a second, doubling up to 30 s (or --max-sleep),
 * so a blip costs moments, not a --poll interval, and an outage is not hammered.
 */
const CATALOG_RETRY_FIRST_MS = 500;
const CATALOG_RETRY_MAX_MS = 30_000;
/** Wake this long after an expiry: VALID UNTIL has microseconds, timers milliseconds. */
const WAKE_MARGIN_MS = 5;

export interface WatchOptions {
  readonly json: boolean;
  readonly maxSleepMs: number;
  readonly pollMs: number;
  readonly observer: PassObserver;
  /** Where the metrics server listens, when there is one. */
  readonly listening: string | undefined;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/** This replica's name: unique among running ones, readable in pg_stat_activity and logs. */
export function replicaName(): string {
  return `${os.hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/** Why a sleep ended early. */
type Ring = 'changed' | 'leases';

/** Wakes the watcher early: a credential changed somewhere, or it gained targets. */
class Alarm {
  #waiting: ((ring: Ring) => void) | undefined;
  #pending: Ring | undefined;

  ring(ring: Ring): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(ring);
    else if (this.#pending !== 'leases') this.#pending = ring;
  }

  /** Resolves with the ring, or 'timeout' after `ms`, or 'aborted'. */
  wait(ms: number, signal: AbortSignal): Promise<Ring | 'timeout' | 'aborted'> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) return Promise.resolve(pending);
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const done = (result: Ring | 'timeout' | 'aborted'): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiting = undefined;
        resolve(result);
      };
      const onAbort = (): void => done('aborted');
      const timer = setTimeout(() => done('timeout'), Math.max(0, ms));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting = done;
    });
  }
}

/** The lease rounds, on their own timer so a long pass does not let the leases lapse. */
class LeaseKeeper {
  /** Held targets, by name; undefined until the first round has answered. */
  held: string[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(
    private readonly holder: string,
    private readonly runtime: () => Runtime | undefined,
    /** `later`: not the first round (whose pass is next anyway). */
    private readonly changed: (held: string[], replicas: number, later: boolean) => void,
  ) {}

  /** One round now; a failure (the catalog) is the pass's to report. Resolves when done. */
  async round(): Promise<void> {
    const runtime = this.runtime();
    if (runtime === undefined || this.#busy) return;
    this.#busy = true;
    try {
      const { held, replicas } = await runtime.renewReaperLeases({ holder: this.holder, leaseMs: LEASE_MS });
      const before = this.held;
      this.held = held;
      if (before === undefined || before.join('\n') !== held.join('\n')) {
        this.changed(held, replicas, before !== undefined);
      }
    } catch {
      // The catalog did not answer: past LEASE_MS the leases are gone anyway.
    } finally {
      this.#busy = false;
    }
  }

  /** Starts the rounds' timer; once (later calls do nothing). */
  start(): void {
    this.#timer ??= setInterval(() => void this.round(), LEASE_TICK_MS);
  }

  /** The catalog was lost: what it held has lapsed or will have; the next round says anew. */
  forget(): void {
    this.held = undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.runtime()
      ?.releaseReaperLeases(this.holder)
      .catch(() => undefined);
  }
}

/**
 * Runs passes until SIGINT or SIGTERM. `first` is the runtime opened at start (a failure to
 * open it is the one failure that ends the command); after a pass with errors the runtime
 * is opened anew, so a target whose settings changed in the catalog meanwhile (a rotated
 * admin password, a new host) is reached with its current settings next time.
 */
export async function watchLoop(first: Runtime, open: () => Promise<Runtime>, holder: string, out: Output, options: WatchOptions): Promise<number> {
  let runtime: Runtime | undefined = first;
  const stop = stopOnSignals(out);

  const emit = (event: WatchEvent): void => {
    if (options.json) return out.json(event);
    printEvent(event, out);
  };
  const alarm = new Alarm();
  const leases = new LeaseKeeper(
    holder,
    () => runtime,
    (held, replicas, later) => {
      options.observer.leasesHeld(held.length);
      emit({ event: 'leases', at: new Date().toISOString(), held, replicas });
      // A pass now: gained targets may have expiries waiting; given-up ones get their connections closed.
      if (later) alarm.ring('leases');
    },
  );
  let listener: CredentialListener | undefined;
  let failures = 0;
  let reopen = false;
  try {
    emit({ event: 'started', at: new Date().toISOString(), replica: holder });
    if (options.listening !== undefined) emit({ event: 'listening', at: new Date().toISOString(), address: options.listening });
    while (!stop.signal.aborted) {
      let wakeAt: number;
      try {
        if (reopen && runtime) {
          reopen = false;
          const stale = runtime;
          runtime = undefined;
          await listener?.close();
          listener = undefined;
          await stale.close().catch(() => undefined);
        }
        runtime ??= await open();
        listener ??= await runtime.listenForCredentialChanges(
          () => alarm.ring('changed'),
          () => {
            // Listened for again before the next pass; meanwhile --poll covers.
            listener = undefined;
          },
          { presenceOf: holder },
        );
        // Lease rounds only once present: before, the others would take this replica for dead.
        leases.start();
        if (leases.held === undefined) await leases.round();
        const done = await pass(runtime, leases.held ?? [], emit, options);
        wakeAt = done.wakeAt;
        failures = 0;
        reopen = done.targetErrors;
      } catch (err) {
        // The catalog itself failed (unreachable, restarted): back off, up to --max-sleep.
        failures++;
        options.observer.catalogFailed();
        leases.forget();
        options.observer.leasesHeld(0);
        emit({ event: 'error', at: new Date().toISOString(), target: null, error: errorText(err) });
        await listener?.close();
        listener = undefined;
        await runtime?.close().catch(() => undefined);
        runtime = undefined;
        wakeAt = Date.now() + Math.min(options.maxSleepMs, CATALOG_RETRY_MAX_MS, CATALOG_RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 10));
        emit({ event: 'sleeping', at: new Date().toISOString(), until: new Date(wakeAt).toISOString(), nextExpiry: null });
      }
      await sleepUntil(wakeAt, { runtime, targets: () => leases.held, alarm, pollMs: options.pollMs, signal: stop.signal });
    }
    emit({ event: 'stopped', at: new Date().toISOString(), signal: stop.stoppedBy() ?? 'none' });
    return EXIT_OK;
  } finally {
    stop.dispose();
    await leases.stop();
    await listener?.close();
    await options.observer.close();
    await runtime?.close();
  }
}

/**
 * SIGINT or SIGTERM aborts `signal`: the loop ends after the current pass. A second one
 * exits at once (the person wants out now, even in the middle of a pass).
 */
function stopOnSignals(out: Output): { signal: AbortSignal; stoppedBy(): NodeJS.Signals | undefined; dispose(): void } {
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== undefined) {
      out.note(`${signal} again: exiting without finishing the current pass.`);
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
    }
    stoppedBy = signal;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    stoppedBy: () => stoppedBy,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** One pass over this replica's targets, reported; when to wake, and whether a target failed. */
async function pass(
  runtime: Runtime,
  targets: string[],
  emit: (event: WatchEvent) => void,
  options: WatchOptions,
): Promise<{ wakeAt: number; targetErrors: boolean }> {
  const report = await runtime.reap({ targets });
  options.observer.passed(report, new Date());
  const at = new Date().toISOString();
  for (const line of reapedLines(report)) emit({ event: 'reaped', at, ...line });
  for (const r of report.results) for (const f of r.failed) emit({ event: 'failed', at, target: r.target, role: f.role, error: f.error });
  for (const e of report.errors) emit({ event: 'error', at, target: e.target, error: e.error });
  // A duration by the servers' clocks, waited on ours: skew between them does not matter.
  const next = report.msUntilNextExpiry === null ? null : new Date(Date.now() + report.msUntilNextExpiry);
  const wakeAt = Math.min(next === null ? Infinity : next.getTime() + WAKE_MARGIN_MS, Date.now() + options.maxSleepMs);
  emit({ event: 'sleeping', at: new Date().toISOString(), until: new Date(wakeAt).toISOString(), nextExpiry: next?.toISOString() ?? null });
  return { wakeAt, targetErrors: report.errors.length > 0 };
}

interface Sleep {
  /** Undefined after a catalog failure: nothing to ask until the next pass opens it again. */
  readonly runtime: Runtime | undefined;
  readonly targets: () => string[] | undefined;
  readonly alarm: Alarm;
  readonly pollMs: number;
  readonly signal: AbortSignal;
}

/**
 * Sleeps until `wakeAt`. A notified change, and every `pollMs` without one, asks the
 * catalog whether a grant issued meanwhile expires sooner, and if so wakes for it instead;
 * a change of leases wakes at once (gained targets may have expiries waiting, and the
 * connections to given-up ones are closed by the pass).
 */
async function sleepUntil(wakeAt: number, sleep: Sleep): Promise<void> {
  let wake = wakeAt;
  while (!sleep.signal.aborted && Date.now() < wake) {
    const step = Math.min(wake, sleep.runtime === undefined ? Infinity : Date.now() + sleep.pollMs) - Date.now();
    const ring = await sleep.alarm.wait(step, sleep.signal);
    if (ring === 'aborted' || ring === 'leases') return;
    if (Date.now() >= wake || sleep.runtime === undefined) return;
    try {
      const ms = await sleep.runtime.msUntilNextExpiry({ targets: sleep.targets() ?? [] });
      if (ms !== null && Date.now() + ms + WAKE_MARGIN_MS < wake) wake = Date.now() + ms + WAKE_MARGIN_MS;
    } catch {
      // The catalog is unreachable: the next pass reports it.
    }
  }
}

function printEvent(event: WatchEvent, out: Output): void {
  switch (event.event) {
    case 'started':
      out.note(`${event.at}  watching the targets in the catalog as replica ${event.replica}; stop with Ctrl-C or SIGTERM`);
      return;
    case 'listening':
      out.note(`${event.at}  metrics on http://${event.address}/metrics, probes on /healthz and /readyz`);
      return;
    case 'leases':
      out.note(`${event.at}  holding ${event.held.length} target(s) of the catalog, ${event.replicas} replica(s) running: ${event.held.join(', ') || '-'}`);
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
