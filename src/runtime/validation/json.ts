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
  const scanner = new JsonScanner(text);
  try {
    scanner.value();
    scanner.ws();
    if (scanner.i < text.length) scanner.stop('the end of the text');
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

/**
 * A recursive-descent scan of JSON text that stops at the first syntax error (`Stop`),
 * one method per production of the grammar, all moving one cursor.
 */
class JsonScanner {
  i = 0;

  constructor(private readonly text: string) {}

  /** Ends the scan: `expected` was wanted at the cursor. */
  stop(expected: string): never {
    throw new Stop(this.i, expected);
  }

  /** Skips whitespace. */
  ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i] ?? '')) this.i++;
  }

  /** `true`, `false` or `null`. */
  private literal(word: string): void {
    for (const ch of word) {
      if (this.text[this.i] !== ch) this.stop(`'${word}'`);
      this.i++;
    }
  }

  /** A string in double quotes, escapes checked. */
  private string(): void {
    if (this.text[this.i] !== '"') this.stop('a string in double quotes');
    this.i++;
    for (;;) {
      if (this.i >= this.text.length) this.stop("a closing '\"'");
      const code = this.text.charCodeAt(this.i);
      if (code === 0x22) {
        this.i++;
        return;
      }
      if (code < 0x20) this.stop('no control characters inside a string (write \\n, \\t, ...)');
      if (code === 0x5c) {
        this.i++;
        const escape = this.text[this.i] ?? '';
        if (escape === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/^[0-9A-Fa-f]$/.test(this.text[this.i + k] ?? '')) {
              this.i += k;
              this.stop('four hex digits after \\u');
            }
          }
          this.i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escape) || escape === '') this.stop('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      }
      this.i++;
    }
  }

  /** A number as JSON writes it. */
  private number(): void {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = this.i;
    const found = match.exec(this.text);
    if (found === null) return this.stop('a number');
    this.i += found[0].length;
  }

  /** Any value, after whitespace. */
  value(): void {
    this.ws();
    const ch = this.text[this.i];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (ch === 't') return this.literal('true');
    if (ch === 'f') return this.literal('false');
    if (ch === 'n') return this.literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    this.stop('a value (object, list, string, number, true, false or null)');
  }

  /** An object; the cursor is on its `{`. */
  private object(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.stop('a property name in double quotes');
      this.string();
      this.ws();
      if (this.text[this.i] !== ':') this.stop("':' after the property name");
      this.i++;
      this.value();
      this.ws();
      if (this.text[this.i] === '}') {
        this.i++;
        return;
      }
      if (this.text[this.i] !== ',') this.stop("',' or '}'");
      this.i++;
    }
  }

  /** A list; the cursor is on its `[`. */
  private array(): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      if (this.text[this.i] === ']') {
        this.i++;
        return;
      }
      if (this.text[this.i] !== ',') this.stop("',' or ']'");
      this.i++;
    }
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
