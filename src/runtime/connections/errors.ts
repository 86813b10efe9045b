/**
 * Connection failures as users need them: a machine-readable cause, a message that names
 * the target and what happened, and a fix. Raw errors come from three places (the server's
 * ErrorResponse with a SQLSTATE, Node's socket and TLS layers, and the AWS SDK) and are
 * classified here so that every caller reports them the same way.
 *
 * Nothing secret reaches a message: texts are built from our own wording plus the server's
 * or Node's message (neither contains the password), and every text is additionally
 * scrubbed of the known secret values before it is stored.
 */
import type { SslMode } from '../types';

/** What went wrong, for programs; `ConnectionError.message` says it for people. */
export const CONNECTION_ERROR_CAUSES = [
  'refused',
  'dns',
  'timeout',
  'auth_failed',
  'ssl_required',
  'ssl_unsupported',
  'tls_verify',
  'client_cert_required',
  'permission_denied',
  'database_missing',
  'too_many_connections',
  'secret_missing',
  /** AWS refused the request or no usable AWS credentials were found. */
  'secret_access_denied',
  /** STS refused to let the AWS credentials assume the configured IAM role (or none were found to ask with). */
  'role_assumption_denied',
  'secret_malformed',
  'unknown',
] as const;
/** One of CONNECTION_ERROR_CAUSES. */
export type ConnectionErrorCause = (typeof CONNECTION_ERROR_CAUSES)[number];

/** One failed connection attempt (allow and prefer may make two or three). */
export interface AttemptFailure {
  /** Whether this attempt asked for TLS. */
  readonly tls: boolean;
  readonly cause: ConnectionErrorCause;
  /** The underlying error's text (server or Node), scrubbed of secrets. */
  readonly detail: string;
  /** SQLSTATE or Node error code, when there was one. */
  readonly code?: string;
}

/** Everything a ConnectionError carries; built by the mapping functions below. */
export interface ConnectionErrorInit {
  readonly cause: ConnectionErrorCause;
  readonly message: string;
  readonly fix: string;
  readonly target: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly code?: string;
  readonly attempts?: readonly AttemptFailure[];
}

/**
 * A target could not be reached, authenticated against, or its admin secret could not be
 * read. `cause` is stable for programs; `fix` is one sentence telling the user what to
 * change. (`cause` deliberately shadows `Error.cause`: here it is the classification, not
 * a nested error.)
 */
export class ConnectionError extends Error {
  override readonly cause: ConnectionErrorCause;
  readonly fix: string;
  readonly target: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string | undefined;
  /** SQLSTATE, Node or AWS error code of the decisive failure, when known. */
  readonly code: string | undefined;
  /** Every attempt made, in order (empty for Secrets Manager failures). */
  readonly attempts: readonly AttemptFailure[];

  constructor(init: ConnectionErrorInit) {
    super(init.message);
    this.name = 'ConnectionError';
    this.cause = init.cause;
    this.fix = init.fix;
    this.target = init.target;
    this.host = init.host;
    this.port = init.port;
    this.database = init.database;
    this.code = init.code;
    this.attempts = init.attempts ?? [];
  }
}

/** Replaces every occurrence of the given secret values (4+ characters) with `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would mangle ordinary words; real passwords are longer.
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/** The fields of a pg DatabaseError or a Node system error that classification needs. */
interface ErrorFields {
  readonly message: string;
  readonly code: string | undefined;
  /** Set for server ErrorResponses (pg's DatabaseError). */
  readonly severity: string | undefined;
}

function fieldsOf(err: unknown): ErrorFields {
  if (err instanceof Error) {
    const record = err as Error & { code?: unknown; severity?: unknown; errors?: unknown };
    let code = typeof record.code === 'string' ? record.code : undefined;
    let message = err.message;
    // Node's happy-eyeballs connect reports an AggregateError whose parts carry the codes.
    if (Array.isArray(record.errors) && record.errors.length > 0) {
      const first = fieldsOf(record.errors[0]);
      code ??= first.code;
      if (!message) message = record.errors.map((e) => fieldsOf(e).message).join('; ');
    }
    return { message: message || err.name, code, severity: typeof record.severity === 'string' ? record.severity : undefined };
  }
  return { message: String(err), code: undefined, severity: undefined };
}

const TLS_VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'PATH_LENGTH_EXCEEDED',
]);

/** TLS alerts the server sends when it does not accept (or did not get) our certificate. */
const CLIENT_CERT_ALERT = /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/;

/** The message node-postgres gives when the server answers an SSLRequest with 'N'. */
export const SERVER_REFUSED_TLS = 'The server does not support SSL connections';
/** The message node-postgres gives when its connect timeout destroys the socket. */
export const CONNECT_TIMEOUT = 'timeout expired';

/** A failure classified, before it is put in the target's context. */
export interface Classified {
  readonly cause: ConnectionErrorCause;
  readonly code?: string | undefined;
  readonly detail: string;
}

/** Classifies a raw error from one connection attempt. */
export function classify(err: unknown, secrets: readonly (string | undefined)[] = []): Classified {
  const { message, code, severity } = fieldsOf(err);
  const detail = redact(message.trim(), secrets);
  const make = (cause: ConnectionErrorCause): Classified => ({ cause, code, detail });

  if (severity !== undefined && code) {
    // A server ErrorResponse: classify by SQLSTATE, refined by the message where one
    // SQLSTATE covers several situations (28000 is used for every pg_hba.conf outcome).
    if (code === '28P01') return make('auth_failed');
    if (code === '28000') {
      if (/no encryption/.test(message)) return make('ssl_required');
      if (/client certificate|certificate authentication failed|certificate for user/.test(message)) return make('client_cert_required');
      return make('auth_failed');
    }
    if (code === '3D000') return make('database_missing');
    if (code === '42501') return make('permission_denied');
    if (code === '53300') return make('too_many_connections');
    return make('unknown');
  }
  if (message === SERVER_REFUSED_TLS) return make('ssl_unsupported');
  if (message === CONNECT_TIMEOUT || code === 'ETIMEDOUT' || /timeout/i.test(message)) return make('timeout');
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return make('refused');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL' || code === 'EAI_NODATA') return make('dns');
  if (code && TLS_VERIFY_CODES.has(code)) return make('tls_verify');
  if ((code && CLIENT_CERT_ALERT.test(code)) || CLIENT_CERT_ALERT.test(message.toUpperCase().replace(/ /g, '_'))) {
    return make('client_cert_required');
  }
  if (/client password must be a string/.test(message)) return make('auth_failed');
  return make('unknown');
}

/** Where a connection was going: what messages and fixes name. */
export interface TargetContext {
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly sslMode: SslMode;
  readonly tlsServerName?: string | undefined;
  readonly hasRootCert: boolean;
  readonly hasClientCert: boolean;
  readonly connectTimeoutSeconds: number;
  /** The password was an IAM authentication token (use_rds_iam). */
  readonly iamAuth?: boolean;
}

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What happened and how to fix it, for one classified failure. */
export function explain(c: Classified, ctx: TargetContext): { what: string; fix: string } {
  const hostPort = `${ctx.host}:${ctx.port}`;
  switch (c.cause) {
    case 'refused':
      return {
        what: `nothing accepted the connection at ${hostPort}`,
        fix: 'check host and port, that PostgreSQL is running and listens on that address (listen_addresses, port) and that no firewall or security group blocks it',
      };
    case 'dns':
      return {
        what: `the host name "${ctx.host}" could not be resolved`,
        fix: 'check the host name for typos and that this machine can resolve it (DNS, VPC resolver, /etc/hosts)',
      };
    case 'timeout':
      return {
        what: `no answer from ${hostPort} within ${ctx.connectTimeoutSeconds} s`,
        fix: 'check that host and port point at PostgreSQL and that no firewall silently drops the traffic; raise the connect timeout only for slow networks',
      };
    case 'auth_failed':
      return authFailed(c, ctx);
    case 'ssl_required':
      return {
        what: 'the server accepts only encrypted connections and this one was not encrypted',
        fix: `set ssl_mode to "require" or stricter (best: "verify-full" with tls_root_cert) instead of "${ctx.sslMode}"`,
      };
    case 'ssl_unsupported':
      return {
        what: `the server does not support TLS, but ssl_mode "${ctx.sslMode}" requires it`,
        fix: 'enable TLS on the server (ssl = on with ssl_cert_file and ssl_key_file), or, only on a trusted network, set ssl_mode to "prefer" or "disable"',
      };
    case 'tls_verify':
      return tlsVerify(c, ctx);
    case 'client_cert_required':
      return {
        what: ctx.hasClientCert
          ? 'the server did not accept the client certificate'
          : 'the server requires a client certificate and none was given',
        fix: ctx.hasClientCert
          ? "use a client certificate issued by the CA in the server's ssl_ca_file, valid now, with the user name as its CN when pg_hba.conf checks it (clientcert=verify-full or cert)"
          : "set tls_cert_file and tls_key_file to a client certificate issued by the CA in the server's ssl_ca_file, with the user name as its CN",
      };
    case 'permission_denied':
      return {
        what: `user "${ctx.user}" may not connect to database "${ctx.database}"`,
        fix: `GRANT CONNECT ON DATABASE ${q(ctx.database)} TO ${q(ctx.user)};`,
      };
    case 'database_missing':
      return {
        what: `database "${ctx.database}" does not exist`,
        fix: `check database_name (names are case-sensitive), or create it: CREATE DATABASE ${q(ctx.database)};`,
      };
    case 'too_many_connections':
      return {
        what: 'the server refused the connection: too many connections',
        fix: 'close unused connections (SELECT count(*) FROM pg_stat_activity), lower max_connections of this resource, or raise the server\'s max_connections or the role\'s CONNECTION LIMIT',
      };
    default:
      return {
        what: 'the connection failed',
        fix: "check the server's log for this connection attempt; if the target is not PostgreSQL, correct host and port",
      };
  }
}

/** Which part of authentication failed, from the server's message. */
function authFailed(c: Classified, ctx: TargetContext): { what: string; fix: string } {
  if (/client password must be a string/.test(c.detail)) {
    return {
      what: `the server asked user "${ctx.user}" for a password and none is configured`,
      fix: 'set password (or use_aws_secrets with a secret that holds one)',
    };
  }
  if (ctx.iamAuth && /password authentication failed/.test(c.detail)) {
    return {
      what: `the server refused the IAM authentication token of user "${ctx.user}"`,
      fix:
        `IAM authentication needs all of: the role granted rds_iam on the server (GRANT rds_iam TO ${q(ctx.user)};), ` +
        `IAM authentication enabled on the DB instance, an IAM policy allowing rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/${ctx.user} ` +
        "for the credentials that signed it (the right keys, aws_region the instance's), host the endpoint name the token is signed for, " +
        "and this machine's clock within a few minutes of AWS's (a token is valid 15 minutes from its signing time)",
    };
  }
  if (/not permitted to log in/.test(c.detail)) {
    return { what: `role "${ctx.user}" may not log in`, fix: `ALTER ROLE ${q(ctx.user)} LOGIN;` };
  }
  if (/no pg_hba\.conf entry|pg_hba\.conf rejects/.test(c.detail)) {
    return {
      what: `the server's pg_hba.conf does not allow user "${ctx.user}" to connect to database "${ctx.database}" from this address`,
      fix: 'add a matching pg_hba.conf line on the server (host or hostssl, this client address, the user and database, scram-sha-256) and reload it',
    };
  }
  return {
    what: `authentication failed for user "${ctx.user}"`,
    fix: 'check the username and password (or the secret in AWS Secrets Manager), that the role exists, may log in, and that its password has not expired (VALID UNTIL)',
  };
}

function tlsVerify(c: Classified, ctx: TargetContext): { what: string; fix: string } {
  const name = ctx.tlsServerName ?? ctx.host;
  switch (c.code) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'ERR_TLS_CERT_ALTNAME_FORMAT':
    case 'HOSTNAME_MISMATCH':
      return {
        what: `the server's certificate is not valid for the name "${name}"`,
        fix: 'connect using a host name the certificate lists (subjectAltName), or set tls_server_name to one of them; ssl_mode "verify-ca" with tls_root_cert skips the host name check but keeps the chain check',
      };
    case 'CERT_HAS_EXPIRED':
      return {
        what: "the server's certificate has expired",
        fix: "renew the server's certificate (ssl_cert_file) and reload PostgreSQL",
      };
    case 'CERT_NOT_YET_VALID':
      return {
        what: "the server's certificate is not valid yet",
        fix: "check the clocks of this machine and the server, or reissue the server's certificate",
      };
    default:
      return {
        what: ctx.hasRootCert
          ? "the server's certificate does not chain to tls_root_cert"
          : "the server's certificate does not chain to a CA in the system trust store (no tls_root_cert given)",
        fix: "set tls_root_cert to the CA certificate that issued the server's certificate (for Amazon RDS, the RDS CA bundle of the region)",
      };
  }
}

/** Causes that only say "the other TLS choice was needed": less telling than any other. */
const NEGOTIATION_CAUSES: ReadonlySet<ConnectionErrorCause> = new Set(['ssl_required', 'ssl_unsupported']);

/**
 * The error for a failed connection: the decisive attempt is the last one that failed for
 * a reason other than the TLS negotiation itself (when prefer's TLS attempt fails on a
 * client certificate and its plain retry on "encryption required", the certificate is
 * what the user must fix).
 */
export function connectionFailed(failures: readonly AttemptFailure[], ctx: TargetContext): ConnectionError {
  const decisive = [...failures].reverse().find((f) => !NEGOTIATION_CAUSES.has(f.cause)) ?? failures[failures.length - 1];
  if (!decisive) throw new Error('connectionFailed needs at least one failure');
  const { what, fix } = explain(decisive, ctx);
  const where = `target "${ctx.target}" at ${ctx.host}:${ctx.port} (database "${ctx.database}", user "${ctx.user}", ssl_mode ${ctx.sslMode})`;
  const tried =
    failures.length === 1
      ? decisive.detail
      : failures.map((f, i) => `${i === 0 ? 'tried' : 'then'} ${f.tls ? 'with TLS' : 'without TLS'}: ${f.detail}`).join('; ');
  return new ConnectionError({
    cause: decisive.cause,
    message: `Cannot connect to ${where}: ${what} (${tried}).`,
    fix,
    target: ctx.target,
    host: ctx.host,
    port: ctx.port,
    database: ctx.database,
    ...(decisive.code ? { code: decisive.code } : {}),
    attempts: failures,
  });
}
