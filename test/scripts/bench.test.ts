/**
 * `npm run bench` in small (20 members, one run of each command), so the harness cannot
 * rot: it completes (exit 0: every row measured) and its JSON has every row of the table
 * with a number. Nothing here looks at a time or a ratio: speed is reported by the bench
 * (bench/README.md), never asserted.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/report';
import { rowSpecs } from '../../bench/rows/specs';
import { REPO_ROOT } from '../cli/run-cli';
import { scratchDir } from '../fixtures/adaptive';
import { eachPostgres } from '../fixtures/postgres';

const BENCH = path.join(REPO_ROOT, 'bench', 'run.ts');

function runBench(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BENCH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  const scratch = scratchDir('adaptive-bench-');
  afterAll(() => scratch.remove());

  // A dozen Terraform commands on a shared machine: a bound on a hang, not a speed check.
  it('completes and reports every row with a number', { timeout: 400_000 }, async () => {
    const jsonFile = path.join(scratch.dir, `bench-${binaries.major}.json`);
    const run = await runBench(['--members', '20', '--repeat', '1', '--pg', String(binaries.major), '--json', jsonFile]);
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchReport;
    const expected = Object.keys(rowSpecs(20));
    expect(Object.keys(report.rows)).toEqual(expected);
    for (const id of expected) {
      expect(report.rows[id]?.provider, `${id}: ${report.rows[id]?.error ?? ''}`).toEqual(expect.any(Number));
      expect(run.output).toContain(report.rows[id]?.what);
    }
  });
});
