/**
 * Access role names: deterministic, readable, within PostgreSQL's 63-byte identifier limit
 * (which would otherwise cut them silently), and distinct for distinct endpoints.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_ROLE_PREFIX, MAX_IDENTIFIER_BYTES, accessRoleName, boundedRoleName } from '../../../src/runtime/access/access-role';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('accessRoleName', () => {
  it('is the prefix plus the endpoint name when that fits', () => {
    expect(accessRoleName('analytics-readonly')).toBe('adaptive_ep_analytics-readonly');
    expect(accessRoleName('Prod DB')).toBe('adaptive_ep_Prod DB');
  });

  it('is deterministic', () => {
    const long = 'x'.repeat(200);
    expect(accessRoleName(long)).toBe(accessRoleName(long));
  });

  it('keeps a name of exactly 63 bytes and cuts one of 64 with a hash suffix', () => {
    const fits = 'a'.repeat(MAX_IDENTIFIER_BYTES - ACCESS_ROLE_PREFIX.length);
    expect(accessRoleName(fits)).toBe(ACCESS_ROLE_PREFIX + fits);
    const over = `${fits}b`;
    const name = accessRoleName(over);
    expect(bytes(name)).toBe(MAX_IDENTIFIER_BYTES);
    expect(name).toMatch(/^adaptive_ep_a+_[0-9a-f]{10}$/);
  });

  it('gives long names that share a prefix different roles', () => {
    const base = 'warehouse-reporting-team-'.repeat(4);
    const names = new Set(['alpha', 'beta', 'gamma', 'alpha2', ''].map((tail) => accessRoleName(base + tail)));
    expect(names.size).toBe(5);
    for (const name of names) {
      expect(bytes(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
      expect(name.startsWith('adaptive_ep_warehouse-reporting-team-')).toBe(true);
    }
  });

  it('never splits a multi-byte character when cutting', () => {
    const name = accessRoleName('データベース'.repeat(10));
    expect(bytes(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(name).not.toContain('\uFFFD');
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
    expect(name).toMatch(/^adaptive_ep_(データベース|デ|ー|タ|ベ|ス)+_[0-9a-f]{10}$/);
  });

  it('cannot be forged: a short name that looks hashed is hashed too', () => {
    const long = 'z'.repeat(80);
    const hashed = accessRoleName(long);
    // An endpoint literally named like the hashed form of another must not share its role.
    const forged = hashed.slice(ACCESS_ROLE_PREFIX.length);
    expect(accessRoleName(forged)).not.toBe(hashed);
    expect(accessRoleName('events_0123456789')).toMatch(/^adaptive_ep_events_0123456789_[0-9a-f]{10}$/);
  });

  it('rejects empty names and NUL bytes', () => {
    expect(() => accessRoleName('')).toThrow(/non-empty/);
    expect(() => boundedRoleName('p_', 'a\0b')).toThrow(/NUL/);
  });
});
