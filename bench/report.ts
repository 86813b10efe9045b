/**
 * The bench's rows, as a table (what | provider | floor | ratio | target | met) and as
 * JSON. A row the provider could not complete keeps its place, with the error instead of
 * a number, so a run at a size that breaks still reports every other row.
 */
import os from 'node:os';

export type Unit = 's' | 'MB' | 'KB';

/** What a row has to meet: a ratio to its floor, or an absolute value. */
export type Target = { readonly maxRatio: number } | { readonly max: number } | null;

export interface RowSpec {
  /** The row's key in the JSON. */
  readonly id: string;
  readonly what: string;
  readonly floorWhat: string | null;
  readonly unit: Unit;
  readonly target: Target;
}

export interface BenchRow extends RowSpec {
  /** The provider's median (or peak/size), null when it failed. */
  readonly provider: number | null;
  readonly floor: number | null;
  readonly ratio: number | null;
  /** Null: no target, or no number to judge. */
  readonly met: boolean | null;
  /** Every run's value, in run order. */
  readonly samples: readonly number[];
  readonly floorSamples: readonly number[];
  readonly error?: string;
}

export interface BenchReport {
  readonly ok: boolean;
  readonly members: number;
  readonly repeat: number;
  readonly postgres: string;
  /** Settings given with --pg-setting (the cluster's others are src/localpg's). */
  readonly pgSettings: Readonly<Record<string, string>>;
  /** Set when plugin processes were profiled (--profile): their times include the profiler's cost. */
  readonly profileDir?: string;
  readonly terraform: string;
  readonly machine: { readonly node: string; readonly cpus: number; readonly memoryGiB: number; readonly loadAtStart: number; readonly loadAtEnd: number };
  readonly startedAt: string;
  readonly elapsedSeconds: number;
  readonly interrupted: boolean;
  readonly rows: Readonly<Record<string, BenchRow>>;
}

export function median(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A row from its samples: medians, the ratio, and whether the target is met. */
export function buildRow(spec: RowSpec, samples: readonly number[], floorSamples: readonly number[], error?: string): BenchRow {
  const provider = error === undefined ? median(samples) : null;
  const floor = median(floorSamples);
  const ratio = provider !== null && floor !== null && floor > 0 ? provider / floor : null;
  let met: boolean | null = null;
  if (spec.target !== null && 'maxRatio' in spec.target) met = ratio === null ? null : ratio <= spec.target.maxRatio;
  else if (spec.target !== null) met = provider === null ? null : provider <= spec.target.max;
  return { ...spec, provider, floor, ratio, met, samples, floorSamples, ...(error === undefined ? {} : { error }) };
}

export function machine(loadAtStart: number): BenchReport['machine'] {
  return { node: process.version, cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAtStart, loadAtEnd: os.loadavg()[0] ?? 0 };
}

function value(n: number | null, unit: Unit): string {
  if (n === null) return '-';
  if (unit === 's') return `${n < 1 ? n.toFixed(3) : n.toFixed(2)} s`;
  return `${n.toFixed(n < 10 ? 1 : 0)} ${unit}`;
}

function target(row: BenchRow): string {
  if (row.target === null) return '';
  return 'maxRatio' in row.target ? `<= ${row.target.maxRatio}x` : `<= ${value(row.target.max, row.unit)}`;
}

/** A header and its rows as fixed-width lines: `a | b | c`, a dashed rule under the header. */
export function fixedWidthTable(header: readonly string[], cells: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string => c.map((text, i) => text.padEnd(widths[i] as number)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)];
}

/** The report as a fixed-width table, one line per row, then the rows' errors. */
export function reportTable(report: BenchReport): string {
  const rows = Object.values(report.rows);
  const header = ['what', 'provider', 'floor', 'ratio', 'target', 'met'];
  const cells = rows.map((r) => [
    r.what,
    r.error === undefined ? value(r.provider, r.unit) : 'FAILED',
    r.floorWhat === null ? '' : `${r.floorWhat}: ${value(r.floor, r.unit)}`,
    r.ratio === null ? '' : `${r.ratio.toFixed(1)}x`,
    target(r),
    r.met === null ? '' : r.met ? 'yes' : 'no',
  ]);
  const m = report.machine;
  const lines = [
    `${report.members} members, median of ${report.repeat}, PostgreSQL ${report.postgres}${Object.entries(report.pgSettings).map(([k, v]) => ` ${k}=${v}`).join('')}, Terraform ${report.terraform}, Node ${m.node}, ${m.cpus} cores, ${m.memoryGiB} GiB, load ${m.loadAtStart.toFixed(2)} -> ${m.loadAtEnd.toFixed(2)}${report.interrupted ? ', INTERRUPTED' : ''}`,
    ...(report.profileDir === undefined ? [] : [`Profiling on (profiles in ${report.profileDir}): the plugin's times include the profiler's cost; compare only with profiled runs.`]),
    '',
    ...fixedWidthTable(header, cells),
  ];
  for (const r of rows) if (r.error !== undefined) lines.push('', `${r.what}: ${r.error}`);
  return lines.join('\n');
}
