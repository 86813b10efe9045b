/**
 * Stage 5, reading it back: the permission set that describes what a role holds, so that
 * read and import report it in the shape the configuration uses.
 */
import type { ClientBase } from 'pg';
import { SEQUENCE_PRIVILEGES, type Permissions, type SequencePermissions, type TablePrivilege } from '../../types';
import { diffGrants, type DiffContext, type DriftItem } from './diff';
import { TABLE_PRIVILEGE_SET, defaultKey, defaultPrivilegeRoles, readSchemas, sortedPrivileges, type SchemaInfo } from './objects';

const SEQUENCE_PRIVILEGE_SET: ReadonlySet<string> = new Set(SEQUENCE_PRIVILEGES);
import { planWanted } from './plan';
import type { HeldDefault, HeldGrants } from './read';
import type { RoleRow } from './server';

/**
 * The permission set that describes what the role holds, in the shape of `Permissions`:
 * `schemas` = schemas with USAGE; `grants` = the table privileges it holds anywhere
 * (so an extra grant shows up); `tables` = `*` when, in every such schema, every table
 * and sequence holds exactly what `*` gives and the default privileges are in place,
 * otherwise the tables it holds privileges on (`name` with one schema, `schema.name`
 * otherwise). Grants and schemas sorted; `*` sorts first. `sequences` only when the role
 * holds more on sequences than the tables part gives (see `deriveSequences`).
 */
export async function derivePermissions(client: ClientBase, ctx: DiffContext, held: HeldGrants): Promise<Permissions> {
  const schemas = [...held.schemas.entries()]
    .filter(([, h]) => h.acl.some((e) => e.privilege === 'USAGE'))
    .map(([name]) => name)
    .sort();
  const schemaInfo = await readSchemas(client, schemas);

  const grants = new Set<string>();
  for (const rel of held.relations.values()) {
    if (rel.kind !== 'table') continue;
    for (const entry of rel.acl) if (TABLE_PRIVILEGE_SET.has(entry.privilege)) grants.add(entry.privilege);
  }
  for (const name of schemas) {
    const info = schemaInfo.get(name);
    if (!info) continue;
    for (const owner of defaultPrivilegeRoles(ctx.server, info)) {
      for (const p of held.defaults.get(defaultKey(owner, name, 'r'))?.privileges.keys() ?? []) {
        if (TABLE_PRIVILEGE_SET.has(p)) grants.add(p);
      }
    }
  }
  const grantList = sortedPrivileges(grants) as TablePrivilege[];

  // `*` holds when, in these schemas, the role's table and sequence grants and its default
  // privileges (for the roles `*` covers) are exactly what `*` with these grants makes.
  let star = false;
  if (grantList.length > 0 && schemas.length > 0) {
    const wanted = await planWanted(client, ctx.server, { grants: grantList, schemas, tables: ['*'] });
    const covered = (d: HeldDefault): boolean =>
      d.schema !== null && schemas.includes(d.schema) && defaultPrivilegeRoles(ctx.server, schemaInfo.get(d.schema)!).includes(d.owner);
    const scoped: HeldGrants = {
      ...held,
      relations: new Map([...held.relations].filter(([, r]) => schemas.includes(r.schema))),
      defaults: new Map([...held.defaults].filter(([, d]) => covered(d))),
    };
    // Extra privileges on sequences are the `sequences` part's, derived below.
    const starPart = (item: DriftItem): boolean =>
      !sequenceExtra(item) &&
      ((item.fix?.kind === 'default' && item.fix.objectClass !== 'FUNCTIONS') || (item.fix?.kind === 'acl' && (item.fix.objectType === 'TABLE' || item.fix.objectType === 'SEQUENCE')));
    const bare: RoleRow = { oid: 0, name: ctx.role, comment: null, elevated: [] };
    star = !diffGrants(ctx, bare, scoped, wanted).some(starPart);
  }

  const single = schemas.length === 1 ? schemas[0] : undefined;
  const tables = new Set<string>();
  for (const rel of held.relations.values()) {
    if (rel.kind !== 'table' || !rel.acl.some((e) => TABLE_PRIVILEGE_SET.has(e.privilege))) continue;
    if (star && schemas.includes(rel.schema)) continue;
    tables.add(rel.schema === single && !rel.name.includes('.') ? rel.name : `${rel.schema}.${rel.name}`);
  }
  const tableList = [...tables].sort();
  if (star) tableList.unshift('*');
  const base: Permissions = { grants: grantList, schemas, tables: tableList };
  const sequences = await deriveSequences(client, ctx, held, base, schemaInfo);
  const functions = await deriveFunctions(client, ctx, held, base);
  return { ...base, ...(sequences === undefined ? {} : { sequences }), ...(functions === undefined ? {} : { functions }) };
}

/**
 * `functions`: absent when the role may EXECUTE nothing; `*` when that describes the listed
 * schemas exactly (every routine, and the default privileges); else each routine as
 * `schema.name(args)`.
 */
async function deriveFunctions(client: ClientBase, ctx: DiffContext, held: HeldGrants, base: Permissions): Promise<string[] | undefined> {
  const executable = [...held.functions.values()].filter((f) => f.acl.some((e) => e.privilege === 'EXECUTE'));
  const { schemas } = base;
  const covered = (d: HeldDefault): boolean => d.objtype === 'f' && d.schema !== null && schemas.includes(d.schema);
  if (executable.length === 0 && ![...held.defaults.values()].some(covered)) return undefined;
  if (schemas.length > 0) {
    const starWanted = await planWanted(client, ctx.server, { ...base, functions: ['*'] });
    const scoped: HeldGrants = { ...held, functions: new Map([...held.functions].filter(([, f]) => schemas.includes(f.schema))) };
    const functionPart = (item: DriftItem): boolean =>
      (item.fix?.kind === 'acl' && item.fix.objectType === 'ROUTINE') || (item.fix?.kind === 'default' && item.fix.objectClass === 'FUNCTIONS');
    const bare: RoleRow = { oid: 0, name: ctx.role, comment: null, elevated: [] };
    if (!diffGrants(ctx, bare, scoped, starWanted).some(functionPart)) return ['*'];
  }
  if (executable.length === 0) return undefined;
  return [...new Set(executable.map((f) => `${f.schema}.${f.name}(${f.args})`))].sort();
}

/** A fix that removes a sequence privilege (or sequence default privilege) beyond what is wanted. */
function sequenceExtra(item: DriftItem): boolean {
  const fix = item.fix;
  if (fix === undefined || fix.kind === 'column' || fix.kind === 'membership' || fix.kind === 'attributes' || fix.action === 'GRANT') return false;
  return fix.kind === 'acl' ? fix.objectType === 'SEQUENCE' : fix.objectClass === 'SEQUENCES';
}

/**
 * `sequences`: absent when the role holds on sequences no more than `base` (the tables
 * part) gives them; otherwise the sequence privileges it holds beyond that, on `*` when
 * `*` with those privileges describes the schemas exactly, else on the sequences that
 * hold them (named like `tables`).
 */
async function deriveSequences(
  client: ClientBase,
  ctx: DiffContext,
  held: HeldGrants,
  base: Permissions,
  schemaInfo: ReadonlyMap<string, SchemaInfo>,
): Promise<SequencePermissions | undefined> {
  const { schemas } = base;
  const wanted = await planWanted(client, ctx.server, base);
  const privileges = new Set<string>();
  const extraOn = new Set<string>();
  for (const [key, rel] of held.relations) {
    if (rel.kind !== 'sequence') continue;
    const given = wanted.relations.get(key)?.privileges ?? new Set<string>();
    const extra = rel.acl.filter((e) => SEQUENCE_PRIVILEGE_SET.has(e.privilege) && !given.has(e.privilege));
    if (extra.length === 0) continue;
    extraOn.add(key);
    for (const e of rel.acl) if (SEQUENCE_PRIVILEGE_SET.has(e.privilege)) privileges.add(e.privilege);
  }
  for (const name of schemas) {
    const info = schemaInfo.get(name);
    if (!info) continue;
    for (const owner of defaultPrivilegeRoles(ctx.server, info)) {
      const key = defaultKey(owner, name, 'S');
      const given = wanted.defaults.get(key)?.privileges ?? new Set<string>();
      const heldHere = [...(held.defaults.get(key)?.privileges.keys() ?? [])].filter((p) => SEQUENCE_PRIVILEGE_SET.has(p));
      if (heldHere.some((p) => !given.has(p))) for (const p of heldHere) privileges.add(p);
    }
  }
  if (privileges.size === 0) return undefined;
  const privilegeList = SEQUENCE_PRIVILEGES.filter((p) => privileges.has(p));

  if (schemas.length > 0) {
    const starWanted = await planWanted(client, ctx.server, { ...base, sequences: { privileges: privilegeList, names: ['*'] } });
    const scoped: HeldGrants = { ...held, relations: new Map([...held.relations].filter(([, r]) => schemas.includes(r.schema))) };
    const sequencePart = (item: DriftItem): boolean =>
      (item.fix?.kind === 'acl' && item.fix.objectType === 'SEQUENCE') || (item.fix?.kind === 'default' && item.fix.objectClass === 'SEQUENCES');
    const bare: RoleRow = { oid: 0, name: ctx.role, comment: null, elevated: [] };
    if (!diffGrants(ctx, bare, scoped, starWanted).some(sequencePart)) return { privileges: privilegeList, names: ['*'] };
  }
  const single = schemas.length === 1 ? schemas[0] : undefined;
  const names = [...extraOn]
    .map((key) => held.relations.get(key)!)
    .map((rel) => (rel.schema === single && !rel.name.includes('.') ? rel.name : `${rel.schema}.${rel.name}`))
    .sort();
  return { privileges: privilegeList, names };
}
