/**
 * Concurrency control for DDL on a target. Two applies (or an apply and the reaper) that
 * touch the same roles must never fail with "tuple concurrently updated" or deadlock:
 *
 * - `lockKeys` are transaction-scoped advisory locks in our own namespace (the first key
 *   half is fixed), always taken in sorted order so two transactions cannot wait on each
 *   other in a cycle;
 * - `withRetry` re-runs a whole transaction on serialization failure (40001), deadlock
 *   (40P01) and internal error XX000 (how "tuple concurrently updated" surfaces), with
 *   bounded, jittered backoff.
 */
import type { ClientBase } from 'pg';

/** First half of every advisory lock key: "adaptive-access" namespace. */
export const LOCK_NAMESPACE = 0x41444150; // "ADAP"

/** A stable 32-bit signed key for a lock name (FNV-1a). */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * Takes transaction-scoped advisory locks for the given names, in a fixed (sorted) order.
 * Must be called inside a transaction; the locks are released at COMMIT or ROLLBACK.
 */
export async function lockKeys(client: ClientBase, names: readonly string[]): Promise<void> {
  const keys = [...new Set(names.map(lockKey))].sort((a, b) => a - b);
  for (const key of keys) {
    await client.query('select pg_catalog.pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, key]);
  }
}

const RETRYABLE = new Set(['40001', '40P01', 'XX000']);

export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE.has(code)) return true;
  return err instanceof Error && /tuple concurrently (updated|deleted)/.test(err.message);
}

export interface RetryOptions {
  readonly attempts?: number;
  readonly baseDelayMs?: number;
}

/**
 * Runs `fn` again when it fails with a retryable error. `fn` must be a whole transaction
 * (BEGIN ... COMMIT) so that a retry starts clean.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseDelayMs ?? 20;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      const delay = base * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * BEGIN; fn; COMMIT on one client, ROLLBACK on any error; retried as a whole on retryable
 * errors.
 */
export async function transaction<T>(client: ClientBase, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return withRetry(async () => {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }, options);
}
