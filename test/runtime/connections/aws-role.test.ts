/**
 * An IAM role assumed through STS to read a target's admin secret (Adaptive's
 * `postgres_aws_secrets_manager` form, and `aws_role_arn` of the `use_aws_secrets` form),
 * through the real AWS SDK against local stand-ins speaking STS's query protocol and Secrets
 * Manager's JSON protocol: the AssumeRole request is the one the SDK really sends, signed with
 * the configured keys; the secret is read with the role's temporary credentials (not the
 * keys); the secret's address and login really reach PostgreSQL; a refused role fails naming
 * the role and the fix, with no key or token in the message and no secret read.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { AssumeRoleFailure, awsCredentials, ConnectionError, ROLE_SESSION_NAME, testConnection } from '../../../src/runtime/connections';
import { runtimeSecrets } from '../../../src/runtime/secret-registry';
import type { TargetConfig } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../../fixtures/secrets-manager';
import { signingAccessKeyId, startSts, type StsFixture } from '../../fixtures/sts';

const ADMIN = 'role_admin';
const ADMIN_PASSWORD = 'Secret-read-through-a-role-4e2a';
const ROLE = 'arn:aws:iam::123456789012:role/secretsAccessRole';
const WRONG_ROLE = 'arn:aws:iam::123456789012:role/notTrusted';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** Every secret registered from now on. */
function registeredSecrets(): { readonly seen: Set<string>; stop: () => void } {
  const seen = new Set<string>();
  const stop = runtimeSecrets.subscribe((secret) => seen.add(secret));
  return { seen, stop };
}

describe('awsCredentials', () => {
  let sts: StsFixture;
  beforeAll(async () => {
    sts = await startSts();
    sts.allowRole(ROLE);
  });
  afterAll(() => sts?.close());

  it('without a role: the static keys as they are, or undefined for the default chain', async () => {
    expect(await awsCredentials({ accessKeyId: 'AKIASTATICKEY0000001', secretAccessKey: 'static-secret-key-0001' })).toEqual({
      accessKeyId: 'AKIASTATICKEY0000001',
      secretAccessKey: 'static-secret-key-0001',
    });
    expect(await awsCredentials({ region: 'eu-west-3' })).toBeUndefined();
    expect(sts.requests).toHaveLength(0);
  });

  it('with a role: sends AssumeRole as the SDK speaks it, signed with the static keys, and registers what STS returns', async () => {
    const registered = registeredSecrets();
    const provider = await awsCredentials({
      region: 'eu-west-3',
      accessKeyId: 'AKIASTATICKEY0000002',
      secretAccessKey: 'static-secret-key-0002',
      roleArn: ROLE,
      stsEndpoint: sts.endpoint,
    });
    expect(typeof provider).toBe('function');
    const before = sts.requests.length;
    const assumed = await (provider as () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>)();
    registered.stop();

    const request = sts.requests[before]!;
    expect(request.method).toBe('POST');
    expect(request.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request.params).toMatchObject({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: ROLE_SESSION_NAME });
    expect(request.authorization).toMatch(/Credential=AKIASTATICKEY0000002\/\d{8}\/eu-west-3\/sts\/aws4_request/);

    const issued = sts.issued.at(-1)!;
    expect(assumed).toMatchObject({ accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken });
    expect(assumed.expiration).toBeInstanceOf(Date);
    for (const secret of ['static-secret-key-0002', issued.secretAccessKey, issued.sessionToken]) expect(registered.seen.has(secret)).toBe(true);
  });

  it('a refused role is an AssumeRoleFailure naming the role, with STS code', async () => {
    const provider = (await awsCredentials({
      region: 'eu-west-3',
      accessKeyId: 'AKIASTATICKEY0000003',
      secretAccessKey: 'static-secret-key-0003',
      roleArn: WRONG_ROLE,
      stsEndpoint: sts.endpoint,
    })) as () => Promise<unknown>;
    const failure = await caught(provider());
    expect(failure).toBeInstanceOf(AssumeRoleFailure);
    expect((failure as AssumeRoleFailure).roleArn).toBe(WRONG_ROLE);
    expect((failure as AssumeRoleFailure).code).toBe('AccessDenied');
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let sm: SecretsManagerFixture;
  let sts: StsFixture;
  const STATIC = { accessKeyId: 'AKIASTATICKEY0000009', secretAccessKey: 'static-secret-key-never-shown-0009' };

  beforeAll(async () => {
    [cluster, sm, sts] = await Promise.all([startPostgres(binaries), startSecretsManager({ region: 'us-east-1' }), startSts()]);
    sts.allowRole(ROLE);
    const { Client } = await import('pg');
    const admin = new Client(cluster.clientConfig());
    await admin.connect();
    await admin.query(`create role ${ADMIN} login createrole password '${ADMIN_PASSWORD}'`);
    await admin.query(`create database pagila owner ${ADMIN}`);
    await admin.end();
    const address = { host: '127.0.0.1', port: cluster.port, dbname: 'pagila' };
    sm.putSecret('db/postgres/pagila', { username: ADMIN, password: ADMIN_PASSWORD, engine: 'postgres', ...address });
    sm.putSecret('db/postgres/no-host', { username: ADMIN, password: ADMIN_PASSWORD, engine: 'postgres', port: cluster.port, dbname: 'pagila' });
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), sm?.close(), sts?.close()]);
  });
  afterEach(() => {
    sm.restrictTo(null);
  });

  /** Adaptive's form as the validation normalises it: no address, the role and the secret. */
  function adaptiveTarget(secretName: string, roleArn: string): TargetConfig {
    return {
      type: 'postgres_aws_secrets_manager',
      name: 'pagila-tf',
      host: '',
      port: 0,
      database: '',
      sslMode: 'disable',
      aws: { secretName, region: 'us-east-1', endpoint: sm.endpoint, ...STATIC, roleArn, stsEndpoint: sts.endpoint },
    };
  }

  it("reads the secret with the role's credentials and logs in at the secret's address", async () => {
    const issuedBefore = sts.issued.length;
    const requestsBefore = sm.requests.length;
    // The stand-in returns the secret only to credentials STS issued for the role.
    sm.restrictTo((accessKeyId) => sts.issued.some((c) => c.accessKeyId === accessKeyId && c.roleArn === ROLE));
    const check = await testConnection(adaptiveTarget('db/postgres/pagila', ROLE));
    expect(check.serverVersion).toMatch(/^\d+/);
    expect(check.user).toBe(ADMIN);

    const issued = sts.issued.slice(issuedBefore);
    expect(issued).toHaveLength(1);
    expect(issued[0]!.signedBy).toBe(STATIC.accessKeyId);
    const reads = sm.requests.slice(requestsBefore).filter((r) => r.target === 'secretsmanager.GetSecretValue');
    expect(reads).toHaveLength(1);
    expect(signingAccessKeyId(reads[0]!.authorization)).toBe(issued[0]!.accessKeyId);
  });

  it('aws_role_arn of the use_aws_secrets form does the same (configured address wins)', async () => {
    sm.restrictTo((accessKeyId) => sts.issued.some((c) => c.accessKeyId === accessKeyId));
    const { type: _type, ...target } = adaptiveTarget('db/postgres/pagila', ROLE);
    const check = await testConnection({ ...target, host: '127.0.0.1', port: cluster.port, database: 'pagila' });
    expect(check.user).toBe(ADMIN);
  });

  it('a role STS refuses fails naming the role and the fix; no key in the message, no secret read', async () => {
    const requestsBefore = sm.requests.length;
    const failure = await caught(testConnection(adaptiveTarget('db/postgres/pagila', WRONG_ROLE)));
    expect(failure).toBeInstanceOf(ConnectionError);
    const e = failure as ConnectionError;
    expect(e.cause).toBe('role_assumption_denied');
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toContain(`IAM role "${WRONG_ROLE}" (arn)`);
    expect(e.message).toContain('"db/postgres/pagila" (secret_id)');
    expect(e.fix).toMatch(/trust policy/);
    expect(e.fix).toMatch(/sts:AssumeRole/);
    expect(e.fix).toMatch(/correct arn/);
    expect(`${e.message} ${e.fix}`).not.toContain(STATIC.secretAccessKey);
    expect(sm.requests.slice(requestsBefore)).toHaveLength(0);
  });

  it('with aws_role_arn, the refusal names aws_role_arn', async () => {
    const { type: _type, ...target } = adaptiveTarget('db/postgres/pagila', WRONG_ROLE);
    const e = (await caught(testConnection({ ...target, host: '127.0.0.1', port: cluster.port, database: 'pagila' }))) as ConnectionError;
    expect(e.cause).toBe('role_assumption_denied');
    expect(e.message).toContain('(aws_role_arn)');
    expect(e.fix).toMatch(/correct aws_role_arn/);
  });

  it('a secret without host fails naming secret_id and the missing key', async () => {
    const e = (await caught(testConnection(adaptiveTarget('db/postgres/no-host', ROLE)))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('secret_malformed');
    expect(e.message).toContain('"db/postgres/no-host" (secret_id) is missing "host"');
    expect(e.fix).toMatch(/add "host" to the secret's JSON.*or set host on the resource/);
  });

  it('an STS endpoint nobody listens on is a network failure naming it', async () => {
    const target = adaptiveTarget('db/postgres/pagila', ROLE);
    const closed = await startSts();
    await closed.close();
    const e = (await caught(testConnection({ ...target, aws: { ...target.aws!, stsEndpoint: closed.endpoint } }))) as ConnectionError;
    expect(e.cause).toBe('refused');
    expect(e.message).toContain(closed.endpoint);
    expect(e.message).toContain(ROLE);
  });
});
