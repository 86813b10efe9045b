/**
 * What `reap --watch --metrics-addr` exposes to Prometheus, with prom-client. Two kinds of
 * numbers:
 *
 * - what the passes did (reaped roles, errors, the latency from expiry to sessions ended,
 *   the last successful pass per target, leases held), recorded as the passes report them;
 * - what the catalog holds (live and expired-but-unreaped credentials per target), asked
 *   at scrape time, so the gauge stays true while a pass is stuck or the loop sleeps.
 *
 * Labels are target names and fixed reasons only: never a member, a role or an error text
 * (unbounded cardinality, and error texts may name people).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CredentialCount, ReapReport } from '../runtime';

/** Why a pass could not finish on a target, as the `reason` label says it. */
export type ReapErrorReason = 'target_failed' | 'revoke_failed' | 'catalog_unreachable';

/**
 * Seconds from a credential's expiry to the end of its revocation: buckets around the
 * issue's 2 s goal, and long ones for a reaper that was down.
 */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800];

export class ReaperMetrics {
  readonly registry = new Registry();
  readonly #reaped: Counter<'target'>;
  readonly #errors: Counter<'target' | 'reason'>;
  readonly #latency: Histogram<'target'>;
  readonly #lastSuccess: Gauge<'target'>;
  readonly #leases: Gauge;

  /** `counts` answers the catalog gauges at scrape time; a failure leaves them out of that scrape. */
  constructor(counts: () => Promise<CredentialCount[]>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'adaptive_reaper_process_' });
    this.#reaped = new Counter({ name: 'adaptive_reaper_reaped_total', help: 'Expired credentials revoked (sessions ended, role dropped).', labelNames: ['target'], registers });
    this.#errors = new Counter({
      name: 'adaptive_reaper_errors_total',
      help: 'Reap problems: a target that could not be scanned, a role that could not be dropped (left disabled, retried), the catalog unreachable.',
      labelNames: ['target', 'reason'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'adaptive_reaper_expiry_to_session_end_seconds',
      help: "From a credential's expiry to its revocation done (sessions ended, role dropped), by the target's clock.",
      labelNames: ['target'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'adaptive_reaper_last_success_timestamp_seconds',
      help: 'When a pass last finished on the target without error (Unix time).',
      labelNames: ['target'],
      registers,
    });
    this.#leases = new Gauge({ name: 'adaptive_reaper_leases_held', help: 'Targets this replica holds the lease of.', registers });
    this.#leases.set(0);
    const credentials = new Gauge({
      name: 'adaptive_reaper_credentials',
      help: "Credentials issued and not revoked, per target: state=live (valid) or state=expired_unreaped (past expiry by the catalog's clock, still to reap).",
      labelNames: ['target', 'state'],
      registers,
      async collect() {
        credentials.reset();
        let rows: CredentialCount[];
        try {
          rows = await counts();
        } catch {
          return; // The catalog is away: /healthz says so; no stale numbers here.
        }
        for (const row of rows) {
          credentials.set({ target: row.resource, state: 'live' }, row.live);
          credentials.set({ target: row.resource, state: 'expired_unreaped' }, row.expiredUnreaped);
        }
      },
    });
  }

  /** Records one pass; `at` is when it finished, on this machine's clock (for the timestamp gauge). */
  observePass(report: ReapReport, at: Date): void {
    for (const result of report.results) {
      if (result.reaped.length > 0) this.#reaped.inc({ target: result.target }, result.reaped.length);
      for (const role of result.reaped) {
        if (role.expiredAt === null) continue;
        this.#latency.observe({ target: result.target }, Math.max(0, role.endedAt.getTime() - role.expiredAt.getTime()) / 1000);
      }
      if (result.failed.length > 0) this.#errors.inc({ target: result.target, reason: 'revoke_failed' }, result.failed.length);
    }
    const failedTargets = new Set(report.errors.map((e) => e.target));
    for (const e of report.errors) this.#errors.inc({ target: e.target, reason: 'target_failed' });
    for (const result of report.results) {
      if (result.failed.length === 0 && !failedTargets.has(result.target)) this.#lastSuccess.set({ target: result.target }, at.getTime() / 1000);
    }
  }

  /** A pass that could not start: the catalog did not answer. */
  observeCatalogError(): void {
    this.#errors.inc({ target: '', reason: 'catalog_unreachable' });
  }

  setLeasesHeld(count: number): void {
    this.#leases.set(count);
  }
}
