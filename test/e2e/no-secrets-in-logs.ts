/**
 * `TF_LOG=trace` runs of every example in examples/ print no secret of any kind: each
 * example is applied, planned and destroyed by real Terraform with the real plugin, with
 * trace logging on, and the combined output of the three commands (Terraform's own trace
 * lines, the plugin's log lines it relays, diagnostics) is searched for every secret the
 * run handled, in every form it could take there: as is, escaped in a JSON string (once and
 * twice), URL-encoded, in base64, and line by line for multi-line ones (a PEM key's base64
 * lines). The secrets: the catalog key and the catalog URL's password, each target's admin
 * password (given as a variable or read from Secrets Manager), the static AWS keys, the
 * client private keys, and every member password issued (read from the state, where it is
 * expected to be; only the logs must not have it). Where an example reads Secrets Manager,
 * an apply that the service refuses, quoting the signed request as AWS does, comes first:
 * its error diagnostics must not carry the AWS keys either.
 *
 * The CDKTF example (examples/cdktf) is not here: it synthesizes the same resources the
 * production example declares, and needs the cdktf CLI (test/constructs/example-app.test.ts).
 *
 * The examples are split into two files (no-secrets-in-logs-*.test.ts) so that the suite's
 * parallel workers share them: at trace level each takes long. Together the two files cover
 * every example EXAMPLE_SETUPS knows, which a test here checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAdaptiveProvider, scratchDir } from '../fixtures/adaptive';
import { eachPostgres } from '../fixtures/postgres';
import type { PostgresBinaries } from '../../src/localpg';
import type { TerraformWorkspace } from '../fixtures/terraform';
import { EXAMPLE_SETUPS, type KnownSecret } from './example-setups';

/** Which file checks which examples: the ones on plain clusters, and the ones with TLS or Secrets Manager. */
export const NO_SECRETS_SHARES = {
  plain: ['basic', 'groups-and-endpoints', 'short-lived', 'gitops/terraform', 'modules/use-from-hcl', 'authorizations', 'just-in-time'],
  'tls-and-aws': ['tls', 'mutual-tls', 'secrets-manager', 'adaptive-secrets-manager', 'production'],
} as const satisfies Record<string, readonly string[]>;

/** Lines of a multi-line secret at least this long are looked for on their own. */
const MIN_LINE = 16;

/** Every form a secret could take in Terraform's output, by name. */
function forms(secret: string): Array<{ form: string; text: string }> {
  const json = (s: string): string => JSON.stringify(s).slice(1, -1);
  const of = (text: string, prefix = ''): Array<{ form: string; text: string }> => [
    { form: `${prefix}raw`, text },
    { form: `${prefix}JSON-escaped`, text: json(text) },
    { form: `${prefix}JSON-escaped twice`, text: json(json(text)) },
    { form: `${prefix}URL-encoded`, text: encodeURIComponent(text) },
    { form: `${prefix}base64`, text: Buffer.from(text).toString('base64') },
  ];
  const lines = secret.includes('\n') ? secret.split('\n').map((l) => l.trim()).filter((l) => l.length >= MIN_LINE && !l.startsWith('-----')) : [];
  return [...of(secret), ...lines.flatMap((line, i) => of(line, `line ${i + 1}, `))];
}

/** One occurrence of a secret in a command's output, described without the secret. */
interface Leak {
  readonly command: string;
  readonly secret: string;
  readonly form: string;
  /** The log line, every known secret in it masked. */
  readonly line: string;
}

/** Masks every known secret (each form) in `text`, for messages. */
function masked(text: string, secrets: readonly KnownSecret[]): string {
  let out = text;
  for (const secret of secrets) for (const { text: form } of forms(secret.value)) out = out.split(form).join(`<${secret.what}>`);
  return out;
}

function leaksIn(command: string, output: string, secrets: readonly KnownSecret[]): Leak[] {
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    for (const { form, text } of forms(secret.value)) {
      const at = output.indexOf(text);
      if (at < 0) continue;
      const start = output.lastIndexOf('\n', at) + 1;
      const end = output.indexOf('\n', at + text.length);
      leaks.push({ command, secret: secret.what, form, line: masked(output.slice(start, end < 0 ? undefined : end), secrets).slice(0, 600) });
    }
  }
  return leaks;
}

/** Every member password the state holds (in a group's `credentials`). */
async function memberPasswords(ws: TerraformWorkspace): Promise<KnownSecret[]> {
  const shown = await ws.ok(['show', '-json']);
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.password === 'string' && typeof record.member === 'string') found.add(record.password);
      Object.values(record).forEach(walk);
    }
  };
  // The resources' values (outputs repeat them, and describe their type with "string" leaves).
  walk((JSON.parse(shown.stdout) as { values?: { root_module?: unknown } }).values?.root_module);
  return [...found].map((value, i) => ({ what: `member password ${i + 1}`, value }));
}

/** Examples whose configuration issues credentials to members. */
const ISSUES_CREDENTIALS = new Set(['adaptive-secrets-manager', 'groups-and-endpoints', 'short-lived', 'gitops/terraform', 'modules/use-from-hcl', 'production']);

/** The no-secrets test of the examples of one share, on every tested major. */
export function describeNoSecretsInLogs(share: keyof typeof NO_SECRETS_SHARES): void {
  const scratch = scratchDir('adaptive-e2e-no-secrets-');
  let mirrorDir: string;
  beforeAll(async () => {
    mirrorDir = await installAdaptiveProvider(scratch.dir);
  });
  afterAll(() => scratch.remove());

  it('the shares together cover every example, each once', () => {
    const shared = Object.values(NO_SECRETS_SHARES).flat();
    expect([...shared].sort()).toEqual(Object.keys(EXAMPLE_SETUPS).sort());
  });

  describe.each(eachPostgres())('$name', ({ binaries }) => {
    defineCases(NO_SECRETS_SHARES[share], binaries, () => ({ mirrorDir, scratchDir: scratch.dir }));
  });
}

function defineCases(examples: readonly string[], binaries: PostgresBinaries, where: () => { mirrorDir: string; scratchDir: string }): void {
  it.each(examples)(
    '%s: apply, plan and destroy at TF_LOG=trace print no secret in any form',
    async (name) => {
      const example = await EXAMPLE_SETUPS[name]!({ binaries, ...where() });
      try {
        const { ws } = example;
        const outputs: Array<{ command: string; text: string }> = [];
        const traced = async (command: string, args: readonly string[], expectedCode = 0): Promise<string> => {
          const result = await ws.run(args, { TF_LOG: 'trace' });
          const text = result.stdout + result.stderr;
          outputs.push({ command, text });
          // The failure message shows the output with every known secret masked.
          if (result.code !== expectedCode) throw new Error(`terraform ${command} exited ${result.code}\n${masked(text, example.secrets).slice(-6000)}`);
          return text;
        };
        const apply = ['apply', '-no-color', '-input=false', '-auto-approve'];

        if (example.failure) {
          // A refused apply first: the error diagnostics, and the plugin's log of them, are output too.
          example.failure.set(true);
          try {
            expect(await traced('apply (refused)', apply, 1)).toContain(example.failure.expected);
          } finally {
            example.failure.set(false);
          }
        }
        await traced('apply', apply);
        const members = await memberPasswords(ws);
        await traced('plan', ['plan', '-no-color', '-input=false']);
        await traced('destroy', ['destroy', '-no-color', '-input=false', '-auto-approve']);

        const onDemand = example.secretsAfterRuns?.() ?? [];
        const secrets = [...example.secrets, ...members, ...onDemand];
        if (ISSUES_CREDENTIALS.has(name)) expect(members.length).toBeGreaterThan(0);
        // The just-in-time job ran with an on-demand credential (apply only: a plan runs no job).
        if (example.secretsAfterRuns) expect(onDemand.length).toBeGreaterThan(0);
        const all = outputs.map((o) => o.text).join('\n');
        // The runs were really traced, plugin included, and the plugin had secrets to keep out.
        expect(all).toContain('[TRACE]');
        expect(all).toMatch(/provider\.terraform-provider-adaptive.*Received request/);
        // Every example but the authorizations hands its resources a sensitive value, which the plugin's trace masks.
        if (name !== 'authorizations') expect(all).toContain('(sensitive value)');
        expect(outputs.flatMap((o) => leaksIn(o.command, o.text, secrets))).toEqual([]);
      } finally {
        await example.dispose();
      }
    },
    600_000,
  );
}
