/**
 * Adaptive's YAML spelling of `permissions`, accepted as an alternative to the JSON form:
 *
 * ```yaml
 * allow:
 *   - database: production
 *     privileges: [SELECT]
 *     objects: [ALL]
 * ```
 *
 * It is turned into the JSON form's document (`{ database, grants, schemas, tables }`), which
 * then goes through the same checks and normal form, so both spellings mean exactly the same.
 *
 * Decisions:
 * - `objects`: `ALL` (or `*`) is every table of schema `public`, now and later; `schema.*`
 *   every table of that schema; `schema.table` that table; a bare `table` is `public.table`
 *   (written qualified, so it never reaches a table of the same name in another schema).
 * - `privileges`: table privileges as in `grants`; `ALL` is all of them.
 * - Several entries: the permission model grants one set of table privileges on all its
 *   tables, and `"*"` covers every listed schema. So entries must agree on `database` and on
 *   `privileges`, and whole schemas (`ALL`, `schema.*`) cannot be mixed with single tables of
 *   another schema: what that would mean cannot be said exactly, and a wider grant than
 *   written is never made. Such sets are refused with how to split them (two authorizations).
 * - Messages name the place (`permissions.allow[0].privileges[1]`) and the line, and echo no
 *   value but keys: the parser's own messages quote the source, so they are not passed on.
 * - The `yaml` package is loaded only for text that is not JSON: the plugin's cold start
 *   (Terraform starts it several times per command) should not pay for it.
 */
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { TABLE_PRIVILEGES, type ValidationIssue } from '../types';
import { closest, indexField, issue } from './common';
import { IDENTIFIER_RULE, identifierProblem } from './names';

/** What the YAML form becomes: the JSON form's document, or the issues that stop it. */
export type YamlPermissionsResult = { readonly ok: true; readonly document: Record<string, unknown> } | { readonly ok: false; readonly issues: ValidationIssue[] };

const ENTRY_KEYS = ['database', 'privileges', 'objects'] as const;
const ALL_WORDS = ['ALL', 'ALL PRIVILEGES'];
const ACCEPTED = `${TABLE_PRIVILEGES.join(', ')}, or ALL for all of them`;
const ENTRY_EXAMPLE = 'allow: [{ database: <the target database>, privileges: [SELECT], objects: [ALL] }]';
const OBJECT_RULE = `ALL (every table of schema public), schema.* (every table of a schema), schema.table or table (in public); names: ${IDENTIFIER_RULE}`;
const SPLIT =
  'one authorization grants one set of table privileges on all its tables: put the entries in two adaptive_authorization resources ' +
  '(each applied by its own adaptive_endpoint), or give them the same privileges';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

function yaml(): YamlModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  yamlModule ??= require('yaml') as YamlModule;
  return yamlModule;
}

/** Whether `text` should be read as JSON (the original form) rather than YAML. */
export function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed === '' || /^[{["]/.test(trimmed)) return true;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** Words for the parser's error codes: the codes name the problem without quoting the text. */
const SYNTAX_WORDS: Readonly<Record<string, string>> = {
  BAD_INDENT: 'the indentation is wrong',
  MISSING_CHAR: 'a character is missing (an unclosed bracket or quote?)',
  DUPLICATE_KEY: 'a key is repeated',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block is used as a key',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines',
  TAB_AS_INDENT: 'a tab is used for indentation; indent with spaces',
  UNEXPECTED_TOKEN: 'something unexpected is there',
  BAD_SCALAR_START: 'a value starts with a character that needs quotes',
  MULTIPLE_DOCS: 'there is more than one YAML document',
  MULTIPLE_ANCHORS: 'a node has more than one anchor',
  ALIAS_PROPS: 'an alias has properties',
  BAD_ALIAS: 'an alias is not valid',
  IMPOSSIBLE: 'the text cannot be read',
};

class Reader {
  readonly issues: ValidationIssue[] = [];
  constructor(
    private readonly lines: LineCounter,
    private readonly y: YamlModule,
  ) {}

  line(node: YamlNode | null | undefined): string {
    const offset = node?.range?.[0];
    return offset === undefined ? '' : `(line ${this.lines.linePos(offset).line}) `;
  }

  add(field: string, message: string, node: YamlNode | null | undefined): void {
    // `(line 3) is not ...`: read after the field's name, as the diagnostics put it.
    this.issues.push(issue(field, `${this.line(node)}${message}`));
  }

  /** A non-empty list of strings, or undefined (with issues). */
  strings(node: unknown, field: string, hint: string, parent: YamlNode | null | undefined): { value: string; node: YamlNode }[] | undefined {
    const { isSeq, isScalar } = this.y;
    if (node === undefined || node === null) return void this.add(field, `is missing; ${hint}`, parent);
    if (!isSeq(node)) return void this.add(field, `must be a list; ${hint}`, node as YamlNode);
    if (node.items.length === 0) return void this.add(field, `is empty; ${hint}`, node);
    const out: { value: string; node: YamlNode }[] = [];
    node.items.forEach((item, index) => {
      if (isScalar(item) && typeof item.value === 'string') out.push({ value: item.value, node: item });
      else this.add(indexField(field, index), `must be a word, not a number, list or map; ${hint}`, item as YamlNode);
    });
    return out.length === node.items.length ? out : undefined;
  }
}

/** One entry of `allow`, read. */
interface Entry {
  readonly index: number;
  readonly database: string;
  readonly privileges: string[];
  /** Whole schemas (`ALL`, `schema.*`). */
  readonly wholeSchemas: string[];
  /** Single tables, as `[schema, table]`. */
  readonly tables: [string, string][];
  readonly node: YamlNode;
}

function privilegeWords(value: string): string[] | string {
  const upper = value.trim().toUpperCase();
  if (ALL_WORDS.includes(upper)) return [...TABLE_PRIVILEGES];
  if ((TABLE_PRIVILEGES as readonly string[]).includes(upper)) return [upper];
  const guess = closest(upper, [...TABLE_PRIVILEGES]);
  return `is not a table privilege${guess === undefined ? '' : ` (did you mean ${guess}?)`}; accepted: ${ACCEPTED}`;
}

/** `[schema, table]`, `[schema, '*']`, or a problem. */
function objectParts(value: string): [string, string] | string {
  const trimmed = value.trim();
  if (trimmed.toUpperCase() === 'ALL' || trimmed === '*') return ['public', '*'];
  const parts = trimmed.split('.');
  if (parts.length > 2) return `has more than one '.'; an object is ${OBJECT_RULE}`;
  const [schema, table] = parts.length === 2 ? (parts as [string, string]) : ['public', trimmed];
  if (identifierProblem(schema) !== undefined) return `has a schema part that is not a valid name; an object is ${OBJECT_RULE}`;
  if (/^(?:pg_.*|information_schema)$/.test(schema)) return 'names a system schema; grants on the system catalogs are not allowed, list your own schemas';
  if (table !== '*' && identifierProblem(table) !== undefined) return `has a table part that is not a valid name; an object is ${OBJECT_RULE}`;
  return [schema, table];
}

function readEntry(r: Reader, y: YamlModule, node: unknown, index: number, field: string): Entry | undefined {
  const at = indexField(`${field}.allow`, index);
  if (!y.isMap(node)) return void r.add(at, `must be a map; write ${ENTRY_EXAMPLE}`, node as YamlNode);
  let ok = true;
  for (const pair of node.items) {
    const key = y.isScalar(pair.key) ? String(pair.key.value) : '';
    if (!(ENTRY_KEYS as readonly string[]).includes(key)) {
      const guess = closest(key, ENTRY_KEYS);
      r.add(`${at}.${key}`, `is not an allow entry key${guess === undefined ? '' : ` (did you mean ${guess}?)`}; accepted: ${ENTRY_KEYS.join(', ')}`, pair.key as YamlNode);
      ok = false;
    }
  }
  const databaseNode = node.get('database', true);
  let database = '';
  if (y.isScalar(databaseNode) && typeof databaseNode.value === 'string' && databaseNode.value.trim() !== '') database = databaseNode.value;
  else {
    r.add(`${at}.database`, `${databaseNode === undefined ? 'is missing' : 'must be a database name'}; write the target's database, e.g. database: production`, databaseNode ?? node);
    ok = false;
  }
  const privileges: string[] = [];
  const privilegeItems = r.strings(node.get('privileges', true), `${at}.privileges`, `list table privileges, e.g. privileges: [SELECT]; accepted: ${ACCEPTED}`, node);
  privilegeItems?.forEach(({ value, node: item }, i) => {
    const words = privilegeWords(value);
    if (typeof words === 'string') r.add(indexField(`${at}.privileges`, i), words, item);
    else privileges.push(...words);
  });
  const wholeSchemas: string[] = [];
  const tables: [string, string][] = [];
  const objectItems = r.strings(node.get('objects', true), `${at}.objects`, `list tables, e.g. objects: [ALL]; an object is ${OBJECT_RULE}`, node);
  objectItems?.forEach(({ value, node: item }, i) => {
    const parts = objectParts(value);
    if (typeof parts === 'string') r.add(indexField(`${at}.objects`, i), parts, item);
    else if (parts[1] === '*') wholeSchemas.push(parts[0]);
    else tables.push(parts);
  });
  if (!ok || privilegeItems === undefined || objectItems === undefined || privileges.length === 0 || objectItems.length !== wholeSchemas.length + tables.length) return undefined;
  return { index, database, privileges: [...new Set(privileges)], wholeSchemas, tables, node };
}

/** The entries as one permission set, or issues saying why they cannot be one. */
function merge(r: Reader, entries: readonly Entry[], field: string): Record<string, unknown> | undefined {
  const [first] = entries;
  if (first === undefined) return undefined;
  const privilegeText = (e: Entry): string => TABLE_PRIVILEGES.filter((p) => e.privileges.includes(p)).join(', ');
  for (const e of entries.slice(1)) {
    if (e.database !== first.database) {
      r.add(`${field}.allow[${e.index}].database`, `names another database than allow[0]; an authorization is for one database: split the entries into two adaptive_authorization resources`, e.node);
    }
    if (privilegeText(e) !== privilegeText(first)) {
      r.add(`${field}.allow[${e.index}].privileges`, `grants ${privilegeText(e)} where allow[0] grants ${privilegeText(first)}; ${SPLIT}`, e.node);
    }
  }
  const whole = new Set(entries.flatMap((e) => e.wholeSchemas));
  const tables = entries.flatMap((e) => e.tables);
  if (whole.size > 0) {
    for (const e of entries) {
      if (e.tables.some(([schema]) => !whole.has(schema))) {
        r.add(
          `${field}.allow[${e.index}].objects`,
          `names single tables of a schema while whole schemas (ALL or schema.*) are granted too; "every table" covers every schema of an authorization, ` +
            'so write schema.* for that schema as well, or put the single tables in an adaptive_authorization of their own',
          e.node,
        );
      }
    }
  }
  if (r.issues.length > 0) return undefined;
  const schemas = whole.size > 0 ? [...whole] : [...new Set(tables.map(([schema]) => schema))];
  return {
    database: first.database,
    grants: first.privileges,
    schemas,
    tables: whole.size > 0 ? ['*'] : tables.map(([schema, table]) => `${schema}.${table}`),
  };
}

/** Reads the YAML form of `permissions` into the JSON form's document. */
export function yamlPermissionsDocument(text: string, field: string): YamlPermissionsResult {
  const y = yaml();
  const lines = new y.LineCounter();
  const doc: Document.Parsed = y.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(lines, y);
  const [syntax] = doc.errors;
  if (syntax !== undefined) {
    const line = lines.linePos(syntax.pos[0]).line;
    const what = SYNTAX_WORDS[syntax.code] ?? 'the text is not valid YAML';
    return { ok: false, issues: [issue(field, `is neither JSON nor valid YAML: at line ${line}, ${what}; write JSON (jsonencode) or YAML starting with allow:`)] };
  }
  const root = doc.contents;
  if (!y.isMap(root)) {
    return { ok: false, issues: [issue(field, `must be a JSON object or YAML starting with allow:; write jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] }) or ${ENTRY_EXAMPLE}`)] };
  }
  for (const pair of root.items) {
    const key = y.isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'allow') {
      r.add(`${field}.${key}`, `is not a permissions key in the YAML form${closest(key, ['allow']) === undefined ? '' : ' (did you mean allow?)'}; the YAML form is ${ENTRY_EXAMPLE}`, pair.key);
    }
  }
  const allow = root.get('allow', true);
  if (!y.isSeq(allow) || allow.items.length === 0) {
    r.add(`${field}.allow`, `${allow === undefined ? 'is missing' : 'must be a non-empty list'}; write ${ENTRY_EXAMPLE}`, allow ?? root);
    return { ok: false, issues: r.issues };
  }
  const entries = allow.items.map((item, index) => readEntry(r, y, item, index, field));
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  const document = merge(r, entries as Entry[], field);
  return document === undefined ? { ok: false, issues: r.issues } : { ok: true, document };
}
