/**
 * Ready-made validators. Each returns an error detail (a string) when the value is wrong;
 * the framework turns it into an error diagnostic pointing at the attribute.
 */
import type { Validator } from './schema';

/** The value is one of `allowed`. */
export function oneOf<const T extends string | number>(...allowed: readonly T[]): Validator<string | number> {
  return (value) =>
    (allowed as readonly (string | number)[]).includes(value) ? undefined : `Expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${JSON.stringify(value)}.`;
}

/** The string matches `pattern`; `explanation` says in words what is expected. */
export function matches(pattern: RegExp, explanation: string): Validator<string> {
  return (value) => (pattern.test(value) ? undefined : `${explanation}; got ${JSON.stringify(value)}.`);
}

/** The string's length is within [min, max]. */
export function lengthBetween(min: number, max: number): Validator<string> {
  return (value) => (value.length >= min && value.length <= max ? undefined : `Expected between ${min} and ${max} characters; got ${value.length}.`);
}

/** The number is within [min, max]. */
export function between(min: number, max: number): Validator<number> {
  return (value) => (value >= min && value <= max ? undefined : `Expected a number from ${min} to ${max}; got ${value}.`);
}

/** The collection has at least `min` elements. */
export function minItems(min: number): Validator<readonly unknown[] | Readonly<Record<string, unknown>>> {
  return (value) => {
    const size = Array.isArray(value) ? value.length : Object.keys(value).length;
    return size >= min ? undefined : `Expected at least ${min} element${min === 1 ? '' : 's'}; got ${size}.`;
  };
}
