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
import type { ClientBase } from 'pg';
import type { SessionSettings, TargetDb } from '../types';
import { transaction } from '../pg/locks';
import { MANAGED_ROLE } from '../pg/roles';
import { ident, identList, literal } from '../pg/sql';
import { generatePassword, scramSha256VerifierAsync } from './scram';
import { MANAGED_BY, ensureManagedRoleSql, parseMetadata, verifyManagedRole, type CredentialMetadata } from './marker';
import {
  ELEVATED_ATTRIBUTES,
  ELEVATED_SQL,
  lockCredentialRoles,
  readRoleStates,
  releaseAfter,
  serverNow,
  timestampLiteral,
  type ElevatedAttribute,
  type RoleState,
} from './login-roles';
import { ensureRevokedOwnerSql } from './revoked-owner';
import { sessionSettingStatements } from './session-settings';

export { MANAGED_BY, parseMetadata, type CredentialMetadata };

/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes. */
export const MAX_ROLE_NAME_BYTES = 63;

/**
 * How many roles go into one DDL script. Small enough that the server starts on the first
 * script while this process still computes the later scripts' verifiers; large enough that
 * round trips stay few (ten per thousand roles).
 */
const ROLES_PER_SCRIPT = 100;

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
  /** The login role's name; default `loginRoleName(member, endpoint)` (a group's standing credential). */
  readonly roleName?: string;
  /** The endpoint's session settings, given to the role exactly (see session-settings.ts); left as they are when omitted. */
  readonly settings?: SessionSettings;
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
  /**
   * Attributes it holds that an issued credential never has (SUPERUSER, CREATEDB, CREATEROLE,
   * REPLICATION, BYPASSRLS): added by hand; the next issue removes them. Empty normally.
   */
  readonly elevated: readonly ElevatedAttribute[];
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
// Issue
// ---------------------------------------------------------------------------------------

function checkRequest(r: CredentialRequest, index: number): void {
  const where = `requests[${index}]`;
  if (!Number.isInteger(r.ttlSeconds) || r.ttlSeconds < 1) throw new Error(`${where}.ttlSeconds must be a whole number of seconds, at least 1`);
  if (r.accessRole.length === 0 || Buffer.byteLength(r.accessRole) > MAX_ROLE_NAME_BYTES) {
    throw new Error(`${where}.accessRole must be 1 to ${MAX_ROLE_NAME_BYTES} bytes`);
  }
  if (r.accessRole === MANAGED_ROLE) throw new Error(`${where}.accessRole must not be the marker role ${MANAGED_ROLE}`);
  if (r.roleName !== undefined && (r.roleName.length === 0 || Buffer.byteLength(r.roleName) > MAX_ROLE_NAME_BYTES || r.roleName.startsWith('pg_'))) {
    throw new Error(`${where}.roleName must be 1 to ${MAX_ROLE_NAME_BYTES} bytes and not start with pg_`);
  }
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
 * Every role is created or altered with its attributes spelled out (NOSUPERUSER NOCREATEDB
 * NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT), and the transaction fails if any issued
 * role holds one of those after all. On PostgreSQL 16+ memberships carry SET FALSE (see
 * `membershipGrants`). A request's `settings` (the endpoint's session settings) are set on
 * the role in the same transaction, the other managed ones reset (session-settings.ts).
 *
 * Re-issue: when the role already exists and is managed, it is altered in place (new
 * password, new expiry, LOGIN, attributes added by hand removed, membership set back to
 * exactly the access role plus the marker, new comment). An attribute the admin may not
 * remove (SUPERUSER, and for a non-superuser REPLICATION or BYPASSRLS) fails the call
 * before any change, naming the SQL a superuser has to run. The old password stops working at commit; open sessions of the
 * same member continue under the new terms (revoke first to end them). A role of that name
 * that is not ours (no member of the marker role, no credential comment of ours, or an
 * admin holding ADMIN OPTION on the marker) is never taken over: the whole call fails
 * before any change, as it does when the marker role itself is not ours.
 */
export async function issueCredentials(target: TargetDb, requests: readonly CredentialRequest[]): Promise<IssuedCredential[]> {
  if (requests.length === 0) return [];
  return issueInTransaction(target, prepareIssue(requests));
}

/** Requests checked, their role names, passwords and verifiers (being computed on the thread pool). */
export interface PreparedIssue {
  readonly requests: readonly CredentialRequest[];
  readonly names: readonly string[];
  readonly passwords: readonly string[];
  readonly verifiers: ReadonlyArray<Promise<string>>;
}

/**
 * Checks the requests and starts computing every verifier at once on libuv's thread pool:
 * the first ones are ready while the later ones are still computed, so the server creates
 * roles while this process hashes the next passwords (see `issueInTransaction`).
 */
export function prepareIssue(requests: readonly CredentialRequest[]): PreparedIssue {
  requests.forEach((r, i) => checkRequest(r, i));
  const names = requests.map((r) => r.roleName ?? loginRoleName(r.member, r.endpoint));
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw new Error(`requests[${first}] and requests[${i}] are the same credential (${name})`);
    seen.set(name, i);
  });
  const passwords = requests.map(() => generatePassword());
  const verifiers = passwords.map((p) => scramSha256VerifierAsync(p));
  // Awaited in order later; one left unawaited after a failure must not be an unhandled rejection.
  for (const v of verifiers) v.catch(() => undefined);
  return { requests, names, passwords, verifiers };
}

/** The part of a prepared issue from `start` to `end`, the verifiers already under way. */
export function sliceIssue(p: PreparedIssue, start: number, end: number): PreparedIssue {
  return { requests: p.requests.slice(start, end), names: p.names.slice(start, end), passwords: p.passwords.slice(start, end), verifiers: p.verifiers.slice(start, end) };
}

/**
 * Issues a prepared batch in one transaction (see `issueCredentials`). The roles' statements
 * go in scripts of `ROLES_PER_SCRIPT`, each sent as soon as its verifiers are ready, so the
 * server's work (it checks each verifier against the empty password: one PBKDF2 per role)
 * overlaps with this process's.
 */
export async function issueInTransaction(target: TargetDb, prepared: PreparedIssue): Promise<IssuedCredential[]> {
  const { requests, names, passwords, verifiers } = prepared;
  const client = await target.pool.connect();
  let failure: unknown;
  let grantedAt: Date | undefined;
  try {
    await transaction(client, async () => {
      await lockCredentialRoles(client, names, 'transaction', requests.map((r) => r.accessRole));
      await client.query(`${ensureManagedRoleSql()};\n${ensureRevokedOwnerSql()}`);
      await verifyManagedRole(client);
      const existing = await readRoleStates(client, names);
      refuseNotOurs(names, existing);
      const admin = await readAdmin(client);
      refuseUnresettable(admin, existing);
      // now() is the transaction's start, the same instant for every role of the batch.
      const now = admin.now;
      grantedAt = now;
      for (let start = 0; start < requests.length; start += ROLES_PER_SCRIPT) {
        const end = Math.min(start + ROLES_PER_SCRIPT, requests.length);
        const ready = await Promise.all(verifiers.slice(start, end));
        const chunk = ready.flatMap((verifier, k) => {
          const r = requests[start + k] as CredentialRequest;
          const name = names[start + k] as string;
          return roleStatements(name, verifier, r, expiryOf(now, r), existing.get(name), metadataOf(r, now), admin);
        });
        if (end === requests.length) chunk.push(verifyIssuedSql(names));
        await client.query(chunk.join(';\n'));
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

function metadataOf(r: CredentialRequest, now: Date): CredentialMetadata {
  return {
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
}

/** Refuses, before any change, roles of these names that this system did not issue. */
export function refuseNotOurs(names: readonly string[], existing: ReadonlyMap<string, RoleState>): void {
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
}

function expiryOf(grantedAt: Date, r: CredentialRequest): Date {
  return new Date(grantedAt.getTime() + r.ttlSeconds * 1000);
}

/**
 * The admin connection's version and the attributes that decide what it may change, and
 * the server's clock (the transaction's start) in the same round trip.
 */
interface AdminInfo {
  readonly name: string;
  readonly now: Date;
  readonly version: number;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
}

async function readAdmin(client: ClientBase): Promise<AdminInfo> {
  const { rows } = await client.query<AdminInfo>(
    `select r.rolname::text as name, pg_catalog.now() as now, pg_catalog.current_setting('server_version_num')::int as version, r.rolsuper as superuser,
            r.rolcreatedb as createdb, r.rolreplication as replication, r.rolbypassrls as bypassrls
       from pg_catalog.pg_roles r where r.rolname = current_user`,
  );
  const row = rows[0];
  if (!row) throw new Error('the admin role (current_user) is not in pg_roles');
  return row;
}

/**
 * Whether a non-superuser admin may remove an attribute from a role: SUPERUSER never;
 * before 16 REPLICATION and BYPASSRLS need a superuser (CREATEROLE covers the rest); from
 * 16 on, changing CREATEDB, REPLICATION or BYPASSRLS needs the admin to hold it.
 */
function mayRemove(admin: AdminInfo, attribute: ElevatedAttribute): boolean {
  if (admin.superuser) return true;
  switch (attribute) {
    case 'SUPERUSER':
      return false;
    case 'CREATEROLE':
      return true;
    case 'CREATEDB':
      return admin.version < 160000 || admin.createdb;
    case 'REPLICATION':
      return admin.version >= 160000 && admin.replication;
    case 'BYPASSRLS':
      return admin.version >= 160000 && admin.bypassrls;
  }
}

/**
 * Re-issuing resets the attributes a DBA added by hand. One the admin may not remove fails
 * the whole call before any change, rather than hand out a credential that keeps it.
 */
function refuseUnresettable(admin: AdminInfo, existing: ReadonlyMap<string, RoleState>): void {
  const stuck = [...existing.values()]
    .map((s) => ({ name: s.name, attributes: s.elevated.filter((a) => !mayRemove(admin, a)) }))
    .filter((s) => s.attributes.length > 0);
  if (stuck.length === 0) return;
  throw new Error(
    `refusing to re-issue: ${stuck.map((s) => `role ${ident(s.name)} holds ${s.attributes.join(', ')}`).join('; ')}, added outside adaptive-access, ` +
      `which the admin role ${ident(admin.name)} may not remove (PostgreSQL ${Math.floor(admin.version / 10000)}: ` +
      'SUPERUSER needs a superuser; REPLICATION, BYPASSRLS and from 16 on CREATEDB need a superuser or an admin holding them). ' +
      `Nothing was changed. Run as a superuser: ${stuck.map((s) => `ALTER ROLE ${ident(s.name)} ${s.attributes.map((a) => `NO${a}`).join(' ')};`).join(' ')}`,
  );
}

/** Every attribute an issued credential has, spelled out so that none a DBA added survives. */
const BASE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';

/**
 * The attributes to reset on re-issue. A superuser names them all. For anyone else,
 * PostgreSQL refuses the mere mention of SUPERUSER, REPLICATION or BYPASSRLS (and on 16+
 * CREATEDB) unless it may change them, so only those the role actually holds are named
 * (`refuseUnresettable` has checked the admin may); the verification at the end of the
 * script catches an attribute added between our read and our ALTER.
 */
function resetAttributes(existing: RoleState, admin: AdminInfo): string {
  if (admin.superuser) return BASE_ATTRIBUTES;
  const named = existing.elevated.filter((a) => a !== 'CREATEROLE').map((a) => `NO${a}`);
  return ['LOGIN', 'NOCREATEROLE', 'INHERIT', ...named].join(' ');
}

/**
 * The memberships of an issued login role. From PostgreSQL 16 on they are granted with
 * `SET FALSE`: the access role's privileges are inherited, but the member cannot SET ROLE
 * to it (objects it then created would belong to the access role, outliving the member);
 * the marker carries nothing to inherit, and SET ROLE to it would let a member create
 * objects the marker owns, so it gets `INHERIT FALSE, SET FALSE`. Nothing a member does
 * needs SET ROLE. PostgreSQL 15 has no SET option: there any membership allows SET ROLE,
 * which cannot be prevented (what the access role comes to own is handed over with it).
 * A GRANT of an existing membership by the same grantor updates its options; a membership
 * some other grantor gave keeps its own.
 */
function membershipGrants(role: string, accessRole: string, version: number): string[] {
  return [
    `GRANT ${ident(accessRole)} TO ${role} WITH INHERIT TRUE, SET FALSE`,
    `GRANT ${ident(MANAGED_ROLE)} TO ${role} WITH INHERIT FALSE, SET FALSE`,
  ].filter(() => version >= 160000);
}

function roleStatements(
  name: string,
  verifier: string,
  r: CredentialRequest,
  validUntil: Date,
  existing: RoleState | undefined,
  metadata: CredentialMetadata,
  admin: AdminInfo,
): string[] {
  const role = ident(name);
  const out: string[] = [];
  const secret = `PASSWORD ${literal(verifier)} VALID UNTIL ${timestampLiteral(validUntil)}`;
  if (!existing) {
    // CREATE ROLE ... IN ROLE cannot say SET FALSE: on 16+ the memberships are granted after.
    const inRole = admin.version >= 160000 ? '' : ` IN ROLE ${identList([r.accessRole, MANAGED_ROLE])}`;
    out.push(`CREATE ROLE ${role} WITH ${BASE_ATTRIBUTES} ${secret}${inRole}`);
    out.push(...membershipGrants(role, r.accessRole, admin.version));
  } else {
    out.push(`ALTER ROLE ${role} WITH ${resetAttributes(existing, admin)} ${secret}`);
    const extra = existing.memberOf.filter((g) => g !== r.accessRole);
    if (extra.length > 0) out.push(`REVOKE ${identList(extra)} FROM ${role}`);
    if (admin.version >= 160000) out.push(...membershipGrants(role, r.accessRole, admin.version));
    else if (!existing.memberOf.includes(r.accessRole)) out.push(`GRANT ${ident(r.accessRole)} TO ${role}`);
  }
  if (r.settings) out.push(...sessionSettingStatements(name, r.settings, admin.version, !existing));
  out.push(`COMMENT ON ROLE ${role} IS ${literal(JSON.stringify(metadata))}`);
  return out;
}

/**
 * A DO block, last in the issuing transaction, that fails it when any issued role holds an
 * elevated attribute or NOINHERIT after all (a DBA's ALTER ROLE between our read and ours).
 */
function verifyIssuedSql(names: readonly string[]): string {
  const list = `ARRAY[${names.map((n) => literal(n)).join(', ')}]::text[]`;
  return (
    `DO $adaptive$ DECLARE found text; BEGIN ` +
    `SELECT string_agg(pg_catalog.format('%I (%s)', r.rolname, pg_catalog.array_to_string(${ELEVATED_SQL} || ` +
    `case when r.rolinherit then '{}'::text[] else '{NOINHERIT}'::text[] end, ', ')), '; ') INTO found ` +
    `FROM pg_catalog.pg_roles r WHERE r.rolname = ANY (${list}) ` +
    `AND (${Object.values(ELEVATED_ATTRIBUTES).map((c) => `r.${c}`).join(' OR ')} OR NOT r.rolinherit); ` +
    `IF found IS NOT NULL THEN RAISE EXCEPTION 'issued login role(s) hold attributes a credential must not have: %; nothing was issued', found; END IF; ` +
    `END $adaptive$`
  );
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
  elevated: ElevatedAttribute[];
}

/**
 * Every direct member of `adaptive_managed` (the login roles this system issued, live,
 * expired or left disabled by a failed drop), with expiry, memberships, elevated attributes
 * (drift: a credential that holds any is not usable as issued) and metadata. Ordered by
 * expiry, then name.
 */
export async function listManagedRoles(target: TargetDb): Promise<ManagedRole[]> {
  const { rows } = await target.pool.query<ManagedRoleRow>(
    `select r.rolname::text as name, r.rolcanlogin as can_login,
            case when r.rolvaliduntil = 'infinity' then null when r.rolvaliduntil = '-infinity' then 'epoch' else r.rolvaliduntil end as valid_until,
            array(select distinct g.rolname::text from pg_catalog.pg_auth_members m join pg_catalog.pg_roles g on g.oid = m.roleid
                  where m.member = r.oid and g.rolname <> $1 order by 1) as member_of,
            pg_catalog.shobj_description(r.oid, 'pg_authid') as comment,
            ${ELEVATED_SQL} as elevated
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
    elevated: r.elevated,
    metadata: parseMetadata(r.comment),
  }));
}
