/**
 * `credential_delivery` on `adaptive_group` through real Terraform, the real plugin, real
 * PostgreSQL and the real AWS SDK against a local endpoint speaking Secrets Manager's
 * protocol: with `secrets_manager` each member x endpoint credential is a secret of its own
 * (the seed's secret format plus `expires_at` and `uri`), deleted when the member leaves,
 * when the group is destroyed, and by `adaptive-access reap` at expiry; with `none` no
 * standing credential exists. In both modes no issued password reaches the state file,
 * `terraform show -json` or a saved plan.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { runCli } from '../cli/run-cli';
import { credentialList, installAdaptiveProvider, loginAs, prepareCluster, scratchDir, sql, type IssuedCredentialOutput } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import { TerraformWorkspace } from '../fixtures/terraform';
import { untilInstant } from '../runtime/service-fixture';

const PREFIX = 'adaptive/e2e/';

/** Two groups: `team` on an 8-hour endpoint, `oncall` on a 5-second one (for the reaper). */
function mainTf(mode: string, members: readonly string[]): string {
  const prefix = mode === 'secrets_manager' ? `"${PREFIX}"` : 'null';
  return `
terraform {
  required_providers {
    adaptive = { source = "adaptive-access.local/access/adaptive" }
  }
}
variable "pg_host" { type = string }
variable "pg_port" { type = string }
variable "pg_username" { type = string }
variable "pg_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
variable "aws_region" { type = string }
variable "aws_endpoint" { type = string }

provider "adaptive" {
  aws_region   = var.aws_region
  aws_endpoint = var.aws_endpoint
  # The CLI's reaper is what this test watches at expiry.
  reap_on_run  = false
}

resource "adaptive_resource" "pg" {
  type          = "postgres"
  name          = "delivery-target"
  host          = var.pg_host
  port          = var.pg_port
  username      = var.pg_username
  database_name = "production"
  # Write-only: with it, no password at all is held by Terraform in modes other than "state".
  password_wo         = var.pg_password
  password_wo_version = 1
}

resource "adaptive_authorization" "read" {
  name          = "delivery-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["orders"] })
}

resource "adaptive_endpoint" "long" {
  name          = "delivery-long"
  type          = "direct"
  ttl           = "8h"
  resource      = adaptive_resource.pg.name
  authorization = adaptive_authorization.read.name
}

resource "adaptive_endpoint" "brief" {
  name          = "delivery-brief"
  type          = "direct"
  ttl           = "5s"
  resource      = adaptive_resource.pg.name
  authorization = adaptive_authorization.read.name
}

resource "adaptive_group" "team" {
  name                = "team"
  members             = ${JSON.stringify(members)}
  endpoints           = [adaptive_endpoint.long.name]
  credential_delivery = "${mode}"
  secret_prefix       = ${prefix}
}

resource "adaptive_group" "oncall" {
  name                = "oncall"
  members             = ["oncall@company.com"]
  endpoints           = [adaptive_endpoint.brief.name]
  credential_delivery = "${mode}"
  secret_prefix       = ${prefix}
}

output "team_credentials" {
  value     = adaptive_group.team.credentials
  sensitive = true
}

output "team_secrets" {
  value = adaptive_group.team.secrets
}
`;
}

interface SecretJson {
  username: string;
  password: string;
  engine: string;
  host: string;
  port: number;
  dbname: string;
  expires_at: string;
  uri: string;
}

const scratch = scratchDir('adaptive-delivery-');
let mirrorDir: string;

beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let sm: SecretsManagerFixture;
  let env: Record<string, string>;

  beforeAll(async () => {
    [cluster, sm] = await Promise.all([startPostgres(binaries), startSecretsManager({ region: 'eu-central-1' })]);
    const prepared = await prepareCluster(cluster);
    env = {
      ...prepared.env,
      // The SDK's default chain: no static AWS key is configured anywhere.
      AWS_ACCESS_KEY_ID: sm.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sm.secretAccessKey,
      TF_VAR_pg_host: cluster.host,
      TF_VAR_pg_port: String(cluster.port),
      TF_VAR_pg_username: cluster.user,
      TF_VAR_pg_password: cluster.password,
      TF_VAR_aws_region: sm.region,
      TF_VAR_aws_endpoint: sm.endpoint,
    };
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), sm?.close()]);
  });

  function workspace(mode: string, members: readonly string[]): TerraformWorkspace {
    return new TerraformWorkspace({ files: { 'main.tf': mainTf(mode, members) }, mirrorDir, env });
  }

  function secretJson(name: string): SecretJson | undefined {
    const s = sm.secret(name);
    return s ? (JSON.parse(s.value) as SecretJson) : undefined;
  }

  /** Login roles of a group on the target (members of adaptive_managed). */
  async function loginRolesOf(group: string): Promise<string[]> {
    const rows = await sql<{ name: string }>(
      cluster,
      'production',
      `select r.rolname::text as name from pg_roles r
        where r.rolcanlogin and exists (select from pg_auth_members m join pg_roles g on g.oid = m.roleid
                                         where m.member = r.oid and g.rolname = 'adaptive_managed')
          and shobj_description(r.oid, 'pg_authid') like $1
        order by 1`,
      [`%"group":${JSON.stringify(group)}%`],
    );
    return rows.map((r) => r.name);
  }

  /** Everything a reader of the state, `show -json` and a saved plan (its files unzipped) gets. */
  async function whatTerraformHolds(ws: TerraformWorkspace): Promise<string> {
    const state = readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8');
    const shown = (await ws.ok(['show', '-json'])).stdout;
    await ws.ok(['plan', '-no-color', '-input=false', '-out=saved.tfplan']);
    const planFile = execFileSync('unzip', ['-p', path.join(ws.dir, 'saved.tfplan')]).toString('latin1');
    const planShown = (await ws.ok(['show', '-json', 'saved.tfplan'])).stdout;
    return [state, shown, planFile, planShown].join('\n');
  }

  describe('secrets_manager', () => {
    let ws: TerraformWorkspace;
    const passwords: string[] = [];
    const name = (group: string, member: string, endpoint: string): string => `${PREFIX}${group}/${member}/${endpoint}`;

    beforeAll(async () => {
      ws = workspace('secrets_manager', ['ann@company.com', 'bob@company.com']);
      await ws.init();
    });
    afterAll(() => ws?.dispose());

    it('writes each credential as its own secret in the seed format; the member logs in with it; state holds only ARNs', async () => {
      await ws.apply();
      for (const member of ['ann@company.com', 'bob@company.com']) {
        const json = secretJson(name('team', member, 'delivery-long'))!;
        expect(json).toMatchObject({ engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'production' });
        expect(Date.parse(json.expires_at) - Date.now()).toBeGreaterThan(7.9 * 3600_000);
        expect(json.uri).toBe(`postgresql://${encodeURIComponent(json.username)}:${encodeURIComponent(json.password)}@${cluster.host}:${cluster.port}/production?sslmode=prefer`);
        passwords.push(json.password);
        const client = await loginAs({ host: json.host, port: json.port, username: json.username, password: json.password, database: json.dbname } as IssuedCredentialOutput);
        try {
          expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
        } finally {
          await client.end();
        }
      }
      passwords.push(secretJson(name('oncall', 'oncall@company.com', 'delivery-brief'))!.password);
      const outputs = await ws.outputs();
      expect(outputs.team_credentials?.value).toEqual({});
      expect(Object.keys(outputs.team_secrets?.value as object)).toEqual(['delivery-long/ann@company.com', 'delivery-long/bob@company.com']);
      const secrets = credentialList<{ member: string; endpoint: string; arn: string }>(outputs.team_secrets?.value);
      expect(secrets.map((s) => [s.member, s.arn])).toEqual([
        ['ann@company.com', sm.secret(name('team', 'ann@company.com', 'delivery-long'))!.arn],
        ['bob@company.com', sm.secret(name('team', 'bob@company.com', 'delivery-long'))!.arn],
      ]);
      const plan = await ws.plan();
      expect(plan.stdout).toContain('No changes');
    });

    it('the reaper deletes the secret of an expired credential', async () => {
      const oncall = name('oncall', 'oncall@company.com', 'delivery-brief');
      const json = secretJson(oncall)!;
      const arn = sm.secret(oncall)!.arn;
      await untilInstant(new Date(json.expires_at), 500);
      const reaped = await runCli(['reap'], { env: { ADAPTIVE_CATALOG_URL: env.ADAPTIVE_CATALOG_URL!, ADAPTIVE_CATALOG_KEY: env.ADAPTIVE_CATALOG_KEY!, AWS_ACCESS_KEY_ID: sm.accessKeyId, AWS_SECRET_ACCESS_KEY: sm.secretAccessKey } });
      expect(reaped.code, reaped.stderr).toBe(0);
      expect(sm.secret(oncall)).toBeUndefined();
      expect(sm.requests.filter((r) => r.target === 'secretsmanager.DeleteSecret').map((r) => r.body)).toContainEqual({ SecretId: arn, ForceDeleteWithoutRecovery: true });
      expect(await loginRolesOf('oncall')).toEqual([]);
    });

    it('a member removed from the group loses the secret', async () => {
      const bob = secretJson(name('team', 'bob@company.com', 'delivery-long'))!;
      ws.write('main.tf', mainTf('secrets_manager', ['ann@company.com']));
      await ws.apply();
      expect(sm.secret(name('team', 'bob@company.com', 'delivery-long'))).toBeUndefined();
      expect(sm.secret(name('team', 'ann@company.com', 'delivery-long'))).toBeDefined();
      await expect(loginAs({ host: bob.host, port: bob.port, username: bob.username, password: bob.password, database: bob.dbname } as IssuedCredentialOutput)).rejects.toThrow(
        /password authentication failed|does not exist/,
      );
    });

    it('no issued password is in the state file, terraform show -json or a saved plan', async () => {
      ws.write('main.tf', mainTf('secrets_manager', ['ann@company.com', 'carl@company.com']));
      const held = await whatTerraformHolds(ws);
      expect(held).toContain(sm.secret(name('team', 'ann@company.com', 'delivery-long'))!.arn);
      expect(passwords).toHaveLength(3);
      for (const password of passwords) expect(held).not.toContain(password);
      expect(held).not.toContain(cluster.password);
      await ws.apply();
      passwords.push(secretJson(name('team', 'carl@company.com', 'delivery-long'))!.password);
      const after = await whatTerraformHolds(ws);
      for (const password of passwords) expect(after).not.toContain(password);
    });

    it('destroy deletes every secret', async () => {
      await ws.destroy();
      expect(sm.secretNames().filter((n) => n.startsWith(PREFIX))).toEqual([]);
      expect(await loginRolesOf('team')).toEqual([]);
    });
  });

  describe('none', () => {
    let ws: TerraformWorkspace;

    beforeAll(async () => {
      ws = workspace('none', ['ann@company.com']);
      await ws.init();
    });
    afterAll(() => ws?.dispose());

    it('issues no standing credential, and plans no change', async () => {
      await ws.apply();
      expect(await loginRolesOf('team')).toEqual([]);
      expect(await loginRolesOf('oncall')).toEqual([]);
      expect((await ws.outputs()).team_credentials?.value).toEqual({});
      expect((await ws.plan()).code).toBe(0);
    });

    it('holds no password field value in the state file, terraform show -json or a saved plan', async () => {
      ws.write('main.tf', mainTf('none', ['ann@company.com', 'bob@company.com']));
      const held = await whatTerraformHolds(ws);
      const state = JSON.parse(readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')) as {
        resources: Array<{ type: string; instances: Array<{ attributes: { credentials: unknown; secrets: unknown } }> }>;
      };
      for (const group of state.resources.filter((r) => r.type === 'adaptive_group')) {
        expect(group.instances[0]!.attributes.credentials).toEqual({});
        expect(group.instances[0]!.attributes.secrets).toEqual({});
      }
      // Not even the admin's: it is write-only. ("string" is the field's type, where the plan file describes the object.)
      const values = [...held.matchAll(/"password(?:_wo)?":\s*"([^"]+)"/g)].map((m) => m[1]).filter((v) => v !== 'string');
      expect(values).toEqual([]);
      expect(held).not.toContain(cluster.password);
      await ws.apply();
      expect(await loginRolesOf('team')).toEqual([]);
    });

    it('none -> state issues credentials in state; state -> none revokes them', async () => {
      ws.write('main.tf', mainTf('state', ['ann@company.com', 'bob@company.com']));
      await ws.apply();
      const credentials = credentialList((await ws.outputs()).team_credentials?.value);
      expect(credentials.map((c) => c.member)).toEqual(['ann@company.com', 'bob@company.com']);
      const client = await loginAs(credentials[0]!);
      await client.end();
      expect(await loginRolesOf('team')).toHaveLength(2);
      ws.write('main.tf', mainTf('none', ['ann@company.com', 'bob@company.com']));
      await ws.apply();
      expect(await loginRolesOf('team')).toEqual([]);
      await expect(loginAs(credentials[0]!)).rejects.toThrow(/password authentication failed|does not exist/);
      expect((await ws.outputs()).team_credentials?.value).toEqual({});
      expect((await ws.plan()).code).toBe(0);
      await ws.destroy();
    });
  });
});
