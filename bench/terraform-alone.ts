/**
 * `npm run bench:terraform`: what Terraform itself costs for the values a group of N members
 * puts in its hands, with no provider at all: a `terraform_data` holding N emails (as a set,
 * as a list) or N credential objects (as a list, as a map), applied from a saved plan and
 * planned with nothing to change. The real terraform, a temp dir per shape, an empty CLI
 * configuration, no network. Each timed command runs --repeat times (median reported), with
 * terraform's peak RSS. Prints a table and the JSON (also to --json FILE). Exit 0 when every
 * row not skipped has its number, 1 when one failed, 2 on bad usage. The temp dir is removed
 * on exit and on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTerraform, runTerraform, terraformEnv, terraformVersion } from '../src/terraform';
import { parseScriptArgs, runReportScript, UsageError, wholeOption } from '../scripts/report-script';
import { seconds } from './measure';
import { fixedWidthTable, machine, median, type BenchReport } from './report';
import { RssSampler } from './rss';
import { ROWS, SHAPES, shapeConfig, shapeVars, stateWithMembers, type RowSpec, type Shape, type ShapeId } from './terraform-alone-shapes';

const ROW_IDS = ROWS.map((r) => r.id);

interface Options {
  readonly members: number;
  readonly repeat: number;
  readonly skip: readonly string[];
  readonly jsonFile: string | undefined;
}

const USAGE = `Usage: npm run bench:terraform -- [options]

Measures Terraform alone (terraform_data, no provider) on the shapes a group of N members
takes: N emails as a set and as a list (apply of a saved plan, no-op plan), N credential
objects as a list and as a map (no-op plan); the median time and terraform's peak RSS
(see bench/README.md, "Terraform alone").

Options:
  --members N     Members (default 1000)
  --repeat N      Runs of each timed command; the median is reported (default 3)
  --skip ROW      Leave a row out (repeatable), one of:
                  ${ROW_IDS.join(', ')}
  --json FILE     Also write the JSON report to FILE
  -h, --help      Show this help
`;

function parseOptions(argv: readonly string[]): Options | null {
  const values = parseScriptArgs(argv, {
    members: { type: 'string' },
    repeat: { type: 'string' },
    skip: { type: 'string', multiple: true },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  const skip = values.skip ?? [];
  for (const id of skip) if (!ROW_IDS.includes(id)) throw new UsageError(`--skip must name a row, one of ${ROW_IDS.join(', ')} (got ${JSON.stringify(id)})`);
  return {
    members: wholeOption('members', values.members, 1000, 1),
    repeat: wholeOption('repeat', values.repeat, 3, 1),
    skip,
    jsonFile: values.json,
  };
}

interface Row {
  readonly id: string;
  readonly what: string;
  /** Median seconds of the timed command; null when skipped or failed. */
  readonly seconds: number | null;
  readonly samples: readonly number[];
  /** terraform's peak resident memory over the row's timed runs, MB (10^6 bytes). */
  readonly peakRssMb: number | null;
  readonly comparedWith: string | null;
  /** seconds / the compared row's seconds. */
  readonly ratio: number | null;
  readonly skipped: boolean;
  readonly error?: string;
}

interface Report {
  readonly ok: boolean;
  readonly members: number;
  readonly repeat: number;
  readonly terraform: string;
  readonly machine: BenchReport['machine'];
  readonly startedAt: string;
  readonly elapsedSeconds: number;
  readonly interrupted: boolean;
  readonly rows: Readonly<Record<string, Row>>;
}

function log(text: string): void {
  process.stderr.write(`bench:terraform: ${text}\n`);
}

const errorOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One shape's working directory: main.tf, terraform.tfvars.json, its state. */
class ShapeDir {
  constructor(
    readonly dir: string,
    readonly shape: Shape,
    private readonly terraform: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly signal: AbortSignal,
  ) {}

  static async create(parent: string, shape: Shape, terraform: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<ShapeDir> {
    const dir = path.join(parent, shape.id);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'main.tf'), shapeConfig(shape));
    const shapeDir = new ShapeDir(dir, shape, terraform, env, signal);
    await shapeDir.run(['init']);
    return shapeDir;
  }

  /** `terraform <args>`; throws with terraform's last lines unless it exits 0. */
  async run(args: readonly string[]): Promise<void> {
    // The options before the positional arguments: `apply tfplan` takes the plan file last.
    const [command = '', ...rest] = args;
    const result = await runTerraform(this.terraform, [command, '-no-color', '-input=false', ...rest], { dir: this.dir, env: this.env, signal: this.signal });
    if (this.signal.aborted) throw new Error('interrupted');
    if (result.code !== 0) {
      const tail = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .map((l) => l.replace(/[│╷╵]/g, '').trim())
        .filter((l) => l !== '')
        .slice(-12)
        .join('\n  ');
      throw new Error(`terraform ${command} exited ${result.code}:\n  ${tail}`);
    }
  }

  /** The configuration's members (a shape held in the state has none there). */
  setMembers(members: number): void {
    if (this.shape.in === 'configuration') writeFileSync(path.join(this.dir, 'terraform.tfvars.json'), shapeVars(this.shape, members));
  }

  forgetState(): void {
    for (const name of ['terraform.tfstate', 'terraform.tfstate.backup', 'tfplan']) rmSync(path.join(this.dir, name), { force: true });
  }

  /** The state holding the shape's value for `members` members, set up without applying them (see `stateWithMembers`). */
  async holdMembers(members: number): Promise<void> {
    this.forgetState();
    this.setMembers(1);
    await this.run(['apply', '-auto-approve']);
    const stateFile = path.join(this.dir, 'terraform.tfstate');
    writeFileSync(stateFile, stateWithMembers(readFileSync(stateFile, 'utf8'), this.shape, members));
    rmSync(path.join(this.dir, 'terraform.tfstate.backup'), { force: true });
    this.setMembers(members);
  }

  /** Times `step` (one terraform command here) with terraform's peak RSS. */
  async timed(step: () => Promise<unknown>): Promise<{ seconds: number; peakRssMb: number | null }> {
    // terraform_data is built in: the terraform process is the only one. It is recognised by its
    // `-chdir=<dir>` argument and, once it has changed to it, its cwd.
    const rss = new RssSampler({ names: [`-chdir=${this.dir}`], dir: this.dir });
    rss.start();
    let taken: number;
    try {
      taken = await seconds(step);
    } finally {
      rss.stop();
    }
    return { seconds: taken, peakRssMb: rss.peakMb };
  }
}

/** The row's runs: each apply from no state of a plan saved just before; each plan from the state holding the members. */
async function measureRow(row: RowSpec, dir: ShapeDir, members: number, repeat: number): Promise<{ samples: number[]; peakRssMb: number | null }> {
  const samples: number[] = [];
  let peakRssMb: number | null = null;
  if (row.command === 'plan') await dir.holdMembers(members);
  for (let i = 0; i < repeat; i++) {
    let run: { seconds: number; peakRssMb: number | null };
    if (row.command === 'apply') {
      dir.forgetState();
      dir.setMembers(members);
      await dir.run(['plan', '-out=tfplan']);
      run = await dir.timed(() => dir.run(['apply', 'tfplan']));
    } else {
      // Exit 0 with -detailed-exitcode: no changes, as a no-op plan must be (2 would fail the row).
      run = await dir.timed(() => dir.run(['plan', '-detailed-exitcode']));
    }
    samples.push(run.seconds);
    if (run.peakRssMb !== null) peakRssMb = Math.max(peakRssMb ?? 0, run.peakRssMb);
  }
  return { samples, peakRssMb };
}

async function runTerraformAlone(options: Options, signal: AbortSignal): Promise<Report> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const terraform = findTerraform(process.env);
  if (terraform === undefined) throw new Error('terraform is not on PATH');
  const version = await terraformVersion(terraform, terraformEnv(process.env, {}));
  const parent = mkdtempSync(path.join(os.tmpdir(), 'adaptive-bench-terraform-'));
  const cliConfig = path.join(parent, 'empty.tfrc');
  writeFileSync(cliConfig, '');
  const env = terraformEnv(process.env, {
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_PLUGIN_CACHE_DIR: '',
    // Any attempt to reach the network fails at once instead of hanging.
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
  });
  const measured: Record<string, { samples: number[]; peakRssMb: number | null } | { error: string }> = {};
  try {
    const dirs = new Map<ShapeId, ShapeDir>();
    for (const row of ROWS) {
      if (signal.aborted) break;
      if (options.skip.includes(row.id)) continue;
      log(`measuring: ${row.what(options.members)}`);
      try {
        let dir = dirs.get(row.shape);
        if (dir === undefined) {
          dir = await ShapeDir.create(parent, SHAPES[row.shape], terraform, env, signal);
          dirs.set(row.shape, dir);
        }
        measured[row.id] = await measureRow(row, dir, options.members, options.repeat);
      } catch (err) {
        if (signal.aborted) break;
        measured[row.id] = { error: errorOf(err) };
      }
    }
  } finally {
    log('removing the working directories');
    rmSync(parent, { recursive: true, force: true });
  }
  const medians = new Map(Object.entries(measured).map(([id, m]) => [id, 'samples' in m ? median(m.samples) : null]));
  const rows: Record<string, Row> = {};
  for (const row of ROWS) {
    const m = measured[row.id];
    const skipped = options.skip.includes(row.id);
    const own = medians.get(row.id) ?? null;
    const other = row.comparedWith === null ? null : (medians.get(row.comparedWith) ?? null);
    const error = skipped ? undefined : m === undefined ? 'not measured: interrupted' : 'error' in m ? m.error : undefined;
    rows[row.id] = {
      id: row.id,
      what: row.what(options.members),
      seconds: own,
      samples: m !== undefined && 'samples' in m ? m.samples : [],
      peakRssMb: m !== undefined && 'samples' in m ? m.peakRssMb : null,
      comparedWith: row.comparedWith,
      ratio: own !== null && other !== null && other > 0 ? own / other : null,
      skipped,
      ...(error === undefined ? {} : { error }),
    };
  }
  return {
    ok: Object.values(rows).every((r) => r.error === undefined),
    members: options.members,
    repeat: options.repeat,
    terraform: version,
    machine: machine(loadAtStart),
    startedAt: new Date(started).toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    interrupted: signal.aborted,
    rows,
  };
}

function secondsText(n: number): string {
  return `${n < 1 ? n.toFixed(3) : n.toFixed(2)} s`;
}

/** The report as a fixed-width table (what | terraform | peak RSS | compared with | ratio), then the rows' errors. */
function reportTable(report: Report): string {
  const rows = Object.values(report.rows);
  const header = ['what', 'terraform', 'peak RSS', 'compared with', 'ratio'];
  const cells = rows.map((r) => {
    const other = r.comparedWith === null ? undefined : report.rows[r.comparedWith];
    return [
      r.what,
      r.skipped ? 'skipped' : r.error !== undefined ? 'FAILED' : r.seconds === null ? '-' : secondsText(r.seconds),
      r.peakRssMb === null ? '' : `${r.peakRssMb.toFixed(0)} MB`,
      other === undefined ? '' : other.what.replace(/^.*: \d+ /, ''),
      r.ratio === null ? '' : `${r.ratio.toFixed(1)}x`,
    ];
  });
  const m = report.machine;
  const lines = [
    `Terraform alone (terraform_data), ${report.members} members, median of ${report.repeat}, Terraform ${report.terraform}, ${m.cpus} cores, ${m.memoryGiB} GiB, load ${m.loadAtStart.toFixed(2)} -> ${m.loadAtEnd.toFixed(2)}${report.interrupted ? ', INTERRUPTED' : ''}`,
    '',
    ...fixedWidthTable(header, cells),
  ];
  for (const r of rows) if (r.error !== undefined) lines.push('', `${r.what}: ${r.error}`);
  return lines.join('\n');
}

runReportScript({ name: 'bench:terraform', usage: USAGE, parse: parseOptions, run: runTerraformAlone, table: reportTable });
