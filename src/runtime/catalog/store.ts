/**
 * The catalog's API: records by name, issued credentials and the audit log. A store is
 * bound either to the catalog's pool (each call stands alone; calls that need several
 * statements run in a transaction of their own) or to one client inside `transaction`, so
 * a caller can record credentials and audit events atomically.
 *
 * Writes of the four named records (resource, authorization, endpoint, group) append their
 * own audit event (`resource.create`, `endpoint.delete`, ...) in the same statement;
 * credential events (grant, revoke, expire, extend) are appended by the caller, who knows
 * the context.
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { transaction as runTransaction, type RetryOptions } from '../pg/locks';
import { qualified } from '../pg/sql';
import { runtimeSecrets } from '../secret-registry';
import type { AwsSecretRef, Permissions, TargetConfig } from '../types';
import { canonicalPermissionsJson } from '../validation/permissions';
import { legacyResourceContext, resourceBinding } from './binding';
import { CATALOG_KEY_HOWTO, LEGACY_SEAL_FORMAT, checkBindingMac, macBinding, openSecret, sealSecret, sealedFormat } from './crypto';
import { CatalogError, nameList, pgErrorFields, type CatalogReference } from './errors';
import type {
  AuditEvent,
  AuditFilter,
  AuditRecord,
  AuthorizationRecord,
  AuthorizationSpec,
  CredentialFilter,
  CredentialRecord,
  EndpointRecord,
  EndpointSpec,
  GroupRecord,
  GroupSpec,
  NewCredential,
  PublicAwsSecretRef,
  PublicTargetConfig,
  ResourceInfo,
  ResourceRecord,
  RevokeReason,
} from './records';
import { ENDPOINT_TYPES } from './records';

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
function isPlainRead(text: string): boolean {
  return /^\s*select\b/i.test(text) && !/\bfor\s+(?:no\s+key\s+|key\s+)?(?:update|share)\b/i.test(text);
}

function noRows<R extends QueryResultRow>(): QueryResult<R> {
  return { command: 'SELECT', rowCount: 0, oid: 0, fields: [], rows: [] };
}

interface Tables {
  readonly resources: string;
  readonly authorizations: string;
  readonly endpoints: string;
  readonly groups: string;
  readonly credentials: string;
  readonly audit: string;
}

function tablesOf(schema: string): Tables {
  return {
    resources: qualified(schema, 'resources'),
    authorizations: qualified(schema, 'authorizations'),
    endpoints: qualified(schema, 'endpoints'),
    groups: qualified(schema, 'groups'),
    credentials: qualified(schema, 'credentials'),
    audit: qualified(schema, 'audit_log'),
  };
}

// ---------------------------------------------------------------------------------------
// Row shapes and their mapping to records

interface TimestampRow {
  created_at: Date;
  updated_at: Date;
}

interface ResourceRow extends TimestampRow {
  name: string;
  config: PublicTargetConfig;
  secrets: Buffer | null;
  /** MAC of the record's binding, for records without `secrets` written with a key; else null. */
  binding: Buffer | null;
}

interface AuthorizationRow extends TimestampRow {
  name: string;
  description: string;
  resource_type: string;
  permissions: Permissions;
  permissions_source: string | null;
}

interface EndpointRow extends TimestampRow {
  name: string;
  type: EndpointSpec['type'];
  ttl_seconds: number;
  resource: string;
  authorization: string;
  access_role: string;
}

interface GroupRow extends TimestampRow {
  name: string;
  members: string[];
  endpoints: string[];
}

interface CredentialRow {
  id: string;
  role_name: string;
  resource: string;
  endpoint: string;
  group_name: string;
  member: string;
  granted_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

interface AuditRow {
  id: string;
  at: Date;
  event: string;
  resource: string | null;
  endpoint: string | null;
  group_name: string | null;
  member: string | null;
  role_name: string | null;
  detail: Record<string, unknown>;
}

const RESOURCE_COLUMNS = 'name, config, secrets, binding, created_at, updated_at';
const AUTHORIZATION_COLUMNS = 'name, description, resource_type, permissions, permissions_source, created_at, updated_at';
const ENDPOINT_COLUMNS = 'name, type, ttl_seconds, resource, "authorization", access_role, created_at, updated_at';
const GROUP_COLUMNS = 'name, members, endpoints, created_at, updated_at';
const CREDENTIAL_COLUMNS =
  'id::text as id, role_name, resource, endpoint, group_name, member, granted_at, expires_at, revoked_at, revoke_reason';
const AUDIT_COLUMNS = 'id::text as id, at, event, resource, endpoint, group_name, member, role_name, detail';

function stamps(row: TimestampRow): { createdAt: Date; updatedAt: Date } {
  return { createdAt: row.created_at, updatedAt: row.updated_at };
}

function resourceInfo(row: ResourceRow): ResourceInfo {
  return { name: row.name, config: row.config, hasStoredSecrets: row.secrets !== null, ...stamps(row) };
}

function authorizationRecord(row: AuthorizationRow): AuthorizationRecord {
  return {
    name: row.name,
    description: row.description,
    resourceType: row.resource_type,
    permissions: row.permissions,
    permissionsSource: row.permissions_source,
    ...stamps(row),
  };
}

function endpointRecord(row: EndpointRow): EndpointRecord {
  return {
    name: row.name,
    type: row.type,
    ttlSeconds: row.ttl_seconds,
    resource: row.resource,
    authorization: row.authorization,
    accessRole: row.access_role,
    ...stamps(row),
  };
}

function groupRecord(row: GroupRow): GroupRecord {
  return { name: row.name, members: row.members, endpoints: row.endpoints, ...stamps(row) };
}

function credentialRecord(row: CredentialRow): CredentialRecord {
  return {
    id: row.id,
    roleName: row.role_name,
    resource: row.resource,
    endpoint: row.endpoint,
    group: row.group_name,
    member: row.member,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason,
  };
}

function auditRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    event: row.event,
    resource: row.resource,
    endpoint: row.endpoint,
    group: row.group_name,
    member: row.member,
    roleName: row.role_name,
    detail: row.detail,
  };
}

// ---------------------------------------------------------------------------------------
// Secrets of a target: split out before storing, merged back after reading

/** The secret parts of a TargetConfig, stored encrypted as one JSON document. */
interface StoredSecrets {
  password?: string;
  tlsClientKey?: string;
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  awsSessionToken?: string;
}

function splitTarget(target: TargetConfig): { config: PublicTargetConfig; secrets: StoredSecrets | undefined } {
  const { name: _name, password, tlsClientKey, aws, ...rest } = target;
  const secrets: StoredSecrets = {};
  if (password !== undefined) secrets.password = password;
  if (tlsClientKey !== undefined) secrets.tlsClientKey = tlsClientKey;
  let config: PublicTargetConfig = rest;
  if (aws) {
    const { accessKeyId, secretAccessKey, sessionToken, ...publicAws } = aws;
    if (accessKeyId !== undefined) secrets.awsAccessKeyId = accessKeyId;
    if (secretAccessKey !== undefined) secrets.awsSecretAccessKey = secretAccessKey;
    if (sessionToken !== undefined) secrets.awsSessionToken = sessionToken;
    config = { ...rest, aws: publicAws };
  }
  return { config, secrets: Object.keys(secrets).length > 0 ? secrets : undefined };
}

function mergeTarget(name: string, config: PublicTargetConfig, secrets: StoredSecrets): TargetConfig {
  const { aws: publicAws, ...rest } = config;
  let aws: AwsSecretRef | undefined;
  if (publicAws) {
    aws = {
      ...publicAws,
      ...(secrets.awsAccessKeyId !== undefined ? { accessKeyId: secrets.awsAccessKeyId } : {}),
      ...(secrets.awsSecretAccessKey !== undefined ? { secretAccessKey: secrets.awsSecretAccessKey } : {}),
      ...(secrets.awsSessionToken !== undefined ? { sessionToken: secrets.awsSessionToken } : {}),
    } satisfies PublicAwsSecretRef & Partial<AwsSecretRef>;
  }
  return {
    ...rest,
    name,
    ...(secrets.password !== undefined ? { password: secrets.password } : {}),
    ...(secrets.tlsClientKey !== undefined ? { tlsClientKey: secrets.tlsClientKey } : {}),
    ...(aws ? { aws } : {}),
  };
}

/** Human names of the secrets present, for messages (never their values). */
function describeSecrets(secrets: StoredSecrets): string {
  const parts: string[] = [];
  if (secrets.password !== undefined) parts.push('the admin password');
  if (secrets.tlsClientKey !== undefined) parts.push('the TLS client key');
  if (secrets.awsAccessKeyId !== undefined || secrets.awsSecretAccessKey !== undefined || secrets.awsSessionToken !== undefined) {
    parts.push('the AWS access keys');
  }
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts.join('');
}

/**
 * The refusal of a record that does not match its seal. Nothing has connected anywhere
 * when it is raised: the record is checked before its settings are handed out.
 */
function changedOutside(name: string, why: string, cause?: unknown): CatalogError {
  return new CatalogError(
    'tampered',
    `catalog record of resource "${name}" was changed outside adaptive-access: ${why}. ` +
      `Nothing was sent to the settings it now holds. Re-apply the adaptive_resource "${name}" from its configuration ` +
      '(with the catalog key configured), which stores its settings and seals them again; ' +
      'if nobody meant to change it, find out who can write the catalog database before you do.',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Runs a seal check, turning "does not match" (code `tampered`) into the refusal above;
 * a wrong or missing key keeps its own message.
 */
function verified<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof CatalogError && err.code === 'tampered') {
      throw changedOutside(
        name,
        'its connection settings (host, port, database, username, sslmode, TLS material or Secrets Manager reference) ' +
          'or its encrypted secrets are not the ones adaptive-access sealed together',
        err,
      );
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Small helpers

function requireName(kind: string, name: string): void {
  if (typeof name !== 'string' || name === '') throw new CatalogError('invalid', `${kind} name must be a non-empty string`);
}

function requireDate(what: string, value: Date): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new CatalogError('invalid', `${what} must be a valid date`);
  return value.toISOString();
}

function requireLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new CatalogError('invalid', `limit must be a positive integer, not ${String(limit)}`);
  }
}

/** The value in a unique-violation detail, `Key (col)=(value) already exists.` */
function conflictingValue(detail: string | undefined): string | undefined {
  return detail === undefined ? undefined : /=\((.*)\) already exists/.exec(detail)?.[1];
}

/** Collects `column = $n` conditions with their bind values. */
class Conditions {
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

// ---------------------------------------------------------------------------------------

/** The catalog API, bound to the pool or to one transaction's client. */
export class CatalogStore {
  protected readonly t: Tables;

  /** Use `Catalog.open`; stores are made by the catalog and by `transaction`. */
  protected constructor(
    protected readonly ctx: CatalogContext,
    private readonly client?: PoolClient,
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

  /**
   * Runs `fn` with the API bound to one client inside BEGIN ... COMMIT (ROLLBACK on any
   * error). A serialization failure or deadlock re-runs `fn` as a whole, so `fn` must not
   * have effects outside the catalog that cannot be repeated. Called on a store that is
   * already in a transaction, `fn` joins that transaction. Inside `fn`, use `tx`: the
   * catalog's own methods run on other pool connections, outside the transaction.
   */
  async transaction<T>(fn: (tx: CatalogStore) => Promise<T>, options: RetryOptions = {}): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.ctx.pool.connect();
    try {
      const tx = new CatalogStore(this.ctx, client);
      return await runTransaction(client, () => fn(tx), options);
    } finally {
      client.release();
    }
  }

  /** Several statements that must hold together: alone in a transaction, or in the caller's. */
  private atomically<T>(fn: (tx: CatalogStore) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  // ----- resources ---------------------------------------------------------------------

  /**
   * Stores a target (insert or replace). Its secrets (password, TLS client key, static
   * AWS keys) are encrypted with the catalog key, bound to the resource's name and the
   * settings that decide where they go (./binding); without a key, a target that has any
   * is refused. A target without secrets gets a MAC of the same binding when a key is
   * configured. Nothing secret is stored in plain text. Storing again also re-seals a
   * record sealed by an earlier build (name-only binding).
   */
  async putResource(target: TargetConfig): Promise<ResourceInfo> {
    requireName('resource', target.name);
    const { config, secrets } = splitTarget(target);
    let sealed: Buffer | null = null;
    if (secrets) {
      if (!this.ctx.key) {
        throw new CatalogError(
          'key',
          `resource "${target.name}": the catalog cannot store ${describeSecrets(secrets)} without a catalog key, ` +
            `and will not store them unencrypted. ${CATALOG_KEY_HOWTO} ` +
            'Alternatively keep the admin credentials in AWS Secrets Manager, so that only the reference is stored.',
        );
      }
      sealed = sealSecret(this.ctx.key, resourceBinding(target.name, config), Buffer.from(JSON.stringify(secrets), 'utf8'));
    }
    // Without secrets, the settings still decide where AWS credentials and the admin
    // password fetched with them go: a MAC protects them when a key is configured.
    const binding = sealed === null && this.ctx.key ? macBinding(this.ctx.key, resourceBinding(target.name, config)) : null;
    const detail = {
      host: target.host,
      port: target.port,
      database: target.database,
      sslMode: target.sslMode,
      adminSecret: target.aws ? 'aws secrets manager' : secrets?.password !== undefined ? 'inline' : 'none',
    };
    const { rows } = await this.query<ResourceRow>(
      `with up as (
         insert into ${this.t.resources} (name, config, secrets, binding) values ($1, $2::jsonb, $3, $5)
         on conflict (name) do update set config = excluded.config, secrets = excluded.secrets, binding = excluded.binding,
           updated_at = now()
         returning ${RESOURCE_COLUMNS}, (xmax = 0) as inserted
       ), logged as (
         insert into ${this.t.audit} (event, resource, detail)
         select case when inserted then 'resource.create' else 'resource.update' end, name, $4::jsonb from up
       )
       select ${RESOURCE_COLUMNS} from up`,
      [target.name, JSON.stringify(config), sealed, JSON.stringify(detail), binding],
    );
    return resourceInfo(rows[0]!);
  }

  /**
   * A target with its secrets decrypted, or undefined when the catalog has no such
   * resource. Needs the catalog key when secrets are stored. With a key, the record must
   * match its seal (code `tampered` otherwise): this is checked here, before any caller
   * can connect anywhere with the settings. Without a key, a record without secrets has
   * nothing to be checked with and is returned as stored.
   */
  async getResource(name: string): Promise<ResourceRecord | undefined> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} where name = $1`, [name]);
    const row = rows[0];
    if (!row) return undefined;
    let secrets: StoredSecrets = {};
    if (row.secrets !== null) {
      if (!this.ctx.key) {
        throw new CatalogError(
          'key',
          `resource "${name}" has encrypted secrets in the catalog (such as its admin password), but no catalog key is configured. ` +
            'Set catalog_key or ADAPTIVE_CATALOG_KEY to the key they were stored with.',
        );
      }
      const key = this.ctx.key;
      const sealed = row.secrets;
      // Secrets sealed by earlier builds (format 1) were bound to the name only: they are
      // read as such, and sealed with the settings by the next putResource. A format-2
      // value cannot be passed off as format 1 (the format byte is authenticated).
      const context = sealedFormat(sealed) === LEGACY_SEAL_FORMAT ? legacyResourceContext(name) : resourceBinding(name, row.config);
      const plain = verified(name, () => openSecret(key, context, sealed, `the stored secrets of resource "${name}"`));
      secrets = JSON.parse(plain.toString('utf8')) as StoredSecrets;
      runtimeSecrets.register(...(Object.values(secrets) as unknown[]));
    } else if (this.ctx.key) {
      const key = this.ctx.key;
      const mac = row.binding;
      if (mac === null) {
        // Also what removing the seal along with a change looks like: with a key, every
        // record this build writes carries one, and Catalog.open sealed the records that
        // existed before seals did.
        throw changedOutside(
          name,
          'it carries no seal of its connection settings although a catalog key is configured ' +
            '(records written without the catalog key have none)',
        );
      }
      verified(name, () => checkBindingMac(key, resourceBinding(name, row.config), mac, `the stored settings of resource "${name}"`));
    }
    return { name: row.name, target: mergeTarget(row.name, row.config, secrets), ...stamps(row) };
  }

  /**
   * Seals the settings of records that have neither encrypted secrets nor a seal, as they
   * are: only for the records an earlier build wrote, when the migration that added seals
   * runs with a key (trust on upgrade, the trust those builds gave them on every run).
   * Returns how many it sealed.
   */
  protected async sealUnsealedResources(): Promise<number> {
    const key = this.ctx.key;
    if (!key) return 0;
    return this.atomically(async (tx) => {
      const { rows } = await tx.query<Pick<ResourceRow, 'name' | 'config'>>(
        `select name, config from ${tx.t.resources} where secrets is null and binding is null for update`,
      );
      for (const row of rows) {
        await tx.query(`update ${tx.t.resources} set binding = $2 where name = $1`, [row.name, macBinding(key, resourceBinding(row.name, row.config))]);
      }
      return rows.length;
    });
  }

  /** A resource's non-secret settings (no catalog key needed), or undefined. */
  async resourceInfo(name: string): Promise<ResourceInfo | undefined> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} where name = $1`, [name]);
    return rows[0] && resourceInfo(rows[0]);
  }

  /** Every resource's non-secret settings, by name. */
  async listResources(): Promise<ResourceInfo[]> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} order by name`);
    return rows.map(resourceInfo);
  }

  /**
   * Deletes a resource; false when there was none. Refused (code `referenced`) while an
   * endpoint uses it.
   */
  async deleteResource(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      // Locking the row first makes the check exact: an endpoint being created for it
      // holds a key-share lock on it until it commits.
      const found = await tx.query(`select 1 from ${tx.t.resources} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const users = await tx.query<{ name: string }>(`select name from ${tx.t.endpoints} where resource = $1 order by name`, [name]);
      const endpoints = users.rows.map((r) => r.name);
      if (endpoints.length > 0) {
        throw referenced(`resource "${name}"`, { endpoints }, 'delete or move those endpoints first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.resources} where name = $1 returning name)
         insert into ${tx.t.audit} (event, resource) select 'resource.delete', name from del`,
        [name],
      );
      return true;
    });
  }

  // ----- authorizations ----------------------------------------------------------------

  /** Stores a permission set (insert or replace) in normal form. */
  async putAuthorization(spec: AuthorizationSpec): Promise<AuthorizationRecord> {
    requireName('authorization', spec.name);
    // The validation module's normal form, so what is stored compares equal to what a plan computes.
    const permissions = canonicalPermissionsJson(spec.permissions);
    const { rows } = await this.query<AuthorizationRow>(
      `with up as (
         insert into ${this.t.authorizations} (name, description, resource_type, permissions, permissions_source) values ($1, $2, $3, $4::jsonb, $5)
         on conflict (name) do update set description = excluded.description, resource_type = excluded.resource_type,
           permissions = excluded.permissions, permissions_source = excluded.permissions_source, updated_at = now()
         returning ${AUTHORIZATION_COLUMNS}, (xmax = 0) as inserted
       ), logged as (
         insert into ${this.t.audit} (event, detail)
         select case when inserted then 'authorization.create' else 'authorization.update' end,
                jsonb_build_object('authorization', name, 'permissions', permissions)
           from up
       )
       select ${AUTHORIZATION_COLUMNS} from up`,
      [spec.name, spec.description ?? '', spec.resourceType, permissions, spec.permissionsSource ?? null],
    );
    return authorizationRecord(rows[0]!);
  }

  /** An authorization, or undefined. */
  async getAuthorization(name: string): Promise<AuthorizationRecord | undefined> {
    const { rows } = await this.query<AuthorizationRow>(
      `select ${AUTHORIZATION_COLUMNS} from ${this.t.authorizations} where name = $1`,
      [name],
    );
    return rows[0] && authorizationRecord(rows[0]);
  }

  /** Every authorization, by name. */
  async listAuthorizations(): Promise<AuthorizationRecord[]> {
    const { rows } = await this.query<AuthorizationRow>(`select ${AUTHORIZATION_COLUMNS} from ${this.t.authorizations} order by name`);
    return rows.map(authorizationRecord);
  }

  /**
   * Deletes an authorization; false when there was none. Refused (code `referenced`)
   * while an endpoint uses it.
   */
  async deleteAuthorization(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      const found = await tx.query(`select 1 from ${tx.t.authorizations} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const users = await tx.query<{ name: string }>(
        `select name from ${tx.t.endpoints} where "authorization" = $1 order by name`,
        [name],
      );
      const endpoints = users.rows.map((r) => r.name);
      if (endpoints.length > 0) {
        throw referenced(`authorization "${name}"`, { endpoints }, 'delete those endpoints or give them another authorization first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.authorizations} where name = $1 returning name)
         insert into ${tx.t.audit} (event, detail) select 'authorization.delete', jsonb_build_object('authorization', name) from del`,
        [name],
      );
      return true;
    });
  }

  // ----- endpoints ---------------------------------------------------------------------

  /**
   * Stores an endpoint (insert or replace). Its resource and authorization must be in the
   * catalog (code `unknown-reference` otherwise), and its access role must be unique on
   * its resource (code `conflict`).
   */
  async putEndpoint(spec: EndpointSpec): Promise<EndpointRecord> {
    requireName('endpoint', spec.name);
    if (!(ENDPOINT_TYPES as readonly string[]).includes(spec.type)) {
      throw new CatalogError('invalid', `endpoint "${spec.name}": type must be one of ${ENDPOINT_TYPES.join(', ')}, not "${spec.type}"`);
    }
    if (!Number.isInteger(spec.ttlSeconds) || spec.ttlSeconds <= 0 || spec.ttlSeconds > 2 ** 31 - 1) {
      throw new CatalogError('invalid', `endpoint "${spec.name}": ttlSeconds must be a positive whole number of seconds`);
    }
    try {
      const { rows } = await this.query<EndpointRow>(
        `with up as (
           insert into ${this.t.endpoints} (name, type, ttl_seconds, resource, "authorization", access_role)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (name) do update set type = excluded.type, ttl_seconds = excluded.ttl_seconds,
             resource = excluded.resource, "authorization" = excluded."authorization",
             access_role = excluded.access_role, updated_at = now()
           returning ${ENDPOINT_COLUMNS}, (xmax = 0) as inserted
         ), logged as (
           insert into ${this.t.audit} (event, resource, endpoint, detail)
           select case when inserted then 'endpoint.create' else 'endpoint.update' end, resource, name,
                  jsonb_build_object('type', type, 'ttlSeconds', ttl_seconds, 'authorization', "authorization",
                                     'accessRole', access_role)
             from up
         )
         select ${ENDPOINT_COLUMNS} from up`,
        [spec.name, spec.type, spec.ttlSeconds, spec.resource, spec.authorization, spec.accessRole],
      );
      return endpointRecord(rows[0]!);
    } catch (err) {
      const pg = pgErrorFields(err);
      if (pg.constraint === 'endpoints_resource_fkey') {
        throw new CatalogError(
          'unknown-reference',
          `endpoint "${spec.name}" refers to resource "${spec.resource}", which is not in the catalog`,
          { cause: err },
        );
      }
      if (pg.constraint === 'endpoints_authorization_fkey') {
        throw new CatalogError(
          'unknown-reference',
          `endpoint "${spec.name}" refers to authorization "${spec.authorization}", which is not in the catalog`,
          { cause: err },
        );
      }
      if (pg.constraint === 'endpoints_access_role_key') {
        throw new CatalogError(
          'conflict',
          `endpoint "${spec.name}": access role "${spec.accessRole}" on resource "${spec.resource}" already belongs to another endpoint`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** An endpoint, or undefined. */
  async getEndpoint(name: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where name = $1`, [name]);
    return rows[0] && endpointRecord(rows[0]);
  }

  /** Every endpoint, by name. */
  async listEndpoints(): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} order by name`);
    return rows.map(endpointRecord);
  }

  /** The endpoints that apply an authorization (to re-sync their access roles when it changes). */
  async endpointsUsingAuthorization(authorization: string): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where "authorization" = $1 order by name`,
      [authorization],
    );
    return rows.map(endpointRecord);
  }

  /** The endpoints on a resource. */
  async endpointsOnResource(resource: string): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where resource = $1 order by name`,
      [resource],
    );
    return rows.map(endpointRecord);
  }

  /**
   * Deletes an endpoint; false when there was none. Refused (code `referenced`) while a
   * group lists it or a live credential was issued through it: revoke those first.
   */
  async deleteEndpoint(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      // The row lock orders this against putGroup, which key-share-locks the endpoints it lists.
      const found = await tx.query(`select 1 from ${tx.t.endpoints} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const groups = await tx.query<{ name: string }>(
        `select name from ${tx.t.groups} where endpoints @> array[$1]::text[] order by name`,
        [name],
      );
      const live = await tx.query<{ role_name: string }>(
        `select role_name from ${tx.t.credentials} where endpoint = $1 and revoked_at is null order by role_name`,
        [name],
      );
      if (groups.rowCount !== 0 || live.rowCount !== 0) {
        throw referenced(
          `endpoint "${name}"`,
          { groups: groups.rows.map((r) => r.name), credentials: live.rows.map((r) => r.role_name) },
          'remove it from those groups and revoke its credentials first',
        );
      }
      await tx.query(
        `with del as (delete from ${tx.t.endpoints} where name = $1 returning name, resource)
         insert into ${tx.t.audit} (event, resource, endpoint) select 'endpoint.delete', resource, name from del`,
        [name],
      );
      return true;
    });
  }

  // ----- groups ------------------------------------------------------------------------

  /**
   * Stores a group (insert or replace). Every endpoint it lists must be in the catalog
   * (code `unknown-reference` otherwise, naming the missing ones).
   */
  async putGroup(spec: GroupSpec): Promise<GroupRecord> {
    requireName('group', spec.name);
    return this.atomically(async (tx) => {
      // Key-share locks keep the listed endpoints from being deleted until this commits.
      const found = await tx.query<{ name: string }>(
        `select name from ${tx.t.endpoints} where name = any($1::text[]) for key share`,
        [[...spec.endpoints]],
      );
      const known = new Set(found.rows.map((r) => r.name));
      const missing = [...new Set(spec.endpoints.filter((e) => !known.has(e)))];
      if (missing.length > 0) {
        throw new CatalogError(
          'unknown-reference',
          `group "${spec.name}" lists endpoint${missing.length > 1 ? 's' : ''} ${nameList(missing)}, ` +
            `which ${missing.length > 1 ? 'are' : 'is'} not in the catalog`,
        );
      }
      const { rows } = await tx.query<GroupRow>(
        `with up as (
           insert into ${tx.t.groups} (name, members, endpoints) values ($1, $2::text[], $3::text[])
           on conflict (name) do update set members = excluded.members, endpoints = excluded.endpoints, updated_at = now()
           returning ${GROUP_COLUMNS}, (xmax = 0) as inserted
         ), logged as (
           insert into ${tx.t.audit} (event, group_name, detail)
           select case when inserted then 'group.create' else 'group.update' end, name,
                  jsonb_build_object('members', to_jsonb(members), 'endpoints', to_jsonb(endpoints))
             from up
         )
         select ${GROUP_COLUMNS} from up`,
        [spec.name, [...spec.members], [...spec.endpoints]],
      );
      return groupRecord(rows[0]!);
    });
  }

  /** A group, or undefined. */
  async getGroup(name: string): Promise<GroupRecord | undefined> {
    const { rows } = await this.query<GroupRow>(`select ${GROUP_COLUMNS} from ${this.t.groups} where name = $1`, [name]);
    return rows[0] && groupRecord(rows[0]);
  }

  /** Every group, by name. */
  async listGroups(): Promise<GroupRecord[]> {
    const { rows } = await this.query<GroupRow>(`select ${GROUP_COLUMNS} from ${this.t.groups} order by name`);
    return rows.map(groupRecord);
  }

  /** The groups that list an endpoint. */
  async groupsUsingEndpoint(endpoint: string): Promise<GroupRecord[]> {
    const { rows } = await this.query<GroupRow>(
      `select ${GROUP_COLUMNS} from ${this.t.groups} where endpoints @> array[$1]::text[] order by name`,
      [endpoint],
    );
    return rows.map(groupRecord);
  }

  /**
   * Deletes a group; false when there was none. Refused (code `referenced`) while it has
   * live credentials: revoke them (reason `group destroyed`) first, in the same transaction.
   */
  async deleteGroup(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      const found = await tx.query(`select 1 from ${tx.t.groups} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const live = await tx.query<{ role_name: string }>(
        `select role_name from ${tx.t.credentials} where group_name = $1 and revoked_at is null order by role_name`,
        [name],
      );
      if (live.rowCount !== 0) {
        throw referenced(`group "${name}"`, { credentials: live.rows.map((r) => r.role_name) }, 'revoke them first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.groups} where name = $1 returning name)
         insert into ${tx.t.audit} (event, group_name) select 'group.delete', name from del`,
        [name],
      );
      return true;
    });
  }

  // ----- credentials -------------------------------------------------------------------

  /**
   * Records login roles just issued, in one statement whatever their number. A role that
   * already has a live credential is refused (code `conflict`): revoke it first.
   */
  async recordIssued(credentials: readonly NewCredential[]): Promise<CredentialRecord[]> {
    if (credentials.length === 0) return [];
    const rows = credentials.map((c, i) => {
      const what = `credential ${i + 1} (role "${c.roleName}")`;
      const names = { roleName: c.roleName, resource: c.resource, endpoint: c.endpoint, group: c.group, member: c.member };
      for (const [field, value] of Object.entries(names)) {
        if (typeof value !== 'string' || value === '') {
          throw new CatalogError('invalid', `${what}: ${field} must be a non-empty string`);
        }
      }
      const grantedAt = requireDate(`${what}: grantedAt`, c.grantedAt);
      const expiresAt = requireDate(`${what}: expiresAt`, c.expiresAt);
      if (c.expiresAt.getTime() <= c.grantedAt.getTime()) {
        throw new CatalogError('invalid', `${what}: expiresAt must be after grantedAt`);
      }
      return {
        i,
        role_name: c.roleName,
        resource: c.resource,
        endpoint: c.endpoint,
        group_name: c.group,
        member: c.member,
        granted_at: grantedAt,
        expires_at: expiresAt,
      };
    });
    try {
      const result = await this.query<CredentialRow>(
        `insert into ${this.t.credentials} (role_name, resource, endpoint, group_name, member, granted_at, expires_at)
         select x.role_name, x.resource, x.endpoint, x.group_name, x.member, x.granted_at, x.expires_at
           from jsonb_to_recordset($1::jsonb) as x(i integer, role_name text, resource text, endpoint text,
                                                  group_name text, member text, granted_at timestamptz, expires_at timestamptz)
          order by x.i
         returning ${CREDENTIAL_COLUMNS}`,
        [JSON.stringify(rows)],
      );
      return result.rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
    } catch (err) {
      const pg = pgErrorFields(err);
      if (pg.constraint === 'credentials_one_live_per_role') {
        const role = conflictingValue(pg.detail);
        throw new CatalogError(
          'conflict',
          `${role === undefined ? 'a role' : `role "${role}"`} already has a live credential in the catalog ` +
            '(or appears twice in the batch); revoke it before recording a new one',
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Marks the live credentials of these roles revoked, now (or `at`), with a reason.
   * Roles with no live credential are ignored; returns the credentials it revoked.
   */
  async markRevoked(roleNames: readonly string[], reason: RevokeReason, options: { readonly at?: Date } = {}): Promise<CredentialRecord[]> {
    if (typeof reason !== 'string' || reason === '') throw new CatalogError('invalid', 'a revocation needs a reason');
    if (roleNames.length === 0) return [];
    const at = options.at === undefined ? null : requireDate('at', options.at);
    const { rows } = await this.query<CredentialRow>(
      `update ${this.t.credentials} set revoked_at = coalesce($3::timestamptz, now()), revoke_reason = $2
        where role_name = any($1::text[]) and revoked_at is null
       returning ${CREDENTIAL_COLUMNS}`,
      [[...roleNames], reason, at],
    );
    return rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
  }

  /**
   * Moves the expiry of these roles' live credentials to `newExpiresAt` (when a ttl is
   * raised). Returns the credentials it changed.
   */
  async extend(roleNames: readonly string[], newExpiresAt: Date): Promise<CredentialRecord[]> {
    const expiresAt = requireDate('newExpiresAt', newExpiresAt);
    if (roleNames.length === 0) return [];
    try {
      const { rows } = await this.query<CredentialRow>(
        `update ${this.t.credentials} set expires_at = $2::timestamptz
          where role_name = any($1::text[]) and revoked_at is null
         returning ${CREDENTIAL_COLUMNS}`,
        [[...roleNames], expiresAt],
      );
      return rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
    } catch (err) {
      if (pgErrorFields(err).constraint === 'credentials_expiry_after_grant') {
        throw new CatalogError('invalid', 'the new expiry is not after the grant of every credential given', { cause: err });
      }
      throw err;
    }
  }

  /**
   * Credentials not yet revoked (including ones past their expiry that the reaper has not
   * finished), soonest expiry first.
   */
  async liveCredentials(filter: CredentialFilter = {}): Promise<CredentialRecord[]> {
    const c = new Conditions();
    c.eq('resource', filter.resource);
    c.eq('endpoint', filter.endpoint);
    c.eq('group_name', filter.group);
    c.eq('member', filter.member);
    const { rows } = await this.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from ${this.t.credentials} ${c.where(['revoked_at is null'])} order by expires_at, role_name`,
      c.values,
    );
    return rows.map(credentialRecord);
  }

  /**
   * Live credentials whose expiry is at or before `now` (default: the database's clock):
   * what the reaper has to finish. Oldest expiry first.
   */
  async expiredUnrevoked(now?: Date, options: { readonly resource?: string; readonly limit?: number } = {}): Promise<CredentialRecord[]> {
    requireLimit(options.limit);
    const c = new Conditions();
    c.add((p) => `expires_at <= coalesce(${p}::timestamptz, now())`, now === undefined ? null : requireDate('now', now));
    c.eq('resource', options.resource);
    const limit = options.limit === undefined ? '' : ` limit ${options.limit}`;
    const { rows } = await this.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from ${this.t.credentials} ${c.where(['revoked_at is null'])} order by expires_at, role_name${limit}`,
      c.values,
    );
    return rows.map(credentialRecord);
  }

  /**
   * The earliest expiry among live credentials (of one resource, when given), or null
   * when none is live. In the past when the reaper has work waiting.
   */
  async nextExpiry(resource?: string): Promise<Date | null> {
    // Two texts rather than an "is null or" condition, so each can use its partial index.
    const { rows } =
      resource === undefined
        ? await this.query<{ next: Date | null }>(`select min(expires_at) as next from ${this.t.credentials} where revoked_at is null`)
        : await this.query<{ next: Date | null }>(
            `select min(expires_at) as next from ${this.t.credentials} where revoked_at is null and resource = $1`,
            [resource],
          );
    return rows[0]?.next ?? null;
  }

  /**
   * How long until the earliest future expiry among live credentials, in ms by the
   * catalog's clock, or null when none expires in the future. A duration rather than an
   * instant, so a caller can wait on its own clock whatever its skew.
   */
  async msUntilNextExpiry(): Promise<number | null> {
    const { rows } = await this.query<{ ms: number | null }>(
      `select (extract(epoch from min(expires_at) - now()) * 1000)::float8 as ms
         from ${this.t.credentials} where revoked_at is null and expires_at > now()`,
    );
    return rows[0]?.ms ?? null;
  }

  // ----- audit log ---------------------------------------------------------------------

  /** Appends events in one statement, in order; returns how many. Never put secrets in them. */
  async appendAudit(events: readonly AuditEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = events.map((e, i) => {
      if (typeof e.event !== 'string' || e.event === '') {
        throw new CatalogError('invalid', `audit event ${i + 1}: event must be a non-empty string`);
      }
      if (e.detail !== undefined && (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))) {
        throw new CatalogError('invalid', `audit event ${i + 1} ("${e.event}"): detail must be an object`);
      }
      return {
        i,
        at: e.at === undefined ? null : requireDate(`audit event ${i + 1}: at`, e.at),
        event: e.event,
        resource: e.resource ?? null,
        endpoint: e.endpoint ?? null,
        group_name: e.group ?? null,
        member: e.member ?? null,
        role_name: e.roleName ?? null,
        detail: e.detail ?? {},
      };
    });
    const result = await this.query(
      `insert into ${this.t.audit} (at, event, resource, endpoint, group_name, member, role_name, detail)
       select coalesce(x.at, now()), x.event, x.resource, x.endpoint, x.group_name, x.member, x.role_name, x.detail
         from jsonb_to_recordset($1::jsonb) as x(i integer, at timestamptz, event text, resource text, endpoint text,
                                                group_name text, member text, role_name text, detail jsonb)
        order by x.i`,
      [JSON.stringify(rows)],
    );
    return result.rowCount ?? 0;
  }

  /** Audit events matching `filter`, oldest first unless `newestFirst`. */
  async readAudit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    requireLimit(filter.limit);
    const c = new Conditions();
    if (filter.since !== undefined) c.add((p) => `at >= ${p}::timestamptz`, requireDate('since', filter.since));
    if (filter.until !== undefined) c.add((p) => `at < ${p}::timestamptz`, requireDate('until', filter.until));
    if (filter.event !== undefined) {
      c.add((p) => `event = any(${p}::text[])`, typeof filter.event === 'string' ? [filter.event] : [...filter.event]);
    }
    c.eq('member', filter.member);
    c.eq('resource', filter.resource);
    c.eq('endpoint', filter.endpoint);
    c.eq('group_name', filter.group);
    const order = filter.newestFirst ? 'desc' : 'asc';
    const limit = filter.limit === undefined ? '' : ` limit ${filter.limit}`;
    const { rows } = await this.query<AuditRow>(
      // "a.id", not "id": the bare name would sort by the text output column.
      `select ${AUDIT_COLUMNS} from ${this.t.audit} a ${c.where()} order by a.id ${order}${limit}`,
      c.values,
    );
    return rows.map(auditRecord);
  }
}

/** Orders decimal bigint ids numerically. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** A `referenced` error naming what still refers to `what`. */
function referenced(
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
