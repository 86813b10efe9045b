/**
 * Admin credentials from AWS Secrets Manager, through the real AWS SDK against a local
 * endpoint that speaks the service's protocol: the secret's username and password really
 * log in to PostgreSQL, configuration wins for host/port/database, and every failure
 * (missing secret, access denied, malformed JSON, missing keys) names the secret and
 * region and never repeats the secret's content.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type LocalCluster } from '../../../src/localpg';
import { ConnectionError, openTarget, resolveTarget, testConnection } from '../../../src/runtime/connections';
import { ValidationError, type TargetConfig } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { SIGV4_AUTHORIZATION, startSecretsManager, type SecretsManagerFixture } from '../../fixtures/secrets-manager';

const ADMIN = 'sm_admin';
const ADMIN_PASSWORD = 'S3cret-from-the-vault-9c1f';

/** Environment variables the SDK reads; tests that set them restore them. */
const AWS_ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL', 'AWS_PROFILE'];

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('importing the connections module', () => {
  it('does not load the AWS SDK (the plugin cold start)', () => {
    const loaded = execFileSync(
      process.execPath,
      ['-r', 'tsx/cjs', '-e', "require('./src/runtime/connections'); console.log(Object.keys(require.cache).filter((k) => k.includes('@aws-sdk')).length)"],
      { cwd: process.cwd(), encoding: 'utf8' },
    );
    expect(loaded.trim()).toBe('0');
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let sm: SecretsManagerFixture;
  const savedEnv = new Map<string, string | undefined>();

  beforeAll(async () => {
    for (const name of AWS_ENV) savedEnv.set(name, process.env[name]);
    [cluster, sm] = await Promise.all([startPostgres(binaries), startSecretsManager({ region: 'eu-west-3' })]);
    const { Client } = await import('pg');
    const admin = new Client(cluster.clientConfig());
    await admin.connect();
    await admin.query(`create role ${ADMIN} login createrole password '${ADMIN_PASSWORD}'`);
    await admin.query(`create database app owner ${ADMIN}`);
    await admin.end();
  });

  afterAll(async () => {
    await Promise.all([cluster?.stop(), sm?.close()]);
  });

  afterEach(() => {
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** A target whose admin secret is `secretName` in the fixture, with static credentials. */
  function config(secretName: string, overrides: Partial<TargetConfig> = {}): TargetConfig {
    return {
      name: 'vault-target',
      host: '',
      port: 0,
      database: '',
      sslMode: 'disable',
      aws: { secretName, region: sm.region, endpoint: sm.endpoint, accessKeyId: sm.accessKeyId, secretAccessKey: sm.secretAccessKey },
      ...overrides,
    };
  }

  const rdsSecret = (extra: object = {}): object => ({
    username: ADMIN,
    password: ADMIN_PASSWORD,
    engine: 'postgres',
    host: cluster.host,
    port: cluster.port,
    dbname: 'app',
    ...extra,
  });

  it('connects with the username and password of the secret, host, port and dbname from it too', async () => {
    sm.putSecret('prod/db/admin', rdsSecret());
    const before = sm.requests.length;
    const target = await openTarget(config('prod/db/admin'));
    try {
      const { rows } = await target.pool.query<{ user: string; db: string }>('select current_user as user, current_database() as db');
      expect(rows[0]).toEqual({ user: ADMIN, db: 'app' });
      expect(target.settings.credentialSource).toBe('aws-secrets-manager');
    } finally {
      await target.close();
    }
    // The real SDK called the endpoint: JSON 1.1, the operation, the secret id, signed with SigV4.
    const calls = sm.requests.slice(before);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call).toMatchObject({ method: 'POST', path: '/', target: 'secretsmanager.GetSecretValue', body: { SecretId: 'prod/db/admin' } });
    expect(call.contentType).toBe('application/x-amz-json-1.1');
    expect(call.authorization).toMatch(SIGV4_AUTHORIZATION);
    expect(call.authorization).toContain(`Credential=${sm.accessKeyId}/`);
    expect(call.authorization).toContain('/eu-west-3/secretsmanager/aws4_request');
  });

  it('lets configured host, port and database win over the secret', async () => {
    const closed = await freePort();
    sm.putSecret('prod/db/elsewhere', rdsSecret({ host: '192.0.2.1', port: closed, dbname: 'nosuchdb' }));
    const check = await testConnection(config('prod/db/elsewhere', { host: cluster.host, port: cluster.port, database: 'postgres' }));
    expect(check).toMatchObject({ host: cluster.host, port: cluster.port, database: 'postgres', user: ADMIN, credentialSource: 'aws-secrets-manager' });
  });

  it("uses the secret's username over a configured one (the password belongs to it)", async () => {
    sm.putSecret('prod/db/paired', rdsSecret());
    const resolved = await resolveTarget(config('prod/db/paired', { username: 'someone_else' }));
    expect(resolved.user).toBe(ADMIN);
    // The password is there, but not enumerable: logging the settings does not show it.
    expect(resolved.password).toBe(ADMIN_PASSWORD);
    expect(JSON.stringify(resolved)).not.toContain(ADMIN_PASSWORD);
  });

  it('uses a configured username when the secret has none', async () => {
    sm.putSecret('prod/db/password-only', { password: ADMIN_PASSWORD });
    const check = await testConnection(config('prod/db/password-only', { host: cluster.host, port: cluster.port, database: 'app', username: ADMIN }));
    expect(check.user).toBe(ADMIN);
  });

  it('finds the secret by ARN', async () => {
    const arn = sm.putSecret('prod/db/by-arn', rdsSecret());
    const check = await testConnection(config(arn));
    expect(check.user).toBe(ADMIN);
  });

  it('reports a missing secret with its name, the region, aws_secret_name and a fix', async () => {
    const err = await caught(resolveTarget(config('prod/db/typo')));
    expect(err).toBeInstanceOf(ConnectionError);
    const e = err as ConnectionError;
    expect(e.cause).toBe('secret_missing');
    expect(e.message).toContain('"prod/db/typo"');
    expect(e.message).toContain('aws_secret_name');
    expect(e.message).toContain('eu-west-3');
    expect(e.message).toContain('vault-target');
    expect(e.fix).toMatch(/aws_secret_name and aws_region/);
  });

  it('reports access denied with the IAM permission to grant', async () => {
    sm.putSecret('prod/db/locked', rdsSecret());
    sm.denyAccess('prod/db/locked');
    const e = (await caught(resolveTarget(config('prod/db/locked')))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('secret_access_denied');
    expect(e.message).toContain('"prod/db/locked"');
    expect(e.fix).toContain('secretsmanager:GetSecretValue');
  });

  it('reports a secret that is not JSON without repeating its content', async () => {
    const content = `username=${ADMIN} password=${ADMIN_PASSWORD}`;
    sm.putSecret('prod/db/not-json', content);
    const e = (await caught(resolveTarget(config('prod/db/not-json')))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('secret_malformed');
    expect(e.message).toContain('is not JSON');
    expect(e.message).toContain('"prod/db/not-json"');
    for (const text of [e.message, e.fix, e.stack ?? '']) {
      expect(text).not.toContain(ADMIN_PASSWORD);
      expect(text).not.toContain('username=');
    }
  });

  it('names the missing keys of a secret without a password', async () => {
    sm.putSecret('prod/db/no-password', { username: ADMIN, engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'app' });
    const e = (await caught(resolveTarget(config('prod/db/no-password')))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('secret_malformed');
    expect(e.message).toContain('missing "password"');
    expect(e.message).not.toContain(ADMIN);
  });

  it('names both keys when username and password are missing', async () => {
    sm.putSecret('prod/db/empty', { engine: 'postgres' });
    const e = (await caught(resolveTarget(config('prod/db/empty')))) as ConnectionError;
    expect(e.cause).toBe('secret_malformed');
    expect(e.message).toContain('missing "username" and "password"');
  });

  it('reports keys of the wrong type and another engine', async () => {
    sm.putSecret('prod/db/bad-port', rdsSecret({ port: 'fivefourthreetwo' }));
    const badPort = (await caught(resolveTarget(config('prod/db/bad-port')))) as ConnectionError;
    expect(badPort.cause).toBe('secret_malformed');
    expect(badPort.message).toContain('port (expected a number');
    expect(badPort.message).not.toContain('fivefourthreetwo');

    sm.putSecret('prod/db/mysql', rdsSecret({ engine: 'mysql' }));
    const mysql = (await caught(resolveTarget(config('prod/db/mysql')))) as ConnectionError;
    expect(mysql.cause).toBe('secret_malformed');
    expect(mysql.message).toContain('another database engine');
  });

  it("accepts a port stored as a string, as some tools write it", async () => {
    sm.putSecret('prod/db/string-port', rdsSecret({ port: String(cluster.port) }));
    const check = await testConnection(config('prod/db/string-port'));
    expect(check.port).toBe(cluster.port);
  });

  it("keeps the secret's password out of a failed login's message", async () => {
    const wrong = 'Wr0ng-but-still-secret-77';
    sm.putSecret('prod/db/stale', rdsSecret({ password: wrong }));
    const e = (await caught(openTarget(config('prod/db/stale')))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('auth_failed');
    expect(`${e.message} ${e.fix} ${JSON.stringify(e.attempts)}`).not.toContain(wrong);
  });

  it("uses the SDK's standard configuration: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION and the default credential chain", async () => {
    sm.putSecret('prod/db/from-env', rdsSecret());
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
    process.env.AWS_REGION = 'ap-southeast-2';
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVIRONMENTKEY01';
    process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret-access-key';
    const before = sm.requests.length;
    const check = await testConnection({ name: 'env-target', host: '', port: 0, database: '', sslMode: 'disable', aws: { secretName: 'prod/db/from-env' } });
    expect(check.user).toBe(ADMIN);
    const call = sm.requests[before]!;
    expect(call.authorization).toMatch(SIGV4_AUTHORIZATION);
    expect(call.authorization).toContain('Credential=AKIAENVIRONMENTKEY01/');
    expect(call.authorization).toContain('/ap-southeast-2/secretsmanager/aws4_request');
  });

  it('asks for aws_region when neither the configuration nor the environment has one', async () => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_PROFILE = 'adaptive-test-profile-that-does-not-exist';
    const err = await caught(resolveTarget({ name: 'no-region', host: 'h', port: 5432, database: 'd', sslMode: 'disable', aws: { secretName: 'x', endpoint: sm.endpoint } }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]?.field).toBe('aws_region');
  });

  it('reports an unreachable Secrets Manager endpoint as refused', async () => {
    const closed = await freePort();
    const base = config('prod/db/admin');
    const e = (await caught(resolveTarget({ ...base, aws: { ...base.aws!, endpoint: `http://127.0.0.1:${closed}` } }))) as ConnectionError;
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.cause).toBe('refused');
    expect(e.message).toContain(`http://127.0.0.1:${closed}`);
  });
});
