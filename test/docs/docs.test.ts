/**
 * The user documentation (docs/) against the provider schema: generated pages must be up
 * to date, every attribute must be documented with its description, HCL on the pages must
 * match the schema, and links must resolve. Runs in-process: no Terraform, no PostgreSQL.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DOCS_DIR,
  REPO_ROOT,
  attributeGroup,
  diffDocs,
  hclBlocks,
  renderDocs,
  renderTemplate,
  resourcePageName,
  schemaMarkdown,
  sslModeTable,
  typeLabel,
} from '../../scripts/gen-docs';
import { attr } from '../../src/provider/schema';
import { adaptiveProvider } from '../../src/plugin/provider';
import type { AnyAttribute, Attributes } from '../../src/provider/schema';
import { types } from '../../src/provider/values';
import { PROVIDER_SOURCE } from '../../src/install/mirror';
import { CATALOG_KEY_ENV, CATALOG_URL_ENV } from '../../src/runtime/catalog';

const REGENERATE = 'run `npx tsx scripts/gen-docs.ts` and commit docs/';

const provider = adaptiveProvider();

/** Every documented block: the provider (index.md) and each resource (resources/<name>.md). */
const pages: Array<{ readonly label: string; readonly file: string; readonly attributes: Attributes }> = [
  { label: `provider ${provider.typeName}`, file: `${DOCS_DIR}/index.md`, attributes: provider.schema.attributes },
  ...[...provider.resources.values()].map((r) => ({
    label: r.typeName,
    file: `${DOCS_DIR}/resources/${resourcePageName(r.typeName)}.md`,
    attributes: r.definition.schema.attributes,
  })),
];

function read(relative: string): string {
  return readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

function allDocs(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.md')) out.push(relative);
    }
  };
  walk(DOCS_DIR);
  return out.sort();
}

/** The bullet of each attribute in a page's `## Schema` section, with the group it is listed under. */
function documentedAttributes(markdown: string): Map<string, { group: string; line: string }> {
  const lines = markdown.split('\n');
  const start = lines.indexOf('## Schema');
  if (start < 0) throw new Error('no "## Schema" section');
  const found = new Map<string, { group: string; line: string }>();
  let group: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.startsWith('### ')) {
      group = line.startsWith('### Nested Schema') ? undefined : line.slice(4).trim();
      continue;
    }
    const bullet = /^- `([a-z0-9_]+)` \(/.exec(line);
    if (bullet && group !== undefined) {
      const name = bullet[1] as string;
      if (found.has(name)) throw new Error(`attribute ${name} is listed twice`);
      found.set(name, { group, line });
    }
  }
  return found;
}

/** Fenced Terraform/HCL code on a page. */
function hclFences(markdown: string): string[] {
  return Array.from(markdown.matchAll(/```(?:terraform|hcl)\n([\s\S]*?)```/g), (m) => m[1] ?? '');
}

/** The attribute names set at the top level of a block's body (nested blocks' contents excluded). */
function topLevelArguments(blockText: string): string[] {
  const lines = blockText.split('\n');
  const open = lines.findIndex((l) => /\{\s*$/.test(l) && !/^\s*(#|\/\/)/.test(l));
  const names: string[] = [];
  let depth = 1;
  for (const line of lines.slice(open + 1)) {
    if (depth === 1) {
      const m = /^\s*([a-z_][a-z0-9_]*)\s*=/.exec(line);
      if (m) names.push(m[1] as string);
    }
    for (const ch of line.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/#.*$/, '')) {
      if (ch === '{' || ch === '[' || ch === '(') depth++;
      else if (ch === '}' || ch === ']' || ch === ')') depth--;
    }
  }
  return names;
}

describe('generated documentation', () => {
  it('is up to date with the provider schema, the templates and the examples', () => {
    const diff = diffDocs(REPO_ROOT);
    expect(diff.changed, `pages out of date: ${REGENERATE}`).toEqual([]);
    expect(diff.extra, `files in docs/ that nothing generates: ${REGENERATE}`).toEqual([]);
  });

  it('renders the same output every time', () => {
    const first = renderDocs(REPO_ROOT);
    const second = renderDocs(REPO_ROOT);
    expect([...second.entries()]).toEqual([...first.entries()]);
  });

  it('has one page per resource type, named as the Registry names it', () => {
    const expected = [...provider.resources.keys()].map((t) => `${DOCS_DIR}/resources/${resourcePageName(t)}.md`).sort();
    expect(allDocs().filter((f) => f.startsWith(`${DOCS_DIR}/resources/`))).toEqual(expected);
    expect(expected).toEqual(['docs/resources/authorization.md', 'docs/resources/endpoint.md', 'docs/resources/group.md', 'docs/resources/resource.md']);
  });

  it('has the provider overview and the guides', () => {
    for (const file of ['index.md', 'guides/time-limited-access.md', 'guides/tls-modes.md', 'guides/reaper-service.md', 'guides/gitops.md']) {
      expect(existsSync(path.join(REPO_ROOT, DOCS_DIR, file)), file).toBe(true);
    }
  });
});

describe.each(pages)('$label ($file)', ({ file, attributes }) => {
  const markdown = read(file);
  const documented = documentedAttributes(markdown);

  it('gives every attribute a description', () => {
    const undocumented = Object.entries(attributes)
      .filter(([, a]) => a.options.description.trim().length === 0)
      .map(([name]) => name);
    expect(undocumented, 'attributes without a description in the schema').toEqual([]);
  });

  it.each(Object.keys(attributes).sort())('documents `%s` with its group, type, flags and description', (name) => {
    const attribute = attributes[name] as AnyAttribute;
    const entry = documented.get(name);
    expect(entry, `${name} is missing from the Schema section of ${file}: ${REGENERATE}`).toBeDefined();
    if (!entry) return;
    expect(entry.group).toBe(attributeGroup(attribute));
    expect(entry.line).toContain(`(${typeLabel(attribute.type)}`);
    expect(entry.line).toContain(attribute.options.description.replace(/\s*\n\s*/g, ' ').trim());
    expect(/\([^)]*\bSensitive\b/.test(entry.line)).toBe(attribute.options.sensitive === true);
    if (attribute.options.default !== undefined) expect(entry.line).toContain(`default \`${JSON.stringify(attribute.options.default)}\``);
  });

  it('lists no attribute the schema does not have', () => {
    expect([...documented.keys()].filter((n) => !(n in attributes))).toEqual([]);
  });

  it('has front matter the Registry reads', () => {
    expect(markdown).toMatch(/^---\n(?:#[^\n]*\n)?page_title: "[^"]+"\nsubcategory: ""\ndescription: \|-\n {2}\S[^\n]*\n---\n/);
  });
});

describe('HCL on the pages', () => {
  const schemas = new Map<string, Attributes>([...provider.resources.values()].map((r) => [r.typeName, r.definition.schema.attributes]));

  it.each(allDocs())('%s sets only attributes the schema has, and every required one', (file) => {
    const problems: string[] = [];
    for (const fence of hclFences(read(file))) {
      let blocks;
      try {
        blocks = hclBlocks(fence);
      } catch (err) {
        problems.push(`unparsable HCL (${String(err)}):\n${fence}`);
        continue;
      }
      for (const block of blocks) {
        const [kind, type] = block.address.split('.');
        let attributes: Attributes | undefined;
        if (kind === 'resource' && type?.startsWith('adaptive_')) {
          attributes = schemas.get(type);
          if (!attributes) {
            problems.push(`resource type ${type} does not exist`);
            continue;
          }
        } else if (kind === 'provider' && type === provider.typeName) {
          attributes = provider.schema.attributes;
        } else {
          continue;
        }
        const set = topLevelArguments(block.text);
        for (const name of set) {
          const a = attributes[name];
          if (!a) problems.push(`${block.address}: unknown attribute ${name}`);
          else if (!a.options.required && !a.options.optional) problems.push(`${block.address}: ${name} is read-only`);
        }
        if (kind === 'resource') {
          for (const [name, a] of Object.entries(attributes)) {
            if (a.options.required && !set.includes(name)) problems.push(`${block.address}: required attribute ${name} is not set`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(allDocs())('%s refers only to attributes that exist', (file) => {
    const text = read(file);
    const problems: string[] = [];
    for (const m of text.matchAll(/\b(adaptive_(?:resource|authorization|endpoint|group))\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)/g)) {
      const [, type, , attribute] = m;
      const attributes = schemas.get(type as string);
      if (!attributes) problems.push(`${m[0]}: no resource type ${type}`);
      else if (!((attribute as string) in attributes)) problems.push(`${m[0]}: ${type} has no attribute ${attribute}`);
    }
    for (const m of text.matchAll(/\bto\s*=\s*(adaptive_[a-z_]+)\./g)) {
      if (!schemas.has(m[1] as string)) problems.push(`import block for unknown type ${m[1]}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('links and facts', () => {
  it.each(allDocs())('%s links only to pages and anchors that exist', (file) => {
    const text = read(file);
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (/^[a-z]+:/.test(target)) continue;
      const [pagePart, anchor] = target.split('#');
      const page = pagePart ? path.posix.normalize(path.posix.join(path.posix.dirname(file), pagePart)) : file;
      if (!existsSync(path.join(REPO_ROOT, page))) {
        broken.push(target);
        continue;
      }
      if (anchor) {
        const body = read(page);
        const headings = Array.from(body.matchAll(/^#+ (.+)$/gm), (h) =>
          (h[1] as string)
            .toLowerCase()
            .replace(/[^\w\s-]/g, '')
            .trim()
            .replace(/\s/g, '-'),
        );
        const ids = Array.from(body.matchAll(/<a id="([^"]+)"><\/a>/g), (a) => a[1] as string);
        if (!headings.includes(anchor) && !ids.includes(anchor)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the overview names the provider source and the catalog variables the code uses', () => {
    const index = read(`${DOCS_DIR}/index.md`);
    expect(index).toContain(`source = "${PROVIDER_SOURCE}"`);
    expect(index).toContain(CATALOG_URL_ENV);
    expect(index).toContain(CATALOG_KEY_ENV);
    expect(index).toContain('adaptive-access install');
  });

  it('the import sections show the import command for each resource type', () => {
    for (const type of provider.resources.keys()) {
      const page = read(`${DOCS_DIR}/resources/${resourcePageName(type)}.md`);
      expect(page).toMatch(new RegExp(`^## Import$`, 'm'));
      expect(page).toMatch(new RegExp(`terraform import ${type}\\.[a-z_]+ \\S+`));
    }
    expect(read(`${DOCS_DIR}/resources/group.md`)).toMatch(/empty\s+`password`/);
  });

  it('the TLS guide carries the table derived from the connection code', () => {
    expect(read(`${DOCS_DIR}/guides/tls-modes.md`)).toContain(sslModeTable());
  });
});

describe('generator pieces', () => {
  it('lays out a schema as the Registry does', () => {
    const attributes = {
      id: attr.string({ computed: true, description: 'Identifier.' }),
      name: attr.string({ required: true, description: 'Name.' }),
      secret: attr.string({ optional: true, sensitive: true, description: 'Secret.' }),
      mode: attr.string({ optional: true, computed: true, default: 'rw', description: 'Mode.' }),
      tags: attr.set(types.string, { optional: true, description: 'Tags.', deprecated: 'Use labels.' }),
      items: attr.list(types.object({ a: types.string, b: types.number }), { computed: true, sensitive: true, description: 'Items.' }),
    } as const;
    expect(schemaMarkdown(attributes)).toBe(
      [
        '## Schema',
        '',
        '### Required',
        '',
        '- `name` (String) Name.',
        '',
        '### Optional',
        '',
        '- `mode` (String, default `"rw"`) Mode.',
        '- `secret` (String, Sensitive) Secret.',
        '- `tags` (Set of String, Deprecated) Tags. **Deprecated:** Use labels.',
        '',
        '### Read-Only',
        '',
        '- `id` (String) Identifier.',
        '- `items` (List of Object, Sensitive) Items. (see [below for nested schema](#nestedatt--items))',
        '',
        '<a id="nestedatt--items"></a>',
        '### Nested Schema for `items`',
        '',
        'Read-Only:',
        '',
        '- `a` (String)',
        '- `b` (Number)',
      ].join('\n'),
    );
  });

  it('quotes HCL blocks with their comments, past braces in strings and comments', () => {
    const source = [
      'terraform {',
      '  required_providers {}',
      '}',
      '',
      '# The target',
      'resource "adaptive_resource" "a" {',
      '  tls_root_cert = file("${path.module}/ca.pem") # { not a brace',
      '  name = "}"',
      '}',
      'output "x" {',
      '  value = { a = 1 }',
      '}',
    ].join('\n');
    const blocks = hclBlocks(source);
    expect(blocks.map((b) => b.address)).toEqual(['terraform', 'resource.adaptive_resource.a', 'output.x']);
    expect(blocks[1]?.text.split('\n')[0]).toBe('# The target');
    expect(blocks[1]?.text.split('\n')).toHaveLength(5);
  });

  it('refuses unknown placeholders and examples that do not exist', () => {
    const context = { root: REPO_ROOT, template: 't.md.tmpl' };
    expect(() => renderTemplate('{{ nope }}', context)).toThrow(/unknown directive/);
    expect(() => renderTemplate('{{ example "examples/none/main.tf" }}', context)).toThrow(/does not exist/);
    expect(() => renderTemplate('{{ example "examples/basic/main.tf" "resource.adaptive_group.none" }}', context)).toThrow(/has no block/);
    expect(() => renderTemplate('{{ schema }}', context)).toThrow(/only available/);
  });

  it('derives the sslmode table from libpq semantics as the connection code implements them', () => {
    const rows = new Map(
      sslModeTable()
        .split('\n')
        .slice(2)
        .map((row) => {
          const cells = row.split('|').map((c) => c.trim());
          return [cells[1]?.replace(/`/g, ''), cells.slice(2, 7)] as const;
        }),
    );
    expect(rows.get('disable')?.slice(0, 2)).toEqual(['plain', 'never']);
    expect(rows.get('allow')?.[0]).toBe('plain');
    expect(rows.get('allow')?.[4]).toMatch(/^If the server rejects the plain connection .*: TLS\. Then, if the server refuses TLS: plain, on the same connection\.$/);
    expect(rows.get('prefer')?.[4]).toMatch(/refuses TLS.*handshake fails.*: plain\.$/);
    expect(rows.get('require')?.slice(1, 4)).toEqual(['always', 'nothing', 'chain']);
    // verify-ca without a root certificate is refused (libpq refuses sslrootcert=system with it).
    expect(rows.get('verify-ca')?.slice(2, 4)).toEqual(['refused (needs `tls_root_cert`)', 'chain']);
    expect(rows.get('verify-full')?.slice(2, 4)).toEqual(['chain and host name', 'chain and host name']);
  });
});
