/**
 * How `credential` hands over what it issued: as PG* variables (for a command's
 * environment, or as shell `export` lines), as one JSON object, or as a readable list. The
 * password appears only in what these return; nothing here writes to stderr.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionUri, type OnDemandCredential } from '../runtime';
import { columns } from '../terminal/output';
import { isoSeconds } from './time-format';

/**
 * The libpq variables that point a client at the credential. The names libpq reads
 * (https://www.postgresql.org/docs/current/libpq-envars.html), so psql, pg_dump and every
 * libpq-based driver connect with them and nothing on their command line. `caFile` holds
 * the credential's `caCert` (see `writeCaFile`); without a CA of the target's own a
 * verifying mode trusts the system store (`system`, libpq 16+), as the URI does.
 */
export function pgVariables(c: OnDemandCredential, caFile?: string): Record<string, string> {
  const verifying = c.sslmode === 'verify-ca' || c.sslmode === 'verify-full';
  const rootCert = caFile ?? (verifying && c.caCert === null ? 'system' : undefined);
  return {
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGDATABASE: c.database,
    PGUSER: c.username,
    PGPASSWORD: c.password,
    PGSSLMODE: c.sslmode,
    ...(rootCert !== undefined ? { PGSSLROOTCERT: rootCert } : {}),
  };
}

/** A file holding a credential's CA, and how to remove it. */
export interface CaFile {
  readonly path: string;
  readonly remove: () => Promise<void>;
}

/**
 * Writes the credential's CA (the target's tls_root_cert) to a file of a fresh private
 * directory, mode 0600, for libpq's PGSSLROOTCERT: libpq reads the CA only from a file.
 * Undefined when the target has no CA of its own.
 */
export async function writeCaFile(c: Pick<OnDemandCredential, 'caCert'>): Promise<CaFile | undefined> {
  if (c.caCert === null) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'adaptive-access-ca-'));
  const path = join(dir, 'root.crt');
  await writeFile(path, c.caCert, { mode: 0o600 });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
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
  /** The target's tls_root_cert (PEM) to write to a file for sslrootcert; null when it trusts the system store. */
  readonly ca_cert: string | null;
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
    ca_cert: c.caCert,
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

/** `export NAME='value'` lines for `eval`, one per variable; `caFile` as in `pgVariables`. */
export function exportLines(c: OnDemandCredential, caFile?: string): string[] {
  return Object.entries(pgVariables(c, caFile)).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
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
