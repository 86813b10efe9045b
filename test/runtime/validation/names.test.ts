import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../../src/runtime/types';
import {
  UNKNOWN,
  checkHostname,
  checkIdentifier,
  checkName,
  checkNames,
  parseIdentifier,
  parseName,
} from '../../../src/runtime/validation';

describe('checkName', () => {
  it.each([
    'postgres-production',
    'postgres-pooled',
    'postgres-secure',
    'postgres-mtls',
    'postgres-read-replica',
    'postgres-readonly',
    'postgres-developer',
    'postgres-analytics-access',
    'postgres-developers',
    'postgres-developer-access',
    'data-analysts',
    'postgres-readonly-access',
    'developer-role',
    'analyst-role',
    'backend-developers',
    'postgres-dev-access',
    'postgres-analyst-access',
    'a',
    '9lives',
    'eu.db_1',
    'x'.repeat(63),
  ])('accepts %s', (name) => {
    expect(checkName(name, 'name')).toEqual([]);
    expect(parseName(name)).toBe(name);
  });

  it('refuses a 200-character name, saying how long it is and what the limit is', () => {
    const issues = checkName('n'.repeat(200), 'name');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('name');
    expect(issues[0]?.message).toMatch(/is 200 characters long, more than 63; a name is 1 to 63 characters/);
    // The value is shown cut short, not echoed whole.
    expect(issues[0]?.message.length).toBeLessThan(250);
  });

  it.each([
    ['', /^is empty; a name is/],
    ['-prod', /starts with '-'/],
    ['.hidden', /starts with '\.'/],
    ['postgres production', /contains a space/],
    ['prod;drop', /contains ';'/],
    ['prod/x', /contains '\/'/],
    ['naïve', /contains 'ï'/],
    ['tab\there', /contains a whitespace character \(U\+0009\)/],
  ])('refuses %j', (name, message) => {
    const issues = checkName(name, 'authorization');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('authorization');
    expect(issues[0]?.message).toMatch(message);
    expect(issues[0]?.message).toMatch(/letters, digits, '-', '_' and '\.'/);
  });

  it('refuses a non-string and accepts an unknown value', () => {
    expect(checkName(42 as unknown as string, 'name')[0]?.message).toMatch(/must be a string, got a number/);
    expect(checkName(UNKNOWN, 'name')).toEqual([]);
  });

  it('parseName throws a ValidationError naming the field', () => {
    expect(() => parseName('bad name', 'resource')).toThrow(ValidationError);
    expect(() => parseName('bad name', 'resource')).toThrow(/^resource: "bad name" contains a space/);
  });
});

describe('checkNames', () => {
  it('accepts a list of distinct names and unknown elements', () => {
    expect(checkNames(['postgres-dev-access', UNKNOWN, 'postgres-analyst-access'], 'endpoints')).toEqual([]);
    expect(checkNames(UNKNOWN, 'endpoints')).toEqual([]);
  });

  it('names each bad element and each duplicate by index', () => {
    const issues = checkNames(['a', 'bad name', 'a'], 'endpoints');
    expect(issues.map((i) => i.field)).toEqual(['endpoints[1]', 'endpoints[2]']);
    expect(issues[0]?.message).toMatch(/contains a space/);
    expect(issues[1]?.message).toBe('"a" is listed twice (also at endpoints[0]); list each name once');
  });

  it('refuses something that is not a list', () => {
    expect(checkNames('a' as unknown as string[], 'endpoints')[0]?.message).toMatch(/must be a list of names, got a string/);
  });
});

describe('checkIdentifier', () => {
  it.each(['public', 'app', 'analytics', 'events', 'metrics', 'order_items', '_private', 'Users', 'my-schema', 'price$', '2fa_codes', 'données', 'таблица', '表'])(
    'accepts %s',
    (name) => {
      expect(checkIdentifier(name, 'schemas[0]')).toEqual([]);
      expect(parseIdentifier(name, 'schemas[0]')).toBe(name);
    },
  );

  it('counts the 63-byte limit in UTF-8 bytes, not characters', () => {
    expect(checkIdentifier('é'.repeat(31), 'f')).toEqual([]); // 62 bytes
    expect(checkIdentifier('é'.repeat(32), 'f')[0]?.message).toMatch(/is 64 bytes long, more than 63/);
    expect(checkIdentifier('x'.repeat(63), 'f')).toEqual([]);
    expect(checkIdentifier('x'.repeat(200), 'f')[0]?.message).toMatch(/is 200 bytes long, more than 63 \(PostgreSQL would cut it\)/);
  });

  it.each([
    ['users; drop table x', /contains ';'/],
    ['drop table x', /contains a space/],
    ['users;drop', /contains ';'/],
    ['a"b', /contains a double quote/],
    ["a'b", /contains a single quote/],
    ['app.users', /contains '\.'/],
    ['nul\u0000byte', /contains a control character \(U\+0000\)/],
    ['$price', /starts with '\$'/],
    ['-x', /starts with '-'/],
    ['', /is empty/],
  ])('refuses %j', (name, message) => {
    const issues = checkIdentifier(name, 'permissions.schemas[3]');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('permissions.schemas[3]');
    expect(issues[0]?.message).toMatch(message);
    expect(issues[0]?.message).toMatch(/an identifier is 1 to 63 bytes/);
  });
});

describe('checkHostname', () => {
  it.each(['postgres.example.com', 'postgres-primary.internal.company.net', 'localhost', 'db_1.internal', 'db.example.com.'])('accepts %s', (host) => {
    expect(checkHostname(host, 'tls_server_name')).toEqual([]);
  });

  it.each([
    ['10.0.0.1', /is an IP address, not a host name/],
    ['::1', /is an IP address/],
    ['db..example.com', /empty label/],
    ['-db.example.com', /starts or ends with '-'/],
    ['db example', /contains a space/],
    [`${'a'.repeat(64)}.com`, /label longer than 63/],
    ['', /is empty/],
  ])('refuses %j', (host, message) => {
    const issues = checkHostname(host, 'tls_server_name');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('tls_server_name');
    expect(issues[0]?.message).toMatch(message);
  });
});
