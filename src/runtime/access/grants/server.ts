/**
 * Who the admin is, where it is connected, and what it may act as: the facts every grant
 * stage starts from, read once per database.
 */
import type { ClientBase } from 'pg';

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

/** Role attributes an access role must not have (pg_roles column, keyword). */
export const ELEVATED_ATTRIBUTES = [
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
