/**
 * Times as the CLI shows and reads them: short durations for people ("7h 59m", "42s"),
 * ISO instants to the second in UTC (what operators paste into tickets and log searches),
 * and `--since`/`--until` values, which are either a time or a duration back from now.
 */
import { UsageError } from '../terminal/errors';

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/**
 * A duration in its two largest units, the second left out when zero: "2d 3h", "7h 59m",
 * "5m", "42s". Enough precision to act on, short enough for a table column. Negative
 * durations are shown by their size (the caller says "ago").
 */
export function shortDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const found = UNITS.findIndex(([, size]) => total >= size);
  const i = found === -1 ? UNITS.length - 1 : found;
  const [unit, size] = UNITS[i]!;
  const first = `${Math.floor(total / size)}${unit}`;
  const next = UNITS[i + 1];
  if (next === undefined) return first;
  const second = Math.floor((total % size) / next[1]);
  return second === 0 ? first : `${first} ${second}${next[0]}`;
}

/** An instant in UTC to the second: `2026-11-23T09:00:00Z`. */
export function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?$/i;

/** What `--since` and `--until` accept, for messages. */
export const WHEN_FORMS = 'a time such as 2026-11-23T09:00:00Z or 2026-11-23, or a duration back from now such as 90s, 30m, 24h, 7d';

/**
 * Reads a `--since`/`--until` value. A time without an offset is UTC (the catalog's clock
 * and the tables print UTC, so a time copied from them means the same instant); a date is
 * its midnight UTC. Anything else is a usage error naming the option and the forms.
 */
export function parseWhen(command: string, option: string, value: string, now: Date): Date {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) {
    const size = UNITS.find(([unit]) => unit === duration[2])![1];
    return new Date(now.getTime() - Number(duration[1]) * size * 1000);
  }
  let iso: string | undefined;
  if (DATE_ONLY.test(text)) iso = `${text}T00:00:00Z`;
  else if (DATE_TIME.test(text)) iso = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`;
  const at = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(at) || !sameCalendarDate(text, at)) {
    throw new UsageError(`option '--${option}' must be ${WHEN_FORMS}; not '${value}'`, command);
  }
  return new Date(at);
}

/** Rejects dates JavaScript silently rolls over (2026-02-30 as March 2nd). */
function sameCalendarDate(text: string, at: number): boolean {
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(text) && !/Z$/i.test(text)) return true; // an offset moves the date; trust Date.parse
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const date = new Date(at);
  return date.getUTCFullYear() === y && date.getUTCMonth() + 1 === m && date.getUTCDate() === d;
}
