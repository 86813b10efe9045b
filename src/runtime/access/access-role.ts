/**
 * Endpoint access roles. An endpoint (an authorization applied to a target) becomes one
 * NOLOGIN role on the target that holds the authorization's grants; members' login roles
 * only get membership in it, so ACLs stay small however many people have access, and
 * revoking a person is one statement.
 *
 * Every change runs in one transaction under advisory locks: the role's own lock, and one
 * per database for ACL changes (GRANT and ALTER DEFAULT PRIVILEGES on shared objects such
 * as a schema's pg_default_acl row would otherwise fail with "tuple concurrently updated"
 * when two endpoints sync at once). The role's comment records the endpoint, database and
 * the permissions last applied, which marks it as ours and lets `readAccessRole` name an
 * unchanged role in exactly the terms it was synced with.
 */
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES, ValidationError, type Permissions, type RevokedObjects, type SequencePrivilege, type TargetDb, type ValidationIssue } from '../types';
import { createManagedRoleSql, verifyManagedRole } from './marker';
import { MANAGED_ROLE } from '../pg/roles';
import {
  NOTHING_WANTED,
  derivePermissions,
  diffContext,
  diffGrants,
  findRole,
  planWanted,
  readHeld,
  readMembers,
  readServer,
  renderFixes,
  runStatements,
  withContext,
  type DriftItem,
  type Fix,
} from './grants';
import { isRetryable, lockKeys, transaction } from '../pg/locks';
import { disposeOwnedStatements, ensureRevokedOwner } from './revoked-owner';
import { ident, identList, literal } from '../pg/sql';

/** Prefix of every endpoint access role. */
export const ACCESS_ROLE_PREFIX = 'adaptive_ep_';

/** PostgreSQL cuts identifiers silently at NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

const HASH_HEX_CHARS = 10;
const HASHED_NAME = new RegExp(`_[0-9a-f]{${HASH_HEX_CHARS}}$`);

/** The first `maxBytes` bytes of `text` in UTF-8, never splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += char;
  }
  return out;
}

/**
 * `prefix + name` when it fits in 63 bytes, else cut and given `_` + 10 hex digits of
 * SHA-256(name). Injective in practice: a name that would *look* hashed (ends in `_` and
 * 10 hex digits) is hashed too, so an uncut name can never equal a hashed one, and two
 * hashed names collide only if their 40-bit hashes do.
 */
export function boundedRoleName(prefix: string, name: string): string {
  if (name.length === 0) throw new Error('a role name needs a non-empty name part');
  if (name.includes('\0')) throw new Error('a role name cannot contain a NUL byte');
  const full = prefix + name;
  if (Buffer.byteLength(full, 'utf8') <= MAX_IDENTIFIER_BYTES && !HASHED_NAME.test(full)) return full;
  const suffix = `_${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS)}`;
  return cutUtf8(full, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
}

/** The access role of an endpoint: `adaptive_ep_<endpoint>`, at most 63 bytes. */
export function accessRoleName(endpoint: string): string {
  return boundedRoleName(ACCESS_ROLE_PREFIX, endpoint);
}

/** Advisory-lock name for changes to one role (shared with the credential code). */
export function roleLockName(role: string): string {
  return `role:${role}`;
}

/** Advisory-lock name for ACL changes in one database. */
export function aclLockName(database: string): string {
  return `acl:${database}`;
}

// ---------------------------------------------------------------------------------------
// Connections

async function withClient<T>(target: TargetDb, database: string, fn: (client: ClientBase) => Promise<T>): Promise<T> {
  if (database === target.database) {
    const client = await target.pool.connect();
    try {
      const result = await fn(client);
      client.release();
      return result;
    } catch (err) {
      // The transaction helper has rolled back; only a client whose connection broke
      // (the probe fails) must not go back to the pool.
      const healthy = await client.query('select 1').then(
        () => true,
        () => false,
      );
      client.release(healthy ? undefined : true);
      throw err;
    }
  }
  const client = await target.connect(database);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function isDuplicateRole(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // 42710: created before our statement started; 23505: by a transaction that committed
  // while ours waited on the unique index (advisory locks are per database, so two
  // connections to different databases are not serialised by them).
  return code === '42710' || code === '23505';
}

/**
 * Creates the marker role `adaptive_managed` (NOLOGIN) if it does not exist, and
 * `adaptive_revoked` likewise, refusing a role of either name that is not ours (`verifyManagedRole`). Safe to run
 * from many processes at once. Returns whether this call created the marker.
 */
export async function ensureManagedRole(target: TargetDb): Promise<boolean> {
  return withClient(target, target.database, async (client) => {
    try {
      return await transaction(client, async () => {
        await lockKeys(client, [roleLockName(MANAGED_ROLE)]);
        let created = false;
        if (await findRole(client, MANAGED_ROLE)) await verifyManagedRole(client);
        else {
          await client.query(createManagedRoleSql());
          created = true;
        }
        // The owner of revoked credentials' objects, made (and checked) up front: a role of
        // that name that is not ours is refused when the resource is applied, not at revocation.
        await ensureRevokedOwner(client);
        return created;
      });
    } catch (err) {
      if (isDuplicateRole(err)) return false;
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------------------
// The role comment: our marker, and the permissions last applied

const MANAGED_BY = 'adaptive-access';
const KIND = 'endpoint-access-role';

interface RoleMetadata {
  readonly endpoint: string;
  readonly database: string;
  readonly permissions: Permissions;
}

function commentFor(meta: RoleMetadata): string {
  return JSON.stringify({ managed_by: MANAGED_BY, kind: KIND, ...meta });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The metadata in a role comment, or null when the comment is not ours (or was edited beyond use). */
function parseComment(comment: string | null): RoleMetadata | null {
  if (!comment) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(comment);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const meta = parsed as Record<string, unknown>;
  if (meta.managed_by !== MANAGED_BY || meta.kind !== KIND) return null;
  if (typeof meta.endpoint !== 'string' || typeof meta.database !== 'string') return null;
  const p = meta.permissions as Record<string, unknown> | null | undefined;
  if (!p || !isStringArray(p.grants) || !isStringArray(p.schemas) || !isStringArray(p.tables)) return null;
  const known = new Set<string>(TABLE_PRIVILEGES);
  if (!p.grants.every((g) => known.has(g))) return null;
  if (p.functions !== undefined && !isStringArray(p.functions)) return null;
  const base = {
    grants: p.grants as Permissions['grants'],
    schemas: p.schemas,
    tables: p.tables,
    ...(p.functions ? { functions: p.functions } : {}),
    // The database a set names (YAML form) is part of what was synced, so an unchanged role reads back equal.
    ...(typeof p.database === 'string' ? { database: p.database } : {}),
  };
  const s = p.sequences as Record<string, unknown> | undefined;
  if (s !== undefined) {
    const knownSequence = new Set<string>(SEQUENCE_PRIVILEGES);
    if (!s || !isStringArray(s.privileges) || !isStringArray(s.names) || !s.privileges.every((g) => knownSequence.has(g))) return null;
    const sequences = { privileges: s.privileges as SequencePrivilege[], names: s.names };
    return { endpoint: meta.endpoint, database: meta.database, permissions: { ...base, sequences } };
  }
  return { endpoint: meta.endpoint, database: meta.database, permissions: base };
}

function notOurs(endpoint: string, role: string): Error {
  return new Error(
    `endpoint ${JSON.stringify(endpoint)}: role ${ident(role)} exists but was not created by adaptive-access ` +
      '(its comment does not mark it as an endpoint access role); it is left untouched. Drop or rename it, then apply again.',
  );
}

// ---------------------------------------------------------------------------------------
// Sync

/** What to sync: the endpoint (names the role), its permissions, and where. */
export interface SyncAccessRoleOptions {
  readonly endpoint: string;
  readonly permissions: Permissions;
  /** The database whose schemas and tables are granted; default the target's database. */
  readonly database?: string;
}

/** What a sync did. */
export interface SyncAccessRoleResult {
  readonly role: string;
  readonly database: string;
  readonly created: boolean;
  /** False when the role was already exactly as wanted (nothing was executed). */
  readonly changed: boolean;
  /** The DDL executed, in order (no secrets: access roles have no password). */
  readonly statements: readonly string[];
  /**
   * What could not be made exact, and why: default privileges for a schema owner the admin
   * may not act for, extra grants the admin may not revoke, privileges outside the model.
   */
  readonly warnings: readonly string[];
}

/** Shape checks only; the full validation (JSON Schema) happens at plan time. */
function checkPermissions(endpoint: string, permissions: Permissions): void {
  const issues: ValidationIssue[] = [];
  const issue = (field: string, message: string): void => {
    issues.push({ field, message: `endpoint ${JSON.stringify(endpoint)}: ${message}` });
  };
  const known = new Set<string>(TABLE_PRIVILEGES);
  permissions.grants.forEach((g, i) => {
    if (!known.has(g)) issue(`permissions.grants[${i}]`, `unknown privilege ${JSON.stringify(g)}; expected one of ${TABLE_PRIVILEGES.join(', ')}`);
  });
  permissions.schemas.forEach((s, i) => {
    if (s.length === 0 || s.includes('\0')) issue(`permissions.schemas[${i}]`, 'empty or invalid schema name');
  });
  permissions.tables.forEach((t, i) => {
    if (t.length === 0 || t.includes('\0')) issue(`permissions.tables[${i}]`, 'empty or invalid table name');
  });
  const knownSequence = new Set<string>(SEQUENCE_PRIVILEGES);
  permissions.sequences?.privileges.forEach((g, i) => {
    if (!knownSequence.has(g)) {
      issue(`permissions.sequences.privileges[${i}]`, `unknown privilege ${JSON.stringify(g)}; expected one of ${SEQUENCE_PRIVILEGES.join(', ')}`);
    }
  });
  permissions.sequences?.names.forEach((n, i) => {
    if (n.length === 0 || n.includes('\0')) issue(`permissions.sequences.names[${i}]`, 'empty or invalid sequence name');
  });
  permissions.functions?.forEach((f, i) => {
    if (f.length === 0 || f.includes('\0')) issue(`permissions.functions[${i}]`, 'empty or invalid function name');
  });
  if (issues.length > 0) throw new ValidationError(issues);
}

function fixesOf(items: readonly DriftItem[]): Fix[] {
  return items.flatMap((item) => (item.fix ? [item.fix] : []));
}

/**
 * Makes the endpoint's access role hold exactly `permissions` on `database`: creates it
 * (NOLOGIN) if missing, grants CONNECT, schema USAGE, the table privileges (`*`: every
 * table now and, through default privileges of the admin and each schema's owner, later),
 * USAGE on the sequences of serial/identity columns when INSERT or UPDATE is granted, and
 * revokes everything else it holds there, whoever granted it. One transaction: a missing
 * schema or table (a `ValidationError` naming it) or a grant the admin cannot make leaves
 * nothing changed. Idempotent: when nothing differs, nothing is executed.
 */
export async function syncAccessRole(target: TargetDb, options: SyncAccessRoleOptions): Promise<SyncAccessRoleResult> {
  const { endpoint, permissions } = options;
  const role = accessRoleName(endpoint);
  const database = options.database ?? target.database;
  checkPermissions(endpoint, permissions);
  return withClient(target, database, async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction(client, () => syncOnce(client, role, { endpoint, database, permissions }));
      } catch (err) {
        // Created concurrently through a connection to another database: the next attempt sees it.
        if (attempt < 3 && isDuplicateRole(err)) continue;
        throw err;
      }
    }
  });
}

async function syncOnce(client: ClientBase, role: string, meta: RoleMetadata): Promise<SyncAccessRoleResult> {
  const { endpoint, database, permissions } = meta;
  await lockKeys(client, [roleLockName(role), aclLockName(database)]);
  const server = await readServer(client);
  let row = await findRole(client, role);
  if (row && !parseComment(row.comment)) throw notOurs(endpoint, role);

  const wanted = await planWanted(client, server, permissions);
  if (wanted.issues.length > 0) {
    throw new ValidationError(wanted.issues.map((i) => ({ field: i.field, message: `endpoint ${JSON.stringify(endpoint)}: ${i.message}` })));
  }

  const statements: string[] = [];
  const warnings = new Set<string>(wanted.notes);
  let created = false;
  if (!row) {
    const sql = `CREATE ROLE ${ident(role)} NOLOGIN`;
    await client.query(sql);
    statements.push(sql);
    created = true;
    row = await findRole(client, role);
    if (!row) throw new Error(`role ${ident(role)} not found right after CREATE ROLE`);
  }

  const held = await readHeld(client, server, row.oid);
  const items = diffGrants(await diffContext(client, server, role, held, wanted), row, held, wanted);
  for (const item of items) if (!item.fix) warnings.add(item.message);
  const fixes = fixesOf(items);
  if (fixes.length > 0) {
    const run = await runStatements(client, renderFixes(role, fixes)).catch((err: unknown) => {
      throw withContext(err, `endpoint ${JSON.stringify(endpoint)}: the admin role ${ident(server.admin)}`, ' ');
    });
    statements.push(...run.executed);
    for (const w of run.warnings) warnings.add(w);

    // Prove the result with the same diff that read uses. GRANT without the right to grant
    // only warns ("no privileges were granted"); this turns that into an error.
    const after = await findRole(client, role);
    if (!after) throw new Error(`role ${ident(role)} disappeared during sync`);
    const heldAfter = await readHeld(client, server, after.oid);
    const remaining = diffGrants(await diffContext(client, server, role, heldAfter, wanted), after, heldAfter, wanted);
    const missing = remaining.filter((i) => i.missing);
    if (missing.length > 0) {
      throw new Error(
        `endpoint ${JSON.stringify(endpoint)}: the admin role ${ident(server.admin)} could not grant everything the authorization needs ` +
          "(GRANT needs the object's owner, a role with its privileges, or a grant option): " +
          `${missing.map((i) => i.message).join('; ')}. Nothing was changed.`,
      );
    }
    for (const item of remaining) if (item.fix) warnings.add(`not removed: ${item.message}`);
  }

  const comment = commentFor(meta);
  if (row.comment !== comment) {
    const sql = `COMMENT ON ROLE ${ident(role)} IS ${literal(comment)}`;
    await client.query(sql);
    statements.push(sql);
  }
  return { role, database, created, changed: statements.length > 0, statements, warnings: [...warnings] };
}

// ---------------------------------------------------------------------------------------
// Read

/** What an access role holds, read back from the catalogs. */
export interface AccessRoleState {
  readonly endpoint: string;
  readonly role: string;
  readonly database: string;
  /** Whether the role carries our marker comment (false: made or edited by hand). */
  readonly managed: boolean;
  /**
   * The role's privileges as a permission set. Exactly the permissions last synced when
   * nothing differs from them (so an unchanged role compares equal); otherwise what the
   * catalogs show (see `derivePermissions`), which then differs from the synced set.
   */
  readonly permissions: Permissions;
  /** Every difference from the synced permissions, for people; empty when in sync. */
  readonly drift: readonly string[];
  /** Roles that are members (login roles of people with access). */
  readonly members: readonly string[];
}

/**
 * Reads the endpoint's access role back from the catalogs (in one snapshot), or null when
 * it does not exist. Drift covers grants changed by hand (missing or extra, by any grantor),
 * tables created later that `*` does not cover, default privileges, grant options, column
 * privileges, memberships in other roles and elevated attributes.
 */
export async function readAccessRole(target: TargetDb, endpoint: string): Promise<AccessRoleState | null> {
  const role = accessRoleName(endpoint);
  const located = await withClient(target, target.database, (client) => findRole(client, role));
  if (!located) return null;
  const database = parseComment(located.comment)?.database ?? target.database;

  return withClient(target, database, (client) =>
    transaction(client, async () => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const server = await readServer(client);
      const row = await findRole(client, role);
      if (!row) return null;
      const meta = parseComment(row.comment);
      const held = await readHeld(client, server, row.oid);
      const members = await readMembers(client, row.oid);
      const base = { endpoint, role, database: server.database, managed: meta !== null, members };

      if (meta) {
        const wanted = await planWanted(client, server, meta.permissions);
        const ctx = await diffContext(client, server, role, held, wanted);
        const items = diffGrants(ctx, row, held, wanted);
        const drift = [...wanted.issues.map((i) => `${i.message} (named by ${i.field})`), ...items.map((i) => i.message)];
        if (drift.length === 0) return { ...base, permissions: meta.permissions, drift };
        return { ...base, permissions: await derivePermissions(client, ctx, held), drift };
      }

      const ctx = await diffContext(client, server, role, held, NOTHING_WANTED);
      const derived = await derivePermissions(client, ctx, held);
      const wanted = await planWanted(client, server, derived);
      const items = diffGrants(await diffContext(client, server, role, held, wanted), row, held, wanted);
      const drift = ['role is not marked as created by adaptive-access (no metadata comment)', ...items.map((i) => i.message)];
      return { ...base, permissions: derived, drift };
    }),
  );
}

/**
 * What a permission set names that this target's database lacks (schemas, tables,
 * sequences, functions), and a database other than the target's: the issues a sync would
 * fail with, found in a read-only transaction that changes nothing. For plans.
 */
export async function checkWanted(target: TargetDb, permissions: Permissions): Promise<readonly ValidationIssue[]> {
  return withClient(target, target.database, (client) =>
    transaction(client, async () => {
      await client.query('SET TRANSACTION READ ONLY');
      return (await planWanted(client, await readServer(client), permissions)).issues;
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Drop

/** How to drop an access role that still has members. */
export interface DropAccessRoleOptions {
  /**
   * Drop even while login roles are still members, cutting their access at once (DROP ROLE
   * removes the memberships; the login roles themselves are left to revocation and the
   * reaper). Default false: refuse, naming the members.
   */
  readonly revokeMemberships?: boolean;
  /** What to do with objects the role owns; default the target's `revokedObjects`, else `reassign`. */
  readonly revokedObjects?: RevokedObjects;
}

/** What a drop did. */
export interface DropAccessRoleResult {
  readonly role: string;
  /** False when there was no such role. */
  readonly dropped: boolean;
  /** Members whose membership went with the role (only with `revokeMemberships`). */
  readonly revokedMembers: readonly string[];
  readonly warnings: readonly string[];
}

/** The access role still has members and `revokeMemberships` was not given. */
export class AccessRoleInUseError extends Error {
  constructor(
    readonly endpoint: string,
    readonly role: string,
    readonly members: readonly string[],
  ) {
    super(
      `endpoint ${JSON.stringify(endpoint)}: access role ${ident(role)} still has ${members.length} member(s): ${identList(members)}. ` +
        'Revoke their access first (remove them from the groups that use this endpoint), or drop with revokeMemberships to cut it now.',
    );
    this.name = 'AccessRoleInUseError';
  }
}

/**
 * In the connected database: revoke whatever the role holds, including grants made by
 * other grantors (REVOKE only removes one's own grants, and DROP OWNED only the admin's,
 * so these would block DROP ROLE), then dispose of what it owns (revoked-owner.ts:
 * reassigned to the privilege-less `adaptive_revoked`, never to the admin, whom a SECURITY
 * DEFINER function a member created as the access role would otherwise run as; or
 * dropped) and DROP OWNED, which also removes its default-privilege entries.
 */
async function purgeHere(client: ClientBase, role: string, mode: RevokedObjects): Promise<{ statements: string[]; warnings: string[] }> {
  const server = await readServer(client);
  const row = await findRole(client, role);
  if (!row) return { statements: [], warnings: [] };
  const held = await readHeld(client, server, row.oid);
  const items = diffGrants(await diffContext(client, server, role, held, NOTHING_WANTED), row, held, NOTHING_WANTED);
  // Memberships and attributes vanish with the role; only privileges block DROP ROLE.
  const fixes = fixesOf(items).filter((f) => f.kind !== 'membership' && f.kind !== 'attributes');
  const run = await runStatements(client, renderFixes(role, fixes));
  const tail = await disposeOwnedStatements(client, [{ oid: row.oid, name: role }], mode);
  await client.query(tail.join(';\n'));
  return { statements: [...run.executed, ...tail], warnings: run.warnings };
}

/**
 * Drops the endpoint's access role: refuses while it has members unless
 * `revokeMemberships`; revokes everything it holds in every database where it holds
 * anything (pg_shdepend), removes its default-privilege entries, disposes of what it owns
 * as `revokedObjects` says (reassigned to `adaptive_revoked`, never to the admin, or
 * dropped), then DROP ROLE. A non-superuser admin first grants itself the role's
 * privileges (it holds ADMIN OPTION as its creator), which REASSIGN/DROP OWNED require on
 * PostgreSQL 16+.
 */
export async function dropAccessRole(
  target: TargetDb,
  endpoint: string,
  options: DropAccessRoleOptions = {},
): Promise<DropAccessRoleResult> {
  const role = accessRoleName(endpoint);
  const located = await withClient(target, target.database, (client) => findRole(client, role));
  if (!located) return { role, dropped: false, revokedMembers: [], warnings: [] };
  const meta = parseComment(located.comment);
  if (!meta) throw notOurs(endpoint, role);
  const database = meta.database;
  const mode = options.revokedObjects ?? target.revokedObjects ?? 'reassign';
  const warnings: string[] = [];

  const checkMembers = async (client: ClientBase, oid: number): Promise<string[]> => {
    const members = await readMembers(client, oid);
    if (members.length > 0 && !options.revokeMemberships) throw new AccessRoleInUseError(endpoint, role, members);
    return members;
  };

  // 1. Refuse early, and make sure the admin may act for the role in every database.
  const otherDatabases = await withClient(target, database, (client) =>
    transaction(client, async () => {
      await lockKeys(client, [roleLockName(role), aclLockName(database)]);
      const server = await readServer(client);
      const row = await findRole(client, role);
      if (!row) return [];
      await checkMembers(client, row.oid);
      const { rows } = await client.query<{ ok: boolean }>(`select pg_catalog.pg_has_role(current_user, $1::oid, 'USAGE') as ok`, [row.oid]);
      if (!server.superuser && !rows[0]?.ok) {
        await client.query(`GRANT ${ident(role)} TO ${ident(server.admin)}${server.serverVersion >= 160000 ? ' WITH INHERIT TRUE' : ''}`);
      }
      return (await readHeld(client, server, row.oid)).otherDatabases;
    }),
  );

  // 2. Other databases first: DROP ROLE fails while any database still refers to the role.
  for (const db of otherDatabases) {
    const purged = await withClient(target, db, (client) =>
      transaction(client, async () => {
        await lockKeys(client, [roleLockName(role), aclLockName(db)]);
        return purgeHere(client, role, mode);
      }),
    );
    warnings.push(...purged.warnings);
  }

  // 3. The endpoint's database, and the role itself.
  return withClient(target, database, (client) =>
    transaction(client, async () => {
      await lockKeys(client, [roleLockName(role), aclLockName(database)]);
      const row = await findRole(client, role);
      if (!row) return { role, dropped: false, revokedMembers: [], warnings };
      const members = await checkMembers(client, row.oid);
      const purged = await purgeHere(client, role, mode);
      warnings.push(...purged.warnings);
      try {
        await client.query(`DROP ROLE ${ident(role)}`);
      } catch (err) {
        if (isRetryable(err)) throw err;
        const detail = (err as { detail?: unknown }).detail;
        throw new Error(
          `endpoint ${JSON.stringify(endpoint)}: access role ${ident(role)} cannot be dropped: ${(err as Error).message}` +
            `${typeof detail === 'string' ? `\n${detail}` : ''}${warnings.length > 0 ? `\n${warnings.join('\n')}` : ''}`,
        );
      }
      return { role, dropped: true, revokedMembers: members, warnings };
    }),
  );
}
