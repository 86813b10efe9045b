/**
 * Time-limited credentials: one LOGIN role per member x endpoint, member of the endpoint's
 * access role (which holds the grants) and of the marker role `adaptive_managed` (which is
 * how the reaper and revocation recognise roles they may touch).
 *
 * - The password is generated here and only its SCRAM-SHA-256 verifier is sent, so the
 *   plaintext never reaches PostgreSQL's statement log.
 * - `VALID UNTIL` makes PostgreSQL itself refuse the password after expiry; the reaper
 *   (reaper.ts) ends open sessions and drops the role.
 * - A whole batch is one transaction under advisory locks taken in a fixed order, and costs
 *   a constant handful of round trips however many members it holds: DDL takes no bind
 *   parameters, so statements are quoted (sql.ts) and sent together as one script.
 */
import { createHash } from 'node:crypto';
import { DatabaseError, type ClientBase, type Pool, type PoolClient } from 'pg';
import type { TargetDb } from '../types';
import { LOCK_NAMESPACE, lockKey, transaction } from './locks';
import { generatePassword, scramSha256VerifierAsync } from './scram';
import { MANAGED_BY, MANAGED_ROLE, parseMetadata, verifyManagedRole, type CredentialMetadata } from './marker';
import { ident, identList, literal } from './sql';

export { MANAGED_BY, MANAGED_ROLE, parseMetadata, type CredentialMetadata };


/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
export const MAX_ROLE_NAME_BYTES = 63;

/** How many roles go into one DDL script: one script for any realistic group. */
const ROLES_PER_SCRIPT = 2000;

/** What to issue: one credential for `member` on `endpoint`, via the endpoint's access role. */
export interface CredentialRequest {
  readonly member: string;
  readonly endpoint: string;
  /** The endpoint's NOLOGIN access role (holds the grants); must exist. */
  readonly accessRole: string;
  /**
   * How long the password works, in whole seconds, counted from the server's `now()` in
   * the issuing transaction: never this process's clock, which may be skewed.
   */
  readonly ttlSeconds: number;
  readonly group?: string;
  readonly comment?: string;
}

/** An issued credential. `password` exists only here: the server has its verifier. */
export interface IssuedCredential {
  readonly member: string;
  readonly endpoint: string;
  readonly roleName: string;
  readonly password: string;
  /** The server's `now()` when it was issued. */
  readonly grantedAt: Date;
  /** When PostgreSQL stops accepting the password: `grantedAt` + ttl, as the server holds it. */
  readonly validUntil: Date;
}

/** A login role found as a direct member of `adaptive_managed`. */
export interface ManagedRole {
  readonly roleName: string;
  readonly canLogin: boolean;
  /** `VALID UNTIL`; null when the role has none (or `infinity`). */
  readonly validUntil: Date | null;
  /** Roles it is a direct member of, `adaptive_managed` excepted. */
  readonly memberOf: readonly string[];
  /** The parsed comment, or null when it is missing or not our JSON. */
  readonly metadata: CredentialMetadata | null;
}

// ---------------------------------------------------------------------------------------
// Role names
// ---------------------------------------------------------------------------------------

/** Characters kept as they are in readable names; a member never keeps '/'. */
const SAFE_MEMBER = /^[A-Za-z0-9@._+-]+$/;
const SAFE_ENDPOINT = /^[A-Za-z0-9@._+/-]+$/;
const HASH_CHARS = 16;

/**
 * The login role name for a member on an endpoint: deterministic, readable, unique, at most
 * 63 bytes.
 *
 * - Readable form `member/endpoint` (e.g. `dev1@company.com/postgres-dev-access`) when it
 *   fits, uses only `[A-Za-z0-9@._+-]` (and '/' in the endpoint), and does not start with
 *   PostgreSQL's reserved `pg_` prefix. The member holds no '/', so the first '/' splits the
 *   name unambiguously: distinct pairs give distinct readable names.
 * - Otherwise `<cut member>/<cut endpoint>~<16 hex chars of SHA-256 over the exact pair>`.
 *   Readable names never contain '~', so the two forms never meet; two hashed names collide
 *   only on a 64-bit hash collision.
 */
export function loginRoleName(member: string, endpoint: string): string {
  if (member.length === 0) throw new Error('member must not be empty');
  if (endpoint.length === 0) throw new Error('endpoint must not be empty');
  const readable = `${member}/${endpoint}`;
  if (
    SAFE_MEMBER.test(member) &&
    SAFE_ENDPOINT.test(endpoint) &&
    !readable.startsWith('pg_') &&
    Buffer.byteLength(readable) <= MAX_ROLE_NAME_BYTES
  ) {
    return readable;
  }
  const hash = createHash('sha256').update(JSON.stringify([member, endpoint]), 'utf8').digest('hex').slice(0, HASH_CHARS);
  // Sanitised parts are ASCII, so characters are bytes. 63 - '~' - hash - '/' = 45.
  const room = MAX_ROLE_NAME_BYTES - 1 - HASH_CHARS - 1;
  const m = member.replace(/[^A-Za-z0-9@._+-]/g, '_');
  const e = endpoint.replace(/[^A-Za-z0-9@._+/-]/g, '_');
  const eLen = Math.min(e.length, Math.max(20, room - m.length));
  const mLen = Math.min(m.length, room - eLen);
  const prefix = `${m.slice(0, mLen)}/${e.slice(0, eLen)}`.replace(/^pg_/, 'pg-');
  return `${prefix}~${hash}`;
}

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

/**
 * A DO block creating the marker role when missing. Tolerant of a concurrent creator
 * (duplicate_object when it committed first, unique_violation when it commits while we
 * insert), since the access-role code may create it too.
 */
function ensureManagedRoleSql(): string {
  return (
    `DO $adaptive$ BEGIN ` +
    `IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal(MANAGED_ROLE)}) THEN ` +
    `CREATE ROLE ${ident(MANAGED_ROLE)} NOLOGIN; END IF; ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $adaptive$`
  );
}

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
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
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

// ---------------------------------------------------------------------------------------
// Issue
// ---------------------------------------------------------------------------------------

function checkRequest(r: CredentialRequest, index: number): void {
  const where = `requests[${index}]`;
  if (!Number.isInteger(r.ttlSeconds) || r.ttlSeconds < 1) throw new Error(`${where}.ttlSeconds must be a whole number of seconds, at least 1`);
  if (r.accessRole.length === 0 || Buffer.byteLength(r.accessRole) > MAX_ROLE_NAME_BYTES) {
    throw new Error(`${where}.accessRole must be 1 to ${MAX_ROLE_NAME_BYTES} bytes`);
  }
  if (r.accessRole === MANAGED_ROLE) throw new Error(`${where}.accessRole must not be the marker role ${MANAGED_ROLE}`);
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

/**
 * Issues credentials on one target: for each request a LOGIN role with a generated
 * password (only its SCRAM verifier is sent), `VALID UNTIL` = the server's `now()` in the
 * issuing transaction + ttl (never this process's clock, which may be skewed), membership
 * in the access role and `adaptive_managed`, and a JSON comment with its metadata.
 *
 * All requests are one transaction under the roles' advisory locks (and the access roles'
 * locks, shared, so an access role is not dropped or re-synced meanwhile): all are issued
 * or none.
 * The number of round trips does not depend on the number of requests. The server's cost
 * does: PostgreSQL checks every verifier against the empty password (one PBKDF2 with the
 * verifier's iterations per role), and the transaction holds about two lock-table entries
 * per role (its advisory lock, and the lock COMMENT takes), so with default settings
 * (64 x max_connections entries) one call suits up to a few thousand credentials.
 *
 * Re-issue: when the role already exists and is managed, it is altered in place (new
 * password, new expiry, LOGIN, membership set back to exactly the access role plus the
 * marker, new comment). The old password stops working at commit; open sessions of the
 * same member continue under the new terms (revoke first to end them). A role of that name
 * that is not ours (no member of the marker role, no credential comment of ours, or an
 * admin holding ADMIN OPTION on the marker) is never taken over: the whole call fails
 * before any change, as it does when the marker role itself is not ours.
 */
export async function issueCredentials(target: TargetDb, requests: readonly CredentialRequest[]): Promise<IssuedCredential[]> {
  if (requests.length === 0) return [];
  requests.forEach((r, i) => checkRequest(r, i));
  const names = requests.map((r) => loginRoleName(r.member, r.endpoint));
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new Error(`requests[${first}] and requests[${i}] are the same credential (${name})`);
    seen.set(name, i);
  });

  const passwords = requests.map(() => generatePassword());
  const verifiers = await Promise.all(passwords.map((p) => scramSha256VerifierAsync(p)));

  const client = await target.pool.connect();
  let failure: unknown;
  let grantedAt: Date | undefined;
  try {
    await transaction(client, async () => {
      await lockCredentialRoles(client, names, 'transaction', requests.map((r) => r.accessRole));
      await client.query(ensureManagedRoleSql());
      await verifyManagedRole(client);
      const existing = await readRoleStates(client, names);
      const unmanaged = names.filter((n) => {
        const state = existing.get(n);
        return state !== undefined && (!state.managed || !state.marked || state.adminOfMarker);
      });
      if (unmanaged.length > 0) {
        throw new Error(
          `role(s) ${unmanaged.map((n) => JSON.stringify(n)).join(', ')} exist but were not issued by adaptive-access ` +
            `(not a member of ${MANAGED_ROLE} with our comment, or an admin of it); refusing to take over roles this system did not create`,
        );
      }
      // now() is the transaction's start, the same instant for every role of the batch.
      const now = await serverNow(client);
      grantedAt = now;
      const statements: string[][] = [];
      requests.forEach((r, i) => {
        const name = names[i] as string;
        const metadata: CredentialMetadata = {
          managed_by: MANAGED_BY,
          kind: 'credential',
          member: r.member,
          endpoint: r.endpoint,
          access_role: r.accessRole,
          group: r.group ?? null,
          comment: r.comment ?? null,
          granted_at: now.toISOString(),
          expires_at: expiryOf(now, r).toISOString(),
        };
        statements.push(roleStatements(name, verifiers[i] as string, r, expiryOf(now, r), existing.get(name), metadata));
      });
      for (let start = 0; start < statements.length; start += ROLES_PER_SCRIPT) {
        await client.query(statements.slice(start, start + ROLES_PER_SCRIPT).flat().join(';\n'));
      }
    });
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    releaseAfter(client, failure);
  }

  const at = grantedAt as Date;
  return requests.map((r, i) => ({
    member: r.member,
    endpoint: r.endpoint,
    roleName: names[i] as string,
    password: passwords[i] as string,
    grantedAt: at,
    validUntil: expiryOf(at, r),
  }));
}

function expiryOf(grantedAt: Date, r: CredentialRequest): Date {
  return new Date(grantedAt.getTime() + r.ttlSeconds * 1000);
}

function roleStatements(
  name: string,
  verifier: string,
  r: CredentialRequest,
  validUntil: Date,
  existing: RoleState | undefined,
  metadata: CredentialMetadata,
): string[] {
  const role = ident(name);
  const out: string[] = [];
  const attributes = `LOGIN PASSWORD ${literal(verifier)} VALID UNTIL ${timestampLiteral(validUntil)}`;
  if (!existing) {
    out.push(`CREATE ROLE ${role} WITH ${attributes} IN ROLE ${identList([r.accessRole, MANAGED_ROLE])}`);
  } else {
    out.push(`ALTER ROLE ${role} WITH ${attributes}`);
    const extra = existing.memberOf.filter((g) => g !== r.accessRole);
    if (extra.length > 0) out.push(`REVOKE ${identList(extra)} FROM ${role}`);
    if (!existing.memberOf.includes(r.accessRole)) out.push(`GRANT ${ident(r.accessRole)} TO ${role}`);
  }
  out.push(`COMMENT ON ROLE ${role} IS ${literal(JSON.stringify(metadata))}`);
  return out;
}

// ---------------------------------------------------------------------------------------
// Extend
// ---------------------------------------------------------------------------------------

/** What `extendCredentials` did. */
export interface ExtendResult {
  readonly extended: string[];
  readonly skipped: Array<{ role: string; reason: string }>;
}

/**
 * Sets a new `VALID UNTIL` on live credentials (raising an endpoint's ttl extends grants
 * still alive). Only managed roles that can log in and have not expired by the server's
 * clock are changed: an expired or revoked credential is never brought back, so a renewal
 * has to be an explicit re-issue. A `validUntil` the server's clock has already passed
 * changes nothing (every role is skipped): revoke instead. One transaction under the
 * roles' locks.
 */
export async function extendCredentials(target: TargetDb, roleNames: readonly string[], validUntil: Date): Promise<ExtendResult> {
  if (Number.isNaN(validUntil.getTime())) throw new Error('validUntil is not a valid date');
  const names = [...new Set(roleNames)];
  if (names.length === 0) return { extended: [], skipped: [] };
  const client = await target.pool.connect();
  let failure: unknown;
  try {
    return await transaction(client, async () => {
      await lockCredentialRoles(client, names, 'transaction');
      const states = await readRoleStates(client, names);
      const now = await serverNow(client);
      const extended: string[] = [];
      const skipped: Array<{ role: string; reason: string }> = [];
      const statements: string[] = [];
      for (const name of names) {
        const state = states.get(name);
        const reason =
          validUntil.getTime() <= now.getTime() ? 'the new expiry has already passed; revoke instead' : state ? notExtendable(state, now.getTime()) : 'no such role';
        if (!state || reason !== undefined) {
          skipped.push({ role: name, reason: reason ?? 'no such role' });
          continue;
        }
        const metadata = { ...(parseMetadata(state.comment) ?? { managed_by: MANAGED_BY }), expires_at: validUntil.toISOString(), extended_at: now.toISOString() };
        statements.push(`ALTER ROLE ${ident(name)} VALID UNTIL ${timestampLiteral(validUntil)}`);
        statements.push(`COMMENT ON ROLE ${ident(name)} IS ${literal(JSON.stringify(metadata))}`);
        extended.push(name);
      }
      if (statements.length > 0) await client.query(statements.join(';\n'));
      return { extended, skipped };
    });
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    releaseAfter(client, failure);
  }
}

/** Why a role must not be extended, or undefined when it is a live managed credential. */
function notExtendable(state: RoleState, serverNow: number): string | undefined {
  if (!state.managed || !state.marked || state.adminOfMarker) return `not a credential issued by adaptive-access`;
  if (!state.canLogin) return 'login disabled (revoked)';
  if (state.validUntil !== null && state.validUntil.getTime() <= serverNow) return 'already expired';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------

interface ManagedRoleRow {
  name: string;
  can_login: boolean;
  valid_until: Date | null;
  member_of: string[];
  comment: string | null;
}

/**
 * Every direct member of `adaptive_managed` (the login roles this system issued, live,
 * expired or left disabled by a failed drop), with expiry, memberships and metadata.
 * Ordered by expiry, then name.
 */
export async function listManagedRoles(target: TargetDb): Promise<ManagedRole[]> {
  const { rows } = await target.pool.query<ManagedRoleRow>(
    `select r.rolname::text as name, r.rolcanlogin as can_login,
            case when r.rolvaliduntil = 'infinity' then null when r.rolvaliduntil = '-infinity' then 'epoch' else r.rolvaliduntil end as valid_until,
            array(select distinct g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                  where m.member = r.oid and g.rolname <> $1 order by 1) as member_of,
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment
       from pg_catalog.pg_roles r
      where exists (select from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                     where m.member = r.oid and g.rolname = $1)
      order by r.rolvaliduntil nulls last, r.rolname`,
    [MANAGED_ROLE],
  );
  return rows.map((r) => ({
    roleName: r.name,
    canLogin: r.can_login,
    validUntil: r.valid_until,
    memberOf: r.member_of,
    metadata: parseMetadata(r.comment),
  }));
}
