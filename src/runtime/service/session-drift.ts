/**
 * How a member's login role differs from its endpoint's session settings, in words for
 * the endpoint's `drift` (`login role "x": statement_timeout is 0, want 5s`). Values are
 * compared by meaning, not spelling: PostgreSQL keeps a timeout as it was written
 * (`5s`, `5000`, `1min`), a search path with its names quoted only where needed.
 */
import type { LoginRoleSettings, SessionSettingName } from '../access/session-settings';
import { SESSION_SETTING_NAMES } from '../access/session-settings';
import type { SessionSettings } from '../types';
import { formatSessionDuration } from '../validation/session-settings';

/** Milliseconds per unit of a PostgreSQL time setting; a bare number is milliseconds. */
const PG_TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time setting as PostgreSQL reads it, in milliseconds; undefined when it is not one. */
function pgMilliseconds(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(text);
  const scale = match ? PG_TIME_UNITS[match[2] || 'ms'] : undefined;
  return match && scale !== undefined ? Math.round(Number(match[1]) * scale) : undefined;
}

function durationText(ms: number): string {
  return ms % 1000 === 0 ? formatSessionDuration(ms / 1000) : `${ms}ms`;
}

/** The names of a search path as rolconfig holds it (`"$user", app`), unquoted. */
export function searchPathNames(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(?:,|$)/gy)) {
    if (match[0] === '') break;
    names.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? ''));
  }
  return names;
}

/** Each managed setting as the drift words it, from the endpoint's side; undefined = not set. */
function wantedText(settings: SessionSettings, name: SessionSettingName): string | undefined {
  switch (name) {
    case 'search_path':
      return settings.searchPath?.join(', ');
    case 'statement_timeout':
      return settings.statementTimeoutSeconds === undefined ? undefined : formatSessionDuration(settings.statementTimeoutSeconds);
    case 'idle_session_timeout':
      return settings.idleSessionTimeoutSeconds === undefined ? undefined : formatSessionDuration(settings.idleSessionTimeoutSeconds);
    case 'timezone':
      return settings.timezone;
    case 'application_name':
      return settings.applicationName;
  }
}

/** The same from the role's side, normalised like `wantedText`. */
function heldText(name: SessionSettingName, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (name === 'search_path') return searchPathNames(raw).join(', ');
  if (name === 'statement_timeout' || name === 'idle_session_timeout') {
    const ms = pgMilliseconds(raw);
    return ms === undefined ? raw : durationText(ms);
  }
  return raw;
}

/** The differences between one login role and the settings its endpoint wants; empty when none. */
export function sessionSettingsDrift(role: LoginRoleSettings, wanted: SessionSettings): string[] {
  const drift: string[] = [];
  const say = (name: string, held: string | undefined, want: string | undefined): void => {
    if (held !== want) drift.push(`login role "${role.roleName}": ${name} is ${held ?? 'not set'}, want ${want ?? 'it not set'}`);
  };
  for (const name of SESSION_SETTING_NAMES) say(name, heldText(name, role.config.get(name)), wantedText(wanted, name));
  const limit = (n: number | undefined): string => (n === undefined || n < 0 ? 'no limit' : String(n));
  say('connection_limit', limit(role.connectionLimit), limit(wanted.connectionLimit));
  return drift;
}
