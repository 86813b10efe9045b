/**
 * `adaptive-access audit`: the catalog's append-only audit log, filtered. It reads the
 * newest matching events (so `--limit` keeps the recent past, which is what someone asking
 * "what happened?" wants) and prints them oldest first, like a log. Reading needs no
 * catalog key and contacts no target.
 *
 * The catalog never writes secrets into an event's detail; keys that look like they could
 * hold one are still left out, so a future writer's mistake does not end up in a terminal
 * scrollback or a ticket.
 */
import type { AuditFilter, AuditRecord } from '../runtime';
import type { OptionValues } from './args';
import { catalogSettingsFrom, openReaderFor, withoutCatalogKey } from './catalog';
import { EXIT_OK, UsageError } from '../terminal/errors';
import { columns, type Output } from '../terminal/output';
import type { AUDIT_OPTIONS } from './specs/audit';
import { isoSeconds, parseWhen } from './time-format';

export type AuditValues = OptionValues<typeof AUDIT_OPTIONS>;

/** Event names the runtime and the catalog write. */
export const AUDIT_EVENTS: readonly string[] = [
  'grant',
  'grant.ephemeral',
  'revoke',
  'expire',
  'extend',
  ...['resource', 'authorization', 'endpoint', 'group'].flatMap((record) => ['create', 'update', 'delete'].map((op) => `${record}.${op}`)),
];

/** One event, as `audit --json` prints it. */
export interface AuditLine {
  readonly id: string;
  readonly at: string;
  readonly event: string;
  readonly target: string | null;
  readonly endpoint: string | null;
  readonly group: string | null;
  readonly member: string | null;
  readonly role: string | null;
  readonly detail: Record<string, unknown>;
}

/** What `audit --json` prints. */
export interface AuditJsonReport {
  /** Oldest first. */
  readonly events: AuditLine[];
  /** True when more events matched than --limit let through (the oldest were left out). */
  readonly truncated: boolean;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 100_000;

/** Detail keys never shown, whatever their value. */
const SECRET_KEY = /password|secret|key|token/i;
/**
 * Exceptions: keys that name where a secret is kept, never the secret itself (the
 * catalog's `resource.*` events say `adminSecret: inline | aws secrets manager | none`).
 */
const DESCRIBES_A_SECRET: ReadonlyMap<string, ReadonlySet<unknown>> = new Map([['adminSecret', new Set(['inline', 'aws secrets manager', 'none'])]]);

export async function audit(values: AuditValues, out: Output): Promise<number> {
  const limit = limitFrom(values.limit);
  const filter = filterFrom(values, new Date());
  const settings = catalogSettingsFrom('audit', values, withoutCatalogKey(out.io.env));
  const catalog = await openReaderFor('audit', settings, values['catalog-schema']);
  let records: AuditRecord[];
  try {
    // One more than asked for tells whether the limit cut anything off.
    records = await catalog.readAudit({ ...filter, newestFirst: true, limit: limit + 1 });
  } finally {
    await catalog.close();
  }
  const truncated = records.length > limit;
  const report: AuditJsonReport = { events: records.slice(0, limit).reverse().map(toLine), truncated };
  if (values.json === true) out.json(report);
  else printAudit(report.events, out);
  if (truncated) out.note(`showing the newest ${limit} events; use --limit or --since for more`);
  return EXIT_OK;
}

function limitFrom(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_LIMIT) {
    throw new UsageError(`option '--limit' must be a whole number from 1 to ${MAX_LIMIT}, not '${value}'`, 'audit');
  }
  return n;
}

/**
 * Event names from repeated and comma-separated `--event` values. `group.*` stands for the
 * three events of a record kind. An unknown name is a usage error listing the known ones:
 * a typo would otherwise match nothing and look like an empty log.
 */
export function eventsFrom(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`option '--event' needs an event name (${AUDIT_EVENTS.join(', ')})`, 'audit');
  const events = new Set<string>();
  for (const name of names) {
    const matched = name.endsWith('.*') ? AUDIT_EVENTS.filter((e) => e.startsWith(name.slice(0, -1))) : AUDIT_EVENTS.filter((e) => e === name);
    if (matched.length === 0) {
      throw new UsageError(`unknown event '${name}' for --event; known events: ${AUDIT_EVENTS.join(', ')} (or resource.*, authorization.*, endpoint.*, group.*)`, 'audit');
    }
    matched.forEach((e) => events.add(e));
  }
  return [...events];
}

function filterFrom(values: AuditValues, now: Date): AuditFilter {
  const since = values.since === undefined ? undefined : parseWhen('audit', 'since', values.since, now);
  const until = values.until === undefined ? undefined : parseWhen('audit', 'until', values.until, now);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`, 'audit');
  }
  const event = eventsFrom(values.event);
  return {
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(event === undefined ? {} : { event }),
    ...(values.target === undefined ? {} : { resource: values.target }),
    ...(values.member === undefined ? {} : { member: values.member }),
    ...(values.group === undefined ? {} : { group: values.group }),
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
  };
}

function toLine(r: AuditRecord): AuditLine {
  return {
    id: r.id,
    at: r.at.toISOString(),
    event: r.event,
    target: r.resource,
    endpoint: r.endpoint,
    group: r.group,
    member: r.member,
    role: r.roleName,
    detail: withoutSecrets(r.detail),
  };
}

/** `detail` without keys that could hold a secret, at any depth. */
export function withoutSecrets(detail: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (SECRET_KEY.test(key) && !(DESCRIBES_A_SECRET.get(key)?.has(value) ?? false)) continue;
    kept[key] = isRecord(value) ? withoutSecrets(value) : value;
  }
  return kept;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `key=value key=value`: plain words as they are, anything else as JSON (quoted, compact). */
export function compactDetail(detail: Readonly<Record<string, unknown>>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${typeof value === 'string' && /^[\w@.:/+-]+$/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
}

function printAudit(events: readonly AuditLine[], out: Output): void {
  if (events.length === 0) {
    out.line('No audit events match.');
    return;
  }
  const rows = [
    ['AT', 'EVENT', 'TARGET', 'ENDPOINT', 'GROUP', 'MEMBER', 'ROLE', 'DETAIL'],
    ...events.map((e) => [isoSeconds(new Date(e.at)), e.event, e.target ?? '-', e.endpoint ?? '-', e.group ?? '-', e.member ?? '-', e.role ?? '-', compactDetail(e.detail)]),
  ];
  columns(rows).forEach((line, i) => out.line(i === 0 ? out.paint('bold', line) : line));
}
