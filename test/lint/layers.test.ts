/**
 * The layer rules of eslint.layers.mjs hold: an import that breaks one is a lint error, and
 * the imports each layer may make are not. Fixture sources are linted as if they lived at
 * the given path in src/ (nothing is written there), with the layer rules alone and no type
 * information, so this stays fast; the last test checks that `npm run lint` applies them.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module without types
import { layers, sizes } from '../../eslint.layers.mjs';

const root = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, layers as object],
});

/** The boundaries errors a source with `imports` gets at `file`. */
async function layerErrors(file: string, ...imports: string[]): Promise<string[]> {
  const source = imports.map((specifier, i) => `import * as m${i} from '${specifier}';\n`).join('') + `export const all = [${imports.map((_, i) => `m${i}`).join(', ')}];\n`;
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  const messages = result?.messages ?? [];
  // A fixture that does not parse or resolve would prove nothing.
  expect(messages.filter((m) => m.ruleId !== 'boundaries/dependencies')).toEqual([]);
  return messages.map((m) => m.message);
}

describe('the layer rules (eslint-plugin-boundaries)', () => {
  it.each([
    ['src/provider/example.ts', '../resources', /to elements of type "resources" are not allowed in elements of type "provider"/],
    ['src/provider/example.ts', '../runtime/secret-registry', /of type "runtime" are not allowed in elements of type "provider"/],
    ['src/provider/example.ts', '../plugin/provider', /to elements of type "plugin" are not allowed in elements of type "provider"/],
    ['src/resources/example.ts', '../runtime/catalog', /to elements of type "runtime-catalog" are not allowed in elements of type "resources"/],
    ['src/resources/example.ts', '../runtime/secret-registry', /to file .* of type "runtime" are not allowed in elements of type "resources"/],
    ['src/cli/example.ts', '../runtime/connections', /to elements of type "runtime-connections" are not allowed in elements of type "cli"/],
    ['src/demo/example.ts', '../runtime/service', /to elements of type "runtime-service" are not allowed in elements of type "demo"/],
    ['src/demo/example.ts', '../runtime/types', /of type "runtime" are not allowed in elements of type "demo"/],
    ['src/plugin/example.ts', '../runtime/secret-registry', /of type "runtime" are not allowed in elements of type "plugin"/],
    ['src/terminal/example.ts', '../runtime/catalog', /to elements of type "runtime-catalog" are not allowed in elements of type "terminal"/],
    ['src/runtime/access/example.ts', '../service', /to elements of type "runtime-service" are not allowed in elements of type "runtime-access"/],
    ['src/runtime/example.ts', '../provider', /to elements of type "provider" are not allowed in .*elements of type "runtime"/],
    ['src/runtime/validation/example.ts', '../connections/tls', /to elements of type "runtime-connections" are not allowed in elements of type "runtime-validation"/],
    ['src/runtime/validation/example.ts', '../secret-registry', /of type "runtime" are not allowed in elements of type "runtime-validation"/],
    ['src/runtime/connections/example.ts', '../catalog', /to elements of type "runtime-catalog" are not allowed in elements of type "runtime-connections"/],
    ['src/runtime/catalog/example.ts', '../access/reaper', /to elements of type "runtime-access" are not allowed in elements of type "runtime-catalog"/],
    ['src/runtime/delivery/example.ts', '../catalog', /to elements of type "runtime-catalog" are not allowed in elements of type "runtime-delivery"/],
    ['src/runtime/access/example.ts', '../delivery/secrets-manager', /to elements of type "runtime-delivery" are not allowed in elements of type "runtime-access"/],
    ['src/resources/example.ts', '../runtime/delivery/secrets-manager', /to elements of type "runtime-delivery" are not allowed in elements of type "resources"/],
    ['src/cli/example.ts', '../demo', /to elements of type "demo" are not allowed in .*elements of type "cli"/],
    ['src/demo/example.ts', '../cli/args', /to elements of type "cli" are not allowed in elements of type "demo"/],
    ['src/cli/example.ts', '../localpg', /to elements of type "localpg" are not allowed in .*elements of type "cli"/],
    ['src/constructs/example.ts', '../provider', /to elements of type "provider" are not allowed in elements of type "constructs"/],
    ['src/terminal/example.ts', '../install', /to elements of type "install" are not allowed in elements of type "terminal"/],
    ['src/localpg/example.ts', '../terminal/output', /to elements of type "terminal" are not allowed in elements of type "localpg"/],
    ['src/terraform/example.ts', '../localpg', /to elements of type "localpg" are not allowed in elements of type "terraform"/],
    ['src/install/example.ts', '../provider', /to elements of type "provider" are not allowed in elements of type "install"/],
  ])('%s importing %s is an error', async (file, specifier, message) => {
    const errors = await layerErrors(file, specifier);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ['src/plugin/example.ts', '../resources', '../provider', '../install/version', '../runtime'],
    ['src/terminal/example.ts', '../runtime', './output'],
    ['src/provider/example.ts', './schema', './values'],
    ['src/resources/example.ts', '../provider', '../runtime', '../runtime/validation/ttl'],
    ['src/runtime/validation/example.ts', '../types', './common'],
    ['src/runtime/catalog/example.ts', '../connections', '../validation/permissions', '../types'],
    ['src/runtime/example.ts', './access/reaper', './catalog', './connections'],
    ['src/runtime/delivery/example.ts', '../errors', '../secret-registry', '../types'],
    ['src/runtime/service/example.ts', '../delivery/secrets-manager', '../validation/delivery'],
    ['src/cli/demo.ts', '../demo', '../terminal/output'],
    ['src/cli/example.ts', '../runtime', '../install', '../terminal/errors', './args'],
    ['src/demo/example.ts', '../runtime', '../localpg', '../install', '../terraform', '../terminal/output', '../runtime/validation/ttl'],
    ['src/constructs/example.ts', '../runtime/validation', '../runtime/types'],
    ['src/install/example.ts', '../terminal/errors', './mirror'],
  ])('%s may import %s', async (file, ...imports) => {
    expect(await layerErrors(file, ...imports)).toEqual([]);
  });

  it('npm run lint applies the layer and size rules to src/', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(path.join(root, 'src/provider/index.ts'))) as { rules: Record<string, unknown> };
    expect(config.rules['boundaries/dependencies']).toEqual((layers as { rules: Record<string, unknown> }).rules['boundaries/dependencies']);
    expect(config.rules['max-lines']).toEqual([2, { max: 600, skipBlankLines: true, skipComments: true }]);
    expect(config.rules['max-lines-per-function']).toEqual([2, { max: 80, skipBlankLines: true, skipComments: true }]);
    expect(sizes).toBeDefined();
  });
});
