/**
 * Write-only admin secrets on `adaptive_resource` (`password_wo`, `aws_secret_access_key_wo`,
 * each with its `_version`), applied by real Terraform with the real plugin against real
 * PostgreSQL and a local Secrets Manager: the secret reaches the catalog (where the reaper
 * and later plans find it) but never the state file, `terraform show -json` nor a saved
 * plan file (its zip bytes and every entry unzipped). An update made for another reason
 * connects with the value in the configuration; a new value without a version bump plans
 * nothing (and once the server has changed, refreshing the endpoint fails on the catalog's
 * outdated copy); bumping the version applies the new password and logs it nowhere, even at
 * trace level; switching from `password` takes it out of state; setting a write-only secret
 * together with its plain attribute, or one half of a pair alone, fails the plan.
 *
 * The secrets come from `ephemeral = true` variables, as the docs advise: Terraform writes
 * the values of ordinary variables into plan files.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { accessRoleName } from '../../src/runtime/access/access-role';
import { ident, literal } from '../../src/runtime/pg/sql';
import { installAdaptiveProvider, openStoredSecrets, prepareCluster, printed, scratchDir, sql, storedResource } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import { TerraformWorkspace, type TerraformResult } from '../fixtures/terraform';

const scratch = scratchDir('adaptive-e2e-wo-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

const TERRAFORM_HEADER = `terraform {
  required_providers {
    adaptive = {
      source = "adaptive-access.local/access/adaptive"
    }
  }
}

provider "adaptive" {}
`;

const ADMIN = 'wo_admin';
const TARGET = 'wo-target';
const AWS_TARGET = 'wo-aws-target';
const SWITCH_TARGET = 'wo-switch-target';

/** A target whose admin password is write-only, and an endpoint on it (applying and refreshing it connect). */
function passwordWorkspaceFiles(cluster: LocalCluster): Record<string, string> {
  return {
    'main.tf': `${TERRAFORM_HEADER}
variable "admin_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "admin_password_version" {
  type = number
}

variable "connect_timeout" {
  type    = number
  default = 10
}

resource "adaptive_resource" "pg" {
  type                = "postgres"
  name                = "${TARGET}"
  host                = "${cluster.host}"
  port                = "${cluster.port}"
  database_name       = "production"
  username            = "${ADMIN}"
  password_wo         = var.admin_password
  password_wo_version = var.admin_password_version
  connect_timeout     = var.connect_timeout
}

resource "adaptive_authorization" "read" {
  name          = "wo-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })
}

resource "adaptive_endpoint" "readers" {
  name          = "wo-readers"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.pg.name
  authorization = adaptive_authorization.read.name
}
`,
  };
}

/** A target whose admin credentials come from Secrets Manager, read with a write-only static key. */
function awsWorkspaceFiles(cluster: LocalCluster, secrets: SecretsManagerFixture): Record<string, string> {
  return {
    'main.tf': `${TERRAFORM_HEADER}
variable "aws_secret_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "adaptive_resource" "pg" {
  type          = "postgres"
  name          = "${AWS_TARGET}"
  host          = "${cluster.host}"
  port          = "${cluster.port}"
  database_name = "production"

  use_aws_secrets                  = true
  aws_secret_name                  = "wo-admin-credentials"
  aws_region                       = "${secrets.region}"
  aws_endpoint                     = "${secrets.endpoint}"
  aws_access_key_id                = "${secrets.accessKeyId}"
  aws_secret_access_key_wo         = var.aws_secret_key
  aws_secret_access_key_wo_version = 1
}
`,
  };
}

/** A target given its admin password as `password` (in state) or as `password_wo`. */
function switchingWorkspaceFile(cluster: LocalCluster, writeOnly: boolean): string {
  const secret = writeOnly ? 'password_wo         = var.admin_password\n  password_wo_version = 1' : 'password = var.admin_password';
  return `${TERRAFORM_HEADER}
variable "admin_password" {
  type      = string
  sensitive = true
  ephemeral = ${String(writeOnly)}
}

resource "adaptive_resource" "pg" {
  type          = "postgres"
  name          = "${SWITCH_TARGET}"
  host          = "${cluster.host}"
  port          = "${cluster.port}"
  database_name = "production"
  username      = "${cluster.user}"
  ${secret}
}
`;
}

/** Each mistake in a resource of its own, so one plan reports them all. */
const CONFLICTS_FILES: Record<string, string> = {
  'main.tf': `${TERRAFORM_HEADER}
resource "adaptive_resource" "both_passwords" {
  type                = "postgres"
  name                = "both-passwords"
  host                = "127.0.0.1"
  database_name       = "production"
  username            = "admin"
  password            = "in-state"
  password_wo         = "wo-example-value"
  password_wo_version = 1
}

resource "adaptive_resource" "version_alone" {
  type                = "postgres"
  name                = "version-alone"
  host                = "127.0.0.1"
  database_name       = "production"
  username            = "admin"
  password            = "in-state"
  password_wo_version = 1
}

resource "adaptive_resource" "value_alone" {
  type          = "postgres"
  name          = "value-alone"
  host          = "127.0.0.1"
  database_name = "production"
  username      = "admin"
  password_wo   = "wo-example-value"
}

resource "adaptive_resource" "both_aws_keys" {
  type                             = "postgres"
  name                             = "both-aws-keys"
  host                             = "127.0.0.1"
  database_name                    = "production"
  use_aws_secrets                  = true
  aws_secret_name                  = "admin"
  aws_access_key_id                = "AKIAIOSFODNN7EXAMPLE"
  aws_secret_access_key            = "in-state"
  aws_secret_access_key_wo         = "wo-example-value"
  aws_secret_access_key_wo_version = 1
}
`,
};

/** A secret for one test: random, so finding it anywhere means it leaked. */
function freshSecret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * Every place Terraform keeps what a run knew: the state file, `terraform show -json`, a
 * saved plan file as bytes and each of its entries unzipped, and that plan shown as JSON.
 */
async function terraformRecords(ws: TerraformWorkspace, env: Record<string, string>): Promise<Record<string, string>> {
  const planned = await ws.run(['plan', '-no-color', '-input=false', '-out=saved.tfplan'], env);
  expect(planned.code, printed(planned)).toBe(0);
  const planFile = path.join(ws.dir, 'saved.tfplan');
  const entries = execFileSync('zipinfo', ['-1', planFile], { encoding: 'utf8' }).split('\n').filter(Boolean);
  // A plan file is a zip holding the plan, the prior state and the configuration.
  expect(entries).toEqual(expect.arrayContaining(['tfplan', 'tfstate']));
  const records: Record<string, string> = {
    'terraform.tfstate': readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8'),
    'terraform show -json': (await ws.ok(['show', '-json'], env)).stdout,
    'plan file bytes': readFileSync(planFile).toString('latin1'),
    'terraform show -json saved.tfplan': (await ws.ok(['show', '-json', 'saved.tfplan'], env)).stdout,
  };
  for (const entry of entries) records[`plan file entry ${entry}`] = execFileSync('unzip', ['-p', planFile, entry]).toString('latin1');
  return records;
}

/** The names of the records that contain `secret`, raw or base64 (never the secret itself: a failure prints none). */
function holding(records: Record<string, string>, secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64')];
  return Object.entries(records)
    .filter(([, text]) => forms.some((form) => text.includes(form)))
    .map(([name]) => name);
}

/** The adaptive_resource's attributes in the state file. */
function resourceState(ws: TerraformWorkspace): Record<string, unknown> {
  const state = JSON.parse(readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')) as {
    resources: Array<{ type: string; instances: Array<{ attributes: Record<string, unknown> }> }>;
  };
  return state.resources.find((r) => r.type === 'adaptive_resource')!.instances[0]!.attributes;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let secrets: SecretsManagerFixture;
  let env: Record<string, string>;
  let ws: TerraformWorkspace;
  let awsWs: TerraformWorkspace;
  let conflictsWs: TerraformWorkspace;
  let switchWs: TerraformWorkspace;
  const firstPassword = freshSecret('wo-first');
  const secondPassword = freshSecret('wo-second');

  beforeAll(async () => {
    [cluster, secrets] = await Promise.all([startPostgres(binaries), startSecretsManager()]);
    ({ env } = await prepareCluster(cluster));
    // An admin of its own: the tests reach the cluster with its superuser's password.
    await sql(cluster, 'postgres', `create role ${ident(ADMIN)} login superuser password ${literal(firstPassword)}`);
    ws = new TerraformWorkspace({ files: passwordWorkspaceFiles(cluster), mirrorDir, env });
    awsWs = new TerraformWorkspace({ files: awsWorkspaceFiles(cluster, secrets), mirrorDir, env });
    conflictsWs = new TerraformWorkspace({ files: CONFLICTS_FILES, mirrorDir, env });
    switchWs = new TerraformWorkspace({ files: { 'main.tf': switchingWorkspaceFile(cluster, false) }, mirrorDir, env });
    await Promise.all([ws.init(), awsWs.init(), conflictsWs.init(), switchWs.init()]);
  });
  afterAll(async () => {
    ws?.dispose();
    awsWs?.dispose();
    conflictsWs?.dispose();
    switchWs?.dispose();
    await Promise.all([cluster?.stop(), secrets?.close()]);
  });

  const vars = (password: string, version: number, connectTimeout = 10): Record<string, string> => ({
    TF_VAR_admin_password: password,
    TF_VAR_admin_password_version: String(version),
    TF_VAR_connect_timeout: String(connectTimeout),
  });

  function apply(password: string, version: number, connectTimeout?: number): Promise<TerraformResult> {
    return ws.ok(['apply', '-no-color', '-input=false', '-auto-approve'], vars(password, version, connectTimeout));
  }

  function plan(password: string, version: number, connectTimeout?: number): Promise<TerraformResult> {
    return ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'], vars(password, version, connectTimeout));
  }

  /** Whether the catalog holds `password` as the target's admin password (compared, never printed). */
  async function storedPasswordIs(password: string): Promise<boolean> {
    const record = await storedResource(cluster, TARGET);
    return record !== undefined && openStoredSecrets(env, TARGET, record).password === password;
  }

  it('applies with password_wo: the catalog has the password, no state, show or plan file has it', async () => {
    await apply(firstPassword, 1);
    expect(await storedPasswordIs(firstPassword)).toBe(true);
    expect(resourceState(ws)).toMatchObject({ password: null, password_wo: null, password_wo_version: 1 });
    // The endpoint was applied: the runtime reached the target with the stored password.
    expect(await sql(cluster, 'postgres', 'select 1 from pg_roles where rolname = $1', [accessRoleName('wo-readers')])).toHaveLength(1);
    // The saved plan bumps the version: it carries an update with the new value in play.
    const records = await terraformRecords(ws, vars(secondPassword, 2));
    expect(Object.keys(records).length).toBeGreaterThan(5);
    expect(holding(records, firstPassword)).toEqual([]);
    expect(holding(records, secondPassword)).toEqual([]);
    // The records are the right ones: the plan holds the version's change, the state the target.
    expect(records['terraform show -json saved.tfplan']).toContain('"password_wo_version":2');
    expect(records['terraform.tfstate']).toContain(`"name": "${TARGET}"`);
  });

  it('an update for another reason connects with the password_wo of the configuration and keeps it', async () => {
    const result = await apply(firstPassword, 1, 20);
    expect(printed(result)).toContain('1 changed');
    expect((await storedResource(cluster, TARGET))?.config).toMatchObject({ connectTimeoutSeconds: 20 });
    expect(await storedPasswordIs(firstPassword)).toBe(true);
    const after = await plan(firstPassword, 1, 20);
    expect(after.code, printed(after)).toBe(0);
  });

  it('a new password_wo without a version bump plans no change to the resource and keeps the stored password', async () => {
    // Before the server changes: a clean plan with nothing to do.
    const unchanged = await plan(secondPassword, 1, 20);
    expect(unchanged.code, printed(unchanged)).toBe(0);
    expect(printed(unchanged)).toContain('No changes.');
    await sql(cluster, 'postgres', `alter role ${ident(ADMIN)} password ${literal(secondPassword)}`);
    const result = await plan(secondPassword, 1, 20);
    const text = printed(result);
    // Terraform does not compare write-only values: nothing planned for the resource. The
    // refresh of the endpoint connects with the catalog's password, outdated now, and says so.
    expect(text).toContain('adaptive_resource.pg: Refreshing state...');
    expect(text).not.toContain('adaptive_resource.pg will be updated');
    expect(result.code).toBe(1);
    expect(text).toContain(`Cannot connect to target "${TARGET}"`);
    expect(text).toContain(`password authentication failed for user "${ADMIN}"`);
    expect(await storedPasswordIs(firstPassword)).toBe(true);
  });

  it('bumping password_wo_version applies the new password, logged nowhere; plans after it connect with it', async () => {
    // -refresh=false: refreshing the endpoint would connect with the old password (above).
    // At trace level, Terraform's log and the plugin's lines it relays are in the output too.
    const result = await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve', '-refresh=false'], { ...vars(secondPassword, 2, 20), TF_LOG: 'trace' });
    expect(result.stderr).toContain('[TRACE]');
    expect(holding({ stdout: result.stdout, stderr: result.stderr }, secondPassword)).toEqual([]);
    expect(printed(result)).toContain('adaptive_resource.pg will be updated in-place');
    expect(printed(result)).toContain('0 added, 1 changed, 0 destroyed');
    expect(await storedPasswordIs(secondPassword)).toBe(true);
    expect(resourceState(ws)).toMatchObject({ password_wo: null, password_wo_version: 2 });
    const after = await plan(secondPassword, 2, 20);
    expect(after.code, printed(after)).toBe(0);
    const records = await terraformRecords(ws, vars(secondPassword, 2, 20));
    expect(holding(records, secondPassword)).toEqual([]);
    expect(holding(records, firstPassword)).toEqual([]);
  });

  it('aws_secret_access_key_wo reads the secret with the key, kept in the catalog and out of state, show and plan file', async () => {
    secrets.putSecret('wo-admin-credentials', { username: cluster.user, password: cluster.password });
    const key = freshSecret('wo-aws-key');
    const keyVars = { TF_VAR_aws_secret_key: key };
    const before = secrets.requests.length;
    await awsWs.ok(['apply', '-no-color', '-input=false', '-auto-approve'], keyVars);
    expect(secrets.requests.slice(before).some((r) => r.target === 'secretsmanager.GetSecretValue')).toBe(true);
    const record = await storedResource(cluster, AWS_TARGET);
    expect(record !== undefined && openStoredSecrets(env, AWS_TARGET, record).awsSecretAccessKey === key).toBe(true);
    expect(resourceState(awsWs)).toMatchObject({ aws_secret_access_key: null, aws_secret_access_key_wo: null, aws_secret_access_key_wo_version: 1 });
    const records = await terraformRecords(awsWs, keyVars);
    expect(holding(records, key)).toEqual([]);
    expect(holding(records, cluster.password)).toEqual([]);
    expect(records['terraform.tfstate']).toContain(`"name": "${AWS_TARGET}"`);
  });

  it('switching from password to password_wo takes the password out of state and keeps it in the catalog', async () => {
    const withPassword = { TF_VAR_admin_password: cluster.password };
    await switchWs.ok(['apply', '-no-color', '-input=false', '-auto-approve'], withPassword);
    // The check can see it: with `password`, the state holds it.
    expect(holding({ 'terraform.tfstate': readFileSync(path.join(switchWs.dir, 'terraform.tfstate'), 'utf8') }, cluster.password)).toEqual(['terraform.tfstate']);
    switchWs.write('main.tf', switchingWorkspaceFile(cluster, true));
    const switched = await switchWs.ok(['apply', '-no-color', '-input=false', '-auto-approve'], withPassword);
    expect(printed(switched)).toContain('0 added, 1 changed, 0 destroyed');
    expect(resourceState(switchWs)).toMatchObject({ password: null, password_wo: null, password_wo_version: 1 });
    const record = await storedResource(cluster, SWITCH_TARGET);
    expect(record !== undefined && openStoredSecrets(env, SWITCH_TARGET, record).password === cluster.password).toBe(true);
    const records = await terraformRecords(switchWs, withPassword);
    expect(holding(records, cluster.password)).toEqual([]);
    const after = await switchWs.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'], withPassword);
    expect(after.code, printed(after)).toBe(0);
  });

  it('refuses a write-only secret with its plain attribute, and either half of a pair alone, naming both', async () => {
    const result = await conflictsWs.run(['plan', '-no-color', '-input=false']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain(
      'Error: Invalid password_wo with adaptive_resource.both_passwords, on main.tf line 18, in resource "adaptive_resource" "both_passwords": ' +
        '18: password_wo = "wo-example-value" password_wo and password are both set: the admin password comes from one of them; ' +
        'remove password (kept in state) or password_wo (kept out of it)',
    );
    expect(text).toContain(
      'Error: Invalid password_wo_version with adaptive_resource.version_alone, on main.tf line 29, in resource "adaptive_resource" "version_alone": ' +
        '29: password_wo_version = 1 password_wo_version is set without password_wo: the version says when to apply a new password_wo, ' +
        'and there is none; set password_wo, or remove password_wo_version',
    );
    expect(text).toContain(
      'Error: Missing password_wo_version with adaptive_resource.value_alone, on main.tf line 38, in resource "adaptive_resource" "value_alone": ' +
        '38: password_wo = "wo-example-value" password_wo_version is required with password_wo: Terraform does not compare write-only values, ' +
        'so a new password_wo is applied only when password_wo_version changes; set password_wo_version = 1 and raise it with each new value',
    );
    expect(text).toContain(
      'aws_secret_access_key_wo and aws_secret_access_key are both set: the AWS secret access key comes from one of them; ' +
        'remove aws_secret_access_key (kept in state) or aws_secret_access_key_wo (kept out of it)',
    );
    // Nothing else: the other rules accept each resource.
    expect(text.match(/Error: /g)).toHaveLength(4);
  });
});
