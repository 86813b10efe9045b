/**
 * `use_rds_iam` at plan time: the admin password is an IAM token, so every other source of
 * one is refused naming its attribute, ssl_mode must encrypt, the AWS settings it reads are
 * accepted and reach the TargetConfig; the keys keep their pairing rules.
 */
import { describe, expect, it } from 'vitest';
import { checkTargetInput, toTargetConfig, UNKNOWN, type TargetInput } from '../../../src/runtime/validation';

const IAM: TargetInput = {
  type: 'postgres',
  name: 'rds-production',
  host: 'prod.abc123.eu-west-1.rds.amazonaws.com',
  database_name: 'production',
  username: 'iam_admin',
  use_rds_iam: true,
  ssl_mode: 'verify-full',
};

const SSL_REFUSAL = 'IAM tokens travel as passwords: ssl_mode must be require or stronger';

describe('use_rds_iam', () => {
  it('accepts a username, a verifying ssl_mode, aws_region and static keys, and gives the TargetConfig its rdsIam settings, no password', () => {
    const input = { ...IAM, aws_region: 'eu-west-1', aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret/key', aws_session_token: 'token' };
    expect(checkTargetInput(input)).toEqual([]);
    const config = toTargetConfig(input);
    expect(config.rdsIam).toEqual({ region: 'eu-west-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret/key', sessionToken: 'token' });
    expect(config.password).toBeUndefined();
    expect(config.aws).toBeUndefined();
    expect(toTargetConfig({ ...IAM, ssl_mode: 'require' }).rdsIam).toEqual({});
    expect(toTargetConfig({ ...IAM, aws_secret_access_key_wo: 'wo-key', aws_secret_access_key_wo_version: 1, aws_access_key_id: 'AKID' }).rdsIam).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'wo-key',
    });
  });

  it('takes a role to assume (aws_role_arn, aws_sts_endpoint) into the rdsIam settings', () => {
    const input: TargetInput = { ...IAM, ssl_mode: 'require', aws_role_arn: 'arn:aws:iam::123456789012:role/rds-admin', aws_sts_endpoint: 'https://sts.eu-west-1.amazonaws.com' };
    expect(checkTargetInput(input)).toEqual([]);
    expect(toTargetConfig(input).rdsIam).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/rds-admin', stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' });
  });

  it('refuses every other source of the admin password, naming its attribute', () => {
    expect(checkTargetInput({ ...IAM, password: 'pw' })).toEqual([
      { field: 'password', message: expect.stringContaining('must not be set when use_rds_iam = true: the admin password is an IAM token') as string },
    ]);
    expect(checkTargetInput({ ...IAM, password_wo: 'pw', password_wo_version: 1 }).map((i) => i.field)).toEqual(['password_wo']);
    const withSecrets = checkTargetInput({ ...IAM, use_aws_secrets: true, aws_secret_name: 'admin' });
    expect(withSecrets).toContainEqual({ field: 'use_rds_iam', message: expect.stringContaining('cannot be combined with use_aws_secrets = true') as string });
    const url = { type: 'postgres', name: 'rds', use_rds_iam: true, connection_url: 'postgres://iam_admin:pw@db.example.com/production?sslmode=require' };
    expect(checkTargetInput(url)).toEqual([
      { field: 'connection_url', message: expect.stringContaining('the password in it: must not be set when use_rds_iam = true') as string },
    ]);
    // Without a password the URI is complete.
    expect(checkTargetInput({ ...url, connection_url: 'postgres://iam_admin@db.example.com/production?sslmode=verify-full' })).toEqual([]);
  });

  it('refuses ssl_mode weaker than require, the default prefer included', () => {
    for (const mode of ['disable', 'allow', 'prefer']) {
      expect(checkTargetInput({ ...IAM, ssl_mode: mode })).toEqual([{ field: 'ssl_mode', message: expect.stringContaining(`${SSL_REFUSAL} (require, verify-ca or verify-full`) as string }]);
    }
    expect(checkTargetInput({ ...IAM, ssl_mode: null })).toEqual([{ field: 'ssl_mode', message: expect.stringContaining('not "prefer"') as string }]);
    // Not known yet at plan time: judged at apply.
    expect(checkTargetInput({ ...IAM, ssl_mode: UNKNOWN })).toEqual([]);
  });

  it("refuses Secrets Manager's own attributes and keeps the keys' pairing rules", () => {
    expect(checkTargetInput({ ...IAM, aws_secret_name: 'x', aws_endpoint: 'http://127.0.0.1:1' }).map((i) => i.field)).toEqual(['aws_secret_name', 'aws_endpoint']);
    expect(checkTargetInput({ ...IAM, aws_access_key_id: 'AKID' })).toEqual([{ field: 'aws_secret_access_key', message: expect.stringContaining('is required when aws_access_key_id is set') as string }]);
    expect(checkTargetInput({ ...IAM, use_rds_iam: 'yes' as unknown as boolean })).toContainEqual({ field: 'use_rds_iam', message: 'must be true or false, got a string' });
    expect(checkTargetInput({ ...IAM, username: null })).toContainEqual({ field: 'username', message: expect.stringContaining('is required') as string });
  });

  it('without use_rds_iam, aws_region and the keys say they need it or use_aws_secrets', () => {
    const { use_rds_iam: _, ...plain } = IAM;
    const issues = checkTargetInput({ ...plain, password: 'pw', aws_region: 'eu-west-1' });
    expect(issues).toEqual([
      { field: 'aws_region', message: 'is only used with use_aws_secrets = true or use_rds_iam = true; set use_aws_secrets = true or use_rds_iam = true, or remove aws_region' },
    ]);
  });
});
