/**
 * Revocation: the sequence that makes a credential's access end now, not merely its
 * password. `DROP ROLE` alone leaves open sessions running, and fails when the role owns
 * objects or holds privileges; both are handled here.
 *
 * For the roles given (batched, as many at a time as the server's lock table allows; a
 * failing batch falls back to one role at a time):
 *
 *  a. `ALTER ROLE ... NOLOGIN VALID UNTIL <now>`, committed first: no new session can
 *     start. Then (best effort, its own transaction) revoke every membership except the
 *     marker role and note the revocation in the comment: open sessions lose the access
 *     role's privileges at once, since membership is checked on every access. The marker
 *     membership stays until the drop, so a role left behind is still recognised as ours
 *     and retried.
 *  b. Terminate the role's backends and re-check `pg_stat_activity` until none is left
 *     (bounded): a backend that passed authentication just before (a) committed shows up
 *     late, the race Teleport guards against the same way.
 *  c. In every database (connections allowed) where the role owns objects or holds
 *     privileges, as `pg_shdepend` records them: its objects are reassigned to the
 *     privilege-less `adaptive_revoked` (never to the admin: a member's SECURITY DEFINER
 *     function would then run as the admin) with SECURITY DEFINER functions and views made
 *     to run as their caller, or dropped, as the target's `revokedObjects` says
 *     (revoked-owner.ts); then `DROP OWNED BY role`. `pg_shdepend` is exactly what
 *     `DROP ROLE` checks, so databases without such entries need no connection (which also keeps us out of template1,
 *     where a session blocks `CREATE DATABASE`).
 *  d. In the target's database, one transaction: the same for objects there and shared
 *     objects for the roles `pg_shdepend` names there, `DROP ROLE`; then a last
 *     termination pass by role OID for any backend that slipped in during the sequence. A role that owns and holds nothing, the usual case, costs only `DROP ROLE`.
 *
 * REASSIGN/DROP OWNED require the privileges of the role they act on. A superuser has
 * them; a CREATEROLE admin (managed PostgreSQL) does not: before PostgreSQL 16 it is no
 * member of the roles it creates, and from 16 on its automatic membership carries ADMIN
 * OPTION but not INHERIT. So, in the same transaction as the REASSIGN, it grants itself the
 * role (CREATEROLE allows that before 16, ADMIN OPTION from 16 on, with INHERIT TRUE).
 * In (d) `DROP ROLE` removes that membership with the role, and a failure rolls it back
 * with everything else; in (c) the grant is taken back before COMMIT, so a role left
 * disabled never leaves the admin holding its privileges. The admin's membership in
 * `adaptive_revoked`, which receiving the objects needs too, is always taken back before
 * COMMIT (revoked-owner.ts).
 *
 * A role that fails at any step after (a) stays disabled (NOLOGIN, expired) and is reported
 * for a later retry; nothing throws halfway. Each role's advisory lock is held (session
 * level) for the whole sequence, so a concurrent issue or extend of the same role waits.
 *
 * Only credentials this product issued are touched: direct members of `adaptive_managed`
 * that carry our comment. Any other role is refused and left exactly as it was, as are
 * superusers, CREATEROLE roles, holders of ADMIN OPTION on the marker and the admin itself.
 */
import type { Client, ClientBase, PoolClient } from 'pg';
import type { RevokedObjects, TargetDb } from '../types';
import { lockCredentialRoles, readRoleStates, rolesPerTransaction, serverNow, timestampLiteral, unlockCredentialRoles, type RoleState } from './login-roles';
import { MANAGED_BY, parseMetadata } from './marker';
import { errorText } from '../errors';
import { transaction } from '../pg/locks';
import { MANAGED_ROLE } from '../pg/roles';
import { disposeOwnedStatements } from './revoked-owner';
import { ident, identList, literal } from '../pg/sql';

/** A role revocation did not finish, and why. */
export interface RevokeFailure {
  readonly role: string;
  readonly error: string;
}

/** What `revokeCredentials` did, role by role. */
export interface RevokeResult {
  /** Dropped, or already absent. */
  readonly revoked: string[];
  /** Refused (not managed) and untouched, or disabled but not dropped yet. */
  readonly failed: RevokeFailure[];
  /** Left alone because `onlyIfExpiredBy` did not hold under the lock, or (with it) already gone. */
  readonly skipped: string[];
}

/** Tuning and guards for `revokeCredentials`. */
export interface RevokeOptions {
  /**
   * Revoke only roles whose `VALID UNTIL` is at or before this instant, as read under the
   * lock; the others are skipped. The reaper passes the server's clock as its scan read it,
   * so a credential re-issued between its scan and its revocation survives.
   */
  readonly onlyIfExpiredBy?: Date;
  /** How long `pg_terminate_backend` waits for each backend to exit, in ms (default 5000). */
  readonly terminateTimeoutMs?: number;
  /** Termination rounds before giving up on a role for now (default 5). */
  readonly terminateRounds?: number;
  /** What to do with objects the roles own; default the target's `revokedObjects`, else `reassign`. */
  readonly revokedObjects?: RevokedObjects;
}

/** The disposal mode for a revocation: the option, the target's setting, or `reassign`. */
function revokedObjectsOf(target: TargetDb, options: RevokeOptions): RevokedObjects {
  return options.revokedObjects ?? target.revokedObjects ?? 'reassign';
}

type Outcome = { kind: 'revoked' } | { kind: 'skipped' } | { kind: 'failed'; error: string };

/**
 * Revokes credentials: disable, end sessions, clean up owned objects and privileges in
 * every database, drop (see the module comment). `reason` is recorded in the role's comment
 * while the sequence runs, so a role left disabled says why. Never throws: every role ends
 * up in exactly one of `revoked`, `failed`, `skipped`.
 */
export async function revokeCredentials(
  target: TargetDb,
  roleNames: readonly string[],
  reason: string,
  options: RevokeOptions = {},
): Promise<RevokeResult> {
  const names = [...new Set(roleNames)];
  const outcomes = new Map<string, Outcome>();
  if (names.length > 0) {
    let client: PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await target.pool.connect();
      // Many roles go in batches that fit the server's lock table (each role's lock is held
      // through its whole sequence); every role's outcome stands on its own.
      const size = await rolesPerTransaction(client);
      for (let start = 0; start < names.length && !broken; start += size) {
        const batch = names.slice(start, start + size);
        await lockCredentialRoles(client, batch, 'session');
        try {
          await runSequence(target, client, batch, reason, options, outcomes);
        } finally {
          await unlockCredentialRoles(client, batch).catch((err: unknown) => {
            // A connection that cannot unlock must not go back to the pool holding locks.
            broken = err instanceof Error ? err : new Error(String(err));
          });
        }
      }
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
    } finally {
      client?.release(broken);
    }
    if (broken) {
      for (const name of names) {
        if (!outcomes.has(name)) outcomes.set(name, { kind: 'failed', error: errorText(broken, { withDetail: true }) });
      }
    }
  }
  const result: RevokeResult = { revoked: [], failed: [], skipped: [] };
  for (const name of names) {
    const outcome = outcomes.get(name);
    if (outcome?.kind === 'revoked') result.revoked.push(name);
    else if (outcome?.kind === 'skipped') result.skipped.push(name);
    else result.failed.push({ role: name, error: outcome?.kind === 'failed' ? outcome.error : 'not processed' });
  }
  return result;
}

async function runSequence(
  target: TargetDb,
  client: PoolClient,
  names: readonly string[],
  reason: string,
  options: RevokeOptions,
  outcomes: Map<string, Outcome>,
): Promise<void> {
  const fail = (role: string, error: string): void => void outcomes.set(role, { kind: 'failed', error });
  const states = await readRoleStates(client, names);
  let work: RoleState[] = [];
  for (const name of names) {
    const state = states.get(name);
    const refusal = state && refusalOf(state);
    // Gone already: revoked, for a caller revoking it now; for the reaper (onlyIfExpiredBy),
    // someone else's revocation (another replica), which is theirs to report and record.
    if (!state) outcomes.set(name, options.onlyIfExpiredBy ? { kind: 'skipped' } : { kind: 'revoked' });
    else if (refusal) fail(name, `refused: ${refusal}; left untouched`);
    else if (options.onlyIfExpiredBy && (state.validUntil === null || state.validUntil.getTime() > options.onlyIfExpiredBy.getTime())) {
      outcomes.set(name, { kind: 'skipped' });
    } else work.push(state);
  }
  if (work.length === 0) return;

  // (a) Disable: committed before anything else, and alone, so that nothing else that
  // might fail (a membership granted by someone we cannot revoke for) holds it back.
  // The expiry it sets is the server's clock, which the reaper compares with for a retry.
  const revokedAt = await serverNow(client);
  work = await eachBatch(work, fail, 'could not disable (login still possible)', (batch) =>
    transaction(client, async () => {
      await client.query(batch.map((s) => disableStatement(s, revokedAt)).join(';\n'));
    }),
  );
  if (work.length === 0) return;
  const disabled = work;
  const stripped = new Set<string>();
  const strip = async (roles: RoleState[]): Promise<void> => {
    const done = await eachBatch(roles, () => undefined, '', (batch) =>
      transaction(client, async () => {
        await client.query(batch.map((s) => stripStatements(s, revokedAt, reason)).join(';\n'));
      }),
    );
    for (const s of done) stripped.add(s.name);
  };
  try {
    await dropDisabled(target, client, work, options, outcomes, strip);
  } finally {
    // A role left behind (disabled, not dropped) keeps no membership and says why. Best
    // effort: it is disabled either way, and the reaper retries it.
    const left = disabled.filter((s) => outcomes.get(s.name)?.kind !== 'revoked' && !stripped.has(s.name));
    if (left.length > 0) await strip(left).catch(() => undefined);
  }
}

/** Steps (b) to (d) for roles disabled by (a); `strip` revokes memberships and notes the reason in the comment. */
async function dropDisabled(
  target: TargetDb,
  client: PoolClient,
  disabled: RoleState[],
  options: RevokeOptions,
  outcomes: Map<string, Outcome>,
  strip: (roles: RoleState[]) => Promise<void>,
): Promise<void> {
  const fail = (role: string, error: string): void => void outcomes.set(role, { kind: 'failed', error });
  let work = disabled;
  // Roles with open sessions lose their memberships now, so those sessions lose the access
  // role's privileges before termination (membership is checked on every access). Roles
  // without sessions need no such step: they can no longer log in, and DROP ROLE removes
  // their memberships (revoking them one by one costs the server a scan of the access
  // role's members each, quadratic for a large group). A session that shows up late is
  // terminated below like any other.
  const inSession = await rolesWithSessions(client, work.map((s) => s.oid));
  if (inSession.size > 0) await strip(work.filter((s) => inSession.has(s.oid)));

  // (b) End open sessions; re-check until none is left.
  const lingering = await terminateSessions(client, work.map((s) => s.oid), options);
  work = work.filter((s) => {
    const count = lingering.get(s.oid);
    if (count === undefined) return true;
    fail(s.name, `${count} session(s) still open after termination; login is disabled, retry later`);
    return false;
  });
  if (work.length === 0) return;

  // (c) Owned objects and privileges in the other databases.
  work = await cleanOtherDatabases(target, client, work, fail, revokedObjectsOf(target, options));
  if (work.length === 0) return;

  // (d) Here (and shared objects), then drop. Dependencies are read in the transaction
  // that drops: a privilege granted to a role after the read makes DROP ROLE fail, and
  // the role stays disabled for a retry, never half dropped.
  const dropped = await eachBatch(work, fail, 'disabled but not dropped; retry later', (batch) =>
    transaction(client, async () => {
      const owning = await dependentHere(client, batch);
      const mode = revokedObjectsOf(target, options);
      const statements = owning.length > 0 ? await cleanupStatements(client, owning, { undoGrant: false, mode }) : [];
      statements.push(`DROP ROLE ${identList(batch.map((s) => s.name))}`);
      await client.query(statements.join(';\n'));
    }),
  );
  for (const s of dropped) outcomes.set(s.name, { kind: 'revoked' });
  if (dropped.length > 0) {
    // The role is gone from pg_authid, but a backend that authenticated in the instant
    // before (a) could still be running under its OID.
    await terminateSessions(client, dropped.map((s) => s.oid), { ...options, terminateRounds: 1 }).catch(() => undefined);
  }
}

/** The OIDs among `oids` that have a backend now. */
async function rolesWithSessions(client: ClientBase, oids: readonly number[]): Promise<Set<number>> {
  const { rows } = await client.query<SessionRow>(
    'select distinct usesysid::int8::float8 as usesysid from pg_catalog.pg_stat_activity where usesysid = any($1::oid[]) and pid <> pg_catalog.pg_backend_pid()',
    [oids],
  );
  return new Set(rows.map((r) => Number(r.usesysid)));
}

/**
 * Why a role must not be revoked, or undefined when it is a credential this product issued:
 * a direct member of the marker role carrying our comment, and none of what marks an admin
 * (superuser, CREATEROLE, ADMIN OPTION on the marker, the connected role itself). A role
 * that fails this is left exactly as it was, whatever the caller (or the catalog) says.
 */
function refusalOf(state: RoleState): string | undefined {
  if (!state.managed) return `not a member of ${MANAGED_ROLE}`;
  if (!state.marked) return 'no credential comment of adaptive-access (not issued by it)';
  if (state.superuser) return 'role is a superuser';
  if (state.createRole) {
    return `role has CREATEROLE, which marks an admin, not a credential (if it is a credential given CREATEROLE by hand, run ALTER ROLE ${ident(state.name)} NOCREATEROLE and retry)`;
  }
  if (state.adminOfMarker) return `role holds ADMIN OPTION on ${MANAGED_ROLE} (an admin, not a credential)`;
  if (state.isCurrentUser) return 'role is the admin role itself';
  return undefined;
}

/** NOLOGIN, and an expiry no later than now (the reaper's mark of a role to retry). */
function disableStatement(state: RoleState, revokedAt: Date): string {
  const until = state.validUntil !== null && state.validUntil.getTime() < revokedAt.getTime() ? state.validUntil : revokedAt;
  return `ALTER ROLE ${ident(state.name)} WITH NOLOGIN VALID UNTIL ${timestampLiteral(until)}`;
}

/** Revoke every membership but the marker's; note the revocation in the comment. */
function stripStatements(state: RoleState, revokedAt: Date, reason: string): string {
  const role = ident(state.name);
  const metadata = {
    ...(parseMetadata(state.comment) ?? { managed_by: MANAGED_BY }),
    revoked_at: revokedAt.toISOString(),
    revoke_reason: reason,
  };
  const statements: string[] = [];
  if (state.memberOf.length > 0) statements.push(`REVOKE ${identList(state.memberOf)} FROM ${role}`);
  statements.push(`COMMENT ON ROLE ${role} IS ${literal(JSON.stringify(metadata))}`);
  return statements.join(';\n');
}

/**
 * Runs `run` on all items; if that fails, on each item alone, so one bad role cannot hold
 * back the others. Returns the items that succeeded; reports the others through `fail`.
 */
async function eachBatch(
  items: RoleState[],
  fail: (role: string, error: string) => void,
  what: string,
  run: (batch: RoleState[]) => Promise<void>,
): Promise<RoleState[]> {
  try {
    await run(items);
    return items;
  } catch (err) {
    if (items.length === 1) {
      fail(items[0]!.name, `${what}: ${errorText(err, { withDetail: true })}`);
      return [];
    }
  }
  const ok: RoleState[] = [];
  for (const item of items) {
    try {
      await run([item]);
      ok.push(item);
    } catch (err) {
      fail(item.name, `${what}: ${errorText(err, { withDetail: true })}`);
    }
  }
  return ok;
}

interface SessionRow {
  usesysid: number;
}

/**
 * Terminates every backend of the given role OIDs, waiting for each to exit
 * (`pg_terminate_backend(pid, timeout)`, PostgreSQL 14+), and repeats while
 * `pg_stat_activity` still shows any. Returns the OIDs still having sessions, with counts.
 */
async function terminateSessions(client: ClientBase, oids: readonly number[], options: RevokeOptions): Promise<Map<number, number>> {
  const timeout = options.terminateTimeoutMs ?? 5000;
  const rounds = options.terminateRounds ?? 5;
  for (let round = 0; round < rounds; round++) {
    const { rows } = await client.query<SessionRow>(
      `select usesysid::int8::float8 as usesysid, pg_catalog.pg_terminate_backend(pid, $2) as gone
         from pg_catalog.pg_stat_activity
        where usesysid = any($1::oid[]) and pid <> pg_catalog.pg_backend_pid()`,
      [oids, timeout],
    );
    if (rows.length === 0) return new Map();
  }
  const { rows } = await client.query<SessionRow>(
    `select usesysid::int8::float8 as usesysid from pg_catalog.pg_stat_activity
      where usesysid = any($1::oid[]) and pid <> pg_catalog.pg_backend_pid()`,
    [oids],
  );
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(r.usesysid, (counts.get(r.usesysid) ?? 0) + 1);
  return counts;
}

interface DependencyRow {
  datname: string;
  allowed: boolean;
  oids: number[];
}

/** Step (c): REASSIGN/DROP OWNED in each other database where `pg_shdepend` has entries. */
async function cleanOtherDatabases(
  target: TargetDb,
  client: ClientBase,
  work: RoleState[],
  fail: (role: string, error: string) => void,
  mode: RevokedObjects,
): Promise<RoleState[]> {
  const { rows } = await client.query<DependencyRow>(
    `select d.datname::text as datname, d.datallowconn as allowed, pg_catalog.array_agg(distinct s.refobjid::int8::float8) as oids
       from pg_catalog.pg_shdepend s join pg_catalog.pg_database d on d.oid = s.dbid
      where s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = any($1::oid[])
        and d.datname <> pg_catalog.current_database()
      group by d.datname, d.datallowconn
      order by d.datname`,
    [work.map((s) => s.oid)],
  );
  const failed = new Set<number>();
  for (const row of rows) {
    const roles = work.filter((s) => row.oids.includes(s.oid) && !failed.has(s.oid));
    if (roles.length === 0) continue;
    const markFailed = (role: string, error: string): void => {
      const state = roles.find((s) => s.name === role);
      if (state) failed.add(state.oid);
      fail(role, error);
    };
    if (!row.allowed) {
      for (const s of roles) {
        markFailed(s.name, `owns objects or holds privileges in database ${JSON.stringify(row.datname)}, which does not allow connections; disabled, not dropped`);
      }
      continue;
    }
    let other: Client;
    try {
      other = await target.connect(row.datname);
    } catch (err) {
      // Dropped since we looked: nothing of the role's is left in it.
      if ((err as { code?: unknown }).code === '3D000') continue;
      for (const s of roles) markFailed(s.name, `could not connect to database ${JSON.stringify(row.datname)}: ${errorText(err, { withDetail: true })}`);
      continue;
    }
    try {
      await eachBatch(roles, markFailed, `cleanup in database ${JSON.stringify(row.datname)} failed; disabled, not dropped`, (batch) =>
        transaction(other, async () => {
          await other.query((await cleanupStatements(other, batch, { undoGrant: true, mode })).join(';\n'));
        }),
      );
    } finally {
      await other.end().catch(() => undefined);
    }
  }
  return work.filter((s) => !failed.has(s.oid));
}

/**
 * The roles among `roles` that `pg_shdepend` ties to the connected database or to shared
 * objects: the only ones REASSIGN/DROP OWNED can have work for here. Login roles that own
 * and hold nothing (no table created, no privilege granted to them directly) have no entry.
 */
async function dependentHere(client: ClientBase, roles: readonly RoleState[]): Promise<RoleState[]> {
  const { rows } = await client.query<{ oid: number }>(
    `select distinct s.refobjid::int8::float8 as oid from pg_catalog.pg_shdepend s
      where s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = any($1::oid[])
        and s.dbid in (0, (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database()))`,
    [roles.map((s) => s.oid)],
  );
  const found = new Set(rows.map((r) => r.oid));
  return roles.filter((s) => found.has(s.oid));
}

interface ActAsRow {
  oid: number;
  admin: string;
  usage: boolean;
  member: boolean;
  own_grant: boolean;
  version: number;
}

/**
 * The disposal of what `roles` own in the connected database (revoked-owner.ts: reassigned
 * to `adaptive_revoked`, or dropped; then DROP OWNED), wrapped, for roles whose privileges
 * the admin lacks, in a membership it grants itself (see the module comment). With
 * `undoGrant` the grant is taken back at the end (same transaction), leaving the admin's memberships as they were; without it the caller
 * drops the roles in the same transaction, which removes the grant with them.
 */
async function cleanupStatements(
  client: ClientBase,
  roles: readonly RoleState[],
  options: { readonly undoGrant: boolean; readonly mode: RevokedObjects },
): Promise<string[]> {
  const { rows } = await client.query<ActAsRow>(
    `select r.oid::int8::float8 as oid, a.rolname::text as admin,
            pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') as usage,
            exists (select from pg_catalog.pg_auth_members m where m.roleid = r.oid and m.member = a.oid) as member,
            exists (select from pg_catalog.pg_auth_members m where m.roleid = r.oid and m.member = a.oid and m.grantor = a.oid) as own_grant,
            pg_catalog.current_setting('server_version_num')::int as version
       from pg_catalog.pg_roles r cross join pg_catalog.pg_roles a
      where r.oid = any($1::oid[]) and a.rolname = current_user`,
    [roles.map((s) => s.oid)],
  );
  const byOid = new Map(rows.map((r) => [r.oid, r]));
  const grant: string[] = [];
  const restoreInherit: string[] = [];
  const revoke: string[] = [];
  for (const s of roles) {
    const row = byOid.get(s.oid);
    // Gone since it was read: REASSIGN/DROP OWNED report that themselves.
    if (!row || row.usage) continue;
    // Before 16 a membership confers privileges only to a role with INHERIT: granting again
    // cannot help a NOINHERIT admin (and the undo would take its membership away).
    if (row.version < 160000 && row.member) {
      throw new Error(
        `the admin role ${ident(row.admin)} is a member of ${ident(s.name)} but does not inherit its privileges (NOINHERIT), ` +
          `which REASSIGN/DROP OWNED need; run as a superuser: ALTER ROLE ${ident(row.admin)} INHERIT;`,
      );
    }
    grant.push(s.name);
    // From 16 the admin may already hold a membership it granted itself without INHERIT:
    // our GRANT only switches INHERIT on there, so the undo switches it off again.
    (row.own_grant ? restoreInherit : revoke).push(s.name);
  }

  const version = rows[0]?.version ?? 0;
  const statements: string[] = [];
  if (grant.length > 0) statements.push(`GRANT ${identList(grant)} TO CURRENT_USER${version >= 160000 ? ' WITH INHERIT TRUE' : ''}`);
  statements.push(...(await disposeOwnedStatements(client, roles, options.mode)));
  if (options.undoGrant) {
    if (revoke.length > 0) statements.push(`REVOKE ${identList(revoke)} FROM CURRENT_USER`);
    if (restoreInherit.length > 0) statements.push(`GRANT ${identList(restoreInherit)} TO CURRENT_USER WITH INHERIT FALSE`);
  }
  return statements;
}
