/**
 * `permissions` written by the constructs is byte for byte what Terraform's `jsonencode`
 * writes for the same object, so moving an authorization between HCL and CDKTF changes
 * nothing in state. Checked against the real terraform binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsJson, terraformJsonEncode, type Permissions } from '../../src/constructs';
import { TerraformDir } from './support';

/** HCL for a value made of strings, lists and objects (the shapes permissions use). */
function hcl(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
  if (Array.isArray(value)) return `[${value.map(hcl).join(', ')}]`;
  return `{ ${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)} = ${hcl(v)}`).join(', ')} }`;
}

const CASES: Record<string, Permissions> = {
  readonly: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] },
  developer: { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] },
  analytics: { grants: ['SELECT', 'INSERT'], schemas: ['analytics'], tables: ['events', 'metrics'] },
  identifiers: { grants: ['ALL'], schemas: ['données', 'app-v2'], tables: ['app-v2.line$items', 'événements'] },
};

/** Beyond permissions: the characters Go's encoder escapes, and key order. */
const ODD: unknown = { zeta: ['<a & b>', '\u2028\u2029', 'quote " backslash \\ tab \t'], alpha: { nested: ['${not.a.reference}', 'é'] } };

describe('jsonencode parity', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-jsonencode-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('matches Terraform for the guide\'s permission sets and odd characters', async () => {
    const values: Record<string, unknown> = { ...CASES, odd: ODD };
    writeFileSync(
      path.join(dir, 'main.tf'),
      Object.entries(values)
        .map(([name, value]) => `output ${JSON.stringify(name)} {\n  value = jsonencode(${hcl(value)})\n}\n`)
        .join('\n'),
    );
    const terraform = new TerraformDir(dir, { mirrorDir: path.join(dir, 'mirror'), configDir: path.join(dir, 'config') });
    await terraform.ok(['apply', '-no-color', '-input=false', '-auto-approve']);
    const outputs = await terraform.outputs();
    for (const [name, permissions] of Object.entries(CASES)) expect(permissionsJson(permissions), name).toBe(outputs[name]?.value);
    expect(terraformJsonEncode(ODD)).toBe(outputs.odd?.value);
  });
});
