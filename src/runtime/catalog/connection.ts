/**
 * The catalog's own connection, with libpq's sslmode semantics: the catalog URL becomes a
 * target configuration and is opened by the same code as targets (../connections), so
 * `sslmode` means exactly what it means to psql. node-postgres alone would verify the
 * certificate fully for prefer, require and verify-ca, and implement neither allow nor
 * prefer's fallback to plain.
 *
 * URL parameters: `sslmode` (libpq's default when absent: prefer), `sslrootcert`,
 * `sslcert`, `sslkey` (file paths, read at open; `sslrootcert=system` means the system
 * trust store and, as in libpq, verify-full only), `connect_timeout` and
 * `application_name`. Anything else is refused rather than silently ignored. Unlike libpq,
 * ~/.postgresql/root.crt and postgresql.crt are not read: material comes from the URL only.
 * Without a password in the URL, node-postgres reads PGPASSWORD or ~/.pgpass.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ConnectionError, openTarget, type OpenTarget } from '../connections';
import { SSL_MODES, ValidationError, type SslMode, type TargetConfig } from '../types';
import { parsePostgresUrl, PostgresUrlError, type PostgresUrl } from '../validation/connection-url';
import { CatalogError } from './errors';

/** The URL parameters the catalog understands, with libpq's names. */
export const CATALOG_URL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name'] as const;
type CatalogUrlParam = (typeof CATALOG_URL_PARAMS)[number];

/** The catalog URL, parsed and checked; files are not read yet. */
export interface CatalogUrl {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly sslMode: SslMode;
  readonly params: Readonly<Partial<Record<CatalogUrlParam, string>>>;
}

const EXAMPLE = 'expected postgres://user:password@host:5432/database?sslmode=verify-full&sslrootcert=/path/to/ca.crt';

function invalid(message: string): ValidationError {
  return new ValidationError([{ field: 'catalog_url', message }]);
}

/** Parses and checks a catalog URL. Messages never repeat it (it may hold a password). */
export function parseCatalogUrl(url: string): CatalogUrl {
  let parsed: PostgresUrl;
  try {
    parsed = parsePostgresUrl(url, CATALOG_URL_PARAMS, EXAMPLE);
  } catch (err) {
    if (err instanceof PostgresUrlError) throw invalid(err.message);
    throw err;
  }
  const params = parsed.params as Partial<Record<CatalogUrlParam, string>>;
  const sslMode = (params.sslmode ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslMode)) {
    throw invalid(`has sslmode '${params.sslmode ?? ''}'; accepted: ${SSL_MODES.join(', ')}`);
  }
  if (params.sslrootcert === 'system' && sslMode !== 'verify-full') {
    // libpq refuses this too: the system store vouches for names, so only verify-full makes sense.
    throw invalid(`has sslrootcert=system with sslmode '${sslMode}': libpq allows it with sslmode=verify-full only`);
  }
  if ((params.sslcert === undefined) !== (params.sslkey === undefined)) {
    throw invalid('has only one of sslcert and sslkey: a client certificate and its key go together');
  }
  if (params.connect_timeout !== undefined && !/^\d+$/.test(params.connect_timeout)) {
    throw invalid('has a connect_timeout that is not a whole number of seconds');
  }
  return {
    host: parsed.host ?? 'localhost',
    port: parsed.port ?? 5432,
    // libpq's default database is the user's name.
    database: parsed.database ?? parsed.user ?? '',
    user: parsed.user,
    password: parsed.password,
    sslMode,
    params,
  };
}

/** `user@host:port/database` of a catalog URL, for messages: never its password. */
export function describeCatalogUrl(url: CatalogUrl): string {
  return `${url.user === undefined ? '' : `${url.user}@`}${url.host}:${url.port}/${url.database}`;
}

function readPem(url: CatalogUrl, param: 'sslrootcert' | 'sslcert' | 'sslkey'): string | undefined {
  const file = url.params[param];
  if (file === undefined || (param === 'sslrootcert' && file === 'system')) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CatalogError('connect', `cannot read the file ${JSON.stringify(file)} given as ${param} in the catalog URL (${code ?? String(err)})`, {
      cause: err,
    });
  }
}

/** How the catalog connects, as a target configuration. */
export interface CatalogConnectionOptions {
  readonly maxConnections: number;
  readonly connectTimeoutSeconds: number | undefined;
  readonly applicationName: string | undefined;
}

/** libpq's names for the target attributes connection messages mention. */
const URL_TERMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bssl_mode\b/g, 'sslmode'],
  [/\btls_root_cert\b/g, 'sslrootcert'],
  [/\btls_cert_file\b/g, 'sslcert'],
  [/\btls_key_file\b/g, 'sslkey'],
  [/\bdatabase_name\b/g, 'the database in the URL'],
  [/\btls_server_name\b/g, 'the host in the URL'],
];

function inUrlTerms(text: string): string {
  return URL_TERMS.reduce((out, [pattern, term]) => out.replace(pattern, term), text);
}

/**
 * Connects to the catalog with libpq's sslmode semantics and returns a pool that keeps
 * the TLS choice made (as targets do). Failures are `CatalogError`s (code `connect`) that
 * say what happened and what to change, in the URL's terms.
 */
export async function connectCatalog(url: CatalogUrl, options: CatalogConnectionOptions): Promise<OpenTarget> {
  const user = url.user ?? process.env.PGUSER ?? os.userInfo().username;
  const timeout = options.connectTimeoutSeconds ?? (url.params.connect_timeout === undefined ? undefined : Number(url.params.connect_timeout));
  const tlsRootCert = readPem(url, 'sslrootcert');
  const tlsClientCert = readPem(url, 'sslcert');
  const tlsClientKey = readPem(url, 'sslkey');
  const config: TargetConfig = {
    name: 'catalog',
    host: url.host,
    port: url.port,
    database: url.database === '' ? user : url.database,
    username: user,
    ...(url.password !== undefined ? { password: url.password } : {}),
    sslMode: url.sslMode,
    ...(tlsRootCert !== undefined ? { tlsRootCert } : {}),
    ...(tlsClientCert !== undefined ? { tlsClientCert } : {}),
    ...(tlsClientKey !== undefined ? { tlsClientKey } : {}),
    maxConnections: options.maxConnections,
    ...(timeout !== undefined ? { connectTimeoutSeconds: timeout } : {}),
    applicationName: options.applicationName ?? url.params.application_name ?? 'adaptive-access catalog',
  };
  try {
    return await openTarget(config);
  } catch (err) {
    if (err instanceof ConnectionError) {
      // The message names the target "catalog" with its host, port, database, user and
      // sslmode, which the description of the URL replaces; the fix speaks of resource
      // attributes, given here by their URL parameter names.
      const what = err.message.replace(/^Cannot connect to target "catalog" at .*?, ssl_mode [a-z-]+\): /, '').replace(/\.$/, '');
      throw new CatalogError(
        'connect',
        `cannot connect to the catalog database ${describeCatalogUrl(url)}: ${inUrlTerms(what)}, with sslmode ${url.sslMode}. ` +
          `To fix it in the catalog URL: ${inUrlTerms(err.fix)}`,
        { cause: err },
      );
    }
    if (err instanceof ValidationError) {
      throw new CatalogError('connect', `the catalog URL cannot be used: ${inUrlTerms(err.message)}`, { cause: err });
    }
    throw err;
  }
}
