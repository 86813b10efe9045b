/**
 * How `credential` hands over what it issued: as PG* variables (for a command's
 * environment, or as shell `export` lines), as one JSON object, or as a readable list. The
 * password appears only in what these return; nothing here writes to stderr.
 */
import { connectionUri, type OnDemandCredential } from '../runtime';
import { columns } from '../terminal/output';
import { isoSeconds } from './time-format';

/**
 * The libpq variables that point a client at the credential. The names libpq reads
 * (https://www.postgresql.org/docs/current/libpq-envars.html), so psql, pg_dump and every
 * libpq-based driver connect with them and nothing on their command line.
 */
export function pgVariables(c: OnDemandCredential): Record<string, string> {
  return {
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGDATABASE: c.database,
    PGUSER: c.username,
    PGPASSWORD: c.password,
    PGSSLMODE: c.sslmode,
  };
}

/** What `credential --json` prints: the connection fields under the names Terraform uses. */
export interface CredentialJson {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: string;
  readonly uri: string;
  readonly expires_at: string;
  /** The latest instant the credential could have been renewed to (the endpoint's ttl from issue). */
  readonly not_after: string;
  readonly member: string;
  readonly endpoint: string;
  readonly group: string;
}

export function credentialJson(c: OnDemandCredential): CredentialJson {
  return {
    username: c.username,
    password: c.password,
    host: c.host,
    port: c.port,
    database: c.database,
    sslmode: c.sslmode,
    uri: connectionUri(c, c.password),
    expires_at: c.expiresAt.toISOString(),
    not_after: c.notAfter.toISOString(),
    member: c.member,
    endpoint: c.endpoint,
    group: c.group,
  };
}

/** `text` quoted for a POSIX shell: single quotes, each `'` written as `'\''`. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `export NAME='value'` lines for `eval`, one per variable. */
export function exportLines(c: OnDemandCredential): string[] {
  return Object.entries(pgVariables(c)).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
}

/** The credential as aligned `name  value` lines, for people. */
export function readableLines(c: OnDemandCredential): string[] {
  return columns([
    ['username', c.username],
    ['password', c.password],
    ['host', c.host],
    ['port', String(c.port)],
    ['database', c.database],
    ['sslmode', c.sslmode],
    ['uri', connectionUri(c, c.password)],
    ['expires_at', isoSeconds(c.expiresAt)],
  ]);
}
