/**
 * SQL text helpers. Every identifier that reaches SQL text goes through `ident`, every
 * string literal through `literal`: DDL (CREATE ROLE, GRANT, COMMENT) cannot take bind
 * parameters, so quoting is the only defence, and it is applied without exception.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';

/** A double-quoted identifier: `ident('a"b')` is `"a""b"`. */
export function ident(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return escapeIdentifier(name);
}

/** A qualified name, each part quoted: `qualified('app', 'users')` is `"app"."users"`. */
export function qualified(...parts: string[]): string {
  return parts.map(ident).join('.');
}

/** A single-quoted literal (E'' form when it contains backslashes). */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  return escapeLiteral(value);
}

/** A comma-separated list of quoted identifiers. */
export function identList(names: readonly string[]): string {
  return names.map(ident).join(', ');
}

/**
 * The search path of every session the runtime opens (admin connections to targets, the
 * catalog), sent as a startup option.
 *
 * Name lookup in these sessions must not reach objects that others can create. With the
 * default path ("$user", public) pg_catalog is searched first, but only for exactly equal
 * signatures: a function in public whose argument types fit a call better (text for an
 * unknown literal where pg_catalog takes name, an exact type where pg_catalog needs a cast)
 * is chosen over pg_catalog's, and runs with the caller's privileges (the admin's). A role or database
 * setting that lists public before pg_catalog lets public shadow everything: functions,
 * operators, tables and views. So the path is pg_catalog alone, with pg_temp named last so
 * that temporary objects cannot come first either; the runtime's SQL also qualifies catalog
 * names as a second line (operators cannot practically be qualified, the path covers them).
 *
 * A startup option rather than a SET after connecting: it applies before the first query,
 * outranks role and database settings, survives RESET and DISCARD ALL (which return to the
 * session's start value), and needs no extra round trip on pooled or one-off connections
 * to any database. (A proxy told to drop startup options, such as PgBouncer's
 * ignore_startup_parameters = options, would leave the role's path in force; the qualified
 * SQL is what remains then.) It replaces any PGOPTIONS from the environment. The escaped
 * space stays inside the value, so SHOW reads `pg_catalog, pg_temp`.
 */
export const SEARCH_PATH_OPTION = '-c search_path=pg_catalog,\\ pg_temp';
