/**
 * Adaptive's YAML `allow:` spelling of `permissions`: read into the same normal form as the
 * JSON form, and every kind of bad input refused with the place and line, echoing no value.
 * Also: sets of sequences or functions alone (no `grants`/`tables`).
 */
import { execFileSync } from 'node:child_process';
import { Validator } from 'jsonschema';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS_SCHEMA, canonicalPermissionsJson, checkPermissions, parsePermissions } from '../../../src/runtime/validation';

/** Exactly as Adaptive's docs write it, after Terraform's `<<-EOT` strips the indentation. */
const ADAPTIVE_DOC = `allow:
  - database: production
    privileges:
      - SELECT
    objects:
      - ALL
`;

function canonical(text: string): string {
  return canonicalPermissionsJson(parsePermissions(text));
}

describe('YAML permissions: accepted and normalised', () => {
  it("Adaptive's documented example: every table of public, now and later, in database production", () => {
    expect(canonical(ADAPTIVE_DOC)).toBe('{"database":"production","grants":["SELECT"],"schemas":["public"],"tables":["*"]}');
  });

  it('several entries that agree on privileges: their tables, qualified (a bare name is public.name)', () => {
    const text = `allow:
  - database: employees
    privileges: [SELECT, INSERT, UPDATE]
    objects: [departments, employees]
  - database: employees
    privileges: [update, select, insert]
    objects: [hr.salaries]
`;
    expect(parsePermissions(text)).toEqual({
      database: 'employees',
      grants: ['SELECT', 'INSERT', 'UPDATE'],
      schemas: ['hr', 'public'],
      tables: ['hr.salaries', 'public.departments', 'public.employees'],
    });
  });

  it('privileges: [ALL] is every table privilege; schema.* every table of that schema', () => {
    const p = parsePermissions('allow:\n  - database: app\n    privileges: [ALL]\n    objects: [app.*, public.*, app.orders]\n');
    expect(p.grants).toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']);
    expect(p.schemas).toEqual(['app', 'public']);
    expect(p.tables).toEqual(['*']);
  });

  it('the canonical text passes the published JSON Schema and reads back the same', () => {
    const text = canonical(ADAPTIVE_DOC);
    expect(new Validator().validate(JSON.parse(text), PERMISSIONS_SCHEMA).valid).toBe(true);
    expect(canonical(text)).toBe(text);
  });
});

describe('YAML permissions: refused, with the place and the line', () => {
  it('an unknown privilege, with a suggestion and without echoing it', () => {
    const issues = checkPermissions('allow:\n  - database: app\n    privileges: [SELECT, SELEKT]\n    objects: [ALL]\n');
    expect(issues.map((i) => i.field)).toEqual(['permissions.allow[0].privileges[1]']);
    expect(issues[0]?.message).toMatch(/^\(line 3\) is not a table privilege \(did you mean SELECT\?\); accepted: SELECT, INSERT/);
    expect(JSON.stringify(issues)).not.toContain('SELEKT');
  });

  it('malformed YAML names the line and quotes nothing of the text', () => {
    const issues = checkPermissions('allow:\n  - database: app\n    privileges: [SELECT, hunter2-secret\n    objects: [ALL]\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('permissions');
    expect(issues[0]?.message).toMatch(/^is neither JSON nor valid YAML: at line \d+, /);
    expect(JSON.stringify(issues)).not.toMatch(/hunter2|secret/);
  });

  it('unknown keys, missing parts, and a text that is neither form', () => {
    expect(checkPermissions('allow:\n  - database: app\n    privilege: [SELECT]\n    objects: [ALL]\n').map((i) => i.field)).toEqual([
      'permissions.allow[0].privilege',
      'permissions.allow[0].privileges',
    ]);
    const missing = checkPermissions('allow:\n  - privileges: [SELECT]\n    objects: [ALL]\n');
    expect(missing[0]?.field).toBe('permissions.allow[0].database');
    expect(missing[0]?.message).toMatch(/^\(line 2\) is missing; write the target's database/);
    expect(checkPermissions('allow: []')[0]?.field).toBe('permissions.allow');
    expect(checkPermissions('grants: [SELECT]')[0]?.field).toBe('permissions.grants');
    expect(checkPermissions('hello')[0]?.message).toMatch(/^must be a JSON object or YAML starting with allow:/);
  });

  it('entries with different privileges: refused, saying how to split them', () => {
    const issues = checkPermissions(
      'allow:\n  - database: app\n    privileges: [SELECT]\n    objects: [orders]\n  - database: app\n    privileges: [SELECT, INSERT]\n    objects: [carts]\n',
    );
    expect(issues.map((i) => i.field)).toEqual(['permissions.allow[1].privileges']);
    expect(issues[0]?.message).toMatch(/^\(line 5\) grants SELECT, INSERT where allow\[0\] grants SELECT; .*two adaptive_authorization resources/);
  });

  it('entries for different databases, and whole schemas mixed with single tables of another schema', () => {
    expect(checkPermissions('allow:\n  - database: a\n    privileges: [SELECT]\n    objects: [x]\n  - database: b\n    privileges: [SELECT]\n    objects: [y]\n')[0]?.field).toBe(
      'permissions.allow[1].database',
    );
    // "*" covers every listed schema: app.orders beside ALL would grant all of app. Refused, never widened.
    const mixed = checkPermissions('allow:\n  - database: a\n    privileges: [SELECT]\n    objects: [ALL, app.orders]\n');
    expect(mixed[0]?.field).toBe('permissions.allow[0].objects');
    expect(mixed[0]?.message).toMatch(/whole schemas \(ALL or schema\.\*\)/);
  });

  it('system schemas and malformed object names', () => {
    expect(checkPermissions('allow:\n  - database: a\n    privileges: [SELECT]\n    objects: [pg_catalog.pg_authid]\n')[0]?.message).toMatch(/system schema/);
    expect(checkPermissions('allow:\n  - database: a\n    privileges: [SELECT]\n    objects: [a.b.c]\n')[0]?.field).toBe('permissions.allow[0].objects[0]');
  });
});

describe('sets of sequences or functions alone', () => {
  it('need no grants or tables; their canonical text has both empty, and reads back the same', () => {
    const text = canonicalPermissionsJson(parsePermissions({ schemas: ['app'], functions: ['*'] }));
    expect(text).toBe('{"grants":[],"schemas":["app"],"tables":[],"functions":["*"]}');
    expect(canonicalPermissionsJson(parsePermissions(text))).toBe(text);
    const sequences = { schemas: ['app'], sequences: { privileges: ['USAGE'], names: ['*'] } };
    expect(checkPermissions(sequences)).toEqual([]);
    expect(new Validator().validate(sequences, PERMISSIONS_SCHEMA).valid).toBe(true);
  });

  it('grants without tables (or the reverse) are refused, and so is a set that grants nothing', () => {
    expect(checkPermissions({ schemas: ['app'], grants: ['SELECT'], functions: ['*'] }).map((i) => i.field)).toEqual(['permissions.tables']);
    expect(checkPermissions({ schemas: ['app'], tables: ['*'], functions: ['*'] }).map((i) => i.field)).toEqual(['permissions.grants']);
    expect(checkPermissions({ schemas: ['app'] }).map((i) => i.field)).toEqual(['permissions.grants', 'permissions.tables']);
    expect(new Validator().validate({ schemas: ['app'] }, PERMISSIONS_SCHEMA).valid).toBe(false);
    expect(new Validator().validate({ schemas: ['app'], grants: ['SELECT'], functions: ['*'] }, PERMISSIONS_SCHEMA).valid).toBe(false);
  });
});

describe('the yaml package (the plugin cold start)', () => {
  /** How many modules of the yaml package a fresh process has loaded after `script`. */
  function yamlModulesAfter(script: string): number {
    const out = execFileSync(
      process.execPath,
      ['-r', 'tsx/cjs', '-e', `const v = require('./src/runtime/validation'); ${script}; console.log(Object.keys(require.cache).filter((k) => k.includes('node_modules/yaml/')).length)`],
      { cwd: process.cwd(), encoding: 'utf8' },
    );
    return Number(out.trim());
  }

  it('is not loaded for JSON permissions, only for the YAML form', () => {
    expect(yamlModulesAfter(`v.parsePermissions('{"grants":["SELECT"],"schemas":["public"],"tables":["*"]}')`)).toBe(0);
    expect(yamlModulesAfter(`v.parsePermissions('allow:\\n  - database: a\\n    privileges: [SELECT]\\n    objects: [ALL]\\n')`)).toBeGreaterThan(0);
  });
});
