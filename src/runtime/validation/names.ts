/**
 * Names: what users call their resources, authorizations, endpoints and groups
 * (`postgres-production`, `data-analysts`), the PostgreSQL identifiers a permission set
 * names (schemas and tables), and host names.
 *
 * Identifier rule (schemas and tables in `permissions`):
 * - 1 to 63 bytes of UTF-8 (PostgreSQL's NAMEDATALEN - 1; longer names are silently cut
 *   by the server, so two long names could end up meaning the same object);
 * - letters (any script, with their combining marks), digits, `_`, `$` and `-`;
 * - starting with a letter, a digit or `_`.
 * Identifiers are always quoted when they reach SQL, so this rule is not the defence
 * against injection; it keeps out what no sane schema or table name contains (spaces,
 * quotes, `;`, `.`, control characters), so a typo or a pasted statement fails at plan time
 * with a message instead of at apply time with "relation does not exist". Because of the
 * quoting, names are case-sensitive: `Users` is not `users` (PostgreSQL folds unquoted
 * names to lower case when tables are created, so most tables are lower case).
 */
import type { ValidationIssue } from '../types';
import { hasControlCharacter, indexField, issue, isUnknown, show, throwIfIssues, typeName, utf8Length, type MaybeUnknown } from './common';
import { isIP } from 'node:net';

/** Longest resource / authorization / endpoint / group name, in characters. */
export const NAME_MAX_LENGTH = 63;
/** Longest PostgreSQL identifier, in bytes of UTF-8. */
export const IDENTIFIER_MAX_BYTES = 63;

/** The name rule in words, for messages and documentation. */
export const NAME_RULE =
  "1 to 63 characters: letters, digits, '-', '_' and '.', starting with a letter or digit, e.g. postgres-production";
/** The identifier rule in words, for messages and documentation. */
export const IDENTIFIER_RULE =
  "1 to 63 bytes: letters (any script), digits, '_', '$' and '-', starting with a letter, digit or '_', e.g. public or order_items";

/** Pattern of a name (ASCII only, so it is also valid in a JSON Schema). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/**
 * Pattern of an identifier; needs the `u` flag (Unicode property escapes). It limits
 * characters (63), which a JSON Schema can say; the byte limit is checked in code.
 */
export const IDENTIFIER_PATTERN = '^[\\p{L}\\p{Nd}_][\\p{L}\\p{M}\\p{Nd}_$-]{0,62}$';

const NAME_RE = new RegExp(NAME_PATTERN);
const IDENTIFIER_RE = new RegExp(IDENTIFIER_PATTERN, 'u');
const IDENTIFIER_CHAR_RE = /^[\p{L}\p{M}\p{Nd}_$-]$/u;
const IDENTIFIER_FIRST_RE = /^[\p{L}\p{Nd}_]$/u;

/** A character as a message shows it: `a space`, `';'`, `a control character (U+0000)`. */
export function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === ' ') return 'a space';
  if (/^\s$/u.test(ch)) return `a whitespace character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (hasControlCharacter(ch)) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (ch === '"') return 'a double quote';
  if (ch === "'") return 'a single quote';
  return `'${ch}'`;
}

/**
 * Checks a resource / authorization / endpoint / group name: 1 to 63 characters, letters,
 * digits, `-`, `_` and `.`, starting with a letter or digit.
 */
export function checkName(value: MaybeUnknown<string>, field = 'name'): ValidationIssue[] {
  if (isUnknown(value)) return [];
  const fail = (why: string): ValidationIssue[] => [issue(field, `${why}; a name is ${NAME_RULE}`)];
  if (typeof value !== 'string') return fail(`must be a string, got ${typeName(value)}`);
  if (value.length === 0) return fail('is empty');
  const chars = Array.from(value);
  if (chars.length > NAME_MAX_LENGTH) return fail(`${show(value)} is ${chars.length} characters long, more than ${NAME_MAX_LENGTH}`);
  if (NAME_RE.test(value)) return [];
  const first = chars[0] ?? '';
  if (!/^[A-Za-z0-9]$/.test(first)) return fail(`${show(value)} starts with ${describeCharacter(first)}`);
  const bad = chars.find((ch) => !/^[A-Za-z0-9._-]$/.test(ch)) ?? '';
  return fail(`${show(value)} contains ${describeCharacter(bad)}`);
}

/** Returns a valid name unchanged; throws a `ValidationError` naming `field` otherwise. */
export function parseName(value: string, field = 'name'): string {
  throwIfIssues(checkName(value, field));
  return value;
}

/**
 * Checks a list of names (e.g. a group's `endpoints`): each a valid name, none twice.
 */
export function checkNames(list: MaybeUnknown<readonly MaybeUnknown<string>[]>, field: string): ValidationIssue[] {
  if (isUnknown(list)) return [];
  if (!Array.isArray(list)) return [issue(field, `must be a list of names, got ${typeName(list)}`)];
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  list.forEach((value: MaybeUnknown<string>, index) => {
    const at = indexField(field, index);
    if (isUnknown(value)) return;
    const found = checkName(value, at);
    issues.push(...found);
    if (found.length > 0) return;
    const first = seen.get(value);
    if (first === undefined) seen.set(value, index);
    else issues.push(issue(at, `${show(value)} is listed twice (also at ${indexField(field, first)}); list each name once`));
  });
  return issues;
}

/**
 * Why a value is not a PostgreSQL identifier (e.g. `"a b" contains a space`), or undefined
 * when it is one. For callers that compose their own message around the reason.
 */
export function identifierProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  const bytes = utf8Length(value);
  if (bytes > IDENTIFIER_MAX_BYTES) {
    return `${show(value)} is ${bytes} bytes long, more than ${IDENTIFIER_MAX_BYTES} (PostgreSQL would cut it)`;
  }
  if (IDENTIFIER_RE.test(value)) return undefined;
  const chars = Array.from(value);
  const first = chars[0] ?? '';
  const bad = chars.find((ch) => !IDENTIFIER_CHAR_RE.test(ch));
  if (bad !== undefined) return `${show(value)} contains ${describeCharacter(bad)}`;
  if (!IDENTIFIER_FIRST_RE.test(first)) return `${show(value)} starts with ${describeCharacter(first)}`;
  return `${show(value)} is not an identifier`;
}

/**
 * Checks a PostgreSQL identifier (a schema or table name) against the identifier rule
 * described at the top of this module.
 */
export function checkIdentifier(value: MaybeUnknown<string>, field: string): ValidationIssue[] {
  if (isUnknown(value)) return [];
  if (typeof value !== 'string') return [issue(field, `must be a string, got ${typeName(value)}; an identifier is ${IDENTIFIER_RULE}`)];
  const problem = identifierProblem(value);
  return problem === undefined ? [] : [issue(field, `${problem}; an identifier is ${IDENTIFIER_RULE}`)];
}

/** Returns a valid identifier unchanged; throws a `ValidationError` naming `field` otherwise. */
export function parseIdentifier(value: string, field: string): string {
  throwIfIssues(checkIdentifier(value, field));
  return value;
}

const HOST_LABEL_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

const HOST_NAME_RULE = 'a host name is dot-separated labels of letters, digits and hyphens, e.g. db.example.com';

/**
 * Why a value is not a DNS host name (e.g. `"db..x" has an empty label`), or undefined when
 * it is one. The rule: dot-separated labels of letters, digits, `-` (not at either end) and
 * `_` (found in internal DNS and container names), each at most 63 characters, at most 253
 * in all; a trailing dot is allowed. IP addresses are not host names here; callers that
 * accept them test `isIP` first.
 */
export function hostnameProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (isIP(value) !== 0) return `${show(value)} is an IP address, not a host name`;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length > 253) return `${show(value)} is ${name.length} characters long, more than 253`;
  const badChar = Array.from(name).find((ch) => !/^[A-Za-z0-9._-]$/.test(ch));
  if (badChar !== undefined) return `${show(value)} contains ${describeCharacter(badChar)}`;
  const badLabel = name.split('.').find((label) => !HOST_LABEL_RE.test(label));
  if (badLabel === undefined) return undefined;
  if (badLabel.length === 0) return `${show(value)} has an empty label (two dots in a row, or a leading dot)`;
  if (badLabel.length > 63) return `${show(value)} has a label longer than 63 characters`;
  return `${show(value)} has the label ${show(badLabel)}, which starts or ends with '-'`;
}

/** Checks a DNS host name (see {@link hostnameProblem} for the rule). */
export function checkHostname(value: MaybeUnknown<string>, field: string): ValidationIssue[] {
  if (isUnknown(value)) return [];
  if (typeof value !== 'string') return [issue(field, `must be a string, got ${typeName(value)}; ${HOST_NAME_RULE}`)];
  const problem = hostnameProblem(value);
  return problem === undefined ? [] : [issue(field, `${problem}; ${HOST_NAME_RULE}`)];
}
