/**
 * `adaptive-access credential`: an eligible member's on-demand credential, through the
 * runtime's `issueCredential` (the verb behind `ephemeral "adaptive_credential"` too).
 * Printed (it then lives until its expiry, when the reaper drops it), or handed to a
 * command in its environment and revoked when the command exits (`credential-run.ts`).
 *
 * The options are checked before the catalog is opened, with the validators the provider
 * uses, so a bad value is a usage error and nothing is issued.
 */
import { NotFoundError, ValidationError, nameList, type IssueCredentialRequest, type OnDemandCredential, type Runtime, type ValidationIssue } from '../runtime';
import { checkMember, checkName, parseTtl } from '../runtime/validation';
import type { OptionValues } from './args';
import { PROG } from './spec';
import { catalogSettingsFrom, openRuntimeFor } from './catalog';
import { credentialJson, exportLines, readableLines, writeCaFile } from './credential-output';
import { runWithCredential } from './credential-run';
import type { CREDENTIAL_OPTIONS } from './specs/credential';
import { CliError, EXIT_OK, UsageError } from '../terminal/errors';
import type { Output } from '../terminal/output';
import { isoSeconds, shortDuration } from './time-format';

export type CredentialValues = OptionValues<typeof CREDENTIAL_OPTIONS>;

const COMMAND = 'credential';

export async function credential(values: CredentialValues, out: Output, command: readonly string[] | undefined): Promise<number> {
  const request = requestFrom(values, command);
  const settings = catalogSettingsFrom(COMMAND, values, out.io.env);
  const runtime = await openRuntimeFor(COMMAND, settings, values['catalog-schema']);
  try {
    const issue = (): Promise<OnDemandCredential> => issueExplained(runtime, request);
    if (command !== undefined) return await runWithCredential({ runtime, issue, command, out, ttlSeconds: request.ttlSeconds });
    await printCredential(await issue(), values, out);
    return EXIT_OK;
  } finally {
    await runtime.close();
  }
}

/** The request from the options, or a usage error naming the option at fault. */
function requestFrom(values: CredentialValues, command: readonly string[] | undefined): IssueCredentialRequest {
  const endpoint = required(values.endpoint, '--endpoint NAME');
  const member = required(values.member, '--member EMAIL');
  usageIfIssues('--endpoint', checkName(endpoint, 'endpoint'));
  usageIfIssues('--member', checkMember(member, 'member'));
  if (values.json === true && values.env === true) throw new UsageError("options '--json' and '--env' cannot be used together", COMMAND);
  if (command !== undefined) {
    if (command.length === 0) throw new UsageError("'--' must be followed by the command to run, e.g. -- psql", COMMAND);
    for (const printed of ['json', 'env'] as const) {
      if (values[printed] === true) throw new UsageError(`option '--${printed}' prints the credential; it does not apply with a command after '--'`, COMMAND);
    }
  }
  return { endpoint, member, ttlSeconds: ttlFrom(values.ttl), via: 'cli' };
}

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(`missing option '${option}'`, COMMAND);
  return value;
}

function usageIfIssues(option: string, issues: readonly ValidationIssue[]): void {
  const first = issues[0];
  if (first !== undefined) throw new UsageError(`option '${option}' ${first.message}`, COMMAND);
}

function ttlFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTtl(value, 'ttl');
  } catch (err) {
    if (err instanceof ValidationError) usageIfIssues('--ttl', err.issues);
    throw err;
  }
}

/** The option each field of the runtime's request comes from. */
const OPTION_OF: Readonly<Record<string, string>> = { member: '--member', endpoint: '--endpoint', ttl: '--ttl' };

/**
 * Issues, turning the runtime's refusals into failures that name the option: not eligible
 * (the message names the groups that list the endpoint), a ttl past the endpoint's, an
 * endpoint the catalog does not hold (with the ones it does).
 */
async function issueExplained(runtime: Runtime, request: IssueCredentialRequest): Promise<OnDemandCredential> {
  try {
    return await runtime.issueCredential(request);
  } catch (err) {
    if (err instanceof ValidationError) {
      const text = err.issues.map((i) => `${OPTION_OF[i.field] ?? i.field}: ${i.message}`).join('; ');
      throw new CliError(text, 'Nothing was issued.', { cause: err });
    }
    if (err instanceof NotFoundError && err.kind === 'endpoint') {
      const names = await runtime.listNames('endpoint').catch(() => []);
      const known = names.length === 0 ? 'The catalog holds no endpoints.' : `The endpoints are: ${nameList(names, 20)}.`;
      throw new CliError(`--endpoint: ${err.message}`, known, { cause: err });
    }
    throw err;
  }
}

/**
 * Prints the credential on stdout in the form asked for. stderr says how long it lives:
 * nobody revokes a printed credential before its expiry.
 */
async function printCredential(c: OnDemandCredential, values: CredentialValues, out: Output): Promise<void> {
  if (values.json === true) out.json(credentialJson(c));
  else if (values.env === true) {
    // The shell that evaluates these lines connects after this process has ended, so the
    // CA file stays (the CA is public); '-- COMMAND' removes its own when the command exits.
    const caFile = await writeCaFile(c);
    for (const line of exportLines(c, caFile?.path)) out.line(line);
  } else for (const line of readableLines(c)) out.line(line);
  out.note(
    `Issued ${c.username} to ${c.member} on endpoint ${c.endpoint} (group ${c.group}). It works until ${isoSeconds(c.expiresAt)} ` +
      `(${shortDuration(c.expiresAt.getTime() - c.grantedAt.getTime())}); then the reaper drops it. ` +
      `Run a client as '${PROG} ${COMMAND} ... -- psql' instead to have it revoked as soon as the client exits.`,
  );
}
