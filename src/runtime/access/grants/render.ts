/**
 * Stage 4, fixes as SQL: the statements that remove drift, revokes first, with every
 * privilege and attribute keyword checked against a list (keywords cannot be quoted) and
 * every name quoted.
 */
import { ident } from '../../pg/sql';
import { TABLE_PRIVILEGES } from '../../types';
import type { Fix } from './diff';
import { ELEVATED_ATTRIBUTES } from './server';

/**
 * Privilege keywords allowed into SQL text. Privileges are keywords, not identifiers, so
 * they cannot be quoted: anything the catalogs report is checked against this list first.
 */
const PRIVILEGE_KEYWORDS: ReadonlySet<string> = new Set([
  ...TABLE_PRIVILEGES,
  'MAINTAIN',
  'USAGE',
  'CREATE',
  'CONNECT',
  'TEMPORARY',
  'EXECUTE',
]);

/** One statement to run, and as whom. */
export interface Statement {
  readonly sql: string;
  /** Run under SET LOCAL ROLE (revoking another grantor's grant). */
  readonly actAs?: string;
  /** A revoke: run in a savepoint, and on a permission error warn instead of failing. */
  readonly bestEffort: boolean;
}

function keyword(privilege: string): string {
  if (!PRIVILEGE_KEYWORDS.has(privilege)) throw new Error(`unknown privilege ${JSON.stringify(privilege)}`);
  return privilege;
}

function keywords(privileges: readonly string[]): string {
  return privileges.map(keyword).join(', ');
}

/** How many objects one GRANT/REVOKE names at most (keeps statements a sane size). */
const OBJECTS_PER_STATEMENT = 200;

/**
 * The statements that apply `fixes`, revokes first. ACL changes that differ only in the
 * object are merged into one statement per object list.
 */
export function renderFixes(role: string, fixes: readonly Fix[]): Statement[] {
  const grantee = ident(role);
  const revokes: Statement[] = [];
  const grants: Statement[] = [];
  const groups = new Map<string, { fix: Extract<Fix, { kind: 'acl' }>; objects: string[] }>();

  for (const fix of fixes) {
    switch (fix.kind) {
      case 'acl': {
        const key = JSON.stringify([fix.action, fix.objectType, fix.privileges, fix.actAs ?? null]);
        const group = groups.get(key) ?? { fix, objects: [] };
        group.objects.push(fix.object);
        groups.set(key, group);
        break;
      }
      case 'column':
        revokes.push({
          sql: `REVOKE ${keyword(fix.privilege)} (${ident(fix.column)}) ON TABLE ${fix.table} FROM ${grantee} CASCADE`,
          ...(fix.actAs ? { actAs: fix.actAs } : {}),
          bestEffort: true,
        });
        break;
      case 'default': {
        const scope = `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(fix.owner)}${fix.schema === null ? '' : ` IN SCHEMA ${ident(fix.schema)}`}`;
        const what = fix.privileges === null ? 'ALL' : keywords(fix.privileges);
        if (fix.action === 'GRANT') {
          grants.push({ sql: `${scope} GRANT ${what} ON ${fix.objectClass} TO ${grantee}`, bestEffort: false });
        } else {
          revokes.push({ sql: `${scope} ${fix.action} ${what} ON ${fix.objectClass} FROM ${grantee} CASCADE`, bestEffort: true });
        }
        break;
      }
      case 'membership':
        revokes.push({ sql: `REVOKE ${ident(fix.role)} FROM ${grantee}`, ...(fix.actAs ? { actAs: fix.actAs } : {}), bestEffort: true });
        break;
      case 'attributes':
        revokes.push({ sql: `ALTER ROLE ${grantee} ${fix.clauses.map(keywordClause).join(' ')}`, bestEffort: true });
        break;
    }
  }

  for (const { fix, objects } of groups.values()) {
    for (let i = 0; i < objects.length; i += OBJECTS_PER_STATEMENT) {
      const list = objects.slice(i, i + OBJECTS_PER_STATEMENT).join(', ');
      const on = `ON ${fix.objectType} ${list}`;
      if (fix.action === 'GRANT') {
        grants.push({ sql: `GRANT ${keywords(fix.privileges)} ${on} TO ${grantee}`, bestEffort: false });
      } else {
        revokes.push({
          sql: `${fix.action} ${keywords(fix.privileges)} ${on} FROM ${grantee} CASCADE`,
          ...(fix.actAs ? { actAs: fix.actAs } : {}),
          bestEffort: true,
        });
      }
    }
  }
  return [...revokes, ...grants];
}

const ATTRIBUTE_CLAUSES: ReadonlySet<string> = new Set(ELEVATED_ATTRIBUTES.map(([, k]) => `NO${k}`));

function keywordClause(clause: string): string {
  if (!ATTRIBUTE_CLAUSES.has(clause)) throw new Error(`unknown role attribute ${JSON.stringify(clause)}`);
  return clause;
}
