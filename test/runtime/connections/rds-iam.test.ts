/**
 * IAM authentication tokens: the test's own SigV4 helper (test/fixtures/rds-iam-token.ts)
 * gives exactly what @aws-sdk/rds-signer gives for the same clock and keys, so the e2e test
 * that sets the helper's token as a password proves the provider's wiring. The runtime's
 * password function makes a token per call (per connection), from the clock at that call;
 * refuses an sslmode that does not encrypt; names aws_region when there is no region.
 */
import { Signer } from '@aws-sdk/rds-signer';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientConfig, resolveAdminTarget } from '../../../src/runtime/connections/connect';
import { rdsIamPassword } from '../../../src/runtime/connections/rds-iam';
import { runtimeSecrets } from '../../../src/runtime/secret-registry';
import { ValidationError, type TargetConfig } from '../../../src/runtime/types';
import { rdsIamToken } from '../../fixtures/rds-iam-token';
import { startSts } from '../../fixtures/sts';

const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const AT = new Date('2026-03-14T15:09:26Z');

function iamTarget(overrides: Partial<TargetConfig> = {}): TargetConfig {
  return {
    name: 'rds',
    host: 'prod.abc123.eu-west-1.rds.amazonaws.com',
    port: 5432,
    database: 'production',
    username: 'iam_admin',
    sslMode: 'verify-full',
    rdsIam: { region: 'eu-west-1', ...KEYS },
    ...overrides,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(AT);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the test helper', () => {
  it.each([
    { name: 'static keys', extra: {} },
    { name: 'temporary keys with a session token', extra: { sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+example=' } },
  ])('computes the token @aws-sdk/rds-signer computes ($name)', async ({ extra }) => {
    const credentials = { ...KEYS, ...extra };
    for (const [host, port, user] of [
      ['prod.abc123.eu-west-1.rds.amazonaws.com', 5432, 'iam_admin'],
      ['127.0.0.1', 61234, 'admin with space+plus/slash'],
    ] as const) {
      const sdk = await new Signer({ hostname: host, port, username: user, region: 'eu-west-1', credentials }).getAuthToken();
      expect(rdsIamToken({ host, port, user, region: 'eu-west-1', ...credentials, at: AT })).toBe(sdk);
    }
  });
});

describe('the admin password with use_rds_iam', () => {
  it("is a function node-postgres calls for each connection, a new token from that moment's clock each time, registered as a secret", async () => {
    const target = await resolveAdminTarget(iamTarget());
    expect(target.credentialSource).toBe('rds-iam');
    const password = clientConfig(target, { tls: true, verify: 'full' }).password;
    expect(typeof password).toBe('function');
    const call = password as () => Promise<string>;
    const expected = (at: Date): string => rdsIamToken({ host: 'prod.abc123.eu-west-1.rds.amazonaws.com', port: 5432, user: 'iam_admin', region: 'eu-west-1', ...KEYS, at });
    const first = await call();
    expect(first).toBe(expected(AT));
    const later = new Date(AT.getTime() + 61_000);
    vi.setSystemTime(later);
    const second = await call();
    expect(second).toBe(expected(later));
    expect(second).not.toBe(first);
    const seen: string[] = [];
    runtimeSecrets.subscribe((s) => seen.push(s))();
    expect(seen).toEqual(expect.arrayContaining([first, second, KEYS.secretAccessKey]));
    // Not enumerable, as a stored password is not: logging the settings shows no token maker.
    expect(Object.keys(target)).not.toContain('password');
  });

  it("with aws_role_arn, signs with the role's temporary credentials from STS, which the keys only asked for", async () => {
    const sts = await startSts();
    try {
      const role = 'arn:aws:iam::123456789012:role/rds-admin';
      sts.allowRole(role);
      const auth = { region: 'eu-west-1', ...KEYS, roleArn: role, stsEndpoint: sts.endpoint };
      const password = await rdsIamPassword({ name: 'rds', host: 'db.example.com', port: 5432, user: 'iam_admin', sslMode: 'require' }, auth);
      const token = await password();
      const issued = sts.issued.at(-1)!;
      expect(issued).toMatchObject({ roleArn: role, sessionName: 'adaptive-access', signedBy: KEYS.accessKeyId });
      const { accessKeyId, secretAccessKey, sessionToken } = issued;
      expect(token).toBe(rdsIamToken({ host: 'db.example.com', port: 5432, user: 'iam_admin', region: 'eu-west-1', accessKeyId, secretAccessKey, sessionToken, at: AT }));
      const seen: string[] = [];
      runtimeSecrets.subscribe((s) => seen.push(s))();
      expect(seen).toEqual(expect.arrayContaining([secretAccessKey, sessionToken, token]));
    } finally {
      await sts.close();
    }
  });

  it('is refused over an sslmode that does not encrypt, before anything is signed', async () => {
    for (const sslMode of ['disable', 'allow', 'prefer'] as const) {
      const err = await resolveAdminTarget(iamTarget({ sslMode })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([{ field: 'ssl_mode', message: expect.stringContaining('IAM tokens travel as passwords: ssl_mode must be require or stronger') as string }]);
    }
  });

  it('without a region anywhere, fails naming aws_region', async () => {
    const saved = { ...process.env };
    for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    try {
      const password = await rdsIamPassword({ name: 'rds', host: 'db.example.com', port: 5432, user: 'iam_admin', sslMode: 'require' }, { ...KEYS });
      const err = await password().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([{ field: 'aws_region', message: expect.stringContaining('required to sign the IAM authentication token of target "rds": set aws_region') as string }]);
    } finally {
      process.env = saved;
    }
  });
});
