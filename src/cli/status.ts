/**
 * `adaptive-access status`: who can reach which target right now, through which endpoint
 * and group, and for how long. Read from the catalog's live credentials only: the catalog
 * key is never needed (nothing is decrypted) and no target is contacted, so it answers
 * even while a target is down. Passwords are not in the catalog, so none can be shown.
 *
 * A credential past its expiry but not yet reaped is still listed: PostgreSQL already
 * refuses its login (VALID UNTIL), but its role and any open session remain until
 * `adaptive-access reap` runs, which is worth knowing when asking "who can get in?".
 */
import type { CredentialFilter, CredentialRecord, TargetSummary } from '../runtime';
import type { OptionValues } from './args';
import { catalogSettingsFrom, openReaderFor, withoutCatalogKey } from './catalog';
import { EXIT_OK } from '../terminal/errors';
import { columns, type Output } from '../terminal/output';
import { PROG } from './spec';
import type { STATUS_OPTIONS } from './specs/status';
import { isoSeconds, shortDuration } from './time-format';

export type StatusValues = OptionValues<typeof STATUS_OPTIONS>;

/** One live grant, as `status --json` prints it. */
export interface StatusGrant {
  readonly target: string;
  readonly member: string;
  readonly endpoint: string;
  readonly group: string;
  readonly role: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
  /** Whole seconds until expiry; 0 once expired. */
  readonly secondsLeft: number;
  /** Past its expiry, not reaped yet. */
  readonly expired: boolean;
}

/** What `status --json` prints. */
export interface StatusJsonReport {
  /** The instant time left is measured from. */
  readonly at: string;
  readonly grants: StatusGrant[];
  /** The targets in the catalog (only the one named by --target, if given), with their tags. */
  readonly targets: TargetSummary[];
}

/** Less than this left: shown in yellow, so a grant about to lapse stands out. */
const SOON_MS = 5 * 60 * 1000;

export async function status(values: StatusValues, out: Output): Promise<number> {
  const settings = catalogSettingsFrom('status', values, withoutCatalogKey(out.io.env));
  const filter = filterFrom(values);
  const catalog = await openReaderFor('status', settings, values['catalog-schema']);
  let records: CredentialRecord[];
  let targets: TargetSummary[];
  try {
    [records, targets] = await Promise.all([catalog.liveCredentials(filter), catalog.listTargets()]);
  } finally {
    await catalog.close();
  }
  const at = new Date();
  const report: StatusJsonReport = {
    at: at.toISOString(),
    grants: records.map((r) => toGrant(r, at)),
    targets: targets.filter((t) => filter.resource === undefined || t.name === filter.resource),
  };
  if (values.json === true) out.json(report);
  else printStatus(report, at, filter, out);
  return EXIT_OK;
}

function filterFrom(values: StatusValues): CredentialFilter {
  return {
    ...(values.target === undefined ? {} : { resource: values.target }),
    ...(values.member === undefined ? {} : { member: values.member }),
    ...(values.group === undefined ? {} : { group: values.group }),
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
  };
}

function toGrant(r: CredentialRecord, at: Date): StatusGrant {
  const leftMs = r.expiresAt.getTime() - at.getTime();
  return {
    target: r.resource,
    member: r.member,
    endpoint: r.endpoint,
    group: r.group,
    role: r.roleName,
    grantedAt: r.grantedAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    secondsLeft: Math.max(0, Math.floor(leftMs / 1000)),
    expired: leftMs <= 0,
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The filters given, as options, for "No live grants" (so an empty answer is not misread). */
function describeFilter(filter: CredentialFilter): string {
  const parts = [
    filter.resource === undefined ? '' : `--target ${filter.resource}`,
    filter.member === undefined ? '' : `--member ${filter.member}`,
    filter.group === undefined ? '' : `--group ${filter.group}`,
    filter.endpoint === undefined ? '' : `--endpoint ${filter.endpoint}`,
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` matching ${parts.join(' ')}`;
}

/** The LEFT column: time left, or how long ago it expired. */
function timeLeft(grant: StatusGrant, at: Date): string {
  const leftMs = Date.parse(grant.expiresAt) - at.getTime();
  return grant.expired ? `expired ${shortDuration(leftMs)} ago — awaiting reap` : shortDuration(leftMs);
}

function printStatus(report: StatusJsonReport, at: Date, filter: CredentialFilter, out: Output): void {
  const grants = report.grants;
  if (grants.length === 0) {
    out.line(`No live grants${describeFilter(filter)}.`);
    return;
  }
  const targets = [...new Set(grants.map((g) => g.target))].sort();
  targets.forEach((target, i) => {
    if (i > 0) out.line();
    const tags = report.targets.find((t) => t.name === target)?.tags ?? {};
    printTarget(target, tags, grants.filter((g) => g.target === target), at, out);
  });
  const expired = grants.filter((g) => g.expired).length;
  const members = new Set(grants.map((g) => g.member)).size;
  const summary = `${plural(grants.length, 'live grant')} for ${plural(members, 'member')} on ${plural(targets.length, 'target')}`;
  out.line();
  out.line(expired === 0 ? `${summary}.` : `${summary}; ${out.paint('yellow', `${expired} expired, awaiting '${PROG} reap'.`)}`);
}

/**
 * One target's heading (with its tags, so "whose database is this?" is answered where the
 * access is listed) and table, soonest expiry first (the catalog's order). LEFT is the
 * last column, so it can be painted after padding without upsetting the alignment.
 */
function printTarget(target: string, tags: Readonly<Record<string, string>>, grants: readonly StatusGrant[], at: Date, out: Output): void {
  const labels = Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`);
  out.line(out.paint('bold', `Target ${target}: ${plural(grants.length, 'grant')}`) + (labels.length === 0 ? '' : `  (tags: ${labels.join(', ')})`));
  const lefts = grants.map((g) => timeLeft(g, at));
  const rows = [
    ['MEMBER', 'ENDPOINT', 'GROUP', 'ROLE', 'GRANTED', 'EXPIRES', 'LEFT'],
    ...grants.map((g, i) => [g.member, g.endpoint, g.group, g.role, isoSeconds(new Date(g.grantedAt)), isoSeconds(new Date(g.expiresAt)), lefts[i]!]),
  ];
  columns(rows).forEach((line, i) => {
    if (i === 0) return out.line(out.paint('bold', line));
    const grant = grants[i - 1]!;
    const left = lefts[i - 1]!;
    const style = grant.expired ? 'red' : Date.parse(grant.expiresAt) - at.getTime() < SOON_MS ? 'yellow' : undefined;
    out.line(style === undefined ? line : `${line.slice(0, line.length - left.length)}${out.paint(style, left)}`);
  });
}
