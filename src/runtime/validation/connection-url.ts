/**
 * PostgreSQL connection URIs (`postgres://` / `postgresql://`), parsed with libpq's rules:
 * user, password, host, port and database from the URI's parts, percent-decoded; an IPv6
 * host in brackets; query keywords with libpq's names. One parser for every place that
 * takes such a URI (the catalog URL, `check --url`, `adaptive_resource.connection_url`):
 * each caller says which query keywords it accepts and words the error for its own input.
 *
 * libpq also accepts `host`, `port`, `dbname`, `user` and `password` as query keywords;
 * a caller that accepts them gets them merged into the parts. Given both ways (say a user
 * before the `@` and `?user=`) is refused rather than one silently winning. Multi-host
 * lists (`h1,h2`) are not taken apart: callers check the host as they check any host.
 *
 * Messages never repeat the URI, nor any part of it that may be a secret: it may hold a
 * password.
 */

/** The parts of a URI, decoded; absent parts are undefined (defaults are the caller's). */
export interface PostgresUrl {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  /** The query keywords other than the parts above, as given. */
  readonly params: Readonly<Record<string, string>>;
}

/** A URI that cannot be used; the message follows the input's name ("connection_url has ..."). */
export class PostgresUrlError extends Error {
  override readonly name = 'PostgresUrlError';
}

/** Query keywords that stand for a part of the URI, and the part each sets. */
const PART_KEYWORDS = { host: 'host', port: 'port', dbname: 'database', user: 'user', password: 'password' } as const;
type PartKeyword = keyof typeof PART_KEYWORDS;

const WHAT: Readonly<Record<keyof Omit<PostgresUrl, 'params'>, string>> = {
  host: 'host',
  port: 'port',
  database: 'database name',
  user: 'user name',
  password: 'password',
};

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new PostgresUrlError(`has a badly percent-encoded ${what}`);
  }
}

function parsePort(text: string, from: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new PostgresUrlError(`has a ${from} that is not a port number from 1 to 65535`);
  return port;
}

/** `?a=1&b=2` as libpq reads it: percent-decoded, and a `+` is a plus sign, not a space. */
function queryKeywords(search: string): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (const item of search.replace(/^\?/, '').split('&')) {
    if (item === '') continue;
    const at = item.indexOf('=');
    if (at < 0) throw new PostgresUrlError(`has the parameter '${decode(item, 'parameter name')}' without a value (write keyword=value)`);
    pairs.push([decode(item.slice(0, at), 'parameter name'), decode(item.slice(at + 1), 'parameter value')]);
  }
  return pairs;
}

/**
 * Parses a `postgres://` or `postgresql://` URI. `keywords` are the query keywords accepted
 * (libpq's names); `example` ends the messages about a malformed URI. Throws a
 * {@link PostgresUrlError}.
 */
export function parsePostgresUrl(text: string, keywords: readonly string[], example: string): PostgresUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PostgresUrlError(`is not a URL; ${example}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new PostgresUrlError(`must be a postgres:// or postgresql:// URL, not ${url.protocol}//; ${example}`);
  }
  if (!text.slice(url.protocol.length).startsWith('//')) {
    throw new PostgresUrlError(`must start with ${url.protocol}// (then user:password@host:port/database); ${example}`);
  }
  if (url.hash !== '') throw new PostgresUrlError(`must not have a #fragment; ${example}`);
  const database = url.pathname.replace(/^\//, '');
  if (database.includes('/')) throw new PostgresUrlError('has a path with several parts; the path is the database name alone');

  const parts: { -readonly [K in keyof Omit<PostgresUrl, 'params'>]?: PostgresUrl[K] } = {};
  // The host keeps its percent-encoding in a postgres: URL (not a special scheme); brackets mark IPv6.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host !== '') parts.host = decode(host, 'host');
  if (url.port !== '') parts.port = parsePort(url.port, 'port');
  if (database !== '') parts.database = decode(database, 'database name');
  if (url.username !== '') parts.user = decode(url.username, 'user name');
  if (url.password !== '') parts.password = decode(url.password, 'password');

  const params: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of queryKeywords(url.search)) {
    if (!keywords.includes(name)) throw new PostgresUrlError(`has the unknown parameter '${name}'; accepted: ${keywords.join(', ')}`);
    if (seen.has(name)) throw new PostgresUrlError(`gives the parameter '${name}' twice`);
    seen.add(name);
    if (!(name in PART_KEYWORDS)) {
      params[name] = value;
      continue;
    }
    const part = PART_KEYWORDS[name as PartKeyword];
    if (parts[part] !== undefined) throw new PostgresUrlError(`gives the ${WHAT[part]} twice: in the URL and as the parameter '${name}'`);
    if (part === 'port') parts.port = parsePort(value, `parameter 'port'`);
    else if (value !== '') parts[part] = value;
  }
  return { ...parts, params };
}
