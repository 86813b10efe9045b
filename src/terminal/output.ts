/**
 * Where the CLI writes: results on stdout (so they can be piped or parsed), progress and
 * errors on stderr. Colour follows https://no-color.org: only when stdout is a terminal and
 * NO_COLOR is unset (or empty); on stderr only when it is a terminal as well.
 */

/** A stream the CLI writes to: what it needs of `process.stdout`. */
export interface OutStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
}

/** The process's streams and environment, passed in so that nothing reads globals twice. */
export interface Io {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

const SGR: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

export class Output {
  /** Whether stdout gets colour. */
  readonly color: boolean;
  /** Whether stderr gets colour. */
  readonly colorErr: boolean;

  constructor(readonly io: Io) {
    const allowed = io.stdout.isTTY === true && (io.env.NO_COLOR ?? '') === '';
    this.color = allowed;
    this.colorErr = allowed && io.stderr.isTTY === true;
  }

  /** One line of results on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** One JSON value on one line of stdout. */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** One line of progress or diagnostics on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** `text` styled for stdout. */
  paint(style: Style, text: string): string {
    return this.color ? wrap(style, text) : text;
  }

  /** `text` styled for stderr. */
  paintErr(style: Style, text: string): string {
    return this.colorErr ? wrap(style, text) : text;
  }
}

function wrap(style: Style, text: string): string {
  const [on, off] = SGR[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function columns(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

/** A message on one line: line breaks in runtime errors become `; `. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}
