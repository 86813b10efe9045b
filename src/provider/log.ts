/**
 * hclog-compatible JSON logging on stderr. Terraform (through go-plugin) reads the plugin's
 * stderr line by line; a line that parses as hclog JSON is re-logged at its own level and
 * filtered by TF_LOG / TF_LOG_PROVIDER, anything else is logged raw at debug. The parser
 * only accepts `@timestamp` with exactly six fractional digits, which JavaScript's
 * `toISOString` does not produce, hence `hclogTimestamp`.
 */

/** hclog levels, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { trace: 1, debug: 2, info: 3, warn: 4, error: 5 };

/** Extra key/value pairs on a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** What resources and the framework log through. */
export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry these fields too. */
  with(fields: LogFields): Logger;
  /** Whether a line at this level would be written (to skip building expensive fields). */
  enabled(level: LogLevel): boolean;
}

/**
 * The minimum level from the environment, as Terraform reads it for providers:
 * TF_LOG_PROVIDER wins over TF_LOG; `off` or unset means no logging; `json` and any
 * unrecognised value mean trace (Terraform falls back to TRACE for an invalid level).
 */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const raw = (env.TF_LOG_PROVIDER ?? '').trim() || (env.TF_LOG ?? '').trim();
  if (!raw) return undefined;
  const value = raw.toLowerCase();
  if (value === 'off') return undefined;
  if (value in LEVEL_RANK) return value as LogLevel;
  return 'trace';
}

/**
 * A timestamp in hclog's JSON format, `2006-01-02T15:04:05.000000Z07:00`, in UTC with
 * microseconds. `epochMicros` defaults to the current time with sub-millisecond precision.
 */
export function hclogTimestamp(epochMicros: number = Math.round((performance.timeOrigin + performance.now()) * 1000)): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = Math.floor(epochMicros - millis * 1000);
  const iso = new Date(millis).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** What a redacted value is replaced with in logs (Terraform's own wording in plans). */
export const REDACTED = '(sensitive value)';

/** Shorter strings are not masked: they would mangle ordinary words. */
const MIN_SECRET_LENGTH = 4;
/** Lines of a multi-line secret at least this long are masked on their own too (a PEM key's base64 lines). */
const MIN_SECRET_LINE_LENGTH = 16;

/** `text` as it appears inside a JSON string. */
function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** `text` as a URL's userinfo holds it when set through the WHATWG URL API. */
function userinfoEncoded(text: string): string {
  const url = new URL('http://host');
  url.password = text;
  return url.password;
}

/**
 * Every form a secret can take in output: as is; escaped in a JSON string (a log line),
 * twice (a JSON document logged as a string field); percent-encoded in a URL (connection
 * URIs, as encodeURIComponent, the URL API and form encoding write it); in base64. A
 * multi-line secret (a PEM private key) also has each long line masked on its own, which
 * catches it whatever its line ends or however it is escaped or cut.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  const addForms = (text: string): void => {
    const json = jsonEscaped(text);
    for (const form of [text, json, jsonEscaped(json), encodeURIComponent(text), userinfoEncoded(text), new URLSearchParams({ s: text }).toString().slice(2), Buffer.from(text, 'utf8').toString('base64')]) {
      if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
    }
  };
  addForms(secret);
  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      // PEM armour (-----BEGIN ... KEY-----) names the kind of key, not the key.
      if (trimmed.length >= MIN_SECRET_LINE_LENGTH && !trimmed.startsWith('-----')) addForms(trimmed);
    }
  }
  return [...forms];
}

/**
 * Secrets that must never leave the plugin: not in a log line, not in a diagnostic. The
 * framework registers the value of every attribute marked sensitive as it decodes it;
 * resources may register their own (a password fetched from a secret store), and the
 * provider may connect a source of run-time secrets (the runtime's registry). Every
 * message, field and diagnostic is scrubbed of each secret in every form it can take
 * (`secretForms`).
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** Secrets registered since the forms were last computed. */
  private pending: string[] = [];
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;

  /**
   * Registers a secret; empty and very short strings are ignored (they would mask everything).
   * Its forms are worked out only when something is scrubbed: a state holding thousands of
   * passwords registers them all in every plugin process, which most often scrubs nothing.
   */
  add(secret: unknown): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.pending.push(secret);
  }

  /** Replaces every registered secret, in any of its forms, in `text`. */
  scrub(text: string): string {
    if (this.pending.length > 0) {
      for (const secret of this.pending) for (const form of secretForms(secret)) this.forms.add(form);
      this.pending = [];
      this.pattern = undefined;
    }
    if (this.forms.size === 0) return text;
    if (!this.pattern) {
      // Longest first, so a secret containing another is masked whole.
      const alternatives = [...this.forms].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.pattern, REDACTED);
  }
}

/** Where log lines go; stderr in the plugin, an array in tests. */
export type LogSink = (line: string) => void;

/** Writes to stderr until it breaks (Terraform gone), then drops lines. */
const stderrSink: LogSink = (line) => {
  if (!process.stderr.destroyed && process.stderr.writable) process.stderr.write(line);
};

interface LoggerOptions {
  readonly level: LogLevel | undefined;
  readonly module: string;
  readonly sink?: LogSink;
  readonly redactor?: Redactor;
}

/** JSON.stringify that survives errors, bigints and cycles, since a log call must never throw. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

class JsonLogger implements Logger {
  constructor(
    private readonly options: Required<LoggerOptions>,
    private readonly fields: LogFields,
  ) {}

  enabled(level: LogLevel): boolean {
    const min = this.options.level;
    return min !== undefined && LEVEL_RANK[level] >= LEVEL_RANK[min];
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!this.enabled(level)) return;
    try {
      const entry: Record<string, unknown> = {
        '@level': level,
        '@message': message,
        '@module': this.options.module,
        '@timestamp': hclogTimestamp(),
        ...this.fields,
        ...fields,
      };
      this.options.sink(this.options.redactor.scrub(safeJson(entry)) + '\n');
    } catch {
      // Logging is best effort: a broken sink must not break an RPC.
    }
  }

  trace(message: string, fields?: LogFields): void {
    this.write('trace', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  with(fields: LogFields): Logger {
    return new JsonLogger(this.options, { ...this.fields, ...fields });
  }
}

/**
 * Creates a logger. With no level (TF_LOG unset) it writes nothing, so a plugin started
 * without logging pays only a comparison per call.
 */
export function createLogger(options: LoggerOptions): Logger {
  return new JsonLogger(
    {
      level: options.level,
      module: options.module,
      sink: options.sink ?? stderrSink,
      redactor: options.redactor ?? new Redactor(),
    },
    {},
  );
}
