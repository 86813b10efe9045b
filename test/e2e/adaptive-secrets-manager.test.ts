/**
 * Adaptive's own Secrets Manager form (examples/adaptive-secrets-manager: `type =
 * "postgres_aws_secrets_manager"` with `arn`, `region`, `secret_id`, no host) and the seed's
 * `use_aws_secrets` form with `aws_role_arn`, applied with real Terraform and the real AWS
 * SDK inside the plugin against local stand-ins speaking STS's query protocol and Secrets
 * Manager's JSON protocol. The AWS credentials come from the environment (the SDK's default
 * chain) and only sign AssumeRole; the secret is returned only to the role's temporary
 * credentials. A role STS refuses fails the apply naming the role and the fix, with nothing
 * recorded for the targets; allowed, it applies, a member logs in with the issued credential,
 * a second plan and an import are clean, and destroy leaves no role behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import {
  accessRoles,
  catalogCounts,
  credentialList,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
  loginAs,
  prepareCatalog,
  printed,
  scratchDir,
  SEED_SQL,
  sql,
  storedResource,
} from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import { signingAccessKeyId, startSts, type StsFixture } from '../fixtures/sts';
import type { TerraformWorkspace } from '../fixtures/terraform';

/** The role and secret as Adaptive's example names them. */
const ROLE = 'arn:aws:iam::123456789012:role/secretsAccessRole';
const SECRET_ID = 'db/postgres/pagila';

const scratch = scratchDir('adaptive-e2e-sts-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let sm: SecretsManagerFixture;
  let sts: StsFixture;
  let ws: TerraformWorkspace;

  beforeAll(async () => {
    [cluster, sm, sts] = await Promise.all([startPostgres(binaries), startSecretsManager({ region: 'us-east-1' }), startSts()]);
    const { env } = await prepareCatalog(cluster);
    await sql(cluster, 'postgres', 'create database pagila');
    await sql(cluster, 'pagila', SEED_SQL);
    // The seed's secret format: the address is in the secret, not in the configuration.
    sm.putSecret(SECRET_ID, { username: cluster.user, password: cluster.password, engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'pagila' });
    // Only the role's temporary credentials may read it, never the keys that assume the role.
    sm.restrictTo((accessKeyId) => sts.issued.some((c) => c.accessKeyId === accessKeyId && c.roleArn === ROLE));
    ws = exampleWorkspace('adaptive-secrets-manager', {
      mirrorDir,
      env: { ...env, AWS_ACCESS_KEY_ID: sm.accessKeyId, AWS_SECRET_ACCESS_KEY: sm.secretAccessKey },
      vars: { aws_endpoint: sm.endpoint, aws_sts_endpoint: sts.endpoint, pg_host: cluster.host, pg_port: String(cluster.port) },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([cluster?.stop(), sm?.close(), sts?.close()]);
  });

  it('fails naming the role and the fix while STS refuses it, reads no secret and records no target', async () => {
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain(
      `Target "pagila-tf": AWS STS refused to let these credentials assume the IAM role "${ROLE}" (arn) to read the AWS Secrets Manager secret "${SECRET_ID}" (secret_id) in region us-east-1: AccessDenied`,
    );
    expect(text).toContain(`Target "pagila-seed-form": AWS STS refused to let these credentials assume the IAM role "${ROLE}" (aws_role_arn)`);
    expect(text).toMatch(/trust policy must name their user or role as Principal with "Action": "sts:AssumeRole"/);
    expect(text).toContain('or correct arn if it names the wrong role');
    expect(text.includes(sm.secretAccessKey)).toBe(false);

    expect(sts.requests.length).toBeGreaterThan(0);
    for (const request of sts.requests) {
      expect(request.params).toMatchObject({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 'adaptive-access' });
      expect(signingAccessKeyId(request.authorization)).toBe(sm.accessKeyId);
    }
    expect(sm.requests).toHaveLength(0);
    const counts = await catalogCounts(cluster);
    expect({ resources: counts.resources, endpoints: counts.endpoints, groups: counts.groups, liveCredentials: counts.liveCredentials }).toEqual({
      resources: 0,
      endpoints: 0,
      groups: 0,
      liveCredentials: 0,
    });
    expect(await accessRoles(cluster)).toEqual([]);
  });

  it("applies once the role may be assumed: the secret read with the role's credentials, a member logs in", async () => {
    sts.allowRole(ROLE);
    const issuedBefore = sts.issued.length;
    await ws.apply();
    const issued = sts.issued.slice(issuedBefore);
    expect(issued.length).toBeGreaterThan(0);
    for (const credentials of issued) expect(credentials.signedBy).toBe(sm.accessKeyId);
    const reads = sm.requests.filter((r) => r.target === 'secretsmanager.GetSecretValue');
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) expect(issued.map((c) => c.accessKeyId)).toContain(signingAccessKeyId(read.authorization));

    const [credential] = credentialList((await ws.outputs()).analyst_credentials?.value);
    expect(credential).toMatchObject({ host: cluster.host, port: cluster.port, database: 'pagila' });
    const member = await loginAs(credential!);
    try {
      const { rows } = await member.query<{ item: string }>('select item from public.orders order by id');
      expect(rows.map((r) => r.item)).toEqual(['book', 'lamp']);
      await expect(member.query("insert into public.orders (item) values ('x')")).rejects.toThrow(/permission denied/);
    } finally {
      await member.end();
    }
  });

  it('keeps the reference, the role and no secret in the catalog', async () => {
    const stored = await storedResource(cluster, 'pagila-tf');
    expect(JSON.stringify(stored?.config).includes(cluster.password)).toBe(false);
    expect(stored?.config).toMatchObject({
      type: 'postgres_aws_secrets_manager',
      host: '',
      port: 0,
      database: '',
      aws: { secretName: SECRET_ID, region: 'us-east-1', roleArn: ROLE, endpoint: sm.endpoint, stsEndpoint: sts.endpoint },
    });
    expect(stored?.secrets).toBeNull();
    expect((await storedResource(cluster, 'pagila-seed-form'))?.config).toMatchObject({ host: cluster.host, database: 'pagila', aws: { roleArn: ROLE } });
  });

  it('plans no changes on a second run, nor after importing both targets again', async () => {
    expect(printed(await ws.plan())).toContain('No changes');
    for (const [address, name] of [
      ['adaptive_resource.pg_pagila_secrets_manager', 'pagila-tf'],
      ['adaptive_resource.pg_pagila_use_aws_secrets', 'pagila-seed-form'],
    ] as const) {
      await ws.ok(['state', 'rm', address]);
      await ws.ok(['import', '-no-color', '-input=false', address, name]);
    }
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(cluster)).toEqual([]);
  });
});
