/** Reaped roles as `reap` reports them, in its JSON and its watch events. */
import type { ReapReport } from '../runtime';

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

export function reapedLines(report: ReapReport): ReapedLine[] {
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
