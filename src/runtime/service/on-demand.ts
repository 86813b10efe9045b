/**
 * On-demand credentials: one eligible member, one endpoint, a login role of its own for as
 * long as the caller needs it (Terraform's `ephemeral "adaptive_credential"`, the CLI's
 * `credential` command). Eligibility is the catalog's: a group listing both the member and
 * the endpoint. The credential is recorded like a group's (kind `ephemeral`), so the
 * reaper revokes it at expiry when its caller never comes back to close it.
 */
import { randomBytes } from 'node:crypto';
import { extendCredentials, issueCredentials, loginRoleName, MAX_ROLE_NAME_BYTES } from '../access/credentials';
import { serverNow } from '../access/login-roles';
import { revokeCredentials } from '../access/revoke';
import { CatalogError, type CredentialRecord, type EndpointRecord, type GroupRecord } from '../catalog';
import { nameList } from '../catalog/errors';
import { errorText } from '../errors';
import { ValidationError } from '../types';
import { normaliseMember } from '../validation/members';
import { formatTtl } from '../validation/ttl';
import { revokeAndRecord, type ServiceContext } from './context';
import { credentialView } from './group-inspection';
import { NotFoundError, type IssueCredentialRequest, type OnDemandCredential, type RenewCredentialRequest, type RenewCredentialResponse } from './model';

/** The ttl of an on-demand credential when none is asked for: 15 minutes, or the endpoint's if shorter. */
export const DEFAULT_ON_DEMAND_TTL_SECONDS = 900;

/** Random bytes in an on-demand role's suffix (hex: twice as many characters). */
const SUFFIX_BYTES = 4;

/**
 * The login role of one on-demand credential: the member's standing role name, cut to
 * fit, then `#` and random hex. Standing names never hold `#` (readable ones use
 * `[A-Za-z0-9@._+/-]`, hashed ones add `~`), so the two never meet; two on-demand ones of
 * the same pair differ in their suffix (and the catalog refuses a live duplicate).
 */
export function onDemandRoleName(member: string, endpoint: string): string {
  const suffix = `#${randomBytes(SUFFIX_BYTES).toString('hex')}`;
  // Standing names are ASCII, so characters are bytes.
  return loginRoleName(member, endpoint).slice(0, MAX_ROLE_NAME_BYTES - suffix.length) + suffix;
}

/**
 * Issues an eligible member a credential of their own on an endpoint (see
 * `Runtime.issueCredential`): the target first, then the catalog; if recording fails, the
 * role is revoked again, so a failure leaves nothing.
 */
export async function issueOnDemand(ctx: ServiceContext, request: IssueCredentialRequest): Promise<OnDemandCredential> {
  const member = normaliseMember(request.member);
  const endpoint = await ctx.catalog.getEndpoint(request.endpoint);
  if (!endpoint) throw new NotFoundError('endpoint', request.endpoint);
  const group = await eligibleGroup(ctx, member, endpoint.name, request.group);
  const ttlSeconds = onDemandTtl(request.ttlSeconds, endpoint);
  const roleName = onDemandRoleName(member, endpoint.name);
  const target = await ctx.targets.get(endpoint.resource);
  const [issued] = await issueCredentials(target, [
    {
      member,
      endpoint: endpoint.name,
      accessRole: endpoint.accessRole,
      ttlSeconds,
      group: group.name,
      comment: 'on demand',
      roleName,
      settings: endpoint.sessionSettings,
    },
  ]);
  if (!issued) throw new Error('issuing returned no credential');
  const notAfter = new Date(issued.grantedAt.getTime() + endpoint.ttlSeconds * 1000);
  try {
    await ctx.catalog.transaction(async (tx) => {
      await tx.recordIssued([
        {
          roleName,
          resource: endpoint.resource,
          endpoint: endpoint.name,
          group: group.name,
          member,
          grantedAt: issued.grantedAt,
          expiresAt: issued.validUntil,
          kind: 'ephemeral',
          notAfter,
        },
      ]);
      await tx.appendAudit([
        {
          event: 'grant.ephemeral',
          resource: endpoint.resource,
          endpoint: endpoint.name,
          group: group.name,
          member,
          roleName,
          detail: { expires_at: issued.validUntil.toISOString(), not_after: notAfter.toISOString(), ...(request.via ? { via: request.via } : {}) },
        },
      ]);
    });
  } catch (err) {
    await undoIssue(ctx, endpoint.resource, roleName, err);
  }
  const view = await credentialView(ctx, { ...issued, resource: endpoint.resource, expiresAt: issued.validUntil }, issued.password);
  return { ...view, password: issued.password, roleName, group: group.name, grantedAt: issued.grantedAt, notAfter };
}

/**
 * The first group (by name; only `only` when given) that lists both; a `ValidationError`
 * naming the groups that list the endpoint otherwise.
 */
async function eligibleGroup(ctx: ServiceContext, member: string, endpoint: string, only: string | undefined): Promise<GroupRecord> {
  const groups = await ctx.catalog.groupsUsingEndpoint(endpoint);
  const group = groups.find((g) => (only === undefined || g.name === only) && g.members.some((m) => m.toLowerCase() === member));
  if (group) return group;
  if (only !== undefined) {
    const listed = groups.some((g) => g.name === only);
    throw new ValidationError([
      {
        field: listed ? 'member' : 'group',
        message: listed
          ? `"${member}" is not a member of group "${only}"`
          : `group "${only}" does not list endpoint "${endpoint}" (or is not in the catalog); ${groups.length === 0 ? `no group lists it` : `the group(s) that do are ${nameList(groups.map((g) => g.name))}`}`,
      },
    ]);
  }
  const which =
    groups.length === 0
      ? `no adaptive_group lists endpoint "${endpoint}"`
      : `the group(s) that list endpoint "${endpoint}" are ${nameList(groups.map((g) => g.name))}`;
  throw new ValidationError([
    { field: 'member', message: `"${member}" is not a member of any group that has endpoint "${endpoint}": ${which}; add them to one of those groups` },
  ]);
}

/** The ttl asked for, checked against the endpoint's; the default when none is. */
function onDemandTtl(asked: number | undefined, endpoint: EndpointRecord): number {
  if (asked === undefined) return Math.min(DEFAULT_ON_DEMAND_TTL_SECONDS, endpoint.ttlSeconds);
  if (!Number.isInteger(asked) || asked < 1) {
    throw new ValidationError([{ field: 'ttl', message: `must be a whole number of seconds, at least 1 (got ${String(asked)})` }]);
  }
  if (asked > endpoint.ttlSeconds) {
    throw new ValidationError([
      { field: 'ttl', message: `${formatTtl(asked)} is longer than endpoint "${endpoint.name}" allows (ttl ${formatTtl(endpoint.ttlSeconds)}); ask for at most that` },
    ]);
  }
  return asked;
}

/** Revokes a role just issued whose recording failed, and throws what explains it. */
async function undoIssue(ctx: ServiceContext, resource: string, roleName: string, cause: unknown): Promise<never> {
  let undo = '';
  try {
    const result = await revokeCredentials(await ctx.targets.get(resource), [roleName], 'rolled back');
    if (result.failed.length > 0) undo = `; rolling back failed, the role is left disabled for the reaper: ${result.failed.map((f) => f.error).join('; ')}`;
  } catch (err) {
    undo = `; rolling back failed, the role is left disabled for the reaper: ${errorText(err)}`;
  }
  throw new Error(`could not record the credential, so it was not issued: ${errorText(cause)}${undo}`, { cause });
}

/** The live on-demand credential of a role, if any. */
async function liveOnDemand(ctx: ServiceContext, roleName: string): Promise<CredentialRecord | undefined> {
  const [record] = await ctx.catalog.liveCredentials({ roleName, kind: 'ephemeral' });
  return record;
}

/**
 * Moves an on-demand credential's expiry to the server's now() + ttl, capped at its
 * notAfter and at its grant + the endpoint's ttl today (lowered since?).
 */
export async function renewOnDemand(ctx: ServiceContext, request: RenewCredentialRequest): Promise<RenewCredentialResponse> {
  const record = await liveOnDemand(ctx, request.roleName);
  if (!record) throw new CatalogError('gone', `no live on-demand credential "${request.roleName}": it was revoked or reaped; open a new one`);
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 1) {
    throw new ValidationError([{ field: 'ttl', message: `must be a whole number of seconds, at least 1 (got ${String(request.ttlSeconds)})` }]);
  }
  const endpoint = await ctx.catalog.getEndpoint(record.endpoint);
  const limits = [record.notAfter?.getTime() ?? record.expiresAt.getTime()];
  if (endpoint) limits.push(record.grantedAt.getTime() + endpoint.ttlSeconds * 1000);
  const limit = Math.min(...limits);
  const target = await ctx.targets.get(record.resource);
  const now = (await serverNow(target.pool)).getTime();
  const wanted = Math.min(now + request.ttlSeconds * 1000, limit);
  if (wanted <= record.expiresAt.getTime()) return { expiresAt: record.expiresAt, atLimit: record.expiresAt.getTime() >= limit };
  const expiresAt = new Date(wanted);
  const result = await extendCredentials(target, [record.roleName], expiresAt);
  if (result.extended.length === 0) {
    const why = result.skipped[0]?.reason ?? 'not extended';
    throw new CatalogError('gone', `on-demand credential "${record.roleName}" cannot be renewed: ${why}; open a new one`);
  }
  await ctx.catalog.transaction(async (tx) => {
    await tx.extend([record.roleName], expiresAt);
    await tx.appendAudit([
      {
        event: 'extend',
        resource: record.resource,
        endpoint: record.endpoint,
        group: record.group,
        member: record.member,
        roleName: record.roleName,
        detail: { expires_at: expiresAt.toISOString(), previous_expires_at: record.expiresAt.toISOString(), renewal: true },
      },
    ]);
  });
  return { expiresAt, atLimit: wanted >= limit };
}

/** Revokes an on-demand credential at once (see `Runtime.revokeCredential`); nothing to do when it is already gone. */
export async function revokeOnDemand(ctx: ServiceContext, roleName: string, reason: string): Promise<void> {
  const record = await liveOnDemand(ctx, roleName);
  if (!record) return;
  const result = await revokeAndRecord(ctx, await ctx.targets.get(record.resource), [record], reason);
  if (result.failed.length > 0) {
    throw new Error(`could not finish revoking "${roleName}" (login is disabled; the reaper retries): ${result.failed.map((f) => f.error).join('; ')}`);
  }
}
