/**
 * Adaptive's Secrets Manager form of `adaptive_resource` (`type = "postgres_aws_secrets_manager"`
 * with `arn`, `region`, `secret_id`) and `aws_role_arn` / `aws_sts_endpoint` of the
 * `use_aws_secrets` form: accepted as Adaptive writes them, normalised to the same
 * TargetConfig, and every wrong combination refused naming the attribute.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/runtime/types';
import { UNKNOWN, checkTargetInput, toTargetConfig, type TargetInput } from '../../../src/runtime/validation';

/** The block as Adaptive's public example writes it. */
const ADAPTIVE: TargetInput = {
  type: 'postgres_aws_secrets_manager',
  name: 'pagila-tf',
  arn: 'arn:aws:iam::123456789012:role/secretsAccessRole',
  region: 'us-east-1',
  secret_id: 'db/postgres/pagila',
};

const USE_AWS: TargetInput = {
  type: 'postgres',
  name: 'pagila-tf',
  host: 'db.example.com',
  database_name: 'pagila',
  use_aws_secrets: true,
  aws_region: 'us-east-1',
  aws_secret_name: 'db/postgres/pagila',
};

function thrown(f: () => unknown): ValidationError {
  try {
    f();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe("Adaptive's postgres_aws_secrets_manager form", () => {
  it('accepts the block as Adaptive writes it: no host, the address from the secret', () => {
    expect(checkTargetInput(ADAPTIVE)).toEqual([]);
    expect(toTargetConfig(ADAPTIVE)).toEqual({
      type: 'postgres_aws_secrets_manager',
      name: 'pagila-tf',
      host: '',
      port: 0,
      database: '',
      sslMode: 'prefer',
      aws: { secretName: 'db/postgres/pagila', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/secretsAccessRole' },
    });
  });

  it('normalises to the same aws reference as use_aws_secrets with aws_role_arn', () => {
    const adaptive = toTargetConfig({ ...ADAPTIVE, aws_sts_endpoint: 'http://127.0.0.1:4566', aws_endpoint: 'http://127.0.0.1:4567' });
    const useAws = toTargetConfig({ ...USE_AWS, aws_role_arn: ADAPTIVE.arn, aws_sts_endpoint: 'http://127.0.0.1:4566', aws_endpoint: 'http://127.0.0.1:4567' });
    expect(adaptive.aws).toEqual(useAws.aws);
    expect(useAws.type).toBeUndefined();
    expect(useAws.aws?.roleArn).toBe(ADAPTIVE.arn);
  });

  it('takes host, port and database_name when set (they win over the secret), and static keys to sign AssumeRole', () => {
    const config = toTargetConfig({ ...ADAPTIVE, host: 'proxy.example.com', port: '6432', database_name: 'pagila', aws_access_key_id: 'AKIAEXAMPLE000000001', aws_secret_access_key: 'secret-key' });
    expect(config).toMatchObject({ host: 'proxy.example.com', port: 6432, database: 'pagila', aws: { accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: 'secret-key' } });
  });

  it('accepts it without arn (the credentials read the secret themselves) and without region', () => {
    const { arn: _arn, region: _region, ...bare } = ADAPTIVE;
    expect(checkTargetInput(bare)).toEqual([]);
    expect(toTargetConfig(bare).aws).toEqual({ secretName: 'db/postgres/pagila' });
  });

  it('refuses it without secret_id, naming secret_id', () => {
    const { secret_id: _s, ...input } = ADAPTIVE;
    const issues = checkTargetInput(input);
    expect(issues).toEqual([{ field: 'secret_id', message: expect.stringMatching(/^is required with type = "postgres_aws_secrets_manager": the name or ARN of the secret/) as unknown }]);
  });

  it.each([
    ['use_aws_secrets', true, /this type always reads the admin credentials from the secret secret_id/],
    ['aws_secret_name', 'other', /secret_id names the secret with this type; remove aws_secret_name/],
    ['aws_region', 'us-east-1', /region gives the region with this type; remove aws_region/],
    ['aws_role_arn', 'arn:aws:iam::123456789012:role/x', /arn gives the role to assume with this type; remove aws_role_arn/],
    ['password', 'pw', /the admin password comes from the secret secret_id; remove password/],
    ['connection_url', 'postgres://u:p@h/d', /the secret secret_id gives the address.*remove connection_url/],
  ] as const)('refuses %s with it, naming the attribute', (field, value, message) => {
    const issues = checkTargetInput({ ...ADAPTIVE, [field]: value });
    expect(issues.map((i) => i.field)).toEqual([field]);
    expect(issues[0]!.message).toMatch(message);
  });

  it.each(['arn', 'region', 'secret_id'] as const)('refuses %s with type = "postgres", naming it', (field) => {
    const issues = checkTargetInput({ ...USE_AWS, [field]: ADAPTIVE[field] });
    expect(issues).toEqual([
      { field, message: expect.stringMatching(/^is only used with type = "postgres_aws_secrets_manager" \(Adaptive's Secrets Manager form\); with type = "postgres" write use_aws_secrets = true with aws_/) as unknown },
    ]);
  });

  it('reports a bad value on the attribute the user wrote, in its own terms', () => {
    const issues = checkTargetInput({ ...ADAPTIVE, arn: 'secretsAccessRole', region: 'US East', secret_id: 'db postgres' });
    expect(issues.map((i) => i.field)).toEqual(['arn', 'region', 'secret_id']);
    expect(issues[0]!.message).toMatch(/"secretsAccessRole" is not the ARN of an IAM role; write the ARN of the IAM role to assume/);
    expect(issues.map((i) => i.message).join('\n')).not.toMatch(/aws_secret_name|aws_region|aws_role_arn/);
  });

  it('at plan time, an unknown type or secret_id is skipped, not refused', () => {
    expect(checkTargetInput({ ...ADAPTIVE, type: UNKNOWN })).toEqual([]);
    expect(checkTargetInput({ ...ADAPTIVE, secret_id: UNKNOWN, arn: UNKNOWN })).toEqual([]);
    expect(thrown(() => toTargetConfig({ ...ADAPTIVE, secret_id: UNKNOWN })).issues.map((i) => i.field)).toEqual(['secret_id']);
  });
});

describe('aws_role_arn and aws_sts_endpoint with use_aws_secrets', () => {
  it('are accepted and kept', () => {
    const config = toTargetConfig({ ...USE_AWS, aws_role_arn: 'arn:aws-us-gov:iam::123456789012:role/path/reader', aws_sts_endpoint: 'https://sts.us-east-1.amazonaws.com' });
    expect(config.aws).toMatchObject({ roleArn: 'arn:aws-us-gov:iam::123456789012:role/path/reader', stsEndpoint: 'https://sts.us-east-1.amazonaws.com' });
  });

  it.each([
    ['aws_role_arn', 'arn:aws:iam::123456789012:user/bob', 'aws_role_arn', /is not the ARN of an IAM role/],
    ['aws_role_arn', '', 'aws_role_arn', /is empty/],
    ['aws_sts_endpoint', 'sts.amazonaws.com', 'aws_sts_endpoint', /is not a URL; write an http\(s\) URL, e.g. https:\/\/sts\.us-east-1\.amazonaws\.com/],
    ['aws_sts_endpoint', 'https://user:pw@sts.example', 'aws_sts_endpoint', /contains credentials/],
  ] as const)('refuses %s = %j, naming it', (field, value, named, message) => {
    const issues = checkTargetInput({ ...USE_AWS, [field]: value });
    expect(issues.map((i) => i.field)).toEqual([named]);
    expect(issues[0]!.message).toMatch(message);
  });

  it('are refused without use_aws_secrets or use_rds_iam, as every aws_* attribute', () => {
    const input: TargetInput = { type: 'postgres', name: 'p', host: 'h', database_name: 'd', username: 'u', password: 'pw', aws_role_arn: ADAPTIVE.arn, aws_sts_endpoint: 'http://127.0.0.1:1' };
    expect(checkTargetInput(input).map((i) => [i.field, i.message])).toEqual([
      ['aws_role_arn', 'is only used with use_aws_secrets = true or use_rds_iam = true; set use_aws_secrets = true or use_rds_iam = true, or remove aws_role_arn'],
      ['aws_sts_endpoint', 'is only used with use_aws_secrets = true or use_rds_iam = true; set use_aws_secrets = true or use_rds_iam = true, or remove aws_sts_endpoint'],
    ]);
  });
});
