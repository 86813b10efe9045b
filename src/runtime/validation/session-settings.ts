/**
 * The session settings of an endpoint's members (`adaptive_endpoint`'s `search_path`,
 * `statement_timeout`, `idle_session_timeout`, `connection_limit`, `timezone`,
 * `application_name`), checked at plan time and turned into `SessionSettings`.
 *
 * Decisions:
 * - `search_path` is a list of schema names (as HCL writes lists), each an identifier or
 *   `$user`; it is quoted name by name on the way to SQL, so a comma or quote in a name
 *   can never split it. An empty list is refused: leaving the attribute out is how to say
 *   "no setting".
 * - Timeouts are written like `ttl` (`30s`, `5m`, `1h`, `1h30m`; whole units s, m, h, d)
 *   or `0` / `0s` for "no timeout", set explicitly (it overrides a database's default).
 *   A bare number other than 0 is refused: PostgreSQL would read it as milliseconds.
 *   At most 24d (PostgreSQL keeps milliseconds in a 32-bit integer: about 24.8 days).
 * - `connection_limit` is a whole number from 1: PostgreSQL's -1 ("no limit") is written
 *   by leaving it out, and 0 would refuse every session of the member.
 * - `timezone` is checked for its shape here; whether the server knows it is asked of the
 *   server before anything changes (its list is the server's, not Node's).
 * - `idle_session_timeout` exists from PostgreSQL 14 on (see `sessionSettingsVersionIssues`).
 */
import type { SessionSettings, ValidationIssue } from '../types';
import { indexField, isAbsent, issue, isUnknown, show, throwIfIssues, typeName, utf8Length, type MaybeUnknown } from './common';
import { describeCharacter, identifierProblem, IDENTIFIER_RULE } from './names';
import { formatTtl } from './ttl';

/** The settings as the HCL attributes write them; absent or null = not set, UNKNOWN = not known yet. */
export interface SessionSettingsInput {
  readonly search_path?: MaybeUnknown<readonly unknown[]> | null | undefined;
  readonly statement_timeout?: unknown;
  readonly idle_session_timeout?: unknown;
  readonly connection_limit?: unknown;
  readonly timezone?: unknown;
  readonly application_name?: unknown;
}

/** The longest timeout accepted, in seconds (24 days, within PostgreSQL's 2^31 - 1 ms). */
export const SESSION_TIMEOUT_MAX_SECONDS = 24 * 86_400;
/** The first PostgreSQL release (server_version_num) with `idle_session_timeout`. */
export const IDLE_SESSION_TIMEOUT_MIN_VERSION = 140_000;
/** PostgreSQL keeps application_name to NAMEDATALEN - 1 bytes. */
const APPLICATION_NAME_MAX_BYTES = 63;
const CONNECTION_LIMIT_MAX = 2 ** 31 - 1;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };
const HOW_TO_WRITE = 'write a number and a unit, e.g. 30s, 5m or 1h (units s, m, h, d; up to 24d), or 0 for no timeout';
const TIMEZONE_RE = /^[A-Za-z0-9/_+:.-]{1,63}$/;

function analyseDuration(text: unknown, field: string): { issues: ValidationIssue[]; seconds?: number } {
  const fail = (message: string): { issues: ValidationIssue[] } => ({ issues: [issue(field, message)] });
  if (typeof text !== 'string') return fail(`must be a string such as "30s", got ${typeName(text)}`);
  if (text.length === 0) return fail(`is empty; ${HOW_TO_WRITE}, or leave ${field} out`);
  if (text.trim() !== text) return fail(`${show(text)} has spaces around it; write ${show(text.trim())}`);
  if (text.startsWith('-')) return fail(`${show(text)} is negative; ${HOW_TO_WRITE}`);
  if (/^0+$/.test(text)) return { issues: [], seconds: 0 };
  if (/^\d+$/.test(text)) return fail(`${show(text)} has no unit (PostgreSQL would read milliseconds); write ${show(`${text}s`)} for seconds, or ${HOW_TO_WRITE}`);
  if (!/^(?:\d+[a-z]+)+$/i.test(text)) return fail(`${show(text)} is not a duration; ${HOW_TO_WRITE}`);
  let total = 0;
  for (const term of text.matchAll(/(\d+)([a-z]+)/gi)) {
    const scale = UNIT_SECONDS[term[2] ?? ''];
    if (scale === undefined) return fail(`${show(text)} is not a duration: unknown unit ${show(term[2])}; ${HOW_TO_WRITE}`);
    total += Number(term[1]) * scale;
  }
  if (total > SESSION_TIMEOUT_MAX_SECONDS) return fail(`${show(text)} is longer than PostgreSQL allows; write at most 24d, or 0 for no timeout`);
  return { issues: [], seconds: total };
}

/** Parses a timeout such as `30s`, `5m` or `0` into whole seconds; throws a `ValidationError` naming `field`. */
export function parseSessionDuration(text: string, field: string): number {
  const result = analyseDuration(text, field);
  throwIfIssues(result.issues);
  return result.seconds ?? 0;
}

/** A timeout as the docs and messages write it: `0` for none, else like a ttl (`5s`, `1h30m`). */
export function formatSessionDuration(seconds: number): string {
  return seconds === 0 ? '0' : formatTtl(seconds);
}

function checkSearchPath(value: unknown, out: ValidationIssue[]): void {
  if (!Array.isArray(value)) {
    out.push(issue('search_path', `must be a list of schema names such as ["app", "public"], got ${typeName(value)}`));
    return;
  }
  if (value.length === 0) out.push(issue('search_path', 'is an empty list; name at least one schema, or leave search_path out to keep the default'));
  const seen = new Set<string>();
  value.forEach((name: unknown, i) => {
    const field = indexField('search_path', i);
    if (isUnknown(name)) return;
    if (typeof name !== 'string') return void out.push(issue(field, `must be a schema name, got ${typeName(name)}`));
    if (seen.has(name)) out.push(issue(field, `${show(name)} is listed twice; name each schema once`));
    seen.add(name);
    const problem = name === '$user' ? undefined : identifierProblem(name);
    if (problem !== undefined) out.push(issue(field, `${problem}; a schema name is ${IDENTIFIER_RULE} (or $user)`));
  });
}

function checkConnectionLimit(value: unknown, out: ValidationIssue[]): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    out.push(issue('connection_limit', `must be a whole number of sessions, at least 1, got ${typeof value === 'number' ? String(value) : typeName(value)}`));
  } else if (value === -1) {
    out.push(issue('connection_limit', 'is -1; for no limit leave connection_limit out, otherwise write at least 1'));
  } else if (value < 1) {
    out.push(issue('connection_limit', `is ${value}, which would refuse every session of the members; write at least 1, or leave connection_limit out for no limit`));
  } else if (value > CONNECTION_LIMIT_MAX) {
    out.push(issue('connection_limit', `is ${value}, more than PostgreSQL can hold; leave connection_limit out for no limit`));
  }
}

function checkTimezone(value: unknown, out: ValidationIssue[]): void {
  if (typeof value !== 'string') return void out.push(issue('timezone', `must be a time zone name such as "UTC" or "Europe/Berlin", got ${typeName(value)}`));
  if (!TIMEZONE_RE.test(value)) {
    const bad = Array.from(value).find((ch) => !/[A-Za-z0-9/_+:.-]/.test(ch));
    const why = value.length === 0 ? 'is empty' : bad !== undefined ? `${show(value)} contains ${describeCharacter(bad)}` : `${show(value)} is too long`;
    out.push(issue('timezone', `${why}; write a time zone name such as "UTC" or "Europe/Berlin"`));
  }
}

function checkApplicationName(value: unknown, out: ValidationIssue[]): void {
  if (typeof value !== 'string') return void out.push(issue('application_name', `must be a string, got ${typeName(value)}`));
  if (value.length === 0) return void out.push(issue('application_name', 'is empty; write a short label, or leave application_name out'));
  const bad = Array.from(value).find((ch) => ch < ' ' || ch > '~');
  if (bad !== undefined) out.push(issue('application_name', `contains ${describeCharacter(bad)}; PostgreSQL keeps only printable ASCII here`));
  else if (utf8Length(value) > APPLICATION_NAME_MAX_BYTES) out.push(issue('application_name', `is longer than ${APPLICATION_NAME_MAX_BYTES} characters; PostgreSQL would cut it`));
}

/** Checks the settings without throwing; values not known yet are skipped. */
export function checkSessionSettings(input: SessionSettingsInput): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const present = (value: unknown): boolean => !isAbsent(value) && !isUnknown(value);
  if (present(input.search_path)) checkSearchPath(input.search_path, out);
  for (const field of ['statement_timeout', 'idle_session_timeout'] as const) {
    if (present(input[field])) out.push(...analyseDuration(input[field], field).issues);
  }
  if (present(input.connection_limit)) checkConnectionLimit(input.connection_limit, out);
  if (present(input.timezone)) checkTimezone(input.timezone, out);
  if (present(input.application_name)) checkApplicationName(input.application_name, out);
  return out;
}

/**
 * Checks settings already in the runtime's form (a caller of the runtime may skip the HCL
 * spelling): the same rules, with timeouts as whole seconds.
 */
export function checkSessionSettingsValues(settings: SessionSettings): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seconds = { statement_timeout: settings.statementTimeoutSeconds, idle_session_timeout: settings.idleSessionTimeoutSeconds };
  for (const [field, value] of Object.entries(seconds)) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > SESSION_TIMEOUT_MAX_SECONDS)) {
      out.push(issue(field, `must be a whole number of seconds from 0 (no timeout) to ${SESSION_TIMEOUT_MAX_SECONDS} (24d), not ${String(value)}`));
    }
  }
  if (settings.searchPath !== undefined) checkSearchPath(settings.searchPath, out);
  if (settings.connectionLimit !== undefined) checkConnectionLimit(settings.connectionLimit, out);
  if (settings.timezone !== undefined) checkTimezone(settings.timezone, out);
  if (settings.applicationName !== undefined) checkApplicationName(settings.applicationName, out);
  return out;
}

/** The settings as the runtime takes them; throws a `ValidationError` naming each bad attribute. */
export function parseSessionSettings(input: SessionSettingsInput): SessionSettings {
  throwIfIssues(checkSessionSettings(input));
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const duration = (value: unknown, field: string): number | undefined => (typeof value === 'string' ? parseSessionDuration(value, field) : undefined);
  const settings: { -readonly [K in keyof SessionSettings]: SessionSettings[K] } = {};
  if (Array.isArray(input.search_path)) settings.searchPath = input.search_path.map(String);
  const statement = duration(input.statement_timeout, 'statement_timeout');
  if (statement !== undefined) settings.statementTimeoutSeconds = statement;
  const idle = duration(input.idle_session_timeout, 'idle_session_timeout');
  if (idle !== undefined) settings.idleSessionTimeoutSeconds = idle;
  if (typeof input.connection_limit === 'number') settings.connectionLimit = input.connection_limit;
  const timezone = text(input.timezone);
  if (timezone !== undefined) settings.timezone = timezone;
  const applicationName = text(input.application_name);
  if (applicationName !== undefined) settings.applicationName = applicationName;
  return settings;
}

/** The settings as the HCL attributes write them (durations canonical): the inverse of `parseSessionSettings`. */
export function sessionSettingsInput(settings: SessionSettings): SessionSettingsInput {
  return {
    search_path: settings.searchPath ?? null,
    statement_timeout: settings.statementTimeoutSeconds === undefined ? null : formatSessionDuration(settings.statementTimeoutSeconds),
    idle_session_timeout: settings.idleSessionTimeoutSeconds === undefined ? null : formatSessionDuration(settings.idleSessionTimeoutSeconds),
    connection_limit: settings.connectionLimit ?? null,
    timezone: settings.timezone ?? null,
    application_name: settings.applicationName ?? null,
  };
}

/**
 * What a server of `versionNum` (server_version_num) cannot apply, naming the attribute
 * and the version: `idle_session_timeout` needs PostgreSQL 14.
 */
export function sessionSettingsVersionIssues(settings: SessionSettings, versionNum: number, target: string): ValidationIssue[] {
  if (settings.idleSessionTimeoutSeconds === undefined || versionNum >= IDLE_SESSION_TIMEOUT_MIN_VERSION) return [];
  return [
    issue(
      'idle_session_timeout',
      `needs PostgreSQL 14 or later, and resource "${target}" runs PostgreSQL ${Math.floor(versionNum / 10_000)}; ` +
        'leave idle_session_timeout out for this endpoint (nothing was changed)',
    ),
  ];
}
