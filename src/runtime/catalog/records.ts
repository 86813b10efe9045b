/**
 * The records the catalog holds, as the runtime sees them. Specs are what a caller writes;
 * records add what the catalog keeps (timestamps, ids, revocation). Database nulls are
 * `null` here, never a missing property.
 */
import type { AwsSecretRef, Permissions, RdsIamAuth, SessionSettings, TargetConfig } from '../types';

/** When a record was first stored and last changed. */
export interface Timestamps {
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An AWS Secrets Manager reference without its static credentials. */
export type PublicAwsSecretRef = Omit<AwsSecretRef, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;

/**
 * The settings of a target that are not secret: stored in plain JSON and readable without
 * the catalog key. Secrets (password, TLS client key, static AWS keys) are stored encrypted;
 * the name is the record's key, not part of its settings.
 */
export type PublicTargetConfig = Omit<TargetConfig, 'name' | 'password' | 'tlsClientKey' | 'aws' | 'rdsIam'> & {
  readonly aws?: PublicAwsSecretRef;
  /** IAM authentication: its region only (the static keys, when any, are sealed). */
  readonly rdsIam?: Pick<RdsIamAuth, 'region' | 'roleArn' | 'stsEndpoint'>;
};

/** A resource with its secrets decrypted: everything needed to connect as admin. */
export interface ResourceRecord extends Timestamps {
  readonly name: string;
  readonly target: TargetConfig;
}

/** A resource without its secrets (what listing returns; needs no catalog key). */
export interface ResourceInfo extends Timestamps {
  readonly name: string;
  readonly config: PublicTargetConfig;
  /** Whether encrypted secrets are stored (false when the admin secret is in AWS). */
  readonly hasStoredSecrets: boolean;
}

/** A named permission set, as written. */
export interface AuthorizationSpec {
  readonly name: string;
  readonly description?: string;
  /** The kind of target it applies to, as the configuration says (e.g. `postgresql`). */
  readonly resourceType: string;
  readonly permissions: Permissions;
  /** The permissions as the configuration wrote them (JSON text), kept for import. */
  readonly permissionsSource?: string | null;
}

/** A stored authorization; `permissions` normalised (upper-case, sorted, de-duplicated). */
export interface AuthorizationRecord extends Timestamps {
  readonly name: string;
  readonly description: string;
  readonly resourceType: string;
  readonly permissions: Permissions;
  /** The permissions as last written (JSON text), or null when only the normal form is known. */
  readonly permissionsSource: string | null;
}

/** Endpoint types the runtime implements. */
export const ENDPOINT_TYPES = ['direct'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** An authorization applied to a resource for a time-to-live, as written. */
export interface EndpointSpec {
  readonly name: string;
  readonly type: EndpointType;
  readonly ttlSeconds: number;
  /** Name of the resource (target). */
  readonly resource: string;
  /** Name of the authorization. */
  readonly authorization: string;
  /** The NOLOGIN PostgreSQL role on the target that holds the grants. */
  readonly accessRole: string;
  /** Session settings put on each member's login role; none when omitted. */
  readonly sessionSettings?: SessionSettings;
}

/** A stored endpoint. */
export interface EndpointRecord extends EndpointSpec, Timestamps {
  readonly sessionSettings: SessionSettings;
}

/** People given a set of endpoints, as written. */
export interface GroupSpec {
  readonly name: string;
  readonly members: readonly string[];
  /** Endpoint names; each must be in the catalog. */
  readonly endpoints: readonly string[];
  /** How members' standing credentials are handed on; `{ mode: 'state' }` when omitted. */
  readonly delivery?: GroupDelivery;
}

/**
 * How a group hands its members' standing credentials on: in Terraform state (`state`),
 * as one AWS Secrets Manager secret per member x endpoint (`secrets_manager`), or not at
 * all (`none`: the group only makes its members eligible for on-demand credentials).
 */
export type GroupDelivery =
  | { readonly mode: 'state' }
  | { readonly mode: 'none' }
  | {
      readonly mode: 'secrets_manager';
      /** Prefix of each secret's name (`<prefix><group>/<member>/<endpoint>`). */
      readonly secretPrefix: string;
      /** Region; else the SDK's standard configuration. */
      readonly region?: string;
      /** Endpoint override (VPC endpoints, local testing). */
      readonly endpoint?: string;
    };

/** Credentials issued by a group apply (`standing`), or on demand to an eligible member (`ephemeral`). */
export type CredentialKind = 'standing' | 'ephemeral';

/** Where a credential was delivered besides its caller, so revocation removes it there too. */
export interface CredentialDelivery {
  readonly secretsManager?: { readonly arn: string; readonly region?: string; readonly endpoint?: string };
}

/** A stored group. */
export interface GroupRecord extends GroupSpec, Timestamps {
  readonly delivery: GroupDelivery;
}

/** Why a credential was revoked. The named ones are those the runtime uses. */
export type RevokeReason =
  | 'expired'
  | 'member removed'
  | 'endpoint removed'
  | 'group destroyed'
  | 'ttl lowered'
  | 'replaced'
  // Any other reason is allowed; the union above keeps editor completion for the usual ones.
  | (string & Record<never, never>);

/** A login role just created on a target, to be recorded (no password: the catalog never holds one). */
export interface NewCredential {
  readonly roleName: string;
  readonly resource: string;
  readonly endpoint: string;
  readonly group: string;
  readonly member: string;
  readonly grantedAt: Date;
  readonly expiresAt: Date;
  /** Default `standing`. */
  readonly kind?: CredentialKind;
  /** The latest expiry a renewal may reach (ephemeral credentials); null/absent otherwise. */
  readonly notAfter?: Date | null;
  /** Where it was delivered besides the caller; null/absent when nowhere. */
  readonly deliveredTo?: CredentialDelivery | null;
}

/** A recorded credential. Live while `revokedAt` is null (even past its expiry, until reaped). */
export interface CredentialRecord extends NewCredential {
  readonly id: string;
  readonly kind: CredentialKind;
  readonly notAfter: Date | null;
  readonly deliveredTo: CredentialDelivery | null;
  readonly revokedAt: Date | null;
  readonly revokeReason: string | null;
}

/** Narrows `liveCredentials`; every given field must match. */
export interface CredentialFilter {
  readonly resource?: string;
  readonly endpoint?: string;
  readonly group?: string;
  readonly member?: string;
  readonly kind?: CredentialKind;
  readonly roleName?: string;
}

/** Event names the runtime writes. CRUD events of the four records are written by the catalog itself. */
export type AuditEventName =
  | 'grant'
  | 'grant.ephemeral'
  | 'revoke'
  | 'expire'
  | 'extend'
  | 'resource.create'
  | 'resource.update'
  | 'resource.delete'
  | 'authorization.create'
  | 'authorization.update'
  | 'authorization.delete'
  | 'endpoint.create'
  | 'endpoint.update'
  | 'endpoint.delete'
  | 'group.create'
  | 'group.update'
  | 'group.delete'
  | (string & Record<never, never>);

/** An audit event to append. `at` defaults to the transaction's time. Never put secrets in `detail`. */
export interface AuditEvent {
  readonly event: AuditEventName;
  readonly at?: Date;
  readonly resource?: string;
  readonly endpoint?: string;
  readonly group?: string;
  readonly member?: string;
  readonly roleName?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A stored audit event. */
export interface AuditRecord {
  /** Position in the log (a bigint, as a decimal string); increases with every append. */
  readonly id: string;
  readonly at: Date;
  readonly event: string;
  readonly resource: string | null;
  readonly endpoint: string | null;
  readonly group: string | null;
  readonly member: string | null;
  readonly roleName: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Narrows `readAudit`; every given field must match. */
export interface AuditFilter {
  /** Events at or after this time. */
  readonly since?: Date;
  /** Events before this time. */
  readonly until?: Date;
  /** One event name or any of several. */
  readonly event?: string | readonly string[];
  readonly member?: string;
  readonly resource?: string;
  readonly endpoint?: string;
  readonly group?: string;
  readonly roleName?: string;
  /** At most this many events (all when omitted). */
  readonly limit?: number;
  /** Newest first (for "the last N events"); oldest first by default. */
  readonly newestFirst?: boolean;
}
