/**
 * How this product recognises what it made: the marker role `adaptive_managed`, of which
 * every issued login role is a member, and the JSON comment every issued login role
 * carries. Revocation and the reaper act only on roles that have both (and that the catalog
 * recorded as issued); so a marker role someone else created, with members or privileges
 * of its own, must never be taken for ours: `verifyManagedRole` refuses it.
 */
import type { ClientBase } from 'pg';
import { MANAGED_ROLE } from '../pg/roles';
import { ident, literal } from '../pg/sql';

/** `managed_by` in role comments. */
export const MANAGED_BY = 'adaptive-access';

/** The JSON kept in `COMMENT ON ROLE` of every issued login role. */
export interface CredentialMetadata {
  readonly managed_by: string;
  readonly kind?: string;
  readonly member?: string;
  readonly endpoint?: string;
  readonly access_role?: string;
  readonly group?: string | null;
  readonly comment?: string | null;
  readonly granted_at?: string;
  readonly expires_at?: string;
  readonly extended_at?: string;
  readonly revoked_at?: string;
  readonly revoke_reason?: string;
  readonly [key: string]: unknown;
}

/** Parses a role comment; null unless it is a JSON object written by us. */
export function parseMetadata(comment: string | null | undefined): CredentialMetadata | null {
  if (!comment) return null;
  try {
    const value: unknown = JSON.parse(comment);
    if (value && typeof value === 'object' && !Array.isArray(value) && (value as { managed_by?: unknown }).managed_by === MANAGED_BY) {
      return value as CredentialMetadata;
    }
  } catch {
    // Not JSON: a comment written by hand.
  }
  return null;
}

/** The comment the marker role is created with (`createManagedRoleSql`). */
export const MARKER_COMMENT = `${MANAGED_BY}: every login role it issues is a member of this role`;

/**
 * The one way the marker role is made: NOLOGIN, with our comment. Two statements, for a
 * caller that has checked the role is absent (access-role.ts `ensureManagedRole`) or for
 * the body of `ensureManagedRoleSql`.
 */
export function createManagedRoleSql(): string {
  return `CREATE ROLE ${ident(MANAGED_ROLE)} NOLOGIN; COMMENT ON ROLE ${ident(MANAGED_ROLE)} IS ${literal(MARKER_COMMENT)}`;
}

/**
 * A DO block creating the marker role when missing, for a transaction that needs it to
 * exist (issuing credentials). Tolerant of a concurrent creator (duplicate_object when it
 * committed first, unique_violation when it commits while we insert), since the
 * access-role code may create it too.
 */
export function ensureManagedRoleSql(): string {
  return (
    `DO $adaptive$ BEGIN ` +
    `IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal(MANAGED_ROLE)}) THEN ` +
    `${createManagedRoleSql()}; END IF; ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $adaptive$`
  );
}

interface MarkerRow {
  can_login: boolean;
  attributes: string[];
  comment: string | null;
  member_of: string[];
  strangers: string[];
  privileged_in: string[];
}

/** Most names listed in a refusal. */
const LISTED = 5;

/**
 * Checks that the existing marker role is the one this product made: NOLOGIN, no
 * attributes, a member of nothing, no privileges and no owned objects in any database,
 * our comment (or none: older versions created it without one), and as members only
 * roles carrying our credential comment (whether they can log in or not: revocation
 * disables a role before it drops it, and a failed drop leaves it disabled for the reaper)
 * and admins holding ADMIN OPTION on it
 * (the admin's own membership from CREATE ROLE on 16+, or one granted as preflight
 * advises). Throws, naming every problem, otherwise; does nothing when the role is absent.
 * Comments of members are matched by prefix in SQL (our JSON always starts with
 * `managed_by`), so the check costs one query however many members there are.
 */
export async function verifyManagedRole(client: ClientBase): Promise<void> {
  const { rows } = await client.query<MarkerRow>(
    `select r.rolcanlogin as can_login,
            array_remove(array[case when r.rolsuper then 'SUPERUSER' end, case when r.rolcreaterole then 'CREATEROLE' end,
                                case when r.rolcreatedb then 'CREATEDB' end, case when r.rolreplication then 'REPLICATION' end,
                                case when r.rolbypassrls then 'BYPASSRLS' end], null) as attributes,
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment,
            array(select g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                   where m.member = r.oid order by 1) as member_of,
            array(select distinct u.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles u on u.oid = m.member
                   where m.roleid = r.oid and not m.admin_option
                     and coalesce(pg_catalog.shobj_description(u.oid, 'pg_authid'), '') not like $2
                   order by 1 limit ${LISTED + 1}) as strangers,
            array(select distinct coalesce(d.datname::text, '(cluster-wide objects)') from pg_catalog.pg_shdepend s
                    left join pg_catalog.pg_database d on d.oid = s.dbid
                   where s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass and s.refobjid = r.oid
                     and s.deptype in ('o', 'a', 'r', 'i')
                   order by 1) as privileged_in
       from pg_catalog.pg_roles r
      where r.rolname = $1`,
    [MANAGED_ROLE, `{"managed_by":${JSON.stringify(MANAGED_BY)}%`],
  );
  const row = rows[0];
  if (!row) return;
  const problems: string[] = [];
  if (row.can_login) problems.push('it can log in (LOGIN)');
  if (row.attributes.length > 0) problems.push(`it has the attribute(s) ${row.attributes.join(', ')}`);
  if (row.comment !== null && row.comment !== MARKER_COMMENT) problems.push('its comment is not ours');
  if (row.member_of.length > 0) problems.push(`it holds the privileges of role(s) ${names(row.member_of)} as a member`);
  if (row.strangers.length > 0) problems.push(`it has member(s) adaptive-access did not add: ${names(row.strangers)}`);
  if (row.privileged_in.length > 0) problems.push(`it holds privileges or owns objects in ${names(row.privileged_in)}`);
  if (problems.length === 0) return;
  throw new Error(
    `role ${MANAGED_ROLE} exists but was not created by adaptive-access: ${problems.join('; ')}. ` +
      'Issued credentials are recognised by their membership in it, so it is not trusted. ' +
      `Drop or rename that role (or remove what is listed), then apply again.`,
  );
}

function names(list: readonly string[]): string {
  const shown = list.slice(0, LISTED).map((n) => JSON.stringify(n));
  return list.length > LISTED ? `${shown.join(', ')} and more` : shown.join(', ');
}
