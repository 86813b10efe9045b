/** Formatting for the demo's output: durations, countdowns, masked secrets, indented blocks. */

/** Seconds with one decimal: `1.2 s`. */
export function seconds(ms: number): string {
  return ms < 50 ? '<0.1 s' : `${(ms / 1000).toFixed(1)} s`;
}

/** A whole-second countdown: `7h 59m 58s`, `59m 58s`, `12s`; `expired` when nothing is left. */
export function remaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A password as the demo shows it: never in full, only its first characters. */
export function mask(secret: string): string {
  return `${secret.slice(0, 3)}${'*'.repeat(9)}`;
}

/** `text`'s lines, each indented by `by` spaces. */
export function indent(text: string, by = 4): string[] {
  return text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line === '' ? '' : `${' '.repeat(by)}${line}`));
}

/** `HH:MM:SS` in UTC, for the audit log. */
export function clock(at: Date): string {
  return at.toISOString().slice(11, 19);
}
