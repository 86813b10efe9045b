/** The reaper verb: one pass over the credentials the catalog issued, with the catalog's bookkeeping. */
import { existingRoles } from '../access/memberships';
import { msUntilNextExpiry, reapOnce, type ReapResult } from '../access/reaper';
import type { RevokeFailure } from '../access/revoke';
import type { AuditEvent, CredentialRecord } from '../catalog';
import { errorText } from '../errors';
import type { TargetDb } from '../types';
import { failureText, revokeEvent, type ServiceContext } from './context';
import { deleteDelivered } from './delivery';
import type { ReapReport } from './model';

/**
 * One reaper pass. It acts only on credentials the catalog recorded as issued and not yet
 * revoked (including those a failed revocation left disabled, for the retry), and judges
 * expiry by each target's clock. With `targets`, only those (a reaper replica's leased
 * share; connections to other targets are closed). With `onlyRecorded`, only targets whose catalog records
 * show expired, unrevoked credentials are visited (cheap: what the provider does once per
 * apply); otherwise every target is (the CLI's `reap`, which also picks up records whose
 * expiry the catalog's clock has not reached yet but the target's has).
 */
export async function reap(
  ctx: ServiceContext,
  options: { readonly onlyRecorded?: boolean; readonly targets?: readonly string[] } = {},
): Promise<ReapReport> {
  let resources = options.onlyRecorded
    ? [...new Set((await ctx.catalog.expiredUnrevoked()).map((c) => c.resource))]
    : (await ctx.catalog.listResources()).map((r) => r.name);
  if (options.targets !== undefined) {
    // A replica's share: the others' targets are theirs, connections to them included.
    const mine = new Set(options.targets);
    resources = resources.filter((r) => mine.has(r));
    await ctx.targets.closeExcept(mine);
  }
  let next = await ctx.catalog.msUntilNextExpiry(options.targets);
  // Targets are independent (a pool each, their own catalog rows): reaping several at once
  // keeps one busy target from delaying the others' expiries.
  const outcomes = await inBatches(resources, PARALLEL_TARGETS, (resource) => reapTarget(ctx, resource));
  const results: ReapResult[] = [];
  const errors: Array<{ target: string; error: string }> = [];
  for (const outcome of outcomes) {
    if (outcome.result) results.push(outcome.result);
    errors.push(...outcome.errors);
    if (outcome.next !== null && (next === null || outcome.next < next)) next = outcome.next;
  }
  return { results, errors, msUntilNextExpiry: next };
}

/** Targets reaped at once in a pass: each holds one of its own connections meanwhile. */
const PARALLEL_TARGETS = 8;

/** One target's part of a pass: what was reaped, what failed, and its next expiry. */
interface TargetOutcome {
  readonly result?: ReapResult;
  readonly errors: Array<{ target: string; error: string }>;
  readonly next: number | null;
}

async function reapTarget(ctx: ServiceContext, resource: string): Promise<TargetOutcome> {
  try {
    const target = await ctx.targets.get(resource);
    const issued = (await ctx.catalog.liveCredentials({ resource })).map((c) => c.roleName);
    const result = await reapOnce(target, issued);
    const secretsLeft = await recordReaped(ctx, resource, target, result);
    const errors = secretsLeft.length > 0 ? [{ target: resource, error: failureText(secretsLeft) }] : [];
    return { result, errors, next: await msUntilNextExpiry(target, issued) };
  } catch (err) {
    return { errors: [{ target: resource, error: errorText(err) }], next: null };
  }
}

/** `fn` over `items`, at most `limit` at a time, results in the items' order. */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Records a pass in the catalog: reaped roles (expired ones as 'expired', roles a failed
 * revocation had left disabled as 'revoked'), and expired records whose role is already
 * gone, each with an audit event; their delivered secrets are deleted first. Returns the
 * credentials whose secret could not be deleted: left live, so the next pass tries again
 * (their role is gone, so the pass finds them among the expired records).
 */
async function recordReaped(ctx: ServiceContext, resource: string, target: TargetDb, result: ReapResult): Promise<RevokeFailure[]> {
  const now = result.serverNow;
  const reaped = new Map(result.reaped.map((r) => [r.role, r]));
  const failed = new Set(result.failed.map((f) => f.role));
  const expired = await ctx.catalog.expiredUnrevoked(now, { resource });
  const recorded = new Map<string, CredentialRecord>();
  if (reaped.size > 0) {
    for (const c of await ctx.catalog.liveCredentials({ resource })) if (reaped.has(c.roleName)) recorded.set(c.roleName, c);
  }
  // Expired records whose role no longer exists at all (dropped by hand, or reaped by another process).
  const candidates = expired.filter((c) => !failed.has(c.roleName) && !reaped.has(c.roleName)).map((c) => c.roleName);
  const present = await existingRoles(target, candidates);
  for (const c of expired) if (candidates.includes(c.roleName) && !present.has(c.roleName)) recorded.set(c.roleName, c);
  if (recorded.size === 0 && reaped.size === 0) return [];

  // Their secrets go with them; a record whose secret is still there stays live for the next pass.
  const secretsLeft = await deleteDelivered([...recorded.values()]);
  const kept = new Set(secretsLeft.map((f) => f.role));
  const isExpired = (c: CredentialRecord): boolean => c.expiresAt.getTime() <= now.getTime();
  const all = [...recorded.values()].filter((c) => !kept.has(c.roleName));
  const events: AuditEvent[] = [...new Set([...reaped.keys(), ...recorded.keys()])].filter((roleName) => !kept.has(roleName)).map((roleName) => {
    const c = recorded.get(roleName);
    const r = reaped.get(roleName);
    if (c && !isExpired(c)) return { ...revokeEvent(c, 'revoked'), detail: { reason: 'revoked', completed_by: 'reaper' } };
    return {
      event: 'expire',
      resource,
      roleName,
      ...(c ? { member: c.member, endpoint: c.endpoint, group: c.group } : {}),
      ...(!c && r?.member ? { member: r.member } : {}),
      ...(!c && r?.endpoint ? { endpoint: r.endpoint } : {}),
      detail: { expired_at: (c?.expiresAt ?? r?.expiredAt ?? now).toISOString(), role_dropped: r !== undefined },
    };
  });
  await ctx.catalog.transaction(async (tx) => {
    const marked = new Set(
      [
        ...(await tx.markRevoked(all.filter(isExpired).map((c) => c.roleName), 'expired', { at: now })),
        ...(await tx.markRevoked(all.filter((c) => !isExpired(c)).map((c) => c.roleName), 'revoked', { at: now })),
      ].map((c) => c.roleName),
    );
    // Another reaper may record the same records at the same time (it dropped the roles this
    // pass found gone): the event goes with the transaction that marked the record.
    await tx.appendAudit(events.filter(({ roleName = '' }) => !recorded.has(roleName) || marked.has(roleName)));
  });
  return secretsLeft;
}
