/**
 * `ttl`: how long a grant lives, written as a Go-style duration (`8h`, `1h30m`, `7d`).
 *
 * Decisions:
 * - Units are `s`, `m`, `h`, `d` (24h) and `w` (7d), lower case, as Go and the Adaptive
 *   provider write them; terms may come in any order and add up (`1h30m`, `30m1h`).
 * - Whole numbers only. A ttl is a policy, not a measurement, and `1.5h` is easy to misread;
 *   the message offers the whole-unit spelling (`1h30m`) when there is one.
 * - Sub-second units (`ms`, `us`, `ns`) are refused: PostgreSQL's VALID UNTIL and the
 *   catalog keep whole seconds.
 * - From 1s to 365d inclusive.
 */
import type { ValidationIssue } from '../types';
import { issue, isUnknown, show, throwIfIssues, typeName, type MaybeUnknown } from './common';

/** The shortest ttl accepted, in seconds. */
export const TTL_MIN_SECONDS = 1;
/** The longest ttl accepted, in seconds (365 days). */
export const TTL_MAX_SECONDS = 365 * 86_400;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };
const SUB_SECOND_UNITS = new Set(['ms', 'us', 'µs', 'μs', 'ns']);

const HOW_TO_WRITE = 'write a number and a unit, e.g. 30m, 8h, 1h30m or 7d (units s, m, h, d, w; from 1s to 365d)';

interface TtlResult {
  readonly issues: ValidationIssue[];
  readonly seconds?: number;
}

function analyseTtl(text: unknown, field: string): TtlResult {
  const fail = (message: string): TtlResult => ({ issues: [issue(field, message)] });
  if (typeof text !== 'string') return fail(`must be a string such as "8h", got ${typeName(text)}`);
  if (text.length === 0) return fail(`is empty; ${HOW_TO_WRITE}`);
  if (/^\s|\s$/.test(text) && /^\S+$/.test(text.trim())) {
    return fail(`${show(text)} has spaces around it; write ${show(text.trim())}`);
  }
  if (text.startsWith('-')) return fail(`${show(text)} is negative; a ttl is at least 1s, e.g. 8h`);
  if (text.startsWith('+')) return fail(`${show(text)} has a sign; write ${show(text.slice(1))}`);
  if (/^\d+$/.test(text)) {
    return fail(`${show(text)} has no unit; write ${show(`${text}s`)} for seconds, or use another unit (m, h, d, w), e.g. 8h`);
  }
  if (!/^(?:\d+(?:\.\d+)?[^\d\s.]+)+$/u.test(text)) return fail(`${show(text)} is not a duration; ${HOW_TO_WRITE}`);

  let total = 0;
  let fractional = false;
  for (const term of text.matchAll(/(\d+(?:\.\d+)?)([^\d\s.]+)/gu)) {
    const amount = term[1] ?? '';
    const unit = term[2] ?? '';
    const scale = UNIT_SECONDS[unit];
    if (scale === undefined) {
      if (SUB_SECOND_UNITS.has(unit)) return fail(`${show(text)} uses ${unit}; the smallest unit is s (whole seconds), e.g. 30s`);
      if (UNIT_SECONDS[unit.toLowerCase()] !== undefined) {
        return fail(`${show(text)} has an upper-case unit; units are lower case: ${show(text.toLowerCase())}`);
      }
      return fail(`${show(text)} is not a duration: unknown unit ${show(unit)}; ${HOW_TO_WRITE}`);
    }
    if (amount.includes('.')) fractional = true;
    total += Number(amount) * scale;
  }

  if (fractional) {
    const whole = Number.isInteger(total) && total >= TTL_MIN_SECONDS && total <= TTL_MAX_SECONDS;
    return fail(
      whole
        ? `${show(text)} has a fraction; write whole units instead: ${formatTtl(total)}`
        : `${show(text)} has a fraction; write whole units, e.g. 1h30m rather than 1.5h`,
    );
  }
  if (total === 0) return fail(`${show(text)} is zero; a ttl is at least 1s, e.g. 8h`);
  if (total > TTL_MAX_SECONDS) return fail(`${show(text)} is longer than the maximum, 365d; write at most 365d (or 52w)`);
  return { issues: [], seconds: total };
}

/**
 * Checks a ttl without throwing. Returns no issues for a valid ttl or an unknown value.
 */
export function checkTtl(text: MaybeUnknown<string>, field = 'ttl'): ValidationIssue[] {
  if (isUnknown(text)) return [];
  return analyseTtl(text, field).issues;
}

/**
 * Parses a ttl such as `8h`, `1h30m` or `7d` into seconds; throws a `ValidationError`
 * naming `field` when it is not a duration from 1s to 365d.
 */
export function parseTtl(text: string, field = 'ttl'): number {
  const result = analyseTtl(text, field);
  throwIfIssues(result.issues);
  // analyseTtl sets seconds exactly when there are no issues.
  return result.seconds ?? 0;
}

/**
 * The canonical spelling of a duration in whole seconds, largest units first and weeks
 * written as days (as the examples do: `7d`, `90d`): 5400 -> `1h30m`, 86400 -> `1d`,
 * 0 -> `0s`. Throws a RangeError for negative or fractional input (a programming error).
 */
export function formatTtl(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`formatTtl needs a whole, non-negative number of seconds, got ${seconds}`);
  }
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const [unit, scale] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(rest / scale);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * scale;
  }
  return out;
}
