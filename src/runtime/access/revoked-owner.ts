/**
 * What becomes of the objects a revoked credential, or a dropped endpoint access role,
 * still owns (`revoked_objects` of the resource):
 *
 * - `reassign` (default): they go to `adaptive_revoked`, a NOLOGIN role with no attributes,
 *   no privileges, no memberships and no member that may use it. Never to the admin: the
 *   admin is often a superuser, and a member's SECURITY DEFINER function that PUBLIC may
 *   execute would then run as the admin for anyone.
 * - `drop`: `DROP OWNED` only; the objects are gone.
 *
 * `adaptive_revoked` ends up owning the objects of many former members, so what would let
 * one former member's object act with the rights of the owner (over everyone else's
 * reassigned objects) is neutralised in the same transaction as the REASSIGN, in each
 * database: SECURITY DEFINER functions and procedures become SECURITY INVOKER, and views
 * get `security_invoker = true`, so both run with their caller's privileges. What remains
 * executing with the owner's rights is limited to maintenance of a reassigned table (index
 * expressions, run by VACUUM/ANALYZE as its owner) and rules on reassigned tables, which act
 * only on other reassigned objects; choose `drop` where even that is too much.
 *
 * The role is created on demand (`ensureRevokedOwnerSql`, below). A role of that
 * name that is not exactly ours is refused with what is wrong; nothing is given to it.
 * REASSIGN OWNED needs the admin to have the privileges of the new owner: a non-superuser
 * admin grants itself the role in the transaction (INHERIT and SET; SET because changing
 * a function's owner checks it on 16+) and takes it back before COMMIT, so the role never
 * keeps a member; likewise the CREATE privileges the new owner needs (see
 * `createPrivilegesNeeded`). Callers hold the privileges of the old owners themselves (revoke.ts,
 * access-role.ts).
 */
import type { ClientBase } from 'pg';
import type { RevokedObjects } from '../types';
import { lockKeys } from '../pg/locks';
import { REVOKED_OWNER_ROLE } from '../pg/roles';
import { ident, identList, literal } from '../pg/sql';
import { ELEVATED_ATTRIBUTES, credentialLockName } from './login-roles';

/** The comment that marks `adaptive_revoked` as ours. */
export const REVOKED_OWNER_COMMENT =
  'adaptive-access: owns the objects of revoked credentials; no login, no privileges, no members. Do not grant it to anyone.';

/**
 * A DO block creating `adaptive_revoked` (NOLOGIN, NOINHERIT, our comment) when missing,
 * tolerant of a concurrent creator like the marker's. An existing role is left as it is:
 * whoever gives it objects checks it first (`ensureRevokedOwner`).
 */
export function ensureRevokedOwnerSql(): string {
  return (
    `DO $adaptive$ BEGIN ` +
    `IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal(REVOKED_OWNER_ROLE)}) THEN ` +
    `CREATE ROLE ${ident(REVOKED_OWNER_ROLE)} NOLOGIN NOINHERIT; ` +
    `COMMENT ON ROLE ${ident(REVOKED_OWNER_ROLE)} IS ${literal(REVOKED_OWNER_COMMENT)}; END IF; ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $adaptive$`
  );
}

/** A role whose owned objects are disposed of. */
export interface ObjectOwner {
  readonly oid: number;
  readonly name: string;
}

interface RevokedOwnerRow {
  version: number;
  admin_superuser: boolean;
  can_login: boolean;
  elevated: string[];
  member_of: string[];
  members: string[];
  comment: string | null;
  admin_own_grant: boolean;
}

/** The role `adaptive_revoked` exists but is not ours: nothing is given to it. */
export class RevokedOwnerNotOursError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `role ${ident(REVOKED_OWNER_ROLE)} exists but is not the privilege-less role adaptive-access hands revoked objects to: ` +
        `${problems.join('; ')}. Refusing to give it anything. Drop or rename that role (or remove what is listed), then retry.`,
    );
    this.name = 'RevokedOwnerNotOursError';
  }
}

/**
 * Creates `adaptive_revoked` when missing and checks it is ours, in the caller's
 * transaction (under its advisory lock, so concurrent revocations in this database do not
 * interleave their temporary grants). Returns what the admin needs to act as it.
 */
export async function ensureRevokedOwner(client: ClientBase): Promise<RevokedOwnerRow> {
  await lockKeys(client, [credentialLockName(REVOKED_OWNER_ROLE)]);
  await client.query(ensureRevokedOwnerSql());
  const { rows: server } = await client.query<{ version: number }>(`select pg_catalog.current_setting('server_version_num')::int as version`);
  const inherits = (server[0]?.version ?? 0) >= 160000 ? 'm.inherit_option or m.set_option' : 'true';
  const { rows } = await client.query<RevokedOwnerRow>(
    `select pg_catalog.current_setting('server_version_num')::int as version,
            (select a.rolsuper from pg_catalog.pg_roles a where a.rolname = current_user) as admin_superuser,
            r.rolcanlogin as can_login,
            array_remove(array[${Object.entries(ELEVATED_ATTRIBUTES)
              .map(([name, column]) => `case when r.${column} then '${name}' end`)
              .join(', ')}], null)::text[] as elevated,
            array(select distinct g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                   where m.member = r.oid order by 1) as member_of,
            array(select distinct g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.member
                   where m.roleid = r.oid and (${inherits}) order by 1) as members,
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment,
            exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles a on a.oid = m.member
                     where m.roleid = r.oid and a.rolname = current_user and m.grantor = a.oid) as admin_own_grant
       from pg_catalog.pg_roles r where r.rolname = $1`,
    [REVOKED_OWNER_ROLE],
  );
  const row = rows[0];
  if (!row) throw new Error(`role ${ident(REVOKED_OWNER_ROLE)} not found right after creating it`);
  const problems: string[] = [];
  if (row.can_login) problems.push('it can log in (LOGIN)');
  if (row.elevated.length > 0) problems.push(`it holds the attribute(s) ${row.elevated.join(', ')}`);
  if (row.member_of.length > 0) problems.push(`it is a member of ${identList(row.member_of)}`);
  // From 16 on, a non-superuser creator holds ADMIN OPTION alone (no INHERIT, no SET): it
  // conveys no privileges and is how a CREATEROLE admin manages the role, so only members
  // that inherit it or may SET ROLE to it count. Before 16 every membership does.
  if (row.members.length > 0) problems.push(`it has member(s) that can use its privileges: ${identList(row.members)}`);
  if (row.comment !== REVOKED_OWNER_COMMENT) problems.push(`its comment is not ours (${row.comment === null ? 'none' : JSON.stringify(row.comment)})`);
  if (problems.length > 0) throw new RevokedOwnerNotOursError(problems);
  return row;
}

/**
 * Statements, for the caller's transaction in the connected database, that dispose of what
 * `owners` own here: `DROP OWNED`, or (reassign) neutralise their SECURITY DEFINER functions
 * and views, REASSIGN OWNED to `adaptive_revoked`, then DROP OWNED (their privileges and
 * default privileges). The caller must already have the privileges of `owners`.
 */
export async function disposeOwnedStatements(client: ClientBase, owners: readonly ObjectOwner[], mode: RevokedObjects): Promise<string[]> {
  if (owners.length === 0) return [];
  const list = identList(owners.map((o) => o.name));
  if (mode === 'drop') return [`DROP OWNED BY ${list}`];

  const oids = owners.map((o) => o.oid);
  // Roles that only hold privileges here (the usual case) have nothing to hand over.
  const { rows: owning } = await client.query<{ owns: boolean }>(
    `select exists (select from pg_catalog.pg_shdepend s
                     where s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = any($1::oid[]) and s.deptype = 'o'
                       and s.dbid in (0, (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))) as owns`,
    [oids],
  );
  if (!owning[0]?.owns) return [`DROP OWNED BY ${list}`];

  const inheritor = await ensureRevokedOwner(client);
  const { rows } = await client.query<{ statement: string }>(
    `select pg_catalog.format('ALTER %s %s SECURITY INVOKER', case p.prokind when 'p' then 'PROCEDURE' else 'FUNCTION' end, p.oid::regprocedure) as statement
       from pg_catalog.pg_proc p where p.proowner = any($1::oid[]) and p.prosecdef
     union all
     select pg_catalog.format('ALTER VIEW %I.%I SET (security_invoker = true)', n.nspname, c.relname)
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relowner = any($1::oid[]) and c.relkind = 'v' and $2::int >= 150000`,
    [oids, inheritor.version],
  );
  const statements = rows.map((r) => r.statement);
  const target = ident(REVOKED_OWNER_ROLE);
  statements.push(`REASSIGN OWNED BY ${list} TO ${target}`, `DROP OWNED BY ${list}`);
  if (inheritor.admin_superuser) return statements;
  // Before 16 the admin is no member (the check refused any); from 16 on, an own grant can
  // only be one without INHERIT and SET (the check refused others), put back as it was.
  const modern = inheritor.version >= 160000;
  const creates = await createPrivilegesNeeded(client, oids);
  return [
    `GRANT ${target} TO CURRENT_USER${modern ? ' WITH INHERIT TRUE, SET TRUE' : ''}`,
    ...creates.map((on) => `GRANT CREATE ON ${on} TO ${target}`),
    ...statements,
    ...creates.map((on) => `REVOKE CREATE ON ${on} FROM ${target}`),
    modern && inheritor.admin_own_grant ? `GRANT ${target} TO CURRENT_USER WITH INHERIT FALSE, SET FALSE` : `REVOKE ${target} FROM CURRENT_USER`,
  ];
}

/**
 * For a non-superuser admin, REASSIGN OWNED checks (as ALTER ... OWNER does) that the new
 * owner may create what it receives: CREATE on the schema of each function, type, operator
 * and the like (tables and sequences are exempt), and on the database for a schema. The
 * privilege-less owner has none, so it is given CREATE on exactly those, and only inside
 * the transaction (taken back before COMMIT). An admin that may not grant it there (not the
 * owner, no grant option) gets PostgreSQL's "permission denied", and the role stays
 * disabled for a retry; "drop" needs no such grant.
 */
async function createPrivilegesNeeded(client: ClientBase, oids: readonly number[]): Promise<string[]> {
  const namespaced = [
    ['pg_proc', 'pronamespace', 'proowner', ''],
    // Types of tables and array types follow their table or element type.
    ['pg_type', 'typnamespace', 'typowner', ' and typrelid = 0 and typcategory <> \'A\''],
    ['pg_operator', 'oprnamespace', 'oprowner', ''],
    ['pg_collation', 'collnamespace', 'collowner', ''],
    ['pg_conversion', 'connamespace', 'conowner', ''],
    ['pg_opclass', 'opcnamespace', 'opcowner', ''],
    ['pg_opfamily', 'opfnamespace', 'opfowner', ''],
    ['pg_statistic_ext', 'stxnamespace', 'stxowner', ''],
    ['pg_ts_config', 'cfgnamespace', 'cfgowner', ''],
    ['pg_ts_dict', 'dictnamespace', 'dictowner', ''],
  ] as const;
  const { rows } = await client.query<{ target: string }>(
    `select pg_catalog.format('SCHEMA %I', n.nspname) as target
       from pg_catalog.pg_namespace n
      where n.oid in (${namespaced.map(([table, ns, owner, only]) => `select ${ns} from pg_catalog.${table} where ${owner} = any($1::oid[])${only}`).join(' union ')})
        and not pg_catalog.has_schema_privilege($2, n.oid, 'CREATE')
     union all
     select pg_catalog.format('DATABASE %I', pg_catalog.current_database())
      where exists (select from pg_catalog.pg_namespace n where n.nspowner = any($1::oid[]))
        and not pg_catalog.has_database_privilege($2, pg_catalog.current_database(), 'CREATE')`,
    [oids, REVOKED_OWNER_ROLE],
  );
  return rows.map((r) => r.target);
}
