/**
 * Where `adaptive-access check` gets its connection: a catalog target (--target) or the
 * command line (--url / --host ... with libpq's PG* variables as defaults), turned into the
 * TargetConfig adaptive_resource would build, checked with the provider's own validators.
 * Messages name the option, variable or URL part each value came from.
 */
import { readFileSync } from 'node:fs';
import { CatalogError, SSL_MODES, type SslMode, type TargetConfig, type ValidationIssue } from '../runtime';
import { checkTargetInput, parsePostgresUrl, PostgresUrlError, type PostgresUrl, type TargetInput } from '../runtime/validation';
import type { OptionValues } from './args';
import { catalogSettingsFrom, openRuntimeFor } from './catalog';
import { CliError, errorText, UsageError } from '../terminal/errors';
import type { CHECK_OPTIONS } from './specs/check';

export type CheckValues = OptionValues<typeof CHECK_OPTIONS>;
type Env = Readonly<Record<string, string | undefined>>;

const COMMAND = 'check';
/** The target name of a connection given on the command line (not shown in messages). */
export const AD_HOC = 'check';
const APPLICATION_NAME = 'adaptive-access check';

/** The adaptive_resource attribute each option sets (for the provider's validators). */
const OPTION_OF: Readonly<Record<string, string>> = {
  host: '--host',
  port: '--port',
  database_name: '--database',
  username: '--user',
  password: 'PGPASSWORD',
  ssl_mode: '--sslmode',
  tls_root_cert: '--sslrootcert',
  tls_cert_file: '--sslcert',
  tls_key_file: '--sslkey',
  tls_server_name: '--tls-server-name',
  use_aws_secrets: '--aws-secret',
  aws_secret_name: '--aws-secret',
  aws_region: '--aws-region',
  aws_endpoint: '--aws-endpoint',
  connect_timeout: '--connect-timeout',
};

/** Options that describe a connection: none of them goes with --target. */
const CONNECTION_OPTIONS = [
  'url',
  'host',
  'port',
  'database',
  'user',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'tls-server-name',
  'aws-secret',
  'aws-region',
  'aws-endpoint',
  'connect-timeout',
] as const;

/** Query parameters of --url, and the attribute each sets. */
const URL_PARAMS: Readonly<Record<string, string>> = {
  sslmode: 'ssl_mode',
  sslrootcert: 'tls_root_cert',
  sslcert: 'tls_cert_file',
  sslkey: 'tls_key_file',
  connect_timeout: 'connect_timeout',
};

/** What `check --json` prints. */
// ---------------------------------------------------------------------------------------
// From the command line to a TargetConfig

/** A value and where it came from ("option '--port'", "PGPORT", "'sslmode' in --url"). */
interface Setting {
  readonly value: string;
  readonly from: string;
}

/** A connection to check, and how to describe where its password came from. */
export interface Plan {
  readonly config: TargetConfig;
  /** e.g. "PGPASSWORD", "--url", "the catalog"; undefined: no password. */
  readonly passwordFrom: string | undefined;
  /** Whether the admin privileges are required. */
  readonly adminRequired: boolean;
  /** Where each attribute's value came from, for messages. */
  readonly sources: Readonly<Record<string, string>>;
  /** Whether it is a catalog target (--target). */
  readonly catalog: boolean;
}

interface ParsedUrl {
  readonly host?: string;
  readonly port?: string;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Query keywords --url takes: libpq's own names for the URL's parts (as in
 * `postgres:///appdb?host=db.internal&user=reader`), the TLS and timeout ones above, and
 * `application_name`, accepted as libpq accepts it (the check names its own connection).
 */
const URL_KEYWORDS = ['host', 'port', 'dbname', 'user', 'password', ...Object.keys(URL_PARAMS), 'application_name'];

/** Parses a postgres:// URL; messages never repeat it (it may hold a password). */
function parseUrl(text: string): ParsedUrl {
  const example = 'write postgres://user@host:port/database?sslmode=verify-full (the password in PGPASSWORD)';
  let url: PostgresUrl;
  try {
    url = parsePostgresUrl(text, URL_KEYWORDS, example);
  } catch (err) {
    if (err instanceof PostgresUrlError) throw new UsageError(`option '--url' ${err.message}`, COMMAND);
    throw err;
  }
  return {
    ...(url.host !== undefined ? { host: url.host } : {}),
    ...(url.port !== undefined ? { port: String(url.port) } : {}),
    ...(url.database !== undefined ? { database: url.database } : {}),
    ...(url.user !== undefined ? { user: url.user } : {}),
    ...(url.password !== undefined ? { password: url.password } : {}),
    params: url.params,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The first value given, in precedence order. */
function first(...candidates: Array<Setting | undefined>): Setting | undefined {
  return candidates.find((c) => c !== undefined);
}

function fromOption(values: CheckValues, name: (typeof CONNECTION_OPTIONS)[number]): Setting | undefined {
  const value = values[name];
  return typeof value === 'string' ? { value, from: `option '--${name}'` } : undefined;
}

function fromEnv(env: Env, name: string): Setting | undefined {
  const value = nonEmpty(env[name]);
  return value === undefined ? undefined : { value, from: name };
}

function fromUrl(url: ParsedUrl | undefined, part: 'host' | 'port' | 'database' | 'user'): Setting | undefined {
  const value = url?.[part];
  return value === undefined ? undefined : { value, from: `the ${part === 'database' ? 'database' : part} in --url` };
}

function fromParam(url: ParsedUrl | undefined, param: string): Setting | undefined {
  const value = url?.params[param];
  return value === undefined ? undefined : { value, from: `'${param}' in --url` };
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/** Reads a PEM file named by a setting; an unreadable file is a usage error naming it. */
function readPem(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  try {
    return readFileSync(setting.value, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = READ_ERRORS[code] ?? errorText(err);
    throw new UsageError(`cannot read the file ${JSON.stringify(setting.value)} given by ${setting.from}: ${why}`, COMMAND);
  }
}

/** Attribute names in the provider's messages, as the options that set them. */
export function inOptionTerms(message: string): string {
  return message
    .replace(/use_aws_secrets = true/g, '--aws-secret')
    .replace(/\b(host|port|database_name|username|ssl_mode|tls_root_cert|tls_cert_file|tls_key_file|tls_server_name|aws_secret_name|aws_region|aws_endpoint|connect_timeout)\b(?! in --url)/g, (m) =>
      m === 'host' || m === 'port' ? m : (OPTION_OF[m] ?? m),
    );
}

/** A usage error for the validators' issues, each named by where its value came from. */
export function usageFromIssues(issues: readonly ValidationIssue[], sources: Readonly<Record<string, string>>): UsageError {
  const parts = issues.map((i) => {
    const from = sources[i.field] ?? (OPTION_OF[i.field] ? `option '${OPTION_OF[i.field]}'` : i.field);
    return `${from}: ${inOptionTerms(i.message)}`;
  });
  return new UsageError(parts.join('; '), COMMAND);
}

/** Checks the combination of options, before anything is read. */
export function checkCombinations(values: CheckValues): void {
  if (values.target !== undefined) {
    const other = CONNECTION_OPTIONS.find((name) => values[name] !== undefined);
    if (other !== undefined) {
      throw new UsageError(`option '--target' cannot be combined with '--${other}': a catalog target is checked with its stored settings`, COMMAND);
    }
    return;
  }
  for (const name of ['catalog-url', 'catalog-schema'] as const) {
    if (values[name] !== undefined) throw new UsageError(`option '--${name}' applies only with --target`, COMMAND);
  }
  if (values.url !== undefined) {
    const other = (['host', 'port', 'database', 'user'] as const).find((name) => values[name] !== undefined);
    if (other !== undefined) {
      throw new UsageError(`option '--url' cannot be combined with '--${other}': give the ${other} in the URL, or use --host, --port, --database and --user without --url`, COMMAND);
    }
  }
  if (values['aws-secret'] === undefined) {
    for (const name of ['aws-region', 'aws-endpoint'] as const) {
      if (values[name] !== undefined) throw new UsageError(`option '--${name}' applies only with --aws-secret`, COMMAND);
    }
  }
  if (values.sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(values.sslmode)) {
    throw new UsageError(`option '--sslmode' must be one of ${SSL_MODES.join(', ')}, not ${JSON.stringify(values.sslmode)}`, COMMAND);
  }
}

/** Every connection setting given, each with where it came from. */
interface Settings {
  readonly host?: Setting | undefined;
  readonly port?: Setting | undefined;
  readonly user?: Setting | undefined;
  readonly database?: Setting | undefined;
  readonly password?: Setting | undefined;
  readonly sslMode?: Setting | undefined;
  readonly rootCert?: Setting | undefined;
  readonly clientCert?: Setting | undefined;
  readonly clientKey?: Setting | undefined;
  readonly timeout?: Setting | undefined;
  readonly serverName?: Setting | undefined;
  /** --aws-secret: the secret's name. */
  readonly aws?: string | undefined;
}

/** The settings from the options, then --url, then the PG* variables (libpq's order). */
function gatherSettings(values: CheckValues, env: Env): Settings {
  const url = values.url === undefined ? undefined : parseUrl(values.url);
  for (const [param, attribute] of Object.entries(URL_PARAMS)) {
    const option = OPTION_OF[attribute]!;
    if (url?.params[param] !== undefined && values[option.slice(2) as keyof CheckValues] !== undefined) {
      throw new UsageError(`option '${option}' cannot be combined with '${param}' in --url: give it once`, COMMAND);
    }
  }
  const aws = values['aws-secret'];
  // With a secret, what the options leave out comes from the secret, not from PG* variables.
  const envOf = (name: string): Setting | undefined => (aws === undefined ? fromEnv(env, name) : undefined);
  let password: Setting | undefined;
  if (url?.password !== undefined) password = { value: url.password, from: '--url' };
  else if (aws === undefined) password = fromEnv(env, 'PGPASSWORD');
  if (aws !== undefined && url?.password !== undefined) {
    throw new UsageError(`option '--url' must not hold a password with --aws-secret: the password comes from the secret`, COMMAND);
  }
  return {
    host: first(fromOption(values, 'host'), fromUrl(url, 'host'), envOf('PGHOST')),
    port: first(fromOption(values, 'port'), fromUrl(url, 'port'), envOf('PGPORT')),
    user: first(fromOption(values, 'user'), fromUrl(url, 'user'), envOf('PGUSER')),
    database: first(fromOption(values, 'database'), fromUrl(url, 'database'), envOf('PGDATABASE')),
    password,
    sslMode: first(fromOption(values, 'sslmode'), fromParam(url, 'sslmode'), fromEnv(env, 'PGSSLMODE')),
    rootCert: first(fromOption(values, 'sslrootcert'), fromParam(url, 'sslrootcert'), fromEnv(env, 'PGSSLROOTCERT')),
    clientCert: first(fromOption(values, 'sslcert'), fromParam(url, 'sslcert'), fromEnv(env, 'PGSSLCERT')),
    clientKey: first(fromOption(values, 'sslkey'), fromParam(url, 'sslkey'), fromEnv(env, 'PGSSLKEY')),
    timeout: first(fromOption(values, 'connect-timeout'), fromParam(url, 'connect_timeout'), fromEnv(env, 'PGCONNECT_TIMEOUT')),
    serverName: fromOption(values, 'tls-server-name'),
    aws,
  };
}

/** Where each target attribute came from, to word a validation issue in the person's terms. */
function sourcesOf(s: Settings, values: CheckValues): Record<string, string> {
  const sources: Record<string, string> = {};
  const noted: Array<[string, Setting | undefined]> = [
    ['host', s.host],
    ['port', s.port],
    ['username', s.user],
    ['database_name', s.database],
    ['ssl_mode', s.sslMode],
    ['tls_root_cert', s.rootCert],
    ['tls_cert_file', s.clientCert],
    ['tls_key_file', s.clientKey],
    ['tls_server_name', s.serverName],
    ['connect_timeout', s.timeout],
    ['aws_secret_name', fromOption(values, 'aws-secret')],
    ['aws_region', fromOption(values, 'aws-region')],
    ['aws_endpoint', fromOption(values, 'aws-endpoint')],
  ];
  for (const [attribute, setting] of noted) if (setting !== undefined) sources[attribute] = setting.from;
  return sources;
}

/** The settings with libpq's defaults filled in (without a secret) and the PEM files read. */
interface Resolved {
  readonly host: string | undefined;
  readonly database: string | undefined;
  readonly rootPem: string | undefined;
  readonly certPem: string | undefined;
  readonly keyPem: string | undefined;
}

function resolveSettings(s: Settings): Resolved {
  const system = (setting: Setting | undefined): Setting | undefined => (setting?.value === 'system' ? undefined : setting);
  return {
    // Without a secret: libpq's defaults (the database is named after the user).
    host: s.host?.value ?? (s.aws === undefined ? '127.0.0.1' : undefined),
    database: s.database?.value ?? (s.aws === undefined ? s.user?.value : undefined),
    rootPem: readPem(system(s.rootCert)),
    certPem: readPem(s.clientCert),
    keyPem: readPem(s.clientKey),
  };
}

/** Checks the settings as the provider checks an adaptive_resource; a problem is a usage error. */
function validateSettings(s: Settings, r: Resolved, values: CheckValues, sources: Readonly<Record<string, string>>): void {
  const aws = s.aws;
  const input: TargetInput = {
    type: 'postgres',
    name: AD_HOC,
    host: r.host,
    port: s.port?.value,
    database_name: r.database,
    username: s.user?.value,
    password: s.password?.value,
    use_aws_secrets: aws !== undefined ? true : undefined,
    aws_secret_name: aws,
    aws_region: values['aws-region'],
    aws_endpoint: values['aws-endpoint'],
    ssl_mode: s.sslMode?.value,
    tls_root_cert: r.rootPem,
    tls_cert_file: r.certPem,
    tls_key_file: r.keyPem,
    tls_server_name: s.serverName?.value,
    connect_timeout: s.timeout?.value,
  };
  const issues = checkTargetInput(input).filter((i) => {
    // Not needed here: a role may log in without a password (trust, certificates), and
    // with a secret, host and database may come from the secret.
    if (i.field === 'password' && i.message.startsWith('is required')) return false;
    if (aws !== undefined && (i.field === 'host' || i.field === 'database_name') && i.message.startsWith('is required')) return false;
    return true;
  });
  if (issues.length > 0) throw usageFromIssues(issues, sources);
}

/** The runtime's connection settings for the checked target. */
function targetConfigOf(s: Settings, r: Resolved, values: CheckValues): TargetConfig {
  const { aws, port, user, password, timeout, serverName } = s;
  return {
    name: AD_HOC,
    host: r.host ?? '',
    port: port === undefined ? (aws === undefined ? 5432 : 0) : Number(port.value),
    database: r.database ?? '',
    ...(user !== undefined ? { username: user.value } : {}),
    ...(password !== undefined ? { password: password.value } : {}),
    ...(aws !== undefined
      ? {
          aws: {
            secretName: aws,
            ...(values['aws-region'] !== undefined ? { region: values['aws-region'] } : {}),
            ...(values['aws-endpoint'] !== undefined ? { endpoint: values['aws-endpoint'] } : {}),
          },
        }
      : {}),
    sslMode: (s.sslMode?.value as SslMode | undefined) ?? 'prefer',
    ...(r.rootPem !== undefined ? { tlsRootCert: r.rootPem } : {}),
    ...(r.certPem !== undefined ? { tlsClientCert: r.certPem } : {}),
    ...(r.keyPem !== undefined ? { tlsClientKey: r.keyPem } : {}),
    ...(serverName !== undefined ? { tlsServerName: serverName.value } : {}),
    ...(timeout !== undefined ? { connectTimeoutSeconds: Number(timeout.value) } : {}),
    applicationName: APPLICATION_NAME,
    maxConnections: 2,
  };
}

/** The connection described by --url, --host... and the PG* variables, validated. */
export function planFromOptions(values: CheckValues, env: Env): Plan {
  const settings = gatherSettings(values, env);
  const { aws, user, sslMode, password } = settings;
  if (aws === undefined && user === undefined) {
    throw new UsageError('no user given: pass --user, put the user in --url, or set PGUSER', COMMAND);
  }
  if (sslMode !== undefined && !(SSL_MODES as readonly string[]).includes(sslMode.value)) {
    throw new UsageError(`${sslMode.from} must be one of ${SSL_MODES.join(', ')}, not ${JSON.stringify(sslMode.value)}`, COMMAND);
  }
  const sources = sourcesOf(settings, values);
  const resolved = resolveSettings(settings);
  validateSettings(settings, resolved, values, sources);
  return {
    config: targetConfigOf(settings, resolved, values),
    passwordFrom: aws !== undefined ? undefined : password === undefined ? undefined : password.from,
    adminRequired: values.admin === true,
    sources,
    catalog: false,
  };
}

/** The target named by --target, from the catalog (with its secrets). */
export async function planFromCatalog(name: string, values: CheckValues, env: Env): Promise<Plan> {
  const settings = catalogSettingsFrom(COMMAND, values, env);
  const runtime = await openRuntimeFor(COMMAND, settings, values['catalog-schema']);
  try {
    let target;
    try {
      target = await runtime.readResourceConfig(name);
    } catch (err) {
      if (err instanceof CatalogError) throw new CliError(err.message, undefined, { cause: err });
      throw err;
    }
    if (target === null) {
      const known = await runtime.listNames('resource');
      throw new CliError(
        `no target ${JSON.stringify(name)} in the catalog`,
        known.length === 0
          ? 'The catalog has no targets yet: apply an adaptive_resource first, or check --catalog-url / ADAPTIVE_CATALOG_URL.'
          : `The targets are: ${known.join(', ')}.`,
      );
    }
    return {
      config: { ...target, applicationName: APPLICATION_NAME, maxConnections: 2, minConnections: 0 },
      passwordFrom: target.aws ? undefined : target.password !== undefined ? 'the catalog' : undefined,
      adminRequired: true,
      sources: {},
      catalog: true,
    };
  } finally {
    await runtime.close();
  }
}
