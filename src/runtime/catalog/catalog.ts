/**
 * Opening the catalog: where it is (provider setting or environment), connecting with a
 * small pool, and bringing its schema up to date before anything reads it.
 */
import { Pool } from 'pg';
import { SEARCH_PATH_OPTION, qualified } from '../access/sql';
import { ValidationError } from '../types';
import { parseCatalogKey } from './crypto';
import { CatalogError } from './errors';
import { CATALOG_VERSION, migrateCatalog } from './migrations';
import { CatalogStore } from './store';

/** The schema the catalog's tables live in unless configured otherwise. */
export const DEFAULT_CATALOG_SCHEMA = 'adaptive';

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
  checkCatalogUrl(url);
  const keyText = nonEmpty(settings.key) ?? nonEmpty(env[CATALOG_KEY_ENV]);
  return { url, key: keyText === undefined ? undefined : parseCatalogKey(keyText) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Refuses what is not a postgres:// URL; the message never repeats it (it may hold a password). */
function checkCatalogUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError([
      { field: 'catalog_url', message: 'is not a URL: expected postgres://user:password@host:5432/database' },
    ]);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ValidationError([
      {
        field: 'catalog_url',
        message: `must be a postgres:// or postgresql:// URL, not ${parsed.protocol}// (expected postgres://user:password@host:5432/database)`,
      },
    ]);
  }
  return parsed;
}

/** `user@host:port/database` of a URL, for messages: never its password. */
function describeUrl(url: URL): string {
  let user = url.username;
  try {
    user = decodeURIComponent(user);
  } catch {
    // Malformed percent-encoding: show the user name as written.
  }
  user = user ? `${user}@` : '';
  const port = url.port ? `:${url.port}` : '';
  const database = url.pathname.length > 1 ? url.pathname : '';
  return `${user}${url.hostname}${port}${database}`;
}

/**
 * An open catalog: the full API (see `CatalogStore`) on a small pool, with the schema
 * migrated to the version this build knows.
 */
export class Catalog extends CatalogStore {
  /** The schema version this build writes and reads. */
  static readonly VERSION = CATALOG_VERSION;

  private closed = false;

  private constructor(
    private readonly pool: Pool,
    schema: string,
    key: Buffer | undefined,
    /** Migrations this open applied (empty when the catalog was already current). */
    readonly appliedMigrations: readonly number[],
  ) {
    super({ pool, schema, key });
  }

  /**
   * Connects to the catalog database at `url` and applies any pending migrations (safely
   * when several processes open it at once). Refuses a catalog migrated by a newer build
   * (code `version`). Errors never contain the URL's password.
   */
  static async open(url: string, options: CatalogOptions = {}): Promise<Catalog> {
    const parsed = checkCatalogUrl(url);
    const schema = options.schema ?? DEFAULT_CATALOG_SCHEMA;
    if (schema === '' || Buffer.byteLength(schema, 'utf8') > 63) {
      throw new CatalogError('invalid', 'the catalog schema name must be 1 to 63 bytes long');
    }
    const pool = new Pool({
      connectionString: url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: (options.connectTimeoutSeconds ?? 10) * 1000,
      application_name: options.applicationName ?? 'adaptive-access catalog',
      // Its tables are schema-qualified, but calls such as jsonb_build_object are not.
      options: SEARCH_PATH_OPTION,
    });
    // An idle client's connection can drop (server restart, network); the pool discards
    // it and the next query reconnects. Without a listener the error would crash the process.
    pool.on('error', () => undefined);
    try {
      let client;
      try {
        client = await pool.connect();
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new CatalogError('connect', `cannot connect to the catalog database ${describeUrl(parsed)}: ${reason}`, { cause: err });
      }
      try {
        const result = await migrateCatalog(client, schema);
        return new Catalog(pool, schema, options.key, result.applied);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /** The PostgreSQL schema holding the catalog's tables. */
  get schema(): string {
    return this.ctx.schema;
  }

  /** Whether a catalog key is configured (needed to store or read inline secrets). */
  get hasKey(): boolean {
    return this.ctx.key !== undefined;
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
    await this.pool.end();
  }
}
