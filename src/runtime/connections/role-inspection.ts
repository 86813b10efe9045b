/**
 * What the connected role can see and do: its attributes (with VALID UNTIL, so a member's
 * credential shows its expiry), the roles it is a direct member of, the databases it may
 * connect to, the schemas of the connected database it may use or create in, and its
 * privileges on each table there. Read-only: plain queries on the system catalogs, the
 * same on PostgreSQL 15 to 18. Names are passed as values or compared by oid; nothing is
 * interpolated into SQL.
 */
import type { ClientBase, Pool } from 'pg';
import { TABLE_PRIVILEGES, type TablePrivilege } from '../types';

/** The role's attributes, as pg_roles has them. */
export interface RoleAttributes {
  readonly name: string;
  /** session_user when it differs from current_user (SET ROLE), else the same. */
  readonly sessionUser: string;
  readonly superuser: boolean;
  readonly createRole: boolean;
  readonly createDb: boolean;
  readonly login: boolean;
  readonly inherit: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
  /** -1: no limit. */
  readonly connectionLimit: number;
  /** ISO instant, `infinity`, or null when the password never expires. */
  readonly validUntil: string | null;
  /** True when VALID UNTIL has passed (a new login would be refused). */
  readonly expired: boolean;
  /** Roles it is a direct member of, by name. */
  readonly memberOf: ReadonlyArray<{ readonly role: string; readonly adminOption: boolean }>;
}

/** A database the role may connect to, and its privileges there. */
export interface DatabaseAccess {
  readonly name: string;
  /** CONNECT always; CREATE and TEMPORARY when held. */
  readonly privileges: ReadonlyArray<'CONNECT' | 'CREATE' | 'TEMPORARY'>;
}

/** A schema of the connected database on which the role holds USAGE or CREATE. */
export interface SchemaAccess {
  readonly name: string;
  readonly owner: string;
  readonly privileges: ReadonlyArray<'USAGE' | 'CREATE'>;
}

/** Relation kinds listed. */
export type RelationKind = 'table' | 'partitioned table' | 'view' | 'materialized view' | 'foreign table';

/** A table (or view) of a non-system schema on which the role holds at least one privilege. */
export interface TableAccess {
  readonly schema: string;
  readonly table: string;
  readonly kind: RelationKind;
  readonly privileges: readonly TablePrivilege[];
  /** Whether the role holds USAGE on the schema (without it, the privileges cannot be used). */
  readonly schemaUsage: boolean;
}

/** Everything `inspectRole` reports. */
export interface RoleInspection {
  readonly database: string;
  readonly role: RoleAttributes;
  readonly databases: readonly DatabaseAccess[];
  readonly schemas: readonly SchemaAccess[];
  /** At most `tableLimit`, ordered by schema and name. */
  readonly tables: readonly TableAccess[];
  /** How many tables the role holds privileges on in all (`tables` may show fewer). */
  readonly tablesTotal: number;
}

export interface InspectOptions {
  /** Most tables returned (default 200). */
  readonly tableLimit?: number;
}

/** The default cap on listed tables. */
export const DEFAULT_TABLE_LIMIT = 200;

const KINDS: Record<string, RelationKind> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' };

/** Schemas that belong to PostgreSQL itself. */
const NON_SYSTEM = `n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'`;

type Queryable = Pick<ClientBase, 'query'> | Pick<Pool, 'query'>;

/** Inspects the role of `db`'s connection (current_user) in its current database. */
export async function inspectRole(db: Queryable, options: InspectOptions = {}): Promise<RoleInspection> {
  const { database, role } = await readRole(db);
  const memberOf = await readMemberships(db);
  const databases = await readDatabases(db);
  const schemas = await readSchemas(db);
  const { tables, tablesTotal } = await readTables(db, options.tableLimit ?? DEFAULT_TABLE_LIMIT);
  return { database, role: { ...role, memberOf }, databases, schemas, tables, tablesTotal };
}

/** The current database, and the current role's attributes (its memberships aside). */
async function readRole(db: Queryable): Promise<{ database: string; role: Omit<RoleAttributes, 'memberOf'> }> {
  const { rows: roleRows } = await db.query<{
    database: string;
    name: string;
    session_user: string;
    superuser: boolean;
    createrole: boolean;
    createdb: boolean;
    login: boolean;
    inherit: boolean;
    replication: boolean;
    bypassrls: boolean;
    connlimit: number;
    valid_until: string | null;
    expired: boolean;
  }>(
    `select pg_catalog.current_database() as database, r.rolname as name, session_user as session_user,
            r.rolsuper as superuser, r.rolcreaterole as createrole, r.rolcreatedb as createdb,
            r.rolcanlogin as login, r.rolinherit as inherit, r.rolreplication as replication,
            r.rolbypassrls as bypassrls, r.rolconnlimit as connlimit,
            case when r.rolvaliduntil is null then null
                 when not pg_catalog.isfinite(r.rolvaliduntil) then r.rolvaliduntil::text
                 else pg_catalog.to_char(r.rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end as valid_until,
            coalesce(r.rolvaliduntil < pg_catalog.now(), false) as expired
       from pg_catalog.pg_roles r
      where r.rolname = current_user`,
  );
  const row = roleRows[0];
  if (!row) throw new Error('the current role is not in pg_roles');
  return {
    database: row.database,
    role: {
      name: row.name,
      sessionUser: row.session_user,
      superuser: row.superuser,
      createRole: row.createrole,
      createDb: row.createdb,
      login: row.login,
      inherit: row.inherit,
      replication: row.replication,
      bypassRls: row.bypassrls,
      connectionLimit: Number(row.connlimit),
      validUntil: row.valid_until,
      expired: row.expired,
    },
  };
}

async function readMemberships(db: Queryable): Promise<RoleAttributes['memberOf']> {
  const { rows: memberRows } = await db.query<{ role: string; admin: boolean }>(
    `select g.rolname as role, pg_catalog.bool_or(m.admin_option) as admin
       from pg_catalog.pg_auth_members m
       join pg_catalog.pg_roles g on g.oid = m.roleid
       join pg_catalog.pg_roles u on u.oid = m.member
      where u.rolname = current_user
      group by g.rolname
      order by g.rolname`,
  );
  return memberRows.map((m) => ({ role: m.role, adminOption: m.admin }));
}

/** Databases the role may connect to, with what else it may do there. */
async function readDatabases(db: Queryable): Promise<DatabaseAccess[]> {
  const { rows: dbRows } = await db.query<{ name: string; create: boolean; temp: boolean }>(
    `select d.datname as name,
            pg_catalog.has_database_privilege(d.oid, 'CREATE') as create,
            pg_catalog.has_database_privilege(d.oid, 'TEMPORARY') as temp
       from pg_catalog.pg_database d
      where d.datallowconn and not d.datistemplate and pg_catalog.has_database_privilege(d.oid, 'CONNECT')
      order by d.datname`,
  );
  return dbRows.map((d) => ({
    name: d.name,
    privileges: ['CONNECT' as const, ...(d.create ? (['CREATE'] as const) : []), ...(d.temp ? (['TEMPORARY'] as const) : [])],
  }));
}

/** Schemas (PostgreSQL's own aside) where the role has USAGE or CREATE. */
async function readSchemas(db: Queryable): Promise<SchemaAccess[]> {
  const { rows: schemaRows } = await db.query<{ name: string; owner: string; usage: boolean; create: boolean }>(
    `select s.name, s.owner, s.usage, s."create"
       from (select n.nspname as name, pg_catalog.pg_get_userbyid(n.nspowner) as owner,
                    pg_catalog.has_schema_privilege(n.oid, 'USAGE') as usage,
                    pg_catalog.has_schema_privilege(n.oid, 'CREATE') as "create"
               from pg_catalog.pg_namespace n
              where ${NON_SYSTEM}) s
      where s.usage or s."create"
      order by s.name`,
  );
  return schemaRows.map((s) => ({
    name: s.name,
    owner: s.owner,
    privileges: [...(s.usage ? (['USAGE'] as const) : []), ...(s.create ? (['CREATE'] as const) : [])],
  }));
}

/** Up to `limit` tables the role holds privileges on, and how many there are in all. */
async function readTables(db: Queryable, limit: number): Promise<Pick<RoleInspection, 'tables' | 'tablesTotal'>> {
  const privilegeColumns = TABLE_PRIVILEGES.map((p) => `pg_catalog.has_table_privilege(c.oid, '${p}') as "${p}"`).join(',\n                    ');
  const { rows: tableRows } = await db.query<Record<TablePrivilege, boolean> & { schema: string; table: string; kind: string; usage: boolean; total: string }>(
    `select t.*, pg_catalog.count(*) over () as total
       from (select n.nspname as schema, c.relname as table, c.relkind::text as kind,
                    pg_catalog.has_schema_privilege(n.oid, 'USAGE') as usage,
                    ${privilegeColumns}
               from pg_catalog.pg_class c
               join pg_catalog.pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition and ${NON_SYSTEM}) t
      where ${TABLE_PRIVILEGES.map((p) => `t."${p}"`).join(' or ')}
      order by t.schema, t.table
      limit $1`,
    [limit],
  );
  return {
    tables: tableRows.map((t) => ({
      schema: t.schema,
      table: t.table,
      kind: KINDS[t.kind] ?? 'table',
      privileges: TABLE_PRIVILEGES.filter((p) => t[p]),
      schemaUsage: t.usage,
    })),
    tablesTotal: tableRows.length > 0 ? Number(tableRows[0]!.total) : 0,
  };
}
