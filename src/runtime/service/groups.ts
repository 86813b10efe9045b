/** The verbs for groups (`adaptive_group`): people given a set of endpoints, one credential per pair. */
import type { IssuedCredential } from '../access/credentials';
import { issueCredentialsInBatches } from '../access/issue-batches';
import { serverNow } from '../access/login-roles';
import { revokeCredentials, type RevokeFailure, type RevokeResult } from '../access/revoke';
import { CatalogError, type CredentialDelivery, type CredentialRecord, type EndpointRecord, type GroupDelivery } from '../catalog';
import { errorText } from '../errors';
import { failureText, groupBy, revokeAndRecord, revokeEvent, type ServiceContext } from './context';
import { deleteDelivered, deliveredAs, deliverToSecrets, secretsDelivery } from './delivery';
import { credentialView } from './group-inspection';
import {
  NotFoundError,
  pairKey,
  warn,
  type DeliveredSecret,
  type GroupApplyResult,
  type GroupInput,
  type MemberCredential,
  type PairKey,
  type ServiceWarning,
} from './model';

/** One member x endpoint the group should hold. */
interface WantedPair {
  readonly key: PairKey;
  readonly member: string;
  readonly endpoint: EndpointRecord;
}

/** What an apply of a group must do, worked out from the catalog before anything changes. */
interface GroupPlan {
  readonly members: string[];
  readonly liveByPair: Map<PairKey, CredentialRecord>;
  /** Pairs the group makes eligible (with `delivery` none, they get no standing credential). */
  readonly wantedKeys: ReadonlySet<PairKey>;
  /** Live credentials of pairs no longer wanted (standing ones), or no longer eligible (on-demand ones). */
  readonly toRevoke: CredentialRecord[];
  /** Wanted pairs the caller does not hold a credential for. */
  readonly toIssue: WantedPair[];
  /** Wanted pairs the caller holds and the catalog has live. */
  readonly kept: WantedPair[];
  /** Wanted pairs the caller holds but the catalog has no live credential for. */
  readonly lost: WantedPair[];
}

/** A credential issued by this call, on its resource, with where it was delivered. */
interface Issued {
  readonly resource: string;
  readonly credential: IssuedCredential;
  /** Set once its secret is written. */
  deliveredTo: CredentialDelivery | null;
}

/** The warning shown for an expired grant: what expired, and how to renew it. */
export function expiredWarning(c: { member: string; endpoint: string; expiresAt: Date }, group: string): string {
  return `${c.member} on ${c.endpoint} expired at ${c.expiresAt.toISOString()} (group "${group}"); renew with terraform apply -replace=<this adaptive_group>`;
}

/**
 * Makes the group's credentials match members x endpoints. `have` names the pairs whose
 * credentials the caller already holds (from Terraform state); every other wanted pair is
 * issued (replacing a catalog record whose role vanished), and live credentials of pairs no
 * longer wanted are revoked first. A member holds one credential per endpoint: a pair
 * another group holds is refused before anything changes. Issuing is one transaction per
 * target; on failure, credentials issued on other targets in this call are revoked again
 * and recorded as rolled back, so the catalog agrees with the targets.
 */
export async function applyGroup(ctx: ServiceContext, spec: GroupInput, have: ReadonlySet<PairKey>): Promise<GroupApplyResult> {
  const endpoints = await resolveEndpoints(ctx, spec.endpoints);
  const standing = await ctx.catalog.liveCredentials({ group: spec.name, kind: 'standing' });
  const onDemand = await ctx.catalog.liveCredentials({ group: spec.name, kind: 'ephemeral' });
  const plan = planGroup(spec, endpoints, standing, onDemand, have);
  await assertPairsFree(ctx, spec.name, plan.toIssue);
  const revoked = await revokeLeaving(ctx, spec.name, plan);
  const group = { name: spec.name, members: plan.members, endpoints: [...endpoints.keys()], delivery: spec.delivery ?? { mode: 'state' as const } };
  const issued = await issueAndRecord(ctx, group, plan.toIssue);
  const { kept, warnings } = await keptAndLost(ctx, spec.name, plan);
  // Only state delivery hands passwords back: the other modes keep them out of the caller's hands.
  const inState = group.delivery.mode === 'state';
  const issuedViews = await Promise.all(
    issued.map(({ resource, credential: c }) => credentialView(ctx, { ...c, expiresAt: c.validUntil, resource }, inState ? c.password : null)),
  );
  const delivered: DeliveredSecret[] = [
    ...plan.kept.flatMap((w) => secretOf(plan.liveByPair.get(w.key)!)),
    ...issued.flatMap(({ credential: c, deliveredTo }) => secretOf({ ...c, expiresAt: c.validUntil, deliveredTo })),
  ];
  return { issued: issuedViews, kept, revoked, warnings, delivered };
}

function secretOf(c: Pick<CredentialRecord, 'member' | 'endpoint' | 'expiresAt' | 'deliveredTo'>): DeliveredSecret[] {
  const arn = c.deliveredTo?.secretsManager?.arn;
  return arn ? [{ member: c.member, endpoint: c.endpoint, arn, expiresAt: c.expiresAt }] : [];
}

/** The group's endpoints from the catalog, in the order listed; `NotFoundError` for one it does not hold. */
async function resolveEndpoints(ctx: ServiceContext, names: readonly string[]): Promise<Map<string, EndpointRecord>> {
  const endpoints = new Map<string, EndpointRecord>();
  for (const name of names) {
    if (endpoints.has(name)) continue;
    const record = await ctx.catalog.getEndpoint(name);
    if (!record) throw new NotFoundError('endpoint', name);
    endpoints.set(name, record);
  }
  return endpoints;
}

/**
 * `live` are the group's standing credentials, `onDemand` its members' on-demand ones. With
 * delivery `none` no pair has a standing credential; with `secrets_manager` a held pair
 * whose credential was not delivered as the group says now (another prefix, region or
 * endpoint, or none) is issued again.
 */
function planGroup(
  spec: GroupInput,
  endpoints: Map<string, EndpointRecord>,
  live: readonly CredentialRecord[],
  onDemand: readonly CredentialRecord[],
  have: ReadonlySet<PairKey>,
): GroupPlan {
  const members = [...new Set(spec.members)];
  const wanted: WantedPair[] = [];
  for (const member of members) for (const endpoint of endpoints.values()) wanted.push({ key: pairKey(member, endpoint.name), member, endpoint });
  const wantedKeys = new Set(wanted.map((w) => w.key));
  const standing = spec.delivery?.mode === 'none' ? [] : wanted;
  const standingKeys = new Set(standing.map((w) => w.key));
  const liveByPair = new Map(live.map((c) => [pairKey(c.member, c.endpoint), c]));
  const secrets = secretsDelivery(spec.delivery);
  const held = (w: WantedPair): boolean => {
    const c = liveByPair.get(w.key);
    return have.has(w.key) && (!c || !secrets || deliveredAs(c, secrets, spec.name));
  };
  return {
    members,
    liveByPair,
    wantedKeys,
    toRevoke: [
      ...live.filter((c) => !standingKeys.has(pairKey(c.member, c.endpoint))),
      ...onDemand.filter((c) => !wantedKeys.has(pairKey(c.member, c.endpoint))),
    ],
    toIssue: standing.filter((w) => !held(w)),
    kept: standing.filter((w) => held(w) && liveByPair.has(w.key)),
    lost: standing.filter((w) => held(w) && !liveByPair.has(w.key)),
  };
}

/** Refuses pairs whose login role is held by another group's live credential. */
async function assertPairsFree(ctx: ServiceContext, group: string, pairs: readonly WantedPair[]): Promise<void> {
  for (const [endpoint, batch] of groupBy(pairs, (p) => p.endpoint.name)) {
    const members = new Set(batch.map((p) => p.member));
    const taken = (await ctx.catalog.liveCredentials({ endpoint, kind: 'standing' })).find((c) => c.group !== group && members.has(c.member));
    if (taken) {
      throw new CatalogError(
        'conflict',
        `group "${group}": member "${taken.member}" already has endpoint "${endpoint}" through group "${taken.group}" ` +
          `(login role "${taken.roleName}"); a member holds one credential per endpoint: remove them from one of the two groups`,
      );
    }
  }
}

/**
 * Revokes what left the group (first: a member removed loses access even if issuing fails),
 * and the old credential of each pair about to be issued again (role dropped by hand, or a
 * renewal) so the catalog never has two. Any failure stops the apply before issuing.
 */
async function revokeLeaving(ctx: ServiceContext, group: string, plan: GroupPlan): Promise<string[]> {
  const revoked: string[] = [];
  const failed: RevokeFailure[] = [];
  const members = new Set(plan.members);
  for (const [resource, creds] of groupBy(plan.toRevoke, (c) => c.resource)) {
    const target = await ctx.targets.get(resource);
    const reasonOf = (c: CredentialRecord): string =>
      !members.has(c.member) ? 'member removed' : plan.wantedKeys.has(pairKey(c.member, c.endpoint)) ? 'delivery changed' : 'endpoint removed';
    for (const [reason, batch] of groupBy(creds, reasonOf)) {
      const result = await revokeAndRecord(ctx, target, batch, reason);
      revoked.push(...result.revoked);
      failed.push(...result.failed);
    }
  }
  const stale = plan.toIssue.flatMap((w) => plan.liveByPair.get(w.key) ?? []);
  for (const [resource, creds] of groupBy(stale, (c) => c.resource)) {
    failed.push(...(await revokeAndRecord(ctx, await ctx.targets.get(resource), creds, 'replaced')).failed);
  }
  if (failed.length > 0) {
    throw new Error(`group "${group}": could not finish revoking ${failed.length} credential(s), so nothing was issued; apply again to retry: ${failureText(failed)}`);
  }
  return revoked;
}

/**
 * Issues the pairs, one transaction per target, records each batch as the server said (its
 * now() as the grant, its VALID UNTIL as the expiry), then records the group. On failure,
 * everything this call issued is revoked again, so a failure changes nothing.
 */
async function issueAndRecord(ctx: ServiceContext, group: GroupInput & { delivery: GroupDelivery }, toIssue: readonly WantedPair[]): Promise<Issued[]> {
  const issued: Issued[] = [];
  const secrets = secretsDelivery(group.delivery);
  try {
    for (const [resource, requests] of groupBy(toIssue, (w) => w.endpoint.resource)) {
      const target = await ctx.targets.get(resource);
      const wanted = requests.map((r) => ({
        member: r.member,
        endpoint: r.endpoint.name,
        accessRole: r.endpoint.accessRole,
        ttlSeconds: r.endpoint.ttlSeconds,
        group: group.name,
        settings: r.endpoint.sessionSettings,
      }));
      // A large group takes several transactions: each is recorded before the next starts,
      // so a failure midway leaves only recorded credentials, which the catch revokes.
      await issueCredentialsInBatches(target, wanted, async (creds) => {
        // Listed before delivering, so a failure to deliver rolls these roles back too.
        const batch: Issued[] = creds.map((credential) => ({ resource, credential, deliveredTo: null }));
        issued.push(...batch);
        if (secrets) {
          const views = await Promise.all(creds.map((c) => credentialView(ctx, { ...c, expiresAt: c.validUntil, resource }, c.password)));
          const delivered = await deliverToSecrets(secrets, group.name, creds, views);
          batch.forEach((b, i) => (b.deliveredTo = delivered[i]!));
        }
        await recordIssued(ctx, group.name, resource, batch);
      });
    }
    await ctx.catalog.putGroup({ name: group.name, members: group.members, endpoints: group.endpoints, delivery: group.delivery });
  } catch (err) {
    const notUndone = await rollBack(ctx, issued);
    if (notUndone.length === 0) throw err;
    throw new Error(
      `${errorText(err)}\nRolling back failed for ${notUndone.length} credential(s), left disabled for the reaper: ${failureText(notUndone)}`,
      { cause: err },
    );
  }
  return issued;
}

/** Records credentials just issued on `resource`, with a 'grant' audit event each, in one catalog transaction. */
async function recordIssued(ctx: ServiceContext, group: string, resource: string, batch: readonly Issued[]): Promise<void> {
  const creds = batch.map((b) => b.credential);
  await ctx.catalog.transaction(async (tx) => {
    await tx.recordIssued(
      batch.map(({ credential: c, deliveredTo }) => ({
        roleName: c.roleName,
        resource,
        endpoint: c.endpoint,
        group,
        member: c.member,
        grantedAt: c.grantedAt,
        expiresAt: c.validUntil,
        deliveredTo,
      })),
    );
    await tx.appendAudit(
      creds.map((c) => ({
        event: 'grant',
        resource,
        endpoint: c.endpoint,
        group,
        member: c.member,
        roleName: c.roleName,
        detail: { expires_at: c.validUntil.toISOString() },
      })),
    );
  });
}

/** Revokes credentials this call issued, recording them as rolled back; returns what could not be. */
async function rollBack(ctx: ServiceContext, issued: readonly Issued[]): Promise<RevokeFailure[]> {
  const notUndone: RevokeFailure[] = [];
  for (const [resource, batch] of groupBy(issued, (i) => i.resource)) {
    const names = batch.map((b) => b.credential.roleName);
    let result: RevokeResult;
    try {
      result = await revokeCredentials(await ctx.targets.get(resource), names, 'rolled back');
    } catch (err) {
      notUndone.push(...names.map((role) => ({ role, error: errorText(err) })));
      continue;
    }
    notUndone.push(...result.failed);
    // Their secrets too; a record whose secret stays is left live, so the next pass deletes it.
    const dropped = new Set(result.revoked);
    const secretsLeft = await deleteDelivered(
      batch.filter((b) => dropped.has(b.credential.roleName)).map((b) => ({ roleName: b.credential.roleName, deliveredTo: b.deliveredTo })),
    );
    notUndone.push(...secretsLeft);
    const left = new Set(secretsLeft.map((f) => f.role));
    result = { ...result, revoked: result.revoked.filter((role) => !left.has(role)) };
    if (result.revoked.length === 0) continue;
    try {
      await ctx.catalog.transaction(async (tx) => {
        const marked = await tx.markRevoked(result.revoked, 'rolled back');
        await tx.appendAudit(marked.map((c) => revokeEvent(c, 'rolled back')));
      });
    } catch (err) {
      notUndone.push(...result.revoked.map((role) => ({ role, error: `dropped, but not recorded as revoked: ${errorText(err)}` })));
    }
  }
  return notUndone;
}

/** The credentials the caller keeps, as they are now; warnings for those expired (by the target's clock) and those lost. */
async function keptAndLost(ctx: ServiceContext, group: string, plan: GroupPlan): Promise<{ kept: MemberCredential[]; warnings: ServiceWarning[] }> {
  const warnings: ServiceWarning[] = [];
  const kept: MemberCredential[] = [];
  const clocks = new Map<string, number>();
  for (const w of plan.kept) {
    const c = plan.liveByPair.get(w.key)!;
    const now = clocks.get(c.resource) ?? (await serverNow((await ctx.targets.get(c.resource)).pool)).getTime();
    clocks.set(c.resource, now);
    if (c.expiresAt.getTime() <= now) warnings.push(warn('grant expired', expiredWarning(c, group)));
    kept.push(await credentialView(ctx, c, null));
  }
  for (const w of plan.lost) {
    warnings.push(
      warn(
        'credential lost',
        `${w.member} on ${w.endpoint.name} has no live credential any more (expired and reaped, or revoked) (group "${group}"); ` +
          'renew with terraform apply -replace=<this adaptive_group>',
      ),
    );
  }
  return { kept, warnings };
}

/** Revokes every credential of the group and forgets it. */
export async function removeGroup(ctx: ServiceContext, name: string): Promise<string[]> {
  const live = await ctx.catalog.liveCredentials({ group: name });
  const revoked: string[] = [];
  const failed: RevokeFailure[] = [];
  for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
    const result = await revokeAndRecord(ctx, await ctx.targets.get(resource), creds, 'group destroyed');
    revoked.push(...result.revoked);
    failed.push(...result.failed);
  }
  if (failed.length > 0) {
    throw new Error(`could not revoke ${failed.length} credential(s) of group "${name}"; they are disabled and will be retried: ${failureText(failed)}`);
  }
  await ctx.catalog.deleteGroup(name);
  return revoked;
}
