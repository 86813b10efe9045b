/**
 * Typed permissions for an authorization, and their JSON text as Terraform's `jsonencode`
 * writes it, so a CDKTF app and the HCL examples store byte-identical `permissions` (no
 * diff when a team moves a configuration from one to the other).
 */
import type { TablePrivilege as RuntimeTablePrivilege } from '../runtime/types';
import { Fn } from './cdk';
import { containsToken } from './validation';

/**
 * A table privilege PostgreSQL grants through an authorization, or `ALL` for every one of
 * them. The provider also accepts lower case; this type asks for the canonical spelling.
 */
export type TablePrivilege = RuntimeTablePrivilege | 'ALL';

/** What an authorization grants: `grants` on `tables` of `schemas`. */
export interface Permissions {
  /** Table privileges, e.g. `['SELECT']` or `['SELECT', 'INSERT', 'UPDATE', 'DELETE']`. */
  readonly grants: readonly TablePrivilege[];
  /** Schemas whose tables are granted, e.g. `['public', 'app']`. System schemas are refused. */
  readonly schemas: readonly string[];
  /**
   * Tables: `'*'` for every table of the schemas (now and later), a table name, or
   * `'schema.table'` with the schema listed in `schemas`.
   */
  readonly tables: readonly string[];
}

/** Characters Go's JSON encoder (and so `jsonencode`) writes as `\uXXXX` although JSON allows them raw. */
const GO_ESCAPED = /[<>&\u2028\u2029]/g;

/**
 * `value` as Terraform's `jsonencode` writes it: object keys sorted, no whitespace, and
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoder does. For JSON data made of
 * strings, lists, objects, booleans, null and integers (what permissions hold).
 */
export function terraformJsonEncode(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`terraformJsonEncode handles integers only, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(GO_ESCAPED, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (Array.isArray(value)) return `[${value.map(terraformJsonEncode).join(',')}]`;
  if (typeof value === 'object') {
    // Terraform orders object attributes by name (byte order of UTF-8; code units agree for these keys).
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${terraformJsonEncode(k)}:${terraformJsonEncode(v)}`).join(',')}}`;
  }
  throw new TypeError(`terraformJsonEncode cannot encode ${typeof value}`);
}

/** Only the three documented keys, in a fresh plain object (no extra properties leak into the JSON). */
function plain(permissions: Permissions): { grants: readonly string[]; schemas: readonly string[]; tables: readonly string[] } {
  return { grants: permissions.grants, schemas: permissions.schemas, tables: permissions.tables };
}

/**
 * The `permissions` attribute for `permissions`: the literal JSON text `jsonencode` would
 * produce when every value is known at synth time; otherwise a `jsonencode(...)` call
 * that Terraform evaluates once the references are known.
 */
export function permissionsJson(permissions: Permissions): string {
  const value = plain(permissions);
  if (containsToken(value)) return Fn.jsonencode(value);
  return terraformJsonEncode(value);
}

