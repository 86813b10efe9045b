/**
 * The generated bindings in src/constructs/generated: they must be what `npm run gen`
 * produces from the provider's current schema (a schema change without regenerating fails
 * here), generation must depend on nothing but the schema, and syncing an unchanged
 * schema must touch no file.
 */
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareTrees,
  freshBindings,
  GENERATED_DIR,
  readProviderSchema,
  readTree,
  SCHEMA_FILE,
  syncTree,
  type ProviderSchemaJson,
} from '../../scripts/gen-bindings';

describe('generated bindings', () => {
  let schema: ProviderSchemaJson;
  let fresh: Map<string, string>;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-bindings-test-'));
    schema = await readProviderSchema();
    fresh = await freshBindings(schema);
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('cover the provider and the four resource types', () => {
    expect(Object.keys(schema.provider_schemas ?? {})).toEqual(['adaptive-access.local/access/adaptive']);
    for (const kind of ['provider', 'resource', 'authorization', 'endpoint', 'group']) {
      expect(fresh.has(`providers/adaptive/${kind}/index.ts`)).toBe(true);
    }
    expect(fresh.has(SCHEMA_FILE)).toBe(true);
  });

  it('are up to date with the provider schema (run `npm run gen` when this fails)', () => {
    const diff = compareTrees(fresh, readTree(GENERATED_DIR));
    expect(diff, 'src/constructs/generated differs from what `npm run gen` writes for the current schema').toEqual({ missing: [], extra: [], changed: [] });
  });

  it('depend on nothing but the schema: two runs in different places give the same files', async () => {
    const again = await freshBindings(schema);
    expect(compareTrees(fresh, again)).toEqual({ missing: [], extra: [], changed: [] });
    const text = [...fresh.values()].join('\n');
    expect(text).not.toContain(os.tmpdir());
    expect(text).not.toContain(path.resolve(__dirname, '..', '..'));
    expect(text).not.toMatch(/\b20\d\d-\d\d-\d\dT\d\d:\d\d/);
  });

  it('are left untouched when synced again from an unchanged schema', () => {
    const copy = path.join(scratch, 'generated');
    cpSync(GENERATED_DIR, copy, { recursive: true });
    // The first sync brings the copy in line (nothing to do when the committed tree is current).
    syncTree(fresh, copy);
    const mtimes = new Map([...readTree(copy).keys()].map((file) => [file, statSync(path.join(copy, file)).mtimeMs]));
    expect(syncTree(fresh, copy)).toEqual({ written: [], removed: [] });
    for (const [file, mtime] of mtimes) expect(statSync(path.join(copy, file)).mtimeMs, file).toBe(mtime);
  });

  it('are brought in line when the schema changed: changed files rewritten, stale ones removed', () => {
    const copy = path.join(scratch, 'drifted');
    cpSync(GENERATED_DIR, copy, { recursive: true });
    const stale = new Map(fresh);
    stale.delete('providers/adaptive/group/README.md');
    stale.set('providers/adaptive/endpoint/index.ts', `${fresh.get('providers/adaptive/endpoint/index.ts') ?? ''}\n// changed\n`);
    stale.set('providers/adaptive/extra/index.ts', '// a resource type that no longer exists\n');
    syncTree(stale, copy);
    expect(syncTree(fresh, copy)).toEqual({
      written: ['providers/adaptive/endpoint/index.ts', 'providers/adaptive/group/README.md'],
      removed: ['providers/adaptive/extra/index.ts'],
    });
    expect(compareTrees(fresh, readTree(copy))).toEqual({ missing: [], extra: [], changed: [] });
  });
});
