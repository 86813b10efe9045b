/**
 * Every value of the PostgreSQL guide's HCL examples (the configuration Adaptive users
 * already have) passes validation unchanged: resources, authorizations, endpoints, groups.
 * Variables are set to plausible values, and `file(...)` to PEM contents.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { createTestPki, type KeyPairPem, type TestPki } from '../../fixtures/pki';
import {
  UNKNOWN,
  checkMembers,
  checkName,
  checkNames,
  checkPermissions,
  checkTargetInput,
  checkTtl,
  parsePermissions,
  parseTtl,
  toTargetConfig,
  type TargetInput,
} from '../../../src/runtime/validation';

/** What Terraform's jsonencode produces for an object: compact JSON, keys sorted. */
function jsonencode(value: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.keys(value).sort().map((key) => [key, value[key]]));
  return JSON.stringify(sorted);
}

const vars = {
  pg_username: 'terraform_admin',
  pg_password: 'a-long-generated-password-1234',
  aws_access_key: 'AKIAIOSFODNN7EXAMPLE',
  aws_secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

let pki: TestPki;
let clientPair: KeyPairPem;

beforeAll(async () => {
  pki = await createTestPki();
  clientPair = await pki.clientCert('terraform_admin');
});

/** The adaptive_resource blocks, in the guide's order. */
function resources(): Record<string, TargetInput> {
  const files: Record<string, string> = {
    'ca-certificate.crt': pki.ca.certPem,
    'client-certificate.crt': clientPair.certPem,
    'client-key.key': clientPair.keyPem,
    'certs/ca-cert.pem': pki.ca.certPem,
    'certs/client-cert.pem': clientPair.certPem,
    'certs/client-key.pem': clientPair.keyPem,
  };
  const file = (path: string): string => files[path] ?? '';
  return {
    postgres: {
      type: 'postgres',
      name: 'postgres-production',
      host: 'postgres.example.com',
      port: '5432',
      username: vars.pg_username,
      password: vars.pg_password,
      database_name: 'production',
    },
    postgres_pooled: {
      type: 'postgres',
      name: 'postgres-pooled',
      host: 'postgres.example.com',
      port: '5432',
      username: vars.pg_username,
      password: vars.pg_password,
      database_name: 'production',
      max_connections: 100,
      min_connections: 10,
    },
    postgres_tls: {
      type: 'postgres',
      name: 'postgres-secure',
      host: 'postgres.example.com',
      port: '5432',
      username: vars.pg_username,
      password: vars.pg_password,
      database_name: 'production',
      ssl_mode: 'require',
      tls_root_cert: file('ca-certificate.crt'),
    },
    postgres_mtls: {
      type: 'postgres',
      name: 'postgres-mtls',
      host: 'postgres.example.com',
      port: '5432',
      username: vars.pg_username,
      password: vars.pg_password,
      database_name: 'production',
      ssl_mode: 'verify-full',
      tls_root_cert: file('ca-certificate.crt'),
      tls_cert_file: file('client-certificate.crt'),
      tls_key_file: file('client-key.key'),
    },
    postgres_secrets: {
      type: 'postgres',
      name: 'postgres-secure',
      host: 'postgres.example.com',
      port: '5432',
      database_name: 'production',
      use_aws_secrets: true,
      aws_region: 'us-east-1',
      aws_secret_name: 'postgres-credentials',
      aws_access_key_id: vars.aws_access_key,
      aws_secret_access_key: vars.aws_secret_key,
    },
    postgres_prod: {
      type: 'postgres',
      name: 'postgres-production',
      host: 'postgres-primary.internal.company.net',
      port: '5432',
      database_name: 'production',
      use_aws_secrets: true,
      aws_region: 'us-east-1',
      aws_secret_name: 'postgres-prod-credentials',
      aws_access_key_id: vars.aws_access_key,
      aws_secret_access_key: vars.aws_secret_key,
      ssl_mode: 'verify-full',
      tls_root_cert: file('certs/ca-cert.pem'),
      tls_cert_file: file('certs/client-cert.pem'),
      tls_key_file: file('certs/client-key.pem'),
      max_connections: 100,
      min_connections: 20,
    },
    postgres_replica: {
      type: 'postgres',
      name: 'postgres-read-replica',
      host: 'postgres-replica.internal.company.net',
      port: '5432',
      database_name: 'production',
      use_aws_secrets: true,
      aws_region: 'us-east-1',
      aws_secret_name: 'postgres-replica-credentials',
      aws_access_key_id: vars.aws_access_key,
      aws_secret_access_key: vars.aws_secret_key,
      ssl_mode: 'verify-full',
    },
  };
}

/** The adaptive_authorization blocks: name and permissions. */
const AUTHORIZATIONS: Record<string, { name: string; permissions: Record<string, string[]> }> = {
  postgres_readonly: { name: 'postgres-readonly', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } },
  postgres_developer: {
    name: 'postgres-developer',
    permissions: { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] },
  },
  postgres_schema_access: {
    name: 'postgres-analytics-access',
    permissions: { grants: ['SELECT', 'INSERT'], schemas: ['analytics'], tables: ['events', 'metrics'] },
  },
  dev_role: { name: 'developer-role', permissions: { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] } },
  analyst_role: { name: 'analyst-role', permissions: { grants: ['SELECT'], schemas: ['public', 'analytics'], tables: ['*'] } },
};

/** The adaptive_endpoint blocks: name, ttl, and the names they reference. */
const ENDPOINTS = [
  { name: 'postgres-developer-access', ttl: '8h', resource: 'postgres-production', authorization: 'postgres-developer' },
  { name: 'postgres-readonly-access', ttl: '12h', resource: 'postgres-production', authorization: 'postgres-readonly' },
  { name: 'postgres-dev-access', ttl: '8h', resource: 'postgres-production', authorization: 'developer-role' },
  { name: 'postgres-analyst-access', ttl: '12h', resource: 'postgres-read-replica', authorization: 'analyst-role' },
];

/** The adaptive_group blocks. */
const GROUPS = [
  { name: 'postgres-developers', members: ['dev1@company.com', 'dev2@company.com'], endpoints: ['postgres-developer-access'] },
  { name: 'data-analysts', members: ['analyst1@company.com', 'analyst2@company.com'], endpoints: ['postgres-readonly-access'] },
  { name: 'backend-developers', members: ['dev1@company.com', 'dev2@company.com'], endpoints: ['postgres-dev-access'] },
  { name: 'data-analysts', members: ['analyst1@company.com', 'analyst2@company.com'], endpoints: ['postgres-analyst-access'] },
];

describe('the documented adaptive_resource blocks', () => {
  it.each(['postgres', 'postgres_pooled', 'postgres_tls', 'postgres_mtls', 'postgres_secrets', 'postgres_prod', 'postgres_replica'])(
    'accepts adaptive_resource.%s',
    (key) => {
      const input = resources()[key] as TargetInput;
      expect(checkTargetInput(input)).toEqual([]);
      const config = toTargetConfig(input);
      expect(config.port).toBe(5432);
      expect(config.database).toBe('production');
    },
  );

  it('keeps the secret source and TLS settings of the production example', () => {
    const config = toTargetConfig(resources().postgres_prod as TargetInput);
    expect(config.aws).toEqual({
      secretName: 'postgres-prod-credentials',
      region: 'us-east-1',
      accessKeyId: vars.aws_access_key,
      secretAccessKey: vars.aws_secret_key,
    });
    expect(config).not.toHaveProperty('password');
    expect(config.sslMode).toBe('verify-full');
    expect(config.tlsClientKey).toBe(clientPair.keyPem);
    expect([config.minConnections, config.maxConnections]).toEqual([20, 100]);
  });

  it('accepts them at plan time when the variables are not known yet', () => {
    for (const input of Object.values(resources())) {
      const planTime: TargetInput = { ...input };
      for (const field of ['username', 'password', 'aws_access_key_id', 'aws_secret_access_key', 'tls_root_cert', 'tls_cert_file', 'tls_key_file'] as const) {
        if (planTime[field] !== undefined) Object.assign(planTime, { [field]: UNKNOWN });
      }
      expect(checkTargetInput(planTime)).toEqual([]);
    }
  });
});

describe('the documented adaptive_authorization blocks', () => {
  it.each(Object.keys(AUTHORIZATIONS))('accepts adaptive_authorization.%s', (key) => {
    const { name, permissions } = AUTHORIZATIONS[key] as (typeof AUTHORIZATIONS)[string];
    expect(checkName(name, 'name')).toEqual([]);
    expect(checkPermissions(jsonencode(permissions))).toEqual([]);
    expect(checkPermissions(permissions)).toEqual([]);
    const parsed = parsePermissions(jsonencode(permissions));
    expect([...parsed.grants].sort()).toEqual([...(permissions.grants ?? [])].sort());
  });
});

describe('the documented adaptive_endpoint blocks', () => {
  it.each(ENDPOINTS)('accepts endpoint $name (ttl $ttl)', (endpoint) => {
    expect(checkName(endpoint.name, 'name')).toEqual([]);
    expect(checkName(endpoint.resource, 'resource')).toEqual([]);
    expect(checkName(endpoint.authorization, 'authorization')).toEqual([]);
    expect(checkTtl(endpoint.ttl)).toEqual([]);
  });

  it('reads 8h and 12h as 8 and 12 hours', () => {
    expect(parseTtl('8h')).toBe(28_800);
    expect(parseTtl('12h')).toBe(43_200);
  });
});

describe('the documented adaptive_group blocks', () => {
  it.each(GROUPS)('accepts group $name', (group) => {
    expect(checkName(group.name, 'name')).toEqual([]);
    expect(checkMembers(group.members)).toEqual([]);
    expect(checkNames(group.endpoints, 'endpoints')).toEqual([]);
  });
});
