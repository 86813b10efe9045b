/**
 * What the runtime warns about while applying reaches `terraform apply`'s output, each as a
 * warning with a summary naming the resource, the runtime's text as detail, and the
 * attribute it concerns (Terraform shows that attribute's configuration line):
 *
 * - lowering an endpoint's ttl below the age of a live credential ends it now (`ttl`);
 * - a group applied while a member's credential is gone (ended, reaped or revoked) says that
 *   member has no live credential any more and how to renew (`members`);
 * - an authorization change re-syncs the endpoints using it; what the sync could not make
 *   exact (here: a privilege granted by hand outside the model) is reported on the
 *   authorization (`permissions`) and, as the endpoint re-syncs too, on the endpoint
 *   (`authorization`);
 * - a group applied (with the provider's own reaping off) while it keeps credentials that
 *   expired names them (`credentials`).
 *
 * The workspace is the short-lived example with its group's members made a variable.
 * Not here: an endpoint moved to another target leaving its old one not cleaned up (a
 * change of `resource` replaces the endpoint, so Terraform never moves one; the runtime's
 * warning is tested in test/runtime/service.test.ts), and credentials past a lower ttl that
 * could not be revoked (a failing target; the runtime names them, the endpoint shows them
 * at `ttl` like the ones ended).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { accessRoleName } from '../../src/runtime/service';
import { edit, pointingAt, shownDiagnostics, type ShownDiagnostic } from '../fixtures/diagnostics';
import { credentialList, exampleFiles, installAdaptiveProvider, prepareCluster, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { TerraformWorkspace, type TerraformResult } from '../fixtures/terraform';
import { untilInstant } from '../runtime/service-fixture';

const ENDPOINT = 'short-lived-access';
const AUTHORIZATION = 'short-lived-readonly';
const MEMBER = 'oncall@company.com';
const SECOND = 'second@company.com';
const THIRD = 'third@company.com';

const ENDPOINT_BLOCK = 'resource "adaptive_endpoint" "brief"';
const GROUP_BLOCK = 'resource "adaptive_group" "oncall"';
const AUTHORIZATION_BLOCK = 'resource "adaptive_authorization" "readonly"';
const TTL_LINE = '  ttl           = var.ttl';
const MEMBERS_LINE = '  members   = var.members';
const AUTHORIZATION_LINE = '  authorization = adaptive_authorization.readonly.name';
const PERMISSIONS_LINE = '  permissions = jsonencode({';

/** The short-lived example with the group's members a variable. */
function configuration(tables: string): string {
  let text = exampleFiles('short-lived')['main.tf']!;
  text = edit(text, '  members   = ["oncall@company.com"]', MEMBERS_LINE);
  text = edit(text, '    tables  = ["*"]', `    tables  = ${tables}`);
  text = edit(text, 'provider "adaptive" {}', 'provider "adaptive" {\n  reap_on_run = var.reap_on_run\n}');
  return (
    `${text}\nvariable "members" {\n  type    = list(string)\n  default = ["${MEMBER}"]\n}\n` +
    'variable "reap_on_run" {\n  type    = bool\n  default = true\n}\n'
  );
}

const scratch = scratchDir('adaptive-warnings-');
let mirrorDir: string;

beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let text: string;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    text = configuration('["*"]');
    ws = new TerraformWorkspace({
      mirrorDir,
      files: { 'main.tf': text },
      env: { ...env, TF_VAR_pg_host: cluster.host, TF_VAR_pg_port: String(cluster.port), TF_VAR_pg_username: cluster.user, TF_VAR_pg_password: cluster.password },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
  });

  function apply(...vars: string[]): Promise<TerraformResult> {
    // With colour (removed when reading): Terraform draws the diagnostics' boxes only then.
    return ws.ok(['apply', '-input=false', '-auto-approve', ...vars.map((v) => (v.startsWith('-') ? v : `-var=${v}`))]);
  }

  /** The one warning with this summary, checked to point at `line` of `block`. */
  function warningAt(result: TerraformResult, summary: string, block: string, line: string): ShownDiagnostic {
    const shown = shownDiagnostics(result.stdout + result.stderr);
    const found = shown.filter((d) => d.severity === 'Warning' && d.summary === summary);
    expect(found, `warnings shown: ${JSON.stringify(shown.map((d) => d.summary))}`).toHaveLength(1);
    expect(found[0]!.context).toEqual(expect.arrayContaining(pointingAt(text, block, line)));
    return found[0]!;
  }

  async function credentials(): Promise<IssuedCredentialOutput[]> {
    return credentialList((await ws.outputs()).credentials?.value);
  }

  let first: IssuedCredentialOutput;

  it('applies without warnings', async () => {
    const result = await apply('ttl=1h');
    expect(shownDiagnostics(result.stdout + result.stderr)).toEqual([]);
    first = (await credentials())[0]!;
    expect(first).toMatchObject({ member: MEMBER, endpoint: ENDPOINT });
  });

  it('warns at ttl that lowering it ended a live credential now', async () => {
    // 1s is below the credential's age (plus the second a credential must have left).
    const result = await apply('ttl=1s');
    const shown = warningAt(result, `Credentials of endpoint "${ENDPOINT}" ended by the lower ttl`, ENDPOINT_BLOCK, TTL_LINE);
    expect(shown.detail).toBe(`1 credential(s) ended now: the new ttl puts their expiry in the past: "${first.username}"`);
    expect(await sql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [first.username])).toEqual([]);
  });

  it('warns at members that a member has no live credential any more when the group is applied', async () => {
    const result = await apply('ttl=1h', `members=["${MEMBER}","${SECOND}"]`);
    const shown = warningAt(result, `Members of group "oncall" have no live credential`, GROUP_BLOCK, MEMBERS_LINE);
    expect(shown.detail).toBe(
      `${MEMBER} on ${ENDPOINT} has no live credential any more (expired and reaped, or revoked) (group "oncall"); ` +
        'renew with terraform apply -replace=<this adaptive_group>',
    );
    expect((await credentials()).map((c) => c.member)).toEqual([MEMBER, SECOND]);
  });

  it('warns at permissions (and at the endpoint) what re-syncing the endpoints could not make exact', async () => {
    // A privilege outside the model, granted by hand to the endpoint's access role.
    const role = accessRoleName(ENDPOINT);
    await sql(cluster, 'production', `create type public.answer as enum ('yes', 'no')`);
    await sql(cluster, 'production', `grant usage on type public.answer to "${role}"`);
    text = configuration('["orders"]');
    ws.write('main.tf', text);
    const result = await apply('ttl=1h', `members=["${MEMBER}","${SECOND}"]`);
    const held = 'role holds privileges on type public.answer (outside the authorization; removed when the endpoint is dropped)';
    const onAuthorization = warningAt(result, `Not every endpoint's access role matches authorization "${AUTHORIZATION}"`, AUTHORIZATION_BLOCK, PERMISSIONS_LINE);
    expect(onAuthorization.detail).toBe(`endpoint "${ENDPOINT}": ${held}`);
    const onEndpoint = warningAt(result, `Access role of endpoint "${ENDPOINT}" does not match its authorization exactly`, ENDPOINT_BLOCK, AUTHORIZATION_LINE);
    expect(onEndpoint.detail).toBe(held);
  });

  it('warns at credentials that the group keeps grants that expired (reaping left to later)', async () => {
    const both = `members=["${MEMBER}","${SECOND}"]`;
    // New credentials for both members, valid for 3 seconds.
    await apply('ttl=3s', both, '-replace=adaptive_group.oncall');
    const granted = await credentials();
    expect(granted.map((c) => c.member)).toEqual([MEMBER, SECOND]);
    await untilInstant(new Date(Math.max(...granted.map((c) => Date.parse(c.expires_at)))), 250);
    // A member joins: the group is applied, keeping the two expired credentials it holds.
    const result = await apply('ttl=3s', `members=["${MEMBER}","${SECOND}","${THIRD}"]`, 'reap_on_run=false');
    const shown = shownDiagnostics(result.stdout + result.stderr).filter((d) => d.summary === 'Grants of group "oncall" expired');
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ severity: 'Warning' });
    expect(shown[0]!.context).toContain('  with adaptive_group.oncall,');
    expect(shown[0]!.detail).toBe(
      granted.map((c) => `${c.member} on ${ENDPOINT} expired at ${c.expires_at} (group "oncall"); renew with terraform apply -replace=<this adaptive_group>`).join(' '),
    );
  });
});
