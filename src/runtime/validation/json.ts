/**
 * JSON text with a useful error. `JSON.parse` reports some errors without a position and
 * others with the whole input echoed; a user who wrote a heredoc instead of `jsonencode`
 * needs "line 3, column 5: expected ',' or '}'". So on failure a small scanner of the JSON
 * grammar (RFC 8259) finds where and what, and the message is built from that.
 */
import type { ValidationIssue } from '../types';
import { issue } from './common';

/** Where JSON text stops being JSON, and what the grammar expected there. */
export interface JsonSyntaxError {
  /** Offset in UTF-16 code units. */
  readonly offset: number;
  /** 1-based line and column. */
  readonly line: number;
  readonly column: number;
  /** E.g. `',' or '}'`. */
  readonly expected: string;
  /** E.g. `'}'`, `end of input`. */
  readonly found: string;
}

/** Thrown inside the scanner to unwind to the top with the error's place. */
class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(`expected ${expected} at offset ${offset}`);
  }
}

/** Scans `text` and returns the first syntax error, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const stop = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) stop(`'${word}'`);
      i++;
    }
  };
  const string = (): void => {
    if (text[i] !== '"') stop('a string in double quotes');
    i++;
    for (;;) {
      if (i >= text.length) stop("a closing '\"'");
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return;
      }
      if (code < 0x20) stop('no control characters inside a string (write \\n, \\t, ...)');
      if (code === 0x5c) {
        i++;
        const escape = text[i] ?? '';
        if (escape === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/^[0-9A-Fa-f]$/.test(text[i + k] ?? '')) {
              i += k;
              stop('four hex digits after \\u');
            }
          }
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escape) || escape === '') stop('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      }
      i++;
    }
  };
  const number = (): void => {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = i;
    const found = match.exec(text);
    if (found === null) return stop('a number');
    i += found[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    stop('a value (object, list, string, number, true, false or null)');
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') stop('a property name in double quotes');
      string();
      ws();
      if (text[i] !== ':') stop("':' after the property name");
      i++;
      value();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      if (text[i] !== ',') stop("',' or '}'");
      i++;
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      if (text[i] !== ',') stop("',' or ']'");
      i++;
    }
  };

  try {
    value();
    ws();
    if (i < text.length) stop('the end of the text');
    return undefined;
  } catch (caught) {
    // Nesting deep enough to exhaust the stack: let the caller fall back to V8's message.
    if (caught instanceof RangeError) return undefined;
    if (!(caught instanceof Stop)) throw caught;
    const before = text.slice(0, caught.offset);
    const line = before.split('\n').length;
    const column = caught.offset - (before.lastIndexOf('\n') + 1) + 1;
    const ch = text.codePointAt(caught.offset);
    const found = ch === undefined ? 'the end of the text' : describeFound(String.fromCodePoint(ch));
    return { offset: caught.offset, line, column, expected: caught.expected, found };
  }
}

function describeFound(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}'`;
}

/** Result of {@link parseJsonText}: the value, or one issue saying where the text breaks. */
export type JsonTextResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issue: ValidationIssue };

/**
 * Parses JSON text; on failure returns an issue for `field` with the line, column and
 * offset of the error and what was expected there. `hint` ends the message (how to write
 * the attribute correctly).
 */
export function parseJsonText(text: string, field: string, hint: string): JsonTextResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (caught) {
    if (text.trim().length === 0) return { ok: false, issue: issue(field, `is empty; ${hint}`) };
    const where = findJsonSyntaxError(text);
    const detail =
      where === undefined
        ? // The scanner and JSON.parse disagree (should not happen): fall back to V8's words,
          // cut before any echo of the input.
          String((caught as Error).message).split(', "')[0]
        : `expected ${where.expected} but found ${where.found} at line ${where.line}, column ${where.column} (offset ${where.offset})`;
    return { ok: false, issue: issue(field, `is not valid JSON: ${detail}; ${hint}`) };
  }
}
