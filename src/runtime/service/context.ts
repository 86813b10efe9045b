/**
 * What every verb works with: the catalog, the open admin connections to the targets (one
 * per resource name, for the process's lifetime), and the steps several verbs share
 * (revoking and recording it, grouping by target).
 */
import { revokeCredentials, type RevokeFailure, type RevokeResult } from '../access/revoke';
import type { AuditEvent, Catalog, CredentialRecord } from '../catalog';
import { openTarget, type OpenTarget } from '../connections/connect';
import type { TargetDb } from '../types';
import { deleteDelivered } from './delivery';
import { NotFoundError } from './model';

/** The open admin connections to the targets recorded in a catalog, by resource name. */
export class TargetConnections {
  private readonly open = new Map<string, Promise<OpenTarget>>();

  /**
   * `applicationName`, when given, replaces each target's own in its connections: a reaper
   * replica names itself, so whose connections reach a target can be told apart.
   */
  constructor(
    private readonly catalog: Catalog,
    private readonly applicationName?: string,
  ) {}

  /** The open admin connection to a resource recorded in the catalog. */
  get(resource: string): Promise<OpenTarget> {
    const cached = this.open.get(resource);
    if (cached) return cached;
    const opening = (async () => {
      const record = await this.catalog.getResource(resource);
      if (!record) throw new NotFoundError('resource', resource);
      return openTarget(this.applicationName === undefined ? record.target : { ...record.target, applicationName: this.applicationName });
    })();
    this.open.set(resource, opening);
    // A failed open is not cached: the next call tries again (unless it was replaced meanwhile).
    opening.catch(() => {
      if (this.open.get(resource) === opening) this.open.delete(resource);
    });
    return opening;
  }

  /** Replaces (or with no `next`, forgets) the cached connection to a resource, closing the old one. */
  async replace(resource: string, next?: OpenTarget): Promise<void> {
    const previous = this.open.get(resource);
    if (next) this.open.set(resource, Promise.resolve(next));
    else this.open.delete(resource);
    if (previous) await previous.then((t) => t.close()).catch(() => undefined);
  }

  /** Closes the connections to every target not in `keep` (a reaper replica's targets changed). */
  async closeExcept(keep: ReadonlySet<string>): Promise<void> {
    const others = [...this.open.keys()].filter((resource) => !keep.has(resource));
    await Promise.all(others.map((resource) => this.replace(resource)));
  }

  /** Closes every connection; a failure to close one is ignored. */
  async closeAll(): Promise<void> {
    const open = [...this.open.values()];
    this.open.clear();
    await Promise.all(open.map((t) => t.then((x) => x.close()).catch(() => undefined)));
  }
}

/** The catalog and the targets, as the verbs use them. */
export interface ServiceContext {
  readonly catalog: Catalog;
  /** `targets.get(resource)`: the open admin connection; `NotFoundError` when the catalog has no such resource. */
  readonly targets: TargetConnections;
}

/** `role: error; role: error` for a message. */
export function failureText(failures: readonly RevokeFailure[]): string {
  return failures.map((f) => `${f.role}: ${f.error}`).join('; ');
}

/** The 'revoke' audit event of a credential. */
export function revokeEvent(c: CredentialRecord, reason: string): AuditEvent {
  return { event: 'revoke', resource: c.resource, endpoint: c.endpoint, group: c.group, member: c.member, roleName: c.roleName, detail: { reason } };
}

/**
 * Revokes credentials on one target and records it, with a 'revoke' audit event each
 * (`detail` adds to the event's detail). Roles that failed stay disabled, recorded live; so
 * do credentials whose delivered secret could not be deleted (role dropped, secret kept).
 */
export async function revokeAndRecord(
  ctx: ServiceContext,
  target: TargetDb,
  creds: readonly CredentialRecord[],
  reason: string,
  detail: (c: CredentialRecord) => Record<string, unknown> = () => ({}),
): Promise<RevokeResult> {
  if (creds.length === 0) return { revoked: [], failed: [], skipped: [] };
  const dropped = await revokeCredentials(target, creds.map((c) => c.roleName), reason);
  // A delivered secret goes with its role; one that cannot be deleted keeps the record live, for the retry.
  const droppedNames = new Set(dropped.revoked);
  const secretsLeft = await deleteDelivered(creds.filter((c) => droppedNames.has(c.roleName)));
  const left = new Set(secretsLeft.map((f) => f.role));
  const result = {
    ...dropped,
    revoked: dropped.revoked.filter((role) => !left.has(role)),
    failed: [...dropped.failed, ...secretsLeft],
  };
  if (result.revoked.length > 0) {
    await ctx.catalog.transaction(async (tx) => {
      const marked = await tx.markRevoked(result.revoked, reason);
      await tx.appendAudit(marked.map((c) => ({ ...revokeEvent(c, reason), detail: { reason, ...detail(c) } })));
    });
  }
  return result;
}

/** `items` cut into consecutive lists of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
