/**
 * Opening admin connections to a target: one attempt at a time with node-postgres,
 * libpq's allow/prefer retries around it (see ./tls), errors mapped to a cause and a fix
 * (see ./errors), and the pool that the rest of the runtime uses.
 *
 * With IAM authentication (./rds-iam) the password is a function node-postgres calls for
 * each connection (pools, single clients and `connect(database)` alike): a fresh token each time.
 *
 * The TLS decision is made once per target, by the first successful connection: the pool
 * and `connect(database)` reuse the attempt that worked instead of renegotiating on every
 * connection. A server whose TLS setup changes while the provider runs is picked up by the
 * next run.
 */
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import { SEARCH_PATH_OPTION } from '../pg/sql';
import { ValidationError, type RevokedObjects, type TargetConfig, type TargetDb } from '../types';
import { CONNECT_TIMEOUT, ConnectionError, SERVER_REFUSED_TLS, classify, connectionFailed, type AttemptFailure, type TargetContext } from './errors';
import { rdsIamPassword, type IamPassword } from './rds-iam';
import { resolveTarget, type ResolvedTarget } from './secrets';
import { describeAttempt, firstAttempt, freshProgress, nextAttempt, refuseUnsafeTls, tlsOptions, type Attempt, type AttemptProgress } from './tls';

/**
 * A resolved target as connections use it: the password is a fixed value, or with IAM
 * authentication a function that makes a token per connection (not enumerable either way).
 */
export type AdminTarget = Omit<ResolvedTarget, 'password' | 'credentialSource'> & {
  readonly password: string | IamPassword | undefined;
  readonly credentialSource: ResolvedTarget['credentialSource'] | 'rds-iam';
};

/** Resolves a target's settings (./secrets) and, with IAM authentication, its token maker. */
export async function resolveAdminTarget(config: TargetConfig): Promise<AdminTarget> {
  const settings = await resolveTarget(config);
  if (!config.rdsIam) return settings;
  const password = await rdsIamPassword(settings, config.rdsIam);
  // The spread leaves the (non-enumerable, undefined) password behind.
  const resolved = { ...settings, credentialSource: 'rds-iam' as const };
  Object.defineProperty(resolved, 'password', { value: password, enumerable: false });
  return resolved;
}

/**
 * Errors the IAM token maker raises while node-postgres connects (no region, no AWS
 * credentials) already say what to fix: they pass through unmapped.
 */
function isOwnError(err: unknown): err is ConnectionError | ValidationError {
  return err instanceof ConnectionError || err instanceof ValidationError;
}

/** node-postgres' protocol connection of a client: its events show how far an attempt got. */
function connectionOf(client: pg.Client): pg.Connection {
  return client.connection;
}

/** The context errors are reported in. */
export function contextOf(target: AdminTarget, database = target.database): TargetContext {
  return {
    target: target.name,
    host: target.host,
    port: target.port,
    database,
    user: target.user,
    sslMode: target.sslMode,
    tlsServerName: target.tlsServerName,
    hasRootCert: target.tlsRootCert !== undefined,
    hasClientCert: target.tlsClientCert !== undefined,
    connectTimeoutSeconds: target.connectTimeoutSeconds,
    iamAuth: target.credentialSource === 'rds-iam',
  };
}

/**
 * node-postgres configuration for one attempt.
 *
 * node-postgres overwrites the TLS servername with its `host` whenever that is a name, so
 * when tls_server_name differs from a host *name* (an alias), the client is told the
 * server name as its host and the socket is pointed at the real host, as libpq's
 * host/hostaddr pair does.
 */
export function clientConfig(target: AdminTarget, attempt: Attempt, database = target.database): pg.ClientConfig {
  const redirect = attempt.tls && target.tlsServerName !== undefined && target.tlsServerName !== target.host && net.isIP(target.host) === 0;
  return {
    host: redirect ? target.tlsServerName : target.host,
    port: target.port,
    user: target.user,
    database,
    // Always a string or undefined, never null: node-postgres falls back to ~/.pgpass on null.
    ...(target.password !== undefined ? { password: target.password } : {}),
    ssl: attempt.tls ? tlsOptions(attempt, target) : false,
    application_name: target.applicationName,
    // Name lookup only in pg_catalog (and pg_temp last): see SEARCH_PATH_OPTION.
    options: SEARCH_PATH_OPTION,
    connectionTimeoutMillis: Math.round(target.connectTimeoutSeconds * 1000),
    keepAlive: true,
    ...(redirect ? { stream: () => socketTo(target.host) } : {}),
  };
}

/** A socket that connects to `host` whatever host it is asked for. */
function socketTo(host: string): net.Socket {
  const socket = new net.Socket();
  const connect = socket.connect.bind(socket) as (port: number, host: string) => net.Socket;
  // node-postgres calls connect(port, host); only the address changes.
  (socket as unknown as { connect: (port: number) => net.Socket }).connect = (port: number) => connect(port, host);
  return socket;
}

/**
 * Listener for errors of idle clients (server restart, terminated backend): the client's
 * next query fails anyway, and an 'error' event without a listener would end the process.
 */
function ignoreIdleErrors(): void {}

/** One failed attempt, classified, with the password scrubbed from its text. */
function failureOf(attempt: Attempt, err: unknown, target: AdminTarget): AttemptFailure {
  // IAM tokens are registered secrets (output writers scrub them); servers never echo them.
  const c = classify(err, [typeof target.password === 'string' ? target.password : undefined]);
  return { tls: attempt.tls, cause: c.cause, detail: c.detail, ...(c.code ? { code: c.code } : {}) };
}

/** Runs one attempt, recording how far it got. Resolves to a connected client. */
async function attemptOnce(target: AdminTarget, attempt: Attempt, database: string, progress: AttemptProgress): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(target, attempt, database));
  client.on('error', ignoreIdleErrors);
  const con = connectionOf(client);
  con.once('sslconnect', () => {
    progress.tlsStarted = true;
    // The stream is the TLS socket from here on; its handshake may still fail.
    connectionOf(client).stream.once('secureConnect', () => {
      progress.tlsHandshakeDone = true;
    });
  });
  con.once('authenticationOk', () => {
    progress.authenticated = true;
  });
  con.on('errorMessage', () => {
    progress.serverError = true;
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    if (err instanceof Error && err.message === SERVER_REFUSED_TLS) progress.serverRefusedTls = true;
    if (err instanceof Error && err.message === CONNECT_TIMEOUT) progress.timedOut = true;
    // The server closes the socket after an ErrorResponse, but not every failure does.
    connectionOf(client).stream.destroy();
    throw err;
  }
}

/** A connected client and the attempt that connected it. */
export interface Negotiated {
  readonly client: pg.Client;
  readonly attempt: Attempt;
  /** Every failed attempt before the one that worked. */
  readonly failures: readonly AttemptFailure[];
}

/**
 * Connects with libpq's sslmode semantics: the first attempt, and allow's or prefer's
 * retries when libpq would make them. Throws a ConnectionError naming every attempt, or,
 * before any attempt, a ValidationError for TLS settings the plan-time check refuses.
 */
export async function negotiate(target: AdminTarget, database = target.database): Promise<Negotiated> {
  refuseUnsafeTls(target.sslMode, target);
  const hasRoot = target.tlsRootCert !== undefined;
  const made: Attempt[] = [];
  const failures: AttemptFailure[] = [];
  for (let attempt: Attempt | undefined = firstAttempt(target.sslMode, hasRoot); attempt; ) {
    made.push(attempt);
    const progress = freshProgress();
    try {
      const client = await attemptOnce(target, attempt, database, progress);
      return { client, attempt, failures };
    } catch (err) {
      if (isOwnError(err)) throw err;
      failures.push(failureOf(attempt, err, target));
      attempt = nextAttempt(target.sslMode, hasRoot, made, progress);
    }
  }
  throw connectionFailed(failures, contextOf(target, database));
}

/** Connects with an attempt already known to work (no retries), mapping errors. */
export async function connectWith(target: AdminTarget, attempt: Attempt, database = target.database): Promise<pg.Client> {
  refuseUnsafeTls(target.sslMode, target);
  try {
    return await attemptOnce(target, attempt, database, freshProgress());
  } catch (err) {
    if (isOwnError(err)) throw err;
    throw connectionFailed([failureOf(attempt, err, target)], contextOf(target, database));
  }
}

/** The TLS state of a live connection, as "Test Connection" shows it. */
export interface TlsState {
  readonly used: boolean;
  /** e.g. "TLSv1.3". */
  readonly protocol?: string;
  /** e.g. "TLS_AES_256_GCM_SHA384". */
  readonly cipher?: string;
  /** What was verified: nothing, the chain, or the chain and the host name. */
  readonly verified: 'none' | 'chain' | 'chain-and-hostname';
  /** The name the certificate was checked against (verify-full only). */
  readonly serverName?: string;
  readonly serverCertificate?: { readonly subject: string; readonly issuer: string; readonly validTo: string };
}

/** Reads the TLS state of a connected client. */
export function tlsStateOf(client: pg.Client, attempt: Attempt, target: AdminTarget): TlsState {
  const stream = connectionOf(client).stream;
  if (!attempt.tls || !(stream instanceof tls.TLSSocket)) return { used: false, verified: 'none' };
  const cert = stream.getPeerCertificate();
  const cipher = stream.getCipher();
  const protocol = stream.getProtocol();
  const dn = (name: unknown): string =>
    typeof name === 'object' && name !== null
      ? Object.entries(name as Record<string, unknown>)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')
      : '';
  return {
    used: true,
    ...(protocol ? { protocol } : {}),
    ...(cipher.name ? { cipher: cipher.name } : {}),
    verified: attempt.verify === 'full' ? 'chain-and-hostname' : attempt.verify,
    ...(attempt.verify === 'full' ? { serverName: target.tlsServerName ?? target.host } : {}),
    ...(cert && cert.subject ? { serverCertificate: { subject: dn(cert.subject), issuer: dn(cert.issuer), validTo: cert.valid_to } } : {}),
  };
}

/** An open target: TargetDb plus what was decided when it was opened. */
export interface OpenTarget extends TargetDb {
  /** Resolved settings (the password is not enumerable). */
  readonly settings: AdminTarget;
  /** The attempt every connection of this target uses. */
  readonly attempt: Attempt;
  /** Whether connections use TLS. */
  readonly tls: boolean;
}

/**
 * The client class of a target's pool: the target's connect timeout, and connection
 * failures mapped to ConnectionErrors like every other connection of the target.
 */
function pooledClientClass(settings: AdminTarget, attempt: Attempt): new () => pg.ClientBase {
  const connectTimeout = clientConfig(settings, attempt).connectionTimeoutMillis ?? 0;
  const mapped = (err: unknown): Error => (isOwnError(err) ? err : connectionFailed([failureOf(attempt, err, settings)], contextOf(settings)));
  class PooledClient extends pg.Client {
    constructor(options: pg.ClientConfig) {
      // pg-pool keeps the password as a non-enumerable option: a spread would drop it.
      const own: pg.ClientConfig = { ...options, connectionTimeoutMillis: connectTimeout };
      if (options.password !== undefined) own.password = options.password;
      super(own);
      // A connection that breaks while checked out between two queries (a transaction's
      // statements, the network cut) emits 'error' with no query to fail: unheard, it would
      // end the process. Its next query fails instead, and the pool discards it on release.
      this.on('error', ignoreIdleErrors);
    }

    // pg-pool connects with a callback; both forms map failures.
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
      if (!callback) return super.connect().catch((err: unknown) => Promise.reject(mapped(err)));
      super.connect((err: Error | null) => (err ? callback(mapped(err)) : callback(null, this)));
    }
  }
  // pg-pool constructs it with the pool's options (@types/pg types it as argument-less).
  return PooledClient as unknown as new () => pg.ClientBase;
}

class PooledTarget implements OpenTarget {
  readonly name: string;
  readonly database: string;
  readonly pool: pg.Pool;
  readonly tls: boolean;
  private closed?: Promise<void>;

  constructor(
    readonly settings: AdminTarget,
    readonly attempt: Attempt,
    readonly revokedObjects: RevokedObjects,
  ) {
    this.name = settings.name;
    this.database = settings.database;
    this.tls = attempt.tls;
    this.pool = new pg.Pool({
      ...clientConfig(settings, attempt),
      // pg-pool would also use the connect timeout as the limit for waiting on a busy pool;
      // work queued behind long transactions should wait, so only new connections get it
      // (from the client class).
      connectionTimeoutMillis: 0,
      Client: pooledClientClass(settings, attempt),
      max: settings.maxConnections,
      // pg-pool does not open connections ahead of need; `min` keeps that many idle
      // connections from being closed by the idle timeout once they exist. Prewarming is
      // left out on purpose: the plugin runs several short processes per Terraform
      // command, and opening min_connections in each would multiply the load on the target.
      min: settings.minConnections,
      idleTimeoutMillis: 10_000,
      // A forgotten close() must not keep a CLI process alive.
      allowExitOnIdle: true,
    });
    // An idle pooled client that fails (server restart, terminated backend) is discarded by
    // the pool; without a listener the error would crash the process.
    this.pool.on('error', ignoreIdleErrors);
  }

  connect(database: string = this.database): Promise<pg.Client> {
    return connectWith(this.settings, this.attempt, database);
  }

  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }
}

/**
 * Opens a target: resolves its secret, connects once with libpq's sslmode semantics to
 * decide the TLS settings (and to fail early with a mapped error), then returns a pool of
 * up to max_connections (default 10) and `connect(database)` for other databases on the
 * same server with the same settings.
 */
export async function openTarget(config: TargetConfig): Promise<OpenTarget> {
  const settings = await resolveAdminTarget(config);
  const { client, attempt } = await negotiate(settings);
  await client.end();
  return new PooledTarget(settings, attempt, config.revokedObjects ?? 'reassign');
}

/** What "Test Connection" reports. */
export interface ConnectionCheck {
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly credentialSource: AdminTarget['credentialSource'];
  /** e.g. "18.1". */
  readonly serverVersion: string;
  /** e.g. 180001. */
  readonly serverVersionNum: number;
  readonly major: number;
  readonly sslMode: ResolvedTarget['sslMode'];
  readonly tls: TlsState;
  /** e.g. "prefer: TLS (certificate not verified)" or "allow: no TLS". */
  readonly summary: string;
  /** Failed attempts before the one that worked (allow and prefer). */
  readonly failedAttempts: readonly AttemptFailure[];
}

/** Connects once, reports server version and TLS state, and disconnects. */
export async function testConnection(config: TargetConfig): Promise<ConnectionCheck> {
  const settings = await resolveAdminTarget(config);
  const { client, attempt, failures } = await negotiate(settings);
  try {
    const { rows } = await client.query<{ version: string; num: string }>(
      "select pg_catalog.current_setting('server_version') as version, pg_catalog.current_setting('server_version_num') as num",
    );
    const row = rows[0];
    if (!row) throw new Error('the server returned no version');
    const num = Number(row.num);
    return {
      target: settings.name,
      host: settings.host,
      port: settings.port,
      database: settings.database,
      user: settings.user,
      credentialSource: settings.credentialSource,
      serverVersion: row.version,
      serverVersionNum: num,
      major: Math.floor(num / 10000),
      sslMode: settings.sslMode,
      tls: tlsStateOf(client, attempt, settings),
      summary: `${settings.sslMode}: ${describeAttempt(attempt)}`,
      failedAttempts: failures,
    };
  } finally {
    await client.end();
  }
}
