/**
 * The engine's conversions and safeguards, apart from its RPC logic: schema types and
 * diagnostics as wire messages, opaque private data and timestamps of ephemeral resources,
 * and what keeps secrets out of logs (sensitive and write-only values, the log lines an
 * ephemeral resource's `open` writes before its result is known).
 */
import { ResourceError, type Diagnostic, type DiagnosticInput } from './diagnostics';
import { REDACTED, type LogFields, type Logger, type LogLevel, type Redactor } from './log';
import type { DiagnosticMessage, PathStepMessage, TimestampMessage } from './proto';
import type { JsonValue } from './resource';
import type { Attributes, ValidatorResult } from './schema';
import { isUnknown, type AttributePath, type ObjectValue, type TfType, type Value } from './values';

const SEVERITY = { error: 1, warning: 2 } as const;

/** The object type of a block of attributes. */
export function objectType(attributes: Attributes): TfType {
  const out: Record<string, TfType> = {};
  for (const [name, attribute] of Object.entries(attributes)) out[name] = attribute.type;
  return ['object', out];
}

export function pathToMessage(path: AttributePath): { steps: PathStepMessage[] } {
  return {
    steps: path.map((step) =>
      typeof step === 'string' ? { attribute_name: step } : typeof step === 'number' ? { element_key_int: step } : { element_key_string: step.key },
    ),
  };
}

/** A diagnostic in wire form. */
export function diagnosticToMessage(d: Diagnostic): DiagnosticMessage {
  return {
    severity: SEVERITY[d.severity],
    summary: d.summary,
    ...(d.detail !== undefined ? { detail: d.detail } : {}),
    ...(d.path && d.path.length ? { attribute: pathToMessage(d.path) } : {}),
  };
}

export function complete(input: DiagnosticInput, basePath: AttributePath): Diagnostic {
  const path = [...basePath, ...(input.path ?? [])];
  return {
    severity: input.severity ?? 'error',
    summary: input.summary,
    ...(input.detail !== undefined ? { detail: input.detail } : {}),
    ...(path.length ? { path } : {}),
  };
}

/** Normalises what a validator returned into diagnostics rooted at `basePath`. */
export function validatorDiagnostics(result: ValidatorResult, basePath: AttributePath, summary: string): Diagnostic[] {
  if (result === undefined || result === null) return [];
  if (typeof result === 'string') return [complete({ summary, detail: result }, basePath)];
  if (Array.isArray(result)) return (result as readonly DiagnosticInput[]).map((d) => complete(d, basePath));
  return [complete(result as DiagnosticInput, basePath)];
}

/** The value of an attribute for logs: sensitive attributes masked. */
export function loggable(attributes: Attributes, value: Value): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isUnknown(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) out[name] = attributes[name]?.options.sensitive && v !== null ? REDACTED : v;
  return out;
}

/**
 * The secrets inside a sensitive attribute's value, to register with the redactor: every
 * string in it, or, when the attribute names its `secretFields`, the strings under those
 * keys of the objects it holds (a credential's password, not the member it is for). Those
 * objects may sit in a list or a map: under any other key, an object or a list is searched
 * in turn, since a map's keys are its own (`<endpoint>/<member>`), not field names.
 */
export function* secretStrings(value: unknown, fields?: readonly string[]): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* secretStrings(v, fields);
  else if (value !== null && typeof value === 'object' && !isUnknown(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (!fields || fields.includes(key) || (v !== null && typeof v === 'object')) yield* secretStrings(v, fields);
    }
  }
}

/**
 * Registers the secrets of every sensitive attribute of `object`, and of every write-only
 * one: a value kept out of state is a secret whether or not it is marked sensitive.
 */
export function registerSensitive(redactor: Redactor, attributes: Attributes, object: ObjectValue): void {
  for (const [name, attribute] of Object.entries(attributes)) {
    if (attribute.options.sensitive || attribute.options.writeOnly) for (const s of secretStrings(object[name], attribute.options.secretFields)) redactor.add(s);
  }
}

/** The names of the write-only attributes of a block. */
export function writeOnlyNames(attributes: Attributes): string[] {
  return Object.entries(attributes)
    .filter(([, attribute]) => attribute.options.writeOnly)
    .map(([name]) => name);
}

/** `object` with every write-only attribute null: what plan and state must hold (Terraform checks). */
export function withoutWriteOnly(attributes: Attributes, object: ObjectValue): ObjectValue {
  const out: ObjectValue = { ...object };
  for (const name of writeOnlyNames(attributes)) out[name] = null;
  return out;
}

/** The JSON `private` data a resource returned, as the opaque bytes Terraform keeps. */
export function encodePrivate(value: JsonValue | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : Buffer.from(JSON.stringify(value), 'utf8');
}

/** What `encodePrivate` made (undefined when Terraform sent none). */
export function decodePrivate(bytes: unknown): JsonValue | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as JsonValue;
  } catch {
    throw new ResourceError('Invalid private data', { detail: 'The private data Terraform sent back is not what this provider wrote (not JSON).' });
  }
}

export function timestamp(date: Date | undefined): TimestampMessage | undefined {
  if (date === undefined) return undefined;
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new ResourceError('Invalid renewal time', { detail: 'renewAt is not a valid date.' });
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/**
 * A logger that holds its lines until `release()`, then writes them through `inner`. `open`
 * creates secrets the redactor learns only from its result: lines it logs meanwhile are
 * held so that those secrets are masked in them too.
 */
export class HeldLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly held: { lines: (() => void)[] | undefined } = { lines: [] },
  ) {}

  private hold(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.held.lines) this.held.lines.push(() => this.inner[level](message, fields));
    else this.inner[level](message, fields);
  }
  trace(message: string, fields?: LogFields): void {
    this.hold('trace', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.hold('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.hold('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.hold('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.hold('error', message, fields);
  }
  with(fields: LogFields): Logger {
    return new HeldLogger(this.inner.with(fields), this.held);
  }
  enabled(level: LogLevel): boolean {
    return this.inner.enabled(level);
  }
  /** Writes the held lines and stops holding. */
  release(): void {
    const lines = this.held.lines ?? [];
    this.held.lines = undefined;
    for (const line of lines) line();
  }
}
