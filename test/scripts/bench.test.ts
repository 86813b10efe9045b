/**
 * `npm run bench` in small (20 members, one run of each command), so the harness cannot
 * rot: it completes (exit 0: every row measured) and its JSON has every row of the table
 * with a number. Nothing here looks at a time or a ratio: speed is reported by the bench
 * (bench/README.md), never asserted. On PostgreSQL 18 it runs with --profile and --trace, so
 * those stay working too: each plugin process leaves a CPU profile and its peak RSS, and
 * the traced plan's log shows the plugin planning.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/report';
import { rowSpecs } from '../../bench/rows/specs';
import { scratchDir } from '../fixtures/adaptive';
import { eachPostgres } from '../fixtures/postgres';
import { runRepoScript } from './run-script';


describe.each(eachPostgres())('$name', ({ binaries }) => {
  const scratch = scratchDir('adaptive-bench-');
  afterAll(() => scratch.remove());

  // A dozen Terraform commands on a shared machine: a bound on a hang, not a speed check.
  it('completes and reports every row with a number', { timeout: 400_000 }, async () => {
    const jsonFile = path.join(scratch.dir, `bench-${binaries.major}.json`);
    const profiled = binaries.major === 18;
    const profileDir = path.join(scratch.dir, `profiles-${binaries.major}`);
    const traceFile = path.join(scratch.dir, `trace-${binaries.major}.log`);
    const run = await runRepoScript('bench/run.ts', [
      ...['--members', '20', '--repeat', '1', '--pg', String(binaries.major), '--json', jsonFile],
      ...(profiled ? ['--profile', profileDir, '--trace', traceFile] : []),
    ]);
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchReport;
    if (profiled) {
      expect(report.profileDir).toBe(profileDir);
      expect(run.output).toContain(`Profiling on (profiles in ${profileDir})`);
      const files = readdirSync(profileDir);
      const profiles = files.filter((f) => f.endsWith('.cpuprofile'));
      // Every plugin process of every Terraform command: far more than a handful.
      expect(profiles.length).toBeGreaterThan(5);
      expect(files.filter((f) => f.endsWith('.rss'))).toHaveLength(profiles.length);
      const profile = JSON.parse(readFileSync(path.join(profileDir, profiles[0]!), 'utf8')) as { nodes: Array<{ callFrame: { functionName: string } }> };
      expect(profile.nodes.length).toBeGreaterThan(0);
      // Unminified: the profiles name the provider's own functions. requireWithCodeCache is on the
      // stack while a process runs its server part's module bodies (tens of 1 ms samples each).
      const names = profiles.flatMap((f) => (JSON.parse(readFileSync(path.join(profileDir, f), 'utf8')) as typeof profile).nodes.map((n) => n.callFrame.functionName));
      expect(names.some((name) => /^requireWithCodeCache\d*$/.test(name))).toBe(true);
      expect(readFileSync(traceFile, 'utf8')).toMatch(/PlanResourceChange/);
    } else {
      expect(report.profileDir).toBeUndefined();
    }
    const expected = Object.keys(rowSpecs(20));
    expect(Object.keys(report.rows)).toEqual(expected);
    for (const id of expected) {
      expect(report.rows[id]?.provider, `${id}: ${report.rows[id]?.error ?? ''}`).toEqual(expect.any(Number));
      expect(run.output).toContain(report.rows[id]?.what);
    }
  });
});
