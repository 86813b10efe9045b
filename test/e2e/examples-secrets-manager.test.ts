/**
 * The seed's AWS Secrets Manager example against a local endpoint that speaks the
 * service's protocol, so the real AWS SDK runs inside the real plugin: a secret that does
 * not exist fails the apply naming `aws_secret_name` and records nothing; with the secret
 * (the seed's Secret Format) the resource applies through SigV4-signed GetSecretValue
 * calls; the catalog keeps only the reference, never the admin password; a second plan is
 * empty; destroy leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { SIGV4_AUTHORIZATION, startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import {
  accessRoles,
  catalogCounts,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
  openStoredSecrets,
  prepareCluster,
  printed,
  scratchDir,
  sql,
  storedResource,
} from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

// One plugin bundle and mirror for both majors.
const scratch = scratchDir('adaptive-e2e-sm-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let secrets: SecretsManagerFixture;
  let env: Record<string, string>;
  let ws: TerraformWorkspace;

  beforeAll(async () => {
    [cluster, secrets] = await Promise.all([startPostgres(binaries), startSecretsManager()]);
    ({ env } = await prepareCluster(cluster));
    ws = exampleWorkspace('secrets-manager', {
      mirrorDir,
      env,
      vars: {
        pg_host: cluster.host,
        pg_port: String(cluster.port),
        aws_access_key: secrets.accessKeyId,
        aws_secret_key: secrets.secretAccessKey,
        aws_endpoint: secrets.endpoint,
      },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([cluster?.stop(), secrets?.close()]);
  });

  /** The requests the fixture received from `from` on, each checked to be a signed GetSecretValue. */
  function getSecretValueCalls(from: number): string[] {
    const calls = secrets.requests.slice(from);
    for (const request of calls) {
      expect(request).toMatchObject({ method: 'POST', path: '/', target: 'secretsmanager.GetSecretValue', contentType: 'application/x-amz-json-1.1' });
      expect(request.authorization).toMatch(SIGV4_AUTHORIZATION);
      // Signed with the configured static key, for the configured region.
      expect(request.authorization).toContain(`Credential=${secrets.accessKeyId}/`);
      expect(request.authorization).toContain('/us-east-1/secretsmanager/aws4_request');
    }
    return calls.map((request) => (request.body as { SecretId?: string }).SecretId ?? '');
  }

  it('fails naming aws_secret_name when the secret does not exist, and records nothing', async () => {
    const before = secrets.requests.length;
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Failed to create adaptive_resource');
    expect(text).toContain(
      'Target "postgres-secure": the AWS Secrets Manager secret "postgres-credentials" (aws_secret_name) in region us-east-1 does not exist.',
    );
    const asked = getSecretValueCalls(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['postgres-credentials']));
    expect((await ws.ok(['state', 'list'])).stdout.trim()).toBe('');
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
  });

  it('applies with the admin credentials read from the secret', async () => {
    secrets.putSecret('postgres-credentials', {
      username: cluster.user,
      password: cluster.password,
      engine: 'postgres',
      host: cluster.host,
      port: cluster.port,
      dbname: 'production',
    });
    const before = secrets.requests.length;
    await ws.apply();
    const asked = getSecretValueCalls(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['postgres-credentials']));
    const marker = await sql(cluster, 'postgres', "select 1 from pg_roles where rolname = 'adaptive_managed'");
    expect(marker).toHaveLength(1);
  });

  it('keeps only the reference to the secret in the catalog, never the admin password', async () => {
    const stored = await storedResource(cluster, 'postgres-secure');
    // Booleans first, not the values: a failing assertion must not print a secret.
    expect(JSON.stringify(stored?.config).includes(cluster.password)).toBe(false);
    expect(JSON.stringify(stored?.config).includes(secrets.secretAccessKey)).toBe(false);
    expect(stored?.config).toMatchObject({
      host: cluster.host,
      port: cluster.port,
      database: 'production',
      aws: { secretName: 'postgres-credentials', region: 'us-east-1', endpoint: secrets.endpoint },
    });
    expect(stored?.config).not.toHaveProperty('password');
    expect(stored?.config).not.toHaveProperty('username');
    // What is sealed is the static AWS key pair of the configuration, not the database password.
    expect(stored?.secrets?.includes(Buffer.from(cluster.password))).toBe(false);
    const opened = openStoredSecrets(env, 'postgres-secure', stored!);
    expect(Object.keys(opened).sort()).toEqual(['awsAccessKeyId', 'awsSecretAccessKey']);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(cluster)).toEqual([]);
  });
});
