import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../../src/runtime/types';
import { TTL_MAX_SECONDS, UNKNOWN, checkTtl, formatTtl, parseTtl } from '../../../src/runtime/validation';

/** The one issue a bad ttl produces, as `field: message`. */
function problem(text: string, field = 'ttl'): string {
  const issues = checkTtl(text, field);
  expect(issues).toHaveLength(1);
  return `${issues[0]?.field}: ${issues[0]?.message}`;
}

describe('parseTtl', () => {
  it.each([
    ['30s', 30],
    ['5s', 5],
    ['1s', 1],
    ['8h', 8 * 3600],
    ['12h', 12 * 3600],
    ['1h30m', 5400],
    ['30m1h', 5400],
    ['3h', 3 * 3600],
    ['1d', 86_400],
    ['7d', 7 * 86_400],
    ['90d', 90 * 86_400],
    ['365d', 365 * 86_400],
    ['2w', 14 * 86_400],
    ['52w', 364 * 86_400],
    ['1d12h', 36 * 3600],
    ['90m', 5400],
  ])('accepts %s as %i seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
    expect(checkTtl(text)).toEqual([]);
  });

  it('refuses "forever" naming the field and showing how to write a duration', () => {
    expect(problem('forever')).toBe(
      'ttl: "forever" is not a duration; write a number and a unit, e.g. 30m, 8h, 1h30m or 7d (units s, m, h, d, w; from 1s to 365d)',
    );
  });

  it('refuses "8 hours"', () => {
    expect(problem('8 hours')).toBe(
      'ttl: "8 hours" is not a duration; write a number and a unit, e.g. 30m, 8h, 1h30m or 7d (units s, m, h, d, w; from 1s to 365d)',
    );
  });

  it('refuses zero, negative and empty values', () => {
    expect(problem('0s')).toMatch(/^ttl: "0s" is zero; a ttl is at least 1s/);
    expect(problem('0h0m')).toMatch(/is zero/);
    expect(problem('-1h')).toMatch(/^ttl: "-1h" is negative/);
    expect(problem('')).toMatch(/^ttl: is empty; write a number and a unit/);
  });

  it('refuses fractions and offers the whole-unit spelling', () => {
    expect(problem('1.5h')).toBe('ttl: "1.5h" has a fraction; write whole units instead: 1h30m');
    expect(problem('0.5d')).toBe('ttl: "0.5d" has a fraction; write whole units instead: 12h');
    expect(problem('1.0001s')).toMatch(/has a fraction; write whole units, e.g. 1h30m rather than 1.5h/);
  });

  it('refuses values longer than 365d', () => {
    expect(problem('366d')).toMatch(/^ttl: "366d" is longer than the maximum, 365d/);
    expect(problem('53w')).toMatch(/longer than the maximum/);
    expect(problem('365d1s')).toMatch(/longer than the maximum/);
    expect(problem('99999999999999999999999d')).toMatch(/longer than the maximum/);
    expect(parseTtl('365d')).toBe(TTL_MAX_SECONDS);
  });

  it('explains the common near-misses', () => {
    expect(problem('8H')).toBe('ttl: "8H" has an upper-case unit; units are lower case: "8h"');
    expect(problem('500ms')).toMatch(/uses ms; the smallest unit is s/);
    expect(problem('3600')).toMatch(/^ttl: "3600" has no unit; write "3600s" for seconds/);
    expect(problem(' 8h')).toBe('ttl: " 8h" has spaces around it; write "8h"');
    expect(problem('8y')).toMatch(/unknown unit "y"/);
    expect(problem('1h 30m')).toMatch(/is not a duration/);
    expect(problem('h')).toMatch(/is not a duration/);
    expect(problem('+8h')).toMatch(/has a sign; write "8h"/);
  });

  it('uses the field name it is given', () => {
    expect(problem('forever', 'endpoints[2].ttl')).toMatch(/^endpoints\[2\]\.ttl: "forever"/);
  });

  it('throws a ValidationError carrying the issue', () => {
    let caught: unknown;
    try {
      parseTtl('forever');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).issues).toEqual(checkTtl('forever'));
  });

  it('refuses a value that is not a string', () => {
    expect(checkTtl(8 as unknown as string)[0]?.message).toBe('must be a string such as "8h", got a number');
  });

  it('accepts an unknown value at plan time', () => {
    expect(checkTtl(UNKNOWN)).toEqual([]);
  });
});

describe('formatTtl', () => {
  it.each([
    [5400, '1h30m'],
    [86_400, '1d'],
    [7 * 86_400, '7d'],
    [365 * 86_400, '365d'],
    [90_061, '1d1h1m1s'],
    [30, '30s'],
    [0, '0s'],
  ])('formats %i as %s', (seconds, text) => {
    expect(formatTtl(seconds)).toBe(text);
  });

  it('round-trips with parseTtl', () => {
    for (const text of ['8h', '12h', '1h30m', '3h', '1d', '7d', '90d', '365d', '30s', '1d1s']) {
      expect(formatTtl(parseTtl(text))).toBe(text);
    }
    expect(formatTtl(parseTtl('2w'))).toBe('14d');
  });

  it('refuses negative and fractional seconds', () => {
    expect(() => formatTtl(-1)).toThrow(RangeError);
    expect(() => formatTtl(1.5)).toThrow(RangeError);
  });
});
