/**
 * Preflight: can the configured admin do the job on this target? Checked when a resource
 * is created or updated, so that a missing privilege is reported with the SQL that grants
 * it, not discovered halfway through an apply or a revocation.
 *
 * The admin needs, unless it is a superuser:
 * - CREATEROLE, to create the access roles and the per-person LOGIN roles, and to drop
 *   them again. On PostgreSQL 16 and later a CREATEROLE non-superuser manages only roles
 *   it holds ADMIN OPTION on; it receives that automatically on the roles it creates, so
 *   only roles that already exist and were created by someone else need a grant: those
 *   passed as `manageRoles`, and the credentials already issued (members of
 *   `adaptive_managed`), which it could otherwise neither revoke nor reap, and
 *   `adaptive_revoked` (which receives what revoked credentials owned: the admin grants
 *   itself that role for the moment of the handover, which needs ADMIN OPTION; the fix
 *   grants it without INHERIT and SET, since a member that could use the role is refused);
 * - the privileges of pg_signal_backend, to end the open sessions of revoked and expired
 *   credentials (the roles it creates are not its members, or from 16 on members without
 *   INHERIT, so that is the only way short of superuser);
 * - before PostgreSQL 16, INHERIT: to reassign the objects a credential created, the
 *   admin grants itself that role for the duration of the transaction, and before 16 such
 *   a membership confers privileges only to a role that inherits (from 16 on the grant
 *   itself says INHERIT TRUE);
 * - CONNECT on the database.
 */
import { MANAGED_ROLE, REVOKED_OWNER_ROLE } from '../pg/roles';
import { ident, identList } from '../pg/sql';
import type { TargetDb } from '../types';

/** One missing privilege and the SQL (run as a superuser) that grants it. */
export interface MissingPrivilege {
  readonly what: string;
  readonly fix: string;
}

/** What preflight found: the server, the admin's privileges, and what is missing. */
export interface PreflightReport {
  /** The role the checks apply to (current_user of the admin connection). */
  readonly user: string;
  readonly database: string;
  /** e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  readonly serverVersion: string;
  /** e.g. 150018. */
  readonly serverVersionNum: number;
  readonly major: number;
  readonly superuser: boolean;
  readonly createRole: boolean;
  readonly canSignalBackends: boolean;
  readonly canConnect: boolean;
  /** Empty when the admin can do everything. */
  readonly missing: readonly MissingPrivilege[];
}

/** Extra checks for preflight. */
export interface PreflightOptions {
  /**
   * Existing roles the admin must be able to grant and alter (e.g. a shared marker role
   * someone else created). Checked for ADMIN OPTION on PostgreSQL 16 and later.
   */
  readonly manageRoles?: readonly string[];
}

/** Reads the server version and the admin's privileges, and lists what is missing. */
export async function preflight(target: TargetDb, options: PreflightOptions = {}): Promise<PreflightReport> {
  const row = await readAdmin(target);
  const num = Number(row.num);
  const major = Math.floor(num / 10000);
  const missing: MissingPrivilege[] = attributeGaps(row, major);
  if (!row.superuser && major >= 16) {
    // The owner of revoked credentials' objects, when it exists, like any role it must manage.
    const manage = [...new Set([...(options.manageRoles ?? []), REVOKED_OWNER_ROLE])];
    missing.push(...(await managedRoleGaps(target, row.user, major, manage)));
    missing.push(...(await issuedCredentialGaps(target, row.user, major)));
  }
  return {
    user: row.user,
    database: row.database,
    serverVersion: row.version,
    serverVersionNum: num,
    major,
    superuser: row.superuser,
    createRole: row.createrole,
    canSignalBackends: row.superuser || row.signal,
    canConnect: row.connect,
    missing,
  };
}

/** The admin connection's role, database and server, as one query reads them. */
interface AdminRow {
  user: string;
  database: string;
  version: string;
  num: string;
  superuser: boolean;
  createrole: boolean;
  inherit: boolean;
  signal: boolean;
  connect: boolean;
}

async function readAdmin(target: TargetDb): Promise<AdminRow> {
  const { rows } = await target.pool.query<AdminRow>(
    `select current_user as "user", pg_catalog.current_database() as database,
            pg_catalog.current_setting('server_version') as version, pg_catalog.current_setting('server_version_num') as num,
            r.rolsuper as superuser, r.rolcreaterole as createrole, r.rolinherit as inherit,
            pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'USAGE') as signal,
            pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CONNECT') as connect
       from pg_catalog.pg_roles r
      where r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error(`Target "${target.name}": the admin role is not in pg_roles (current_user is not a role?)`);
  return row;
}

/** What the admin's own attributes and its CONNECT privilege lack. */
function attributeGaps(row: AdminRow, major: number): MissingPrivilege[] {
  const admin = ident(row.user);
  const missing: MissingPrivilege[] = [];
  if (!row.superuser && !row.createrole) {
    missing.push({
      what: `role "${row.user}" cannot create roles (needs CREATEROLE, or superuser)`,
      fix: `ALTER ROLE ${admin} CREATEROLE;`,
    });
  }
  if (!row.superuser && !row.signal) {
    missing.push({
      what: `role "${row.user}" cannot end the sessions of expired credentials (needs the privileges of pg_signal_backend, or superuser)`,
      fix: `GRANT pg_signal_backend TO ${admin};`,
    });
  }
  if (!row.superuser && major < 16 && !row.inherit) {
    missing.push({
      what:
        `role "${row.user}" is NOINHERIT: before PostgreSQL 16 it cannot take on the privileges of a credential it revokes, ` +
        'which reassigning the objects that credential created requires',
      fix: `ALTER ROLE ${admin} INHERIT;`,
    });
  }
  if (!row.connect) {
    missing.push({
      what: `role "${row.user}" has no CONNECT privilege on database "${row.database}"`,
      fix: `GRANT CONNECT ON DATABASE ${ident(row.database)} TO ${admin};`,
    });
  }
  return missing;
}

/**
 * Existing roles the admin must manage, on PostgreSQL 16 and later (which lets a
 * CREATEROLE role manage only roles it administers): ADMIN OPTION on each, and none a superuser.
 */
async function managedRoleGaps(target: TargetDb, user: string, major: number, manage: readonly string[]): Promise<MissingPrivilege[]> {
  if (manage.length === 0) return [];
  const { rows: roles } = await target.pool.query<{ name: string; admin: boolean; superuser: boolean }>(
    `select r.rolname as name, r.rolsuper as superuser,
            pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') as admin
       from pg_catalog.pg_roles r
      where r.rolname = any($1::text[])
      order by r.rolname`,
    [manage],
  );
  const missing: MissingPrivilege[] = [];
  for (const role of roles) {
    if (role.superuser) {
      missing.push({
        what: `role "${role.name}" is a superuser: only a superuser can manage it`,
        fix: `ALTER ROLE ${ident(role.name)} NOSUPERUSER;`,
      });
    } else if (!role.admin) {
      missing.push({
        what: `role "${user}" has no ADMIN OPTION on existing role "${role.name}" (PostgreSQL ${major} lets a CREATEROLE role manage only roles it administers)`,
        // adaptive_revoked must never have a member that inherits it or may SET ROLE to it.
        fix: `GRANT ${ident(role.name)} TO ${ident(user)} WITH ADMIN OPTION${role.name === REVOKED_OWNER_ROLE ? ', INHERIT FALSE, SET FALSE' : ''};`,
      });
    }
  }
  return missing;
}

/**
 * Credentials issued by another admin, on PostgreSQL 16 and later: revoking one (disable,
 * strip, grant itself the role to reassign what it owns, drop) needs ADMIN OPTION on it.
 * Credentials are members of the marker without ADMIN OPTION; admins are members with it
 * (its creator automatically, from 16 on), and are not credentials. Superusers are refused
 * by revocation anyway, so they are not asked for.
 */
async function issuedCredentialGaps(target: TargetDb, user: string, major: number): Promise<MissingPrivilege[]> {
  const { rows: issued } = await target.pool.query<{ name: string }>(
    `select r.rolname as name
       from pg_catalog.pg_roles r
      where not r.rolsuper and r.rolname <> current_user
        and exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                     where m.member = r.oid and g.rolname = $1 and not m.admin_option)
        and not pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')
      order by r.rolname`,
    [MANAGED_ROLE],
  );
  if (issued.length === 0) return [];
  const names = issued.map((r) => r.name);
  return [
    {
      what:
        `role "${user}" has no ADMIN OPTION on ${names.length} issued credential(s) it did not create, so it could neither revoke nor reap them ` +
        `(PostgreSQL ${major} lets a CREATEROLE role manage only roles it administers): ${names.map((n) => JSON.stringify(n)).join(', ')}`,
      fix: `GRANT ${identList(names)} TO ${ident(user)} WITH ADMIN OPTION;`,
    },
  ];
}

/** The admin lacks privileges adaptive-access needs. `missing` lists them with their fixes. */
export class PreflightError extends Error {
  constructor(
    readonly target: string,
    readonly report: PreflightReport,
  ) {
    super(
      `Target "${target}": the admin role "${report.user}" lacks privileges adaptive-access needs (PostgreSQL ${report.major}). ` +
        `Run as a superuser:\n` +
        report.missing.map((m) => `- ${m.what}: ${m.fix}`).join('\n'),
    );
    this.name = 'PreflightError';
  }

  get missing(): readonly MissingPrivilege[] {
    return this.report.missing;
  }
}

/** Throws a PreflightError when the report lists anything missing. */
export function assertPreflight(target: string, report: PreflightReport): void {
  if (report.missing.length > 0) throw new PreflightError(target, report);
}

/** Runs preflight and throws a PreflightError when something is missing; returns the report. */
export async function requireAdminPrivileges(target: TargetDb, options: PreflightOptions = {}): Promise<PreflightReport> {
  const report = await preflight(target, options);
  assertPreflight(target.name, report);
  return report;
}
