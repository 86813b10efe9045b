/**
 * The runtime's front door: what the four resource types (and the CLI) ask for, in the
 * nouns of the access model. It coordinates the catalog (what exists, by name) with the
 * targets (what PostgreSQL holds): every change is made on the target first and recorded
 * in the catalog after, and a failure part-way is undone on the targets already changed,
 * so nothing is left half-applied.
 *
 * In the spirit of Vault's database plugin interface: a small set of verbs (apply, inspect,
 * remove, reap) over plain records; no Terraform types here.
 */
import {
  accessRoleName,
  dropAccessRole,
  ensureManagedRole,
  readAccessRole,
  syncAccessRole,
  type AccessRoleState,
} from './access/access-role';
import { extendCredentials, issueCredentials, listManagedRoles, loginRoleName, type IssuedCredential, type ManagedRole } from './access/credentials';
import { lockCredentialRoles, releaseAfter, serverNow } from './access/login-roles';
import { errorText } from './errors';
import { transaction } from './pg/locks';
import { MANAGED_ROLE } from './pg/roles';
import { msUntilNextExpiry, reapOnce, type ReapResult } from './access/reaper';
import { revokeCredentials, type RevokeFailure, type RevokeResult } from './access/revoke';
import { ident } from './pg/sql';
import {
  Catalog,
  CatalogError,
  ENDPOINT_TYPES,
  type AuditEvent,
  type AuditRecord,
  type AuthorizationRecord,
  type AuthorizationSpec,
  type CredentialRecord,
  type EndpointRecord,
  type EndpointType,
} from './catalog';
import { nameList } from './catalog/errors';
import { openTarget, type OpenTarget } from './connections/connect';
import { requireAdminPrivileges, type PreflightReport } from './connections/preflight';
import { ValidationError, type Permissions, type SslMode, type TargetConfig, type TargetDb, type ValidationIssue } from './types';
import { canonicalPermissionsJson, parsePermissions } from './validation/permissions';
import { TTL_MAX_SECONDS, TTL_MIN_SECONDS } from './validation/ttl';

/** A credential as handed to a member: everything needed to connect. */
export interface MemberCredential {
  readonly member: string;
  readonly endpoint: string;
  readonly username: string;
  /** Only present right after issuing; the catalog never holds passwords. */
  readonly password: string | null;
  readonly expiresAt: Date;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: SslMode;
}

/**
 * Something an apply did, or could not finish, that people should hear about: the change
 * went through. `kind` says what it concerns, `message` says it for people.
 */
export interface ServiceWarning {
  readonly kind: ServiceWarningKind;
  readonly message: string;
}

/**
 * - `access role`: an endpoint's access role could not be made exactly as authorized
 *   (`syncAccessRole` warnings);
 * - `endpoint moved`: what an endpoint left on its previous target is not cleaned up yet;
 * - `ttl ended`: a lower ttl ended live credentials now;
 * - `ttl not revoked`: credentials past a lower ttl could not be revoked yet;
 * - `grant expired`: a group keeps credentials that expired;
 * - `credential lost`: a group's member has no live credential for an endpoint any more.
 */
export type ServiceWarningKind = 'access role' | 'endpoint moved' | 'ttl ended' | 'ttl not revoked' | 'grant expired' | 'credential lost';

function warn(kind: ServiceWarningKind, message: string): ServiceWarning {
  return { kind, message };
}

/** What applying a group did. */
export interface GroupApplyResult {
  /** Newly issued credentials, with passwords (including re-issues of pairs not in `have`). */
  readonly issued: MemberCredential[];
  /** Credentials still live and kept as they were (no password: it is in Terraform state). */
  readonly kept: MemberCredential[];
  /** Role names revoked because their member or endpoint left the group. */
  readonly revoked: string[];
  readonly warnings: ServiceWarning[];
}

/** A group's credentials as the target and the catalog see them now. */
export interface GroupInspection {
  /** Live in the catalog, the role exists and can log in. */
  readonly live: MemberCredential[];
  /** Past their expiry (the role may still exist until the reaper runs). */
  readonly expired: MemberCredential[];
  /**
   * Recorded live, not expired, but unusable on the target: the role is gone, cannot log in,
   * has a VALID UNTIL moved into the past, lost its membership in the endpoint's access
   * role, or holds attributes someone added by hand (drift; re-issue by leaving the pair
   * out of `have`). `reason` says which.
   */
  readonly missing: MissingCredential[];
}

/** A credential that is not usable as issued, and why (for people). */
export interface MissingCredential extends MemberCredential {
  readonly reason: string;
}

/** An endpoint's record with what its access role holds and what it should hold. */
export interface EndpointInspection {
  readonly record: EndpointRecord;
  readonly desired: Permissions;
  readonly state: AccessRoleState | null;
  /** Human-readable differences; empty when the target matches the authorization. */
  readonly drift: string[];
}

/** What one reaper pass did, per target, with catalog bookkeeping done. */
export interface ReapReport {
  readonly results: ReapResult[];
  /** Targets that could not be reaped, with why. */
  readonly errors: Array<{ target: string; error: string }>;
  /**
   * How long until the next recorded credential expires, in ms as the servers count (the
   * catalog's and the visited targets'), or null when none will: how long a watcher may
   * sleep, on any clock, whatever its skew.
   */
  readonly msUntilNextExpiry: number | null;
}

export type PairKey = `${string}\u0000${string}`;

/** The key of a (member, endpoint) pair. */
export function pairKey(member: string, endpoint: string): PairKey {
  return `${member}\u0000${endpoint}`;
}

/** `role: error; role: error` for a message. */
function failureText(failures: readonly RevokeFailure[]): string {
  return failures.map((f) => `${f.role}: ${f.error}`).join('; ');
}

/** A credential that would end less than this far in the future is revoked instead of shortened. */
const MIN_REMAINING_MS = 1000;

/** Why a credential ended because its endpoint's ttl was lowered past its age: an expiry, early. */
const TTL_LOWERED = 'ttl lowered';

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

export class NotFoundError extends Error {
  constructor(
    readonly kind: 'resource' | 'authorization' | 'endpoint' | 'group',
    readonly entity: string,
    hint: string,
  ) {
    super(`${kind} "${entity}" is not in the catalog. ${hint}`);
    this.name = 'NotFoundError';
  }
}

/** What an endpoint is made of, as a caller writes it. */
export interface EndpointInput {
  readonly name: string;
  readonly type: EndpointType;
  readonly ttlSeconds: number;
  readonly resource: string;
  readonly authorization: string;
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
  if (issues.length > 0) throw new ValidationError(issues);
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

export class AccessService {
  /** Open admin connections per resource name, for this process's lifetime. */
  private readonly targets = new Map<string, Promise<OpenTarget>>();

  constructor(readonly catalog: Catalog) {}

  /** Closes every target pool and the catalog. */
  async close(): Promise<void> {
    const open = [...this.targets.values()];
    this.targets.clear();
    await Promise.all(open.map((t) => t.then((x) => x.close()).catch(() => undefined)));
    await this.catalog.close();
  }

  // -------------------------------------------------------------------------------------
  // Targets

  /** The open admin connection to a resource recorded in the catalog. */
  async target(resource: string): Promise<OpenTarget> {
    const cached = this.targets.get(resource);
    if (cached) return cached;
    const opening = (async () => {
      const record = await this.catalog.getResource(resource);
      if (!record) {
        throw new NotFoundError('resource', resource, 'Create the adaptive_resource with this name first (check the spelling).');
      }
      return openTarget(record.target);
    })();
    this.targets.set(resource, opening);
    // A failed open is not cached: the next call tries again (unless it was replaced meanwhile).
    opening.catch(() => {
      if (this.targets.get(resource) === opening) this.targets.delete(resource);
    });
    return opening;
  }

  /** Replaces (or with no `next`, forgets) the cached connection to a resource, closing the old one. */
  private async replaceTarget(resource: string, next?: OpenTarget): Promise<void> {
    const previous = this.targets.get(resource);
    if (next) this.targets.set(resource, Promise.resolve(next));
    else this.targets.delete(resource);
    if (previous) await previous.then((t) => t.close()).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------
  // Resources

  /**
   * Creates or updates a target: connects with its settings, checks the admin can do the job
   * (and says exactly what is missing, including ADMIN OPTION on existing roles it must make
   * members of on PostgreSQL 16+), creates the marker role, then records it. On failure,
   * the catalog is unchanged.
   */
  async applyResource(config: TargetConfig): Promise<PreflightReport> {
    const target = await openTarget(config);
    let adopted = false;
    try {
      const endpoints = await this.catalog.endpointsOnResource(config.name);
      const report = await requireAdminPrivileges(target, { manageRoles: [MANAGED_ROLE, ...endpoints.map((e) => e.accessRole)] });
      await ensureManagedRole(target);
      await this.catalog.putResource(config);
      // The connection just checked replaces one opened with the previous settings.
      await this.replaceTarget(config.name, target);
      adopted = true;
      return report;
    } finally {
      if (!adopted) await target.close();
    }
  }

  /** Removes a target from the catalog; refused while endpoints use it. */
  async removeResource(name: string): Promise<void> {
    await this.catalog.deleteResource(name);
    await this.replaceTarget(name);
  }

  // -------------------------------------------------------------------------------------
  // Authorizations

  /**
   * Creates or updates a permission set (validated and normalised) and re-syncs the access
   * role of every endpoint that uses it. If one target fails, the endpoints already
   * re-synced are put back to the previous permissions and nothing is recorded.
   */
  async applyAuthorization(spec: AuthorizationSpec): Promise<{ record: AuthorizationRecord; resynced: string[]; warnings: ServiceWarning[] }> {
    const permissions = parsePermissions(spec.permissions);
    const normalised: AuthorizationSpec = { ...spec, permissions };
    const previous = await this.catalog.getAuthorization(spec.name);
    if (!previous || canonicalPermissionsJson(previous.permissions) === canonicalPermissionsJson(permissions)) {
      return { record: await this.catalog.putAuthorization(normalised), resynced: [], warnings: [] };
    }
    const endpoints = await this.catalog.endpointsUsingAuthorization(spec.name);
    const done: EndpointRecord[] = [];
    const warnings: ServiceWarning[] = [];
    try {
      for (const endpoint of endpoints) {
        const target = await this.target(endpoint.resource);
        const result = await syncAccessRole(target, { endpoint: endpoint.name, permissions });
        // One authorization, several endpoints: each warning says which endpoint it is about.
        warnings.push(...result.warnings.map((w) => warn('access role', `endpoint "${endpoint.name}": ${w}`)));
        done.push(endpoint);
      }
      const record = await this.catalog.putAuthorization(normalised);
      return { record, resynced: done.map((e) => e.name), warnings };
    } catch (err) {
      const notRestored: string[] = [];
      for (const endpoint of done) {
        try {
          await syncAccessRole(await this.target(endpoint.resource), { endpoint: endpoint.name, permissions: previous.permissions });
        } catch (undo) {
          notRestored.push(`${endpoint.name} (${errorText(undo)})`);
        }
      }
      if (notRestored.length === 0) throw err;
      throw new Error(
        `${errorText(err)}\nThe access roles of these endpoints already hold the new permissions and could not be put back: ` +
          `${notRestored.join('; ')}. Apply the authorization again.`,
        { cause: err },
      );
    }
  }

  /** Removes a permission set; refused while endpoints use it. */
  async removeAuthorization(name: string): Promise<void> {
    await this.catalog.deleteAuthorization(name);
  }

  // -------------------------------------------------------------------------------------
  // Endpoints

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
  async applyEndpoint(spec: EndpointInput): Promise<{ record: EndpointRecord; warnings: ServiceWarning[]; extended: string[] }> {
    checkEndpointInput(spec);
    const auth = await this.catalog.getAuthorization(spec.authorization);
    if (!auth) {
      throw new NotFoundError('authorization', spec.authorization, 'Create the adaptive_authorization with this name first, or reference it as adaptive_authorization.<label>.name.');
    }
    const target = await this.target(spec.resource);
    const previous = await this.catalog.getEndpoint(spec.name);
    const previousAuth = previous && previous.resource === spec.resource ? await this.catalog.getAuthorization(previous.authorization) : undefined;

    await ensureManagedRole(target);
    const sync = await syncAccessRole(target, { endpoint: spec.name, permissions: auth.permissions });
    const warnings = sync.warnings.map((w) => warn('access role', w));
    let record: EndpointRecord;
    try {
      record = await this.catalog.putEndpoint({ ...spec, accessRole: sync.role });
    } catch (err) {
      try {
        if (sync.created) await dropAccessRole(target, spec.name);
        else if (previousAuth && sync.changed) await syncAccessRole(target, { endpoint: spec.name, permissions: previousAuth.permissions });
      } catch (undo) {
        throw new Error(`${errorText(err)}\nThe access role ${ident(sync.role)} could not be put back: ${errorText(undo)}`, { cause: err });
      }
      throw err;
    }

    // Credentials issued while the endpoint was on another resource.
    const everywhere = await this.catalog.liveCredentials({ endpoint: spec.name });
    for (const [resource, creds] of groupBy(everywhere, (c) => c.resource)) {
      if (resource === spec.resource) continue;
      const result = await this.revoke(await this.target(resource), creds, 'endpoint moved');
      if (result.failed.length > 0) warnings.push(warn('endpoint moved', `endpoint "${spec.name}" moved: not yet revoked on ${resource}: ${failureText(result.failed)}`));
    }
    if (previous && previous.resource !== spec.resource) {
      try {
        await dropAccessRole(await this.target(previous.resource), spec.name, { revokeMemberships: true });
      } catch (err) {
        warnings.push(warn('endpoint moved', `endpoint "${spec.name}" moved: its access role on ${previous.resource} could not be dropped: ${errorText(err)}`));
      }
    }

    const live = everywhere.filter((c) => c.resource === spec.resource);
    await this.restoreMemberships(target, sync.role, live);
    const expiries = await this.reconcileExpiries(target, spec.resource, live, spec.ttlSeconds);
    warnings.push(...expiries.warnings);
    return { record, warnings, extended: expiries.moved };
  }

  /** Live credentials keep their membership in the access role even if it was re-created. */
  private async restoreMemberships(target: TargetDb, accessRole: string, live: readonly CredentialRecord[]): Promise<void> {
    if (live.length === 0) return;
    const names = live.map((c) => c.roleName);
    const client = await target.pool.connect();
    let failure: unknown;
    try {
      await transaction(client, async () => {
        // The same locks as issuing and revoking, so a role is not dropped under our GRANT.
        await lockCredentialRoles(client, names, 'transaction', [accessRole]);
        // As at issue (credentials.ts): from 16 on, the member inherits the access role but
        // cannot SET ROLE to it.
        const { rows: server } = await client.query<{ version: number }>(`select pg_catalog.current_setting('server_version_num')::int as version`);
        const options = (server[0]?.version ?? 0) >= 160000 ? ' WITH INHERIT TRUE, SET FALSE' : '';
        const { rows } = await client.query<{ name: string }>(
          `select r.rolname::text as name from pg_catalog.pg_roles r
            where r.rolname = any($1::text[]) and r.rolcanlogin
              and not pg_catalog.pg_has_role(r.oid, (select oid from pg_catalog.pg_roles where rolname = $2), 'MEMBER')`,
          [names, accessRole],
        );
        if (rows.length > 0) await client.query(rows.map((r) => `GRANT ${ident(accessRole)} TO ${ident(r.name)}${options}`).join(';\n'));
      });
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      releaseAfter(client, failure);
    }
  }

  /**
   * Moves the expiry of unexpired live credentials to granted_at + ttl on the target and in
   * the catalog (with an 'extend' audit event each); revokes those whose new expiry is
   * already past (reason 'ttl lowered'). Expired credentials stay expired.
   */
  private async reconcileExpiries(
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
      if (at <= now + MIN_REMAINING_MS) ended.push(c);
      else byExpiry.set(at, [...(byExpiry.get(at) ?? []), c]);
    }
    const moved: string[] = [];
    const warnings: ServiceWarning[] = [];
    for (const [at, creds] of byExpiry) {
      const expiresAt = new Date(at);
      const result = await extendCredentials(target, creds.map((c) => c.roleName), expiresAt);
      if (result.extended.length > 0) {
        const done = new Set(result.extended);
        await this.catalog.transaction(async (tx) => {
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
      }
      moved.push(...result.extended);
    }
    if (ended.length > 0) {
      const result = await this.revoke(target, ended, TTL_LOWERED, (c) => ({
        expires_at: new Date(c.grantedAt.getTime() + ttlSeconds * 1000).toISOString(),
        ttl_seconds: ttlSeconds,
      }));
      if (result.revoked.length > 0) {
        warnings.push(warn('ttl ended', `${result.revoked.length} credential(s) ended now: the new ttl puts their expiry in the past: ${nameList(result.revoked)}`));
      }
      if (result.failed.length > 0) {
        warnings.push(warn('ttl not revoked', `credential(s) past the new ttl not yet revoked (disabled, retried by the reaper): ${failureText(result.failed)}`));
      }
    }
    return { moved, warnings };
  }

  /** The endpoint, its desired grants, and what its access role holds now. */
  async inspectEndpoint(name: string): Promise<EndpointInspection | null> {
    const record = await this.catalog.getEndpoint(name);
    if (!record) return null;
    const auth = await this.catalog.getAuthorization(record.authorization);
    const desired = auth?.permissions ?? { grants: [], schemas: [], tables: [] };
    const target = await this.target(record.resource);
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
    return { record, desired, state, drift };
  }

  /**
   * Revokes the endpoint's credentials, drops its access role, and forgets it. Refused, with
   * nothing changed, while a group lists it.
   */
  async removeEndpoint(name: string): Promise<void> {
    const record = await this.catalog.getEndpoint(name);
    if (!record) return;
    const groups = (await this.catalog.groupsUsingEndpoint(name)).map((g) => g.name);
    if (groups.length > 0) {
      throw new CatalogError(
        'referenced',
        `cannot delete endpoint "${name}": it is still used by ${groups.length === 1 ? 'group' : 'groups'} ${nameList(groups)}; ` +
          'remove it from those groups first',
        { referencedBy: groups.map((g) => ({ kind: 'group' as const, name: g })) },
      );
    }
    const live = await this.catalog.liveCredentials({ endpoint: name });
    const failed: RevokeFailure[] = [];
    for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
      failed.push(...(await this.revoke(await this.target(resource), creds, 'endpoint removed')).failed);
    }
    if (failed.length > 0) {
      throw new Error(
        `endpoint "${name}": could not finish revoking ${failed.length} credential(s); the endpoint is kept until they are gone ` +
          `(remove it again to retry): ${failureText(failed)}`,
      );
    }
    await dropAccessRole(await this.target(record.resource), name, { revokeMemberships: true });
    await this.catalog.deleteEndpoint(name);
  }

  // -------------------------------------------------------------------------------------
  // Groups

  private async credentialView(c: { member: string; endpoint: string; roleName: string; expiresAt: Date; resource: string }, password: string | null): Promise<MemberCredential> {
    const target = await this.target(c.resource);
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
    };
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
  async applyGroup(spec: { readonly name: string; readonly members: readonly string[]; readonly endpoints: readonly string[] }, have: ReadonlySet<PairKey>): Promise<GroupApplyResult> {
    const endpoints = new Map<string, EndpointRecord>();
    for (const name of spec.endpoints) {
      if (endpoints.has(name)) continue;
      const record = await this.catalog.getEndpoint(name);
      if (!record) throw new NotFoundError('endpoint', name, 'Create the adaptive_endpoint with this name first, or reference it as adaptive_endpoint.<label>.name.');
      endpoints.set(name, record);
    }
    const members = [...new Set(spec.members)];
    const wanted: Array<{ key: PairKey; member: string; endpoint: EndpointRecord }> = [];
    for (const member of members) for (const endpoint of endpoints.values()) wanted.push({ key: pairKey(member, endpoint.name), member, endpoint });
    const wantedKeys = new Set(wanted.map((w) => w.key));

    const live = await this.catalog.liveCredentials({ group: spec.name });
    const liveByPair = new Map(live.map((c) => [pairKey(c.member, c.endpoint), c]));
    const toRevoke = live.filter((c) => !wantedKeys.has(pairKey(c.member, c.endpoint)));
    const toIssue = wanted.filter((w) => !have.has(w.key));
    const kept = wanted.filter((w) => have.has(w.key) && liveByPair.has(w.key));
    const lost = wanted.filter((w) => have.has(w.key) && !liveByPair.has(w.key));

    await this.assertPairsFree(spec.name, toIssue);

    // Revoke what left the group first: a member removed loses access even if issuing fails.
    const revoked: string[] = [];
    const failed: RevokeFailure[] = [];
    for (const [resource, creds] of groupBy(toRevoke, (c) => c.resource)) {
      const target = await this.target(resource);
      const reasonOf = (c: CredentialRecord): string => (members.includes(c.member) ? 'endpoint removed' : 'member removed');
      for (const [reason, batch] of groupBy(creds, reasonOf)) {
        const result = await this.revoke(target, batch, reason);
        revoked.push(...result.revoked);
        failed.push(...result.failed);
      }
    }
    // Pairs to issue whose old credential is still recorded live (role dropped by hand,
    // or a renewal): revoke the old one first so the catalog never has two.
    const stale = toIssue.flatMap((w) => liveByPair.get(w.key) ?? []);
    for (const [resource, creds] of groupBy(stale, (c) => c.resource)) {
      failed.push(...(await this.revoke(await this.target(resource), creds, 'replaced')).failed);
    }
    if (failed.length > 0) {
      throw new Error(
        `group "${spec.name}": could not finish revoking ${failed.length} credential(s), so nothing was issued; ` +
          `apply again to retry: ${failureText(failed)}`,
      );
    }

    const issued: Array<{ resource: string; credential: IssuedCredential }> = [];
    try {
      for (const [resource, requests] of groupBy(toIssue, (w) => w.endpoint.resource)) {
        const target = await this.target(resource);
        const creds = await issueCredentials(
          target,
          requests.map((r) => ({
            member: r.member,
            endpoint: r.endpoint.name,
            accessRole: r.endpoint.accessRole,
            ttlSeconds: r.endpoint.ttlSeconds,
            group: spec.name,
          })),
        );
        issued.push(...creds.map((credential) => ({ resource, credential })));
        // Recorded as the server said: its now() as the grant, its VALID UNTIL as the expiry.
        await this.catalog.transaction(async (tx) => {
          await tx.recordIssued(
            creds.map((c) => ({
              roleName: c.roleName,
              resource,
              endpoint: c.endpoint,
              group: spec.name,
              member: c.member,
              grantedAt: c.grantedAt,
              expiresAt: c.validUntil,
            })),
          );
          await tx.appendAudit(
            creds.map((c) => ({
              event: 'grant',
              resource,
              endpoint: c.endpoint,
              group: spec.name,
              member: c.member,
              roleName: c.roleName,
              detail: { expires_at: c.validUntil.toISOString() },
            })),
          );
        });
      }
      await this.catalog.putGroup({ name: spec.name, members, endpoints: [...endpoints.keys()] });
    } catch (err) {
      // Undo this call's grants on every target, so a failure changes nothing.
      const notUndone = await this.rollBack(issued);
      if (notUndone.length === 0) throw err;
      throw new Error(
        `${errorText(err)}\nRolling back failed for ${notUndone.length} credential(s), left disabled for the reaper: ${failureText(notUndone)}`,
        { cause: err },
      );
    }

    const warnings: ServiceWarning[] = [];
    const keptViews: MemberCredential[] = [];
    const clocks = new Map<string, number>();
    for (const w of kept) {
      const c = liveByPair.get(w.key)!;
      const now = clocks.get(c.resource) ?? (await serverNow((await this.target(c.resource)).pool)).getTime();
      clocks.set(c.resource, now);
      if (c.expiresAt.getTime() <= now) warnings.push(warn('grant expired', expiredWarning(c, spec.name)));
      keptViews.push(await this.credentialView(c, null));
    }
    for (const w of lost) {
      warnings.push(
        warn(
          'credential lost',
          `${w.member} on ${w.endpoint.name} has no live credential any more (expired and reaped, or revoked) (group "${spec.name}"); ` +
            'renew with terraform apply -replace=<this adaptive_group>',
        ),
      );
    }
    const issuedViews = await Promise.all(
      issued.map(({ resource, credential: c }) => this.credentialView({ ...c, expiresAt: c.validUntil, resource }, c.password)),
    );
    return { issued: issuedViews, kept: keptViews, revoked, warnings };
  }

  /** Refuses pairs whose login role is held by another group's live credential. */
  private async assertPairsFree(group: string, pairs: ReadonlyArray<{ member: string; endpoint: EndpointRecord }>): Promise<void> {
    for (const [endpoint, batch] of groupBy(pairs, (p) => p.endpoint.name)) {
      const members = new Set(batch.map((p) => p.member));
      const taken = (await this.catalog.liveCredentials({ endpoint })).find((c) => c.group !== group && members.has(c.member));
      if (taken) {
        throw new CatalogError(
          'conflict',
          `group "${group}": member "${taken.member}" already has endpoint "${endpoint}" through group "${taken.group}" ` +
            `(login role "${taken.roleName}"); a member holds one credential per endpoint: remove them from one of the two groups`,
        );
      }
    }
  }

  /** Revokes credentials this call issued, recording them as rolled back; returns what could not be. */
  private async rollBack(issued: ReadonlyArray<{ resource: string; credential: IssuedCredential }>): Promise<RevokeFailure[]> {
    const notUndone: RevokeFailure[] = [];
    for (const [resource, batch] of groupBy(issued, (i) => i.resource)) {
      const names = batch.map((b) => b.credential.roleName);
      let result: RevokeResult;
      try {
        result = await revokeCredentials(await this.target(resource), names, 'rolled back');
      } catch (err) {
        notUndone.push(...names.map((role) => ({ role, error: errorText(err) })));
        continue;
      }
      notUndone.push(...result.failed);
      if (result.revoked.length === 0) continue;
      try {
        await this.catalog.transaction(async (tx) => {
          const marked = await tx.markRevoked(result.revoked, 'rolled back');
          await tx.appendAudit(marked.map((c) => revokeEvent(c, 'rolled back')));
        });
      } catch (err) {
        notUndone.push(...result.revoked.map((role) => ({ role, error: `dropped, but not recorded as revoked: ${errorText(err)}` })));
      }
    }
    return notUndone;
  }

  /**
   * The group's credentials as recorded, checked against the targets. `expired` also lists
   * pairs of the group whose last credential ended by expiry and was reaped (or was ended by
   * a lower ttl), so an expiry stays visible after the reaper ran.
   */
  async inspectGroup(name: string): Promise<GroupInspection | null> {
    const record = await this.catalog.getGroup(name);
    if (!record) return null;
    const live = await this.catalog.liveCredentials({ group: name });
    const endpoints = new Map<string, EndpointRecord>();
    for (const endpoint of new Set([...record.endpoints, ...live.map((c) => c.endpoint)])) {
      const e = await this.catalog.getEndpoint(endpoint);
      if (e) endpoints.set(endpoint, e);
    }
    const accessRoles = new Map([...endpoints.values()].map((e) => [e.name, e.accessRole]));
    const result: { live: MemberCredential[]; expired: MemberCredential[]; missing: MissingCredential[] } = { live: [], expired: [], missing: [] };
    for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
      const target = await this.target(resource);
      // Expiry is judged by the target's clock, the one that enforces it.
      const now = (await serverNow(target.pool)).getTime();
      const roles = new Map((await listManagedRoles(target)).map((r) => [r.roleName, r]));
      for (const c of creds) {
        const view = await this.credentialView(c, null);
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
        const [last] = await this.catalog.readAudit({ group: name, member, endpoint, event: ['grant', 'revoke', 'expire'], newestFirst: true, limit: 1 });
        const expiredAt = last ? expiryOf(last) : null;
        const resource = last?.resource ?? endpoints.get(endpoint)?.resource;
        if (!last || !expiredAt || !resource) continue;
        const roleName = last.roleName ?? loginRoleName(member, endpoint);
        result.expired.push(await this.credentialView({ member, endpoint, roleName, expiresAt: expiredAt, resource }, null));
      }
    }
    return result;
  }

  /** Revokes every credential of the group and forgets it. */
  async removeGroup(name: string): Promise<string[]> {
    const live = await this.catalog.liveCredentials({ group: name });
    const revoked: string[] = [];
    const failed: RevokeFailure[] = [];
    for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
      const result = await this.revoke(await this.target(resource), creds, 'group destroyed');
      revoked.push(...result.revoked);
      failed.push(...result.failed);
    }
    if (failed.length > 0) {
      throw new Error(
        `could not revoke ${failed.length} credential(s) of group "${name}"; they are disabled and will be retried: ${failureText(failed)}`,
      );
    }
    await this.catalog.deleteGroup(name);
    return revoked;
  }

  /**
   * Revokes credentials on one target and records it, with a 'revoke' audit event each
   * (`detail` adds to the event's detail). Roles that failed stay disabled, recorded live.
   */
  private async revoke(
    target: TargetDb,
    creds: readonly CredentialRecord[],
    reason: string,
    detail: (c: CredentialRecord) => Record<string, unknown> = () => ({}),
  ): Promise<RevokeResult> {
    if (creds.length === 0) return { revoked: [], failed: [], skipped: [] };
    const result = await revokeCredentials(target, creds.map((c) => c.roleName), reason);
    if (result.revoked.length > 0) {
      await this.catalog.transaction(async (tx) => {
        const marked = await tx.markRevoked(result.revoked, reason);
        await tx.appendAudit(marked.map((c) => ({ ...revokeEvent(c, reason), detail: { reason, ...detail(c) } })));
      });
    }
    return result;
  }

  // -------------------------------------------------------------------------------------
  // Reaper

  /**
   * One reaper pass. It acts only on credentials the catalog recorded as issued and not yet
   * revoked (including those a failed revocation left disabled, for the retry), and judges
   * expiry by each target's clock. With `onlyRecorded`, only targets whose catalog records
   * show expired, unrevoked credentials are visited (cheap: what the provider does once per apply); otherwise every target is (the CLI's `reap`, which also picks up records whose
   * expiry the catalog's clock has not reached yet but the target's has).
   */
  async reap(options: { readonly onlyRecorded?: boolean } = {}): Promise<ReapReport> {
    const resources = options.onlyRecorded
      ? [...new Set((await this.catalog.expiredUnrevoked()).map((c) => c.resource))]
      : (await this.catalog.listResources()).map((r) => r.name);
    const results: ReapResult[] = [];
    const errors: Array<{ target: string; error: string }> = [];
    let next = await this.catalog.msUntilNextExpiry();
    for (const resource of resources) {
      try {
        const target = await this.target(resource);
        const issued = (await this.catalog.liveCredentials({ resource })).map((c) => c.roleName);
        const result = await reapOnce(target, issued);
        results.push(result);
        await this.recordReaped(resource, target, result);
        const left = await msUntilNextExpiry(target, issued);
        if (left !== null && (next === null || left < next)) next = left;
      } catch (err) {
        errors.push({ target: resource, error: errorText(err) });
      }
    }
    return { results, errors, msUntilNextExpiry: next };
  }

  /**
   * Records a pass in the catalog: reaped roles (expired ones as 'expired', roles a failed
   * revocation had left disabled as 'revoked'), and expired records whose role is already
   * gone, each with an audit event.
   */
  private async recordReaped(resource: string, target: TargetDb, result: ReapResult): Promise<void> {
    const now = result.serverNow;
    const reaped = new Map(result.reaped.map((r) => [r.role, r]));
    const failed = new Set(result.failed.map((f) => f.role));
    const expired = await this.catalog.expiredUnrevoked(now, { resource });
    const recorded = new Map<string, CredentialRecord>();
    if (reaped.size > 0) {
      for (const c of await this.catalog.liveCredentials({ resource })) if (reaped.has(c.roleName)) recorded.set(c.roleName, c);
    }
    // Expired records whose role no longer exists at all (dropped by hand, or reaped by another process).
    const candidates = expired.filter((c) => !failed.has(c.roleName) && !reaped.has(c.roleName)).map((c) => c.roleName);
    const present = new Set(
      candidates.length === 0
        ? []
        : (await target.pool.query<{ name: string }>('select rolname::text as name from pg_catalog.pg_roles where rolname = any($1::text[])', [candidates])).rows.map(
            (r) => r.name,
          ),
    );
    for (const c of expired) if (candidates.includes(c.roleName) && !present.has(c.roleName)) recorded.set(c.roleName, c);
    if (recorded.size === 0 && reaped.size === 0) return;

    const isExpired = (c: CredentialRecord): boolean => c.expiresAt.getTime() <= now.getTime();
    const all = [...recorded.values()];
    const events: AuditEvent[] = [...new Set([...reaped.keys(), ...recorded.keys()])].map((roleName) => {
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
    await this.catalog.transaction(async (tx) => {
      await tx.markRevoked(all.filter(isExpired).map((c) => c.roleName), 'expired', { at: now });
      await tx.markRevoked(all.filter((c) => !isExpired(c)).map((c) => c.roleName), 'revoked', { at: now });
      await tx.appendAudit(events);
    });
  }
}

/** The 'revoke' audit event of a credential. */
function revokeEvent(c: CredentialRecord, reason: string): AuditEvent {
  return { event: 'revoke', resource: c.resource, endpoint: c.endpoint, group: c.group, member: c.member, roleName: c.roleName, detail: { reason } };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    map.set(k, [...(map.get(k) ?? []), item]);
  }
  return map;
}

/** The warning shown for an expired grant: what expired, and how to renew it. */
export function expiredWarning(c: { member: string; endpoint: string; expiresAt: Date }, group: string): string {
  return `${c.member} on ${c.endpoint} expired at ${c.expiresAt.toISOString()} (group "${group}"); renew with terraform apply -replace=<this adaptive_group>`;
}

/** Exported for the resources: the deterministic names the runtime uses. */
export { accessRoleName, loginRoleName };
