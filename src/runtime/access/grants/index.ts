/**
 * The privilege engine behind endpoint access roles, one module per stage, all per
 * database:
 *
 * 1. `read.ts`, `readHeld`: what a role actually holds, from the catalogs (`aclexplode`
 *    over pg_database, pg_namespace, pg_class, pg_attribute, pg_proc and pg_default_acl, found
 *    through pg_shdepend so large catalogs are not scanned), with the grantor of every entry.
 * 2. `plan.ts`, `planWanted`: what a permission set means on this database right now:
 *    CONNECT, schema USAGE, table privileges, sequence USAGE for INSERT/UPDATE, the
 *    `sequences` privileges, EXECUTE on the `functions`, and for `*` the default privileges
 *    of the roles that create tables (sequences, functions) there.
 * 3. `diff.ts`, `diffGrants`: the difference as drift items, each with the fix that removes it.
 * 4. `render.ts`, `renderFixes`, and `run.ts`, `runStatements`: the fixes as SQL, and running them.
 * 5. `derive.ts`, `derivePermissions`: what is held, read back as a permission set.
 *
 * `server.ts` reads who the admin is and what it may act as; `objects.ts` holds the keys
 * and lookups the stages share.
 *
 * Sync applies the fixes and diffs again to prove the result; read reports the items as
 * drift. Using one diff for both is what keeps plan and apply from disagreeing (a grant
 * that apply cannot make, or does not make, is never reported as in sync).
 */
export { actableRoles, findRole, readMembers, readServer, type RoleRow, type Server } from './server';
export { relationKey, type RelationKind } from './objects';
export { readHeld, type AclEntry, type HeldColumn, type HeldDefault, type HeldGrants, type HeldRelation } from './read';
export { NOTHING_WANTED, parseTableRef, planWanted, type TableRef, type Wanted, type WantedDefault, type WantedRelation } from './plan';
export { diffContext, diffGrants, type DiffContext, type DriftItem, type Fix, type ObjectType } from './diff';
export { renderFixes, type Statement } from './render';
export { runStatements, withContext } from './run';
export { derivePermissions } from './derive';
