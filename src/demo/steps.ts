/**
 * The demo's steps, one function each, in the order `runDemo` calls them. A step does its
 * work inside `run.step` (one numbered progress line on stderr) and then shows its results
 * on stdout.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { installProvider, packageVersion, PROVIDER_SOURCE } from '../install';
import { startCluster, type LocalCluster } from '../localpg';
import { findTerraform, MIN_TERRAFORM, recentEnough, Terraform, terraformEnv, terraformVersion } from '../terraform';
import { CliError, errorText } from '../terminal/errors';
import { columns, oneLine } from '../terminal/output';
import { keyBlocks, mainTf, MEMBERS } from './config';
import { timeout, type DemoRun } from './run';
import { readAuditLog, reapExpired, type AuditRecord, type DemoCatalog } from './runtime';
import { CATALOG_DATABASE, SHOP_DATABASE, SHOP_SQL } from './seed';
import { clock, indent, mask, remaining } from './show';
import { connectAs, superuserSql, tryAs, type Credential, type TryResult } from './sessions';

/** The working directory and the Terraform found, before anything is started. */
export interface Setup {
  readonly terraformBin: string;
  readonly dir: string;
  readonly cliConfigFile: string;
  /** The catalog key (hex), generated for this run. */
  readonly key: string;
  readonly baseEnv: NodeJS.ProcessEnv;
}

/** Finds a recent enough terraform (without it there is nothing to show) and makes the working directory. */
export async function prepare(run: DemoRun): Promise<Setup> {
  const terraformBin = findTerraform(run.out.io.env);
  if (terraformBin === undefined) {
    throw new CliError(
      'terraform was not found on PATH; the demo runs real Terraform',
      `Install Terraform ${MIN_TERRAFORM.join('.')} or later (https://developer.hashicorp.com/terraform/install), check that \`terraform version\` works, and run the demo again.`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-access-demo-'));
  run.started.dir = dir;
  const cliConfigFile = path.join(dir, 'terraform.rc');
  const baseEnv = terraformEnv(run.out.io.env, { TF_CLI_CONFIG_FILE: cliConfigFile });
  const tfVersion = await terraformVersion(terraformBin, baseEnv).catch((err: unknown) => {
    throw new CliError(`\`${terraformBin} version\` failed: ${errorText(err)}`, `Check the Terraform installation (${MIN_TERRAFORM.join('.')} or later).`);
  });
  if (!recentEnough(tfVersion)) {
    throw new CliError(`Terraform ${tfVersion} is too old; the demo needs ${MIN_TERRAFORM.join('.')} or later`, 'Install a newer Terraform: https://developer.hashicorp.com/terraform/install');
  }
  const { out, options } = run;
  out.line(run.bold('adaptive-access demo: time-limited, per-person access to PostgreSQL, managed by Terraform'));
  out.line(`Terraform ${tfVersion} (${terraformBin}); PostgreSQL from ${options.binaries.binDir}`);
  out.line(`Working directory: ${dir} (removed at the end)`);
  out.line();
  return { terraformBin, dir, cliConfigFile, key: randomBytes(32).toString('hex'), baseEnv };
}

/** Step 1: a throwaway cluster. */
export async function startPostgres(run: DemoRun): Promise<LocalCluster> {
  const { binaries } = run.options;
  const pgVersion = /\(PostgreSQL\)\s+(\S+)/.exec(binaries.version)?.[1] ?? String(binaries.major);
  return run.step(
    `Starting a throwaway PostgreSQL ${binaries.major}`,
    async () => (run.started.cluster = await startCluster({ binaries })),
    (c) => `PostgreSQL ${pgVersion} on ${c.host}:${c.port}`,
  );
}

/** Step 2: the shop database and the catalog database. */
export async function seed(run: DemoRun, cluster: LocalCluster): Promise<void> {
  await run.step(`Creating database ${SHOP_DATABASE} (customers, orders, finance.payments) and the catalog database ${CATALOG_DATABASE}`, async () => {
    await superuserSql(cluster, 'postgres', `create database ${SHOP_DATABASE}`);
    await superuserSql(cluster, 'postgres', `create database ${CATALOG_DATABASE}`);
    await superuserSql(cluster, SHOP_DATABASE, SHOP_SQL);
  });
}

/** Step 3: the provider into a private mirror, main.tf written and its key blocks shown; returns terraform for the work directory. */
export async function installAndConfigure(run: DemoRun, setup: Setup, cluster: LocalCluster): Promise<Terraform> {
  const { out, options } = run;
  const work = path.join(setup.dir, 'work');
  const hcl = mainTf({ host: cluster.host, port: cluster.port, username: cluster.user, shortTtlSeconds: options.shortTtlSeconds });
  await run.step(
    `Installing the provider ${packageVersion()} into a private filesystem mirror`,
    async () => {
      await installProvider({ dir: setup.dir, mirrorDir: path.join(setup.dir, 'mirror'), cliConfigFile: setup.cliConfigFile, cliConfigTrailer: 'disable_checkpoint = true\n' });
      mkdirSync(work);
      writeFileSync(path.join(work, 'main.tf'), hcl);
    },
    () => `done, ${PROVIDER_SOURCE}`,
  );
  out.line(run.bold(`The configuration (${path.join(work, 'main.tf')}):`));
  out.line(`  a target (the ${SHOP_DATABASE} database), authorizations analyst-readonly (SELECT on public.*) and`);
  out.line('  developer-readwrite (SELECT, INSERT, UPDATE, DELETE on public.*), endpoints analyst (ttl 8h),');
  out.line(`  developer (ttl 1h) and oncall (read-only, ttl ${options.shortTtlSeconds}s), and one group per endpoint. Key blocks:`);
  out.line();
  for (const block of keyBlocks(hcl)) {
    for (const line of indent(block, 4)) out.line(line);
    out.line();
  }
  return new Terraform(setup.terraformBin, work, {
    ...setup.baseEnv,
    TF_VAR_pg_password: cluster.password,
    ADAPTIVE_CATALOG_URL: cluster.url(CATALOG_DATABASE),
    ADAPTIVE_CATALOG_KEY: setup.key,
  });
}

/** Steps 4 and 5: terraform init and apply; returns apply's summary line and the credentials. */
export async function initAndApply(run: DemoRun, tf: Terraform): Promise<{ line: string; credentials: Credential[] }> {
  const signal = run.abort.signal;
  await run.step('terraform init', () => tf.run(['init', '-no-color', '-input=false'], signal), () => 'done');
  return run.step(
    'terraform apply -auto-approve',
    async () => {
      const r = await tf.run(['apply', '-no-color', '-input=false', '-auto-approve'], signal);
      const outputs = await tf.run(['output', '-no-color', '-json', 'credentials'], signal);
      return { line: /^Apply complete!.*$/m.exec(r.stdout)?.[0] ?? 'Apply complete!', credentials: JSON.parse(outputs.stdout) as Credential[] };
    },
    () => 'done',
  );
}

/** The credential issued to `member`. */
export function credentialOf(credentials: readonly Credential[], member: string): Credential {
  const c = credentials.find((x) => x.member === member);
  if (!c) throw new Error(`terraform output credentials has no credential for ${member}`);
  return c;
}

/** What step 6 saw; the on-call member's session stays open for the expiry and the reaper. */
export interface Logins {
  readonly session: Client;
  /** Settles with the error that ends the session (the reaper terminating it). */
  readonly sessionEnded: Promise<Error>;
  readonly opsCount: number | undefined;
  readonly analyst: TryResult[];
  readonly developer: TryResult[];
}

/** Step 6: logs in as each member, the on-call member first (their grant is the short one). */
export async function logIn(run: DemoRun, credentials: readonly Credential[]): Promise<Logins> {
  const started = run.started;
  return run.step('Logging in as each member with the issued password', async () => {
    const session = await connectAs(started, credentialOf(credentials, MEMBERS.oncall));
    const sessionEnded = new Promise<Error>((resolve) => session.once('error', resolve));
    const opsCount = await session.query<{ n: number }>('select count(*)::int as n from customers');
    const analyst = await tryAs(started, credentialOf(credentials, MEMBERS.analyst), [
      ['select count(*) from orders', 'select count(*)::int as n from orders', (r) => String(r[0]?.n)],
      ["insert into orders ... values (1, 'abacus', 9.99)", "insert into orders (customer_id, item, amount) values (1, 'abacus', 9.99)", () => 'INSERT 0 1'],
    ]);
    const developer = await tryAs(started, credentialOf(credentials, MEMBERS.developer), [
      [
        "insert into orders ... values (2, 'slide rule', 19.90)",
        "insert into orders (customer_id, item, amount) values (2, 'slide rule', 19.90) returning id",
        (r) => `INSERT 0 1, id ${String(r[0]?.id)}`,
      ],
      ['select * from finance.payments', 'select * from finance.payments', (r) => `${r.length} rows`],
    ]);
    return { session, sessionEnded, opsCount: opsCount.rows[0]?.n, analyst, developer };
  });
}

/** After step 6: the credentials (passwords masked) and what each login could do. */
export function showCredentialsAndLogins(run: DemoRun, applyLine: string, credentials: readonly Credential[], cluster: LocalCluster, logins: Logins): void {
  const { out, options } = run;
  const allowed = out.paint('green', 'allowed');
  const refused = out.paint('red', 'refused');
  out.line(`terraform: ${applyLine}`);
  out.line();
  out.line(run.bold('Credentials issued (one login role per member and endpoint):'));
  const now = Date.now();
  const credRows = [
    ['MEMBER', 'ENDPOINT', 'LOGIN ROLE', 'PASSWORD', 'EXPIRES IN'],
    ...credentials.map((c) => [c.member, c.endpoint, c.username, mask(c.password), remaining(Date.parse(c.expires_at) - now)]),
  ];
  columns(credRows).forEach((line, i) => out.line(`  ${i === 0 ? run.bold(line) : line}`));
  out.line(`  All on ${cluster.host}:${cluster.port}, database ${SHOP_DATABASE}. Passwords are masked here; in your own`);
  out.line('  configuration each member gets theirs from: terraform output -json credentials');
  out.line();

  out.line(run.bold('Logging in with the issued passwords:'));
  const showTries = (who: string, tries: TryResult[]): void => {
    out.line(`  ${who}`);
    const rows = tries.map((t) => [t.ok ? allowed : refused, t.statement, t.result]);
    for (const line of columns(rows)) out.line(`    ${line}`);
  };
  showTries(`${MEMBERS.analyst} (endpoint analyst: SELECT on public.*)`, logins.analyst);
  showTries(`${MEMBERS.developer} (endpoint developer: SELECT, INSERT, UPDATE, DELETE on public.*; nothing in schema finance)`, logins.developer);
  out.line(`  ${MEMBERS.oncall} (endpoint oncall: read-only for ${options.shortTtlSeconds}s)`);
  out.line(`    ${allowed}  select count(*) from customers  ${String(logins.opsCount)}  (this session stays open)`);
  out.line();
}

/** Waits until `expiresAt` (+ a margin), counting down: on a terminal one line, otherwise a few marks. */
async function countDown(run: DemoRun, expiresAt: number): Promise<void> {
  const margin = 300;
  const tty = run.out.io.stderr.isTTY === true;
  const total = Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000));
  const marks = tty ? null : new Set([total, ...[30, 20, 10, 5].filter((m) => m < total)].slice(0, 4));
  for (;;) {
    const left = expiresAt + margin - Date.now();
    if (left <= 0) return;
    const secs = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    if (!marks || marks.has(secs)) {
      marks?.delete(secs);
      run.progress.status(tty ? `${secs} s left` : `${secs} s`);
    }
    await run.sleepUntil(Date.now() + Math.min(left, left % 1000 || 1000));
  }
}

/** Step 7: the on-call grant expires: a new login is refused, the open session still works. */
export async function watchExpiry(run: DemoRun, ops: Credential, session: Client): Promise<void> {
  const { out, options } = run;
  const expiresAt = Date.parse(ops.expires_at);
  const after = await run.step(
    `Waiting for the on-call grant to expire (ttl ${options.shortTtlSeconds}s)`,
    async () => {
      await countDown(run, expiresAt);
      let refusal = '';
      try {
        const late = await connectAs(run.started, ops);
        await late.end();
      } catch (err) {
        refusal = errorText(err);
      }
      const stillOpen = await session.query<{ one: number }>('select 1 as one');
      return { refusal, stillOpen: stillOpen.rows[0]?.one === 1 };
    },
    () => `expired at ${clock(new Date(expiresAt))} UTC`,
  );
  const allowed = out.paint('green', 'allowed');
  const refused = out.paint('red', 'refused');
  out.line(run.bold(`The on-call grant expired at ${clock(new Date(expiresAt))} UTC:`));
  const loginRow = after.refusal ? [refused, `new login as ${ops.username}`, `FATAL:  ${after.refusal}`] : [allowed, `new login as ${ops.username}`, 'accepted (unexpected!)'];
  const sessionRow = [after.stillOpen ? allowed : refused, 'select 1 in the session opened before expiry', after.stillOpen ? 'still works: VALID UNTIL only stops new logins' : 'ended'];
  for (const line of columns([loginRow, sessionRow])) out.line(`    ${line}`);
  if (!after.refusal) throw new Error(`PostgreSQL accepted a new login as ${ops.username} after its grant expired`);
  out.line();
}

function plural(n: number, one: string): string {
  return `${n} ${n === 1 ? one : `${one}s`}`;
}

/** Step 8: one reaper pass ends the open session and drops the expired role. */
export async function runReaper(run: DemoRun, catalog: DemoCatalog, cluster: LocalCluster, ops: Credential, sessionEnded: Promise<Error>): Promise<void> {
  const out = run.out;
  const reaped = await run.step('Running the reaper (adaptive-access reap)', async () => {
    const report = await reapExpired(catalog);
    const ended = await Promise.race([sessionEnded, timeout(10_000, null)]);
    const roleLeft = await superuserSql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [ops.username]);
    return { report, ended, roleDropped: roleLeft.length === 0 };
  });
  const { report } = reaped;
  const roles = report.results.flatMap((r) => r.reaped.map((x) => [r.target, x.role, x.member ?? '-', x.endpoint ?? '-', x.expiredAt?.toISOString() ?? '-']));
  const problems = [...report.results.flatMap((r) => r.failed.map((f) => `${r.target}/${f.role}: ${f.error}`)), ...report.errors.map((e) => `${e.target}: ${e.error}`)];
  out.line(run.bold('The reaper (run it from cron, or as a service with --watch):'));
  out.line('  $ adaptive-access reap');
  if (roles.length > 0) columns([['TARGET', 'ROLE', 'MEMBER', 'ENDPOINT', 'EXPIRED AT'], ...roles]).forEach((line, i) => out.line(`    ${i === 0 ? run.bold(line) : line}`));
  for (const problem of problems) out.line(`    ${out.paint('red', 'FAILED')}  ${oneLine(problem)}`);
  out.line(`    Reaped ${plural(roles.length, 'expired role')} on ${plural(report.results.length + report.errors.length, 'target')}.`);
  out.line(
    reaped.ended
      ? `  The session ${MEMBERS.oncall} kept open was ended: FATAL:  ${oneLine(reaped.ended.message)}`
      : `  The session ${MEMBERS.oncall} kept open is still running (unexpected!)`,
  );
  out.line(reaped.roleDropped ? `  The login role ${ops.username} was dropped.` : `  The login role ${ops.username} still exists (unexpected!)`);
  out.line();
  if (!reaped.ended || !reaped.roleDropped || problems.length > 0) throw new Error('the reaper did not end the expired session and drop its role');
}

/** The object an audit event about a resource, authorization, endpoint or group concerns. */
function auditObject(e: AuditRecord): string {
  const kind = e.event.split('.')[0];
  const name =
    kind === 'authorization' ? e.detail.authorization : kind === 'resource' ? e.resource : kind === 'endpoint' ? e.endpoint : kind === 'group' ? e.group : undefined;
  return typeof name === 'string' ? `${kind} ${name}` : '-';
}

/** The audit log in the catalog (no step of its own: it only reads). */
export async function showAuditLog(run: DemoRun, catalog: DemoCatalog): Promise<void> {
  const audit = await readAuditLog(catalog);
  run.check();
  run.out.line(run.bold(`The audit log in the catalog database (${audit.length} events; 'adaptive-access audit' prints yours):`));
  const rows = [
    ['AT (UTC)', 'EVENT', 'MEMBER', 'ENDPOINT', 'GROUP', 'LOGIN ROLE / OBJECT'],
    ...audit.map((e) => [clock(e.at), e.event, e.member ?? '-', e.endpoint ?? '-', e.group ?? '-', e.roleName ?? auditObject(e)]),
  ];
  columns(rows).forEach((line, i) => run.out.line(`  ${i === 0 ? run.bold(line) : line}`));
  run.out.line();
}

/** Step 9: terraform destroy, then everything stopped and removed. */
export async function destroyAndFinish(run: DemoRun, tf: Terraform, dir: string): Promise<void> {
  const destroyed = await run.step('terraform destroy -auto-approve, then stopping PostgreSQL and removing the working directory', async () => {
    for (const client of run.started.clients) await client.end().catch(() => undefined);
    const r = await tf.run(['destroy', '-no-color', '-input=false', '-auto-approve'], run.abort.signal);
    await run.cleanUp();
    return /^Destroy complete!.*$/m.exec(r.stdout)?.[0] ?? 'Destroy complete!';
  });
  const out = run.out;
  out.line(`${destroyed} PostgreSQL stopped, ${dir} removed.`);
  out.line();
  out.line(
    `${run.bold(`Done in ${Math.round((Date.now() - run.began) / 1000)} s.`)} Next: README.md (Quick start), examples/ (groups-and-endpoints, short-lived),\n` +
      'docs/index.md, `adaptive-access install` to use the provider with your own Terraform, and\n' +
      '`adaptive-access status`, `check`, `audit` and `reap` to operate it (`adaptive-access --help`).',
  );
}
