/**
 * Session settings of login roles (an endpoint's `search_path`, `statement_timeout`,
 * `idle_session_timeout`, `timezone`, `application_name` and connection limit): written
 * with `ALTER ROLE ... SET` / `RESET` / `CONNECTION LIMIT` on each member's login role,
 * because PostgreSQL applies role settings of the role that logs in only, never of the
 * roles it is a member of (so the endpoint's access role cannot carry them).
 *
 * Role-wide settings (no `IN DATABASE`): a login role belongs to one endpoint on one
 * target and its members connect to that target's database, so a per-database setting
 * would say the same with more to read back (pg_db_role_setting instead of
 * pg_roles.rolconfig), and would leave the member's sessions in any other database of the
 * cluster without the limits. A setting made `IN DATABASE` by hand outranks these; it is
 * not read back.
 *
 * Values reach SQL quoted (`ident` for each schema of the search path, `literal` for the
 * rest), never spliced; the names of the settings are our constants.
 */
import type { ClientBase } from 'pg';
import type { SessionSettings, TargetDb } from '../types';
import { transaction } from '../pg/locks';
import { ident, identList, literal } from '../pg/sql';
import { lockCredentialRoles, readRoleStates, releaseAfter } from './login-roles';

/** The role settings an endpoint manages (pg_roles.rolconfig names); the others on a role are left alone. */
export const SESSION_SETTING_NAMES = ['search_path', 'statement_timeout', 'idle_session_timeout', 'timezone', 'application_name'] as const;
export type SessionSettingName = (typeof SESSION_SETTING_NAMES)[number];

/** The first server_version_num with `idle_session_timeout`. */
const IDLE_SESSION_TIMEOUT_VERSION = 140_000;

/** What a login role holds of the managed settings, as PostgreSQL keeps them. */
export interface LoginRoleSettings {
  readonly roleName: string;
  /** Managed settings the role has (role-wide), with their text as stored in rolconfig. */
  readonly config: ReadonlyMap<SessionSettingName, string>;
  /** rolconnlimit: -1 = no limit. */
  readonly connectionLimit: number;
}

/** The SQL value of each managed setting that `settings` sets. */
function settingValues(settings: SessionSettings): Map<SessionSettingName, string> {
  const values = new Map<SessionSettingName, string>();
  if (settings.searchPath !== undefined) values.set('search_path', identList(settings.searchPath));
  // Written with their unit, so rolconfig reads `5s` rather than milliseconds.
  if (settings.statementTimeoutSeconds !== undefined) values.set('statement_timeout', literal(`${settings.statementTimeoutSeconds}s`));
  if (settings.idleSessionTimeoutSeconds !== undefined) values.set('idle_session_timeout', literal(`${settings.idleSessionTimeoutSeconds}s`));
  if (settings.timezone !== undefined) values.set('timezone', literal(settings.timezone));
  if (settings.applicationName !== undefined) values.set('application_name', literal(settings.applicationName));
  return values;
}

/**
 * The statements that give login role `roleName` exactly `settings`: SET for each one set,
 * RESET for each managed one not set (skipped for a role just created, which has none),
 * and its CONNECTION LIMIT (-1 when none). `idle_session_timeout` is neither set nor reset
 * before PostgreSQL 14, which does not know it; asked for there, it throws (the service
 * refuses it earlier, naming the resource).
 */
export function sessionSettingStatements(roleName: string, settings: SessionSettings, serverVersion: number, fresh = false): string[] {
  if (settings.idleSessionTimeoutSeconds !== undefined && serverVersion < IDLE_SESSION_TIMEOUT_VERSION) {
    throw new Error(
      `idle_session_timeout needs PostgreSQL 14 or later; this server runs PostgreSQL ${Math.floor(serverVersion / 10_000)}: nothing was changed`,
    );
  }
  const role = ident(roleName);
  const values = settingValues(settings);
  const out: string[] = [];
  for (const name of SESSION_SETTING_NAMES) {
    if (name === 'idle_session_timeout' && serverVersion < IDLE_SESSION_TIMEOUT_VERSION && !values.has(name)) continue;
    const value = values.get(name);
    if (value !== undefined) out.push(`ALTER ROLE ${role} SET ${name} TO ${value}`);
    else if (!fresh) out.push(`ALTER ROLE ${role} RESET ${name}`);
  }
  if (!fresh || settings.connectionLimit !== undefined) out.push(`ALTER ROLE ${role} CONNECTION LIMIT ${String(settings.connectionLimit ?? -1)}`);
  return out;
}

/** The server's version number (server_version_num). */
export async function serverVersionNum(client: ClientBase | TargetDb['pool']): Promise<number> {
  const { rows } = await client.query<{ version: number }>(`select pg_catalog.current_setting('server_version_num')::int as version`);
  return rows[0]?.version ?? 0;
}

/**
 * Why the server would refuse `zone` as a TimeZone setting (its message), or undefined when
 * it takes it: the server's zone list decides, not this process's. Set locally in its own
 * one-statement transaction, so the admin session keeps its zone.
 */
export async function timezoneProblem(target: TargetDb, zone: string): Promise<string | undefined> {
  try {
    await target.pool.query(`select pg_catalog.set_config('TimeZone', $1, true)`, [zone]);
    return undefined;
  } catch (err) {
    if ((err as { code?: unknown }).code !== '22023') throw err;
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Gives the live login roles among `roleNames` exactly `settings` (see
 * `sessionSettingStatements`), in one transaction under the roles' locks. Only roles we
 * issued are touched (members of the marker role with our comment, never an admin of it);
 * the others, and roles that are gone, are skipped. Returns the roles changed.
 */
export async function applySessionSettings(target: TargetDb, roleNames: readonly string[], settings: SessionSettings): Promise<string[]> {
  const names = [...new Set(roleNames)];
  if (names.length === 0) return [];
  const client = await target.pool.connect();
  let failure: unknown;
  try {
    return await transaction(client, async () => {
      await lockCredentialRoles(client, names, 'transaction');
      const states = await readRoleStates(client, names);
      const ours = names.filter((n) => {
        const s = states.get(n);
        return s !== undefined && s.managed && s.marked && !s.adminOfMarker && s.canLogin;
      });
      if (ours.length === 0) return [];
      const version = await serverVersionNum(client);
      await client.query(ours.flatMap((n) => sessionSettingStatements(n, settings, version)).join(';\n'));
      return ours;
    });
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    releaseAfter(client, failure);
  }
}

/** What the roles among `roleNames` that exist hold of the managed settings (role-wide). */
export async function readSessionSettings(target: TargetDb, roleNames: readonly string[]): Promise<LoginRoleSettings[]> {
  if (roleNames.length === 0) return [];
  const { rows } = await target.pool.query<{ name: string; config: string[] | null; connlimit: number }>(
    `select r.rolname::text as name, r.rolconfig as config, r.rolconnlimit as connlimit
       from pg_catalog.pg_roles r where r.rolname = any($1::text[]) order by r.rolname`,
    [[...new Set(roleNames)]],
  );
  return rows.map((r) => ({ roleName: r.name, config: managedConfig(r.config ?? []), connectionLimit: r.connlimit }));
}

/** `name=value` entries of rolconfig, kept for the managed names (compared case-insensitively: `TimeZone`). */
function managedConfig(entries: readonly string[]): Map<SessionSettingName, string> {
  const out = new Map<SessionSettingName, string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at < 0) continue;
    const name = entry.slice(0, at).toLowerCase();
    if ((SESSION_SETTING_NAMES as readonly string[]).includes(name)) out.set(name as SessionSettingName, entry.slice(at + 1));
  }
  return out;
}
