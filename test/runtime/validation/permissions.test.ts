import { describe, it, expect } from 'vitest';
import { Validator } from 'jsonschema';
import { TABLE_PRIVILEGES, ValidationError, type ValidationIssue } from '../../../src/runtime/types';
import {
  PERMISSIONS_SCHEMA,
  UNKNOWN,
  canonicalPermissionsJson,
  checkPermissions,
  findJsonSyntaxError,
  parsePermissions,
} from '../../../src/runtime/validation';

/** What Terraform's jsonencode produces for an object: compact JSON, keys sorted. */
function jsonencode(value: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.keys(value).sort().map((key) => [key, value[key]]));
  return JSON.stringify(sorted);
}

function fields(issues: readonly ValidationIssue[]): string[] {
  return issues.map((i) => i.field);
}

function only(issues: readonly ValidationIssue[]): ValidationIssue {
  expect(issues).toHaveLength(1);
  return issues[0] as ValidationIssue;
}

describe('parsePermissions: the documented examples', () => {
  it('read-only: SELECT on every table of public', () => {
    expect(parsePermissions(jsonencode({ grants: ['SELECT'], schemas: ['public'], tables: ['*'] }))).toEqual({
      grants: ['SELECT'],
      schemas: ['public'],
      tables: ['*'],
    });
  });

  it('developer: CRUD on public and app', () => {
    expect(parsePermissions(jsonencode({ grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] }))).toEqual({
      grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      schemas: ['app', 'public'],
      tables: ['*'],
    });
  });

  it('schema-specific: two named tables of analytics', () => {
    expect(parsePermissions(jsonencode({ grants: ['SELECT', 'INSERT'], schemas: ['analytics'], tables: ['events', 'metrics'] }))).toEqual({
      grants: ['SELECT', 'INSERT'],
      schemas: ['analytics'],
      tables: ['events', 'metrics'],
    });
  });

  it('analyst: SELECT on public and analytics', () => {
    expect(parsePermissions(jsonencode({ grants: ['SELECT'], schemas: ['public', 'analytics'], tables: ['*'] }))).toEqual({
      grants: ['SELECT'],
      schemas: ['analytics', 'public'],
      tables: ['*'],
    });
  });

  it('accepts pretty-printed JSON from a heredoc as well', () => {
    const text = '{\n  "grants": ["SELECT"],\n  "schemas": ["public"],\n  "tables": ["*"]\n}\n';
    expect(checkPermissions(text)).toEqual([]);
  });
});

describe('parsePermissions: normalisation', () => {
  it('upper-cases privileges in any case and orders them as TABLE_PRIVILEGES', () => {
    expect(parsePermissions({ grants: ['delete', 'Select', 'select'], schemas: ['public'], tables: ['*'] }).grants).toEqual(['SELECT', 'DELETE']);
  });

  it.each(['ALL', 'all', 'ALL PRIVILEGES', 'All Privileges'])('expands %s to every table privilege', (word) => {
    expect(parsePermissions({ grants: [word, 'SELECT'], schemas: ['public'], tables: ['*'] }).grants).toEqual([...TABLE_PRIVILEGES]);
  });

  it('de-duplicates and sorts schemas and tables', () => {
    expect(parsePermissions({ grants: ['SELECT'], schemas: ['public', 'app', 'public'], tables: ['orders', 'app.users', 'orders', 'Accounts'] })).toEqual({
      grants: ['SELECT'],
      schemas: ['app', 'public'],
      tables: ['Accounts', 'app.users', 'orders'],
    });
  });

  it('keeps "*" alone when named tables come with it (they add nothing)', () => {
    expect(parsePermissions({ grants: ['SELECT'], schemas: ['public'], tables: ['orders', '*', 'public.users'] }).tables).toEqual(['*']);
  });

  it('accepts the object form the constructs pass', () => {
    expect(parsePermissions({ grants: ['SELECT'], schemas: ['public'], tables: ['*'] })).toEqual({ grants: ['SELECT'], schemas: ['public'], tables: ['*'] });
  });
});

describe('checkPermissions: what is refused', () => {
  it('an unknown privilege, pointing at its index and listing the accepted ones', () => {
    const found = only(checkPermissions(jsonencode({ grants: ['SELECT', 'SELEKT'], schemas: ['public'], tables: ['*'] })));
    expect(found.field).toBe('permissions.grants[1]');
    expect(found.message).toBe(
      '"SELEKT" is not a table privilege (did you mean SELECT?); accepted: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, or ALL for all of them (any letter case)',
    );
  });

  it('a privilege that is not a table privilege, with the reason', () => {
    const found = only(checkPermissions({ grants: ['USAGE'], schemas: ['public'], tables: ['*'] }));
    expect(found.field).toBe('permissions.grants[0]');
    expect(found.message).toMatch(/USAGE is a schema privilege, and USAGE on the listed schemas comes with every grant/);
    expect(only(checkPermissions({ grants: ['DROP'], schemas: ['public'], tables: ['*'] })).message).toMatch(/^"DROP" is not a table privilege; accepted: SELECT/);
  });

  it('SQL in a table name', () => {
    const found = only(checkPermissions(jsonencode({ grants: ['SELECT'], schemas: ['public'], tables: ['users; drop table x'] })));
    expect(found.field).toBe('permissions.tables[0]');
    expect(found.message).toMatch(/^"users; drop table x" contains ';'; a table is "\*" \(every table, now and later\), a table name, or schema\.table/);
    expect(only(checkPermissions({ grants: ['SELECT'], schemas: ['public'], tables: ['drop table x'] })).message).toMatch(/contains a space/);
    expect(only(checkPermissions({ grants: ['SELECT'], schemas: ['public'], tables: ['x"; DROP ROLE admin; --'] })).message).toMatch(/contains a double quote/);
  });

  it('SQL in a schema name', () => {
    const found = only(checkPermissions({ grants: ['SELECT'], schemas: ["public'; --"], tables: ['*'] }));
    expect(found.field).toBe('permissions.schemas[0]');
    expect(found.message).toMatch(/contains a single quote; a schema name is an identifier/);
  });

  it('a 200-byte schema or table name', () => {
    const long = 's'.repeat(200);
    const issues = checkPermissions({ grants: ['SELECT'], schemas: [long], tables: ['t', `public.${long}`] });
    expect(fields(issues)).toEqual(['permissions.schemas[0]', 'permissions.tables[1]']);
    expect(issues[0]?.message).toMatch(/is 200 bytes long, more than 63 \(PostgreSQL would cut it\)/);
    expect(issues[1]?.message).toMatch(/^the table part: .* is 200 bytes long/);
  });

  it('a multi-byte name over 63 bytes though under 63 characters', () => {
    const name = 'ü'.repeat(40); // 80 bytes
    expect(only(checkPermissions({ grants: ['SELECT'], schemas: ['public'], tables: [name] })).message).toMatch(/is 80 bytes long/);
  });

  it('schema.table whose schema is not listed', () => {
    const found = only(checkPermissions({ grants: ['SELECT'], schemas: ['public'], tables: ['audit.events'] }));
    expect(found.field).toBe('permissions.tables[0]');
    expect(found.message).toBe(
      '"audit.events" names the schema "audit", which is not in permissions.schemas; add it there, or write the table name without the schema',
    );
  });

  it('schema.* and names with two dots', () => {
    expect(only(checkPermissions({ grants: ['SELECT'], schemas: ['app'], tables: ['app.*'] })).message).toBe(
      '"app.*" is not accepted: to grant every table of a schema, write "*" in tables and list "app" in schemas',
    );
    expect(only(checkPermissions({ grants: ['SELECT'], schemas: ['app'], tables: ['db.app.users'] })).message).toMatch(/has more than one '\.'/);
  });

  it('system schemas', () => {
    for (const schema of ['pg_catalog', 'pg_toast', 'information_schema']) {
      const found = only(checkPermissions({ grants: ['SELECT'], schemas: [schema], tables: ['*'] }));
      expect(found.field).toBe('permissions.schemas[0]');
      expect(found.message).toMatch(/is a system schema/);
    }
  });

  it('missing, empty, mistyped and unknown attributes', () => {
    const issues = checkPermissions({ grants: [], schemas: 'public', grant: ['SELECT'] });
    expect(fields(issues)).toEqual(['permissions.grant', 'permissions.grants', 'permissions.schemas', 'permissions.tables']);
    expect(issues[0]?.message).toBe('is not a permissions attribute (did you mean grants?); accepted: grants, schemas, tables, sequences, functions, database');
    expect(issues[1]?.message).toMatch(/^is empty; list table privileges, e\.g\. grants = \["SELECT"\]/);
    expect(issues[2]?.message).toBe('must be a list of strings, got a string; list schema names, e.g. schemas = ["public"]');
    expect(issues[3]?.message).toMatch(/^is missing; list tables, e\.g\. tables = \["\*"\]/);
  });

  it('elements that are not strings', () => {
    const issues = checkPermissions({ grants: ['SELECT', 7], schemas: ['public', null], tables: [['*']] });
    expect(fields(issues)).toEqual(['permissions.grants[1]', 'permissions.schemas[1]', 'permissions.tables[0]']);
    expect(issues[0]?.message).toMatch(/^must be a string, got a number/);
    expect(issues[1]?.message).toMatch(/^must be a string, got null/);
    expect(issues[2]?.message).toMatch(/^must be a string, got a list/);
  });

  it('something that is not an object', () => {
    expect(only(checkPermissions('["SELECT"]'))).toEqual({
      field: 'permissions',
      message: 'must be a JSON object, got a list; write jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })',
    });
    expect(only(checkPermissions('"SELECT"')).message).toMatch(/got a string/);
    expect(only(checkPermissions(null)).message).toMatch(/got null/);
  });

  it('invalid JSON, with line, column and offset of the error', () => {
    const text = '{\n  "grants": ["SELECT"],\n  "schemas": ["public"]\n  "tables": ["*"]\n}';
    expect(only(checkPermissions(text))).toEqual({
      field: 'permissions',
      message:
        'is not valid JSON: expected \',\' or \'}\' but found \'"\' at line 4, column 3 (offset 52); write it with jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })',
    });
    expect(only(checkPermissions('{"grants": ["SELECT"],}')).message).toMatch(/expected a property name in double quotes but found '}' at line 1, column 23/);
    expect(only(checkPermissions("{'grants': []}")).message).toMatch(/at line 1, column 2 \(offset 1\)/);
    expect(only(checkPermissions('{"grants": ["SELECT"]')).message).toMatch(/but found the end of the text/);
    expect(only(checkPermissions('')).message).toMatch(/^is empty; write it with jsonencode/);
  });

  it('survives pathological nesting without throwing', () => {
    expect(only(checkPermissions('['.repeat(200_000))).message).toMatch(/^is not valid JSON: /);
    const deep = `{"grants": ${'['.repeat(50_000)}${']'.repeat(50_000)}, "schemas": ["public"], "tables": ["*"]}`;
    expect(only(checkPermissions(deep)).field).toBe('permissions.grants[0]');
  });

  it('reports every problem at once, in attribute and index order', () => {
    const issues = checkPermissions({ tables: ['a b', 'c;d'], schemas: ['x y'], grants: ['NOPE', 'SELECT', 'MAYBE'] });
    expect(fields(issues)).toEqual(['permissions.grants[0]', 'permissions.grants[2]', 'permissions.schemas[0]', 'permissions.tables[0]', 'permissions.tables[1]']);
  });

  it('uses the field name it is given', () => {
    expect(fields(checkPermissions({ grants: ['NOPE'], schemas: ['public'], tables: ['*'] }, 'authorizations[0].permissions'))).toEqual([
      'authorizations[0].permissions.grants[0]',
    ]);
  });

  it('accepts an unknown value at plan time', () => {
    expect(checkPermissions(UNKNOWN)).toEqual([]);
  });

  it('parsePermissions throws a ValidationError with every issue', () => {
    let caught: unknown;
    try {
      parsePermissions({ grants: ['NOPE'], schemas: ['x y'], tables: ['*'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(fields((caught as ValidationError).issues)).toEqual(['permissions.grants[0]', 'permissions.schemas[0]']);
    expect((caught as ValidationError).message).toMatch(/^permissions\.grants\[0\]: "NOPE" is not a table privilege/);
  });
});

describe('canonicalPermissionsJson', () => {
  it('is the same text for equal permission sets written differently', () => {
    const a = parsePermissions(jsonencode({ grants: ['select', 'insert'], schemas: ['public', 'app'], tables: ['*'] }));
    const b = parsePermissions({ tables: ['*', 'orders'], schemas: ['app', 'public', 'app'], grants: ['INSERT', 'SELECT'] });
    expect(canonicalPermissionsJson(a)).toBe(canonicalPermissionsJson(b));
    expect(canonicalPermissionsJson(a)).toBe('{"grants":["SELECT","INSERT"],"schemas":["app","public"],"tables":["*"]}');
  });

  it('round-trips through parsePermissions', () => {
    const p = parsePermissions({ grants: ['ALL'], schemas: ['public'], tables: ['b', 'a'] });
    expect(parsePermissions(canonicalPermissionsJson(p))).toEqual(p);
  });

  it('normalises input that is not yet in normal form', () => {
    expect(canonicalPermissionsJson({ grants: ['TRIGGER', 'SELECT', 'SELECT'], schemas: ['b', 'a'], tables: ['y', 'x'] })).toBe(
      '{"grants":["SELECT","TRIGGER"],"schemas":["a","b"],"tables":["x","y"]}',
    );
  });
});

describe('PERMISSIONS_SCHEMA', () => {
  const validator = new Validator();
  const schemaAccepts = (value: unknown): boolean => validator.validate(value, PERMISSIONS_SCHEMA).valid;

  it('accepts the documented examples', () => {
    expect(schemaAccepts({ grants: ['SELECT'], schemas: ['public'], tables: ['*'] })).toBe(true);
    expect(schemaAccepts({ grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] })).toBe(true);
    expect(schemaAccepts({ grants: ['SELECT', 'INSERT'], schemas: ['analytics'], tables: ['events', 'metrics'] })).toBe(true);
    expect(schemaAccepts({ grants: ['SELECT'], schemas: ['public', 'analytics'], tables: ['*'] })).toBe(true);
  });

  it('agrees with the code checks on single elements', () => {
    const grants = ['SELECT', 'select', 'Trigger', 'ALL', 'all privileges', 'SELEKT', 'USAGE', ' SELECT', 'ALL  PRIVILEGES', ''];
    const schemas = ['public', 'app', 'Données', '_x', 'my-schema', 'x y', 'a;b', 'pg_catalog', 'information_schema', '', '$x', 'a.b', 's'.repeat(64)];
    const tables = ['*', 'orders', 'public.orders', 'public.*', 'a.b.c', 'x y', 'public.x;y', '.orders', 'orders.', '**', 't'.repeat(64)];
    for (const grant of grants) {
      const value = { grants: [grant], schemas: ['public'], tables: ['*'] };
      expect([grant, schemaAccepts(value)]).toEqual([grant, checkPermissions(value).length === 0]);
    }
    for (const schema of schemas) {
      const value = { grants: ['SELECT'], schemas: [schema], tables: ['*'] };
      expect([schema, schemaAccepts(value)]).toEqual([schema, checkPermissions(value).length === 0]);
    }
    for (const table of tables) {
      const value = { grants: ['SELECT'], schemas: ['public'], tables: [table] };
      expect([table, schemaAccepts(value)]).toEqual([table, checkPermissions(value).length === 0]);
    }
  });

  it('refuses unknown top-level keys and missing ones', () => {
    expect(schemaAccepts({ grants: ['SELECT'], schemas: ['public'], tables: ['*'], extra: true })).toBe(false);
    expect(schemaAccepts({ grants: ['SELECT'], schemas: ['public'] })).toBe(false);
  });

  it('is frozen, so printing it cannot change it', () => {
    expect(Object.isFrozen(PERMISSIONS_SCHEMA)).toBe(true);
    expect(Object.isFrozen(PERMISSIONS_SCHEMA.properties?.grants)).toBe(true);
    expect(JSON.parse(JSON.stringify(PERMISSIONS_SCHEMA))).toEqual(PERMISSIONS_SCHEMA);
  });
});

describe('findJsonSyntaxError', () => {
  it('agrees with JSON.parse on what is valid', () => {
    const texts = [
      '{}', '[]', '""', '0', '-0', '1.5e10', 'true', 'null', '{"a":[1,{"b":null}]}', ' \n{"a" : "\\u00e9\\n"} ',
      '', '{', '{"a"}', '{"a":}', '[1,]', '01', '-', '1.', '.5', 'tru', '"\\x"', '"a\nb"', '{"a":1}x', "{'a':1}", '"\\u12G4"', '[1 2]',
    ];
    for (const text of texts) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect([text, findJsonSyntaxError(text) === undefined]).toEqual([text, valid]);
    }
  });

  it('locates the error by line and column', () => {
    expect(findJsonSyntaxError('{\n  "a": 1,\n  "b" 2\n}')).toEqual({ offset: 18, line: 3, column: 7, expected: "':' after the property name", found: "'2'" });
  });
});
