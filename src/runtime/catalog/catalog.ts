/**
 * Opening the catalog: where it is (provider setting or environment), connecting with a
 * small pool (libpq's sslmode semantics, see ./connection), and bringing its schema up to
 * date before anything reads it, or, for an open that only reads, checking its version and
 * writing nothing.
 */
import type { PoolClient } from 'pg';
import type { OpenTarget } from '../connections';
import { qualified } from '../pg/sql';
import { runtimeSecrets } from '../secret-registry';
import { ValidationError } from '../types';
import { connectCatalog, parseCatalogUrl } from './connection';
import { parseCatalogKey } from './crypto';
import { CatalogError } from './errors';
import { CATALOG_VERSION, RESOURCE_SEAL_MIGRATION, catalogVersion, migrateCatalog } from './migrations';
import { PRESENCE_LOCK } from './presence';
import { CatalogStore, type CatalogAccess } from './store';

/** The schema the catalog's tables live in unless configured otherwise. */
export const DEFAULT_CATALOG_SCHEMA = 'adaptive';

/** The channel the catalog's credentials trigger notifies (payload: the catalog's schema). */
const CREDENTIALS_CHANNEL = 'adaptive_credentials';

/** A LISTEN connection for credential changes; `close` ends it. */
export interface CredentialListener {
  close(): Promise<void>;
}

/** Environment variable naming the catalog database when the provider setting is absent. */
export const CATALOG_URL_ENV = 'ADAPTIVE_CATALOG_URL';
/** Environment variable holding the catalog key when the provider setting is absent. */
export const CATALOG_KEY_ENV = 'ADAPTIVE_CATALOG_KEY';

/** How to open a catalog. */
export interface CatalogOptions {
  /** Encrypts stored secrets (from `parseCatalogKey`). Without it, inline secrets cannot be stored or read. */
  readonly key?: Buffer | undefined;
  /** Schema holding the catalog's tables; default `adaptive`. */
  readonly schema?: string | undefined;
  /** Pool size; default 4 (the catalog sees short statements only). */
  readonly maxConnections?: number | undefined;
  /** Seconds to wait for a connection; default 10. */
  readonly connectTimeoutSeconds?: number | undefined;
  /** `application_name` shown in pg_stat_activity; default `adaptive-access catalog`. */
  readonly applicationName?: string | undefined;
  /**
   * Open only to read (plan, refresh, import, `status`, `audit`): nothing is migrated,
   * locked or written. A database without the catalog's tables reads as an empty catalog.
   * A catalog older than this build is the exception: with the key it is upgraded (once,
   * by the first open of this build), without it refused (code `outdated`). `allowWrites`
   * makes a read-only catalog writable later.
   */
  readonly readOnly?: boolean | undefined;
}

/** Where the catalog is and how its secrets are encrypted, resolved from settings and environment. */
export interface CatalogSettings {
  readonly url: string;
  readonly key: Buffer | undefined;
}

/**
 * Resolves the catalog's URL and key: the provider settings `catalog_url` / `catalog_key`
 * when given, else `ADAPTIVE_CATALOG_URL` / `ADAPTIVE_CATALOG_KEY`. A missing URL or a
 * malformed key is a `ValidationError` on the setting, so it surfaces at plan time.
 */
export function resolveCatalogSettings(
  settings: { readonly url?: string | undefined; readonly key?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
): CatalogSettings {
  const url = nonEmpty(settings.url) ?? nonEmpty(env[CATALOG_URL_ENV]);
  if (url === undefined) {
    throw new ValidationError([
      {
        field: 'catalog_url',
        message:
          `no catalog database is configured: set the provider's catalog_url or the ${CATALOG_URL_ENV} environment variable ` +
          'to a PostgreSQL URL such as postgres://user:password@host:5432/database',
      },
    ]);
  }
  // Refuses what is not a usable postgres:// URL; the message never repeats it. Its password
  // is registered as written in the URL (percent-encoded) and decoded.
  const parsed = parseCatalogUrl(url);
  runtimeSecrets.register(url, new URL(url).password, parsed.password);
  const keyText = nonEmpty(settings.key) ?? nonEmpty(env[CATALOG_KEY_ENV]);
  if (keyText === undefined) return { url, key: undefined };
  runtimeSecrets.register(keyText);
  const key = parseCatalogKey(keyText);
  // The same key written another way (hex given, base64 printed) is the same secret.
  runtimeSecrets.register(key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url'));
  return { url, key };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * An open catalog: the full API (see `CatalogStore`) on a small pool, with the schema
 * migrated to the version this build knows, or opened read-only (see `CatalogOptions`).
 */
export class Catalog extends CatalogStore {
  /** The schema version this build writes and reads. */
  static readonly VERSION = CATALOG_VERSION;

  private closed = false;

  private constructor(
    private readonly connection: OpenTarget,
    schema: string,
    key: Buffer | undefined,
    access: CatalogAccess,
    /** Migrations this open applied (empty when the catalog was already current or opened read-only). */
    readonly appliedMigrations: readonly number[],
  ) {
    super({ pool: connection.pool, schema, key, access });
  }

  /**
   * Connects to the catalog database at `url` and applies any pending migrations (safely
   * when several processes open it at once), or with `readOnly` only checks the schema's
   * version. Refuses a catalog migrated by a newer build (code `version`). The URL's
   * `sslmode` has libpq's meaning (default prefer). Errors never contain the URL's password.
   */
  static async open(url: string, options: CatalogOptions = {}): Promise<Catalog> {
    const parsed = parseCatalogUrl(url);
    const schema = options.schema ?? DEFAULT_CATALOG_SCHEMA;
    if (schema === '' || Buffer.byteLength(schema, 'utf8') > 63) {
      throw new CatalogError('invalid', 'the catalog schema name must be 1 to 63 bytes long');
    }
    const connection = await connectCatalog(parsed, {
      maxConnections: options.maxConnections ?? 4,
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      applicationName: options.applicationName,
    });
    try {
      if (options.readOnly) {
        const version = await withClient(connection, (client) => catalogVersion(client, schema));
        if (version > 0 && version < CATALOG_VERSION) {
          // An older catalog is upgraded by the first open of this build that holds the key,
          // plan included: refusing it would fail every deployment's next plan after an
          // upgrade (the plan phase of an apply reads too). Without the key (status, audit)
          // it is refused: upgrading seals the records it finds, which needs the key.
          if (!options.key) throw outdated(schema, version);
          const applied = (await withClient(connection, (client) => migrateCatalog(client, schema))).applied;
          const upgraded = new Catalog(connection, schema, options.key, { readOnly: false, uninitialised: false }, applied);
          await upgraded.sealIfSealsAdded(applied);
          upgraded.ctx.access.readOnly = true;
          return upgraded;
        }
        return new Catalog(connection, schema, options.key, { readOnly: true, uninitialised: version === 0 }, []);
      }
      const applied = (await withClient(connection, (client) => migrateCatalog(client, schema))).applied;
      const catalog = new Catalog(connection, schema, options.key, { readOnly: false, uninitialised: false }, applied);
      await catalog.sealIfSealsAdded(applied);
      return catalog;
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Makes a catalog opened read-only writable, on the same pool: applies the pending
   * migrations as a writing open does (creating the schema on a new database) and lifts
   * the read-only guard. For a process that reads first and may then change something
   * (Terraform's apply). Returns the migrations applied; nothing to do when already writable.
   */
  async allowWrites(): Promise<readonly number[]> {
    const access = this.ctx.access;
    if (!access.readOnly) return [];
    const { applied } = await withClient(this.connection, (client) => migrateCatalog(client, this.ctx.schema));
    access.readOnly = false;
    access.uninitialised = false;
    await this.sealIfSealsAdded(applied);
    return applied;
  }

  /** Whether the catalog was opened read-only and has not been made writable. */
  get readOnly(): boolean {
    return this.ctx.access.readOnly;
  }

  /**
   * Records an earlier build wrote have no seal of their settings; the open that adds
   * seals trusts them as they are (as every run of that build did) and seals them, so
   * later opens with the key can refuse a record without one.
   */
  private async sealIfSealsAdded(applied: readonly number[]): Promise<void> {
    if (applied.includes(RESOURCE_SEAL_MIGRATION)) await this.sealUnsealedResources();
  }

  /** The PostgreSQL schema holding the catalog's tables. */
  get schema(): string {
    return this.ctx.schema;
  }

  /** Whether a catalog key is configured (needed to store or read inline secrets). */
  get hasKey(): boolean {
    return this.ctx.key !== undefined;
  }

  /**
   * Calls `onChange` whenever a credential of this catalog is issued, extended or revoked,
   * by any process (a trigger notifies on commit; migration 7), over a connection of its
   * own. `onLost` is called once if that connection fails; listening again is the caller's
   * choice. Notifications from catalogs in other schemas of the same database are ignored.
   * With `presenceOf`, the connection also holds that reaper replica's presence lock, so
   * the other replicas see it gone the moment its process dies (its session ends).
   */
  async listenForCredentialChanges(
    onChange: () => void,
    onLost: (err: unknown) => void,
    options: { readonly presenceOf?: string } = {},
  ): Promise<CredentialListener> {
    const client = await this.connection.connect();
    let closed = false;
    client.on('notification', (message) => {
      if (message.channel === CREDENTIALS_CHANNEL && message.payload === this.ctx.schema) onChange();
    });
    client.on('error', (err) => {
      if (closed) return;
      closed = true;
      void client.end().catch(() => undefined);
      onLost(err);
    });
    try {
      await client.query(`listen ${CREDENTIALS_CHANNEL}`);
      // The replica's presence: held as long as this session lives (see renewReaperLeases).
      if (options.presenceOf !== undefined) await client.query(`select ${PRESENCE_LOCK}`, [this.ctx.schema, options.presenceOf]);
    } catch (err) {
      closed = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    return {
      async close() {
        if (closed) return;
        closed = true;
        await client.end().catch(() => undefined);
      },
    };
  }

  /** The version recorded in the catalog's schema_migrations. */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.query<{ version: number | null }>(
      `select max(version) as version from ${qualified(this.ctx.schema, 'schema_migrations')}`,
    );
    return rows[0]?.version ?? 0;
  }

  /** Closes the pool; waits for queries in flight. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.close();
  }
}

async function withClient<T>(connection: OpenTarget, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await connection.pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

/**
 * A read-only open without the catalog key of a catalog an earlier build migrated. Reading
 * it with this build's queries would miss columns, and upgrading it seals the records it
 * finds, which needs the key.
 */
function outdated(schema: string, version: number): CatalogError {
  return new CatalogError(
    'outdated',
    `the catalog (schema "${schema}") is at version ${version}, older than version ${CATALOG_VERSION} that this release uses, ` +
      'and upgrading it needs the catalog key, which this command does not use. Upgrade it once: run terraform plan or apply, or ' +
      `\`adaptive-access reap\`, with ${CATALOG_URL_ENV} and ${CATALOG_KEY_ENV} set as for Terraform, then run the command again.`,
  );
}
