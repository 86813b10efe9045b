/**
 * The catalog's schema, as an ordered list of forward-only migrations, and the code that
 * applies them. Several provider processes start at once (Terraform runs one per phase and
 * may run several configurations in parallel), so migrations run under an advisory lock
 * and each version is applied exactly once. A catalog migrated by a newer build is refused
 * rather than written with an older idea of its shape.
 */
import type { ClientBase } from 'pg';
import { lockKeys, transaction } from '../pg/locks';
import { ident, qualified } from '../pg/sql';
import { CatalogError } from './errors';

/** One schema change. `sql` runs with the catalog schema first on the search path. */
export interface CatalogMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Every migration, in order. Forward only: a migration, once released, is never edited;
 * a change is a new entry at the end.
 */
export const CATALOG_MIGRATIONS: readonly CatalogMigration[] = [
  {
    version: 1,
    name: 'resources, authorizations, endpoints and groups',
    sql: `
      create table resources (
        name        text primary key check (name <> ''),
        -- The non-secret settings of the target (TargetConfig without its secrets).
        config      jsonb not null check (jsonb_typeof(config) = 'object'),
        -- AES-256-GCM ciphertext of the inline secrets (admin password, TLS client key,
        -- static AWS keys); null when there are none, e.g. when the admin credentials
        -- come from AWS Secrets Manager and only the reference is kept in config.
        secrets     bytea,
        created_at  timestamptz not null default now(),
        updated_at  timestamptz not null default now()
      );

      create table authorizations (
        name          text primary key check (name <> ''),
        description   text not null default '',
        resource_type text not null,
        -- Normalised {grants, schemas, tables}.
        permissions   jsonb not null check (jsonb_typeof(permissions) = 'object'),
        created_at    timestamptz not null default now(),
        updated_at    timestamptz not null default now()
      );

      create table endpoints (
        name            text primary key check (name <> ''),
        type            text not null default 'direct' check (type in ('direct')),
        ttl_seconds     integer not null check (ttl_seconds > 0),
        resource        text not null
                        constraint endpoints_resource_fkey references resources (name),
        "authorization" text not null
                        constraint endpoints_authorization_fkey references authorizations (name),
        -- The NOLOGIN role on the target that holds the authorization's grants.
        access_role     text not null check (access_role <> '' and octet_length(access_role) <= 63),
        created_at      timestamptz not null default now(),
        updated_at      timestamptz not null default now(),
        constraint endpoints_access_role_key unique (resource, access_role)
      );
      create index endpoints_authorization_idx on endpoints ("authorization");

      create table "groups" (
        name        text primary key check (name <> ''),
        members     text[] not null default '{}',
        -- Endpoint names; checked against endpoints on write (arrays cannot carry
        -- foreign keys), and an endpoint a group lists cannot be deleted.
        endpoints   text[] not null default '{}',
        created_at  timestamptz not null default now(),
        updated_at  timestamptz not null default now()
      );
      create index groups_endpoints_idx on "groups" using gin (endpoints);
    `,
  },
  {
    version: 2,
    name: 'issued credentials',
    sql: `
      -- History as well as state: rows stay after revocation, so no foreign keys to the
      -- records they were issued from (those may be deleted later).
      create table credentials (
        id            bigint generated always as identity primary key,
        role_name     text not null check (role_name <> '' and octet_length(role_name) <= 63),
        resource      text not null,
        endpoint      text not null,
        group_name    text not null,
        member        text not null,
        granted_at    timestamptz not null,
        expires_at    timestamptz not null,
        revoked_at    timestamptz,
        revoke_reason text,
        constraint credentials_expiry_after_grant check (expires_at > granted_at),
        constraint credentials_revocation_has_reason
          check ((revoked_at is null) = (revoke_reason is null))
      );
      -- A login role exists once on its target: at most one live credential per role.
      create unique index credentials_one_live_per_role on credentials (role_name)
        where revoked_at is null;
      -- The reaper's questions: what has expired, and when is the next expiry.
      create index credentials_live_by_expiry on credentials (expires_at)
        where revoked_at is null;
      create index credentials_live_by_resource on credentials (resource, expires_at)
        where revoked_at is null;
      create index credentials_by_group_member on credentials (group_name, member);
    `,
  },
  {
    version: 3,
    name: 'append-only audit log',
    sql: `
      create table audit_log (
        id          bigserial primary key,
        at          timestamptz not null default now(),
        event       text not null check (event <> ''),
        resource    text,
        endpoint    text,
        group_name  text,
        member      text,
        role_name   text,
        detail      jsonb not null default '{}' check (jsonb_typeof(detail) = 'object')
      );
      create index audit_log_at_idx on audit_log (at);
      create index audit_log_member_idx on audit_log (member, at) where member is not null;
      create index audit_log_resource_idx on audit_log (resource, at) where resource is not null;

      create function audit_log_append_only() returns trigger
        language plpgsql
        set search_path = pg_catalog
      as $fn$
      begin
        raise exception 'the audit log is append-only: % is not allowed on %.%', tg_op, tg_table_schema, tg_table_name
          using errcode = 'insufficient_privilege',
                hint = 'Audit events can only be added, never changed or removed.';
      end
      $fn$;

      -- Statement-level, so it fires even when no row matches (a DELETE with a false
      -- WHERE is refused too) and covers TRUNCATE, which row triggers do not see.
      create trigger audit_log_append_only
        before update or delete or truncate on audit_log
        for each statement execute function audit_log_append_only();
      -- ENABLE ALWAYS: also fires with session_replication_role = replica, the usual way
      -- to bypass ordinary triggers.
      alter table audit_log enable always trigger audit_log_append_only;
    `,
  },
  {
    version: 4,
    name: 'authorization permissions as written',
    sql: `
      -- The permissions text as the configuration wrote it (list order included), so an
      -- import reproduces it and the next plan is empty. The jsonb column stays the truth.
      alter table authorizations add column permissions_source text;
    `,
  },
  {
    version: 5,
    name: 'resource settings seal',
    sql: `
      -- HMAC (keyed by the catalog key) of a resource's connection settings, for resources
      -- without encrypted secrets (whose associated data binds the settings instead); null
      -- when written without a key. Existing rows are sealed by the first open with a key
      -- that applies this migration (see Catalog.open).
      alter table resources add column binding bytea;
    `,
  },
  {
    version: 6,
    name: 'on-demand credentials and delivery',
    sql: `
      -- 'standing': issued by a group apply, one per member x endpoint. 'ephemeral': issued
      -- on demand to a member a group makes eligible (Terraform's ephemeral resource, the
      -- CLI), several per pair, each with a login role of its own.
      alter table credentials add column kind text not null default 'standing'
        check (kind in ('standing', 'ephemeral'));
      -- The latest expiry renewals may reach (the endpoint's ttl from issue); null for
      -- standing credentials, whose expiry follows the endpoint.
      alter table credentials add column not_after timestamptz;
      -- Where the credential was delivered besides the caller (a Secrets Manager secret:
      -- {"secrets_manager": {"arn", "region", "endpoint"}}), so revocation and the reaper
      -- delete it too; null when it was handed only to the caller.
      alter table credentials add column delivered_to jsonb
        check (delivered_to is null or jsonb_typeof(delivered_to) = 'object');
      -- How a group hands its members' standing credentials on: {"mode": "state"} (in
      -- Terraform state), {"mode": "secrets_manager", "secret_prefix", "region",
      -- "endpoint"} or {"mode": "none"} (no standing credentials: eligibility only).
      alter table "groups" add column delivery jsonb not null default '{"mode": "state"}'
        check (jsonb_typeof(delivery) = 'object');
      create index credentials_live_ephemeral on credentials (group_name, member, endpoint)
        where revoked_at is null and kind = 'ephemeral';
    `,
  },
  {
    version: 7,
    name: 'reaper replicas: leases and change notifications',
    sql: `
      -- Reaper replicas announce themselves here and renew their row while they run, so
      -- each can take its share of the targets (targets / live replicas).
      create table reaper_replicas (
        holder     text primary key check (holder <> ''),
        expires_at timestamptz not null
      );
      -- One lease per target: the replica holding it is the only one reaping that target.
      -- A lease lapses unless renewed, so a replica that dies or loses the catalog gives its
      -- targets up within a lease's length, and another takes them.
      create table reaper_leases (
        resource   text primary key references resources (name) on delete cascade,
        holder     text not null,
        expires_at timestamptz not null
      );
      -- A credential issued, extended or revoked wakes the watching reapers at once
      -- (LISTEN adaptive_credentials; the payload is the catalog's schema), instead of at
      -- their next poll.
      create function notify_credentials_changed() returns trigger
        language plpgsql
        set search_path = pg_catalog
      as $fn$
      begin
        perform pg_catalog.pg_notify('adaptive_credentials', tg_table_schema);
        return null;
      end
      $fn$;
      create trigger credentials_changed after insert or update on credentials
        for each statement execute function notify_credentials_changed();
    `,
  },
  {
    version: 8,
    name: 'endpoint session settings',
    sql: `
      -- The session settings of an endpoint's members, put on each login role
      -- ({"searchPath", "statementTimeoutSeconds", "idleSessionTimeoutSeconds",
      -- "connectionLimit", "timezone", "applicationName"}; a key left out is not set).
      alter table endpoints add column session_settings jsonb not null default '{}'
        check (jsonb_typeof(session_settings) = 'object');
    `,
  },
];

/** The migration that added resource seals: the open that applies it seals the records already there. */
export const RESOURCE_SEAL_MIGRATION = 5;

/** The newest schema version this build knows. */
export const CATALOG_VERSION: number = CATALOG_MIGRATIONS[CATALOG_MIGRATIONS.length - 1]?.version ?? 0;

function checkOrder(migrations: readonly CatalogMigration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`catalog migrations must be numbered 1, 2, 3, ...: entry ${i} is version ${m.version}`);
  });
}

interface AppliedRow {
  version: number;
  name: string;
}

/** The migrations recorded in `schema`, or undefined when it has no migrations table yet. */
async function recorded(client: ClientBase, schema: string): Promise<AppliedRow[] | undefined> {
  const { rows } = await client.query<{ exists: boolean }>(
    `select exists (
       select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = 'schema_migrations'
     ) as exists`,
    [schema],
  );
  if (!rows[0]?.exists) return undefined;
  const applied = await client.query<AppliedRow>(
    `select version, name from ${qualified(schema, 'schema_migrations')} order by version`,
  );
  return applied.rows;
}

/** Throws when the recorded history is not a prefix of `migrations`; returns its length. */
function currentVersion(schema: string, applied: readonly AppliedRow[], migrations: readonly CatalogMigration[]): number {
  const latest = migrations.length;
  const newest = applied[applied.length - 1];
  if (newest && newest.version > latest) {
    throw new CatalogError(
      'version',
      `the catalog (schema "${schema}") is at version ${newest.version} ("${newest.name}"), but this provider only knows ` +
        `versions up to ${latest}: a newer provider has upgraded it. Upgrade the provider to use this catalog.`,
    );
  }
  applied.forEach((row, i) => {
    const known = migrations[row.version - 1];
    if (row.version !== i + 1 || !known || known.name !== row.name) {
      throw new CatalogError(
        'version',
        `the catalog (schema "${schema}") records migration ${row.version} as "${row.name}", which this provider does not ` +
          'know by that version and name: it was migrated by an incompatible build.',
      );
    }
  });
  return applied.length;
}

/**
 * The version of the catalog in `schema` (0 when it has no schema or tables yet), without
 * taking a lock or writing anything: what a read-only open checks. Throws like
 * `migrateCatalog` (code `version`) for a catalog migrated by a newer or incompatible build.
 */
export async function catalogVersion(
  client: ClientBase,
  schema: string,
  migrations: readonly CatalogMigration[] = CATALOG_MIGRATIONS,
): Promise<number> {
  checkOrder(migrations);
  const applied = await recorded(client, schema);
  return applied === undefined ? 0 : currentVersion(schema, applied, migrations);
}

/** What `migrateCatalog` did. */
export interface MigrationResult {
  /** Versions applied by this call, in order (empty when the catalog was up to date). */
  readonly applied: readonly number[];
  /** The catalog's version afterwards. */
  readonly version: number;
}

/**
 * Brings the catalog in `schema` up to the newest of `migrations`. Safe to call from many
 * processes at once: the work happens in one transaction under an advisory lock, so each
 * migration is applied exactly once and a failure leaves the previous version intact. When
 * the catalog is already current, nothing is locked and no DDL runs (the catalog user then
 * needs no CREATE privilege).
 */
export async function migrateCatalog(
  client: ClientBase,
  schema: string,
  migrations: readonly CatalogMigration[] = CATALOG_MIGRATIONS,
): Promise<MigrationResult> {
  checkOrder(migrations);
  const before = await recorded(client, schema);
  if (before) {
    const version = currentVersion(schema, before, migrations);
    if (version === migrations.length) return { applied: [], version };
  }

  return transaction(client, async () => {
    // Bounded, so a process stuck mid-migration elsewhere gives an error, not a hang.
    await client.query("set local lock_timeout = '120s'");
    try {
      await lockKeys(client, [`catalog-migrations:${schema}`]);
    } catch (err) {
      if ((err as { code?: unknown }).code === '55P03') {
        throw new CatalogError(
          'version',
          `another process has held the catalog migration lock (schema "${schema}") for over 120 seconds; ` +
            'try again when it has finished',
          { cause: err },
        );
      }
      throw err;
    }
    const schemaExists = await client.query('select 1 from pg_catalog.pg_namespace where nspname = $1', [schema]);
    if (schemaExists.rowCount === 0) await client.query(`create schema ${ident(schema)}`);
    await client.query(
      `create table if not exists ${qualified(schema, 'schema_migrations')} (
         version    integer primary key,
         name       text not null,
         applied_at timestamptz not null default now()
       )`,
    );
    // Read again under the lock: another process may have migrated while we waited.
    const version = currentVersion(schema, (await recorded(client, schema)) ?? [], migrations);
    const pending = migrations.slice(version);
    // Migrations name their tables unqualified; they land in the catalog schema.
    await client.query(`set local search_path to ${ident(schema)}`);
    for (const migration of pending) {
      await client.query(migration.sql);
      await client.query(`insert into ${qualified(schema, 'schema_migrations')} (version, name) values ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    return { applied: pending.map((m) => m.version), version: migrations.length };
  });
}
