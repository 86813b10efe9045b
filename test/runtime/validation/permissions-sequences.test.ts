/**
 * `sequences` in `permissions`: the accepted shape, its normal form and canonical text, and
 * every kind of bad input refused with the field that holds it.
 */
import { Validator } from 'jsonschema';
import { describe, expect, it } from 'vitest';
import type { ValidationIssue } from '../../../src/runtime/types';
import { PERMISSIONS_SCHEMA, canonicalPermissionsJson, checkPermissions, parsePermissions } from '../../../src/runtime/validation';

const TABLES = { grants: ['SELECT'], schemas: ['public', 'app'], tables: ['*'] };

/** The single issue `sequences` gives, in a permission set that is otherwise fine. */
function issueFor(sequences: unknown): ValidationIssue {
  const issues = checkPermissions({ ...TABLES, sequences });
  expect(issues).toHaveLength(1);
  return issues[0] as ValidationIssue;
}

/** The issue has this field and a message matching `pattern`. */
function expectIssue(found: ValidationIssue, field: string, pattern: RegExp): void {
  expect(found.field).toBe(field);
  expect(found.message).toMatch(pattern);
}

describe('sequences: accepted and normalised', () => {
  it('privileges in any case, ALL expanded, names sorted and de-duplicated, "*" alone', () => {
    expect(parsePermissions({ ...TABLES, sequences: { privileges: ['usage', 'Select'], names: ['b', 'app.a', 'b'] } }).sequences).toEqual({
      privileges: ['SELECT', 'USAGE'],
      names: ['app.a', 'b'],
    });
    expect(parsePermissions({ ...TABLES, sequences: { privileges: ['ALL'], names: ['x', '*'] } }).sequences).toEqual({
      privileges: ['SELECT', 'UPDATE', 'USAGE'],
      names: ['*'],
    });
  });

  it('absent: the permission set and its canonical text are what they were without sequences', () => {
    const parsed = parsePermissions(JSON.stringify(TABLES));
    expect(parsed).not.toHaveProperty('sequences');
    expect(canonicalPermissionsJson(parsed)).toBe('{"grants":["SELECT"],"schemas":["app","public"],"tables":["*"]}');
  });

  it('present: in the canonical text, which round-trips', () => {
    const parsed = parsePermissions({ ...TABLES, sequences: { privileges: ['UPDATE', 'USAGE'], names: ['*'] } });
    const text = canonicalPermissionsJson(parsed);
    expect(text).toBe(
      '{"grants":["SELECT"],"schemas":["app","public"],"tables":["*"],"sequences":{"privileges":["UPDATE","USAGE"],"names":["*"]}}',
    );
    expect(parsePermissions(text)).toEqual(parsed);
  });
});

describe('sequences: what is refused, naming the field', () => {
  it('an unknown privilege, with a suggestion and the accepted ones', () => {
    const found = issueFor({ privileges: ['USAGE', 'USEAGE'], names: ['*'] });
    expect(found.field).toBe('permissions.sequences.privileges[1]');
    expect(found.message).toBe(
      '"USEAGE" is not a sequence privilege (did you mean USAGE?); accepted: SELECT, UPDATE, USAGE, or ALL for all of them (any letter case)',
    );
    expectIssue(issueFor({ privileges: ['INSERT'], names: ['*'] }), 'permissions.sequences.privileges[0]', /is not a sequence privilege/);
  });

  it('a bad name: SQL in it, too many dots, schema.*, a schema not listed', () => {
    const field = 'permissions.sequences.names[0]';
    expectIssue(issueFor({ privileges: ['USAGE'], names: ['s; drop table x'] }), field, /contains ';'/);
    expectIssue(issueFor({ privileges: ['USAGE'], names: ['a.b.c'] }), field, /has more than one '\.'; a sequence is/);
    expectIssue(issueFor({ privileges: ['USAGE'], names: ['app.*'] }), field, /to grant every sequence of a schema, write "\*" in sequences\.names/);
    expectIssue(issueFor({ privileges: ['USAGE'], names: ['audit.ids'] }), field, /names the schema "audit", which is not in permissions\.schemas/);
  });

  it('a wrong shape: not an object, missing or empty lists, unknown keys, non-strings', () => {
    expectIssue(issueFor(['*']), 'permissions.sequences', /must be an object, got a list/);
    expectIssue(issueFor({ privileges: ['USAGE'] }), 'permissions.sequences.names', /is missing/);
    expectIssue(issueFor({ privileges: [], names: ['*'] }), 'permissions.sequences.privileges', /is empty/);
    expectIssue(issueFor({ privileges: ['USAGE'], names: ['*'], name: ['x'] }), 'permissions.sequences.name', /is not a sequences attribute \(did you mean names\?\)/);
    expectIssue(issueFor({ privileges: ['USAGE'], names: [7] }), 'permissions.sequences.names[0]', /must be a string, got a number/);
  });

  it('a misspelt top-level key suggests sequences', () => {
    const issues = checkPermissions({ ...TABLES, sequence: { privileges: ['USAGE'], names: ['*'] } });
    expect(issues).toHaveLength(1);
    expectIssue(issues[0] as ValidationIssue, 'permissions.sequence', /did you mean sequences\?/);
  });
});

describe('sequences in PERMISSIONS_SCHEMA', () => {
  const validator = new Validator();
  const schemaAccepts = (value: unknown): boolean => validator.validate(value, PERMISSIONS_SCHEMA).valid;

  it('agrees with the code checks', () => {
    const values: unknown[] = [
      { privileges: ['USAGE'], names: ['*'] },
      { privileges: ['select', 'UPDATE'], names: ['ids', 'app.ids'] },
      { privileges: ['all'], names: ['*'] },
      { privileges: ['INSERT'], names: ['*'] },
      { privileges: ['USAGE'], names: ['a.b.c'] },
      { privileges: ['USAGE'], names: ['x y'] },
      { privileges: [], names: ['*'] },
      { privileges: ['USAGE'] },
      { privileges: ['USAGE'], names: ['*'], extra: 1 },
      'USAGE',
    ];
    for (const sequences of values) {
      const value = { ...TABLES, sequences };
      expect([sequences, schemaAccepts(value)]).toEqual([sequences, checkPermissions(value).length === 0]);
    }
  });
});

describe('functions', () => {
  it('accepted: "*", names, signatures; sorted, de-duplicated, "*" alone; in the canonical text only when present', () => {
    const parsed = parsePermissions({ ...TABLES, functions: ['app.total(integer, text)', 'refresh', 'refresh', 'app.list(text[])'] });
    expect(parsed.functions).toEqual(['app.list(text[])', 'app.total(integer, text)', 'refresh']);
    expect(parsePermissions({ ...TABLES, functions: ['refresh', '*'] }).functions).toEqual(['*']);
    expect(canonicalPermissionsJson(parsePermissions({ ...TABLES, functions: ['*'] }))).toBe(
      '{"grants":["SELECT"],"schemas":["app","public"],"tables":["*"],"functions":["*"]}',
    );
  });

  it('refused, naming the field: SQL in the arguments, an unclosed parenthesis, a schema not listed, not a list', () => {
    const one = (functions: unknown): ValidationIssue => {
      const issues = checkPermissions({ ...TABLES, functions });
      expect(issues).toHaveLength(1);
      return issues[0] as ValidationIssue;
    };
    expectIssue(one(['app.f(int; drop table x)']), 'permissions.functions[0]', /the argument types .* may only hold type names/);
    expectIssue(one(['app.f(int); drop table x']), 'permissions.functions[0]', /has an unclosed/);
    expectIssue(one(['*', 'app.f(int']), 'permissions.functions[1]', /has an unclosed '\('/);
    expectIssue(one(['audit.f()']), 'permissions.functions[0]', /names the schema "audit", which is not in permissions\.schemas/);
    expectIssue(one('*'), 'permissions.functions', /must be a list of strings/);
    expectIssue(one([]), 'permissions.functions', /is empty/);
  });

  it('the JSON Schema agrees with the code checks', () => {
    const validator = new Validator();
    for (const entry of ['*', 'f', 'app.f', 'app.f()', 'app.f(integer, text[])', 'f(int); drop', 'f(int', '*(int)', 'a.b.c', 'f("x")']) {
      const value = { ...TABLES, functions: [entry] };
      expect([entry, validator.validate(value, PERMISSIONS_SCHEMA).valid]).toEqual([entry, checkPermissions(value).length === 0]);
    }
  });
});
