/**
 * Stage 2, what a permission set means on this database right now: CONNECT, schema USAGE,
 * table privileges, sequence USAGE for INSERT/UPDATE, the `sequences` privileges, EXECUTE on
 * the `functions`, and for `*` (in `tables`, `sequences.names` or `functions`) the default
 * privileges of the roles that create objects there.
 */
import type { ClientBase } from 'pg';
import { ident, qualified } from '../../pg/sql';
import type { Permissions, TablePrivilege, ValidationIssue } from '../../types';
import { actableRoles, type Server } from './server';
import {
  ROUTINE_COLUMNS,
  defaultKey,
  defaultPrivilegeRoles,
  readSchemas,
  relationKey,
  routineKey,
  type RelationInfo,
  type RelationKind,
  type RoutineInfo,
  type SchemaInfo,
} from './objects';

/** Privileges that make PostgreSQL call nextval() on a serial column's sequence. */
const NEEDS_SEQUENCE: readonly TablePrivilege[] = ['INSERT', 'UPDATE'];

/** A relation and exactly the privileges the role should hold on it. */
export interface WantedRelation extends RelationInfo {
  readonly privileges: ReadonlySet<string>;
}

/** A default-privilege entry the role should have: objects `owner` creates in `schema`. */
export interface WantedDefault {
  readonly owner: string;
  readonly schema: string;
  readonly objtype: 'r' | 'S' | 'f';
  readonly privileges: ReadonlySet<string>;
}

/** The state a permission set calls for on this database. */
export interface Wanted {
  /** The database that gets CONNECT; null: none (revoking everything). */
  readonly database: string | null;
  /** Schemas that get USAGE. */
  readonly schemas: ReadonlyMap<string, SchemaInfo>;
  readonly relations: ReadonlyMap<string, WantedRelation>;
  /** Routines that get EXECUTE, keyed by `routineKey`. */
  readonly functions: ReadonlyMap<string, RoutineInfo>;
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

/** Default privileges `*` calls for: on tables (from `tables`) and sequences (from both lists). */
interface DefaultGrants {
  readonly tables: ReadonlySet<string>;
  readonly sequences: ReadonlySet<string>;
  readonly functions: ReadonlySet<string>;
}

/** A `tables` or `sequences.names` entry other than `*`, with its position (for the issue's field). */
interface NamedEntry {
  readonly entry: string;
  readonly index: number;
  readonly ref: TableRef;
}

/**
 * What `permissions` call for on this database. Missing schemas and tables are returned
 * as issues (the caller decides whether that is an error, as in sync, or drift, as in read).
 */
export async function planWanted(client: ClientBase, server: Server, permissions: Permissions): Promise<Wanted> {
  const issues: ValidationIssue[] = [];
  if (permissions.database !== undefined && permissions.database !== server.database) {
    issues.push({
      field: 'permissions',
      message:
        `the permissions are written for database ${ident(permissions.database)}, but the endpoint's resource connects to database ${ident(server.database)}; ` +
        `name ${ident(server.database)} in database:, or apply the authorization through a resource whose database_name is ${ident(permissions.database)}`,
    });
  }
  const grants = new Set<string>(permissions.grants);
  const sequencePrivileges = new Set<string>(NEEDS_SEQUENCE.some((p) => grants.has(p)) ? ['USAGE'] : []);
  const explicitSequences = new Set<string>(permissions.sequences?.privileges ?? []);
  const sequenceNames = permissions.sequences?.names ?? [];
  const star = permissions.tables.includes('*');
  const sequenceStar = sequenceNames.includes('*');
  const functionStar = (permissions.functions ?? []).includes('*');
  const named = namedEntries(permissions.tables);
  const namedSequences = namedEntries(sequenceNames);

  const namedFunctions = namedEntries((permissions.functions ?? []).map((f) => parseRoutineRef(f).qualifiedName));
  const schemaInfo = await readWantedSchemas(client, server, permissions, [...named, ...namedSequences, ...namedFunctions], issues);
  const listed = permissions.schemas.filter((s) => schemaInfo.has(s));
  const inSchemas = await readRelations(client, [...schemaInfo.keys()]);
  const lookup: Lookup = { listed, schemaInfo, byName: new Map(inSchemas.map((r) => [relationKey(r.schema, r.name), r])) };

  const relations = new Map<string, WantedRelation>();
  // A sequence can be wanted twice (owned by a named table, and named in `sequences`): the union.
  const want = (info: RelationInfo, privileges: ReadonlySet<string>): void => {
    if (privileges.size === 0) return;
    const key = relationKey(info.schema, info.name);
    const before = relations.get(key)?.privileges ?? new Set<string>();
    relations.set(key, { ...info, privileges: new Set([...before, ...privileges]) });
  };
  if (star) {
    for (const info of inSchemas) {
      if (!listed.includes(info.schema)) continue;
      want(info, info.kind === 'table' ? grants : sequencePrivileges);
    }
  }
  if (sequenceStar) {
    for (const info of inSchemas) if (info.kind === 'sequence' && listed.includes(info.schema)) want(info, explicitSequences);
  }
  if (star && permissions.schemas.length === 0) {
    issues.push({
      field: `permissions.tables[${permissions.tables.indexOf('*')}]`,
      message: '"*" means every table of the listed schemas, and no schema is listed',
    });
  }
  if (sequenceStar && permissions.schemas.length === 0) {
    issues.push({
      field: `permissions.sequences.names[${sequenceNames.indexOf('*')}]`,
      message: '"*" means every sequence of the listed schemas, and no schema is listed',
    });
  }
  const namedTables = resolveNamed(server, named, lookup, issues, TABLE_KIND);
  for (const info of namedTables) want(info, grants);
  if (sequencePrivileges.size > 0) {
    for (const seq of await readOwnedSequences(client, namedTables.map((t) => t.oid))) want(seq, sequencePrivileges);
  }
  const namedSeqs = resolveNamed(server, namedSequences, lookup, issues, SEQUENCE_KIND);
  for (const info of namedSeqs) want(info, explicitSequences);

  const defaultGrants: DefaultGrants = {
    tables: star ? grants : new Set(),
    sequences: new Set([...(star ? sequencePrivileges : []), ...(sequenceStar ? explicitSequences : [])]),
    functions: new Set(functionStar ? ['EXECUTE'] : []),
  };
  const functions = await planFunctions(client, server, permissions.functions ?? [], listed, schemaInfo, issues);
  const { defaults, unmanagedDefaults, notes } =
    defaultGrants.tables.size > 0 || defaultGrants.sequences.size > 0 || defaultGrants.functions.size > 0
      ? await planDefaults(client, server, listed.map((s) => schemaInfo.get(s)!), defaultGrants)
      : { defaults: new Map<string, WantedDefault>(), unmanagedDefaults: new Map<string, WantedDefault>(), notes: [] };

  // USAGE on the listed schemas, and on the schema of every table or sequence named `schema.name`.
  const schemas = new Map<string, SchemaInfo>();
  for (const name of [...listed, ...namedTables.map((t) => t.schema), ...namedSeqs.map((t) => t.schema), ...[...functions.values()].map((f) => f.schema)]) {
    const info = schemaInfo.get(name);
    if (info) schemas.set(name, info);
  }
  return { database: server.database, schemas, relations, functions, defaults, unmanagedDefaults, issues, notes };
}

/** A `functions` entry: the (possibly qualified) name, and the argument types if written. */
export interface RoutineRef {
  readonly qualifiedName: string;
  /** The text between the parentheses; null: every overload. */
  readonly args: string | null;
}

/** Splits `name(args)` at its first parenthesis (validation has made sure the rest is sane). */
export function parseRoutineRef(entry: string): RoutineRef {
  const open = entry.indexOf('(');
  if (open < 0 || !entry.endsWith(')')) return { qualifiedName: entry, args: null };
  return { qualifiedName: entry.slice(0, open), args: entry.slice(open + 1, -1) };
}

/**
 * The routines `functions` calls for: `*` every routine of the listed schemas; a name every
 * overload of it (in its schema, or in each listed schema); `name(args)` the one overload,
 * looked up with to_regprocedure (the text is a bind parameter, never SQL). A name that
 * finds nothing is an issue.
 */
async function planFunctions(
  client: ClientBase,
  server: Server,
  entries: readonly string[],
  listed: readonly string[],
  schemaInfo: ReadonlyMap<string, SchemaInfo>,
  issues: ValidationIssue[],
): Promise<Map<string, RoutineInfo>> {
  const found = new Map<string, RoutineInfo>();
  const add = (rows: readonly RoutineInfo[]): void => {
    for (const r of rows) found.set(routineKey(r.oid), r);
  };
  const from = `from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace`;
  for (const [index, entry] of entries.entries()) {
    if (entry === '*') {
      add((await client.query<RoutineInfo>(`select ${ROUTINE_COLUMNS} ${from} where n.nspname = any($1::text[])`, [listed])).rows);
      continue;
    }
    const { qualifiedName, args } = parseRoutineRef(entry);
    const ref = parseTableRef(qualifiedName);
    const schemas = ref.schema !== null ? [ref.schema] : listed;
    let rows: RoutineInfo[] = [];
    for (const schema of schemas.filter((s) => schemaInfo.has(s))) {
      if (args === null) {
        rows.push(...(await client.query<RoutineInfo>(`select ${ROUTINE_COLUMNS} ${from} where n.nspname = $1 and p.proname = $2`, [schema, ref.name])).rows);
      } else {
        rows.push(...(await lookupOverload(client, `${qualified(schema, ref.name)}(${args})`, from)));
      }
    }
    rows = rows.filter((r) => r.oid !== null);
    if (rows.length === 0) {
      issues.push({
        field: `permissions.functions[${index}]`,
        message:
          schemas.length === 0
            ? `function ${ident(entry)} is not schema-qualified and no existing schema is listed`
            : `function ${ident(entry)} does not exist in schema ${schemas.map(ident).join(', ')} of database ${ident(server.database)}`,
      });
    }
    add(rows);
  }
  return found;
}

/** The one overload a signature names, or none (an unknown argument type also finds none). */
async function lookupOverload(client: ClientBase, signature: string, from: string): Promise<RoutineInfo[]> {
  await client.query('SAVEPOINT adaptive_lookup');
  try {
    const { rows } = await client.query<RoutineInfo>(`select ${ROUTINE_COLUMNS} ${from} where p.oid = pg_catalog.to_regprocedure($1)`, [signature]);
    await client.query('RELEASE SAVEPOINT adaptive_lookup');
    return rows;
  } catch {
    // PostgreSQL before 16 raises on a malformed type name instead of returning null.
    await client.query('ROLLBACK TO SAVEPOINT adaptive_lookup');
    return [];
  }
}

/** The entries of a `tables` or `sequences.names` list other than `*`. */
function namedEntries(entries: readonly string[]): NamedEntry[] {
  return entries.map((entry, index) => ({ entry, index, ref: parseTableRef(entry) })).filter(({ entry }) => entry !== '*');
}

/**
 * The schemas the permissions name (listed, or qualifying a table) that exist; a listed
 * schema that does not exist is an issue.
 */
async function readWantedSchemas(
  client: ClientBase,
  server: Server,
  permissions: Permissions,
  named: readonly NamedEntry[],
  issues: ValidationIssue[],
): Promise<Map<string, SchemaInfo>> {
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
  return schemaInfo;
}

/** Where named tables are looked up: the listed schemas that exist, and their relations. */
interface Lookup {
  readonly listed: readonly string[];
  readonly schemaInfo: ReadonlyMap<string, SchemaInfo>;
  /** Keyed by `relationKey`. */
  readonly byName: ReadonlyMap<string, RelationInfo>;
}

/** What is being named: the relation kind, the word for it, and the list it is named in. */
interface NamedKind {
  readonly kind: RelationKind;
  readonly word: string;
  readonly field: string;
}

const TABLE_KIND: NamedKind = { kind: 'table', word: 'table', field: 'permissions.tables' };
const SEQUENCE_KIND: NamedKind = { kind: 'sequence', word: 'sequence', field: 'permissions.sequences.names' };

/** The relations the named entries stand for; an entry that finds none is an issue. */
function resolveNamed(server: Server, named: readonly NamedEntry[], lookup: Lookup, issues: ValidationIssue[], what: NamedKind): RelationInfo[] {
  const { listed, schemaInfo, byName } = lookup;
  const { kind, word } = what;
  const unqualified = (name: string): RelationInfo[] =>
    listed.map((s) => byName.get(relationKey(s, name))).filter((r): r is RelationInfo => r?.kind === kind);

  const found: RelationInfo[] = [];
  for (const { entry, index, ref } of named) {
    const field = `${what.field}[${index}]`;
    if (ref.schema !== null) {
      const info = byName.get(relationKey(ref.schema, ref.name));
      if (info?.kind === kind) {
        found.push(info);
        continue;
      }
      // A relation whose own name contains a dot, in a listed schema, is found as written too.
      const literally = unqualified(entry);
      if (literally.length > 0) {
        found.push(...literally);
        continue;
      }
      issues.push({
        field,
        message: schemaInfo.has(ref.schema)
          ? `${word} ${qualified(ref.schema, ref.name)} does not exist in database ${ident(server.database)}`
          : `schema ${ident(ref.schema)} of ${word} ${ident(entry)} does not exist in database ${ident(server.database)}`,
      });
    } else {
      // An unqualified name means that relation in every listed schema that has one.
      const matches = unqualified(ref.name);
      if (matches.length === 0) {
        issues.push({
          field,
          message:
            listed.length > 0
              ? `${word} ${ident(ref.name)} does not exist in schema ${listed.map(ident).join(', ')} of database ${ident(server.database)}`
              : `${word} ${ident(ref.name)} is not schema-qualified and no existing schema is listed`,
        });
        continue;
      }
      found.push(...matches);
    }
  }
  return found;
}

/**
 * The default privileges `*` calls for in the listed schemas: exact for the roles the
 * admin can act as, and for the others only checked when present (with a note saying why
 * they are not set).
 */
async function planDefaults(
  client: ClientBase,
  server: Server,
  listed: readonly SchemaInfo[],
  grants: DefaultGrants,
): Promise<Pick<Wanted, 'defaults' | 'unmanagedDefaults' | 'notes'>> {
  const notes: string[] = [];
  const defaults = new Map<string, WantedDefault>();
  const unmanagedDefaults = new Map<string, WantedDefault>();
  const candidates = listed.flatMap((s) => defaultPrivilegeRoles(server, s).map((owner) => ({ owner, schema: s.name })));
  const actable = await actableRoles(client, server, candidates.map((c) => c.owner));
  const objects = grants.tables.size > 0 ? 'tables' : grants.sequences.size > 0 ? 'sequences' : 'functions';
  for (const { owner, schema } of candidates) {
    const target = actable.has(owner) ? defaults : unmanagedDefaults;
    if (grants.tables.size > 0) {
      target.set(defaultKey(owner, schema, 'r'), { owner, schema, objtype: 'r', privileges: grants.tables });
    }
    if (grants.sequences.size > 0) {
      target.set(defaultKey(owner, schema, 'S'), { owner, schema, objtype: 'S', privileges: grants.sequences });
    }
    if (grants.functions.size > 0) {
      target.set(defaultKey(owner, schema, 'f'), { owner, schema, objtype: 'f', privileges: grants.functions });
    }
    if (!actable.has(owner)) {
      notes.push(
        `default privileges for ${objects} that ${ident(owner)} creates later in schema ${ident(schema)} are not set: ` +
          `the admin role ${ident(server.admin)} may only set them for roles whose privileges it has ` +
          `(grant it membership in ${ident(owner)}${server.serverVersion >= 160000 ? ' WITH INHERIT TRUE' : ''}); ` +
          `until then, ${objects} it creates are covered only by the next apply`,
      );
    }
  }
  return { defaults, unmanagedDefaults, notes };
}

/** Nothing at all: what a role being dropped should hold. */
export const NOTHING_WANTED: Wanted = {
  database: null,
  schemas: new Map(),
  relations: new Map(),
  functions: new Map(),
  defaults: new Map(),
  unmanagedDefaults: new Map(),
  issues: [],
  notes: [],
};
