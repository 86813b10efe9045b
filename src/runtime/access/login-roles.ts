/**
 * Facts about, and locks on, the login roles adaptive-access issues, shared by issuing
 * (credentials.ts), revocation (revoke.ts), the owner of revoked objects (revoked-owner.ts)
 * and the runtime's service: the attributes a credential must not hold, the state of
 * existing roles read under their locks, the advisory locks themselves, and the server's clock.
 */
import { DatabaseError, type ClientBase, type Pool, type PoolClient } from 'pg';
import { LOCK_NAMESPACE, lockKey } from '../pg/locks';
import { MANAGED_ROLE } from '../pg/roles';
import { literal } from '../pg/sql';
import { parseMetadata } from './marker';

/** Role attributes an issued credential must not hold, with their pg_roles columns. */
export const ELEVATED_ATTRIBUTES = {
  SUPERUSER: 'rolsuper',
  CREATEDB: 'rolcreatedb',
  CREATEROLE: 'rolcreaterole',
  REPLICATION: 'rolreplication',
  BYPASSRLS: 'rolbypassrls',
} as const;
export type ElevatedAttribute = keyof typeof ELEVATED_ATTRIBUTES;

/** SQL: the elevated attributes of the pg_roles row `r`, as a text[] in a fixed order. */
export const ELEVATED_SQL = `array_remove(array[${Object.entries(ELEVATED_ATTRIBUTES)
  .map(([name, column]) => `case when r.${column} then '${name}' end`)
  .join(', ')}], null)::text[]`;

// ---------------------------------------------------------------------------------------
// Locks shared with revocation and the reaper
// ---------------------------------------------------------------------------------------

/**
 * The advisory-lock name guarding one role: a login role (issue, extend, revoke hold it
 * exclusively) or an access role (its sync and drop hold it exclusively; issuing holds it
 * shared, so memberships are never granted while it is being changed or dropped).
 */
export function credentialLockName(roleName: string): string {
  return `role:${roleName}`;
}

function lockKeysFor(roleNames: readonly string[]): number[] {
  return [...new Set(roleNames.map((r) => lockKey(credentialLockName(r))))].sort((a, b) => a - b);
}

/**
 * Takes the advisory locks of many roles in one round trip, in ascending key order (the
 * server sorts, and evaluates the volatile lock function after sorting), so two batches
 * never wait on each other in a cycle. `transaction` locks end at COMMIT/ROLLBACK;
 * `session` locks last until `unlockCredentialRoles` or the end of the connection.
 * `sharedRoleNames` (transaction scope only) are locked in shared mode, unless also named
 * in `roleNames`.
 */
export async function lockCredentialRoles(
  client: ClientBase,
  roleNames: readonly string[],
  scope: 'transaction' | 'session',
  sharedRoleNames: readonly string[] = [],
): Promise<void> {
  const exclusive = lockKeysFor(roleNames);
  if (scope === 'session') {
    if (sharedRoleNames.length > 0) throw new Error('shared role locks are transaction-scoped only');
    if (exclusive.length === 0) return;
    await client.query('select pg_catalog.pg_advisory_lock($1, k) from pg_catalog.unnest($2::int[]) as k order by k', [LOCK_NAMESPACE, exclusive]);
    return;
  }
  const taken = new Set(exclusive);
  const shared = lockKeysFor(sharedRoleNames).filter((k) => !taken.has(k));
  if (exclusive.length + shared.length === 0) return;
  await client.query(
    `select case when s then pg_catalog.pg_advisory_xact_lock_shared($1, k) else pg_catalog.pg_advisory_xact_lock($1, k) end
       from rows from (pg_catalog.unnest($2::int[]), pg_catalog.unnest($3::bool[])) as t(k, s) order by k`,
    [LOCK_NAMESPACE, [...exclusive, ...shared], [...exclusive.map(() => false), ...shared.map(() => true)]],
  );
}

/** Releases session-level locks taken by `lockCredentialRoles(..., 'session')`. */
export async function unlockCredentialRoles(client: ClientBase, roleNames: readonly string[]): Promise<void> {
  const keys = lockKeysFor(roleNames);
  if (keys.length === 0) return;
  await client.query('select pg_catalog.pg_advisory_unlock($1, k) from pg_catalog.unnest($2::int[]) as k', [LOCK_NAMESPACE, keys]);
}

// ---------------------------------------------------------------------------------------
// Existing roles, and the server's clock
// ---------------------------------------------------------------------------------------

/** Facts about existing roles, read under the locks before anything is changed. */
export interface RoleState {
  readonly name: string;
  readonly oid: number;
  /** A direct member of the marker role. */
  readonly managed: boolean;
  /** Its comment is our credential metadata (see `parseMetadata`). */
  readonly marked: boolean;
  readonly superuser: boolean;
  readonly createRole: boolean;
  /** Holds ADMIN OPTION on the marker role: an admin, never a credential. */
  readonly adminOfMarker: boolean;
  readonly isCurrentUser: boolean;
  readonly canLogin: boolean;
  readonly validUntil: Date | null;
  readonly memberOf: readonly string[];
  readonly comment: string | null;
  /** Elevated attributes it holds (see `ELEVATED_ATTRIBUTES`). */
  readonly elevated: readonly ElevatedAttribute[];
}

interface RoleStateRow {
  name: string;
  oid: number;
  managed: boolean;
  admin_of_marker: boolean;
  superuser: boolean;
  create_role: boolean;
  is_current_user: boolean;
  can_login: boolean;
  valid_until: Date | null;
  member_of: string[];
  comment: string | null;
  elevated: ElevatedAttribute[];
}

/**
 * One query: the state of the named roles that exist. "Managed" means a *direct* member of
 * the marker role (pg_auth_members may hold one row per grantor on PostgreSQL 16+, hence
 * EXISTS rather than a join). `infinity` is reported as no expiry, `-infinity` as the epoch,
 * so that expiry is always a real Date or null.
 */
export async function readRoleStates(client: ClientBase, roleNames: readonly string[]): Promise<Map<string, RoleState>> {
  const { rows } = await client.query<RoleStateRow>(
    `select r.rolname::text as name, r.oid::int8::float8 as oid, r.rolsuper as superuser, r.rolcreaterole as create_role,
            r.rolcanlogin as can_login,
            r.rolname in (current_user, session_user) as is_current_user,
            case when r.rolvaliduntil = 'infinity' then null when r.rolvaliduntil = '-infinity' then 'epoch' else r.rolvaliduntil end as valid_until,
            exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                    where m.member = r.oid and g.rolname = $2) as managed,
            exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                    where m.member = r.oid and g.rolname = $2 and m.admin_option) as admin_of_marker,
            array(select distinct g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                  where m.member = r.oid and g.rolname <> $2 order by 1) as member_of,
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment,
            ${ELEVATED_SQL} as elevated
       from pg_catalog.pg_roles r
      where r.rolname = any($1::text[])`,
    [[...new Set(roleNames)], MANAGED_ROLE],
  );
  return new Map(
    rows.map((r) => [
      r.name,
      {
        name: r.name,
        oid: r.oid,
        managed: r.managed,
        marked: parseMetadata(r.comment) !== null,
        superuser: r.superuser,
        createRole: r.create_role,
        adminOfMarker: r.admin_of_marker,
        isCurrentUser: r.is_current_user,
        canLogin: r.can_login,
        validUntil: r.valid_until,
        memberOf: r.member_of,
        comment: r.comment,
        elevated: r.elevated,
      },
    ]),
  );
}

/**
 * Returns a pool client after use. An error the server reported left the connection usable
 * (the transaction helper rolled back); anything else (a broken connection, our own
 * refusal mid-transaction) discards the client rather than hand it to the next caller.
 */
export function releaseAfter(client: PoolClient, failure: unknown): void {
  client.release(failure === undefined || failure instanceof DatabaseError ? undefined : true);
}

/** A literal for a timestamptz, in UTC with milliseconds (what a JS Date holds). */
export function timestampLiteral(at: Date): string {
  return literal(at.toISOString());
}

/**
 * The server's clock (the current transaction's start, for a client in one): what every
 * expiry is counted from and compared with.
 */
export async function serverNow(client: ClientBase | Pool): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('select pg_catalog.now() as now');
  const now = rows[0]?.now;
  if (!(now instanceof Date)) throw new Error('the server did not report its clock');
  return now;
}

// ---------------------------------------------------------------------------------------
// How many roles one transaction may touch
// ---------------------------------------------------------------------------------------

/** Lock-table entries a transaction takes per login role it issues or revokes (measured on 15 and 18). */
const LOCKS_PER_ROLE = 2;
/** The share of the server's lock table one batch may fill: the rest stays for everyone else. */
const LOCK_TABLE_SHARE = 1 / 3;
/** Bounds of a batch: at least this many roles per transaction, and at most... */
const MIN_ROLES_PER_TRANSACTION = 20;
/** ...this many, so a failure rolls back a bounded amount of work and locks are held briefly. */
export const MAX_ROLES_PER_TRANSACTION = 1000;

/**
 * How many login roles one transaction may issue or revoke on this server. Each role costs
 * about two lock-table entries until commit (its advisory lock, and the object lock that
 * COMMENT, ALTER or DROP ROLE takes), and the lock table is shared by every session:
 * `max_locks_per_transaction x (max_connections + max_prepared_transactions)` entries
 * (6,400 with the defaults). A transaction past it fails with "out of shared memory", so a
 * large group is split into transactions that fill at most a third of the table.
 */
export async function rolesPerTransaction(client: Pick<ClientBase, 'query'>): Promise<number> {
  const { rows } = await client.query<{ entries: string }>(
    `select (pg_catalog.current_setting('max_locks_per_transaction')::int8 *
             (pg_catalog.current_setting('max_connections')::int8 + pg_catalog.current_setting('max_prepared_transactions')::int8))::text as entries`,
  );
  const entries = Number(rows[0]?.entries ?? 0);
  const fit = Math.floor((entries * LOCK_TABLE_SHARE) / LOCKS_PER_ROLE);
  return Math.max(MIN_ROLES_PER_TRANSACTION, Math.min(MAX_ROLES_PER_TRANSACTION, fit));
}
