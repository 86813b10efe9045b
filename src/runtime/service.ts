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
  AccessRoleInUseError,
  accessRoleName,
  dropAccessRole,
  ensureManagedRole,
  readAccessRole,
  syncAccessRole,
  type AccessRoleState,
} from './access/access-role';
import { extendCredentials, issueCredentials, listManagedRoles, loginRoleName, type IssuedCredential } from './access/credentials';
import { reapOnce, type ReapResult } from './access/reaper';
import { revokeCredentials, type RevokeResult } from './access/revoke';
import { ident } from './access/sql';
import { transaction } from './access/locks';
import { Catalog, type AuthorizationRecord, type AuthorizationSpec, type CredentialRecord, type EndpointRecord, type EndpointType } from './catalog';
import { openTarget, type OpenTarget } from './connections/connect';
import { requireAdminPrivileges, type PreflightReport } from './connections/preflight';
import type { Permissions, SslMode, TargetConfig, TargetDb } from './types';

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

/** What applying a group did. */
export interface GroupApplyResult {
  /** Newly issued credentials, with passwords. */
  readonly issued: MemberCredential[];
  /** Credentials still live and kept as they were (no password: it is in Terraform state). */
  readonly kept: MemberCredential[];
  /** Role names revoked because their member or endpoint left the group. */
  readonly revoked: string[];
  readonly warnings: string[];
}

/** A group's credentials as the target and the catalog see them now. */
export interface GroupInspection {
  /** Live in the catalog, the role exists and can log in. */
  readonly live: MemberCredential[];
  /** Past their expiry (the role may still exist until the reaper runs). */
  readonly expired: MemberCredential[];
  /** Recorded live, not expired, but the role is gone or disabled on the target: drift. */
  readonly missing: MemberCredential[];
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
}

export type PairKey = `${string}\u0000${string}`;

/** The key of a (member, endpoint) pair. */
export function pairKey(member: string, endpoint: string): PairKey {
  return `${member}\u0000${endpoint}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Sorted, de-duplicated copies, so two permission sets can be compared as JSON. */
function canonical(p: Permissions): string {
  const sort = (xs: readonly string[]): string[] => [...new Set(xs)].sort();
  return JSON.stringify({ grants: sort(p.grants), schemas: sort(p.schemas), tables: sort(p.tables) });
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
    let pending = this.targets.get(resource);
    if (!pending) {
      pending = (async () => {
        const record = await this.catalog.getResource(resource);
        if (!record) {
          throw new NotFoundError('resource', resource, 'Create the adaptive_resource with this name first (check the spelling).');
        }
        return openTarget(record.target);
      })();
      this.targets.set(resource, pending);
      // A failed open is not cached: the next call tries again.
      pending.catch(() => this.targets.delete(resource));
    }
    return pending;
  }

  private async forgetTarget(resource: string): Promise<void> {
    const pending = this.targets.get(resource);
    this.targets.delete(resource);
    if (pending) await pending.then((t) => t.close()).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------
  // Resources

  /**
   * Creates or updates a target: connects with its settings, checks the admin can do the job
   * (and says exactly what is missing), creates the marker role, then records it.
   */
  async applyResource(config: TargetConfig): Promise<PreflightReport> {
    const target = await openTarget(config);
    try {
      const report = await requireAdminPrivileges(target);
      await ensureManagedRole(target);
      await this.catalog.putResource(config);
      await this.forgetTarget(config.name);
      return report;
    } finally {
      await target.close();
    }
  }

  /** Removes a target from the catalog; refused while endpoints use it. */
  async removeResource(name: string): Promise<void> {
    await this.forgetTarget(name);
    await this.catalog.deleteResource(name);
  }

  // -------------------------------------------------------------------------------------
  // Authorizations

  /**
   * Creates or updates a permission set and re-syncs the access role of every endpoint that
   * uses it. If one target fails, the endpoints already re-synced are put back to the
   * previous permissions and nothing is recorded.
   */
  async applyAuthorization(spec: AuthorizationSpec): Promise<{ record: AuthorizationRecord; resynced: string[]; warnings: string[] }> {
    const previous = await this.catalog.getAuthorization(spec.name);
    const endpoints = previous ? await this.catalog.endpointsUsingAuthorization(spec.name) : [];
    const done: EndpointRecord[] = [];
    const warnings: string[] = [];
    if (previous && canonical(previous.permissions) !== canonical(spec.permissions)) {
      try {
        for (const endpoint of endpoints) {
          const target = await this.target(endpoint.resource);
          const result = await syncAccessRole(target, { endpoint: endpoint.name, permissions: spec.permissions });
          warnings.push(...result.warnings);
          done.push(endpoint);
        }
      } catch (err) {
        for (const endpoint of done) {
          const target = await this.target(endpoint.resource);
          await syncAccessRole(target, { endpoint: endpoint.name, permissions: previous.permissions }).catch(() => undefined);
        }
        throw err;
      }
    }
    const record = await this.catalog.putAuthorization(spec);
    return { record, resynced: done.map((e) => e.name), warnings };
  }

  /** Removes a permission set; refused while endpoints use it. */
  async removeAuthorization(name: string): Promise<void> {
    await this.catalog.deleteAuthorization(name);
  }

  // -------------------------------------------------------------------------------------
  // Endpoints

  private async endpointInputs(resource: string, authorization: string): Promise<{ target: OpenTarget; auth: AuthorizationRecord }> {
    const auth = await this.catalog.getAuthorization(authorization);
    if (!auth) {
      throw new NotFoundError('authorization', authorization, 'Create the adaptive_authorization with this name first, or reference it as adaptive_authorization.<label>.name.');
    }
    const target = await this.target(resource);
    return { target, auth };
  }

  /**
   * Creates or updates an endpoint: its access role on the target holds exactly the
   * authorization's grants. A changed ttl moves the expiry of live credentials to
   * granted_at + ttl (a longer ttl extends them; a shorter one shortens them).
   */
  async applyEndpoint(spec: {
    readonly name: string;
    readonly type: EndpointType;
    readonly ttlSeconds: number;
    readonly resource: string;
    readonly authorization: string;
  }): Promise<{ record: EndpointRecord; warnings: string[]; extended: string[] }> {
    const { target, auth } = await this.endpointInputs(spec.resource, spec.authorization);
    await ensureManagedRole(target);
    const sync = await syncAccessRole(target, { endpoint: spec.name, permissions: auth.permissions });
    const previous = await this.catalog.getEndpoint(spec.name);
    const record = await this.catalog.putEndpoint({ ...spec, accessRole: sync.role });
    const live = await this.catalog.liveCredentials({ endpoint: spec.name });
    await this.restoreMemberships(target, sync.role, live);
    const extended: string[] = [];
    if (previous && previous.ttlSeconds !== spec.ttlSeconds && live.length > 0) {
      extended.push(...(await this.moveExpiries(target, live, spec.ttlSeconds)));
    }
    return { record, warnings: [...sync.warnings], extended };
  }

  /** Live credentials keep their membership in the access role even if it was re-created. */
  private async restoreMemberships(target: TargetDb, accessRole: string, live: readonly CredentialRecord[]): Promise<void> {
    if (live.length === 0) return;
    const client = await target.pool.connect();
    try {
      await transaction(client, async () => {
        const { rows } = await client.query<{ name: string }>(
          `select r.rolname::text as name from pg_catalog.pg_roles r
            where r.rolname = any($1::text[])
              and not pg_catalog.pg_has_role(r.oid, (select oid from pg_catalog.pg_roles where rolname = $2), 'MEMBER')`,
          [live.map((c) => c.roleName), accessRole],
        );
        if (rows.length > 0) await client.query(rows.map((r) => `GRANT ${ident(accessRole)} TO ${ident(r.name)}`).join(';\n'));
      });
    } finally {
      client.release();
    }
  }

  private async moveExpiries(target: TargetDb, live: readonly CredentialRecord[], ttlSeconds: number): Promise<string[]> {
    const now = Date.now();
    const byExpiry = new Map<number, string[]>();
    for (const c of live) {
      const at = c.grantedAt.getTime() + ttlSeconds * 1000;
      if (c.expiresAt.getTime() <= now || at === c.expiresAt.getTime()) continue; // expired stays expired
      const at2 = Math.max(at, now + 1000); // a shorter ttl ends access now, not in the past
      byExpiry.set(at2, [...(byExpiry.get(at2) ?? []), c.roleName]);
    }
    const moved: string[] = [];
    for (const [at, roles] of byExpiry) {
      const result = await extendCredentials(target, roles, new Date(at));
      if (result.extended.length > 0) {
        await this.catalog.transaction(async (tx) => {
          await tx.extend(result.extended, new Date(at));
          await tx.appendAudit(result.extended.map((roleName) => ({ event: 'extend', roleName, detail: { expires_at: new Date(at).toISOString() } })));
        });
      }
      moved.push(...result.extended);
    }
    return moved;
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
      if (canonical(state.permissions) !== canonical(desired)) {
        drift.push(`grants differ from authorization "${record.authorization}": has ${canonical(state.permissions)}, wants ${canonical(desired)}`);
      }
    }
    return { record, desired, state, drift };
  }

  /** Revokes the endpoint's credentials, drops its access role, and forgets it. */
  async removeEndpoint(name: string): Promise<void> {
    const record = await this.catalog.getEndpoint(name);
    if (!record) return;
    const target = await this.target(record.resource);
    const live = await this.catalog.liveCredentials({ endpoint: name });
    await this.revoke(target, live, 'endpoint removed');
    try {
      await dropAccessRole(target, name, { revokeMemberships: true });
    } catch (err) {
      if (!(err instanceof AccessRoleInUseError)) throw err;
    }
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
   * longer wanted are revoked. One transaction per target; on failure, credentials issued on
   * other targets in this call are revoked again.
   */
  async applyGroup(spec: { readonly name: string; readonly members: readonly string[]; readonly endpoints: readonly string[] }, have: ReadonlySet<PairKey>): Promise<GroupApplyResult> {
    const endpoints = new Map<string, EndpointRecord>();
    for (const name of spec.endpoints) {
      const record = await this.catalog.getEndpoint(name);
      if (!record) throw new NotFoundError('endpoint', name, 'Create the adaptive_endpoint with this name first, or reference it as adaptive_endpoint.<label>.name.');
      endpoints.set(name, record);
    }
    const wanted = new Set<PairKey>();
    for (const m of spec.members) for (const e of spec.endpoints) wanted.add(pairKey(m, e));

    const live = await this.catalog.liveCredentials({ group: spec.name });
    const now = Date.now();
    const liveByPair = new Map(live.map((c) => [pairKey(c.member, c.endpoint), c]));
    const toRevoke = live.filter((c) => !wanted.has(pairKey(c.member, c.endpoint)));
    const toIssue = [...wanted].filter((k) => !have.has(k));
    const kept = [...wanted].filter((k) => have.has(k) && liveByPair.has(k));

    // Revoke what left the group first: a member removed loses access even if issuing fails.
    const revoked: string[] = [];
    for (const [resource, creds] of groupBy(toRevoke, (c) => c.resource)) {
      const target = await this.target(resource);
      const reasonOf = (c: CredentialRecord): string => (spec.members.includes(c.member) ? 'endpoint removed' : 'member removed');
      for (const [reason, batch] of groupBy(creds, reasonOf)) revoked.push(...(await this.revoke(target, batch, reason, spec.name)).revoked);
    }

    // Pairs to issue whose old credential is still recorded live (role dropped by hand,
    // or a renewal): revoke the old one first so the catalog never has two.
    const stale = toIssue.flatMap((k) => {
      const c = liveByPair.get(k);
      return c ? [c] : [];
    });
    for (const [resource, creds] of groupBy(stale, (c) => c.resource)) {
      await this.revoke(await this.target(resource), creds, 'replaced', spec.name);
    }

    const requestsByResource = groupBy(
      toIssue.map((k) => {
        const [member = '', endpoint = ''] = k.split('\u0000');
        return { member, endpoint, record: endpoints.get(endpoint)! };
      }),
      (r) => r.record.resource,
    );
    const issued: Array<{ resource: string; credential: IssuedCredential }> = [];
    try {
      for (const [resource, requests] of requestsByResource) {
        const target = await this.target(resource);
        const grantedAt = new Date();
        const creds = await issueCredentials(
          target,
          requests.map((r) => ({
            member: r.member,
            endpoint: r.endpoint,
            accessRole: r.record.accessRole,
            validUntil: new Date(grantedAt.getTime() + r.record.ttlSeconds * 1000),
            group: spec.name,
          })),
        );
        issued.push(...creds.map((credential) => ({ resource, credential })));
        await this.catalog.transaction(async (tx) => {
          await tx.recordIssued(
            creds.map((c) => ({ roleName: c.roleName, resource, endpoint: c.endpoint, group: spec.name, member: c.member, grantedAt, expiresAt: c.validUntil })),
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
    } catch (err) {
      // Undo this call's grants on every target, so a failure changes nothing.
      for (const [resource, batch] of groupBy(issued, (i) => i.resource)) {
        const target = await this.target(resource);
        const names = batch.map((b) => b.credential.roleName);
        await revokeCredentials(target, names, 'rolled back').catch(() => undefined);
        await this.catalog.markRevoked(names, 'rolled back').catch(() => undefined);
      }
      throw err;
    }

    const warnings: string[] = [];
    const keptViews: MemberCredential[] = [];
    for (const k of kept) {
      const c = liveByPair.get(k)!;
      if (c.expiresAt.getTime() <= now) warnings.push(expiredWarning(c, spec.name));
      keptViews.push(await this.credentialView(c, null));
    }
    const issuedViews = await Promise.all(
      issued.map(({ resource, credential: c }) => this.credentialView({ ...c, expiresAt: c.validUntil, resource }, c.password)),
    );
    await this.catalog.putGroup({ name: spec.name, members: [...spec.members], endpoints: [...spec.endpoints] });
    return { issued: issuedViews, kept: keptViews, revoked, warnings };
  }

  /** The group's credentials as recorded, checked against the targets. */
  async inspectGroup(name: string): Promise<GroupInspection | null> {
    const record = await this.catalog.getGroup(name);
    if (!record) return null;
    const live = await this.catalog.liveCredentials({ group: name });
    const now = Date.now();
    const result: { live: MemberCredential[]; expired: MemberCredential[]; missing: MemberCredential[] } = { live: [], expired: [], missing: [] };
    for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
      const target = await this.target(resource);
      const roles = new Map((await listManagedRoles(target)).map((r) => [r.roleName, r]));
      for (const c of creds) {
        const view = await this.credentialView(c, null);
        const role = roles.get(c.roleName);
        if (c.expiresAt.getTime() <= now) result.expired.push(view);
        else if (!role || !role.canLogin) result.missing.push(view);
        else result.live.push(view);
      }
    }
    return result;
  }

  /** Revokes every credential of the group and forgets it. */
  async removeGroup(name: string): Promise<string[]> {
    const live = await this.catalog.liveCredentials({ group: name });
    const revoked: string[] = [];
    for (const [resource, creds] of groupBy(live, (c) => c.resource)) {
      const result = await this.revoke(await this.target(resource), creds, 'group destroyed', name);
      revoked.push(...result.revoked);
      if (result.failed.length > 0) {
        throw new Error(
          `could not revoke ${result.failed.length} credential(s) of group "${name}" on ${resource}; they are disabled and will be retried: ` +
            result.failed.map((f) => `${f.role}: ${f.error}`).join('; '),
        );
      }
    }
    if (await this.catalog.getGroup(name)) await this.catalog.deleteGroup(name);
    return revoked;
  }

  /** Revokes credentials on one target and records it (roles that failed stay disabled, recorded live). */
  private async revoke(target: TargetDb, creds: readonly CredentialRecord[], reason: string, group?: string): Promise<RevokeResult> {
    if (creds.length === 0) return { revoked: [], failed: [], skipped: [] };
    const result = await revokeCredentials(target, creds.map((c) => c.roleName), reason);
    const done = new Set(result.revoked);
    const byRole = new Map(creds.map((c) => [c.roleName, c]));
    if (done.size > 0) {
      await this.catalog.transaction(async (tx) => {
        await tx.markRevoked([...done], reason);
        await tx.appendAudit(
          [...done].map((roleName) => {
            const c = byRole.get(roleName);
            return { event: 'revoke', roleName, resource: target.name, detail: { reason }, ...(c ? { member: c.member, endpoint: c.endpoint } : {}), ...(group ? { group } : {}) };
          }),
        );
      });
    }
    return result;
  }

  // -------------------------------------------------------------------------------------
  // Reaper

  /**
   * One reaper pass. With `onlyRecorded`, only targets whose catalog records show expired,
   * unrevoked credentials are visited (cheap: what the provider does on every run);
   * otherwise every target is scanned (the CLI's `reap`, which also catches roles the
   * catalog lost track of).
   */
  async reap(options: { readonly onlyRecorded?: boolean; readonly now?: Date } = {}): Promise<ReapReport> {
    const now = options.now ?? new Date();
    const resources = options.onlyRecorded
      ? [...new Set((await this.catalog.expiredUnrevoked(now)).map((c) => c.resource))]
      : (await this.catalog.listResources()).map((r) => r.name);
    const results: ReapResult[] = [];
    const errors: Array<{ target: string; error: string }> = [];
    for (const resource of resources) {
      try {
        const target = await this.target(resource);
        const result = await reapOnce(target, now);
        results.push(result);
        await this.recordReaped(resource, result, now);
      } catch (err) {
        errors.push({ target: resource, error: errorText(err) });
      }
    }
    return { results, errors };
  }

  /** Marks reaped roles (and expired records whose role is already gone) in the catalog. */
  private async recordReaped(resource: string, result: ReapResult, now: Date): Promise<void> {
    const reaped = new Set(result.reaped.map((r) => r.role));
    const failed = new Set(result.failed.map((f) => f.role));
    const expired = await this.catalog.expiredUnrevoked(now, { resource });
    const target = await this.target(resource);
    const present = new Set((await listManagedRoles(target)).map((r) => r.roleName));
    const gone = expired.filter((c) => !failed.has(c.roleName) && (reaped.has(c.roleName) || !present.has(c.roleName)));
    if (gone.length === 0 && result.reaped.length === 0) return;
    await this.catalog.transaction(async (tx) => {
      await tx.markRevoked(
        gone.map((c) => c.roleName),
        'expired',
      );
      const byRole = new Map(gone.map((c) => [c.roleName, c]));
      const events = [...new Set([...reaped, ...byRole.keys()])].map((roleName) => {
        const c = byRole.get(roleName);
        const r = result.reaped.find((x) => x.role === roleName);
        return {
          event: 'expire',
          resource,
          roleName,
          ...(c ? { member: c.member, endpoint: c.endpoint, group: c.group } : {}),
          ...(!c && r?.member ? { member: r.member } : {}),
          ...(!c && r?.endpoint ? { endpoint: r.endpoint } : {}),
          detail: { expired_at: (c?.expiresAt ?? r?.expiredAt ?? now).toISOString() },
        };
      });
      await tx.appendAudit(events);
    });
  }
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
