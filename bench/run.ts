/**
 * `npm run bench`: the provider measured from outside, each row of the speed issue next to
 * its floor in one run: the installed plugin's start, a no-op plan of the production
 * example, apply / plan / destroy of a group of --members members, a held session ended by
 * `reap --watch`, the plugin's peak RSS and the state file's size. A throwaway cluster,
 * the real terraform and psql; the median of --repeat runs. Prints a table and the JSON
 * (also to --json FILE). --profile DIR writes each plugin process's CPU profile and peak RSS,
 * --trace FILE a plan holding the N members at TF_LOG=trace (bench/README.md). Exit 0 when every row has its number, 1 when one failed, 2 on bad
 * usage. Everything it starts is stopped and removed on exit and on Ctrl-C.
 */
import os from 'node:os';
import { runReportScript } from '../scripts/report-script';
import { parseBenchOptions, USAGE, type BenchOptions } from './options';
import { buildRow, machine, reportTable, type BenchReport, type BenchRow } from './report';
import type { Sampled } from './measure';
import { measureMembers, MEMBER_ROWS } from './rows/members';
import { measureNoopPlan } from './rows/noop-plan';
import { measurePluginStart } from './rows/plugin-start';
import { measureReap } from './rows/reap';
import { rowSpecs } from './rows/specs';
import { BenchWorld } from './world';

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

const errorOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function runBench(options: BenchOptions, signal: AbortSignal): Promise<BenchReport> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const specs = rowSpecs(options.members);
  const rows: Record<string, BenchRow> = {};
  /** Measures one row; a failure becomes the row's error (an interrupt ends the run). */
  const measure = async (id: string, run: () => Promise<Sampled>): Promise<void> => {
    if (signal.aborted) return;
    log(`measuring: ${specs[id]!.what}`);
    try {
      const { samples, floorSamples } = await run();
      rows[id] = buildRow(specs[id]!, samples, floorSamples);
    } catch (err) {
      if (signal.aborted) return;
      rows[id] = buildRow(specs[id]!, [], [], errorOf(err));
    }
  };
  log('installing the provider and starting PostgreSQL');
  const world = await BenchWorld.open(options, signal);
  try {
    await measure('pluginStart', () => measurePluginStart(world, options.repeat));
    await measure('noopPlan', () => measureNoopPlan(world, options.repeat));
    if (!signal.aborted) {
      log(`measuring: a group of ${options.members} members (apply, plan, destroy; ${options.repeat} runs)`);
      try {
        const members = await measureMembers(world, options.members, options.repeat, options.traceFile);
        for (const id of MEMBER_ROWS) {
          const floors = id === 'apply' || id === 'planMany' || id === 'destroy' ? members.floors[id] : [];
          rows[id] = buildRow(specs[id]!, members.samples[id], floors, members.errors[id]);
        }
      } catch (err) {
        if (!signal.aborted) for (const id of MEMBER_ROWS) rows[id] = buildRow(specs[id]!, [], [], errorOf(err));
      }
    }
    await measure('reapSessionEnd', () => measureReap(world, 'one-access', options.repeat));
  } finally {
    log('removing the cluster and the working directories');
    await world.close();
  }
  // Every row in the order, those an interrupt kept from running included.
  const ordered: Record<string, BenchRow> = {};
  for (const [id, spec] of Object.entries(specs)) ordered[id] = rows[id] ?? buildRow(spec, [], [], 'not measured: interrupted');
  return {
    ok: Object.values(ordered).every((r) => r.error === undefined),
    members: options.members,
    repeat: options.repeat,
    postgres: world.postgres,
    pgSettings: options.pgSettings,
    ...(world.profileDir === undefined ? {} : { profileDir: world.profileDir }),
    terraform: world.terraformVersion,
    machine: machine(loadAtStart),
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    interrupted: signal.aborted,
    rows: ordered,
  };
}

runReportScript({ name: 'bench', usage: USAGE, parse: parseBenchOptions, run: runBench, table: reportTable });
