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
