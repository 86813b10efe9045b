/**
 * `npm run bench:terraform` in small (20 members, one run of each command), so the script
 * cannot rot: it completes (exit 0: every row measured) and its JSON and table have every
 * row with a number. Nothing here looks at a time or a ratio: speed is reported
 * (bench/README.md, "Terraform alone"), never asserted. No database: terraform_data only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROWS } from '../../bench/terraform-alone-shapes';
import { scratchDir } from '../fixtures/adaptive';
import { runRepoScript } from './run-script';

const SCRIPT = 'bench/terraform-alone.ts';

interface Report {
  readonly ok: boolean;
  readonly rows: Record<string, { readonly what: string; readonly seconds: number | null; readonly samples: readonly number[]; readonly error?: string }>;
}

describe('npm run bench:terraform', () => {
  const scratch = scratchDir('adaptive-bench-terraform-');
  afterAll(() => scratch.remove());

  // About twenty Terraform commands on a shared machine: a bound on a hang, not a speed check.
  it('completes and reports every row with a number', { timeout: 300_000 }, async () => {
    const jsonFile = path.join(scratch.dir, 'bench-terraform.json');
    const run = await runRepoScript(SCRIPT, ['--members', '20', '--repeat', '1', '--json', jsonFile]);
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
    expect(report.ok).toBe(true);
    expect(Object.keys(report.rows)).toEqual(ROWS.map((r) => r.id));
    for (const row of ROWS) {
      const reported = report.rows[row.id];
      expect(reported?.seconds, `${row.id}: ${reported?.error ?? ''}`).toEqual(expect.any(Number));
      expect(reported?.samples).toHaveLength(1);
      expect(run.output).toContain(row.what(20));
    }
  });

  it('refuses an unknown row to skip with a usage error (exit 2)', async () => {
    const run = await runRepoScript(SCRIPT, ['--skip', 'noSuchRow']);
    expect(run.code).toBe(2);
    expect(run.output).toContain('--skip must name a row');
  });
});
