/** Reading a group back: its credentials as recorded, checked against the targets. */
import { listManagedRoles, loginRoleName, type ManagedRole } from '../access/credentials';
import { serverNow } from '../access/login-roles';
import type { AuditRecord, EndpointRecord } from '../catalog';
import { groupBy, type ServiceContext } from './context';
import { TTL_LOWERED } from './endpoints';
import { pairKey, type GroupInspection, type MemberCredential, type MissingCredential } from './model';

/** What a credential view is made from: a catalog record, or a credential just issued. */
export interface CredentialSource {
  readonly member: string;
  readonly endpoint: string;
  readonly roleName: string;
  readonly expiresAt: Date;
  readonly resource: string;
}

/** A credential as handed to a member, with where to connect from its target's settings. */
export async function credentialView(ctx: ServiceContext, c: CredentialSource, password: string | null): Promise<MemberCredential> {
  const target = await ctx.targets.get(c.resource);
  return {
    member: c.member,
    endpoint: c.endpoint,
    username: c.roleName,
    password,
    expiresAt: c.expiresAt,
    host: target.settings.host,
    port: target.settings.port,
    database: target.settings.database,
    sslmode: target.settings.sslMode,
    caCert: target.settings.tlsRootCert ?? null,
  };
}

/**
 * Whether an audit event ended a credential by expiry: the reaper's 'expire', or a revocation
 * because a lower ttl put the expiry in the past. Returns when it expired, or null.
 */
function expiryOf(event: AuditRecord): Date | null {
  const at = (value: unknown): Date => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value) : event.at);
  if (event.event === 'expire') return at(event.detail.expired_at);
  if (event.event === 'revoke' && event.detail.reason === TTL_LOWERED) return at(event.detail.expires_at);
  return null;
}

/**
 * Why a live, unexpired credential's role cannot be used as issued, or undefined when it
 * can: it logs in, holds the endpoint's access role, and no attribute it was not issued with.
 */
function unusable(role: ManagedRole | undefined, accessRole: string | undefined, now: number): string | undefined {
  if (!role) return 'is missing on its target';
  if (!role.canLogin) return 'is disabled (cannot log in) on its target';
  if (role.validUntil !== null && role.validUntil.getTime() <= now) return 'has had its VALID UNTIL moved into the past on its target';
  if (accessRole !== undefined && !role.memberOf.includes(accessRole)) return `is no longer a member of the endpoint's access role ${accessRole}`;
  if (role.elevated.length > 0) return `holds attributes added outside adaptive-access: ${role.elevated.join(', ')}`;
  return undefined;
}

/**
 * The group's credentials as recorded, checked against the targets. `expired` also lists
 * pairs of the group whose last credential ended by expiry and was reaped (or was ended by
 * a lower ttl), so an expiry stays visible after the reaper ran.
 */
export async function inspectGroup(ctx: ServiceContext, name: string): Promise<GroupInspection | null> {
  const record = await ctx.catalog.getGroup(name);
  if (!record) return null;
  // The group's standing credentials: on-demand ones are the members' own, not the group's.
  const live = await ctx.catalog.liveCredentials({ group: name, kind: 'standing' });
  const endpoints = new Map<string, EndpointRecord>();
  for (const endpoint of new Set([...record.endpoints, ...live.map((c) => c.endpoint)])) {
    const e = await ctx.catalog.getEndpoint(endpoint);
    if (e) endpoints.set(endpoint, e);
  }
  const accessRoles = new Map([...endpoints.values()].map((e) => [e.name, e.accessRole]));
  const result: { live: MemberCredential[]; expired: MemberCredential[]; missing: MissingCredential[] } = { live: [], expired: [], missing: [] };
  for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
    const target = await ctx.targets.get(resource);
    // Expiry is judged by the target's clock, the one that enforces it.
    const now = (await serverNow(target.pool)).getTime();
    const roles = new Map((await listManagedRoles(target)).map((r) => [r.roleName, r]));
    for (const c of creds) {
      const view = await credentialView(ctx, c, null);
      const reason = unusable(roles.get(c.roleName), accessRoles.get(c.endpoint), now);
      if (c.expiresAt.getTime() <= now) result.expired.push(view);
      else if (reason !== undefined) result.missing.push({ ...view, reason });
      else result.live.push(view);
    }
  }
  const livePairs = new Set(live.map((c) => pairKey(c.member, c.endpoint)));
  for (const member of record.members) {
    for (const endpoint of record.endpoints) {
      if (livePairs.has(pairKey(member, endpoint))) continue;
      const ended = await endedByExpiry(ctx, name, member, endpoint, endpoints.get(endpoint)?.resource);
      if (ended) result.expired.push(await credentialView(ctx, ended, null));
    }
  }
  return result;
}

/** The pair's last credential, when it ended by expiry (reaped, or ended by a lower ttl); otherwise undefined. */
async function endedByExpiry(
  ctx: ServiceContext,
  group: string,
  member: string,
  endpoint: string,
  currentResource: string | undefined,
): Promise<CredentialSource | undefined> {
  // The pair's standing role only: its member's on-demand credentials (roles of their own) end on their own.
  const roleName = loginRoleName(member, endpoint);
  const [last] = await ctx.catalog.readAudit({ group, member, endpoint, roleName, event: ['grant', 'revoke', 'expire'], newestFirst: true, limit: 1 });
  const expiredAt = last ? expiryOf(last) : null;
  const resource = last?.resource ?? currentResource;
  if (!last || !expiredAt || !resource) return undefined;
  return { member, endpoint, roleName, expiresAt: expiredAt, resource };
}
