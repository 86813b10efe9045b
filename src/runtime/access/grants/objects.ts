/**
 * Names, keys and lookups the grant stages share: how relations and default-privilege
 * entries are keyed, what a schema and a relation look like here, and which roles `*`
 * sets default privileges for.
 */
import type { ClientBase } from 'pg';
import { TABLE_PRIVILEGES } from '../../types';
import type { Server } from './server';

export const TABLE_PRIVILEGE_SET: ReadonlySet<string> = new Set(TABLE_PRIVILEGES);

/** pg_default_acl.defaclobjtype -> the object class ALTER DEFAULT PRIVILEGES names. */
export const DEFAULT_OBJECT_CLASS: Readonly<Record<string, string>> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
  n: 'SCHEMAS',
  L: 'LARGE OBJECTS',
};

/** Tables, views, materialized views, foreign and partitioned tables are all `table`. */
export type RelationKind = 'table' | 'sequence';

/** A stable map key for a relation. */
export function relationKey(schema: string, name: string): string {
  return JSON.stringify([schema, name]);
}

/** A stable map key for a routine: its oid (overloads share schema and name). */
export function routineKey(oid: number): string {
  return `routine:${oid}`;
}

/** A routine: `signature` is the quoted, schema-qualified name and identity arguments. */
export interface RoutineInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** The identity arguments, as `pg_get_function_identity_arguments` writes them. */
  readonly args: string;
  readonly signature: string;
  readonly owner: string;
}

/**
 * Routine columns for a query over pg_proc p join pg_namespace n. The signature quotes
 * schema and name always, as `qualified` does; the argument types come from the catalog
 * (qualified where the search_path, pg_catalog only, does not reach them).
 */
export const ROUTINE_COLUMNS = `p.oid, n.nspname as schema, p.proname as name, pg_catalog.pg_get_function_identity_arguments(p.oid) as args,
  pg_catalog.pg_get_userbyid(p.proowner) as owner,
  '"' || pg_catalog.replace(n.nspname, '"', '""') || '"."' || pg_catalog.replace(p.proname, '"', '""') || '"('
    || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as signature`;

/** A stable map key for a default-privilege entry. */
export function defaultKey(owner: string, schema: string | null, objtype: string): string {
  return JSON.stringify([owner, schema, objtype]);
}

export function sortedPrivileges(privileges: Iterable<string>): string[] {
  return [...privileges].sort();
}

export interface SchemaInfo {
  readonly name: string;
  /** The owner; for schemas owned by pg_database_owner (public, PG 15+), the database owner. */
  readonly owner: string;
}

export interface RelationInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly kind: RelationKind;
  readonly owner: string;
}

/**
 * Which roles' default privileges to set for `*` in a schema: the admin (tables created
 * through this connection) and the schema's owner (who creates tables there by default:
 * migrations usually run as the owner). Deduplicated.
 */
export function defaultPrivilegeRoles(server: Server, schema: SchemaInfo): string[] {
  return [...new Set([server.admin, schema.owner])];
}

/** Schemas by name, with their effective owner (see `SchemaInfo`). */
export async function readSchemas(client: ClientBase, names: readonly string[]): Promise<Map<string, SchemaInfo>> {
  const { rows } = await client.query<{ name: string; owner: string }>(
    `select n.nspname as name,
            pg_catalog.pg_get_userbyid(case when n.nspowner = 'pg_database_owner'::regrole then d.datdba else n.nspowner end) as owner
       from pg_catalog.pg_namespace n, pg_catalog.pg_database d
      where d.datname = pg_catalog.current_database() and n.nspname = any($1::text[])`,
    [names],
  );
  return new Map(rows.map((r) => [r.name, r]));
}
