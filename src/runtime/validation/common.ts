/**
 * Pieces every validator shares: the marker for values Terraform does not know yet, how a
 * field path is spelled, how a user's value is shown back to them, and the one pattern all
 * validators follow:
 *
 * - `checkX(value, field): ValidationIssue[]` never throws on bad input and returns every
 *   problem it finds (empty when the value is fine or not known yet);
 * - `parseX(value, field)` returns the normalised value or throws a `ValidationError`
 *   carrying the same issues `checkX` would have returned.
 */
import { ValidationError, type ValidationIssue } from '../types';

/**
 * A value that is not known yet: at plan time Terraform may leave an attribute unknown
 * until another resource is applied. Every `checkX` accepts it and skips the rules that
 * need it; `parseX` and `toTargetConfig` refuse it. `Symbol.for` so that two copies of this
 * module (the plugin bundle and the constructs) agree on the marker.
 */
export const UNKNOWN: unique symbol = Symbol.for('adaptive-access.validation.unknown');

/** The type of {@link UNKNOWN}. */
export type Unknown = typeof UNKNOWN;

/** A value that may not be known yet. */
export type MaybeUnknown<T> = T | Unknown;

/** True when `value` is the {@link UNKNOWN} marker. */
export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** True when a value is absent: Terraform's null reaches us as `null` or `undefined`. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** Builds one issue. */
export function issue(field: string, message: string): ValidationIssue {
  return { field, message };
}

/** Throws a `ValidationError` when there is at least one issue. */
export function throwIfIssues(issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new ValidationError(issues);
}

/** The path of a list element as the user would write it: `members[0]`. */
export function indexField(field: string, index: number): string {
  return `${field}[${index}]`;
}

/** The path of an object attribute: `permissions.grants`. */
export function childField(field: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
}

/** Length in bytes of the UTF-8 encoding: PostgreSQL's 63-byte limit counts bytes. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const SHOWN_MAX = 48;

/**
 * A user's value as shown in a message: JSON-quoted (so control characters and quotes are
 * visible) and cut short, because a 200-character name echoed whole hides the message.
 * Never use this for secrets.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const chars = Array.from(value);
    return chars.length > SHOWN_MAX ? `${JSON.stringify(chars.slice(0, SHOWN_MAX).join(''))}...` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A human name for a JSON-ish type, for "expected a string, got a number" messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a bool';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** True when the text contains a C0/C1 control character or DEL (NUL included). */
export function hasControlCharacter(text: string): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate closest to `value` (case-insensitive) when it is a plausible typo (at most
 * two edits, and fewer edits than half its length), else undefined.
 */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= 2 && bestDistance * 2 < value.length ? best : undefined;
}
