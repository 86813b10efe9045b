/**
 * Stage 5, reading it back: the permission set that describes what a role holds, so that
 * read and import report it in the shape the configuration uses.
 */
import type { ClientBase } from 'pg';
import type { Permissions, TablePrivilege } from '../../types';
import { diffGrants, type DiffContext, type DriftItem } from './diff';
import { TABLE_PRIVILEGE_SET, defaultKey, defaultPrivilegeRoles, readSchemas, sortedPrivileges } from './objects';
import { planWanted } from './plan';
import type { HeldDefault, HeldGrants } from './read';
import type { RoleRow } from './server';

/**
 * The permission set that describes what the role holds, in the shape of `Permissions`:
 * `schemas` = schemas with USAGE; `grants` = the table privileges it holds anywhere
 * (so an extra grant shows up); `tables` = `*` when, in every such schema, every table
 * and sequence holds exactly what `*` gives and the default privileges are in place,
 * otherwise the tables it holds privileges on (`name` with one schema, `schema.name`
 * otherwise). Grants and schemas sorted; `*` sorts first.
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
    const starPart = (item: DriftItem): boolean =>
      item.fix?.kind === 'default' || (item.fix?.kind === 'acl' && (item.fix.objectType === 'TABLE' || item.fix.objectType === 'SEQUENCE'));
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
  return { grants: grantList, schemas, tables: tableList };
}
