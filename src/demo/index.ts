/**
 * `adaptive-access demo`: the whole product on this machine in about a minute. A throwaway
 * PostgreSQL, a seeded shop database, the provider installed into a private mirror, a real
 * `terraform apply`, real logins with the issued passwords (one statement allowed, one
 * refused), a short grant expiring and the reaper ending its open session, the audit log,
 * and `terraform destroy`. Everything lives in a temporary directory and a throwaway
 * cluster, both removed at the end, on failure and on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Progress goes to stderr (`[3/9] Installing ... done (1.2 s)`), results to stdout.
 * Passwords are never printed in full.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, type ClientConfig } from 'pg';
import { reap } from '../cli/reap';
import { CliError } from '../cli/errors';
import { pluginEntry } from '../cli/install';
import { columns, oneLine, Output, type OutStream } from '../cli/output';
import { LocalPostgresError, startCluster, type LocalCluster, type PostgresBinaries } from '../localpg';
import { bundlePlugin } from '../provider/bundle';
import { cliConfigFor, PROVIDER_SOURCE, writeFilesystemMirror } from '../provider/mirror';
import { packageVersion } from '../provider/version';
import { openCatalogReader, type AuditRecord } from '../runtime';
import { keyBlocks, mainTf, MEMBERS } from './config';
import { CATALOG_DATABASE, SHOP_DATABASE, SHOP_SQL } from './seed';
import { clock, indent, mask, remaining, seconds } from './show';
import { findTerraform, MIN_TERRAFORM, recentEnough, Terraform, TerraformError, terraformEnv, terraformVersion } from './terraform';

export const EXIT_INTERRUPTED = 130;

export interface DemoOptions {
  /** ttl of the on-call grant, in seconds. */
  readonly shortTtlSeconds: number;
  /** The PostgreSQL build to run. */
  readonly binaries: PostgresBinaries;
}

/** A credential as `terraform output -json credentials` gives it. */
interface Credential {
  readonly member: string;
  readonly endpoint: string;
  readonly username: string;
  readonly password: string;
  readonly expires_at: string;
  readonly host: string;
  readonly port: number | string;
  readonly database: string;
}

/** Thrown (and caught below) when a signal arrived. */
class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

const TOTAL_STEPS = 9;

/** One progress line per step on stderr; on a terminal the last one can be updated in place. */
class Progress {
  private n = 0;
  private label = '';
  private open = false;
  private extra = '';
  private readonly tty: boolean;

  constructor(private readonly out: Output) {
    this.tty = out.io.stderr.isTTY === true;
  }

  private write(text: string): void {
    this.out.io.stderr.write(text);
  }

  private head(): string {
    return `${this.out.paintErr('dim', `[${this.n}/${TOTAL_STEPS}]`)} ${this.label} ...`;
  }

  start(label: string): void {
    this.n++;
    this.label = label;
    this.extra = '';
    this.open = true;
    this.write(this.head());
  }

  /** Shows how far the step is: in place on a terminal, appended (sparingly) otherwise. */
  status(text: string): void {
    if (!this.open) return;
    if (this.tty) this.write(`\r\u001b[K${this.head()} ${text}`);
    else this.write(` ${text} ...`);
    this.extra = text;
  }

  finish(result: string): void {
    if (!this.open) return;
    this.open = false;
    if (this.tty && this.extra !== '') this.write(`\r\u001b[K${this.head()}`);
    this.write(` ${result}\n`);
  }
}

/** Everything the demo started, for the clean-up. */
interface Started {
  dir?: string | undefined;
  cluster?: LocalCluster | undefined;
  readonly clients: Set<Client>;
}

export async function runDemo(options: DemoOptions, out: Output): Promise<number> {
  const began = Date.now();
  const env = out.io.env;
  const abort = new AbortController();
  const started: Started = { clients: new Set() };
  const progress = new Progress(out);
  let cleaningUp = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      if (cleaningUp) out.note(`(${signal} again: still cleaning up, one moment)`);
      return;
    }
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const check = (): void => {
    if (abort.signal.aborted) throw new Interrupted();
  };
  /** Runs a step: waits for `work` even when interrupted (so nothing it starts is lost), then checks. */
  const step = async <T>(label: string, work: () => Promise<T>, summary?: (value: T) => string): Promise<T> => {
    check();
    progress.start(label);
    const t0 = Date.now();
    let value: T;
    try {
      value = await work();
    } catch (err) {
      progress.finish(abort.signal.aborted ? 'interrupted' : 'failed');
      if (abort.signal.aborted) throw new Interrupted();
      throw err;
    }
    if (abort.signal.aborted) {
      progress.finish('interrupted');
      throw new Interrupted();
    }
    progress.finish(`${summary ? summary(value) : 'done'} (${seconds(Date.now() - t0)})`);
    return value;
  };
  /** Sleeps until `at`, or until interrupted. */
  const sleepUntil = async (at: number): Promise<void> => {
    const ms = at - Date.now();
    if (ms <= 0) return;
    try {
      await delay(ms, undefined, { signal: abort.signal });
    } catch {
      throw new Interrupted();
    }
  };

  try {
    await demoSteps();
    return 0;
  } catch (err) {
    cleaningUp = true;
    if (err instanceof Interrupted || abort.signal.aborted) {
      await cleanUp(started);
      out.note('Interrupted: cleaned up.');
      return EXIT_INTERRUPTED;
    }
    if (err instanceof TerraformError) {
      out.note(`terraform ${err.command} said:`);
      for (const line of err.tail()) out.note(`  ${line}`);
    }
    await cleanUp(started);
    throw failure(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  async function demoSteps(): Promise<void> {
    const b = (text: string): string => out.paint('bold', text);
    const allowed = out.paint('green', 'allowed');
    const refused = out.paint('red', 'refused');

    // Terraform first: without it there is nothing to show.
    const terraformBin = findTerraform(env);
    if (terraformBin === undefined) {
      throw new CliError(
        'terraform was not found on PATH; the demo runs real Terraform',
        `Install Terraform ${MIN_TERRAFORM.join('.')} or later (https://developer.hashicorp.com/terraform/install), check that \`terraform version\` works, and run the demo again.`,
      );
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-access-demo-'));
    started.dir = dir;
    const mirrorDir = path.join(dir, 'mirror');
    const cliConfigFile = path.join(dir, 'terraform.rc');
    const key = randomBytes(32).toString('hex');
    const baseEnv = terraformEnv(env, { TF_CLI_CONFIG_FILE: cliConfigFile });
    const tfVersion = await terraformVersion(terraformBin, baseEnv).catch((err: unknown) => {
      throw new CliError(`\`${terraformBin} version\` failed: ${errorText(err)}`, `Check the Terraform installation (${MIN_TERRAFORM.join('.')} or later).`);
    });
    if (!recentEnough(tfVersion)) {
      throw new CliError(`Terraform ${tfVersion} is too old; the demo needs ${MIN_TERRAFORM.join('.')} or later`, 'Install a newer Terraform: https://developer.hashicorp.com/terraform/install');
    }

    out.line(b('adaptive-access demo: time-limited, per-person access to PostgreSQL, managed by Terraform'));
    out.line(`Terraform ${tfVersion} (${terraformBin}); PostgreSQL from ${options.binaries.binDir}`);
    out.line(`Working directory: ${dir} (removed at the end)`);
    out.line();

    // 1. PostgreSQL
    const pgVersion = /\(PostgreSQL\)\s+(\S+)/.exec(options.binaries.version)?.[1] ?? String(options.binaries.major);
    const cluster = await step(
      `Starting a throwaway PostgreSQL ${options.binaries.major}`,
      async () => (started.cluster = await startCluster({ binaries: options.binaries })),
      (c) => `PostgreSQL ${pgVersion} on ${c.host}:${c.port}`,
    );

    // 2. Seed
    await step(`Creating database ${SHOP_DATABASE} (customers, orders, finance.payments) and the catalog database ${CATALOG_DATABASE}`, async () => {
      await superuserSql(cluster, 'postgres', `create database ${SHOP_DATABASE}`);
      await superuserSql(cluster, 'postgres', `create database ${CATALOG_DATABASE}`);
      await superuserSql(cluster, SHOP_DATABASE, SHOP_SQL);
    });

    // 3. Provider and configuration
    const hcl = mainTf({ host: cluster.host, port: cluster.port, username: cluster.user, shortTtlSeconds: options.shortTtlSeconds });
    const version = packageVersion();
    await step(
      `Installing the provider ${version} into a private filesystem mirror`,
      async () => {
        const bundle = await bundlePlugin({ entry: pluginEntry(), outfile: path.join(dir, 'bundle', 'adaptive-plugin.cjs') });
        writeFilesystemMirror({ mirrorDir, sourceAddress: PROVIDER_SOURCE, version, pluginEntry: bundle });
        writeFileSync(cliConfigFile, `${cliConfigFor(mirrorDir)}disable_checkpoint = true\n`);
        mkdirSync(path.join(dir, 'work'));
        writeFileSync(path.join(dir, 'work', 'main.tf'), hcl);
      },
      () => `done, ${PROVIDER_SOURCE}`,
    );
    const mainTfPath = path.join(dir, 'work', 'main.tf');
    out.line(b(`The configuration (${mainTfPath}):`));
    out.line(`  a target (the ${SHOP_DATABASE} database), authorizations analyst-readonly (SELECT on public.*) and`);
    out.line('  developer-readwrite (SELECT, INSERT, UPDATE, DELETE on public.*), endpoints analyst (ttl 8h),');
    out.line(`  developer (ttl 1h) and oncall (read-only, ttl ${options.shortTtlSeconds}s), and one group per endpoint. Key blocks:`);
    out.line();
    for (const block of keyBlocks(hcl)) {
      for (const line of indent(block, 4)) out.line(line);
      out.line();
    }

    const tf = new Terraform(terraformBin, path.join(dir, 'work'), {
      ...baseEnv,
      TF_VAR_pg_password: cluster.password,
      ADAPTIVE_CATALOG_URL: cluster.url(CATALOG_DATABASE),
      ADAPTIVE_CATALOG_KEY: key,
    });

    // 4. init
    await step('terraform init', () => tf.run(['init', '-no-color', '-input=false'], abort.signal), () => 'done');

    // 5. apply
    const applied = await step(
      'terraform apply -auto-approve',
      async () => {
        const r = await tf.run(['apply', '-no-color', '-input=false', '-auto-approve'], abort.signal);
        const outputs = await tf.run(['output', '-no-color', '-json', 'credentials'], abort.signal);
        return { line: /^Apply complete!.*$/m.exec(r.stdout)?.[0] ?? 'Apply complete!', credentials: JSON.parse(outputs.stdout) as Credential[] };
      },
      () => 'done',
    );
    const creds = applied.credentials;
    const credOf = (member: string): Credential => {
      const c = creds.find((x) => x.member === member);
      if (!c) throw new Error(`terraform output credentials has no credential for ${member}`);
      return c;
    };
    const ops = credOf(MEMBERS.oncall);
    const opsExpires = Date.parse(ops.expires_at);

    // 6. Log in. The on-call member first: their grant is the short one.
    const results = await step('Logging in as each member with the issued password', async () => {
      const session = await connectAs(ops);
      const sessionEnded = new Promise<Error>((resolve) => session.once('error', resolve));
      const opsCount = await session.query<{ n: number }>('select count(*)::int as n from customers');
      const analyst = await tryAs(credOf(MEMBERS.analyst), [
        ['select count(*) from orders', 'select count(*)::int as n from orders', (r) => String(r[0]?.n)],
        ["insert into orders ... values (1, 'abacus', 9.99)", "insert into orders (customer_id, item, amount) values (1, 'abacus', 9.99)", () => 'INSERT 0 1'],
      ]);
      const developer = await tryAs(credOf(MEMBERS.developer), [
        [
          "insert into orders ... values (2, 'slide rule', 19.90)",
          "insert into orders (customer_id, item, amount) values (2, 'slide rule', 19.90) returning id",
          (r) => `INSERT 0 1, id ${String(r[0]?.id)}`,
        ],
        ['select * from finance.payments', 'select * from finance.payments', (r) => `${r.length} rows`],
      ]);
      return { session, sessionEnded, opsCount: opsCount.rows[0]?.n, analyst, developer };
    });

    out.line(`terraform: ${applied.line}`);
    out.line();
    out.line(b('Credentials issued (one login role per member and endpoint):'));
    const now = Date.now();
    const credRows = [
      ['MEMBER', 'ENDPOINT', 'LOGIN ROLE', 'PASSWORD', 'EXPIRES IN'],
      ...creds.map((c) => [c.member, c.endpoint, c.username, mask(c.password), remaining(Date.parse(c.expires_at) - now)]),
    ];
    columns(credRows).forEach((line, i) => out.line(`  ${i === 0 ? b(line) : line}`));
    out.line(`  All on ${cluster.host}:${cluster.port}, database ${SHOP_DATABASE}. Passwords are masked here; in your own`);
    out.line('  configuration each member gets theirs from: terraform output -json credentials');
    out.line();

    out.line(b('Logging in with the issued passwords:'));
    const showTries = (who: string, tries: TryResult[]): void => {
      out.line(`  ${who}`);
      const rows = tries.map((t) => [t.ok ? allowed : refused, t.statement, t.result]);
      for (const line of columns(rows)) out.line(`    ${line}`);
    };
    showTries(`${MEMBERS.analyst} (endpoint analyst: SELECT on public.*)`, results.analyst);
    showTries(`${MEMBERS.developer} (endpoint developer: SELECT, INSERT, UPDATE, DELETE on public.*; nothing in schema finance)`, results.developer);
    out.line(`  ${MEMBERS.oncall} (endpoint oncall: read-only for ${options.shortTtlSeconds}s)`);
    out.line(`    ${allowed}  select count(*) from customers  ${String(results.opsCount)}  (this session stays open)`);
    out.line();

    // 7. Expiry
    const margin = 300;
    const loginAfter = await step(`Waiting for the on-call grant to expire (ttl ${options.shortTtlSeconds}s)`, async () => {
      const tty = out.io.stderr.isTTY === true;
      const total = Math.max(1, Math.ceil((opsExpires - Date.now()) / 1000));
      // On a terminal one line counts down; otherwise a few marks.
      const marks = tty ? null : new Set([total, ...[30, 20, 10, 5].filter((m) => m < total)].slice(0, 4));
      for (;;) {
        const left = opsExpires + margin - Date.now();
        if (left <= 0) break;
        const secs = Math.max(0, Math.ceil((opsExpires - Date.now()) / 1000));
        if (!marks || marks.has(secs)) {
          marks?.delete(secs);
          progress.status(tty ? `${secs} s left` : `${secs} s`);
        }
        await sleepUntil(Date.now() + Math.min(left, left % 1000 || 1000));
      }
      let refusal = '';
      try {
        const late = await connectAs(ops);
        await late.end();
      } catch (err) {
        refusal = errorText(err);
      }
      const stillOpen = await results.session.query<{ one: number }>('select 1 as one');
      return { refusal, stillOpen: stillOpen.rows[0]?.one === 1 };
    }, () => `expired at ${clock(new Date(opsExpires))} UTC`);

    out.line(b(`The on-call grant expired at ${clock(new Date(opsExpires))} UTC:`));
    const loginRow = loginAfter.refusal
      ? [refused, `new login as ${ops.username}`, `FATAL:  ${loginAfter.refusal}`]
      : [allowed, `new login as ${ops.username}`, 'accepted (unexpected!)'];
    const sessionRow = [loginAfter.stillOpen ? allowed : refused, 'select 1 in the session opened before expiry', loginAfter.stillOpen ? 'still works: VALID UNTIL only stops new logins' : 'ended'];
    for (const line of columns([loginRow, sessionRow])) out.line(`    ${line}`);
    if (!loginAfter.refusal) throw new Error(`PostgreSQL accepted a new login as ${ops.username} after its grant expired`);
    out.line();

    // 8. Reaper
    const catalogEnv = { ADAPTIVE_CATALOG_URL: cluster.url(CATALOG_DATABASE), ADAPTIVE_CATALOG_KEY: key };
    const reaped = await step('Running the reaper (adaptive-access reap)', async () => {
      const captured = new Captured(out.io.stdout.isTTY === true);
      const code = await reap({}, new Output({ stdout: captured, stderr: captured, env: { ...catalogEnv, NO_COLOR: out.color ? '' : '1' } }));
      const ended = await Promise.race([results.sessionEnded, timeout(10_000, null)]);
      const roleLeft = await superuserSql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [ops.username]);
      return { code, text: captured.text, ended, roleDropped: roleLeft.length === 0 };
    });
    out.line(b('The reaper (run it from cron, or as a service with --watch):'));
    out.line('  $ adaptive-access reap');
    for (const line of indent(reaped.text, 4)) out.line(line);
    out.line(
      reaped.ended
        ? `  The session ${MEMBERS.oncall} kept open was ended: FATAL:  ${oneLine(reaped.ended.message)}`
        : `  The session ${MEMBERS.oncall} kept open is still running (unexpected!)`,
    );
    out.line(reaped.roleDropped ? `  The login role ${ops.username} was dropped.` : `  The login role ${ops.username} still exists (unexpected!)`);
    out.line();
    if (!reaped.ended || !reaped.roleDropped || reaped.code !== 0) throw new Error('the reaper did not end the expired session and drop its role');

    // The audit log
    const catalog = await openCatalogReader({ url: catalogEnv.ADAPTIVE_CATALOG_URL, applicationName: 'adaptive-access demo' });
    let audit;
    try {
      audit = await catalog.readAudit();
    } finally {
      await catalog.close();
    }
    check();
    out.line(b(`The audit log in the catalog database (${audit.length} events; 'adaptive-access audit' prints yours):`));
    const auditRows = [
      ['AT (UTC)', 'EVENT', 'MEMBER', 'ENDPOINT', 'GROUP', 'LOGIN ROLE / OBJECT'],
      ...audit.map((e) => [clock(e.at), e.event, e.member ?? '-', e.endpoint ?? '-', e.group ?? '-', e.roleName ?? auditObject(e)]),
    ];
    columns(auditRows).forEach((line, i) => out.line(`  ${i === 0 ? b(line) : line}`));
    out.line();

    // 9. Destroy and clean up
    const destroyed = await step('terraform destroy -auto-approve, then stopping PostgreSQL and removing the working directory', async () => {
      for (const client of started.clients) await client.end().catch(() => undefined);
      const r = await tf.run(['destroy', '-no-color', '-input=false', '-auto-approve'], abort.signal);
      await cleanUp(started);
      return /^Destroy complete!.*$/m.exec(r.stdout)?.[0] ?? 'Destroy complete!';
    });
    out.line(`${destroyed} PostgreSQL stopped, ${dir} removed.`);
    out.line();
    out.line(
      `${b(`Done in ${Math.round((Date.now() - began) / 1000)} s.`)} Next: README.md (Quick start), examples/ (groups-and-endpoints, short-lived),\n` +
        'docs/index.md, `adaptive-access install` to use the provider with your own Terraform, and\n' +
        '`adaptive-access status`, `check`, `audit` and `reap` to operate it (`adaptive-access --help`).',
    );
  }

  /** Connects as a member with their issued credential; the client is tracked for clean-up. */
  async function connectAs(c: Credential): Promise<Client> {
    const client = new Client({
      host: c.host,
      port: Number(c.port),
      database: c.database,
      user: c.username,
      password: c.password,
      application_name: 'adaptive-access demo',
      connectionTimeoutMillis: 10_000,
    } satisfies ClientConfig);
    // A session the server ends reports errors; they are shown where they matter.
    client.on('error', () => undefined);
    await client.connect();
    started.clients.add(client);
    client.once('end', () => started.clients.delete(client));
    return client;
  }

  /** Runs each statement in its own session as the member, noting whether it was allowed. */
  async function tryAs(c: Credential, statements: ReadonlyArray<readonly [string, string, (rows: Array<Record<string, unknown>>) => string]>): Promise<TryResult[]> {
    const client = await connectAs(c);
    try {
      const results: TryResult[] = [];
      for (const [shown, text, describe] of statements) {
        try {
          const r = await client.query<Record<string, unknown>>(text);
          results.push({ ok: true, statement: shown, result: describe(r.rows) });
        } catch (err) {
          results.push({ ok: false, statement: shown, result: `ERROR:  ${errorText(err)}` });
        }
      }
      return results;
    } finally {
      await client.end();
    }
  }
}

interface TryResult {
  readonly ok: boolean;
  readonly statement: string;
  readonly result: string;
}

/** Collects what a command (the reaper) prints, to show it indented. */
class Captured implements OutStream {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Stops whatever was started: sessions, the cluster, the working directory. Never throws. */
async function cleanUp(started: Started): Promise<void> {
  for (const client of started.clients) {
    await Promise.race([client.end().catch(() => undefined), timeout(2_000, undefined)]);
  }
  started.clients.clear();
  if (started.cluster) {
    await started.cluster.stop().catch(() => undefined);
    started.cluster = undefined;
  }
  if (started.dir) {
    rmSync(started.dir, { recursive: true, force: true });
    started.dir = undefined;
  }
}

/** SQL as the cluster's superuser. */
async function superuserSql(cluster: LocalCluster, database: string, text: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ ...cluster.clientConfig(database), application_name: 'adaptive-access demo' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The object an audit event about a resource, authorization, endpoint or group concerns. */
function auditObject(e: AuditRecord): string {
  const kind = e.event.split('.')[0];
  const name =
    kind === 'authorization' ? e.detail.authorization : kind === 'resource' ? e.resource : kind === 'endpoint' ? e.endpoint : kind === 'group' ? e.group : undefined;
  return typeof name === 'string' ? `${kind} ${name}` : '-';
}

/** Resolves with `value` after `ms` without keeping the process alive. */
function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failure as the CLI reports it: one line, with a fix. */
function failure(err: unknown): unknown {
  if (err instanceof CliError) return err;
  // The machine keeps PostgreSQL from starting (e.g. as root, from a private directory): say why and what to do.
  if (err instanceof LocalPostgresError) return new CliError(err.reason, err.fix, { cause: err });
  if (err instanceof TerraformError) {
    return new CliError(err.message, 'See terraform\'s output above; run again with --debug for the stack trace.', { cause: err });
  }
  return new CliError(`the demo failed: ${oneLine(errorText(err))}`, 'Everything it started was cleaned up; run again with --debug for details.', { cause: err });
}
