/**
 * `adaptive-access check`: a "Test Connection" button. Connects the way adaptive_resource
 * does (same sslmode rules, certificates, AWS Secrets Manager lookup), then reports the
 * server and TLS state, whether the role can manage access (preflight, with the SQL that
 * grants what is missing), and what the role can see and do. Changes nothing.
 *
 * The connection comes from a catalog target (--target, checked as the admin it is) or
 * from --url / --host... with libpq's PG* variables as defaults. Options are checked with
 * the provider's own validators, so `check` refuses what adaptive_resource would refuse,
 * with the same messages, naming the option (or variable) the value came from.
 *
 * Decisions:
 * - An unreadable --sslrootcert/--sslcert/--sslkey file is a usage error (exit 2): the
 *   command line names something that is not there, as with any other bad value.
 * - With --aws-secret, host, port, database and user come from the options or the secret;
 *   the PG* variables for them (and PGPASSWORD) are not used, as the provider ignores
 *   everything the secret supplies unless set explicitly.
 * - `sslrootcert=system` (libpq's word for the system trust store) means no CA file.
 */
import {
  checkTarget,
  ConnectionError,
  DEFAULT_TABLE_LIMIT,
  ValidationError,
  type ConnectionCheck,
  type PreflightReport,
  type ResolvedTarget,
  type RoleInspection,
  type TargetCheck,
} from '../runtime';
import { AD_HOC, checkCombinations, inOptionTerms, planFromCatalog, planFromOptions, usageFromIssues, type CheckValues, type Plan } from './check-target';
import { CliError, EXIT_OK } from '../terminal/errors';
import { columns, oneLine, type Output } from '../terminal/output';

export interface CheckJsonReport {
  readonly ok: boolean;
  readonly connection: (ConnectionCheck & { readonly password: string }) | { readonly error: string; readonly cause: string; readonly fix: string };
  readonly admin?: {
    /** Whether missing privileges fail the check (--target or --admin). */
    readonly required: boolean;
    readonly canManageAccess: boolean;
    readonly superuser: boolean;
    readonly createRole: boolean;
    readonly canSignalBackends: boolean;
    readonly canConnect: boolean;
    readonly missing: ReadonlyArray<{ readonly what: string; readonly fix: string }>;
  };
  readonly role?: RoleInspection['role'];
  readonly databases?: RoleInspection['databases'];
  readonly schemas?: RoleInspection['schemas'];
  readonly tables?: RoleInspection['tables'];
  /** Tables with privileges in all; `tables` lists at most the first 200. */
  readonly tablesTotal?: number;
}

// ---------------------------------------------------------------------------------------
// The command

/** A ConnectionError's message and fix, for the command line. */
function describeFailure(err: ConnectionError, plan: Plan): { error: string; fix: string } {
  let error = err.message;
  let fix = err.fix;
  if (!plan.catalog) {
    // A command-line connection has no target name, and options instead of attributes.
    error = inOptionTerms(error.replace(`target "${AD_HOC}" at `, '').replace(`Target "${AD_HOC}": `, ''));
    fix = inOptionTerms(fix).replace(/^set password\b/, 'set PGPASSWORD');
  }
  fix = fix.charAt(0).toUpperCase() + fix.slice(1);
  return { error, fix: /[.!?;]$/.test(fix) ? fix : `${fix}.` };
}

export async function check(values: CheckValues, out: Output): Promise<number> {
  checkCombinations(values);
  const json = values.json === true;
  const plan = values.target !== undefined ? await planFromCatalog(values.target, values, out.io.env) : planFromOptions(values, out.io.env);

  let checked: TargetCheck;
  try {
    checked = await checkTarget(plan.config);
  } catch (err) {
    if (err instanceof ValidationError) {
      if (plan.catalog) throw new CliError(`target ${JSON.stringify(plan.config.name)} in the catalog: ${oneLine(err.message)}`);
      throw usageFromIssues(err.issues, plan.sources);
    }
    if (!(err instanceof ConnectionError)) throw err;
    const { error, fix } = describeFailure(err, plan);
    if (json) out.json({ ok: false, connection: { error, cause: err.cause, fix } } satisfies CheckJsonReport);
    throw new CliError(error, fix, { cause: err });
  }

  const { resolved, connection, admin, inspection } = checked;
  const canManage = admin.missing.length === 0;
  const ok = canManage || !plan.adminRequired;
  const passwordFrom = describePassword(plan, resolved);
  if (json) {
    const report: CheckJsonReport = {
      ok,
      connection: { ...connection, password: passwordFrom },
      admin: {
        required: plan.adminRequired,
        canManageAccess: canManage,
        superuser: admin.superuser,
        createRole: admin.createRole,
        canSignalBackends: admin.canSignalBackends,
        canConnect: admin.canConnect,
        missing: admin.missing,
      },
      role: inspection.role,
      databases: inspection.databases,
      schemas: inspection.schemas,
      tables: inspection.tables,
      tablesTotal: inspection.tablesTotal,
    };
    out.json(report);
  } else {
    printReport(out, plan, connection, passwordFrom, admin, inspection);
  }
  if (!ok) {
    throw new CliError(
      `role "${admin.user}" cannot manage access: ${admin.missing.length} privilege${admin.missing.length === 1 ? '' : 's'} missing`,
      json ? 'Run the SQL in admin.missing[].fix as a superuser, then check again.' : 'Run the SQL shown above as a superuser, then check again.',
    );
  }
  return EXIT_OK;
}

function describePassword(plan: Plan, resolved: ResolvedTarget): string {
  if (resolved.credentialSource === 'aws-secrets-manager') return `from AWS Secrets Manager secret "${plan.config.aws?.secretName ?? ''}"`;
  if (plan.passwordFrom === undefined) return 'none given';
  return `from ${plan.passwordFrom}`;
}

// ---------------------------------------------------------------------------------------
// Human output

function tlsLine(c: ConnectionCheck): string {
  const t = c.tls;
  if (!t.used) return `not used (sslmode ${c.sslMode})`;
  const proto = t.protocol ?? 'TLS';
  switch (t.verified) {
    case 'chain-and-hostname':
      return `${proto}, certificate verified (chain and host name ${t.serverName ?? c.host})`;
    case 'chain':
      return `${proto}, certificate chain verified, host name not checked (sslmode ${c.sslMode})`;
    default:
      return `${proto}, certificate not verified (sslmode ${c.sslMode}; verify-full checks it)`;
  }
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function section(out: Output, title: string): void {
  out.line();
  out.line(out.paint('bold', title));
}

function indented(out: Output, lines: readonly string[]): void {
  for (const line of lines) out.line(`  ${line}`);
}

function table(out: Output, header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  columns([header, ...rows]).forEach((line, i) => out.line(`  ${i === 0 ? out.paint('bold', line) : line}`));
}

function untilText(role: RoleInspection['role'], now: Date): string {
  if (role.validUntil === null) return 'never expires';
  if (role.validUntil === 'infinity') return 'infinity (never expires)';
  if (role.expired) return `${role.validUntil} (expired: new logins are refused)`;
  const minutes = Math.round((Date.parse(role.validUntil) - now.getTime()) / 60_000);
  const left = minutes < 120 ? `${minutes} min` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
  return `${role.validUntil} (in ${left})`;
}

function printReport(out: Output, plan: Plan, c: ConnectionCheck, passwordFrom: string, admin: PreflightReport, r: RoleInspection): void {
  out.line(out.paint('bold', plan.catalog ? `Connection (target "${plan.config.name}")` : 'Connection'));
  const rows: string[][] = [
    ['server', `${c.host}:${c.port}`],
    ['version', `PostgreSQL ${c.serverVersion}`],
    ['database', c.database],
    ['user', c.user],
    ['password', passwordFrom],
    ['TLS', tlsLine(c)],
    ...c.failedAttempts.map((f) => [`failed attempt`, `${f.tls ? 'with TLS' : 'without TLS'}: ${oneLine(f.detail)}`]),
  ];
  indented(out, columns(rows));

  section(out, 'Admin');
  if (admin.missing.length === 0) {
    out.line(`  can manage access: ${out.paint('green', 'yes')}${admin.superuser ? ' (superuser)' : ''}`);
  } else {
    const why = plan.adminRequired ? '' : ' (not required: pass --admin to require it)';
    out.line(`  can manage access: ${out.paint(plan.adminRequired ? 'red' : 'yellow', 'no')}${why}`);
    out.line(`  missing, with the SQL that grants it (run as a superuser):`);
    for (const m of admin.missing) {
      out.line(`  - ${m.what}`);
      out.line(`    ${out.paint('cyan', m.fix)}`);
    }
  }

  const role = r.role;
  section(out, `Role "${role.name}"${role.sessionUser !== role.name ? ` (session user "${role.sessionUser}")` : ''}`);
  const attributes = [
    `superuser ${yesNo(role.superuser)}`,
    `createrole ${yesNo(role.createRole)}`,
    `createdb ${yesNo(role.createDb)}`,
    `login ${yesNo(role.login)}`,
    `inherit ${yesNo(role.inherit)}`,
    ...(role.replication ? ['replication yes'] : []),
    ...(role.bypassRls ? ['bypassrls yes'] : []),
  ];
  indented(
    out,
    columns([
      ['attributes', attributes.join(', ')],
      ['valid until', untilText(role, new Date())],
      ['connections', role.connectionLimit < 0 ? 'no limit' : `at most ${role.connectionLimit}`],
      ['member of', role.memberOf.length === 0 ? 'none' : role.memberOf.map((m) => `${m.role}${m.adminOption ? ' (with admin option)' : ''}`).join(', ')],
    ]),
  );

  section(out, 'Databases it can connect to');
  table(out, ['DATABASE', 'PRIVILEGES'], r.databases.map((d) => [d.name, d.privileges.join(', ')]));

  section(out, `Schemas in "${r.database}"`);
  if (r.schemas.length === 0) out.line('  none it can use (no USAGE or CREATE on any schema)');
  else table(out, ['SCHEMA', 'OWNER', 'PRIVILEGES'], r.schemas.map((s) => [s.name, s.owner, s.privileges.join(', ')]));

  section(out, `Tables in "${r.database}"`);
  if (r.tables.length === 0) out.line('  none: no privileges on any table');
  else {
    table(
      out,
      ['SCHEMA', 'TABLE', 'KIND', 'PRIVILEGES'],
      r.tables.map((t) => [t.schema, t.table, t.kind, `${t.privileges.join(', ')}${t.schemaUsage ? '' : ' (no USAGE on the schema: not usable)'}`]),
    );
    if (r.tablesTotal > r.tables.length) out.line(`  ... and ${r.tablesTotal - r.tables.length} more (the first ${DEFAULT_TABLE_LIMIT} are listed; --json lists the same)`);
  }
}
