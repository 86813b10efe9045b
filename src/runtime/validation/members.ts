/**
 * Group members: people, identified by email address.
 *
 * The check is practical, not RFC 5322: one `@`; a local part of 1 to 64 characters with no
 * spaces, control characters, quotes, `<`, `>`, `,` or `;`, and no leading, trailing or
 * doubled dot; a domain of at least two dot-separated labels of letters (any script),
 * digits and inner hyphens; at most 254 characters in all. Quoted local parts and IP-literal
 * domains are refused: nobody gives a colleague database access under `"a b"@[10.0.0.1]`,
 * and refusing them keeps member-derived role names and comments simple.
 *
 * Addresses are compared and stored in lower case: `Dev1@Company.com` and
 * `dev1@company.com` are the same person, and one person must not get two credentials.
 */
import type { ValidationIssue } from '../types';
import { hasControlCharacter, indexField, issue, isUnknown, show, throwIfIssues, typeName, type MaybeUnknown } from './common';
import { describeCharacter } from './names';

/** Longest accepted email address (RFC 5321 path limit minus the angle brackets). */
export const EMAIL_MAX_LENGTH = 254;

const EXAMPLE = 'e.g. dev1@company.com';
const DOMAIN_LABEL_RE = /^[\p{L}\p{Nd}](?:[\p{L}\p{M}\p{Nd}-]*[\p{L}\p{M}\p{Nd}])?$/u;
const LOCAL_FORBIDDEN = new Set(['"', '<', '>', ',', ';', ':', '(', ')', '[', ']', '\\', '@']);

function emailProblem(email: string): string | undefined {
  const at = email.indexOf('@');
  if (at < 0) return `${show(email)} is not an email address (no '@')`;
  if (email.indexOf('@', at + 1) >= 0) return `${show(email)} is not an email address (more than one '@')`;
  const space = Array.from(email).find((ch) => /^\s$/u.test(ch) || hasControlCharacter(ch));
  if (space !== undefined) return `${show(email)} contains ${describeCharacter(space)}`;
  if (email.length > EMAIL_MAX_LENGTH) return `${show(email)} is ${email.length} characters long, more than ${EMAIL_MAX_LENGTH}`;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length === 0) return `${show(email)} has nothing before the '@'`;
  if (local.length > 64) return `${show(email)} has a part before the '@' longer than 64 characters`;
  const forbidden = Array.from(local).find((ch) => LOCAL_FORBIDDEN.has(ch));
  if (forbidden !== undefined) return `${show(email)} contains ${describeCharacter(forbidden)} before the '@'`;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `${show(email)} has a misplaced '.' before the '@' (leading, trailing or doubled)`;
  }
  if (domain.length === 0) return `${show(email)} has no domain after the '@'`;
  const labels = domain.split('.');
  if (labels.length < 2) return `${show(email)} has a domain without a dot`;
  if (labels.some((label) => !DOMAIN_LABEL_RE.test(label) || label.length > 63)) {
    return `${show(email)} has an invalid domain ${show(domain)} (labels of letters, digits and inner hyphens, separated by single dots)`;
  }
  return undefined;
}

/** Checks one member's email address. */
export function checkMember(email: MaybeUnknown<string>, field: string): ValidationIssue[] {
  if (isUnknown(email)) return [];
  if (typeof email !== 'string') return [issue(field, `must be an email address (a string), got ${typeName(email)}; ${EXAMPLE}`)];
  if (email.length === 0) return [issue(field, `is empty; write an email address, ${EXAMPLE}`)];
  const problem = emailProblem(email);
  return problem === undefined ? [] : [issue(field, `${problem}; write an email address, ${EXAMPLE}`)];
}

/**
 * The canonical form of a member: lower case. Throws a `ValidationError` (field `member`)
 * when the address is not valid; use `parseMembers` to get index paths.
 */
export function normaliseMember(email: string, field = 'member'): string {
  throwIfIssues(checkMember(email, field));
  return email.toLowerCase();
}

/**
 * Checks a group's `members`: each a valid email address, no person twice once addresses
 * are lower-cased (the duplicate's issue names both indices). An empty list is fine: a
 * group may be emptied before it is removed.
 */
export function checkMembers(list: MaybeUnknown<readonly MaybeUnknown<string>[]>, field = 'members'): ValidationIssue[] {
  if (isUnknown(list)) return [];
  if (!Array.isArray(list)) return [issue(field, `must be a list of email addresses, got ${typeName(list)}`)];
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  list.forEach((email: MaybeUnknown<string>, index) => {
    const at = indexField(field, index);
    if (isUnknown(email)) return;
    const found = checkMember(email, at);
    issues.push(...found);
    if (found.length > 0) return;
    const key = email.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, index);
      return;
    }
    const firstValue: unknown = (list as readonly unknown[])[first];
    const same = firstValue === email ? 'is listed twice' : `is the same member as ${show(firstValue)} once lower-cased`;
    issues.push(issue(at, `${show(email)} ${same} (${indexField(field, first)} and ${at}); list each person once`));
  });
  return issues;
}

/**
 * Returns the members lower-cased, in the order given; throws a `ValidationError` with every
 * issue `checkMembers` finds.
 */
export function parseMembers(list: readonly string[], field = 'members'): string[] {
  throwIfIssues(checkMembers(list, field));
  return list.map((email) => email.toLowerCase());
}
