/**
 * Terraform values on the wire. A DynamicValue is msgpack (or, for stored state, JSON)
 * shaped by the schema's type: objects are maps keyed by attribute name, lists and sets are
 * arrays, unknown values are msgpack extensions. In memory a value is plain JavaScript
 * (string, number, boolean, array, record, null) or the `UNKNOWN` marker.
 */
import { Decoder, Encoder, ExtData, type ExtensionCodecType } from '@msgpack/msgpack';

/** A Terraform type constraint, in the JSON form the schema carries. */
export type TfType =
  | 'string'
  | 'number'
  | 'bool'
  | readonly ['list', TfType]
  | readonly ['set', TfType]
  | readonly ['map', TfType]
  | readonly ['object', { readonly [name: string]: TfType }];

/** Builders for type constraints, so element types read naturally: `types.list(types.string)`. */
export const types = {
  string: 'string',
  number: 'number',
  bool: 'bool',
  list: <const E extends TfType>(element: E): readonly ['list', E] => ['list', element],
  set: <const E extends TfType>(element: E): readonly ['set', E] => ['set', element],
  map: <const E extends TfType>(element: E): readonly ['map', E] => ['map', element],
  object: <const A extends { readonly [name: string]: TfType }>(attributes: A): readonly ['object', A] => ['object', attributes],
} as const;

/**
 * A value that will only be known after apply. Terraform may attach refinements (not
 * null, a string prefix); the framework treats every unknown as wholly unknown, which the
 * protocol allows, and always answers with the plain unknown.
 */
export class UnknownValue {
  /** Marks the class nominally, so a plain object can never pass for it. */
  private readonly unknownBrand = true;
  toString(): string {
    return '(known after apply)';
  }
  toJSON(): string {
    return '(known after apply)';
  }
}

/** The unknown value. */
export const UNKNOWN: UnknownValue = Object.freeze(new UnknownValue()) as UnknownValue;

/** Whether `value` is the unknown marker. */
export function isUnknown(value: unknown): value is UnknownValue {
  return value instanceof UnknownValue;
}

/**
 * The JavaScript form of a Terraform value of `T` (null excluded, unknown excluded). For the
 * general `TfType` (a type not known statically) it is the untyped `Value`.
 */
export type Known<T extends TfType> = [TfType] extends [T]
  ? Value
  : T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends readonly ['list' | 'set', infer E extends TfType]
        ? Known<E>[]
        : T extends readonly ['map', infer E extends TfType]
          ? Record<string, Known<E>>
          : T extends readonly ['object', infer A extends { readonly [name: string]: TfType }]
            ? { -readonly [K in keyof A]: Known<A[K]> | null }
            : never;

/** `V` where any part may still be unknown (configuration and plans before apply). */
export type MaybeUnknown<V> =
  | UnknownValue
  | (V extends readonly (infer E)[] ? MaybeUnknown<E>[] : V extends object ? { [K in keyof V]: MaybeUnknown<V[K]> } : V);

/** Any in-memory value, untyped (what the framework moves around internally). */
export type Value = string | number | boolean | null | UnknownValue | Value[] | { [key: string]: Value };

/** A record of attribute values (the untyped form of an object or block). */
export type ObjectValue = { [key: string]: Value };

/** A step in an attribute path: an attribute name, a map key, or a list index. */
export type PathStep = string | number | { readonly key: string };

/** The path to a value inside a resource: `['tags', { key: 'env' }]`, `['rules', 0, 'name']`. */
export type AttributePath = readonly PathStep[];

/** A value that does not match its type, with where it was found. */
export class ValueError extends Error {
  constructor(
    message: string,
    readonly path: AttributePath,
  ) {
    super(message);
    this.name = 'ValueError';
  }
}

/** The JSON-serialised type constraint, as `Schema.Attribute.type` carries it. */
export function typeJson(type: TfType): string {
  return JSON.stringify(type);
}

/** Human-readable type name for messages: `list(string)`. */
export function typeName(type: TfType): string {
  if (typeof type === 'string') return type;
  if (type[0] === 'object') return `object({${Object.entries(type[1]).map(([k, t]) => `${k}=${typeName(t)}`).join(', ')}})`;
  return `${type[0]}(${typeName(type[1])})`;
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  return `a ${typeof raw}`;
}

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Uint8Array);
}

/**
 * Converts a decoded msgpack or JSON value into the in-memory form of `type`, checking it on
 * the way. Objects come back with every attribute of the type (missing ones null).
 */
export function fromWire(type: TfType, raw: unknown, path: AttributePath = []): Value {
  if (raw === null || raw === undefined) return null;
  if (raw instanceof UnknownValue) return UNKNOWN;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof raw === 'string') return raw;
        break;
      case 'number':
        if (typeof raw === 'number') return raw;
        if (typeof raw === 'bigint') return Number(raw);
        // Terraform sends numbers beyond float64 precision as decimal strings.
        if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
        break;
      case 'bool':
        if (typeof raw === 'boolean') return raw;
        break;
    }
    throw new ValueError(`expected ${type}, got ${describe(raw)}`, path);
  }
  const [kind, inner] = type;
  switch (kind) {
    case 'list':
    case 'set':
      if (!Array.isArray(raw)) throw new ValueError(`expected ${typeName(type)}, got ${describe(raw)}`, path);
      return raw.map((element: unknown, i) => fromWire(inner, element, [...path, i]));
    case 'map': {
      if (!isRecord(raw)) throw new ValueError(`expected ${typeName(type)}, got ${describe(raw)}`, path);
      const out: ObjectValue = {};
      for (const [key, element] of Object.entries(raw)) out[key] = fromWire(inner, element, [...path, { key }]);
      return out;
    }
    case 'object': {
      if (!isRecord(raw)) throw new ValueError(`expected ${typeName(type)}, got ${describe(raw)}`, path);
      return objectFromWire(inner, raw, path);
    }
  }
}

/** Converts a record against named attribute types, filling missing attributes with null. */
export function objectFromWire(attributes: { readonly [name: string]: TfType }, raw: Record<string, unknown>, path: AttributePath = []): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, attrType] of Object.entries(attributes)) out[name] = fromWire(attrType, raw[name], [...path, name]);
  return out;
}

/**
 * Prepares an in-memory value for msgpack: every object gets every attribute of its type
 * (null where unset), `undefined` becomes null, and unknowns stay as the marker for the
 * extension codec to write.
 */
export function toWire(type: TfType, value: unknown, path: AttributePath = []): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof UnknownValue) return value;
  if (typeof type === 'string') {
    const ok = type === 'string' ? typeof value === 'string' : type === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'boolean';
    if (!ok) throw new ValueError(`expected ${type}, got ${describe(value)}`, path);
    return value;
  }
  const [kind, inner] = type;
  switch (kind) {
    case 'list':
    case 'set':
      if (!Array.isArray(value)) throw new ValueError(`expected ${typeName(type)}, got ${describe(value)}`, path);
      return value.map((element: unknown, i) => toWire(inner, element, [...path, i]));
    case 'map': {
      if (!isRecord(value)) throw new ValueError(`expected ${typeName(type)}, got ${describe(value)}`, path);
      const out: Record<string, unknown> = {};
      for (const [key, element] of Object.entries(value)) out[key] = toWire(inner, element, [...path, { key }]);
      return out;
    }
    case 'object': {
      if (!isRecord(value)) throw new ValueError(`expected ${typeName(type)}, got ${describe(value)}`, path);
      return objectToWire(inner, value, path);
    }
  }
}

/** Prepares a record for msgpack against named attribute types (null-filled, extras dropped). */
export function objectToWire(attributes: { readonly [name: string]: TfType }, value: Readonly<Record<string, unknown>>, path: AttributePath = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, attrType] of Object.entries(attributes)) out[name] = toWire(attrType, value[name], [...path, name]);
  return out;
}

/**
 * Every msgpack extension is an unknown value, whatever its type code (0 for plain unknowns,
 * 12 for refined ones, and any future code); the unknown marker is written as extension 0
 * with a single zero byte, the plain-unknown form every Terraform version reads.
 */
const extensionCodec: ExtensionCodecType<undefined> = {
  tryToEncode(object: unknown): ExtData | null {
    return object instanceof UnknownValue ? new ExtData(0, new Uint8Array([0])) : null;
  },
  decode(): unknown {
    return UNKNOWN;
  },
};

const decoder = new Decoder({ extensionCodec });
const encoder = new Encoder({ extensionCodec });

/** Decodes msgpack bytes against `type`. */
export function decodeMsgpack(type: TfType, bytes: Uint8Array): Value {
  return fromWire(type, decoder.decode(bytes));
}

/** Encodes a value as msgpack against `type` (objects null-filled). */
export function encodeMsgpack(type: TfType, value: unknown): Uint8Array {
  return encoder.encode(toWire(type, value));
}

/** Decodes the JSON form of a value (stored state, JSON DynamicValues) against `type`. */
export function decodeJson(type: TfType, json: string | Uint8Array): Value {
  const text = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
  return fromWire(type, JSON.parse(text) as unknown);
}

/** Whether a value contains no unknown anywhere. */
export function isWhollyKnown(value: unknown): boolean {
  if (value instanceof UnknownValue) return false;
  if (Array.isArray(value)) return value.every(isWhollyKnown);
  if (isRecord(value)) return Object.values(value).every(isWhollyKnown);
  return true;
}

/** Replaces every unknown inside `value` with null (what is left of a plan after apply). */
export function unknownsToNull(value: Value): Value {
  if (value instanceof UnknownValue) return null;
  if (Array.isArray(value)) return value.map(unknownsToNull);
  if (isRecord(value)) {
    const out: ObjectValue = {};
    for (const [k, v] of Object.entries(value)) out[k] = unknownsToNull(v);
    return out;
  }
  return value;
}

/**
 * Semantic equality under `type`: sets compare regardless of order, objects by their
 * type's attributes (so a missing attribute equals null), unknown equals only unknown.
 */
export function valuesEqual(type: TfType, a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (a instanceof UnknownValue || b instanceof UnknownValue) return a instanceof UnknownValue && b instanceof UnknownValue;
  if (typeof type === 'string') return a === b;
  const [kind, inner] = type;
  switch (kind) {
    case 'list':
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(inner, x, b[i]));
    case 'set': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      const unmatched: unknown[] = [...(b as unknown[])];
      for (const x of a) {
        const i = unmatched.findIndex((y) => valuesEqual(inner, x, y));
        if (i < 0) return false;
        unmatched.splice(i, 1);
      }
      return true;
    }
    case 'map': {
      if (!isRecord(a) || !isRecord(b)) return false;
      const keys = Object.keys(a);
      return keys.length === Object.keys(b).length && keys.every((k) => k in b && valuesEqual(inner, a[k], b[k]));
    }
    case 'object':
      return isRecord(a) && isRecord(b) && Object.entries(inner).every(([k, t]) => valuesEqual(t, a[k], b[k]));
  }
}
