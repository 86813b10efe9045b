/**
 * `permissions` of `adaptive_authorization`: the JSON text `jsonencode({grants, schemas,
 * tables})` produces, or (from the constructs) the object itself.
 *
 * The JSON Schema below is the published contract (the docs print it) and is enforced with
 * the `jsonschema` package; rules a JSON Schema cannot say are checked in code:
 * identifiers are limited in bytes, not characters, and a `schema.table` entry must name a
 * schema listed in `schemas`. Messages come from code, not from the schema library, so they
 * can say what would be accepted.
 *
 * Decisions:
 * - `grants` are case-insensitive and normalised to upper case; `ALL` and `ALL PRIVILEGES`
 *   expand to every privilege in TABLE_PRIVILEGES. Output order is TABLE_PRIVILEGES order.
 * - `schemas` and `tables` entries are case-sensitive identifiers (see names.ts). System
 *   schemas (`pg_*`, `information_schema`) are refused: a grant on the catalogs could hand
 *   out other roles' password hashes.
 * - `tables` entries are `*` (every table of every listed schema, now and later), `name`
 *   (that table in each listed schema) or `schema.name`. `schema.*` is refused with a hint.
 *   When `*` is present, named tables add nothing, so the normalised list is just `["*"]`.
 * - `sequences` is optional: `{ privileges, names }`, an object of its own rather than more
 *   entries in `grants`/`tables`, because sequence privileges (USAGE, SELECT, UPDATE) are not
 *   table privileges. `names` are written like `tables`; privileges like `grants` (`ALL`
 *   expanded, SEQUENCE_PRIVILEGES order). Its messages come from code alone (the schema
 *   library's paths into a nested object are not what a user writes); absent, the canonical
 *   text is what it was before `sequences` existed.
 * - `functions` is optional: a list of routines to EXECUTE (`*`, `name`, `schema.name`: every
 *   overload; `name(argtypes)`: one). A list rather than an object like `sequences`,
 *   because EXECUTE is the only privilege a routine has. Argument types are limited to type
 *   names, commas, spaces, dots and `[]` (no quoted type names); whether they exist is
 *   known only at apply, where `to_regprocedure` looks them up as a bind parameter.
 * - Lists are de-duplicated and sorted (by code unit, locale-independent), so equal
 *   permission sets have one canonical JSON text and plans do not drift.
 */
import type { Schema, ValidationError as SchemaValidationError, Validator } from 'jsonschema';
import { SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES, type Permissions, type SequencePermissions, type TablePrivilege, type ValidationIssue } from '../types';
import { childField, closest, indexField, issue, isUnknown, show, throwIfIssues, typeName, type MaybeUnknown } from './common';
import { parseJsonText } from './json';
import { looksLikeJson, yamlPermissionsDocument } from './permissions-yaml';
import { IDENTIFIER_MAX_BYTES, IDENTIFIER_PATTERN, IDENTIFIER_RULE, identifierProblem } from './names';

const KEYS = ['grants', 'schemas', 'tables'] as const;
type Key = (typeof KEYS)[number];
/** Every attribute, in the order issues are reported; `sequences` is optional. */
const ALL_KEYS = [...KEYS, 'sequences', 'functions', 'database'] as const;
const SEQUENCE_KEYS = ['privileges', 'names'] as const;

/** Words that mean "every table privilege". */
const ALL_WORDS = ['ALL', 'ALL PRIVILEGES'] as const;

/** Matches one word in any letter case, e.g. `select` -> `[Ss][Ee][Ll][Ee][Cc][Tt]`. */
function anyCase(word: string): string {
  return Array.from(word, (ch) => (/[A-Za-z]/.test(ch) ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : ch)).join('');
}

const PRIVILEGE_PATTERN = `^(?:${[...TABLE_PRIVILEGES, ...ALL_WORDS].map(anyCase).join('|')})$`;
const SYSTEM_SCHEMA_PATTERN = '^(?:pg_.*|information_schema)$';
const IDENT = IDENTIFIER_PATTERN.slice(1, -1);
const TABLE_PATTERN = `^(?:\\*|${IDENT}|${IDENT}\\.${IDENT})$`;

const EXAMPLE = 'jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })';
const ACCEPTED_PRIVILEGES = `${TABLE_PRIVILEGES.join(', ')}, or ALL for all of them (any letter case)`;
const SEQUENCE_PRIVILEGE_PATTERN = `^(?:${[...SEQUENCE_PRIVILEGES, ...ALL_WORDS].map(anyCase).join('|')})$`;
const ACCEPTED_SEQUENCE_PRIVILEGES = `${SEQUENCE_PRIVILEGES.join(', ')}, or ALL for all of them (any letter case)`;
const SEQUENCE_RULE =
  '"*" (every sequence of the listed schemas, now and later), a sequence name, or schema.sequence with the schema listed in permissions.schemas; ' +
  "names are at most 63 bytes of letters, digits, '_', '$' and '-'";
/** Argument types of one overload: type names, commas, spaces, dots, array brackets. */
const ARGS_TEXT = '[\\p{L}\\p{N}_ ,.\\[\\]]*';
const FUNCTION_PATTERN = `^(?:\\*|(?:${IDENTIFIER_PATTERN.slice(1, -1)}|${IDENTIFIER_PATTERN.slice(1, -1)}\\.${IDENTIFIER_PATTERN.slice(1, -1)})(?:\\(${ARGS_TEXT}\\))?)$`;
const FUNCTION_RULE =
  '"*" (every function and procedure of the listed schemas, now and later), a name or schema.name (every overload), ' +
  'or name(argtypes) / schema.name(argtypes) (one overload, e.g. app.total(integer, text)), with the schema listed in permissions.schemas';
const TABLE_RULE =
  '"*" (every table, now and later), a table name, or schema.table with the schema listed in permissions.schemas; ' +
  "names are at most 63 bytes of letters, digits, '_', '$' and '-'";

/**
 * The JSON Schema of `permissions` (draft-07). Patterns use Unicode property escapes, so a
 * validator must compile them with the `u` flag, as ECMA-262 regular expressions.
 */
export const PERMISSIONS_SCHEMA: Readonly<Schema> = deepFreeze({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'adaptive_authorization permissions',
  description:
    'Table privileges granted on tables of some schemas, written as jsonencode({ grants, schemas, tables }), with optional sequences and functions. ' +
    "Adaptive's YAML form (allow: [{ database, privileges, objects }]) is read into this one.",
  type: 'object',
  additionalProperties: false,
  // `grants` and `tables` go together, and may be left out when `sequences` or `functions`
  // grant something; worded in code (`coverageIssues`).
  required: ['schemas'],
  dependencies: { grants: ['tables'], tables: ['grants'] },
  anyOf: [{ required: ['tables'] }, { required: ['sequences'] }, { required: ['functions'] }],
  properties: {
    database: {
      description:
        "Optional. The database the set is written for (Adaptive's YAML `database:`): an endpoint whose resource connects to another database is refused.",
      type: 'string',
      minLength: 1,
    },
    grants: {
      description: `Table privileges: ${ACCEPTED_PRIVILEGES}.`,
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: PRIVILEGE_PATTERN },
      examples: [['SELECT'], ['SELECT', 'INSERT', 'UPDATE', 'DELETE']],
    },
    schemas: {
      description: `Schemas whose tables are granted; identifiers: ${IDENTIFIER_RULE}. System schemas (pg_*, information_schema) are not allowed.`,
      type: 'array',
      minItems: 1,
      items: {
        type: 'string',
        minLength: 1,
        maxLength: IDENTIFIER_MAX_BYTES,
        pattern: IDENTIFIER_PATTERN,
        not: { type: 'string', pattern: SYSTEM_SCHEMA_PATTERN },
      },
      examples: [['public'], ['public', 'app']],
    },
    tables: {
      description: `Tables: ${TABLE_RULE}, starting with a letter, digit or '_'.`,
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, maxLength: 2 * IDENTIFIER_MAX_BYTES + 1, pattern: TABLE_PATTERN },
      examples: [['*'], ['events', 'metrics'], ['app.orders']],
    },
    functions: {
      description: `Optional. Functions and procedures the role may EXECUTE: ${FUNCTION_RULE}.`,
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, maxLength: 1024, pattern: FUNCTION_PATTERN },
      examples: [['*'], ['app.total(integer, text)', 'app.refresh']],
    },
    sequences: {
      description:
        'Optional. Sequence privileges (nextval needs USAGE or UPDATE, currval USAGE or SELECT, setval UPDATE) on sequences of the listed schemas, ' +
        'beyond the USAGE that INSERT or UPDATE on tables already gives their own sequences.',
      type: 'object',
      additionalProperties: false,
      required: ['privileges', 'names'],
      properties: {
        privileges: {
          description: `Sequence privileges: ${ACCEPTED_SEQUENCE_PRIVILEGES}.`,
          type: 'array',
          minItems: 1,
          items: { type: 'string', pattern: SEQUENCE_PRIVILEGE_PATTERN },
          examples: [['USAGE'], ['USAGE', 'SELECT', 'UPDATE']],
        },
        names: {
          description: `Sequences: ${SEQUENCE_RULE}, starting with a letter, digit or '_'.`,
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1, maxLength: 2 * IDENTIFIER_MAX_BYTES + 1, pattern: TABLE_PATTERN },
          examples: [['*'], ['order_numbers'], ['app.invoice_numbers']],
        },
      },
      examples: [{ privileges: ['USAGE'], names: ['*'] }],
    },
  },
});

/** Freezes a schema and everything in it: it is shared, and docs code must not change it. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}

let validator: Validator | undefined;

/** The schema validator, created on first use. */
function schemaValidator(): Validator {
  if (validator === undefined) {
    // Loaded lazily: Terraform starts the plugin several times per command and most of
    // those processes never validate permissions, so the cold start should not pay for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Validator: ValidatorClass } = require('jsonschema') as typeof import('jsonschema');
    validator = new ValidatorClass();
  }
  return validator;
}

/** Non-table privileges users reach for, with what to do instead. */
const OTHER_PRIVILEGES: Readonly<Record<string, string>> = {
  USAGE: 'USAGE is a schema privilege, and USAGE on the listed schemas comes with every grant',
  CONNECT: 'CONNECT is a database privilege, and CONNECT comes with every grant',
  CREATE: 'CREATE is a schema or database privilege and is not granted through an authorization',
  TEMPORARY: 'TEMPORARY is a database privilege and is not granted through an authorization',
  TEMP: 'TEMP is a database privilege and is not granted through an authorization',
  EXECUTE: 'EXECUTE is a function privilege: list the functions in permissions.functions',
  MAINTAIN: 'MAINTAIN (PostgreSQL 17+) is not supported',
};

function privilegeProblem(value: string): string | undefined {
  const upper = value.toUpperCase();
  if ((TABLE_PRIVILEGES as readonly string[]).includes(upper) || (ALL_WORDS as readonly string[]).includes(upper)) return undefined;
  const other = OTHER_PRIVILEGES[upper.trim()];
  if (other !== undefined) return `${show(value)} is not a table privilege: ${other}; accepted: ${ACCEPTED_PRIVILEGES}`;
  if (upper.trim() !== upper && (TABLE_PRIVILEGES as readonly string[]).includes(upper.trim())) {
    return `${show(value)} has spaces around it; write ${show(value.trim())}`;
  }
  const guess = closest(value, [...TABLE_PRIVILEGES]);
  const suggestion = guess === undefined ? '' : ` (did you mean ${guess}?)`;
  return `${show(value)} is not a table privilege${suggestion}; accepted: ${ACCEPTED_PRIVILEGES}`;
}

function schemaProblem(value: string): string | undefined {
  const problem = identifierProblem(value);
  if (problem !== undefined) return `${problem}; a schema name is an identifier: ${IDENTIFIER_RULE}`;
  if (new RegExp(SYSTEM_SCHEMA_PATTERN).test(value)) {
    return `${show(value)} is a system schema; grants on the system catalogs are not allowed (they could expose other roles' password hashes), list your own schemas`;
  }
  return undefined;
}

/** How a relation list is worded in messages: `tables`, or `sequences.names`. */
interface RelationWording {
  readonly word: 'table' | 'sequence' | 'function';
  readonly list: string;
  readonly rule: string;
}

const TABLE_WORDING: RelationWording = { word: 'table', list: 'tables', rule: TABLE_RULE };
const SEQUENCE_WORDING: RelationWording = { word: 'sequence', list: 'sequences.names', rule: SEQUENCE_RULE };

function tableProblem(value: string, schemas: ReadonlySet<string> | undefined, wording: RelationWording = TABLE_WORDING): string | undefined {
  const { word, list, rule } = wording;
  if (value === '*') return undefined;
  const parts = value.split('.');
  if (parts.length > 2) return `${show(value)} has more than one '.'; a ${word} is ${rule}`;
  if (parts.length === 2) {
    const [schema = '', table = ''] = parts;
    if (table === '*') {
      return `${show(value)} is not accepted: to grant every ${word} of a schema, write "*" in ${list} and list ${show(schema)} in schemas`;
    }
    const schemaPart = identifierProblem(schema);
    if (schemaPart !== undefined) return `the schema part: ${schemaPart}; a ${word} is ${rule}`;
    const tablePart = identifierProblem(table);
    if (tablePart !== undefined) return `the ${word} part: ${tablePart}; a ${word} is ${rule}`;
    if (schemas !== undefined && !schemas.has(schema)) {
      return `${show(value)} names the schema ${show(schema)}, which is not in permissions.schemas; add it there, or write the ${word} name without the schema`;
    }
    return undefined;
  }
  const problem = identifierProblem(value);
  return problem === undefined ? undefined : `${problem}; a ${word} is ${rule}`;
}

function sequencePrivilegeProblem(value: string): string | undefined {
  const upper = value.toUpperCase();
  if ((SEQUENCE_PRIVILEGES as readonly string[]).includes(upper) || (ALL_WORDS as readonly string[]).includes(upper)) return undefined;
  if (upper.trim() !== upper && (SEQUENCE_PRIVILEGES as readonly string[]).includes(upper.trim())) {
    return `${show(value)} has spaces around it; write ${show(value.trim())}`;
  }
  const guess = closest(value, [...SEQUENCE_PRIVILEGES]);
  const suggestion = guess === undefined ? '' : ` (did you mean ${guess}?)`;
  return `${show(value)} is not a sequence privilege${suggestion}; accepted: ${ACCEPTED_SEQUENCE_PRIVILEGES}`;
}

const FUNCTION_WORDING: RelationWording = { word: 'function', list: 'functions', rule: FUNCTION_RULE };

function functionProblem(value: string, schemas: ReadonlySet<string> | undefined): string | undefined {
  if (value === '*') return undefined;
  const open = value.indexOf('(');
  const name = open < 0 ? value : value.slice(0, open);
  const nameProblem = tableProblem(name, schemas, FUNCTION_WORDING);
  if (nameProblem !== undefined) return nameProblem;
  if (open < 0) return undefined;
  if (!value.endsWith(')')) return `${show(value)} has an unclosed '('; a function is ${FUNCTION_RULE}`;
  const args = value.slice(open + 1, -1);
  if (!new RegExp(`^${ARGS_TEXT}$`, 'u').test(args)) {
    return `the argument types ${show(args)} may only hold type names, commas, spaces, dots and [] (no quotes or parentheses); a function is ${FUNCTION_RULE}`;
  }
  return undefined;
}

const SEQUENCE_HINTS: Readonly<Record<string, string>> = {
  privileges: `list sequence privileges, e.g. privileges = ["USAGE"]; accepted: ${ACCEPTED_SEQUENCE_PRIVILEGES}`,
  names: 'list sequences, e.g. names = ["*"] for every sequence of the schemas, or names = ["order_numbers", "app.invoice_numbers"]',
};
const SEQUENCES_EXAMPLE = 'sequences = { privileges = ["USAGE"], names = ["*"] }';

/**
 * Every problem with `sequences`, worded by code (the schema library's paths into the
 * nested object are not what a user writes): its shape, then each element.
 */
function sequencesIssues(value: unknown, at: string, schemas: ReadonlySet<string> | undefined): ValidationIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [issue(at, `must be an object, got ${typeName(value)}; write ${SEQUENCES_EXAMPLE}`)];
  }
  const record = value as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const extra of Object.keys(record).filter((k) => !(SEQUENCE_KEYS as readonly string[]).includes(k))) {
    const guess = closest(extra, SEQUENCE_KEYS);
    const suggestion = guess === undefined ? '' : ` (did you mean ${guess}?)`;
    issues.push(issue(childField(at, extra), `is not a sequences attribute${suggestion}; accepted: privileges, names`));
  }
  const checks: Record<(typeof SEQUENCE_KEYS)[number], (item: string) => string | undefined> = {
    privileges: sequencePrivilegeProblem,
    names: (item) => tableProblem(item, schemas, SEQUENCE_WORDING),
  };
  for (const key of SEQUENCE_KEYS) {
    const list = record[key];
    const listField = childField(at, key);
    const hint = SEQUENCE_HINTS[key] ?? SEQUENCES_EXAMPLE;
    if (list === undefined) issues.push(issue(listField, `is missing; ${hint}`));
    else if (!Array.isArray(list)) issues.push(issue(listField, `must be a list of strings, got ${typeName(list)}; ${hint}`));
    else if (list.length === 0) issues.push(issue(listField, `is empty; ${hint}`));
    else {
      list.forEach((item: unknown, index) => {
        const itemField = indexField(listField, index);
        if (typeof item !== 'string') issues.push(issue(itemField, `must be a string, got ${typeName(item)}; ${hint}`));
        else {
          const problem = checks[key](item);
          if (problem !== undefined) issues.push(issue(itemField, problem));
        }
      });
    }
  }
  return issues;
}

const HINTS: Readonly<Record<string, string>> = {
  grants: `list table privileges, e.g. grants = ["SELECT"]; accepted: ${ACCEPTED_PRIVILEGES}`,
  schemas: 'list schema names, e.g. schemas = ["public"]',
  tables: 'list tables, e.g. tables = ["*"] for every table of the schemas, or tables = ["orders", "app.users"]',
  functions: 'list functions, e.g. functions = ["*"] for every function of the schemas, or functions = ["app.total(integer)"]',
};

/** Turns a schema-library error about the structure into an issue with our wording. */
function structureIssue(error: SchemaValidationError, field: string): ValidationIssue | undefined {
  const [key, index] = error.path;
  // `sequences` is checked whole by `sequencesIssues`.
  if (key === 'sequences') return undefined;
  if (key === undefined) {
    // Which attributes go together: `coverageIssues` says it in the user's terms.
    if (error.name === 'dependencies' || error.name === 'anyOf') return undefined;
    if (error.name === 'type') return issue(field, `must be a JSON object, got ${typeName(error.instance)}; write ${EXAMPLE}`);
    if (error.name === 'required') {
      const missing = String(error.argument);
      return issue(childField(field, missing), `is missing; ${HINTS[missing] ?? EXAMPLE}`);
    }
    if (error.name === 'additionalProperties') {
      const extra = String(error.argument);
      const guess = closest(extra, ALL_KEYS);
      const suggestion = guess === undefined ? '' : ` (did you mean ${guess}?)`;
      return issue(childField(field, extra), `is not a permissions attribute${suggestion}; accepted: ${ALL_KEYS.join(', ')}`);
    }
    return issue(field, `${error.message}; write ${EXAMPLE}`);
  }
  const hint = HINTS[String(key)] ?? EXAMPLE;
  const at = childField(field, String(key));
  if (index === undefined) {
    if (error.name === 'type') return issue(at, `must be a list of strings, got ${typeName(error.instance)}; ${hint}`);
    if (error.name === 'minItems') return issue(at, `is empty; ${hint}`);
    return issue(at, `${error.message}; ${hint}`);
  }
  // Element errors on strings are worded by the code checks, which say exactly what is wrong.
  if (typeof error.instance === 'string') return undefined;
  return issue(indexField(at, Number(index)), `must be a string, got ${typeName(error.instance)}; ${hint}`);
}

interface PermissionsResult {
  readonly issues: ValidationIssue[];
  readonly value?: Permissions;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * `grants` and `tables` go together; either may be left out (both) when `sequences` or
 * `functions` grant something, so a set of routines or sequences alone needs no table.
 */
function coverageIssues(record: Record<string, unknown>, field: string): ValidationIssue[] {
  const hasOther = record.sequences !== undefined || record.functions !== undefined;
  const missing = (key: 'grants' | 'tables', partner: 'grants' | 'tables'): boolean =>
    record[key] === undefined && (record[partner] !== undefined || !hasOther);
  return (['grants', 'tables'] as const)
    .filter((key) => missing(key, key === 'grants' ? 'tables' : 'grants'))
    .map((key) => issue(childField(field, key), `is missing; ${HINTS[key] ?? EXAMPLE}`));
}

/** The document `permissions` holds: the object itself, JSON text, or the YAML form read into the JSON form. */
function readDocument(input: unknown, field: string): { ok: true; document: unknown } | { ok: false; issues: ValidationIssue[] } {
  if (typeof input !== 'string') return { ok: true, document: input };
  if (!looksLikeJson(input)) return yamlPermissionsDocument(input, field);
  const parsed = parseJsonText(input, field, `write it with ${EXAMPLE}`);
  return parsed.ok ? { ok: true, document: parsed.value } : { ok: false, issues: [parsed.issue] };
}

/**
 * A set of sequences or functions alone in its normal form has `grants` and `tables` empty
 * (the model always has both): read that as leaving them out, so normal forms validate again.
 */
function withoutEmptyTables(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return document;
  const { grants, tables, ...rest } = document as Record<string, unknown>;
  const empty = (list: unknown): boolean => Array.isArray(list) && list.length === 0;
  return empty(grants) && empty(tables) && (rest.sequences !== undefined || rest.functions !== undefined) ? rest : document;
}

function analysePermissions(input: unknown, field: string): PermissionsResult {
  const read = readDocument(input, field);
  if (!read.ok) return { issues: read.issues };
  const document = withoutEmptyTables(read.document);
  // The object form must be plain JSON data; anything else (a Map, a class instance) fails
  // the schema's type check below with a clear message.
  const result = schemaValidator().validate(document, PERMISSIONS_SCHEMA);
  const issues: ValidationIssue[] = [];
  const flagged = new Set<string>();
  const reported = new Set<string>();
  for (const error of result.errors) {
    const path = error.path.join('/');
    const found = structureIssue(error, field);
    if (found === undefined) flagged.add(path);
    else if (!reported.has(`${found.field}\n${path}`)) {
      // One issue per place: a value can break several keywords at once.
      reported.add(`${found.field}\n${path}`);
      issues.push(found);
    }
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return { issues };

  const record = document as Record<string, unknown>;
  issues.push(...coverageIssues(record, field));
  const schemaList = stringsOf(record.schemas);
  const validSchemas = new Set(schemaList.filter((s) => schemaProblem(s) === undefined));
  // Cross-checking tables against schemas is only fair when every schema is valid.
  const schemasForTables = Array.isArray(record.schemas) && validSchemas.size === record.schemas.length ? validSchemas : undefined;
  const elementCheck: Record<Key, (value: string) => string | undefined> = {
    grants: privilegeProblem,
    schemas: schemaProblem,
    tables: (value) => tableProblem(value, schemasForTables),
  };
  for (const key of KEYS) {
    const list = record[key];
    if (!Array.isArray(list)) continue;
    list.forEach((item: unknown, index) => {
      if (typeof item !== 'string') return;
      const at = indexField(childField(field, key), index);
      const problem = elementCheck[key](item);
      if (problem !== undefined) issues.push(issue(at, problem));
      else if (flagged.has(`${key}/${index}`)) {
        // The schema refused what the code accepts: keep the schema authoritative.
        issues.push(issue(at, `${show(item)} is not accepted; ${HINTS[key] ?? EXAMPLE}`));
      }
    });
  }
  if (Array.isArray(record.functions)) {
    record.functions.forEach((item: unknown, index) => {
      if (typeof item !== 'string') return;
      const at = indexField(childField(field, 'functions'), index);
      const problem = functionProblem(item, schemasForTables);
      if (problem !== undefined) issues.push(issue(at, problem));
      else if (flagged.has(`functions/${index}`)) issues.push(issue(at, `${show(item)} is not accepted; ${HINTS.functions}`));
    });
  }
  let sequences: { privileges: string[]; names: string[] } | undefined;
  if (record.sequences !== undefined) {
    const at = childField(field, 'sequences');
    const found = sequencesIssues(record.sequences, at, schemasForTables);
    issues.push(...found);
    if (found.length === 0 && [...flagged].some((path) => path.startsWith('sequences'))) {
      // The schema refused what the code accepts: keep the schema authoritative.
      issues.push(issue(at, `is not accepted; write ${SEQUENCES_EXAMPLE}`));
    }
    const s = record.sequences as Record<string, unknown>;
    sequences = { privileges: stringsOf(s.privileges), names: stringsOf(s.names) };
  }
  if (issues.length > 0) return { issues: sortIssues(issues, field) };
  return {
    issues: [],
    value: normalisePermissions({
      grants: stringsOf(record.grants),
      schemas: schemaList,
      tables: stringsOf(record.tables),
      ...(sequences ? { sequences } : {}),
      ...(Array.isArray(record.functions) ? { functions: stringsOf(record.functions) } : {}),
      ...(typeof record.database === 'string' ? { database: record.database } : {}),
    }),
  };
}

/** Root issues first, then grants, schemas, tables, each in index order. */
function sortIssues(issues: ValidationIssue[], field: string): ValidationIssue[] {
  const rank = (f: string): [number, number] => {
    const rest = f.slice(field.length);
    const keyRank = ALL_KEYS.findIndex((key) => rest.startsWith(`.${key}`));
    const index = /\[(\d+)\]$/.exec(rest);
    return [keyRank + 1, index === null ? -1 : Number(index[1])];
  };
  return issues
    .map((item, order) => ({ item, order, rank: rank(item.field) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.order - b.order)
    .map(({ item }) => item);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * The normal form of permissions already known to be valid: privileges upper-cased, `ALL`
 * expanded, in TABLE_PRIVILEGES order; schemas and tables de-duplicated and sorted; `*`
 * alone when present.
 */
function normalisePermissions(p: {
  readonly grants: readonly string[];
  readonly schemas: readonly string[];
  readonly tables: readonly string[];
  readonly sequences?: { readonly privileges: readonly string[]; readonly names: readonly string[] } | undefined;
  readonly functions?: readonly string[] | undefined;
  readonly database?: string | undefined;
}): Permissions {
  const wanted = new Set(p.grants.map((g) => g.toUpperCase()));
  const all = ALL_WORDS.some((word) => wanted.has(word));
  const grants: TablePrivilege[] = TABLE_PRIVILEGES.filter((privilege) => all || wanted.has(privilege));
  const tables = p.tables.includes('*') ? ['*'] : unique(p.tables);
  const base = { grants, schemas: unique(p.schemas), tables };
  return {
    ...base,
    ...(p.sequences === undefined ? {} : { sequences: normaliseSequences(p.sequences) }),
    ...(p.functions === undefined ? {} : { functions: p.functions.includes('*') ? ['*'] : unique(p.functions) }),
    ...(p.database === undefined ? {} : { database: p.database }),
  };
}

/** Privileges upper-cased, `ALL` expanded, in SEQUENCE_PRIVILEGES order; names like `tables`. */
function normaliseSequences(s: { readonly privileges: readonly string[]; readonly names: readonly string[] }): SequencePermissions {
  const wanted = new Set(s.privileges.map((g) => g.toUpperCase()));
  const all = ALL_WORDS.some((word) => wanted.has(word));
  return {
    privileges: SEQUENCE_PRIVILEGES.filter((privilege) => all || wanted.has(privilege)),
    names: s.names.includes('*') ? ['*'] : unique(s.names),
  };
}

/**
 * Checks `permissions` (JSON text, or the object for the constructs) without throwing:
 * the JSON Schema, privileges, identifiers, and that every `schema.table` names a listed
 * schema. Every issue names its path, e.g. `permissions.grants[1]`.
 */
export function checkPermissions(input: MaybeUnknown<unknown>, field = 'permissions'): ValidationIssue[] {
  if (isUnknown(input)) return [];
  return analysePermissions(input, field).issues;
}

/**
 * Parses and normalises `permissions` (JSON text or object); throws a `ValidationError`
 * with every issue `checkPermissions` finds.
 */
export function parsePermissions(input: unknown, field = 'permissions'): Permissions {
  const result = analysePermissions(input, field);
  throwIfIssues(result.issues);
  if (result.value === undefined) throw new Error('permissions: no value and no issues'); // unreachable
  return result.value;
}

/**
 * A stable JSON text for a permission set, with keys in a fixed order and lists in normal
 * form, for storage and for comparing with state without plan drift. Normalises again, so
 * two sets that grant the same access give the same text.
 */
export function canonicalPermissionsJson(p: Permissions): string {
  const normal = normalisePermissions(p);
  // `sequences` only when present, so the text of a table-only set is what it always was.
  const sequences = normal.sequences === undefined ? {} : { sequences: { privileges: normal.sequences.privileges, names: normal.sequences.names } };
  const functions = normal.functions === undefined ? {} : { functions: normal.functions };
  // `grants` and `tables` stay, empty for a set of sequences or functions alone: every
  // reader of a stored set (catalog, role comments) can count on them.
  const database = normal.database === undefined ? {} : { database: normal.database };
  return JSON.stringify({ ...database, grants: normal.grants, schemas: normal.schemas, tables: normal.tables, ...sequences, ...functions });
}
