/**
 * The docs generator with a provider that has ephemeral resources and write-only
 * attributes (the toy provider; the adaptive provider has none yet): one page per
 * ephemeral resource under docs/ephemeral-resources/, from its template and schema, and
 * write-only attributes flagged in every schema section.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDocs } from '../../scripts/gen-docs';
import { toyProvider } from '../provider/toy/provider';
import { tempDir } from '../provider/support';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const TEMPLATE = '# {{ typeName }}\n\n{{ description }}\n\n{{ schema }}\n';

/** A repository root with a minimal template for each of the toy's pages, but those left out. */
function templatesRoot(without: readonly string[] = []): string {
  const root = tempDir('toy-docs-');
  roots.push(root);
  for (const relative of ['index.md.tmpl', 'resources/file.md.tmpl', 'resources/account.md.tmpl', 'ephemeral-resources/token.md.tmpl']) {
    if (without.includes(relative)) continue;
    const full = path.join(root, 'docs-templates', relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, TEMPLATE);
  }
  return root;
}

describe('docs for ephemeral resources', () => {
  it('renders each ephemeral resource into docs/ephemeral-resources/ and flags write-only attributes', () => {
    const pages = renderDocs(templatesRoot(), toyProvider());
    expect([...pages.keys()]).toEqual(['docs/ephemeral-resources/token.md', 'docs/index.md', 'docs/resources/account.md', 'docs/resources/file.md']);
    const token = pages.get('docs/ephemeral-resources/token.md') ?? '';
    expect(token).toContain('page_title: "toy_token Ephemeral Resource - toy"');
    expect(token).toContain('# toy_token');
    expect(token).toMatch(/### Required\n\n- `name` \(String\) Name recorded with each event\./);
    expect(token).toMatch(/### Read-Only\n\n- `value` \(String, Sensitive\) The token\./);
    expect(pages.get('docs/resources/account.md')).toContain('- `password_wo` (String, Sensitive, Write-only) Password: applied, never stored in state.');
  });

  it('requires a template for every ephemeral resource, and an ephemeral resource for every template', () => {
    expect(() => renderDocs(templatesRoot(['ephemeral-resources/token.md.tmpl']), toyProvider())).toThrow(
      'toy_token has no documentation template: write docs-templates/ephemeral-resources/token.md.tmpl',
    );
    const extra = templatesRoot();
    writeFileSync(path.join(extra, 'docs-templates', 'ephemeral-resources', 'gone.md.tmpl'), TEMPLATE);
    expect(() => renderDocs(extra, toyProvider())).toThrow('templates for ephemeral-resources the provider does not have: docs-templates/ephemeral-resources/gone.md.tmpl');
  });
});
