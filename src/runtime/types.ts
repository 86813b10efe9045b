/**
 * The runtime's shared vocabulary: what a target looks like, what a permission set is,
 * and how a problem with user input is reported. Every runtime module speaks these types;
 * the provider and the constructs translate to and from them.
 */
import type { Client, Pool } from 'pg';

/** libpq's sslmode values, with libpq's exact semantics. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * What happens to the objects a revoked credential (or a dropped endpoint's access role)
 * still owns: `reassign` hands them to the privilege-less NOLOGIN role `adaptive_revoked`
 * (never to the admin), with SECURITY DEFINER functions and views made to run as their
 * caller; `drop` drops them.
 */
export const REVOKED_OBJECTS = ['reassign', 'drop'] as const;
export type RevokedObjects = (typeof REVOKED_OBJECTS)[number];

/** Admin credentials kept in AWS Secrets Manager instead of in configuration. */
export interface AwsSecretRef {
  readonly secretName: string;
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** Endpoint override (VPC endpoints, local testing); else the SDK's standard configuration. */
  readonly endpoint?: string;
  /**
   * An IAM role assumed through STS (AssumeRole) to read the secret: the static keys above,
   * or the SDK's default chain, only sign the AssumeRole request.
   */
  readonly roleArn?: string;
  /** STS endpoint override for the AssumeRole request (a VPC endpoint, local testing). */
  readonly stsEndpoint?: string;
}

/**
 * The `type` of an `adaptive_resource`: `postgres`, or Adaptive's own spelling of a target
 * whose admin secret (and address) is in Secrets Manager, read with an assumed role
 * (`arn`, `region`, `secret_id`). Both describe the same `TargetConfig`; the type is kept
 * so import writes back the spelling the configuration uses.
 */
export const TARGET_TYPES = ['postgres', 'postgres_aws_secrets_manager'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/**
 * IAM database authentication (Amazon RDS, Aurora): the admin's password is a token signed
 * with AWS credentials, made afresh for each connection. Static keys are optional: without
 * them the AWS SDK's default credential chain signs.
 */
export interface RdsIamAuth {
  /** Without it, the AWS SDK's configuration (AWS_REGION, the profile) decides. */
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** An IAM role to assume through STS and sign with (`aws_role_arn`); absent: the keys above sign. */
  readonly roleArn?: string;
  /** STS endpoint override for that AssumeRole (`aws_sts_endpoint`). */
  readonly stsEndpoint?: string;
}

/**
 * A PostgreSQL target and how to reach it as admin: what `adaptive_resource` describes.
 * Exactly one of `password` (inline), `aws` (Secrets Manager) or `rdsIam` (a token per
 * connection) supplies the admin secret; with `aws`, the secret's JSON may also supply
 * username, host, port and dbname (an empty `host` or `database`, or a `port` of 0, means
 * "from the secret").
 */
export interface TargetConfig {
  /** Absent: `postgres`. */
  readonly type?: TargetType;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  readonly aws?: AwsSecretRef;
  readonly rdsIam?: RdsIamAuth;
  readonly sslMode: SslMode;
  /** PEM contents (as Terraform's file() returns them), not paths. */
  readonly tlsRootCert?: string;
  readonly tlsClientCert?: string;
  readonly tlsClientKey?: string;
  /** Hostname to verify (and send as SNI) when `host` is an IP address or an alias. */
  readonly tlsServerName?: string;
  readonly maxConnections?: number;
  readonly minConnections?: number;
  readonly connectTimeoutSeconds?: number;
  readonly applicationName?: string;
  /** Default `reassign`. */
  readonly revokedObjects?: RevokedObjects;
  /** Labels for people and tools (owner, environment...); recorded in the catalog, decide nothing. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Session settings of an endpoint's members, put on each member's login role
 * (`ALTER ROLE ... SET`, `CONNECTION LIMIT`): PostgreSQL does not pass role settings on
 * through membership, so the endpoint's access role cannot carry them. An absent field
 * means the role has no such setting (the database's or server's default applies).
 */
export interface SessionSettings {
  /** Schemas in the order PostgreSQL searches them (`$user` allowed). */
  readonly searchPath?: readonly string[];
  /** Whole seconds; 0 = no timeout (set explicitly, overriding a database default). */
  readonly statementTimeoutSeconds?: number;
  /** Whole seconds; 0 = no timeout. PostgreSQL 14 and later. */
  readonly idleSessionTimeoutSeconds?: number;
  /** Simultaneous sessions of one login role, at least 1; absent = no limit. */
  readonly connectionLimit?: number;
  readonly timezone?: string;
  readonly applicationName?: string;
}

/**
 * An open admin connection to one target. `pool` reaches the configured database;
 * `connect(db)` opens a fresh admin client to another database on the same server with the
 * same credentials and TLS settings (REASSIGN OWNED / DROP OWNED act per database).
 */
export interface TargetDb {
  readonly name: string;
  readonly database: string;
  readonly pool: Pool;
  /** What revocation and dropping an access role do with owned objects; default `reassign`. */
  readonly revokedObjects?: RevokedObjects;
  connect(database?: string): Promise<Client>;
  close(): Promise<void>;
}

/** Table privileges an authorization may grant. */
export const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];

/** Sequence privileges an authorization may grant (`sequences.privileges`). */
export const SEQUENCE_PRIVILEGES = ['SELECT', 'UPDATE', 'USAGE'] as const;
export type SequencePrivilege = (typeof SEQUENCE_PRIVILEGES)[number];

/** Sequences and the privileges granted on them, in the same naming as `tables`. */
export interface SequencePermissions {
  readonly privileges: readonly SequencePrivilege[];
  /** Sequence names, `schema.sequence`, or `*` (every sequence of the listed schemas, now and later). */
  readonly names: readonly string[];
}

/** A permission set, normalised: upper-case privileges, sorted, de-duplicated. */
export interface Permissions {
  readonly grants: readonly TablePrivilege[];
  readonly schemas: readonly string[];
  /** Table names, `schema.table`, or `*` (every table now and later). */
  readonly tables: readonly string[];
  /** Absent: no sequence privileges beyond the USAGE that INSERT/UPDATE on tables brings. */
  readonly sequences?: SequencePermissions;
  /**
   * Routines the role may EXECUTE: `schema.name(argtypes)` (one overload), `schema.name` or
   * `name` (every overload, in each listed schema), or `*` (every routine of the listed
   * schemas, now and later). Absent: none.
   */
  readonly functions?: readonly string[];
  /**
   * The database the set is written for (Adaptive's YAML form names one per entry). Absent:
   * whichever database the endpoint's resource connects to; present and different: refused.
   */
  readonly database?: string;
}

/** One problem with user input: which field, and what would be accepted. */
export interface ValidationIssue {
  /** Attribute path as the user wrote it, e.g. `ttl`, `permissions.grants[1]`, `members[0]`. */
  readonly field: string;
  readonly message: string;
}

/** Bad input. Nothing was changed. */
export class ValidationError extends Error {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
    this.name = 'ValidationError';
  }
}

/** Where a credential connects, as a member hands it to a client. */
export interface ConnectionTarget {
  readonly username: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: string;
  /** The target's `tls_root_cert` (PEM), or null when it trusts the system store. */
  readonly caCert?: string | null | undefined;
}

/**
 * A credential's libpq connection URI, the one shape every output uses (group credentials,
 * delivered secrets, on-demand credentials): user and password percent-encoded, an IPv6
 * host in brackets, `sslmode` as a query keyword. A verifying mode without a CA of the
 * target's own adds `sslrootcert=system` (libpq 16+), since libpq otherwise looks for
 * ~/.postgresql/root.crt rather than the system store the target's certificate chains to.
 * With a CA of its own the URI cannot carry the PEM: the client writes `caCert` to a file
 * and appends `&sslrootcert=<file>`.
 */
export function connectionUri(c: ConnectionTarget, password: string): string {
  const userinfo = `${encodeURIComponent(c.username)}:${encodeURIComponent(password)}`;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const verifying = c.sslmode === 'verify-ca' || c.sslmode === 'verify-full';
  const systemStore = verifying && !c.caCert ? '&sslrootcert=system' : '';
  return `postgresql://${userinfo}@${host}:${c.port}/${encodeURIComponent(c.database)}?sslmode=${c.sslmode}${systemStore}`;
}
