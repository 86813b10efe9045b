/** The verbs for endpoints (`adaptive_endpoint`): an authorization applied to a target for a ttl. */
import { dropAccessRole, ensureManagedRole, readAccessRole, syncAccessRole } from '../access/access-role';
import { extendCredentials } from '../access/credentials';
import { rolesPerTransaction } from '../access/login-roles';
import { serverNow } from '../access/login-roles';
import { restoreMemberships } from '../access/memberships';
import { applySessionSettings, readSessionSettings } from '../access/session-settings';
import type { RevokeFailure } from '../access/revoke';
import { ident } from '../pg/sql';
import { CatalogError, ENDPOINT_TYPES, type CredentialRecord, type EndpointRecord } from '../catalog';
import { nameList } from '../catalog/errors';
import { errorText } from '../errors';
import { ValidationError, type TargetDb, type ValidationIssue } from '../types';
import { canonicalPermissionsJson } from '../validation/permissions';
import { checkSessionSettingsValues } from '../validation/session-settings';
import { TTL_MAX_SECONDS, TTL_MIN_SECONDS } from '../validation/ttl';
import { chunks, failureText, groupBy, revokeAndRecord, type ServiceContext } from './context';
import { sessionSettingsDrift } from './session-drift';
import { checkSettingsOnTarget } from './session-settings';
import { NotFoundError, warn, type EndpointInput, type EndpointInspection, type ServiceWarning } from './model';

/** A credential that would end less than this far in the future is revoked instead of shortened. */
const MIN_REMAINING_MS = 1000;

/** Why a credential ended because its endpoint's ttl was lowered past its age: an expiry, early. */
export const TTL_LOWERED = 'ttl lowered';

/** What applying an endpoint did. */
export interface EndpointApplyResult {
  readonly record: EndpointRecord;
  readonly warnings: ServiceWarning[];
  /** Login roles whose expiry moved to granted_at + the new ttl. */
  readonly extended: string[];
}

/** Shape checks of an endpoint that must pass before anything is changed. */
function checkEndpointInput(spec: EndpointInput): void {
  const issues: ValidationIssue[] = [];
  if (!Number.isInteger(spec.ttlSeconds) || spec.ttlSeconds < TTL_MIN_SECONDS || spec.ttlSeconds > TTL_MAX_SECONDS) {
    issues.push({
      field: 'ttl',
      message: `endpoint "${spec.name}": must be a whole number of seconds from ${TTL_MIN_SECONDS} to ${TTL_MAX_SECONDS} (365d), not ${String(spec.ttlSeconds)}`,
    });
  }
  if (!(ENDPOINT_TYPES as readonly string[]).includes(spec.type)) {
    issues.push({ field: 'type', message: `endpoint "${spec.name}": must be one of ${ENDPOINT_TYPES.join(', ')}, not "${String(spec.type)}"` });
  }
  if (spec.sessionSettings) issues.push(...checkSessionSettingsValues(spec.sessionSettings));
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * Creates or updates an endpoint: its access role on the target holds exactly the
 * authorization's grants. Nothing is changed when the input is invalid or the resource or
 * authorization is missing; if recording fails, the access role is put back.
 *
 * Live credentials are then brought in line: they keep their membership in the access
 * role, their expiry is granted_at + ttl (a longer ttl extends them, a shorter one
 * shortens them, and one whose new expiry has already passed is revoked, reason
 * 'ttl lowered'), and those left on a resource the endpoint moved away from are revoked.
 * Each step is idempotent, so applying again finishes what a failure interrupted.
 */
export async function applyEndpoint(ctx: ServiceContext, spec: EndpointInput): Promise<EndpointApplyResult> {
  checkEndpointInput(spec);
  const auth = await ctx.catalog.getAuthorization(spec.authorization);
  if (!auth) throw new NotFoundError('authorization', spec.authorization);
  const target = await ctx.targets.get(spec.resource);
  const previous = await ctx.catalog.getEndpoint(spec.name);
  const previousAuth = previous && previous.resource === spec.resource ? await ctx.catalog.getAuthorization(previous.authorization) : undefined;

  await checkSettingsOnTarget(target, spec);
  await ensureManagedRole(target);
  const sync = await syncAccessRole(target, { endpoint: spec.name, permissions: auth.permissions });
  const warnings = sync.warnings.map((w) => warn('access role', w));
  let record: EndpointRecord;
  try {
    record = await ctx.catalog.putEndpoint({ ...spec, sessionSettings: spec.sessionSettings ?? {}, accessRole: sync.role });
  } catch (err) {
    try {
      if (sync.created) await dropAccessRole(target, spec.name);
      else if (previousAuth && sync.changed) await syncAccessRole(target, { endpoint: spec.name, permissions: previousAuth.permissions });
    } catch (undo) {
      throw new Error(`${errorText(err)}\nThe access role ${ident(sync.role)} could not be put back: ${errorText(undo)}`, { cause: err });
    }
    throw err;
  }

  const everywhere = await ctx.catalog.liveCredentials({ endpoint: spec.name });
  warnings.push(...(await leavePreviousTargets(ctx, spec, previous, everywhere)));
  const live = everywhere.filter((c) => c.resource === spec.resource);
  // In transactions that fit the server's lock table (a large group's roles do not fit one);
  // each step is idempotent, so one that fails midway is finished by the next apply.
  const batches = chunks(live.map((c) => c.roleName), await rolesPerTransaction(target.pool));
  for (const names of batches) await restoreMemberships(target, sync.role, names);
  // Settings changed, removed, or altered by hand on a role: every live role gets the endpoint's.
  for (const names of batches) await applySessionSettings(target, names, spec.sessionSettings ?? {});
  const expiries = await reconcileExpiries(ctx, target, spec.resource, live, spec.ttlSeconds);
  warnings.push(...expiries.warnings);
  return { record, warnings, extended: expiries.moved };
}

/**
 * Revokes credentials issued while the endpoint was on another resource, and drops its
 * access role there; what could not be done yet comes back as warnings.
 */
async function leavePreviousTargets(
  ctx: ServiceContext,
  spec: EndpointInput,
  previous: EndpointRecord | undefined,
  everywhere: readonly CredentialRecord[],
): Promise<ServiceWarning[]> {
  const warnings: ServiceWarning[] = [];
  for (const [resource, creds] of groupBy(everywhere, (c) => c.resource)) {
    if (resource === spec.resource) continue;
    const result = await revokeAndRecord(ctx, await ctx.targets.get(resource), creds, 'endpoint moved');
    if (result.failed.length > 0) warnings.push(warn('endpoint moved', `endpoint "${spec.name}" moved: not yet revoked on ${resource}: ${failureText(result.failed)}`));
  }
  if (previous && previous.resource !== spec.resource) {
    try {
      await dropAccessRole(await ctx.targets.get(previous.resource), spec.name, { revokeMemberships: true });
    } catch (err) {
      warnings.push(warn('endpoint moved', `endpoint "${spec.name}" moved: its access role on ${previous.resource} could not be dropped: ${errorText(err)}`));
    }
  }
  return warnings;
}

/**
 * Moves the expiry of unexpired live credentials to granted_at + ttl on the target and in
 * the catalog (with an 'extend' audit event each); revokes those whose new expiry is
 * already past (reason 'ttl lowered'). Expired credentials stay expired; on-demand ones are
 * only ever cut, never extended.
 */
async function reconcileExpiries(
  ctx: ServiceContext,
  target: TargetDb,
  resource: string,
  live: readonly CredentialRecord[],
  ttlSeconds: number,
): Promise<{ moved: string[]; warnings: ServiceWarning[] }> {
  const now = (await serverNow(target.pool)).getTime();
  const byExpiry = new Map<number, CredentialRecord[]>();
  const ended: CredentialRecord[] = [];
  for (const c of live) {
    if (c.expiresAt.getTime() <= now) continue;
    const at = c.grantedAt.getTime() + ttlSeconds * 1000;
    if (at === c.expiresAt.getTime()) continue;
    // An on-demand credential keeps the shorter ttl it was asked for: a ttl raised never
    // extends it, a ttl lowered below its expiry cuts it.
    if (c.kind === 'ephemeral' && at >= c.expiresAt.getTime()) continue;
    if (at <= now + MIN_REMAINING_MS) ended.push(c);
    else byExpiry.set(at, [...(byExpiry.get(at) ?? []), c]);
  }
  const moved: string[] = [];
  for (const [at, creds] of byExpiry) moved.push(...(await moveExpiry(ctx, target, resource, creds, new Date(at), ttlSeconds)));
  return { moved, warnings: await endByLowerTtl(ctx, target, ended, ttlSeconds) };
}

/** Sets the expiry of `creds` to `expiresAt` on the target, then in the catalog with an 'extend' event each. */
async function moveExpiry(
  ctx: ServiceContext,
  target: TargetDb,
  resource: string,
  creds: readonly CredentialRecord[],
  expiresAt: Date,
  ttlSeconds: number,
): Promise<string[]> {
  const size = await rolesPerTransaction(target.pool);
  if (creds.length > size) {
    // Each batch extended on the target, then recorded, before the next.
    const moved: string[] = [];
    for (const batch of chunks(creds, size)) moved.push(...(await moveExpiry(ctx, target, resource, batch, expiresAt, ttlSeconds)));
    return moved;
  }
  const result = await extendCredentials(target, creds.map((c) => c.roleName), expiresAt);
  if (result.extended.length === 0) return [];
  const done = new Set(result.extended);
  await ctx.catalog.transaction(async (tx) => {
    await tx.extend(result.extended, expiresAt);
    await tx.appendAudit(
      creds
        .filter((c) => done.has(c.roleName))
        .map((c) => ({
          event: 'extend',
          resource,
          endpoint: c.endpoint,
          group: c.group,
          member: c.member,
          roleName: c.roleName,
          detail: { expires_at: expiresAt.toISOString(), previous_expires_at: c.expiresAt.toISOString(), ttl_seconds: ttlSeconds },
        })),
    );
  });
  return result.extended;
}

/** Revokes credentials a lower ttl put past their expiry; says so (and what could not be) in warnings. */
async function endByLowerTtl(ctx: ServiceContext, target: TargetDb, ended: readonly CredentialRecord[], ttlSeconds: number): Promise<ServiceWarning[]> {
  if (ended.length === 0) return [];
  const result = await revokeAndRecord(ctx, target, ended, TTL_LOWERED, (c) => ({
    expires_at: new Date(c.grantedAt.getTime() + ttlSeconds * 1000).toISOString(),
    ttl_seconds: ttlSeconds,
  }));
  const warnings: ServiceWarning[] = [];
  if (result.revoked.length > 0) {
    warnings.push(warn('ttl ended', `${result.revoked.length} credential(s) ended now: the new ttl puts their expiry in the past: ${nameList(result.revoked)}`));
  }
  if (result.failed.length > 0) {
    warnings.push(warn('ttl not revoked', `credential(s) past the new ttl not yet revoked (disabled, retried by the reaper): ${failureText(result.failed)}`));
  }
  return warnings;
}

/** The endpoint, its desired grants, and what its access role holds now. */
export async function inspectEndpoint(ctx: ServiceContext, name: string): Promise<EndpointInspection | null> {
  const record = await ctx.catalog.getEndpoint(name);
  if (!record) return null;
  const auth = await ctx.catalog.getAuthorization(record.authorization);
  const desired = auth?.permissions ?? { grants: [], schemas: [], tables: [] };
  const target = await ctx.targets.get(record.resource);
  const state = await readAccessRole(target, name);
  const drift: string[] = [];
  if (!state) drift.push(`access role ${record.accessRole} does not exist on ${record.resource}`);
  else {
    drift.push(...state.drift);
    if (canonicalPermissionsJson(state.permissions) !== canonicalPermissionsJson(desired)) {
      drift.push(
        `grants differ from authorization "${record.authorization}": has ${canonicalPermissionsJson(state.permissions)}, wants ${canonicalPermissionsJson(desired)}`,
      );
    }
  }
  const live = (await ctx.catalog.liveCredentials({ endpoint: name })).filter((c) => c.resource === record.resource);
  for (const role of await readSessionSettings(target, live.map((c) => c.roleName))) drift.push(...sessionSettingsDrift(role, record.sessionSettings));
  return { record, desired, state, drift };
}

/**
 * Revokes the endpoint's credentials, drops its access role, and forgets it. Refused, with
 * nothing changed, while a group lists it.
 */
export async function removeEndpoint(ctx: ServiceContext, name: string): Promise<void> {
  const record = await ctx.catalog.getEndpoint(name);
  if (!record) return;
  const groups = (await ctx.catalog.groupsUsingEndpoint(name)).map((g) => g.name);
  if (groups.length > 0) {
    throw new CatalogError(
      'referenced',
      `cannot delete endpoint "${name}": it is still used by ${groups.length === 1 ? 'group' : 'groups'} ${nameList(groups)}; ` +
        'remove it from those groups first',
      { referencedBy: groups.map((g) => ({ kind: 'group' as const, name: g })) },
    );
  }
  const live = await ctx.catalog.liveCredentials({ endpoint: name });
  const failed: RevokeFailure[] = [];
  for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
    failed.push(...(await revokeAndRecord(ctx, await ctx.targets.get(resource), creds, 'endpoint removed')).failed);
  }
  if (failed.length > 0) {
    throw new Error(
      `endpoint "${name}": could not finish revoking ${failed.length} credential(s); the endpoint is kept until they are gone ` +
        `(remove it again to retry): ${failureText(failed)}`,
    );
  }
  await dropAccessRole(await ctx.targets.get(record.resource), name, { revokeMemberships: true });
  await ctx.catalog.deleteEndpoint(name);
}
