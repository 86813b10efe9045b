/**
 * The reaper: finishes what `VALID UNTIL` starts. PostgreSQL refuses an expired password
 * on its own, but open sessions keep running and the role keeps existing; the reaper
 * revokes every expired credential (revoke.ts: disable, terminate sessions, clean up owned
 * objects in every database, drop) and retries roles a failed drop left disabled.
 *
 * It acts only on the roles its caller names as issued (the catalog's unrevoked
 * credentials of the target), and revocation refuses any of them that does not carry this
 * product's marker or looks like an admin: membership in `adaptive_managed` alone proves
 * nothing, since anyone with CREATEROLE can grant it.
 *
 * Time is the server's: "expired" means `VALID UNTIL <= now()` on the target, never this
 * process's clock, which may be skewed.
 */
import type { TargetDb } from '../types';
import { parseMetadata } from './marker';
import { revokeCredentials, type RevokeFailure } from './revoke';

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
  /**
   * The target's clock once its revocation (sessions ended, role dropped) was done: with
   * `expiredAt`, on the same clock, how long access outlived the expiry.
   */
  readonly endedAt: Date;
}

/** What one pass did on one target. */
export interface ReapResult {
  readonly target: string;
  /** The target's clock when the pass scanned it: what "expired" was measured against. */
  readonly serverNow: Date;
  readonly reaped: ReapedRole[];
  /** Left disabled for the next pass (sessions that would not end, a drop that failed), or refused. */
  readonly failed: RevokeFailure[];
  /** Re-issued or extended between the scan and the revocation, or revoked meanwhile by another process: left alone. */
  readonly skipped: string[];
}

interface CandidateRow {
  name: string;
  valid_until: Date;
  comment: string | null;
}

/**
 * One pass over one target: revokes (reason `expired`) each of the `issued` roles whose
 * `VALID UNTIL` is at or before the server's `now()`. That includes roles a previous
 * revocation left disabled, since revocation sets their `VALID UNTIL` to its own time.
 * Roles not named in `issued` are never looked at.
 */
export async function reapOnce(target: TargetDb, issued: readonly string[]): Promise<ReapResult> {
  const { rows: clock } = await target.pool.query<{ now: Date }>('select pg_catalog.statement_timestamp() as now');
  const serverNow = clock[0]!.now;
  const { rows } =
    issued.length === 0
      ? { rows: [] as CandidateRow[] }
      : await target.pool.query<CandidateRow>(
          `select r.rolname::text as name, r.rolvaliduntil as valid_until, pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
             from pg_catalog.pg_roles r
            where r.rolname = any($1::text[]) and r.rolvaliduntil <= $2
            order by r.rolvaliduntil, r.rolname`,
          [[...new Set(issued)], serverNow],
        );
  const revoked: string[] = [];
  const endedAt = new Map<string, Date>();
  const failed: RevokeFailure[] = [];
  const skipped: string[] = [];
  // Batches bound what one revocation holds at once (an advisory and a catalog lock per
  // role, in a shared lock table of max_locks_per_transaction x max_connections entries).
  for (let start = 0; start < rows.length; start += REAP_BATCH) {
    const batch = rows.slice(start, start + REAP_BATCH).map((r) => r.name);
    const result = await revokeCredentials(target, batch, EXPIRED_REASON, { onlyIfExpiredBy: serverNow });
    if (result.revoked.length > 0) {
      const { rows: after } = await target.pool.query<{ now: Date }>('select pg_catalog.clock_timestamp() as now');
      for (const role of result.revoked) endedAt.set(role, after[0]!.now);
    }
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
      endedAt: endedAt.get(role) ?? serverNow,
    };
  });
  return { target: target.name, serverNow, reaped, failed, skipped };
}

/**
 * How long until the earliest future `VALID UNTIL` among the `issued` roles, in ms by the
 * target's clock (so a caller can wait that long on its own clock, whatever its skew), or
 * null when none of them expires in the future.
 */
export async function msUntilNextExpiry(target: TargetDb, issued: readonly string[]): Promise<number | null> {
  if (issued.length === 0) return null;
  const { rows } = await target.pool.query<{ ms: number | null }>(
    `select (extract(epoch from min(r.rolvaliduntil) - pg_catalog.statement_timestamp()) * 1000)::float8 as ms
       from pg_catalog.pg_roles r
      where r.rolname = any($1::text[]) and r.rolvaliduntil > pg_catalog.statement_timestamp() and pg_catalog.isfinite(r.rolvaliduntil)`,
    [[...new Set(issued)]],
  );
  return rows[0]?.ms ?? null;
}
