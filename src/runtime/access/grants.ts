/**
 * The privilege engine behind endpoint access roles. Three steps, all per database:
 *
 * 1. `readHeld`: what a role actually holds, from the catalogs (`aclexplode` over
 *    pg_database, pg_namespace, pg_class, pg_attribute and pg_default_acl, found through
 *    pg_shdepend so large catalogs are not scanned), with the grantor of every entry.
 * 2. `planWanted`: what a permission set means on this database right now: CONNECT,
 *    schema USAGE, table privileges, sequence USAGE for INSERT/UPDATE, and for `*` the
 *    default privileges of the roles that create tables there.
 * 3. `diffGrants`: the difference as drift items, each with the fix that removes it.
 *
 * Sync applies the fixes and diffs again to prove the result; read reports the items as
 * drift. Using one diff for both is what keeps plan and apply from disagreeing (a grant
 * that apply cannot make, or does not make, is never reported as in sync).
 */
import type { ClientBase } from 'pg';
import { TABLE_PRIVILEGES, type Permissions, type TablePrivilege, type ValidationIssue } from '../types';
import { ident, qualified } from '../pg/sql';

/**
 * Privilege keywords allowed into SQL text. Privileges are keywords, not identifiers, so
 * they cannot be quoted: anything the catalogs report is checked against this list first.
 */
const PRIVILEGE_KEYWORDS: ReadonlySet<string> = new Set([
  ...TABLE_PRIVILEGES,
  'MAINTAIN',
  'USAGE',
  'CREATE',
  'CONNECT',
  'TEMPORARY',
  'EXECUTE',
]);

const TABLE_PRIVILEGE_SET: ReadonlySet<string> = new Set(TABLE_PRIVILEGES);

/** Privileges that make PostgreSQL call nextval() on a serial column's sequence. */
const NEEDS_SEQUENCE: readonly TablePrivilege[] = ['INSERT', 'UPDATE'];

/** pg_default_acl.defaclobjtype -> the object class ALTER DEFAULT PRIVILEGES names. */
const DEFAULT_OBJECT_CLASS: Readonly<Record<string, string>> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
  n: 'SCHEMAS',
  L: 'LARGE OBJECTS',
};

/** The admin connection's view of the server. */
export interface Server {
  readonly admin: string;
  readonly superuser: boolean;
  readonly database: string;
  readonly databaseOid: number;
  readonly databaseOwner: string;
  /** server_version_num, e.g. 150018. */
  readonly serverVersion: number;
}

/** Who the admin is and where it is connected. */
export async function readServer(client: ClientBase): Promise<Server> {
  const { rows } = await client.query<{
    admin: string;
    superuser: boolean;
    database: string;
    database_oid: number;
    database_owner: string;
    server_version: number;
  }>(
    `select current_user as admin,
            coalesce((select rolsuper from pg_catalog.pg_roles where rolname = current_user), false) as superuser,
            d.datname as database, d.oid as database_oid, pg_catalog.pg_get_userbyid(d.datdba) as database_owner,
            pg_catalog.current_setting('server_version_num')::int as server_version
       from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()`,
  );
  const row = rows[0];
  if (!row) throw new Error('current database not found in pg_database');
  return {
    admin: row.admin,
    superuser: row.superuser,
    database: row.database,
    databaseOid: row.database_oid,
    databaseOwner: row.database_owner,
    serverVersion: row.server_version,
  };
}

/** Role attributes an access role must not have. */
const ELEVATED_ATTRIBUTES = [
  ['rolcanlogin', 'LOGIN'],
  ['rolsuper', 'SUPERUSER'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

type AttributeColumn = (typeof ELEVATED_ATTRIBUTES)[number][0];

/** A role as pg_roles has it. */
export interface RoleRow {
  readonly oid: number;
  readonly name: string;
  readonly comment: string | null;
  /** Elevated attributes it has, as keywords (`LOGIN`, `SUPERUSER`, ...). */
  readonly elevated: readonly string[];
}

/** A role by exact name, with its comment and elevated attributes; null when missing. */
export async function findRole(client: ClientBase, name: string): Promise<RoleRow | null> {
  const { rows } = await client.query<Record<AttributeColumn, boolean> & { oid: number; rolname: string; comment: string | null }>(
    `select r.oid, r.rolname, ${ELEVATED_ATTRIBUTES.map(([column]) => `r.${column}`).join(', ')},
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
       from pg_catalog.pg_roles r where r.rolname = $1`,
    [name],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    oid: row.oid,
    name: row.rolname,
    comment: row.comment,
    elevated: ELEVATED_ATTRIBUTES.filter(([column]) => row[column]).map(([, keyword]) => keyword),
  };
}

/** Roles that are members of `roleOid`, except the admin's own ADMIN OPTION grant. */
export async function readMembers(client: ClientBase, roleOid: number): Promise<string[]> {
  const { rows } = await client.query<{ member: string }>(
    `select distinct pg_catalog.pg_get_userbyid(m.member) as member from pg_catalog.pg_auth_members m
      where m.roleid = $1 and m.member <> (select oid from pg_catalog.pg_roles where rolname = current_user)
      order by 1`,
    [roleOid],
  );
  return rows.map((r) => r.member);
}

// ---------------------------------------------------------------------------------------
// What the role holds

/** One ACL entry naming the role as grantee. */
export interface AclEntry {
  readonly privilege: string;
  readonly grantor: string;
  readonly grantable: boolean;
}

/** Tables, views, materialized views, foreign and partitioned tables are all `table`. */
export type RelationKind = 'table' | 'sequence';

interface HeldObject {
  readonly owner: string;
  readonly acl: AclEntry[];
}

/** A relation (table or sequence) the role holds privileges on. */
export interface HeldRelation extends HeldObject {
  readonly schema: string;
  readonly name: string;
  readonly kind: RelationKind;
}

/** A column-level privilege of the role (never part of an authorization). */
export interface HeldColumn {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly owner: string;
  readonly entry: AclEntry;
}

/** A pg_default_acl entry naming the role as grantee. */
export interface HeldDefault {
  readonly owner: string;
  /** null: a global entry (ALTER DEFAULT PRIVILEGES without IN SCHEMA). */
  readonly schema: string | null;
  readonly objtype: string;
  /** privilege -> grantable */
  readonly privileges: Map<string, boolean>;
}

/** Everything a role holds in one database (plus shared objects). */
export interface HeldGrants {
  readonly databases: Map<string, HeldObject>;
  readonly schemas: Map<string, HeldObject>;
  /** Keyed by `relationKey(schema, name)`. */
  readonly relations: Map<string, HeldRelation>;
  readonly columns: HeldColumn[];
  /** Keyed by `defaultKey(owner, schema, objtype)`. */
  readonly defaults: Map<string, HeldDefault>;
  readonly memberOf: ReadonlyArray<{ readonly role: string; readonly grantor: string }>;
  /** Other databases where it holds privileges or owns objects (pg_shdepend). */
  readonly otherDatabases: readonly string[];
  /** Privileges on, or ownership of, objects outside the model (functions, types, ...). */
  readonly otherObjects: readonly string[];
}

/** A stable map key for a relation. */
export function relationKey(schema: string, name: string): string {
  return JSON.stringify([schema, name]);
}

function defaultKey(owner: string, schema: string | null, objtype: string): string {
  return JSON.stringify([owner, schema, objtype]);
}

interface AclRow {
  privilege_type: string;
  grantor: string;
  is_grantable: boolean;
}

function entryOf(row: AclRow): AclEntry {
  return { privilege: row.privilege_type, grantor: row.grantor, grantable: row.is_grantable };
}

/** The ACL dependencies of the role in this database, as a reusable sub-select. */
const SHDEPEND_ACL = `select classid, objid, objsubid from pg_catalog.pg_shdepend
   where refclassid = 'pg_catalog.pg_authid'::regclass and refobjid = $1 and deptype = 'a' and dbid = $2`;

/** Everything the role holds in the connected database and on shared objects, from the catalogs. */
export async function readHeld(client: ClientBase, server: Server, roleOid: number): Promise<HeldGrants> {
  const params = [roleOid, server.databaseOid];

  const databases = new Map<string, HeldObject>();
  const dbRows = await client.query<AclRow & { name: string; owner: string }>(
    `select d.datname as name, pg_catalog.pg_get_userbyid(d.datdba) as owner, a.privilege_type,
            pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from pg_catalog.pg_database d cross join lateral pg_catalog.aclexplode(d.datacl) a where a.grantee = $1`,
    [roleOid],
  );
  for (const row of dbRows.rows) {
    const held = databases.get(row.name) ?? { owner: row.owner, acl: [] };
    held.acl.push(entryOf(row));
    databases.set(row.name, held);
  }

  const schemas = new Map<string, HeldObject>();
  const nsRows = await client.query<AclRow & { name: string; owner: string }>(
    `select n.nspname as name, pg_catalog.pg_get_userbyid(n.nspowner) as owner, a.privilege_type,
            pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from pg_catalog.pg_namespace n cross join lateral pg_catalog.aclexplode(n.nspacl) a where a.grantee = $1`,
    [roleOid],
  );
  for (const row of nsRows.rows) {
    const held = schemas.get(row.name) ?? { owner: row.owner, acl: [] };
    held.acl.push(entryOf(row));
    schemas.set(row.name, held);
  }

  const relations = new Map<string, HeldRelation>();
  const relRows = await client.query<AclRow & { schema: string; name: string; relkind: string; owner: string }>(
    `select n.nspname as schema, c.relname as name, c.relkind, pg_catalog.pg_get_userbyid(c.relowner) as owner,
            a.privilege_type, pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from (select distinct objid from (${SHDEPEND_ACL}) s
              where classid = 'pg_catalog.pg_class'::regclass and objsubid = 0) d
       join pg_catalog.pg_class c on c.oid = d.objid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       cross join lateral pg_catalog.aclexplode(c.relacl) a
      where a.grantee = $1`,
    params,
  );
  for (const row of relRows.rows) {
    const key = relationKey(row.schema, row.name);
    const held = relations.get(key) ?? {
      schema: row.schema,
      name: row.name,
      kind: row.relkind === 'S' ? 'sequence' : 'table',
      owner: row.owner,
      acl: [],
    };
    held.acl.push(entryOf(row));
    relations.set(key, held);
  }

  const colRows = await client.query<AclRow & { schema: string; table: string; column: string; owner: string }>(
    `select n.nspname as schema, c.relname as table, att.attname as column, pg_catalog.pg_get_userbyid(c.relowner) as owner,
            a.privilege_type, pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from (select distinct objid, objsubid from (${SHDEPEND_ACL}) s
              where classid = 'pg_catalog.pg_class'::regclass and objsubid <> 0) d
       join pg_catalog.pg_class c on c.oid = d.objid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_attribute att on att.attrelid = c.oid and att.attnum = d.objsubid
       cross join lateral pg_catalog.aclexplode(att.attacl) a
      where a.grantee = $1`,
    params,
  );
  const columns = colRows.rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    column: row.column,
    owner: row.owner,
    entry: entryOf(row),
  }));

  const defaults = new Map<string, HeldDefault>();
  const defRows = await client.query<{ owner: string; schema: string | null; objtype: string; privilege_type: string; is_grantable: boolean }>(
    `select pg_catalog.pg_get_userbyid(da.defaclrole) as owner, n.nspname as schema, da.defaclobjtype::text as objtype,
            a.privilege_type, a.is_grantable
       from pg_catalog.pg_default_acl da
       left join pg_catalog.pg_namespace n on n.oid = da.defaclnamespace
       cross join lateral pg_catalog.aclexplode(da.defaclacl) a
      where a.grantee = $1`,
    [roleOid],
  );
  for (const row of defRows.rows) {
    const key = defaultKey(row.owner, row.schema, row.objtype);
    const held = defaults.get(key) ?? { owner: row.owner, schema: row.schema, objtype: row.objtype, privileges: new Map() };
    held.privileges.set(row.privilege_type, row.is_grantable);
    defaults.set(key, held);
  }

  const memberRows = await client.query<{ role: string; grantor: string }>(
    `select pg_catalog.pg_get_userbyid(m.roleid) as role, pg_catalog.pg_get_userbyid(m.grantor) as grantor
       from pg_catalog.pg_auth_members m where m.member = $1 order by 1`,
    [roleOid],
  );

  const elsewhere = await client.query<{ datname: string }>(
    `select distinct d.datname from pg_catalog.pg_shdepend s join pg_catalog.pg_database d on d.oid = s.dbid
      where s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = $1 and s.dbid not in (0, $2)
      order by 1`,
    params,
  );

  // Everything else the role appears in: routines, types, tablespaces, parameters, and
  // any object it owns. Not part of the model: reported, and removed by DROP OWNED.
  const others = await client.query<{ object: string; deptype: string }>(
    `select pg_catalog.pg_describe_object(classid, objid, objsubid) as object, deptype::text as deptype
       from pg_catalog.pg_shdepend
      where refclassid = 'pg_catalog.pg_authid'::regclass and refobjid = $1 and dbid in (0, $2)
        and not (deptype = 'a' and classid in ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_namespace'::regclass,
                                               'pg_catalog.pg_database'::regclass, 'pg_catalog.pg_default_acl'::regclass))
      order by 1`,
    params,
  );

  return {
    databases,
    schemas,
    relations,
    columns,
    defaults,
    memberOf: memberRows.rows,
    otherDatabases: elsewhere.rows.map((r) => r.datname),
    otherObjects: others.rows.map((r) => (r.deptype === 'o' ? `owns ${r.object}` : `privileges on ${r.object}`)),
  };
}

// ---------------------------------------------------------------------------------------
// What a permission set means here

interface SchemaInfo {
  readonly name: string;
  /** The owner; for schemas owned by pg_database_owner (public, PG 15+), the database owner. */
  readonly owner: string;
}

interface RelationInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly kind: RelationKind;
  readonly owner: string;
}

/** A relation and exactly the privileges the role should hold on it. */
export interface WantedRelation extends RelationInfo {
  readonly privileges: ReadonlySet<string>;
}

/** A default-privilege entry the role should have: objects `owner` creates in `schema`. */
export interface WantedDefault {
  readonly owner: string;
  readonly schema: string;
  readonly objtype: 'r' | 'S';
  readonly privileges: ReadonlySet<string>;
}

/** The state a permission set calls for on this database. */
export interface Wanted {
  /** The database that gets CONNECT; null: none (revoking everything). */
  readonly database: string | null;
  /** Schemas that get USAGE. */
  readonly schemas: ReadonlyMap<string, SchemaInfo>;
  readonly relations: ReadonlyMap<string, WantedRelation>;
  /** Default privileges the admin can set (and so keeps exact). */
  readonly defaults: ReadonlyMap<string, WantedDefault>;
  /**
   * Default privileges the admin may not set (it cannot act as their owner). Not
   * required; if an entry exists anyway it must match, and is otherwise left alone.
   */
  readonly unmanagedDefaults: ReadonlyMap<string, WantedDefault>;
  /** Schemas or tables that do not exist, with the permissions field that names them. */
  readonly issues: readonly ValidationIssue[];
  /** Why some default privileges are not set (see `unmanagedDefaults`). */
  readonly notes: readonly string[];
}

/** A table reference as written in `tables`: `name`, `schema.name`, or `*`. */
export interface TableRef {
  readonly schema: string | null;
  readonly name: string;
}

/**
 * Parses a `tables` entry. A dot separates the schema from the table at its first
 * occurrence, so a table whose name contains a dot is written qualified (`s.a.b` is table
 * `a.b` in schema `s`); `planWanted` also accepts `a.b` when a listed schema has a table
 * literally named so. Names are matched exactly as stored: no case folding.
 */
export function parseTableRef(entry: string): TableRef {
  const dot = entry.indexOf('.');
  if (dot <= 0 || dot === entry.length - 1) return { schema: null, name: entry };
  return { schema: entry.slice(0, dot), name: entry.slice(dot + 1) };
}

/**
 * Which roles' default privileges to set for `*` in a schema: the admin (tables created
 * through this connection) and the schema's owner (who creates tables there by default:
 * migrations usually run as the owner). Deduplicated.
 */
function defaultPrivilegeRoles(server: Server, schema: SchemaInfo): string[] {
  return [...new Set([server.admin, schema.owner])];
}

/**
 * Roles whose default privileges the admin may change: itself, any role when superuser,
 * else roles it is a member of (PG 15) / has the privileges of (PG 16+, which checks
 * has_privs_of_role, so a membership WITH INHERIT FALSE is not enough).
 */
export async function actableRoles(client: ClientBase, server: Server, roles: Iterable<string>): Promise<Set<string>> {
  const names = [...new Set(roles)];
  if (server.superuser) return new Set(names);
  const { rows } = await client.query<{ rolname: string }>(
    `select r.rolname from pg_catalog.pg_roles r
      where r.rolname = any($1::text[]) and (r.rolname = current_user or pg_catalog.pg_has_role(current_user, r.oid, $2))`,
    [names, server.serverVersion >= 160000 ? 'USAGE' : 'MEMBER'],
  );
  return new Set(rows.map((r) => r.rolname));
}

async function readSchemas(client: ClientBase, names: readonly string[]): Promise<Map<string, SchemaInfo>> {
  const { rows } = await client.query<{ name: string; owner: string }>(
    `select n.nspname as name,
            pg_catalog.pg_get_userbyid(case when n.nspowner = 'pg_database_owner'::regrole then d.datdba else n.nspowner end) as owner
       from pg_catalog.pg_namespace n, pg_catalog.pg_database d
      where d.datname = pg_catalog.current_database() and n.nspname = any($1::text[])`,
    [names],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

const RELATION_COLUMNS = `c.oid, n.nspname as schema, c.relname as name, c.relkind, pg_catalog.pg_get_userbyid(c.relowner) as owner`;

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  owner: string;
}

function relationInfo(row: RelationRow): RelationInfo {
  return { oid: row.oid, schema: row.schema, name: row.name, kind: row.relkind === 'S' ? 'sequence' : 'table', owner: row.owner };
}

/**
 * Every relation `GRANT ... ON ALL TABLES / ALL SEQUENCES IN SCHEMA` would reach: tables,
 * partitioned tables, views, materialized views, foreign tables, and sequences.
 */
async function readRelations(client: ClientBase, schemas: readonly string[]): Promise<RelationInfo[]> {
  const { rows } = await client.query<RelationRow>(
    `select ${RELATION_COLUMNS} from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')`,
    [schemas],
  );
  return rows.map(relationInfo);
}

/** Sequences owned by the given tables: serial columns ('a') and identity columns ('i'). */
async function readOwnedSequences(client: ClientBase, tableOids: readonly number[]): Promise<RelationInfo[]> {
  if (tableOids.length === 0) return [];
  const { rows } = await client.query<RelationRow>(
    `select distinct ${RELATION_COLUMNS}
       from pg_catalog.pg_depend dep
       join pg_catalog.pg_class c on c.oid = dep.objid and c.relkind = 'S'
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where dep.classid = 'pg_catalog.pg_class'::regclass and dep.refclassid = 'pg_catalog.pg_class'::regclass
        and dep.deptype in ('a', 'i') and dep.refobjid = any($1::oid[])`,
    [tableOids],
  );
  return rows.map(relationInfo);
}

/**
 * What `permissions` call for on this database. Missing schemas and tables are returned
 * as issues (the caller decides whether that is an error, as in sync, or drift, as in read).
 */
export async function planWanted(client: ClientBase, server: Server, permissions: Permissions): Promise<Wanted> {
  const issues: ValidationIssue[] = [];
  const notes: string[] = [];
  const grants = new Set<string>(permissions.grants);
  const sequencePrivileges = new Set<string>(NEEDS_SEQUENCE.some((p) => grants.has(p)) ? ['USAGE'] : []);
  const star = permissions.tables.includes('*');
  const named = permissions.tables
    .map((entry, index) => ({ entry, index, ref: parseTableRef(entry) }))
    .filter(({ entry }) => entry !== '*');

  const schemaNames = new Set(permissions.schemas);
  for (const { ref } of named) if (ref.schema !== null) schemaNames.add(ref.schema);
  const schemaInfo = await readSchemas(client, [...schemaNames]);
  permissions.schemas.forEach((schema, index) => {
    if (!schemaInfo.has(schema)) {
      issues.push({
        field: `permissions.schemas[${index}]`,
        message: `schema ${ident(schema)} does not exist in database ${ident(server.database)}`,
      });
    }
  });

  const listed = permissions.schemas.filter((s) => schemaInfo.has(s));
  const inSchemas = await readRelations(client, [...schemaInfo.keys()]);
  const byName = new Map(inSchemas.map((r) => [relationKey(r.schema, r.name), r]));

  const relations = new Map<string, WantedRelation>();
  const want = (info: RelationInfo, privileges: ReadonlySet<string>): void => {
    if (privileges.size === 0) return;
    relations.set(relationKey(info.schema, info.name), { ...info, privileges });
  };

  if (star) {
    for (const info of inSchemas) {
      if (!listed.includes(info.schema)) continue;
      want(info, info.kind === 'table' ? grants : sequencePrivileges);
    }
  }

  if (star && permissions.schemas.length === 0) {
    issues.push({
      field: `permissions.tables[${permissions.tables.indexOf('*')}]`,
      message: '"*" means every table of the listed schemas, and no schema is listed',
    });
  }

  const unqualified = (name: string): RelationInfo[] =>
    listed.map((s) => byName.get(relationKey(s, name))).filter((r): r is RelationInfo => r?.kind === 'table');

  const namedTables: RelationInfo[] = [];
  for (const { entry, index, ref } of named) {
    const field = `permissions.tables[${index}]`;
    if (ref.schema !== null) {
      const info = byName.get(relationKey(ref.schema, ref.name));
      if (info?.kind === 'table') {
        namedTables.push(info);
        continue;
      }
      // A table whose own name contains a dot, in a listed schema, is found as written too.
      const literally = unqualified(entry);
      if (literally.length > 0) {
        namedTables.push(...literally);
        continue;
      }
      issues.push({
        field,
        message: schemaInfo.has(ref.schema)
          ? `table ${qualified(ref.schema, ref.name)} does not exist in database ${ident(server.database)}`
          : `schema ${ident(ref.schema)} of table ${ident(entry)} does not exist in database ${ident(server.database)}`,
      });
    } else {
      // An unqualified name means that table in every listed schema that has one.
      const found = unqualified(ref.name);
      if (found.length === 0) {
        issues.push({
          field,
          message:
            listed.length > 0
              ? `table ${ident(ref.name)} does not exist in schema ${listed.map(ident).join(', ')} of database ${ident(server.database)}`
              : `table ${ident(ref.name)} is not schema-qualified and no existing schema is listed`,
        });
        continue;
      }
      namedTables.push(...found);
    }
  }
  for (const info of namedTables) want(info, grants);
  if (sequencePrivileges.size > 0) {
    for (const seq of await readOwnedSequences(client, namedTables.map((t) => t.oid))) want(seq, sequencePrivileges);
  }

  const defaults = new Map<string, WantedDefault>();
  const unmanagedDefaults = new Map<string, WantedDefault>();
  if (star && grants.size > 0) {
    const candidates = listed.flatMap((s) => defaultPrivilegeRoles(server, schemaInfo.get(s)!).map((owner) => ({ owner, schema: s })));
    const actable = await actableRoles(client, server, candidates.map((c) => c.owner));
    for (const { owner, schema } of candidates) {
      const target = actable.has(owner) ? defaults : unmanagedDefaults;
      target.set(defaultKey(owner, schema, 'r'), { owner, schema, objtype: 'r', privileges: grants });
      if (sequencePrivileges.size > 0) {
        target.set(defaultKey(owner, schema, 'S'), { owner, schema, objtype: 'S', privileges: sequencePrivileges });
      }
      if (!actable.has(owner)) {
        notes.push(
          `default privileges for tables that ${ident(owner)} creates later in schema ${ident(schema)} are not set: ` +
            `the admin role ${ident(server.admin)} may only set them for roles whose privileges it has ` +
            `(grant it membership in ${ident(owner)}${server.serverVersion >= 160000 ? ' WITH INHERIT TRUE' : ''}); ` +
            'until then, tables it creates are covered only by the next apply',
        );
      }
    }
  }

  // USAGE on the listed schemas, and on the schema of every table named `schema.table`.
  const schemas = new Map<string, SchemaInfo>();
  for (const name of [...listed, ...namedTables.map((t) => t.schema)]) {
    const info = schemaInfo.get(name);
    if (info) schemas.set(name, info);
  }
  return { database: server.database, schemas, relations, defaults, unmanagedDefaults, issues, notes };
}

/** Nothing at all: what a role being dropped should hold. */
export const NOTHING_WANTED: Wanted = {
  database: null,
  schemas: new Map(),
  relations: new Map(),
  defaults: new Map(),
  unmanagedDefaults: new Map(),
  issues: [],
  notes: [],
};

// ---------------------------------------------------------------------------------------
// The difference, and how to remove it

/** The object classes whose ACLs the model manages, as GRANT names them. */
export type ObjectType = 'DATABASE' | 'SCHEMA' | 'TABLE' | 'SEQUENCE';

/** A change that removes one drift item. */
export type Fix =
  | {
      readonly kind: 'acl';
      readonly action: 'GRANT' | 'REVOKE' | 'REVOKE GRANT OPTION FOR';
      readonly objectType: ObjectType;
      /** Quoted object name. */
      readonly object: string;
      readonly privileges: readonly string[];
      /** Revoke as this role (the grantor), because REVOKE only removes one's own grants. */
      readonly actAs?: string;
    }
  | {
      readonly kind: 'column';
      readonly table: string;
      readonly column: string;
      readonly privilege: string;
      readonly actAs?: string;
    }
  | {
      readonly kind: 'default';
      readonly action: 'GRANT' | 'REVOKE' | 'REVOKE GRANT OPTION FOR';
      readonly owner: string;
      readonly schema: string | null;
      readonly objectClass: string;
      /** null: ALL */
      readonly privileges: readonly string[] | null;
    }
  | { readonly kind: 'membership'; readonly role: string; readonly actAs?: string }
  | { readonly kind: 'attributes'; readonly clauses: readonly string[] };

/** One difference between what the role holds and what is wanted. */
export interface DriftItem {
  /** What differs, for people (plan output, warnings). */
  readonly message: string;
  /** True when something the permissions call for is missing (not merely extra). */
  readonly missing: boolean;
  /** How to remove it; absent when the admin cannot (the message says why). */
  readonly fix?: Fix;
}

/** What a diff needs to know besides the two states. */
export interface DiffContext {
  readonly role: string;
  readonly server: Server;
  /** Roles the admin can act as (see `actableRoles`). */
  readonly actable: ReadonlySet<string>;
}

/** The diff context for a role: which owners and grantors the admin can act as. */
export async function diffContext(client: ClientBase, server: Server, role: string, held: HeldGrants, wanted: Wanted): Promise<DiffContext> {
  const names = new Set<string>([server.admin]);
  for (const d of held.defaults.values()) names.add(d.owner);
  for (const d of [...wanted.defaults.values(), ...wanted.unmanagedDefaults.values()]) names.add(d.owner);
  for (const o of [...held.databases.values(), ...held.schemas.values(), ...held.relations.values()]) names.add(o.owner);
  for (const c of held.columns) names.add(c.owner);
  return { role, server, actable: await actableRoles(client, server, names) };
}

function sortedPrivileges(privileges: Iterable<string>): string[] {
  return [...privileges].sort();
}

/**
 * Whom to revoke a grant made by `grantor` as: undefined when a plain REVOKE by the admin
 * reaches it (the admin's own grants, or the owner's when the admin acts for the owner),
 * else the grantor itself (REVOKE ... GRANTED BY only accepts the current role).
 */
function revokeAs(ctx: DiffContext, grantor: string, owner: string): string | undefined {
  if (grantor === ctx.server.admin) return undefined;
  if (grantor === owner && (ctx.server.superuser || ctx.actable.has(owner))) return undefined;
  return grantor;
}

/** Diff of one object's ACL entries for the role against the privileges wanted on it. */
function diffObject(
  ctx: DiffContext,
  objectType: ObjectType,
  object: string,
  label: string,
  owner: string,
  wanted: ReadonlySet<string>,
  held: readonly AclEntry[],
  items: DriftItem[],
): void {
  const heldPrivileges = new Set(held.map((e) => e.privilege));
  const missing = sortedPrivileges([...wanted].filter((p) => !heldPrivileges.has(p)));
  if (missing.length > 0) {
    items.push({
      message: `missing ${missing.join(', ')} on ${label}`,
      missing: true,
      fix: { kind: 'acl', action: 'GRANT', objectType, object, privileges: missing },
    });
  }
  const extraByGrantor = new Map<string, string[]>();
  const optionByGrantor = new Map<string, string[]>();
  for (const entry of held) {
    const bucket = wanted.has(entry.privilege) ? (entry.grantable ? optionByGrantor : null) : extraByGrantor;
    if (!bucket) continue;
    bucket.set(entry.grantor, [...(bucket.get(entry.grantor) ?? []), entry.privilege]);
  }
  for (const [grantor, privileges] of extraByGrantor) {
    const list = sortedPrivileges(privileges);
    const actAs = revokeAs(ctx, grantor, owner);
    items.push({
      message: `unexpected ${list.join(', ')} on ${label} (granted by ${ident(grantor)})`,
      missing: false,
      fix: { kind: 'acl', action: 'REVOKE', objectType, object, privileges: list, ...(actAs ? { actAs } : {}) },
    });
  }
  for (const [grantor, privileges] of optionByGrantor) {
    const list = sortedPrivileges(privileges);
    const actAs = revokeAs(ctx, grantor, owner);
    items.push({
      message: `unexpected grant option for ${list.join(', ')} on ${label} (granted by ${ident(grantor)})`,
      missing: false,
      fix: { kind: 'acl', action: 'REVOKE GRANT OPTION FOR', objectType, object, privileges: list, ...(actAs ? { actAs } : {}) },
    });
  }
}

function describeDefault(owner: string, schema: string | null, objtype: string): string {
  const what = (DEFAULT_OBJECT_CLASS[objtype] ?? `objects of type ${objtype}`).toLowerCase();
  return `default privileges on ${what} created by ${ident(owner)}${schema === null ? ' in any schema' : ` in schema ${ident(schema)}`}`;
}

function diffDefault(ctx: DiffContext, wanted: WantedDefault, held: HeldDefault | undefined, managed: boolean, items: DriftItem[]): void {
  const heldPrivileges = held ? [...held.privileges.keys()] : [];
  const objectClass = DEFAULT_OBJECT_CLASS[wanted.objtype]!;
  const label = describeDefault(wanted.owner, wanted.schema, wanted.objtype);
  const missing = sortedPrivileges([...wanted.privileges].filter((p) => !heldPrivileges.includes(p)));
  const extra = sortedPrivileges(heldPrivileges.filter((p) => !wanted.privileges.has(p)));
  const options = sortedPrivileges(heldPrivileges.filter((p) => wanted.privileges.has(p) && held?.privileges.get(p) === true));
  if (!managed) {
    // The admin cannot change these; an existing entry only has to be right.
    if (held && (missing.length > 0 || extra.length > 0 || options.length > 0)) {
      items.push({
        message:
          `${label} differ (${heldPrivileges.join(', ')} instead of ${sortedPrivileges(wanted.privileges).join(', ')}) ` +
          `and the admin role ${ident(ctx.server.admin)} may not change them`,
        missing: false,
      });
    }
    return;
  }
  const base = { kind: 'default', owner: wanted.owner, schema: wanted.schema, objectClass } as const;
  if (missing.length > 0) {
    items.push({ message: `missing ${missing.join(', ')} in ${label}`, missing: true, fix: { ...base, action: 'GRANT', privileges: missing } });
  }
  if (extra.length > 0) {
    items.push({ message: `unexpected ${extra.join(', ')} in ${label}`, missing: false, fix: { ...base, action: 'REVOKE', privileges: extra } });
  }
  if (options.length > 0) {
    items.push({
      message: `unexpected grant option for ${options.join(', ')} in ${label}`,
      missing: false,
      fix: { ...base, action: 'REVOKE GRANT OPTION FOR', privileges: options },
    });
  }
}

/**
 * Every difference between what the role holds and what is wanted: missing grants,
 * extra grants (by any grantor), grant options, stale default privileges, column
 * privileges, memberships in other roles, elevated attributes, and anything outside the
 * model. An empty list means the role is exactly as wanted.
 */
export function diffGrants(ctx: DiffContext, role: RoleRow, held: HeldGrants, wanted: Wanted): DriftItem[] {
  const items: DriftItem[] = [];
  const { server } = ctx;

  if (role.elevated.length > 0) {
    items.push({
      message: `role has ${role.elevated.join(', ')}`,
      missing: false,
      fix: { kind: 'attributes', clauses: role.elevated.map((a) => `NO${a}`) },
    });
  }
  for (const { role: other, grantor } of held.memberOf) {
    const actAs = server.serverVersion >= 160000 && grantor !== server.admin ? grantor : undefined;
    items.push({
      message: `role is a member of ${ident(other)}`,
      missing: false,
      fix: { kind: 'membership', role: other, ...(actAs ? { actAs } : {}) },
    });
  }

  const databaseNames = new Set([...(wanted.database === null ? [] : [wanted.database]), ...held.databases.keys()]);
  for (const name of databaseNames) {
    const heldDb = held.databases.get(name);
    const wantedPrivileges = new Set<string>(name === wanted.database ? ['CONNECT'] : []);
    const owner = heldDb?.owner ?? server.databaseOwner;
    diffObject(ctx, 'DATABASE', ident(name), `database ${ident(name)}`, owner, wantedPrivileges, heldDb?.acl ?? [], items);
  }

  const schemaNames = new Set([...wanted.schemas.keys(), ...held.schemas.keys()]);
  for (const name of schemaNames) {
    const heldSchema = held.schemas.get(name);
    const wantedSchema = wanted.schemas.get(name);
    const owner = heldSchema?.owner ?? wantedSchema?.owner ?? server.admin;
    const wantedPrivileges = new Set<string>(wantedSchema ? ['USAGE'] : []);
    diffObject(ctx, 'SCHEMA', ident(name), `schema ${ident(name)}`, owner, wantedPrivileges, heldSchema?.acl ?? [], items);
  }

  const relationKeys = new Set([...wanted.relations.keys(), ...held.relations.keys()]);
  for (const key of relationKeys) {
    const heldRel = held.relations.get(key);
    const wantedRel = wanted.relations.get(key);
    const info = (heldRel ?? wantedRel)!;
    const objectType = info.kind === 'sequence' ? 'SEQUENCE' : 'TABLE';
    const label = `${info.kind} ${qualified(info.schema, info.name)}`;
    const wantedPrivileges = wantedRel?.privileges ?? new Set<string>();
    diffObject(ctx, objectType, qualified(info.schema, info.name), label, info.owner, wantedPrivileges, heldRel?.acl ?? [], items);
  }

  for (const col of held.columns) {
    const actAs = revokeAs(ctx, col.entry.grantor, col.owner);
    items.push({
      message: `unexpected column privilege ${col.entry.privilege} (${ident(col.column)}) on table ${qualified(col.schema, col.table)}`,
      missing: false,
      fix: {
        kind: 'column',
        table: qualified(col.schema, col.table),
        column: col.column,
        privilege: col.entry.privilege,
        ...(actAs ? { actAs } : {}),
      },
    });
  }

  for (const [key, w] of wanted.defaults) diffDefault(ctx, w, held.defaults.get(key), true, items);
  for (const [key, w] of wanted.unmanagedDefaults) diffDefault(ctx, w, held.defaults.get(key), false, items);
  for (const [key, h] of held.defaults) {
    if (wanted.defaults.has(key) || wanted.unmanagedDefaults.has(key)) continue;
    const label = describeDefault(h.owner, h.schema, h.objtype);
    const objectClass = DEFAULT_OBJECT_CLASS[h.objtype];
    const privileges = sortedPrivileges(h.privileges.keys());
    const fixable = objectClass !== undefined && ctx.actable.has(h.owner);
    items.push({
      message: `stale ${label}: ${privileges.join(', ')}${fixable ? '' : ` (the admin role ${ident(server.admin)} may not remove them)`}`,
      missing: false,
      ...(fixable ? { fix: { kind: 'default', action: 'REVOKE', owner: h.owner, schema: h.schema, objectClass, privileges: null } } : {}),
    });
  }

  for (const db of held.otherDatabases) {
    items.push({ message: `role holds privileges or objects in database ${ident(db)} (removed when the endpoint is dropped)`, missing: false });
  }
  for (const other of held.otherObjects) {
    items.push({ message: `role holds ${other} (outside the authorization; removed when the endpoint is dropped)`, missing: false });
  }
  return items;
}

// ---------------------------------------------------------------------------------------
// Fixes as SQL

/** One statement to run, and as whom. */
export interface Statement {
  readonly sql: string;
  /** Run under SET LOCAL ROLE (revoking another grantor's grant). */
  readonly actAs?: string;
  /** A revoke: run in a savepoint, and on a permission error warn instead of failing. */
  readonly bestEffort: boolean;
}

function keyword(privilege: string): string {
  if (!PRIVILEGE_KEYWORDS.has(privilege)) throw new Error(`unknown privilege ${JSON.stringify(privilege)}`);
  return privilege;
}

function keywords(privileges: readonly string[]): string {
  return privileges.map(keyword).join(', ');
}

/** How many objects one GRANT/REVOKE names at most (keeps statements a sane size). */
const OBJECTS_PER_STATEMENT = 200;

/**
 * The statements that apply `fixes`, revokes first. ACL changes that differ only in the
 * object are merged into one statement per object list.
 */
export function renderFixes(role: string, fixes: readonly Fix[]): Statement[] {
  const grantee = ident(role);
  const revokes: Statement[] = [];
  const grants: Statement[] = [];
  const groups = new Map<string, { fix: Extract<Fix, { kind: 'acl' }>; objects: string[] }>();

  for (const fix of fixes) {
    switch (fix.kind) {
      case 'acl': {
        const key = JSON.stringify([fix.action, fix.objectType, fix.privileges, fix.actAs ?? null]);
        const group = groups.get(key) ?? { fix, objects: [] };
        group.objects.push(fix.object);
        groups.set(key, group);
        break;
      }
      case 'column':
        revokes.push({
          sql: `REVOKE ${keyword(fix.privilege)} (${ident(fix.column)}) ON TABLE ${fix.table} FROM ${grantee} CASCADE`,
          ...(fix.actAs ? { actAs: fix.actAs } : {}),
          bestEffort: true,
        });
        break;
      case 'default': {
        const scope = `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(fix.owner)}${fix.schema === null ? '' : ` IN SCHEMA ${ident(fix.schema)}`}`;
        const what = fix.privileges === null ? 'ALL' : keywords(fix.privileges);
        if (fix.action === 'GRANT') {
          grants.push({ sql: `${scope} GRANT ${what} ON ${fix.objectClass} TO ${grantee}`, bestEffort: false });
        } else {
          revokes.push({ sql: `${scope} ${fix.action} ${what} ON ${fix.objectClass} FROM ${grantee} CASCADE`, bestEffort: true });
        }
        break;
      }
      case 'membership':
        revokes.push({ sql: `REVOKE ${ident(fix.role)} FROM ${grantee}`, ...(fix.actAs ? { actAs: fix.actAs } : {}), bestEffort: true });
        break;
      case 'attributes':
        revokes.push({ sql: `ALTER ROLE ${grantee} ${fix.clauses.map(keywordClause).join(' ')}`, bestEffort: true });
        break;
    }
  }

  for (const { fix, objects } of groups.values()) {
    for (let i = 0; i < objects.length; i += OBJECTS_PER_STATEMENT) {
      const list = objects.slice(i, i + OBJECTS_PER_STATEMENT).join(', ');
      const on = `ON ${fix.objectType} ${list}`;
      if (fix.action === 'GRANT') {
        grants.push({ sql: `GRANT ${keywords(fix.privileges)} ${on} TO ${grantee}`, bestEffort: false });
      } else {
        revokes.push({
          sql: `${fix.action} ${keywords(fix.privileges)} ${on} FROM ${grantee} CASCADE`,
          ...(fix.actAs ? { actAs: fix.actAs } : {}),
          bestEffort: true,
        });
      }
    }
  }
  return [...revokes, ...grants];
}

const ATTRIBUTE_CLAUSES: ReadonlySet<string> = new Set(ELEVATED_ATTRIBUTES.map(([, k]) => `NO${k}`));

function keywordClause(clause: string): string {
  if (!ATTRIBUTE_CLAUSES.has(clause)) throw new Error(`unknown role attribute ${JSON.stringify(clause)}`);
  return clause;
}

/**
 * The same error with `context` and `separator` in front of its message; the SQLSTATE and
 * detail are kept, so retry decisions and callers that look at `code` still work.
 */
export function withContext(err: unknown, context: string, separator = ': '): Error {
  const source = err as { message?: unknown; code?: unknown; detail?: unknown };
  const message = typeof source.message === 'string' ? source.message : String(err);
  const wrapped = new Error(`${context}${separator}${message}`, { cause: err });
  return Object.assign(wrapped, {
    ...(typeof source.code === 'string' ? { code: source.code } : {}),
    ...(typeof source.detail === 'string' ? { detail: source.detail } : {}),
  });
}

/** SQLSTATEs of a revoke the admin is not allowed to make (warn, do not fail). */
const NOT_ALLOWED = new Set(['42501', '0LP01', '0A000', '2BP01']);

/**
 * Runs statements inside the caller's transaction. Best-effort ones run in a savepoint:
 * if the admin may not make them, the savepoint is rolled back and a warning returned.
 */
export async function runStatements(client: ClientBase, statements: readonly Statement[]): Promise<{ executed: string[]; warnings: string[] }> {
  const executed: string[] = [];
  const warnings: string[] = [];
  for (const statement of statements) {
    if (!statement.bestEffort && !statement.actAs) {
      try {
        await client.query(statement.sql);
      } catch (err) {
        throw withContext(err, `could not run \`${statement.sql}\``);
      }
      executed.push(statement.sql);
      continue;
    }
    await client.query('SAVEPOINT adaptive_statement');
    try {
      if (statement.actAs) await client.query(`SET LOCAL ROLE ${ident(statement.actAs)}`);
      await client.query(statement.sql);
      if (statement.actAs) await client.query('SET LOCAL ROLE NONE');
      await client.query('RELEASE SAVEPOINT adaptive_statement');
      executed.push(statement.sql);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (!statement.bestEffort || typeof code !== 'string' || !NOT_ALLOWED.has(code)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT adaptive_statement');
      const as = statement.actAs ? ` as ${ident(statement.actAs)}` : '';
      warnings.push(`could not run \`${statement.sql}\`${as}: ${(err as Error).message}`);
    }
  }
  return { executed, warnings };
}

// ---------------------------------------------------------------------------------------
// Reading it back as a permission set

/**
 * The permission set that describes what the role holds, in the shape of `Permissions`:
 * `schemas` = schemas with USAGE; `grants` = the table privileges it holds anywhere
 * (so an extra grant shows up); `tables` = `*` when, in every such schema, every table
 * and sequence holds exactly what `*` gives and the default privileges are in place,
 * otherwise the tables it holds privileges on (`name` with one schema, `schema.name`
 * otherwise). Grants and schemas sorted; `*` sorts first.
 */
export async function derivePermissions(client: ClientBase, ctx: DiffContext, held: HeldGrants): Promise<Permissions> {
  const schemas = [...held.schemas.entries()]
    .filter(([, h]) => h.acl.some((e) => e.privilege === 'USAGE'))
    .map(([name]) => name)
    .sort();
  const schemaInfo = await readSchemas(client, schemas);

  const grants = new Set<string>();
  for (const rel of held.relations.values()) {
    if (rel.kind !== 'table') continue;
    for (const entry of rel.acl) if (TABLE_PRIVILEGE_SET.has(entry.privilege)) grants.add(entry.privilege);
  }
  for (const name of schemas) {
    const info = schemaInfo.get(name);
    if (!info) continue;
    for (const owner of defaultPrivilegeRoles(ctx.server, info)) {
      for (const p of held.defaults.get(defaultKey(owner, name, 'r'))?.privileges.keys() ?? []) {
        if (TABLE_PRIVILEGE_SET.has(p)) grants.add(p);
      }
    }
  }
  const grantList = sortedPrivileges(grants) as TablePrivilege[];

  // `*` holds when, in these schemas, the role's table and sequence grants and its default
  // privileges (for the roles `*` covers) are exactly what `*` with these grants makes.
  let star = false;
  if (grantList.length > 0 && schemas.length > 0) {
    const wanted = await planWanted(client, ctx.server, { grants: grantList, schemas, tables: ['*'] });
    const covered = (d: HeldDefault): boolean =>
      d.schema !== null && schemas.includes(d.schema) && defaultPrivilegeRoles(ctx.server, schemaInfo.get(d.schema)!).includes(d.owner);
    const scoped: HeldGrants = {
      ...held,
      relations: new Map([...held.relations].filter(([, r]) => schemas.includes(r.schema))),
      defaults: new Map([...held.defaults].filter(([, d]) => covered(d))),
    };
    const starPart = (item: DriftItem): boolean =>
      item.fix?.kind === 'default' || (item.fix?.kind === 'acl' && (item.fix.objectType === 'TABLE' || item.fix.objectType === 'SEQUENCE'));
    const bare: RoleRow = { oid: 0, name: ctx.role, comment: null, elevated: [] };
    star = !diffGrants(ctx, bare, scoped, wanted).some(starPart);
  }

  const single = schemas.length === 1 ? schemas[0] : undefined;
  const tables = new Set<string>();
  for (const rel of held.relations.values()) {
    if (rel.kind !== 'table' || !rel.acl.some((e) => TABLE_PRIVILEGE_SET.has(e.privilege))) continue;
    if (star && schemas.includes(rel.schema)) continue;
    tables.add(rel.schema === single && !rel.name.includes('.') ? rel.name : `${rel.schema}.${rel.name}`);
  }
  const tableList = [...tables].sort();
  if (star) tableList.unshift('*');
  return { grants: grantList, schemas, tables: tableList };
}

