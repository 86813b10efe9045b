/**
 * The reaper: finishes what `VALID UNTIL` starts. PostgreSQL refuses an expired password
 * on its own, but open sessions keep running and the role keeps existing; the reaper
 * revokes every expired managed role (revoke.ts: disable, terminate sessions, clean up
 * owned objects in every database, drop) and retries roles a failed drop left disabled.
 *
 * `watch` wakes at the next expiry rather than polling: after each pass it sets one timer
 * for the earliest future `VALID UNTIL` among managed roles, capped at `maxSleepMs` so that
 * roles issued meanwhile (by another process) are discovered.
 */
import type { TargetDb } from '../types';
import { MANAGED_ROLE, parseMetadata } from './credentials';
import { describeError, revokeCredentials, type RevokeFailure } from './revoke';

/** Most roles revoked in one batch. */
const REAP_BATCH = 500;

/** Recorded in a reaped role's comment (and the audit log) as the revocation reason. */
export const EXPIRED_REASON = 'expired';

/** One role the reaper revoked, with what its comment said about it. */
export interface ReapedRole {
  readonly role: string;
  readonly member: string | null;
  readonly endpoint: string | null;
  /** Its `VALID UNTIL` when the reaper found it. */
  readonly expiredAt: Date | null;
}

/** What one pass did on one target. */
export interface ReapResult {
  readonly target: string;
  readonly reaped: ReapedRole[];
  /** Left disabled for the next pass (sessions that would not end, a drop that failed). */
  readonly failed: RevokeFailure[];
  /** Re-issued or extended between the scan and the revocation: left alone. */
  readonly skipped: string[];
}

interface CandidateRow {
  name: string;
  valid_until: Date;
  comment: string | null;
}

const MANAGED = `exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                         where m.member = r.oid and g.rolname = $1)`;

/**
 * One pass over one target: revokes (reason `expired`) every managed role whose
 * `VALID UNTIL` is at or before `now`. That includes roles a previous revocation left
 * disabled, since revocation sets their `VALID UNTIL` to its own time.
 */
export async function reapOnce(target: TargetDb, now: Date = new Date()): Promise<ReapResult> {
  const { rows } = await target.pool.query<CandidateRow>(
    `select r.rolname::text as name, r.rolvaliduntil as valid_until, pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
       from pg_catalog.pg_roles r
      where r.rolvaliduntil <= $2 and ${MANAGED}
      order by r.rolvaliduntil, r.rolname`,
    [MANAGED_ROLE, now],
  );
  const revoked: string[] = [];
  const failed: RevokeFailure[] = [];
  const skipped: string[] = [];
  // Batches bound what one revocation holds at once (an advisory and a catalog lock per
  // role, in a shared lock table of max_locks_per_transaction x max_connections entries).
  for (let start = 0; start < rows.length; start += REAP_BATCH) {
    const batch = rows.slice(start, start + REAP_BATCH).map((r) => r.name);
    const result = await revokeCredentials(target, batch, EXPIRED_REASON, { onlyIfExpiredBy: now });
    revoked.push(...result.revoked);
    failed.push(...result.failed);
    skipped.push(...result.skipped);
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  const reaped = revoked.map((role): ReapedRole => {
    const row = byName.get(role);
    const metadata = parseMetadata(row?.comment);
    return {
      role,
      member: typeof metadata?.member === 'string' ? metadata.member : null,
      endpoint: typeof metadata?.endpoint === 'string' ? metadata.endpoint : null,
      expiredAt: row?.valid_until instanceof Date ? row.valid_until : null,
    };
  });
  return { target: target.name, reaped, failed, skipped };
}

/** The earliest `VALID UNTIL` after `now` among managed roles, or null when there is none. */
export async function nextExpiry(target: TargetDb, now: Date = new Date()): Promise<Date | null> {
  const { rows } = await target.pool.query<{ next: Date | null }>(
    `select pg_catalog.min(r.rolvaliduntil) as next
       from pg_catalog.pg_roles r
      where r.rolvaliduntil > $2 and pg_catalog.isfinite(r.rolvaliduntil) and ${MANAGED}`,
    [MANAGED_ROLE, now],
  );
  return rows[0]?.next ?? null;
}

/** What `watch` reports, for the CLI's output and the audit log. */
export type ReaperEvent =
  | ({ readonly type: 'reaped'; readonly target: string; readonly at: Date } & ReapedRole)
  | { readonly type: 'failed'; readonly target: string; readonly role: string; readonly error: string; readonly at: Date }
  /** A target could not be scanned at all (unreachable, permission denied). */
  | { readonly type: 'error'; readonly target: string; readonly error: string; readonly at: Date }
  | { readonly type: 'sleeping'; readonly until: Date; readonly nextExpiry: Date | null; readonly at: Date };

/** How `watch` runs. */
export interface WatchOptions {
  /** Stops the loop; `watch` resolves promptly, also in the middle of a sleep. */
  readonly signal: AbortSignal;
  /** Called synchronously for each event; an exception from it ends `watch` with that error. */
  readonly onEvent?: (event: ReaperEvent) => void;
  /** Longest sleep, so that roles issued by others are noticed; default one minute. */
  readonly maxSleepMs?: number;
}

/**
 * Reaps the targets until `signal` aborts: a pass over every target (in parallel), then a
 * sleep until the earliest next expiry across them (capped at `maxSleepMs`), and again.
 * Failures are reported as events and retried on a later pass; they never end the loop.
 */
export async function watch(targets: readonly TargetDb[], options: WatchOptions): Promise<void> {
  const { signal } = options;
  const maxSleepMs = options.maxSleepMs ?? 60_000;
  if (!(maxSleepMs > 0)) throw new RangeError('maxSleepMs must be positive');
  const emit = (event: ReaperEvent): void => options.onEvent?.(event);

  while (!signal.aborted) {
    const passes = await Promise.all(
      targets.map(async (target) => {
        try {
          const result = await reapOnce(target);
          const next = await nextExpiry(target);
          return { target, result, next, error: undefined };
        } catch (err) {
          return { target, result: undefined, next: null, error: describeError(err) };
        }
      }),
    );
    let earliest: Date | null = null;
    for (const pass of passes) {
      const at = new Date();
      if (pass.error !== undefined) emit({ type: 'error', target: pass.target.name, error: pass.error, at });
      for (const r of pass.result?.reaped ?? []) emit({ type: 'reaped', target: pass.target.name, at, ...r });
      for (const f of pass.result?.failed ?? []) emit({ type: 'failed', target: pass.target.name, role: f.role, error: f.error, at });
      if (pass.next && (earliest === null || pass.next < earliest)) earliest = pass.next;
    }
    if (signal.aborted) break;
    const now = Date.now();
    const wakeAt = new Date(Math.min(earliest?.getTime() ?? Infinity, now + maxSleepMs));
    emit({ type: 'sleeping', until: wakeAt, nextExpiry: earliest, at: new Date(now) });
    await sleepUntil(wakeAt, signal);
  }
}

/** Resolves at `at` (a timer set for that instant), or at once when `signal` aborts. */
function sleepUntil(at: Date, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, at.getTime() - Date.now()));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
