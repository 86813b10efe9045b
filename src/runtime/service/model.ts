/**
 * The nouns the service's verbs take and return: credentials as handed to members, what an
 * apply did with a caveat (warnings), what an inspection found, what a reaper pass did, and
 * the error for a name the catalog does not hold. Plain records; no Terraform types.
 */
import type { AccessRoleState } from '../access/access-role';
import type { ReapResult } from '../access/reaper';
import type { EndpointRecord, EndpointType, GroupDelivery } from '../catalog';
import type { Permissions, SessionSettings, SslMode } from '../types';

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
  /** The target's `tls_root_cert` (PEM, public) for the client's sslrootcert, or null when it trusts the system store. */
  readonly caCert: string | null;
}

/** What issuing an on-demand credential takes. */
export interface IssueCredentialRequest {
  /** The endpoint's name. */
  readonly endpoint: string;
  /** The member's email; must belong to a group that lists the endpoint (compared case-insensitively). */
  readonly member: string;
  /**
   * How long the password works, in whole seconds from the server's now(); default 900
   * (15 minutes), or the endpoint's ttl when that is shorter. Longer than the endpoint's
   * ttl is a `ValidationError` (field `ttl`).
   */
  readonly ttlSeconds?: number | undefined;
  /** Only this group's eligibility counts (it must list both the member and the endpoint); default any group. */
  readonly group?: string | undefined;
  /** Who asks, recorded in the audit event's detail (`terraform`, `cli`). */
  readonly via?: string | undefined;
}

/** An on-demand credential: a login role of its own, with its password (only here). */
export interface OnDemandCredential extends MemberCredential {
  readonly password: string;
  /** The login role, unique to this issue (the member's standing credential's name plus a suffix). */
  readonly roleName: string;
  /** The group that made the member eligible. */
  readonly group: string;
  /** When PostgreSQL first accepted it (the server's now()). */
  readonly grantedAt: Date;
  /** The latest expiry a renewal may reach: the endpoint's ttl from `grantedAt`. */
  readonly notAfter: Date;
}

/** What renewing an on-demand credential takes. */
export interface RenewCredentialRequest {
  readonly roleName: string;
  /** The new expiry is the server's now() + this, capped at the credential's `notAfter`. */
  readonly ttlSeconds: number;
}

/** What a renewal did. */
export interface RenewCredentialResponse {
  /** The expiry now in force (unchanged when already at `notAfter`). */
  readonly expiresAt: Date;
  /** True when `expiresAt` is the credential's `notAfter`: it cannot be renewed further. */
  readonly atLimit: boolean;
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

export function warn(kind: ServiceWarningKind, message: string): ServiceWarning {
  return { kind, message };
}

/** What applying a group did. */
export interface GroupApplyResult {
  /** Newly issued credentials, with passwords with delivery `state` only (including re-issues of pairs not in `have`). */
  readonly issued: MemberCredential[];
  /** Credentials still live and kept as they were (no password: it is in Terraform state). */
  readonly kept: MemberCredential[];
  /** Role names revoked because their member or endpoint left the group. */
  readonly revoked: string[];
  readonly warnings: ServiceWarning[];
  /** With delivery `secrets_manager`: the secret of every credential issued or kept (empty otherwise). */
  readonly delivered: DeliveredSecret[];
}

/** Where a member's standing credential was delivered (the secret holds the password). */
export interface DeliveredSecret {
  readonly member: string;
  readonly endpoint: string;
  readonly arn: string;
  readonly expiresAt: Date;
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

/** What an endpoint is made of, as a caller writes it. */
export interface EndpointInput {
  readonly name: string;
  readonly type: EndpointType;
  readonly ttlSeconds: number;
  readonly resource: string;
  readonly authorization: string;
  /** Put on each member's login role; none when omitted (settings made before are reset). */
  readonly sessionSettings?: SessionSettings | undefined;
}

/** What a group is made of, as a caller writes it. */
export interface GroupInput {
  readonly name: string;
  readonly members: readonly string[];
  readonly endpoints: readonly string[];
  /** How standing credentials are handed on; `{ mode: 'state' }` (returned with `issued`) when omitted. */
  readonly delivery?: GroupDelivery | undefined;
}

export type PairKey = `${string}\u0000${string}`;

/** The key of a (member, endpoint) pair. */
export function pairKey(member: string, endpoint: string): PairKey {
  return `${member}\u0000${endpoint}`;
}

/** The kinds of record a verb can find missing. */
export type RecordKind = 'resource' | 'authorization' | 'endpoint' | 'group';

/**
 * A verb needed a record the catalog does not hold: `kind` says which sort, `entity` its
 * name. The message says only that; a caller words what to do about it in its own terms
 * (the resources name the Terraform attribute and resource type).
 */
export class NotFoundError extends Error {
  constructor(
    readonly kind: RecordKind,
    readonly entity: string,
  ) {
    super(`${kind} "${entity}" is not in the catalog`);
    this.name = 'NotFoundError';
  }
}
