/**
 * The runtime's whole public interface: what the resources (src/resources), the CLI
 * (src/cli) and the demo (src/demo) may use. Everything else under src/runtime is private
 * to it, except the pure checks in `validation/`.
 *
 * In the manner of Vault's database plugin interface (sdk/database/dbplugin/v5): a few
 * verbs per kind of record (apply, read, remove; inspect where the target is compared with
 * the catalog), each taking a request and returning a response whose fields say what is
 * guaranteed. Two rules hold for every verb that changes something:
 *
 * - **Targets first, catalog after.** A change is made on the target(s) first and recorded
 *   in the catalog after; a failure part-way is undone on the targets already changed, so
 *   on error nothing is changed (where an undo itself fails, the error says what is left
 *   and that applying again finishes it).
 * - **Warnings are not errors.** What went through with a caveat comes back in the
 *   response's `warnings`, each with a `kind` saying what it concerns; callers pass every
 *   one on to people.
 *
 * The catalog's connection and the targets' admin connections live inside a `Runtime` and
 * are not reachable from outside it. A `CatalogReader` reads credentials and the audit log
 * and cannot write.
 */
import { Catalog, type AuditFilter, type AuditRecord, type AuthorizationRecord, type AuthorizationSpec, type CatalogSettings, type CredentialCount, type CredentialFilter, type CredentialListener, type ReaperLeases, type CredentialRecord, type EndpointRecord, type GroupRecord, type ResourceInfo } from './catalog';
import { AccessService, type AuthorizationApplyResult, type CheckAuthorizationRequest, type CheckAuthorizationResult, type IssueCredentialRequest, type OnDemandCredential, type RenewCredentialRequest, type RenewCredentialResponse, type EndpointApplyResult, type EndpointInput, type EndpointInspection, type GroupApplyResult, type GroupInput, type GroupInspection, type PairKey, type ReapReport, type RecordKind } from './service';
import type { TargetConfig } from './types';

export { CATALOG_KEY_ENV, CATALOG_URL_ENV, CatalogError, parseCatalogKey, resolveCatalogSettings, type CatalogErrorCode, type CatalogSettings } from './catalog';
export type { AuditFilter, AuditRecord, AuthorizationRecord, CredentialCount, CredentialFilter, CredentialListener, ReaperLeases, CredentialRecord, EndpointRecord, GroupDelivery, GroupRecord, ResourceInfo } from './catalog';
export { nameList } from './catalog/errors';
export { ConnectionError, DEFAULT_TABLE_LIMIT, type ConnectionCheck, type PreflightReport, type ResolvedTarget, type RoleInspection } from './connections';
export { errorText, type ErrorTextOptions } from './errors';
export { runtimeSecrets } from './secret-registry';
export {
  NotFoundError,
  pairKey,
  type DeliveredSecret,
  type EndpointInput,
  type EndpointInspection,
  type GroupApplyResult,
  type GroupInput,
  type GroupInspection,
  type IssueCredentialRequest,
  type MemberCredential,
  type OnDemandCredential,
  type RenewCredentialRequest,
  type RenewCredentialResponse,
  type MissingCredential,
  type PairKey,
  type ReapReport,
  type RecordKind,
  type ServiceWarning,
  type ServiceWarningKind,
} from './service';
export type { AuthorizationApplyResult, EndpointApplyResult } from './service';
export { checkTarget, type TargetCheck } from './service/check-target';
export { connectionUri, SSL_MODES, ValidationError, type ConnectionTarget, type SslMode, type TargetConfig, type ValidationIssue } from './types';

// ---------------------------------------------------------------------------------------
// Opening

/** Where the catalog is and how to open it. */
export interface OpenRuntimeRequest {
  /** The catalog's URL and key (`resolveCatalogSettings`). Without a key, stored secrets can be neither written nor read. */
  readonly catalog: CatalogSettings;
  /** Schema of the catalog tables; default `adaptive`. */
  readonly schema?: string | undefined;
  /** `application_name` of the catalog's connections. */
  readonly applicationName?: string | undefined;
  /** `application_name` of the targets' admin connections, replacing each target's own (a reaper replica's name). */
  readonly targetApplicationName?: string | undefined;
  /**
   * Open to read only (plan, refresh, import): nothing is migrated, locked or written, and
   * every verb that changes something fails with `CatalogError` code `read-only` until
   * `allowWrites()`. A catalog older than this build is upgraded when the key is given,
   * refused (code `outdated`) without it. Otherwise the catalog is migrated at open.
   */
  readonly readOnly?: boolean | undefined;
}

/**
 * Opens the catalog. Fails with `CatalogError`: code `connect` (unreachable; the message
 * never holds the URL's password), `version` (migrated by a newer build), `outdated`,
 * `invalid` (a bad schema name). Nothing else is connected until a verb needs a target.
 */
export async function openRuntime(request: OpenRuntimeRequest): Promise<Runtime> {
  const catalog = await Catalog.open(request.catalog.url, {
    key: request.catalog.key,
    schema: request.schema,
    applicationName: request.applicationName,
    readOnly: request.readOnly,
  });
  return new OpenRuntime(catalog, request.targetApplicationName);
}

// ---------------------------------------------------------------------------------------
// The verbs

/** What applying a resource takes: the target's settings as written (checked by `validation/target`). */
export type ApplyResourceRequest = TargetConfig;

/** What applying an authorization takes: its name, resource type and permissions (validated and normalised by the verb). */
export type ApplyAuthorizationRequest = AuthorizationSpec;
/** The record as stored, the endpoints re-synced, and what could not be made exact (`access role`). */
export type ApplyAuthorizationResponse = AuthorizationApplyResult;
/** What checking an authorization's permissions takes: its name and the permission set (validated) to check. */
export type { CheckAuthorizationRequest };
/** The endpoints checked, the issues a sync would refuse, the endpoints whose target could not be reached. */
export type CheckAuthorizationResponse = CheckAuthorizationResult;

/** What applying an endpoint takes: name, type, ttl in seconds, and the names of its resource and authorization. */
export type ApplyEndpointRequest = EndpointInput;
/** The record as stored, the login roles whose expiry moved, and the warnings. */
export type ApplyEndpointResponse = EndpointApplyResult;

/** Credentials issued (with passwords, only here), kept, revoked, and the warnings. */
export type ApplyGroupResponse = GroupApplyResult;

/** What applying a resource (a target) found. */
export interface ApplyResourceResponse {
  /** The server's version, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  readonly serverVersion: string;
}

/** What applying a group takes. */
export interface ApplyGroupRequest extends GroupInput {
  /**
   * Pairs (`pairKey(member, endpoint)`) whose credentials the caller already holds, with
   * their passwords (Terraform state): they are kept. Every other wanted pair is issued.
   */
  readonly have: ReadonlySet<PairKey>;
}

/** What a reaper pass takes. */
export interface ReapRequest {
  /**
   * Visit only targets whose catalog records show expired, unrevoked credentials (cheap:
   * once per apply). Otherwise every target is visited, which also finds credentials the
   * catalog's clock has not seen expire yet but the target's has.
   */
  readonly onlyRecorded?: boolean;
  /**
   * Visit only these targets: a reaper replica's share (see `renewReaperLeases`).
   * Connections to other targets are closed.
   */
  readonly targets?: readonly string[];
}

/** How `listenForCredentialChanges` listens. */
export interface ListenOptions {
  /** A reaper replica's name: the connection holds its presence (see `renewReaperLeases`). */
  readonly presenceOf?: string;
}

/** One lease round of a reaper replica. */
export interface RenewReaperLeasesRequest {
  /** The replica, unique among those running (e.g. host/pid/random). */
  readonly holder: string;
  /** How long its leases last unless renewed; renew well within it (a quarter, say). */
  readonly leaseMs: number;
}

/**
 * The runtime over one catalog. Verbs that change something need a catalog opened (or
 * made) writable; reads work either way. `read*` verbs read the catalog only and return
 * null when the record is absent; `inspect*` verbs also compare with the target.
 */
export interface Runtime {
  /**
   * Makes a runtime opened read-only writable, on the same connection: migrates the catalog
   * (creating its schema on a new database). Nothing to do when already writable.
   */
  allowWrites(): Promise<void>;

  /**
   * Creates or updates a target: connects with its settings, checks the admin can do the
   * job (the error says exactly what is missing), creates the marker role, then records it.
   * On error the catalog is unchanged.
   */
  applyResource(request: ApplyResourceRequest): Promise<ApplyResourceResponse>;
  /** The resource without its secrets (needs no catalog key), or null. */
  readResource(name: string): Promise<ResourceInfo | null>;
  /** The resource's full settings, secrets decrypted (needs the key: `CatalogError` code `key`), or null. */
  readResourceConfig(name: string): Promise<TargetConfig | null>;
  /** Forgets a target. Refused (`CatalogError` code `referenced`) while endpoints use it; nothing changed then. */
  removeResource(name: string): Promise<void>;

  /**
   * Creates or updates a permission set and re-syncs the access role of every endpoint
   * using it. If one target fails, the endpoints already re-synced are put back and
   * nothing is recorded. Warnings: `access role`.
   */
  applyAuthorization(request: ApplyAuthorizationRequest): Promise<ApplyAuthorizationResponse>;
  readAuthorization(name: string): Promise<AuthorizationRecord | null>;
  /**
   * Read only, for plans: checks a permission set on the target of every endpoint the
   * catalog records as using the authorization (schemas, tables, sequences and functions it
   * names exist; a database it names is the target's). Changes nothing anywhere; a target
   * that cannot be reached is listed in `unchecked`, not thrown.
   */
  checkAuthorization(request: CheckAuthorizationRequest): Promise<CheckAuthorizationResponse>;
  /** Refused (`CatalogError` code `referenced`) while endpoints use it; nothing changed then. */
  removeAuthorization(name: string): Promise<void>;

  /**
   * Creates or updates an endpoint: its access role holds exactly the authorization's
   * grants, then live credentials follow (membership restored, expiry = granted_at + ttl,
   * those past a lower ttl revoked, those on a previous resource revoked). Invalid input
   * (`ValidationError`) or a missing resource or authorization (`NotFoundError`) changes
   * nothing; a failure to record puts the access role back. Each step is idempotent, so
   * applying again finishes what a failure interrupted. Warnings: `access role`,
   * `endpoint moved`, `ttl ended`, `ttl not revoked`.
   */
  applyEndpoint(request: ApplyEndpointRequest): Promise<ApplyEndpointResponse>;
  readEndpoint(name: string): Promise<EndpointRecord | null>;
  /** The endpoint with what its access role holds on the target and the differences (`drift`), or null. */
  inspectEndpoint(name: string): Promise<EndpointInspection | null>;
  /**
   * Revokes the endpoint's credentials, drops its access role and forgets it. Refused with
   * nothing changed (`CatalogError` code `referenced`) while a group lists it.
   */
  removeEndpoint(name: string): Promise<void>;

  /**
   * Makes the group's credentials match members x endpoints: revokes what left first,
   * then issues every wanted pair not in `have`, one transaction per target. A pair another
   * group holds is refused before anything changes; a missing endpoint is a
   * `NotFoundError`; a failure while issuing revokes what this call issued. Warnings:
   * `grant expired`, `credential lost`.
   */
  applyGroup(request: ApplyGroupRequest): Promise<ApplyGroupResponse>;
  readGroup(name: string): Promise<GroupRecord | null>;
  /** The group's credentials checked against the targets (live, expired, missing with why), or null. */
  inspectGroup(name: string): Promise<GroupInspection | null>;
  /** Revokes every credential of the group, then forgets it; if one cannot be revoked, the group is kept. Returns the roles revoked. */
  removeGroup(name: string): Promise<string[]>;

  /**
   * Issues an eligible member an on-demand credential on an endpoint: a login role of its
   * own (never the member's standing one), in the endpoint's access role, `VALID UNTIL` the
   * server's now() + ttl, recorded in the catalog (kind `ephemeral`) with an audit event
   * `grant.ephemeral`. A member no group makes eligible is refused with a `ValidationError`
   * (field `member`) naming the groups that list the endpoint; nothing is changed then. A
   * missing endpoint is a `NotFoundError`. The reaper revokes it at expiry if nobody does.
   */
  issueCredential(request: IssueCredentialRequest): Promise<OnDemandCredential>;
  /**
   * Moves an on-demand credential's expiry to now + ttl, never past its `notAfter`. A
   * credential already revoked or expired is not brought back (`CatalogError` code
   * `gone`).
   */
  renewCredential(request: RenewCredentialRequest): Promise<RenewCredentialResponse>;
  /**
   * Revokes an on-demand credential at once: login disabled, open sessions ended, role
   * dropped, recorded (audit `revoke`, reason `closed`). Revoking one already gone does nothing.
   */
  revokeCredential(roleName: string, reason?: string): Promise<void>;

  /** The names of every record of a kind, ordered by name as the catalog database sorts. */
  listNames(kind: RecordKind): Promise<string[]>;

  /**
   * One reaper pass over the credentials the catalog issued and not yet revoked, expiry
   * judged by each target's clock, recorded in the catalog. A target that fails is in
   * `errors`; the others are still reaped. `msUntilNextExpiry` says how long a watcher may
   * sleep.
   */
  reap(request?: ReapRequest): Promise<ReapReport>;
  /**
   * How long until the next recorded credential expires, by the catalog's clock, or null
   * when none will: a cheap catalog-only query for a watcher between passes.
   */
  msUntilNextExpiry(request?: { readonly targets?: readonly string[] }): Promise<number | null>;

  /**
   * Reaper replicas share the targets through leases in the catalog: renews this replica's
   * presence and leases, gives back those above its share (targets / live replicas) and
   * claims free or lapsed ones up to it. A replica that stops renewing (dead, cut off)
   * loses its leases after `leaseMs`; two replicas never hold the same target's lease.
   */
  renewReaperLeases(request: RenewReaperLeasesRequest): Promise<ReaperLeases>;
  /** Gives up a replica's leases at once (it is stopping), so the others take its targets. */
  releaseReaperLeases(holder: string): Promise<void>;
  /**
   * Calls `onChange` when any process issues, extends or revokes a credential in this
   * catalog (LISTEN/NOTIFY), so a watcher need not poll; `onLost` once if that connection
   * fails. `close()` stops listening. With `presenceOf` (a reaper replica's name) the
   * connection also marks that replica present: when it ends, the other replicas' next lease
   * round takes its targets at once instead of after its leases lapse.
   */
  listenForCredentialChanges(onChange: () => void, onLost: (err: unknown) => void, options?: ListenOptions): Promise<CredentialListener>;

  /** Closes every target connection and the catalog. */
  close(): Promise<void>;
}

/** `Runtime` over `AccessService`; the service, the catalog and the target connections stay private. */
class OpenRuntime implements Runtime {
  readonly #catalog: Catalog;
  readonly #service: AccessService;

  constructor(catalog: Catalog, targetApplicationName?: string) {
    this.#catalog = catalog;
    this.#service = new AccessService(catalog, targetApplicationName);
  }

  async allowWrites(): Promise<void> {
    await this.#catalog.allowWrites();
  }

  async applyResource(config: TargetConfig): Promise<ApplyResourceResponse> {
    const report = await this.#service.applyResource(config);
    return { serverVersion: report.serverVersion };
  }

  async readResource(name: string): Promise<ResourceInfo | null> {
    return (await this.#catalog.resourceInfo(name)) ?? null;
  }

  async readResourceConfig(name: string): Promise<TargetConfig | null> {
    return (await this.#catalog.getResource(name))?.target ?? null;
  }

  removeResource(name: string): Promise<void> {
    return this.#service.removeResource(name);
  }

  checkAuthorization(request: CheckAuthorizationRequest): Promise<CheckAuthorizationResult> {
    return this.#service.checkAuthorization(request);
  }

  applyAuthorization(spec: AuthorizationSpec): Promise<AuthorizationApplyResult> {
    return this.#service.applyAuthorization(spec);
  }

  async readAuthorization(name: string): Promise<AuthorizationRecord | null> {
    return (await this.#catalog.getAuthorization(name)) ?? null;
  }

  removeAuthorization(name: string): Promise<void> {
    return this.#service.removeAuthorization(name);
  }

  applyEndpoint(spec: EndpointInput): Promise<EndpointApplyResult> {
    return this.#service.applyEndpoint(spec);
  }

  async readEndpoint(name: string): Promise<EndpointRecord | null> {
    return (await this.#catalog.getEndpoint(name)) ?? null;
  }

  inspectEndpoint(name: string): Promise<EndpointInspection | null> {
    return this.#service.inspectEndpoint(name);
  }

  removeEndpoint(name: string): Promise<void> {
    return this.#service.removeEndpoint(name);
  }

  applyGroup(request: ApplyGroupRequest): Promise<GroupApplyResult> {
    const { have, ...group } = request;
    return this.#service.applyGroup(group, have);
  }

  async readGroup(name: string): Promise<GroupRecord | null> {
    return (await this.#catalog.getGroup(name)) ?? null;
  }

  inspectGroup(name: string): Promise<GroupInspection | null> {
    return this.#service.inspectGroup(name);
  }

  removeGroup(name: string): Promise<string[]> {
    return this.#service.removeGroup(name);
  }

  issueCredential(request: IssueCredentialRequest): Promise<OnDemandCredential> {
    return this.#service.issueCredential(request);
  }

  renewCredential(request: RenewCredentialRequest): Promise<RenewCredentialResponse> {
    return this.#service.renewCredential(request);
  }

  revokeCredential(roleName: string, reason = 'closed'): Promise<void> {
    return this.#service.revokeCredential(roleName, reason);
  }

  async listNames(kind: RecordKind): Promise<string[]> {
    const lists: Record<RecordKind, () => Promise<ReadonlyArray<{ readonly name: string }>>> = {
      resource: () => this.#catalog.listResources(),
      authorization: () => this.#catalog.listAuthorizations(),
      endpoint: () => this.#catalog.listEndpoints(),
      group: () => this.#catalog.listGroups(),
    };
    return (await lists[kind]()).map((r) => r.name);
  }

  reap(request: ReapRequest = {}): Promise<ReapReport> {
    return this.#service.reap(request);
  }

  msUntilNextExpiry(request: { readonly targets?: readonly string[] } = {}): Promise<number | null> {
    return this.#catalog.msUntilNextExpiry(request.targets);
  }

  renewReaperLeases(request: RenewReaperLeasesRequest): Promise<ReaperLeases> {
    return this.#catalog.renewReaperLeases(request.holder, request.leaseMs);
  }

  releaseReaperLeases(holder: string): Promise<void> {
    return this.#catalog.releaseReaperLeases(holder);
  }

  listenForCredentialChanges(onChange: () => void, onLost: (err: unknown) => void, options: ListenOptions = {}): Promise<CredentialListener> {
    return this.#catalog.listenForCredentialChanges(onChange, onLost, options);
  }

  close(): Promise<void> {
    return this.#service.close();
  }
}

// ---------------------------------------------------------------------------------------
// Reading only

/** Where the catalog is, for reading. */
export interface OpenCatalogReaderRequest {
  /** The catalog's URL. No key: a reader decrypts nothing. */
  readonly url: string;
  readonly schema?: string | undefined;
  readonly applicationName?: string | undefined;
}

/**
 * The catalog for commands that only look (`status`, `audit`, the demo's audit log):
 * opened read-only (nothing migrated, locked or written), and no verb here writes. A
 * database without the catalog's tables reads as empty.
 */
export interface CatalogReader {
  /** Credentials issued and not revoked (expired ones the reaper has not reached included), matching `filter`. */
  liveCredentials(filter?: CredentialFilter): Promise<CredentialRecord[]>;
  /** Audit events matching `filter`, oldest first unless `newestFirst`. */
  readAudit(filter?: AuditFilter): Promise<AuditRecord[]>;
  /** Every target in the catalog with where it is and its tags, by name; nothing secret. */
  listTargets(): Promise<TargetSummary[]>;
  /** Per target: live credentials, and expired ones not reaped yet (by the catalog's clock). */
  credentialCounts(): Promise<CredentialCount[]>;
  /** Resolves when the catalog database answers a query (for health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A target as `status` shows it: its address and the labels it was tagged with. */
export interface TargetSummary {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Empty when the target has none. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Opens the catalog read-only. Fails with `CatalogError`: `connect`, `version`, `invalid`,
 * and `outdated` for a catalog older than this build (upgrading it needs the key, which a
 * reader does not take; the message says how).
 */
export async function openCatalogReader(request: OpenCatalogReaderRequest): Promise<CatalogReader> {
  const catalog = await Catalog.open(request.url, { schema: request.schema, applicationName: request.applicationName, readOnly: true });
  return new Reader(catalog);
}

class Reader implements CatalogReader {
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  liveCredentials(filter: CredentialFilter = {}): Promise<CredentialRecord[]> {
    return this.#catalog.liveCredentials(filter);
  }

  readAudit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return this.#catalog.readAudit(filter);
  }

  async listTargets(): Promise<TargetSummary[]> {
    const resources = await this.#catalog.listResources();
    return resources.map(({ name, config }) => ({ name, host: config.host, port: config.port, database: config.database, tags: config.tags ?? {} }));
  }

  credentialCounts(): Promise<CredentialCount[]> {
    return this.#catalog.credentialCounts();
  }

  ping(): Promise<void> {
    return this.#catalog.ping();
  }

  close(): Promise<void> {
    return this.#catalog.close();
  }
}

