/**
 * What every part of the catalog's API shares: the context of one open catalog, the table
 * names, the one `query` every statement passes through (which keeps a read-only open from
 * writing), and small checks of arguments. The API itself is built in layers, one kind of
 * record each: `ResourceStore` (resources), `DefinitionStore` (authorizations, endpoints,
 * groups), `CatalogStore` (credentials, the audit log, transactions).
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { qualified } from '../pg/sql';
import { CatalogError, nameList, type CatalogReference } from './errors';

/** What every store of one open catalog shares. */
export interface CatalogContext {
  readonly pool: Pool;
  /** The PostgreSQL schema holding the catalog's tables. */
  readonly schema: string;
  /** The key that encrypts stored secrets; absent when none is configured. */
  readonly key: Buffer | undefined;
  /** Whether the catalog may be written; changes when a read-only open is made writable. */
  readonly access: CatalogAccess;
}

/** How an open catalog may be used (see `Catalog.open` with `readOnly`). */
export interface CatalogAccess {
  /** Opened read-only: only plain SELECTs run; anything else is refused (code `read-only`). */
  readOnly: boolean;
  /**
   * Opened read-only on a database where the catalog has no schema or tables yet: every
   * read finds nothing, as it would in a freshly created catalog, and none is sent.
   */
  uninitialised: boolean;
}

/**
 * A statement a read-only catalog runs: a SELECT that locks no rows (a row lock is a
 * write too, and no read of the plan path needs one).
 */
export function isPlainRead(text: string): boolean {
  return /^\s*select\b/i.test(text) && !/\bfor\s+(?:no\s+key\s+|key\s+)?(?:update|share)\b/i.test(text);
}

export function noRows<R extends QueryResultRow>(): QueryResult<R> {
  return { command: 'SELECT', rowCount: 0, oid: 0, fields: [], rows: [] };
}

export interface Tables {
  readonly resources: string;
  readonly authorizations: string;
  readonly endpoints: string;
  readonly groups: string;
  readonly credentials: string;
  readonly audit: string;
  readonly reaperReplicas: string;
  readonly reaperLeases: string;
}

export function tablesOf(schema: string): Tables {
  return {
    resources: qualified(schema, 'resources'),
    authorizations: qualified(schema, 'authorizations'),
    endpoints: qualified(schema, 'endpoints'),
    groups: qualified(schema, 'groups'),
    credentials: qualified(schema, 'credentials'),
    audit: qualified(schema, 'audit_log'),
    reaperReplicas: qualified(schema, 'reaper_replicas'),
    reaperLeases: qualified(schema, 'reaper_leases'),
  };
}

export function requireName(kind: string, name: string): void {
  if (typeof name !== 'string' || name === '') throw new CatalogError('invalid', `${kind} name must be a non-empty string`);
}

export function requireDate(what: string, value: Date): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new CatalogError('invalid', `${what} must be a valid date`);
  return value.toISOString();
}

export function requireLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new CatalogError('invalid', `limit must be a positive integer, not ${String(limit)}`);
  }
}

/** The value in a unique-violation detail, `Key (col)=(value) already exists.` */
export function conflictingValue(detail: string | undefined): string | undefined {
  return detail === undefined ? undefined : /=\((.*)\) already exists/.exec(detail)?.[1];
}

/** Collects `column = $n` conditions with their bind values. */
export class Conditions {
  readonly parts: string[] = [];
  readonly values: unknown[] = [];

  add(sql: (placeholder: string) => string, value: unknown): void {
    this.values.push(value);
    this.parts.push(sql(`$${this.values.length}`));
  }

  eq(column: string, value: unknown): void {
    if (value !== undefined) this.add((p) => `${column} = ${p}`, value);
  }

  where(extra: readonly string[] = []): string {
    const all = [...extra, ...this.parts];
    return all.length > 0 ? `where ${all.join(' and ')}` : '';
  }
}

/** Orders decimal bigint ids numerically. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** A `referenced` error naming what still refers to `what`. */
export function referenced(
  what: string,
  by: { readonly endpoints?: readonly string[]; readonly groups?: readonly string[]; readonly credentials?: readonly string[] },
  fix: string,
): CatalogError {
  const refs: CatalogReference[] = [
    ...(by.endpoints ?? []).map((name) => ({ kind: 'endpoint' as const, name })),
    ...(by.groups ?? []).map((name) => ({ kind: 'group' as const, name })),
    ...(by.credentials ?? []).map((name) => ({ kind: 'credential' as const, name })),
  ];
  const parts: string[] = [];
  const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);
  if (by.endpoints?.length) parts.push(`${plural(by.endpoints.length, 'endpoint', 'endpoints')} ${nameList(by.endpoints)}`);
  if (by.groups?.length) parts.push(`${plural(by.groups.length, 'group', 'groups')} ${nameList(by.groups)}`);
  if (by.credentials?.length) {
    const n = by.credentials.length;
    parts.push(`${n} live ${plural(n, 'credential', 'credentials')} (${plural(n, 'role', 'roles')} ${nameList(by.credentials)})`);
  }
  return new CatalogError('referenced', `cannot delete ${what}: it is still used by ${parts.join(' and ')}; ${fix}`, {
    referencedBy: refs,
  });
}

/** The base of the catalog API: bound to the pool or to one transaction's client. */
export abstract class StoreBase {
  protected readonly t: Tables;

  protected constructor(
    protected readonly ctx: CatalogContext,
    protected readonly client?: PoolClient,
  ) {
    this.t = tablesOf(ctx.schema);
  }

  /** Whether this store runs inside a transaction (calls share one client). */
  get inTransaction(): boolean {
    return this.client !== undefined;
  }

  protected query<R extends QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<QueryResult<R>> {
    // Every statement of the store passes here, so this one guard keeps a read-only open
    // from writing and makes a catalog without tables read as an empty one.
    const { access } = this.ctx;
    if (access.readOnly) {
      if (!isPlainRead(text)) {
        return Promise.reject(
          new CatalogError(
            'read-only',
            'the catalog was opened read-only (as plan, refresh and import open it), so it cannot be changed; a change needs it opened for writing',
          ),
        );
      }
      if (access.uninitialised) return Promise.resolve(noRows<R>());
    }
    const params = [...values];
    return this.client ? this.client.query<R>(text, params) : this.ctx.pool.query<R>(text, params);
  }

  /** Several statements that must hold together: alone in a transaction, or in the caller's. */
  protected abstract atomically<T>(fn: (tx: this) => Promise<T>): Promise<T>;
}
