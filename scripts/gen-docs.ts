/**
 * Generates the user documentation in the Terraform Registry layout from the provider's own
 * schema and the hand-written templates in docs-templates/:
 *
 *   docs/index.md                 docs-templates/index.md.tmpl + the provider block's schema
 *   docs/resources/<name>.md      docs-templates/resources/<name>.md.tmpl + the resource's schema
 *                                 (`adaptive_group` -> `group.md`, as the Registry names them)
 *   docs/ephemeral-resources/<name>.md
 *                                 docs-templates/ephemeral-resources/<name>.md.tmpl + its schema
 *                                 (only when the provider declares ephemeral resources)
 *   docs/guides/<name>.md         docs-templates/guides/<name>.md.tmpl
 *
 * The schema comes from the provider definition, imported in-process: no Terraform, no
 * network, no database. Output depends only on the schema, the templates and the examples
 * they quote, so running it twice changes nothing the second time.
 *
 * Usage:
 *   tsx scripts/gen-docs.ts           write docs/ and delete generated pages nothing produces any more
 *   tsx scripts/gen-docs.ts --check   write nothing; exit 1 and list the stale pages when docs/ is out of date
 *
 * Templates are Markdown with `{{ directive "argument" ... }}` placeholders; see
 * docs-templates/README.md for the list.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliConfigFor, PROVIDER_SOURCE } from '../src/install/mirror';
import { adaptiveProvider } from '../src/plugin/provider';
import type { Provider } from '../src/provider/resource';
import type { AnyAttribute, Attributes } from '../src/provider/schema';
import type { TfType } from '../src/provider/values';
import { freshProgress, firstAttempt, nextAttempt, type Attempt, type AttemptProgress } from '../src/runtime/connections/tls';
import { SSL_MODES, type SslMode } from '../src/runtime/types';
import { sslModeRefusal } from '../src/runtime/validation/tls-mode';
import { PERMISSIONS_SCHEMA } from '../src/runtime/validation/permissions';

/** The repository root (this file lives in `<root>/scripts`). */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Where the generated pages go, relative to the root. */
export const DOCS_DIR = 'docs';

/** Where the hand-written templates live, relative to the root. */
export const TEMPLATES_DIR = 'docs-templates';

const TEMPLATE_SUFFIX = '.md.tmpl';

// ---------------------------------------------------------------------------------------
// Schema -> Markdown
// ---------------------------------------------------------------------------------------

/** The Registry's file name of a resource page: `adaptive_group` -> `group`. */
export function resourcePageName(typeName: string, providerName = 'adaptive'): string {
  const prefix = `${providerName}_`;
  if (!typeName.startsWith(prefix)) throw new Error(`resource type ${typeName} does not start with ${prefix}`);
  return typeName.slice(prefix.length);
}

/** How the Registry names a type: `String`, `List of String`, `Set of Object`. */
export function typeLabel(type: TfType): string {
  if (typeof type === 'string') return { string: 'String', number: 'Number', bool: 'Boolean' }[type];
  const [kind, inner] = type;
  switch (kind) {
    case 'list':
      return `List of ${typeLabel(inner)}`;
    case 'set':
      return `Set of ${typeLabel(inner)}`;
    case 'map':
      return `Map of ${typeLabel(inner)}`;
    case 'object':
      return 'Object';
  }
}

/** The object type inside an attribute's type (directly, or as the element of a collection). */
function nestedObject(type: TfType): { readonly [name: string]: TfType } | undefined {
  if (typeof type === 'string') return undefined;
  if (type[0] === 'object') return type[1];
  return nestedObject(type[1]);
}

/** A value as HCL would write it, for defaults: `"5432"`, `10`, `true`, `["a"]`. */
export function hclLiteral(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(hclLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{ ${entries.map(([k, v]) => `${k} = ${hclLiteral(v)}`).join(', ')} }`;
  }
  throw new Error(`cannot write ${typeof value} as HCL`);
}

/** The Registry's groups: where an attribute is listed. */
export type AttributeGroup = 'Required' | 'Optional' | 'Read-Only';

/** Which group an attribute belongs in (optional + computed counts as optional). */
export function attributeGroup(attribute: AnyAttribute): AttributeGroup {
  const { required, optional, computed } = attribute.options;
  if (required) return 'Required';
  if (optional) return 'Optional';
  if (computed) return 'Read-Only';
  throw new Error('attribute is neither required, optional nor computed');
}

function anchorFor(pathParts: readonly string[]): string {
  return `nestedatt--${pathParts.join('--')}`;
}

function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One bullet: name, type and flags, description, and a link to a nested schema. */
function attributeLine(name: string, attribute: AnyAttribute, pathParts: readonly string[]): string {
  const { options } = attribute;
  const flags = [typeLabel(attribute.type)];
  if (options.sensitive) flags.push('Sensitive');
  if (options.writeOnly) flags.push('Write-only');
  if (options.default !== undefined) flags.push(`default \`${hclLiteral(options.default)}\``);
  else if (options.optional && options.computed) flags.push('computed when unset');
  if (options.deprecated !== undefined) flags.push('Deprecated');
  let line = `- \`${name}\` (${flags.join(', ')}) ${oneLine(options.description)}`;
  if (options.deprecated !== undefined) line += ` **Deprecated:** ${oneLine(options.deprecated)}`;
  if (nestedObject(attribute.type)) line += ` (see [below for nested schema](#${anchorFor([...pathParts, name])}))`;
  return line;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The nested schema of an object-typed attribute (and of objects inside it). */
function nestedSections(name: string, type: TfType, readOnly: boolean, pathParts: readonly string[]): string[] {
  const object = nestedObject(type);
  if (!object) return [];
  const here = [...pathParts, name];
  const out = [`<a id="${anchorFor(here)}"></a>`, `### Nested Schema for \`${here.join('.')}\``, '', readOnly ? 'Read-Only:' : 'Attributes:', ''];
  const deeper: string[] = [];
  for (const field of sortedNames(Object.keys(object))) {
    const fieldType = object[field] as TfType;
    const link = nestedObject(fieldType) ? ` (see [below for nested schema](#${anchorFor([...here, field])}))` : '';
    out.push(`- \`${field}\` (${typeLabel(fieldType)})${link}`);
    deeper.push(...nestedSections(field, fieldType, readOnly, here));
  }
  out.push('');
  return [...out, ...deeper];
}

/**
 * The `## Schema` section for a block's attributes, as the Registry lays it out: Required,
 * Optional, Read-Only, each alphabetical, then the nested object schemas.
 */
export function schemaMarkdown(attributes: Attributes, heading = '## Schema'): string {
  const groups: Record<AttributeGroup, string[]> = { Required: [], Optional: [], 'Read-Only': [] };
  const nested: string[] = [];
  for (const name of sortedNames(Object.keys(attributes))) {
    const attribute = attributes[name] as AnyAttribute;
    const group = attributeGroup(attribute);
    groups[group].push(attributeLine(name, attribute, []));
    nested.push(...nestedSections(name, attribute.type, group === 'Read-Only', []));
  }
  const out = [heading, ''];
  for (const group of ['Required', 'Optional', 'Read-Only'] as const) {
    if (groups[group].length === 0) continue;
    out.push(`### ${group}`, '', ...groups[group], '');
  }
  out.push(...nested);
  return out.join('\n').trimEnd();
}

// ---------------------------------------------------------------------------------------
// Examples quoted from examples/*/main.tf
// ---------------------------------------------------------------------------------------

/** A top-level HCL block with the comment lines directly above it. */
interface HclBlock {
  /** `resource.adaptive_group.developers`, `output.credentials`, `provider.adaptive`, `terraform`. */
  readonly address: string;
  readonly text: string;
}

/** Splits an HCL file into its top-level blocks (strings and comments understood; heredocs not). */
export function hclBlocks(source: string): HclBlock[] {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  const blocks: HclBlock[] = [];
  let depth = 0;
  let start = -1;
  let address = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (depth === 0) {
      const header = /^([A-Za-z_][A-Za-z0-9_-]*)((?:\s+"[^"]*")*)\s*\{/.exec(line);
      if (header) {
        const labels = Array.from((header[2] ?? '').matchAll(/"([^"]*)"/g), (m) => m[1] ?? '');
        address = [header[1] ?? '', ...labels].join('.');
        start = i;
        // Comment lines directly above the block belong to it.
        while (start > 0 && /^\s*(#|\/\/)/.test(lines[start - 1] as string)) start--;
      }
    }
    depth += braceDelta(line);
    if (depth < 0) throw new Error(`unbalanced braces at line ${i + 1}`);
    if (depth === 0 && start >= 0) {
      blocks.push({ address, text: lines.slice(start, i + 1).join('\n') });
      start = -1;
    }
  }
  if (depth !== 0) throw new Error('unbalanced braces at end of file');
  return blocks;
}

/** Net `{` minus `}` on a line, outside strings and comments. */
function braceDelta(line: string): number {
  let delta = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      // `${...}` inside a string is balanced within the string.
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '#' || (ch === '/' && line[i + 1] === '/')) break;
    else if (ch === '{') delta++;
    else if (ch === '}') delta--;
  }
  return delta;
}

/** A fenced Terraform snippet: the whole file, or the blocks named by address, in that order. */
function exampleSnippet(root: string, file: string, addresses: readonly string[]): string {
  const full = path.join(root, file);
  if (!existsSync(full)) throw new Error(`example ${file} does not exist`);
  const source = readFileSync(full, 'utf8');
  let body: string;
  if (addresses.length === 0) {
    body = source.trim();
  } else {
    const blocks = hclBlocks(source);
    body = addresses
      .map((address) => {
        const block = blocks.find((b) => b.address === address);
        if (!block) throw new Error(`example ${file} has no block ${address} (it has: ${blocks.map((b) => b.address).join(', ')})`);
        return block.text;
      })
      .join('\n\n');
  }
  return '```terraform\n' + body + '\n```';
}

// ---------------------------------------------------------------------------------------
// The sslmode table, from the connection code itself
// ---------------------------------------------------------------------------------------

/** What a mode verifies, or that it is refused (the same rule the plan-time check and the connection code apply). */
function verification(mode: SslMode, hasRoot: boolean): string {
  if (sslModeRefusal(mode, hasRoot) !== undefined) return 'refused (needs `tls_root_cert`)';
  const attempt = tlsAttempt(mode, hasRoot);
  if (!attempt || !attempt.tls) return 'n/a (no TLS)';
  return { none: 'nothing', chain: 'chain', full: 'chain and host name' }[attempt.verify];
}

/** The TLS attempt a mode makes (first, or allow's retry after a rejection). */
function tlsAttempt(mode: SslMode, hasRoot: boolean): Attempt | undefined {
  const first = firstAttempt(mode, hasRoot);
  if (first.tls) return first;
  return nextAttempt(mode, hasRoot, [first], progress({ serverError: true }));
}

function progress(overrides: Partial<AttemptProgress>): AttemptProgress {
  return { ...freshProgress(), ...overrides };
}

/** Failures libpq may retry after: how far the failed attempt got, and how to say it. */
const FAILURES: ReadonlyArray<{ readonly on: 'tls' | 'both'; readonly label: (kind: string) => string; readonly progress: Partial<AttemptProgress> }> = [
  { on: 'tls', label: () => 'the server refuses TLS', progress: { serverRefusedTls: true } },
  { on: 'tls', label: () => 'the TLS handshake fails (certificate checks included)', progress: { tlsStarted: true } },
  {
    on: 'both',
    label: (kind) => `the server rejects the ${kind} connection before authentication completes`,
    progress: { serverError: true },
  },
];

/** What happens after each kind of failure, as libpq's retry rules (tls.ts) decide it. */
function retries(mode: SslMode): string {
  const made: Attempt[] = [firstAttempt(mode, false)];
  const steps: string[] = [];
  for (let guard = 0; guard < 4; guard++) {
    const last = made[made.length - 1] as Attempt;
    let next: Attempt | undefined;
    const triggers: string[] = [];
    for (const failure of FAILURES) {
      if (!last.tls && failure.on === 'tls') continue;
      const reached: Partial<AttemptProgress> = last.tls && failure.progress.serverError ? { tlsStarted: true, tlsHandshakeDone: true } : {};
      const candidate = nextAttempt(mode, false, made, progress({ ...reached, ...failure.progress }));
      if (candidate) {
        triggers.push(failure.label(last.tls ? 'TLS' : 'plain'));
        next = candidate;
      }
    }
    if (!next) break;
    const sameConnection = made.length > 1 && last.tls && !next.tls ? ', on the same connection' : '';
    steps.push(`${made.length === 1 ? 'If' : 'Then, if'} ${joinOr(triggers)}: ${next.tls ? 'TLS' : `plain${sameConnection}`}.`);
    made.push(next);
  }
  return steps.length === 0 ? 'None: a failure is final.' : steps.join(' ');
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] as string}`;
}

function encryption(mode: SslMode): string {
  const first = firstAttempt(mode, false);
  const tlsSomewhere = tlsAttempt(mode, false) !== undefined;
  const fallsBackToPlain = first.tls && nextAttempt(mode, false, [first], progress({ serverRefusedTls: true })) !== undefined;
  if (!tlsSomewhere) return 'never';
  if (!first.tls) return 'only after a rejected plain attempt';
  if (fallsBackToPlain) return 'if the TLS attempt succeeds';
  return 'always';
}

/** The table of the six sslmodes, derived from the connection code (src/runtime/connections/tls.ts). */
export function sslModeTable(): string {
  const rows = [
    '| `ssl_mode` | First attempt | Encrypted | Verified without `tls_root_cert` | Verified with `tls_root_cert` | Retries |',
    '|---|---|---|---|---|---|',
  ];
  for (const mode of SSL_MODES) {
    const first = firstAttempt(mode, false);
    rows.push(
      `| \`${mode}\` | ${first.tls ? 'TLS' : 'plain'} | ${encryption(mode)} | ${verification(mode, false)} | ${verification(mode, true)} | ${retries(mode)} |`,
    );
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------

/** What a template is rendered for. */
interface TemplateContext {
  readonly root: string;
  /** Template path relative to the root, for messages. */
  readonly template: string;
  /** The provider or resource being documented (absent for guides). */
  readonly subject?: { readonly typeName: string; readonly description: string; readonly attributes: Attributes };
}

const DIRECTIVE = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)((?:\s+"(?:[^"\\]|\\.)*")*)\s*\}\}/g;

/** Renders `{{ directive "arg" ... }}` placeholders. Unknown directives and stray braces are errors. */
export function renderTemplate(text: string, context: TemplateContext): string {
  const rendered = text.replace(DIRECTIVE, (match: string, name: string, rawArgs: string, offset: number) => {
    const args = Array.from(rawArgs.matchAll(/"((?:[^"\\]|\\.)*)"/g), (m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
    const where = `${context.template}:${text.slice(0, offset).split('\n').length}`;
    const subject = (): NonNullable<TemplateContext['subject']> => {
      if (!context.subject) throw new Error(`${where}: {{ ${name} }} is only available in provider and resource templates`);
      return context.subject;
    };
    const arity = (min: number, max = min): void => {
      if (args.length < min || args.length > max) throw new Error(`${where}: ${match} takes ${min === max ? min : `${min} to ${max}`} argument(s)`);
    };
    switch (name) {
      case 'typeName':
        arity(0);
        return subject().typeName;
      case 'description':
        arity(0);
        return subject().description;
      case 'schema':
        arity(0, 1);
        return schemaMarkdown(subject().attributes, args[0] ?? '## Schema');
      case 'example':
        arity(1, Infinity);
        return exampleSnippet(context.root, args[0] as string, args.slice(1));
      case 'providerSource':
        arity(0);
        return PROVIDER_SOURCE;
      case 'cliConfig':
        arity(1);
        return '```hcl\n' + cliConfigFor(args[0] as string).trimEnd() + '\n```';
      case 'sslModeTable':
        arity(0);
        return sslModeTable();
      case 'permissionsSchema':
        arity(0);
        return '```json\n' + JSON.stringify(PERMISSIONS_SCHEMA, null, 2) + '\n```';
      default:
        throw new Error(`${where}: unknown directive ${match}`);
    }
  });
  const stray = /\{\{|\}\}/.exec(rendered);
  if (stray) {
    const line = rendered.slice(0, stray.index).split('\n').length;
    throw new Error(`${context.template}: malformed placeholder near rendered line ${line}`);
  }
  return rendered;
}

/** A line in the front matter saying where the page comes from. */
function generatedNote(template: string): string {
  return `# Generated by scripts/gen-docs.ts from ${template} and the provider schema. Edit those, not this file.`;
}

/** Registry front matter for a provider or resource page. */
function frontMatter(pageTitle: string, description: string, template: string): string {
  const body = oneLine(description);
  return ['---', generatedNote(template), `page_title: ${JSON.stringify(pageTitle)}`, 'subcategory: ""', 'description: |-', `  ${body}`, '---', ''].join('\n');
}

/** A guide's own front matter, with the generated note added. */
function guideFrontMatter(text: string, template: string): string {
  if (!text.startsWith('---\n')) throw new Error(`${template}: a guide starts with front matter (---, page_title, subcategory, description, ---)`);
  const end = text.indexOf('\n---\n', 4);
  if (end < 0) throw new Error(`${template}: front matter is not closed with ---`);
  const front = text.slice(4, end);
  for (const key of ['page_title:', 'subcategory:', 'description:']) {
    if (!front.split('\n').some((l) => l.startsWith(key))) throw new Error(`${template}: front matter lacks ${key}`);
  }
  return `---\n${generatedNote(template)}\n${text.slice(4)}`;
}

function readTemplate(root: string, relative: string): string {
  const full = path.join(root, relative);
  if (!existsSync(full)) throw new Error(`missing template ${relative}`);
  return readFileSync(full, 'utf8').replace(/\r\n/g, '\n');
}

function finish(text: string): string {
  // One trailing newline, no trailing spaces, at most one blank line in a row outside code.
  return (
    text
      .split('\n')
      .map((l) => l.replace(/[ \t]+$/, ''))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}

function listTemplates(root: string, dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => f.endsWith(TEMPLATE_SUFFIX))
    .sort();
}

/** The kinds of schema that get a page each: where their templates and pages live. */
interface SchemaPageKind {
  /** Folder under docs-templates/ and docs/. */
  readonly folder: string;
  /** In the front matter's title: `adaptive_group Resource - adaptive`. */
  readonly title: string;
  readonly members: (provider: Provider) => ReadonlyMap<string, { readonly schema: { readonly description: string; readonly attributes: Attributes } }>;
}

const SCHEMA_PAGE_KINDS: readonly SchemaPageKind[] = [
  { folder: 'resources', title: 'Resource', members: (provider) => provider.resources },
  { folder: 'ephemeral-resources', title: 'Ephemeral Resource', members: (provider) => provider.ephemeralResources },
];

/** The pages of one kind: each member's template with its schema. Every member needs a template and every template a member. */
function schemaPages(root: string, provider: Provider, kind: SchemaPageKind): Map<string, string> {
  const pages = new Map<string, string>();
  const templates = new Set(listTemplates(root, `${TEMPLATES_DIR}/${kind.folder}`));
  const members = kind.members(provider);
  for (const typeName of sortedNames(members.keys())) {
    const member = members.get(typeName);
    if (!member) continue;
    const page = resourcePageName(typeName, provider.typeName);
    const file = `${page}${TEMPLATE_SUFFIX}`;
    const template = `${TEMPLATES_DIR}/${kind.folder}/${file}`;
    if (!templates.delete(file)) {
      throw new Error(`${typeName} has no documentation template: write ${template} (start from another ${kind.title.toLowerCase()}'s template)`);
    }
    const { schema } = member;
    const body = renderTemplate(readTemplate(root, template), {
      root,
      template,
      subject: { typeName, description: schema.description, attributes: schema.attributes },
    });
    pages.set(`${DOCS_DIR}/${kind.folder}/${page}.md`, finish(frontMatter(`${typeName} ${kind.title} - ${provider.typeName}`, schema.description, template) + '\n' + body));
  }
  if (templates.size > 0) {
    throw new Error(`templates for ${kind.folder} the provider does not have: ${[...templates].map((f) => `${TEMPLATES_DIR}/${kind.folder}/${f}`).join(', ')}`);
  }
  return pages;
}

/**
 * Renders every page in memory: path relative to the root (posix separators) -> contents.
 * Throws when a resource (or ephemeral resource) has no template, a template has no
 * resource, or a template is malformed. `provider` is the adaptive provider unless a test
 * documents another one.
 */
export function renderDocs(root: string = REPO_ROOT, provider: Provider = adaptiveProvider()): Map<string, string> {
  const pages = new Map<string, string>();

  const indexTemplate = `${TEMPLATES_DIR}/index${TEMPLATE_SUFFIX}`;
  const indexBody = renderTemplate(readTemplate(root, indexTemplate), {
    root,
    template: indexTemplate,
    subject: { typeName: provider.typeName, description: provider.schema.description, attributes: provider.schema.attributes },
  });
  pages.set(`${DOCS_DIR}/index.md`, finish(frontMatter(`${provider.typeName} Provider`, provider.schema.description, indexTemplate) + '\n' + indexBody));

  for (const kind of SCHEMA_PAGE_KINDS) {
    for (const [relative, contents] of schemaPages(root, provider, kind)) pages.set(relative, contents);
  }

  for (const file of listTemplates(root, `${TEMPLATES_DIR}/guides`)) {
    const template = `${TEMPLATES_DIR}/guides/${file}`;
    const body = renderTemplate(readTemplate(root, template), { root, template });
    pages.set(`${DOCS_DIR}/guides/${file.slice(0, -TEMPLATE_SUFFIX.length)}.md`, finish(guideFrontMatter(body, template)));
  }
  return new Map([...pages.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every file under docs/ now, relative to the root. */
function existingDocs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const full = path.join(root, dir);
    if (!existsSync(full)) return;
    for (const entry of readdirSync(full).sort()) {
      const relative = `${dir}/${entry}`;
      if (statSync(path.join(root, relative)).isDirectory()) walk(relative);
      else out.push(relative);
    }
  };
  walk(DOCS_DIR);
  return out;
}

/** What differs between docs/ and a fresh rendering. */
export interface DocsDiff {
  /** Pages missing or with other contents. */
  readonly changed: string[];
  /** Files in docs/ that nothing generates. */
  readonly extra: string[];
}

/** Compares docs/ with `rendered` (default: a fresh rendering). */
export function diffDocs(root: string = REPO_ROOT, rendered: Map<string, string> = renderDocs(root)): DocsDiff {
  const changed: string[] = [];
  for (const [relative, contents] of rendered) {
    const full = path.join(root, relative);
    if (!existsSync(full) || readFileSync(full, 'utf8') !== contents) changed.push(relative);
  }
  const extra = existingDocs(root).filter((f) => !rendered.has(f));
  return { changed, extra };
}

/** Writes the pages that changed and deletes files nothing generates. Returns what it did. */
export function writeDocs(root: string = REPO_ROOT): DocsDiff {
  const rendered = renderDocs(root);
  const diff = diffDocs(root, rendered);
  for (const relative of diff.changed) {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, rendered.get(relative) as string);
  }
  for (const relative of diff.extra) rmSync(path.join(root, relative));
  // Directories left empty by deletions.
  for (const dir of [...SCHEMA_PAGE_KINDS.map((kind) => `${DOCS_DIR}/${kind.folder}`), `${DOCS_DIR}/guides`]) {
    const full = path.join(root, dir);
    if (existsSync(full) && readdirSync(full).length === 0) rmSync(full, { recursive: true });
  }
  return diff;
}

function main(argv: readonly string[]): number {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`usage: tsx scripts/gen-docs.ts [--check]\nunknown argument(s): ${unknown.join(' ')}`);
    return 2;
  }
  if (argv.includes('--check')) {
    const diff = diffDocs();
    const stale = [...diff.changed.map((f) => `out of date: ${f}`), ...diff.extra.map((f) => `not generated: ${f}`)];
    if (stale.length === 0) return 0;
    console.error(`${stale.join('\n')}\nRun: tsx scripts/gen-docs.ts`);
    return 1;
  }
  const diff = writeDocs();
  for (const f of diff.changed) console.log(`wrote ${posix(f)}`);
  for (const f of diff.extra) console.log(`deleted ${posix(f)}`);
  if (diff.changed.length + diff.extra.length === 0) console.log('docs are up to date');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
