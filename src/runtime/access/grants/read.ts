/**
 * Stage 1, what a role holds: its ACL entries on databases, schemas, relations, columns,
 * routines and default privileges (`aclexplode`, found through pg_shdepend so large catalogs are not
 * scanned), with the grantor of every entry, its memberships, and whatever it holds
 * outside the model.
 */
import type { ClientBase } from 'pg';
import { ROUTINE_COLUMNS, defaultKey, relationKey, routineKey, type RelationKind, type RoutineInfo } from './objects';
import type { Server } from './server';

/** One ACL entry naming the role as grantee. */
export interface AclEntry {
  readonly privilege: string;
  readonly grantor: string;
  readonly grantable: boolean;
}

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

/** A routine the role holds privileges on. */
export interface HeldRoutine extends HeldObject, RoutineInfo {}

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
  /** Routines (functions, procedures, aggregates), keyed by `routineKey(oid)`. */
  readonly functions: Map<string, HeldRoutine>;
  readonly columns: HeldColumn[];
  /** Keyed by `defaultKey(owner, schema, objtype)`. */
  readonly defaults: Map<string, HeldDefault>;
  readonly memberOf: ReadonlyArray<{ readonly role: string; readonly grantor: string }>;
  /** Other databases where it holds privileges or owns objects (pg_shdepend). */
  readonly otherDatabases: readonly string[];
  /** Privileges on, or ownership of, objects outside the model (types, ...). */
  readonly otherObjects: readonly string[];
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
  const params: AclParams = [roleOid, server.databaseOid];
  return {
    databases: await readDatabaseAcls(client, roleOid),
    schemas: await readSchemaAcls(client, roleOid),
    relations: await readRelationAcls(client, params),
    functions: await readRoutineAcls(client, params),
    columns: await readColumnAcls(client, params),
    defaults: await readDefaultAcls(client, roleOid),
    memberOf: await readMemberships(client, roleOid),
    otherDatabases: await readOtherDatabases(client, params),
    otherObjects: await readOtherObjects(client, params),
  };
}

/** The role's oid and the connected database's oid: $1 and $2 of the pg_shdepend queries. */
type AclParams = [roleOid: number, databaseOid: number];

/** ACL rows of named objects (databases, schemas), grouped by object. */
function byObject(rows: ReadonlyArray<AclRow & { name: string; owner: string }>): Map<string, HeldObject> {
  const objects = new Map<string, HeldObject>();
  for (const row of rows) {
    const held = objects.get(row.name) ?? { owner: row.owner, acl: [] };
    held.acl.push(entryOf(row));
    objects.set(row.name, held);
  }
  return objects;
}

async function readDatabaseAcls(client: ClientBase, roleOid: number): Promise<Map<string, HeldObject>> {
  const dbRows = await client.query<AclRow & { name: string; owner: string }>(
    `select d.datname as name, pg_catalog.pg_get_userbyid(d.datdba) as owner, a.privilege_type,
            pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from pg_catalog.pg_database d cross join lateral pg_catalog.aclexplode(d.datacl) a where a.grantee = $1`,
    [roleOid],
  );
  return byObject(dbRows.rows);
}

async function readSchemaAcls(client: ClientBase, roleOid: number): Promise<Map<string, HeldObject>> {
  const nsRows = await client.query<AclRow & { name: string; owner: string }>(
    `select n.nspname as name, pg_catalog.pg_get_userbyid(n.nspowner) as owner, a.privilege_type,
            pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from pg_catalog.pg_namespace n cross join lateral pg_catalog.aclexplode(n.nspacl) a where a.grantee = $1`,
    [roleOid],
  );
  return byObject(nsRows.rows);
}

async function readRelationAcls(client: ClientBase, params: AclParams): Promise<Map<string, HeldRelation>> {
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
  return relations;
}

async function readRoutineAcls(client: ClientBase, params: AclParams): Promise<Map<string, HeldRoutine>> {
  const routines = new Map<string, HeldRoutine>();
  const { rows } = await client.query<AclRow & RoutineInfo>(
    `select ${ROUTINE_COLUMNS}, a.privilege_type, pg_catalog.pg_get_userbyid(a.grantor) as grantor, a.is_grantable
       from (select distinct objid from (${SHDEPEND_ACL}) s where classid = 'pg_catalog.pg_proc'::regclass) d
       join pg_catalog.pg_proc p on p.oid = d.objid
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       cross join lateral pg_catalog.aclexplode(p.proacl) a
      where a.grantee = $1`,
    params,
  );
  for (const row of rows) {
    const key = routineKey(row.oid);
    const held = routines.get(key) ?? { oid: row.oid, schema: row.schema, name: row.name, args: row.args, signature: row.signature, owner: row.owner, acl: [] };
    held.acl.push(entryOf(row));
    routines.set(key, held);
  }
  return routines;
}

async function readColumnAcls(client: ClientBase, params: AclParams): Promise<HeldColumn[]> {
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
  return colRows.rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    column: row.column,
    owner: row.owner,
    entry: entryOf(row),
  }));
}

async function readDefaultAcls(client: ClientBase, roleOid: number): Promise<Map<string, HeldDefault>> {
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
  return defaults;
}

async function readMemberships(client: ClientBase, roleOid: number): Promise<Array<{ role: string; grantor: string }>> {
  const memberRows = await client.query<{ role: string; grantor: string }>(
    `select pg_catalog.pg_get_userbyid(m.roleid) as role, pg_catalog.pg_get_userbyid(m.grantor) as grantor
       from pg_catalog.pg_auth_members m where m.member = $1 order by 1`,
    [roleOid],
  );
  return memberRows.rows;
}

async function readOtherDatabases(client: ClientBase, params: AclParams): Promise<string[]> {
  const elsewhere = await client.query<{ datname: string }>(
    `select distinct d.datname from pg_catalog.pg_shdepend s join pg_catalog.pg_database d on d.oid = s.dbid
      where s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = $1 and s.dbid not in (0, $2)
      order by 1`,
    params,
  );
  return elsewhere.rows.map((r) => r.datname);
}

/**
 * Everything else the role appears in: types, tablespaces, parameters, and any
 * object it owns. Not part of the model: reported, and removed by DROP OWNED.
 */
async function readOtherObjects(client: ClientBase, params: AclParams): Promise<string[]> {
  const others = await client.query<{ object: string; deptype: string }>(
    `select pg_catalog.pg_describe_object(classid, objid, objsubid) as object, deptype::text as deptype
       from pg_catalog.pg_shdepend
      where refclassid = 'pg_catalog.pg_authid'::regclass and refobjid = $1 and dbid in (0, $2)
        and not (deptype = 'a' and classid in ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_namespace'::regclass, 'pg_catalog.pg_proc'::regclass,
                                               'pg_catalog.pg_database'::regclass, 'pg_catalog.pg_default_acl'::regclass))
      order by 1`,
    params,
  );
  return others.rows.map((r) => (r.deptype === 'o' ? `owns ${r.object}` : `privileges on ${r.object}`));
}
