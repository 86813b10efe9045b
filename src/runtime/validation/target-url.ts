/**
 * `adaptive_resource.connection_url`: a `postgres://` or `postgresql://` URI (libpq's
 * rules, ./connection-url) standing for the discrete attributes. The URI is taken apart into
 * those attributes, which are then checked as if written one by one; an issue found on
 * one of them is reported on `connection_url`, saying which part of the URI it is about.
 *
 * Decisions:
 * - Query keywords: libpq's host, port, dbname, user, password, sslmode, application_name,
 *   connect_timeout. Certificates stay in tls_* attributes (PEM contents, not file paths), so
 *   sslrootcert, sslcert and sslkey are refused like any unknown keyword, naming it.
 * - Not with host, port, database_name, username, password, password_wo or ssl_mode (the URI
 *   gives them, or their defaults): one place for each setting. connect_timeout and
 *   application_name may be attributes when the URI does not give them.
 * - The URI must name a host and a database, and a user and password unless
 *   use_aws_secrets = true (then the secret holds them, and the URI must not). With
 *   use_rds_iam = true it names the user and no password (the password is an IAM token).
 * - Messages never repeat the URI or its password.
 */
import type { ValidationIssue } from '../types';
import { isAbsent, isUnknown, issue, UNKNOWN } from './common';
import { parsePostgresUrl, PostgresUrlError, type PostgresUrl } from './connection-url';
import type { TargetInput } from './target';

/** The query keywords connection_url accepts (libpq's names). */
export const CONNECTION_URL_KEYWORDS = ['host', 'port', 'dbname', 'user', 'password', 'sslmode', 'application_name', 'connect_timeout'] as const;

const EXAMPLE = 'write postgres://user:password@host:5432/database?sslmode=verify-full (percent-encode special characters)';

/** Attributes the URI stands for, with the part of the URI each comes from. */
const FROM_URL = {
  host: 'the host',
  port: 'the port',
  database_name: 'the database',
  username: 'the user',
  password: 'the password',
  ssl_mode: "'sslmode'",
  connect_timeout: "'connect_timeout'",
  application_name: "'application_name'",
} as const satisfies Partial<Record<keyof TargetInput, string>>;
type UrlField = keyof typeof FROM_URL;

/** Attributes never set together with connection_url. */
const ALWAYS_CONFLICTING = ['host', 'port', 'database_name', 'username', 'password', 'password_wo', 'ssl_mode'] as const;
/** Attributes that conflict only when the URI gives them too, with the keyword. */
const CONFLICTING_IF_GIVEN = { connect_timeout: 'connect_timeout', application_name: 'application_name' } as const;

export interface UrlExpansion {
  /** The input with the attributes the URI stands for filled in from it. */
  readonly input: TargetInput;
  /** Issues about connection_url itself. */
  readonly issues: ValidationIssue[];
  /** Moves issues found on attributes that came from the URI to connection_url. */
  readonly attribute: (issues: readonly ValidationIssue[]) => ValidationIssue[];
}

/**
 * The input when what the URI stands for cannot be known (unknown at plan time, or a URI
 * refused): those attributes stand as unknown, so that their own "is required" rules do
 * not add noise to the issue about connection_url.
 */
function undecided(input: TargetInput, issues: ValidationIssue[]): UrlExpansion {
  const filled: Record<string, unknown> = { ...input };
  for (const field of ['host', 'port', 'database_name', 'username', 'password', 'ssl_mode'] as const) if (isAbsent(input[field])) filled[field] = UNKNOWN;
  return { input: filled, issues, attribute: (found) => [...found] };
}

/** The attributes connection_url stands for, filled in from it; see the decisions above. */
export function withConnectionUrl(input: TargetInput): UrlExpansion {
  const value = input.connection_url;
  if (isAbsent(value)) return { input, issues: [], attribute: (found) => [...found] };
  const derived = new Set<UrlField>(Object.keys(FROM_URL) as UrlField[]);
  // Not known at plan time: what it stands for is not known either.
  if (isUnknown(value)) return undecided(input, conflicts(input, undefined));
  if (typeof value !== 'string' || value === '') {
    return undecided(input, [issue('connection_url', typeof value === 'string' ? 'is empty; leave it out (null), or ' + EXAMPLE : `must be a string; ${EXAMPLE}`)]);
  }
  let url: PostgresUrl;
  try {
    url = parsePostgresUrl(value, CONNECTION_URL_KEYWORDS, EXAMPLE);
  } catch (err) {
    if (!(err instanceof PostgresUrlError)) throw err;
    return undecided(input, [issue('connection_url', err.message)]);
  }
  const issues = conflicts(input, url);
  if (issues.length > 0) return undecided(input, issues);

  const aws = input.use_aws_secrets === true;
  const iam = input.use_rds_iam === true;
  const filled: Record<string, unknown> = {
    ...input,
    host: url.host,
    port: url.port,
    database_name: url.database,
    username: url.user,
    password: url.password,
    ssl_mode: url.params.sslmode,
    connect_timeout: url.params.connect_timeout ?? input.connect_timeout,
    application_name: url.params.application_name ?? input.application_name,
  };
  if (url.params.connect_timeout === undefined) derived.delete('connect_timeout');
  if (url.params.application_name === undefined) derived.delete('application_name');
  // A missing part is reported here, in the URI's terms, and stands as unknown below so
  // that the attribute's own "is required" does not repeat it in the attribute's terms.
  const missing = (field: UrlField, message: string): void => {
    issues.push(issue('connection_url', message));
    filled[field] = UNKNOWN;
  };
  if (url.host === undefined) missing('host', `has no host; ${EXAMPLE}`);
  if (url.database === undefined) missing('database_name', `has no database (the path after the host); ${EXAMPLE}`);
  if (!aws && url.user === undefined) missing('username', `has no user; ${EXAMPLE}, or set use_aws_secrets = true with aws_secret_name`);
  if (!aws && !iam && url.password === undefined) missing('password', `has no password; ${EXAMPLE}, or set use_aws_secrets = true with aws_secret_name`);
  if (aws) {
    for (const [part, field] of [['user', 'username'], ['password', 'password']] as const) {
      if (url[part] === undefined) continue;
      issues.push(issue('connection_url', `gives a ${part} although use_aws_secrets = true: the secret aws_secret_name holds it; remove it from the URL, or set use_aws_secrets = false`));
      filled[field] = undefined;
    }
  }
  return {
    input: filled,
    issues,
    attribute: (found) =>
      found.map((item) => (derived.has(item.field as UrlField) ? issue('connection_url', `${FROM_URL[item.field as UrlField]} in it: ${item.message}`) : item)),
  };
}

/** connection_url together with an attribute it stands for: one issue naming both. */
function conflicts(input: TargetInput, url: PostgresUrl | undefined): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const field of ALWAYS_CONFLICTING) {
    if (isAbsent(input[field]) || isUnknown(input[field])) continue;
    out.push(issue('connection_url', `cannot be combined with ${field}: the URL gives the connection settings; remove ${field}, or remove connection_url and set the attributes one by one`));
  }
  for (const [field, keyword] of Object.entries(CONFLICTING_IF_GIVEN) as Array<[keyof typeof CONFLICTING_IF_GIVEN, string]>) {
    if (isAbsent(input[field]) || isUnknown(input[field]) || url?.params[keyword] === undefined) continue;
    out.push(issue('connection_url', `gives '${keyword}' and ${field} is set too: give it once`));
  }
  return out;
}
