/**
 * Stage 3, the difference between what a role holds and what is wanted, as drift items,
 * each with the fix that removes it (or none, with the reason, when the admin cannot).
 * Sync applies the fixes and diffs again to prove the result; read reports the items as
 * drift. Using one diff for both is what keeps plan and apply from disagreeing.
 */
import type { ClientBase } from 'pg';
import { ident, qualified } from '../../pg/sql';
import { DEFAULT_OBJECT_CLASS, sortedPrivileges } from './objects';
import type { AclEntry, HeldDefault, HeldGrants } from './read';
import type { Wanted, WantedDefault } from './plan';
import { actableRoles, type RoleRow, type Server } from './server';

/** The object classes whose ACLs the model manages, as GRANT names them. */
export type ObjectType = 'DATABASE' | 'SCHEMA' | 'TABLE' | 'SEQUENCE' | 'ROUTINE';

/** A change that removes one drift item. */
export type Fix =
  | {
      readonly kind: 'acl';
      readonly action: 'GRANT' | 'REVOKE' | 'REVOKE GRANT OPTION FOR';
      readonly objectType: ObjectType;
      /** Quoted object name. */
      readonly object: string;
      readonly privileges: readonly string[];
      /** Revoke as this role (the grantor), because REVOKE only removes one's own grants. */
      readonly actAs?: string;
    }
  | {
      readonly kind: 'column';
      readonly table: string;
      readonly column: string;
      readonly privilege: string;
      readonly actAs?: string;
    }
  | {
      readonly kind: 'default';
      readonly action: 'GRANT' | 'REVOKE' | 'REVOKE GRANT OPTION FOR';
      readonly owner: string;
      readonly schema: string | null;
      readonly objectClass: string;
      /** null: ALL */
      readonly privileges: readonly string[] | null;
    }
  | { readonly kind: 'membership'; readonly role: string; readonly actAs?: string }
  | { readonly kind: 'attributes'; readonly clauses: readonly string[] };

/** One difference between what the role holds and what is wanted. */
export interface DriftItem {
  /** What differs, for people (plan output, warnings). */
  readonly message: string;
  /** True when something the permissions call for is missing (not merely extra). */
  readonly missing: boolean;
  /** How to remove it; absent when the admin cannot (the message says why). */
  readonly fix?: Fix;
}

/** What a diff needs to know besides the two states. */
export interface DiffContext {
  readonly role: string;
  readonly server: Server;
  /** Roles the admin can act as (see `actableRoles`). */
  readonly actable: ReadonlySet<string>;
}

/** The diff context for a role: which owners and grantors the admin can act as. */
export async function diffContext(client: ClientBase, server: Server, role: string, held: HeldGrants, wanted: Wanted): Promise<DiffContext> {
  const names = new Set<string>([server.admin]);
  for (const d of held.defaults.values()) names.add(d.owner);
  for (const d of [...wanted.defaults.values(), ...wanted.unmanagedDefaults.values()]) names.add(d.owner);
  for (const o of [...held.databases.values(), ...held.schemas.values(), ...held.relations.values(), ...held.functions.values()]) names.add(o.owner);
  for (const c of held.columns) names.add(c.owner);
  return { role, server, actable: await actableRoles(client, server, names) };
}


/**
 * Whom to revoke a grant made by `grantor` as: undefined when a plain REVOKE by the admin
 * reaches it (the admin's own grants, or the owner's when the admin acts for the owner),
 * else the grantor itself (REVOKE ... GRANTED BY only accepts the current role).
 */
function revokeAs(ctx: DiffContext, grantor: string, owner: string): string | undefined {
  if (grantor === ctx.server.admin) return undefined;
  if (grantor === owner && (ctx.server.superuser || ctx.actable.has(owner))) return undefined;
  return grantor;
}

/** Diff of one object's ACL entries for the role against the privileges wanted on it. */
function diffObject(
  ctx: DiffContext,
  objectType: ObjectType,
  object: string,
  label: string,
  owner: string,
  wanted: ReadonlySet<string>,
  held: readonly AclEntry[],
  items: DriftItem[],
): void {
  const heldPrivileges = new Set(held.map((e) => e.privilege));
  const missing = sortedPrivileges([...wanted].filter((p) => !heldPrivileges.has(p)));
  if (missing.length > 0) {
    items.push({
      message: `missing ${missing.join(', ')} on ${label}`,
      missing: true,
      fix: { kind: 'acl', action: 'GRANT', objectType, object, privileges: missing },
    });
  }
  const extraByGrantor = new Map<string, string[]>();
  const optionByGrantor = new Map<string, string[]>();
  for (const entry of held) {
    const bucket = wanted.has(entry.privilege) ? (entry.grantable ? optionByGrantor : null) : extraByGrantor;
    if (!bucket) continue;
    bucket.set(entry.grantor, [...(bucket.get(entry.grantor) ?? []), entry.privilege]);
  }
  for (const [grantor, privileges] of extraByGrantor) {
    const list = sortedPrivileges(privileges);
    const actAs = revokeAs(ctx, grantor, owner);
    items.push({
      message: `unexpected ${list.join(', ')} on ${label} (granted by ${ident(grantor)})`,
      missing: false,
      fix: { kind: 'acl', action: 'REVOKE', objectType, object, privileges: list, ...(actAs ? { actAs } : {}) },
    });
  }
  for (const [grantor, privileges] of optionByGrantor) {
    const list = sortedPrivileges(privileges);
    const actAs = revokeAs(ctx, grantor, owner);
    items.push({
      message: `unexpected grant option for ${list.join(', ')} on ${label} (granted by ${ident(grantor)})`,
      missing: false,
      fix: { kind: 'acl', action: 'REVOKE GRANT OPTION FOR', objectType, object, privileges: list, ...(actAs ? { actAs } : {}) },
    });
  }
}

function describeDefault(owner: string, schema: string | null, objtype: string): string {
  const what = (DEFAULT_OBJECT_CLASS[objtype] ?? `objects of type ${objtype}`).toLowerCase();
  return `default privileges on ${what} created by ${ident(owner)}${schema === null ? ' in any schema' : ` in schema ${ident(schema)}`}`;
}

function diffDefault(ctx: DiffContext, wanted: WantedDefault, held: HeldDefault | undefined, managed: boolean, items: DriftItem[]): void {
  const heldPrivileges = held ? [...held.privileges.keys()] : [];
  const objectClass = DEFAULT_OBJECT_CLASS[wanted.objtype]!;
  const label = describeDefault(wanted.owner, wanted.schema, wanted.objtype);
  const missing = sortedPrivileges([...wanted.privileges].filter((p) => !heldPrivileges.includes(p)));
  const extra = sortedPrivileges(heldPrivileges.filter((p) => !wanted.privileges.has(p)));
  const options = sortedPrivileges(heldPrivileges.filter((p) => wanted.privileges.has(p) && held?.privileges.get(p) === true));
  if (!managed) {
    // The admin cannot change these; an existing entry only has to be right.
    if (held && (missing.length > 0 || extra.length > 0 || options.length > 0)) {
      items.push({
        message:
          `${label} differ (${heldPrivileges.join(', ')} instead of ${sortedPrivileges(wanted.privileges).join(', ')}) ` +
          `and the admin role ${ident(ctx.server.admin)} may not change them`,
        missing: false,
      });
    }
    return;
  }
  const base = { kind: 'default', owner: wanted.owner, schema: wanted.schema, objectClass } as const;
  if (missing.length > 0) {
    items.push({ message: `missing ${missing.join(', ')} in ${label}`, missing: true, fix: { ...base, action: 'GRANT', privileges: missing } });
  }
  if (extra.length > 0) {
    items.push({ message: `unexpected ${extra.join(', ')} in ${label}`, missing: false, fix: { ...base, action: 'REVOKE', privileges: extra } });
  }
  if (options.length > 0) {
    items.push({
      message: `unexpected grant option for ${options.join(', ')} in ${label}`,
      missing: false,
      fix: { ...base, action: 'REVOKE GRANT OPTION FOR', privileges: options },
    });
  }
}

/**
 * Every difference between what the role holds and what is wanted: missing grants,
 * extra grants (by any grantor), grant options, stale default privileges, column
 * privileges, memberships in other roles, elevated attributes, and anything outside the
 * model. An empty list means the role is exactly as wanted.
 */
export function diffGrants(ctx: DiffContext, role: RoleRow, held: HeldGrants, wanted: Wanted): DriftItem[] {
  const items: DriftItem[] = [];
  diffRole(ctx, role, held, items);
  diffAcls(ctx, held, wanted, items);
  diffColumns(ctx, held, items);
  diffDefaults(ctx, held, wanted, items);
  diffOutside(held, items);
  return items;
}

/** The role itself: elevated attributes and memberships in other roles. */
function diffRole(ctx: DiffContext, role: RoleRow, held: HeldGrants, items: DriftItem[]): void {
  const { server } = ctx;
  if (role.elevated.length > 0) {
    items.push({
      message: `role has ${role.elevated.join(', ')}`,
      missing: false,
      fix: { kind: 'attributes', clauses: role.elevated.map((a) => `NO${a}`) },
    });
  }
  for (const { role: other, grantor } of held.memberOf) {
    const actAs = server.serverVersion >= 160000 && grantor !== server.admin ? grantor : undefined;
    items.push({
      message: `role is a member of ${ident(other)}`,
      missing: false,
      fix: { kind: 'membership', role: other, ...(actAs ? { actAs } : {}) },
    });
  }
}

/** Database, schema and relation ACLs. */
function diffAcls(ctx: DiffContext, held: HeldGrants, wanted: Wanted, items: DriftItem[]): void {
  const { server } = ctx;
  const databaseNames = new Set([...(wanted.database === null ? [] : [wanted.database]), ...held.databases.keys()]);
  for (const name of databaseNames) {
    const heldDb = held.databases.get(name);
    const wantedPrivileges = new Set<string>(name === wanted.database ? ['CONNECT'] : []);
    const owner = heldDb?.owner ?? server.databaseOwner;
    diffObject(ctx, 'DATABASE', ident(name), `database ${ident(name)}`, owner, wantedPrivileges, heldDb?.acl ?? [], items);
  }

  const schemaNames = new Set([...wanted.schemas.keys(), ...held.schemas.keys()]);
  for (const name of schemaNames) {
    const heldSchema = held.schemas.get(name);
    const wantedSchema = wanted.schemas.get(name);
    const owner = heldSchema?.owner ?? wantedSchema?.owner ?? server.admin;
    const wantedPrivileges = new Set<string>(wantedSchema ? ['USAGE'] : []);
    diffObject(ctx, 'SCHEMA', ident(name), `schema ${ident(name)}`, owner, wantedPrivileges, heldSchema?.acl ?? [], items);
  }

  const relationKeys = new Set([...wanted.relations.keys(), ...held.relations.keys()]);
  for (const key of relationKeys) {
    const heldRel = held.relations.get(key);
    const wantedRel = wanted.relations.get(key);
    const info = (heldRel ?? wantedRel)!;
    const objectType = info.kind === 'sequence' ? 'SEQUENCE' : 'TABLE';
    const label = `${info.kind} ${qualified(info.schema, info.name)}`;
    const wantedPrivileges = wantedRel?.privileges ?? new Set<string>();
    diffObject(ctx, objectType, qualified(info.schema, info.name), label, info.owner, wantedPrivileges, heldRel?.acl ?? [], items);
  }

  // ROUTINE reaches functions, procedures and aggregates alike.
  const routineKeys = new Set([...wanted.functions.keys(), ...held.functions.keys()]);
  for (const key of routineKeys) {
    const heldRoutine = held.functions.get(key);
    const info = (heldRoutine ?? wanted.functions.get(key))!;
    const wantedPrivileges = new Set<string>(wanted.functions.has(key) ? ['EXECUTE'] : []);
    diffObject(ctx, 'ROUTINE', info.signature, `function ${info.signature}`, info.owner, wantedPrivileges, heldRoutine?.acl ?? [], items);
  }
}

/** Column privileges: never part of an authorization, so every one is extra. */
function diffColumns(ctx: DiffContext, held: HeldGrants, items: DriftItem[]): void {
  for (const col of held.columns) {
    const actAs = revokeAs(ctx, col.entry.grantor, col.owner);
    items.push({
      message: `unexpected column privilege ${col.entry.privilege} (${ident(col.column)}) on table ${qualified(col.schema, col.table)}`,
      missing: false,
      fix: {
        kind: 'column',
        table: qualified(col.schema, col.table),
        column: col.column,
        privilege: col.entry.privilege,
        ...(actAs ? { actAs } : {}),
      },
    });
  }
}

/** Default privileges wanted (managed or not) and held without being wanted (stale). */
function diffDefaults(ctx: DiffContext, held: HeldGrants, wanted: Wanted, items: DriftItem[]): void {
  const { server } = ctx;
  for (const [key, w] of wanted.defaults) diffDefault(ctx, w, held.defaults.get(key), true, items);
  for (const [key, w] of wanted.unmanagedDefaults) diffDefault(ctx, w, held.defaults.get(key), false, items);
  for (const [key, h] of held.defaults) {
    if (wanted.defaults.has(key) || wanted.unmanagedDefaults.has(key)) continue;
    const label = describeDefault(h.owner, h.schema, h.objtype);
    const objectClass = DEFAULT_OBJECT_CLASS[h.objtype];
    const privileges = sortedPrivileges(h.privileges.keys());
    const fixable = objectClass !== undefined && ctx.actable.has(h.owner);
    items.push({
      message: `stale ${label}: ${privileges.join(', ')}${fixable ? '' : ` (the admin role ${ident(server.admin)} may not remove them)`}`,
      missing: false,
      ...(fixable ? { fix: { kind: 'default', action: 'REVOKE', owner: h.owner, schema: h.schema, objectClass, privileges: null } } : {}),
    });
  }
}

/** What the role holds outside this database or outside the model. */
function diffOutside(held: HeldGrants, items: DriftItem[]): void {
  for (const db of held.otherDatabases) {
    items.push({ message: `role holds privileges or objects in database ${ident(db)} (removed when the endpoint is dropped)`, missing: false });
  }
  for (const other of held.otherObjects) {
    items.push({ message: `role holds ${other} (outside the authorization; removed when the endpoint is dropped)`, missing: false });
  }
}
