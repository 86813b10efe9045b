import { describe, it, expect, beforeAll } from 'vitest';
import { createTestPki, type KeyPairPem, type TestPki } from '../../fixtures/pki';
import { SSL_MODES, ValidationError, type ValidationIssue } from '../../../src/runtime/types';
import { TARGET_FIELDS, UNKNOWN, checkTargetInput, toTargetConfig, type TargetInput } from '../../../src/runtime/validation';

/** A minimal valid resource with an inline password. */
const BASE: TargetInput = {
  type: 'postgres',
  name: 'postgres-production',
  host: 'postgres.example.com',
  port: '5432',
  username: 'admin',
  password: 'correct horse battery staple',
  database_name: 'production',
};

/** A minimal valid resource whose admin secret is in AWS Secrets Manager. */
const AWS_BASE: TargetInput = {
  type: 'postgres',
  name: 'postgres-secure',
  host: 'postgres.example.com',
  port: '5432',
  database_name: 'production',
  use_aws_secrets: true,
  aws_secret_name: 'postgres-credentials',
};

function fieldsOf(input: TargetInput): string[] {
  return checkTargetInput(input).map((i) => i.field);
}

/** The single issue an input produces. */
function only(input: TargetInput): ValidationIssue {
  const issues = checkTargetInput(input);
  expect(issues).toHaveLength(1);
  return issues[0] as ValidationIssue;
}

function thrown(f: () => unknown): ValidationError {
  try {
    f();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

let pki: TestPki;
let client: KeyPairPem;
let otherClient: KeyPairPem;
let expired: KeyPairPem;

beforeAll(async () => {
  pki = await createTestPki();
  [client, otherClient, expired] = await Promise.all([
    pki.clientCert('admin'),
    pki.clientCert('other'),
    pki.ca.issue({ commonName: 'old', usage: 'client', notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) }),
  ]);
});

describe('toTargetConfig', () => {
  it('applies libpq defaults: port 5432, ssl_mode prefer', () => {
    const { port: _port, ...noPort } = BASE;
    expect(toTargetConfig(noPort)).toEqual({
      name: 'postgres-production',
      host: 'postgres.example.com',
      port: 5432,
      database: 'production',
      username: 'admin',
      password: 'correct horse battery staple',
      sslMode: 'prefer',
    });
  });

  it('passes revoked_objects through, and refuses anything but "reassign" or "drop" with what each does', () => {
    expect(toTargetConfig({ ...BASE, revoked_objects: 'drop' }).revokedObjects).toBe('drop');
    expect(toTargetConfig({ ...BASE, revoked_objects: 'reassign' }).revokedObjects).toBe('reassign');
    expect(toTargetConfig({ ...BASE, revoked_objects: null }).revokedObjects).toBeUndefined();
    for (const bad of ['admin', 'DROP', '']) {
      const issues = checkTargetInput({ ...BASE, revoked_objects: bad });
      expect(issues.map((i) => i.field)).toEqual(['revoked_objects']);
      expect(issues[0]!.message).toMatch(/"reassign" \(the default: .*adaptive_revoked\) or "drop"/);
    }
    expect(checkTargetInput({ ...BASE, revoked_objects: UNKNOWN })).toEqual([]);
  });

  it('reads the port from a string or a number', () => {
    expect(toTargetConfig({ ...BASE, port: '6543' }).port).toBe(6543);
    expect(toTargetConfig({ ...BASE, port: 6543 }).port).toBe(6543);
  });

  it('maps every attribute', () => {
    const config = toTargetConfig({
      ...AWS_BASE,
      username: 'admin',
      aws_region: 'eu-central-1',
      aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      aws_session_token: 'token',
      aws_endpoint: 'http://127.0.0.1:4566',
      ssl_mode: 'verify-full',
      tls_root_cert: pki.ca.certPem,
      tls_cert_file: client.certPem,
      tls_key_file: client.keyPem,
      tls_server_name: 'db.internal.example.com',
      max_connections: '50',
      min_connections: 5,
      connect_timeout: 15,
      application_name: 'adaptive-access',
    });
    expect(config).toEqual({
      name: 'postgres-secure',
      host: 'postgres.example.com',
      port: 5432,
      database: 'production',
      username: 'admin',
      aws: {
        secretName: 'postgres-credentials',
        region: 'eu-central-1',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        sessionToken: 'token',
        endpoint: 'http://127.0.0.1:4566',
      },
      sslMode: 'verify-full',
      tlsRootCert: pki.ca.certPem,
      tlsClientCert: client.certPem,
      tlsClientKey: client.keyPem,
      tlsServerName: 'db.internal.example.com',
      maxConnections: 50,
      minConnections: 5,
      connectTimeoutSeconds: 15,
      applicationName: 'adaptive-access',
    });
  });

  it('treats null as absent, as Terraform sends it', () => {
    const config = toTargetConfig({ ...BASE, ssl_mode: null, tls_root_cert: null, aws_region: null, use_aws_secrets: null, max_connections: null });
    expect(config.sslMode).toBe('prefer');
    expect(config).not.toHaveProperty('tlsRootCert');
    expect(config).not.toHaveProperty('maxConnections');
    expect(config).not.toHaveProperty('aws');
  });

  it('accepts use_aws_secrets = false with a password', () => {
    expect(toTargetConfig({ ...BASE, use_aws_secrets: false }).password).toBe('correct horse battery staple');
  });

  it('throws a ValidationError with every issue', () => {
    const error = thrown(() => toTargetConfig({ ...BASE, port: 'x', ssl_mode: 'strict' }));
    expect(error.issues.map((i) => i.field)).toEqual(['port', 'ssl_mode']);
    expect(error.message).toMatch(/^port: "x" is not a whole number; write a whole number from 1 to 65535, e.g. "5432"\nssl_mode: /);
  });

  it('refuses values that are not known yet, naming each', () => {
    const error = thrown(() => toTargetConfig({ ...BASE, host: UNKNOWN, password: UNKNOWN }));
    expect(error.issues).toEqual([
      { field: 'host', message: 'is not known yet (it is computed during apply); the connection settings need every value' },
      { field: 'password', message: 'is not known yet (it is computed during apply); the connection settings need every value' },
    ]);
  });
});

describe('checkTargetInput: required attributes and simple values', () => {
  it('names every missing required attribute at once', () => {
    expect(fieldsOf({})).toEqual(['type', 'name', 'host', 'database_name', 'username', 'password']);
  });

  it('accepts only type "postgres" (and Adaptive\'s "postgres_aws_secrets_manager": ./target-adaptive.test.ts)', () => {
    expect(only({ ...BASE, type: 'mysql' })).toEqual({
      field: 'type',
      message: '"mysql" is not supported; write "postgres", or "postgres_aws_secrets_manager" (admin credentials and address in AWS Secrets Manager)',
    });
    expect(only({ ...BASE, type: 'postgresql' }).field).toBe('type');
  });

  it('checks the resource name', () => {
    expect(only({ ...BASE, name: 'postgres production' }).message).toMatch(/^"postgres production" contains a space; a name is 1 to 63 characters/);
    expect(only({ ...BASE, name: 'p'.repeat(200) }).message).toMatch(/is 200 characters long, more than 63/);
  });

  it.each(['postgres.example.com', '10.0.0.5', '::1', 'localhost', '/var/run/postgresql', 'db_primary.internal'])('accepts host %s', (host) => {
    expect(checkTargetInput({ ...BASE, host })).toEqual([]);
  });

  it.each([
    ['postgres://db.example.com:5432/app', /is a URL/],
    ['db.example.com:5432', /includes a port; write the host alone and the port in port/],
    ['db1.example.com,db2.example.com', /lists several hosts/],
    ['db example.com', /^"db example\.com" contains a space; give one host name, IP address, or Unix socket directory, e\.g\. db\.example\.com$/],
    ['db..example.com', /has an empty label/],
    ['', /^is empty/],
  ])('refuses host %j', (host, message) => {
    const found = only({ ...BASE, host });
    expect(found.field).toBe('host');
    expect(found.message).toMatch(message);
  });

  it.each([['0'], ['65536'], ['54 32'], ['-1'], ['5432.5'], [5432.5], [0], [70000]])('refuses port %j', (port) => {
    const found = only({ ...BASE, port });
    expect(found.field).toBe('port');
    expect(found.message).toMatch(/write a whole number from 1 to 65535, e\.g\. "5432"$/);
  });

  it('checks database_name and username lengths', () => {
    const long = only({ ...BASE, database_name: 'd'.repeat(64) });
    expect(long.field).toBe('database_name');
    expect(long.message).toMatch(/is 64 bytes long; at most 63 bytes, no control characters$/);
    expect(only({ ...BASE, username: 'u'.repeat(64) }).field).toBe('username');
    expect(only({ ...BASE, database_name: '' }).message).toMatch(/^is empty/);
    // Azure-style and dotted names are fine: they are sent as given, never parsed.
    expect(checkTargetInput({ ...BASE, username: 'admin@myserver', database_name: 'prod.v2' })).toEqual([]);
  });

  it('refuses a password PostgreSQL cannot receive, without repeating it', () => {
    const found = only({ ...BASE, password: 'abc\u0000def' });
    expect(found).toEqual({ field: 'password', message: 'contains a NUL character, which PostgreSQL cannot receive' });
    expect(only({ ...BASE, password: '' }).message).toMatch(/^is empty; give the admin password/);
  });

  it('refuses a use_aws_secrets that is not a bool', () => {
    expect(only({ ...BASE, use_aws_secrets: 'yes' as unknown as boolean })).toEqual({ field: 'use_aws_secrets', message: 'must be true or false, got a string' });
  });
});

describe('checkTargetInput: where the admin secret comes from', () => {
  it('accepts a password with a username, and AWS Secrets Manager with a secret name', () => {
    expect(checkTargetInput(BASE)).toEqual([]);
    expect(checkTargetInput(AWS_BASE)).toEqual([]);
    expect(checkTargetInput({ ...AWS_BASE, username: 'admin' })).toEqual([]);
  });

  it('refuses neither', () => {
    const { password: _p, username: _u, ...neither } = BASE;
    expect(checkTargetInput(neither)).toEqual([
      { field: 'username', message: 'is required unless use_aws_secrets = true: set username and password, or use_aws_secrets = true with aws_secret_name' },
      { field: 'password', message: 'is required: set username and password, or use_aws_secrets = true with aws_secret_name, or use_rds_iam = true' },
    ]);
  });

  it('refuses a password without a username', () => {
    const { username: _u, ...noUser } = BASE;
    expect(only(noUser).field).toBe('username');
  });

  it('refuses both', () => {
    expect(only({ ...AWS_BASE, password: 'pw' })).toEqual({
      field: 'password',
      message: 'must not be set when use_aws_secrets = true: the admin password comes from the secret aws_secret_name; remove password, or set use_aws_secrets = false',
    });
  });

  it('refuses use_aws_secrets without aws_secret_name', () => {
    const { aws_secret_name: _s, ...noSecret } = AWS_BASE;
    expect(only(noSecret).field).toBe('aws_secret_name');
    expect(only(noSecret).message).toMatch(/^is required when use_aws_secrets = true/);
  });

  it('refuses aws_* attributes without use_aws_secrets = true', () => {
    expect(fieldsOf({ ...BASE, aws_secret_name: 'x', aws_region: 'us-east-1' })).toEqual(['aws_region', 'aws_secret_name']);
    expect(only({ ...BASE, use_aws_secrets: false, aws_secret_name: 'x' }).message).toBe(
      'is only used with use_aws_secrets = true; set use_aws_secrets = true, or remove aws_secret_name',
    );
  });

  it('wants both AWS keys or neither, and keys with a session token', () => {
    expect(only({ ...AWS_BASE, aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE' })).toEqual({
      field: 'aws_secret_access_key',
      message: 'is required when aws_access_key_id is set; give both keys or neither (the standard AWS configuration is used then)',
    });
    expect(only({ ...AWS_BASE, aws_secret_access_key: 'secret' }).field).toBe('aws_access_key_id');
    expect(fieldsOf({ ...AWS_BASE, aws_session_token: 'token' })).toEqual(['aws_access_key_id', 'aws_secret_access_key']);
    expect(checkTargetInput({ ...AWS_BASE, aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'secret', aws_session_token: 'token' })).toEqual([]);
  });

  it('checks the AWS attributes, never repeating a key', () => {
    expect(only({ ...AWS_BASE, aws_region: 'US East' }).message).toMatch(/is not an AWS region; write one such as us-east-1/);
    expect(checkTargetInput({ ...AWS_BASE, aws_region: 'us-gov-west-1' })).toEqual([]);
    expect(only({ ...AWS_BASE, aws_secret_name: 'my secret' }).message).toMatch(/contains a space/);
    expect(checkTargetInput({ ...AWS_BASE, aws_secret_name: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/pg-AbCdEf' })).toEqual([]);
    const leaked = only({ ...AWS_BASE, aws_access_key_id: 'AKIA EXAMPLE', aws_secret_access_key: 'secret' });
    expect(leaked).toEqual({ field: 'aws_access_key_id', message: 'contains whitespace; check for a stray space or newline around the value' });
    expect(only({ ...AWS_BASE, aws_endpoint: 'not a url' }).message).toMatch(/is not a URL/);
    expect(only({ ...AWS_BASE, aws_endpoint: 'ftp://example.com' }).message).toMatch(/is not an http or https URL/);
    expect(only({ ...AWS_BASE, aws_endpoint: 'https://user:pw@example.com' }).message).toMatch(/contains credentials/);
  });
});

describe('checkTargetInput: write-only admin secrets', () => {
  const { password: _p, ...WO_BASE } = BASE;
  const WITH_WO: TargetInput = { ...WO_BASE, password_wo: 'from an ephemeral value', password_wo_version: 1 };
  const AWS_WO: TargetInput = { ...AWS_BASE, aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key_wo: 'secret', aws_secret_access_key_wo_version: 3 };

  it('accepts password_wo with its version in place of password, and passes the value on as the password', () => {
    expect(checkTargetInput(WITH_WO)).toEqual([]);
    expect(toTargetConfig(WITH_WO).password).toBe('from an ephemeral value');
    expect(checkTargetInput(AWS_WO)).toEqual([]);
    expect(toTargetConfig(AWS_WO).aws?.secretAccessKey).toBe('secret');
  });

  it('refuses a write-only secret together with its plain attribute, naming both', () => {
    expect(only({ ...WITH_WO, password: 'in state' })).toEqual({
      field: 'password_wo',
      message: 'password_wo and password are both set: the admin password comes from one of them; remove password (kept in state) or password_wo (kept out of it)',
    });
    expect(only({ ...AWS_WO, aws_secret_access_key: 'in-state' }).message).toMatch(/^aws_secret_access_key_wo and aws_secret_access_key are both set/);
  });

  it('wants each half of a pair with the other', () => {
    expect(only({ ...WITH_WO, password_wo_version: null })).toEqual({
      field: 'password_wo_version',
      message:
        'is required with password_wo: Terraform does not compare write-only values, so a new password_wo is applied only when ' +
        'password_wo_version changes; set password_wo_version = 1 and raise it with each new value',
    });
    expect(only({ ...BASE, password_wo_version: 2 })).toEqual({
      field: 'password_wo_version',
      message: 'is set without password_wo: the version says when to apply a new password_wo, and there is none; set password_wo, or remove password_wo_version',
    });
    expect(fieldsOf({ ...AWS_WO, aws_secret_access_key_wo: null })).toEqual(['aws_secret_access_key', 'aws_secret_access_key_wo_version']);
    expect(only({ ...AWS_WO, aws_access_key_id: null })).toEqual({
      field: 'aws_access_key_id',
      message: 'is required when aws_secret_access_key_wo is set; give both keys or neither (the standard AWS configuration is used then)',
    });
  });

  it('judges what it can while a write-only value is not known yet (an ephemeral value at validate time)', () => {
    expect(checkTargetInput({ ...WITH_WO, password_wo: UNKNOWN })).toEqual([]);
    expect(checkTargetInput({ ...WO_BASE, password_wo: UNKNOWN })).toEqual([]);
    expect(fieldsOf({ ...WITH_WO, password_wo: UNKNOWN, password: 'in state' })).toEqual([]);
  });

  it('gives write-only secrets the checks of their plain attribute, and the same source rules', () => {
    expect(only({ ...WITH_WO, password_wo: 'a\0b' })).toEqual({ field: 'password_wo', message: 'contains a NUL character, which PostgreSQL cannot receive' });
    expect(only({ ...AWS_WO, aws_secret_access_key_wo: 'sec ret' }).message).toBe('contains whitespace; check for a stray space or newline around the value');
    expect(only({ ...AWS_BASE, password_wo: 'pw', password_wo_version: 1 }).message).toMatch(/^must not be set when use_aws_secrets = true/);
    expect(fieldsOf({ ...BASE, aws_secret_access_key_wo: 'secret', aws_secret_access_key_wo_version: 1 })).toEqual([
      'aws_secret_access_key_wo',
      'aws_secret_access_key_wo_version',
    ]);
  });
});

describe('checkTargetInput: TLS', () => {
  it.each(SSL_MODES)('accepts ssl_mode %s with tls_root_cert', (mode) => {
    expect(checkTargetInput({ ...BASE, ssl_mode: mode, tls_root_cert: pki.ca.certPem })).toEqual([]);
  });

  it.each(SSL_MODES.filter((m) => m !== 'verify-ca'))('accepts ssl_mode %s without tls_root_cert', (mode) => {
    expect(checkTargetInput({ ...BASE, ssl_mode: mode })).toEqual([]);
  });

  it('refuses a bad ssl_mode, listing the six modes', () => {
    expect(only({ ...BASE, ssl_mode: 'strict' })).toEqual({
      field: 'ssl_mode',
      message: '"strict" is not an sslmode; accepted: disable, allow, prefer, require, verify-ca, verify-full, as in libpq (default prefer)',
    });
    expect(only({ ...BASE, ssl_mode: 'REQUIRE' }).message).toMatch(/\(modes are lower case: "require"\)/);
    expect(only({ ...BASE, ssl_mode: 'true' }).field).toBe('ssl_mode');
  });

  it('refuses verify-ca without tls_root_cert on ssl_mode, saying how to fix it (libpq refuses sslrootcert=system with it)', () => {
    // Every public CA in the system store, and no host name check: any certificate a public
    // CA issued for any name would pass.
    const refusal: ValidationIssue = {
      field: 'ssl_mode',
      message:
        '"verify-ca" needs tls_root_cert: without it any certificate that a public CA in the system trust store issued, for any host name, is accepted ' +
        "(libpq refuses this too); set tls_root_cert to the CA certificate that signed the server's certificate, " +
        'or use ssl_mode "verify-full" to trust the system store with host name checking',
    };
    expect(checkTargetInput({ ...BASE, ssl_mode: 'verify-ca' })).toEqual([refusal]);
    expect(checkTargetInput({ ...BASE, ssl_mode: 'verify-ca', tls_root_cert: null })).toEqual([refusal]);
    expect(checkTargetInput({ ...AWS_BASE, ssl_mode: 'verify-ca', tls_cert_file: client.certPem, tls_key_file: client.keyPem })).toEqual([refusal]);
    expect(thrown(() => toTargetConfig({ ...BASE, ssl_mode: 'verify-ca' })).issues).toEqual([refusal]);
    expect(thrown(() => toTargetConfig({ ...BASE, ssl_mode: 'verify-ca' })).message).toBe(`ssl_mode: ${refusal.message}`);
  });

  it('accepts verify-ca with tls_root_cert, and a tls_root_cert not known yet at plan time', () => {
    expect(toTargetConfig({ ...BASE, ssl_mode: 'verify-ca', tls_root_cert: pki.ca.certPem })).toMatchObject({ sslMode: 'verify-ca', tlsRootCert: pki.ca.certPem });
    expect(checkTargetInput({ ...BASE, ssl_mode: 'verify-ca', tls_root_cert: UNKNOWN })).toEqual([]);
    // A mode not known yet cannot be judged either.
    expect(checkTargetInput({ ...BASE, ssl_mode: UNKNOWN })).toEqual([]);
  });

  it('accepts verify-full without tls_root_cert: the system trust store with host name checking (sslrootcert=system)', () => {
    expect(checkTargetInput({ ...BASE, ssl_mode: 'verify-full' })).toEqual([]);
    expect(toTargetConfig({ ...BASE, ssl_mode: 'verify-full' })).not.toHaveProperty('tlsRootCert');
  });

  it('refuses a client certificate without its key, and a key without its certificate', () => {
    expect(only({ ...BASE, ssl_mode: 'verify-full', tls_cert_file: client.certPem })).toEqual({
      field: 'tls_key_file',
      message: 'is required when tls_cert_file is set: a client certificate needs its key; add tls_key_file = file("client.key"), or remove tls_cert_file',
    });
    expect(only({ ...BASE, tls_key_file: client.keyPem }).field).toBe('tls_cert_file');
  });

  it('refuses a key that does not match the certificate', () => {
    const found = only({ ...BASE, tls_cert_file: client.certPem, tls_key_file: otherClient.keyPem });
    expect(found.field).toBe('tls_key_file');
    expect(found.message).toMatch(/^does not match the certificate in tls_cert_file \(subject CN=admin\)/);
  });

  it('refuses an expired client certificate and garbage in tls_root_cert', () => {
    expect(fieldsOf({ ...BASE, tls_root_cert: 'garbage', tls_cert_file: expired.certPem, tls_key_file: expired.keyPem })).toEqual([
      'tls_root_cert',
      'tls_cert_file',
    ]);
    expect(only({ ...BASE, tls_root_cert: 'garbage' }).message).toMatch(/^is not a PEM certificate/);
  });

  it('judges certificates at the instant it is given', () => {
    const input = { ...BASE, tls_cert_file: expired.certPem, tls_key_file: expired.keyPem };
    expect(checkTargetInput(input, { now: new Date(Date.UTC(2020, 6, 1)) })).toEqual([]);
  });

  it('checks the certificate alone when its key is missing', () => {
    expect(fieldsOf({ ...BASE, tls_cert_file: 'garbage' })).toEqual(['tls_cert_file', 'tls_key_file']);
  });

  it('wants tls_server_name to be a host name', () => {
    expect(checkTargetInput({ ...BASE, host: '10.0.0.5', ssl_mode: 'verify-full', tls_server_name: 'db.example.com' })).toEqual([]);
    const found = only({ ...BASE, tls_server_name: '10.0.0.5' });
    expect(found.field).toBe('tls_server_name');
    expect(found.message).toMatch(/is an IP address, not a host name/);
  });
});

describe('checkTargetInput: pool and session settings', () => {
  it('accepts the example pool sizes, as numbers or strings', () => {
    expect(checkTargetInput({ ...BASE, max_connections: 100, min_connections: 10 })).toEqual([]);
    expect(checkTargetInput({ ...BASE, max_connections: '100', min_connections: '20' })).toEqual([]);
    expect(checkTargetInput({ ...BASE, max_connections: 5, min_connections: 5 })).toEqual([]);
  });

  it('refuses min_connections above max_connections', () => {
    expect(only({ ...BASE, max_connections: 5, min_connections: 10 })).toEqual({
      field: 'min_connections',
      message: '(10) is more than max_connections (5); write a min_connections from 1 to 5, or raise max_connections',
    });
  });

  it('refuses pool sizes out of range', () => {
    expect(only({ ...BASE, max_connections: 0 }).message).toMatch(/out of range; write a whole number from 1 to 1000/);
    expect(only({ ...BASE, max_connections: 5000 }).field).toBe('max_connections');
    expect(only({ ...BASE, min_connections: 0 }).field).toBe('min_connections');
    expect(only({ ...BASE, min_connections: 2.5 }).message).toMatch(/is not a whole number/);
  });

  it('checks connect_timeout and application_name', () => {
    expect(checkTargetInput({ ...BASE, connect_timeout: 10, application_name: 'terraform adaptive' })).toEqual([]);
    expect(only({ ...BASE, connect_timeout: 0 }).message).toMatch(/out of range; write a whole number from 1 to 3600/);
    expect(only({ ...BASE, application_name: 'héllo' }).message).toMatch(/contains 'é'; PostgreSQL keeps only printable ASCII/);
    expect(only({ ...BASE, application_name: 'a'.repeat(64) }).message).toMatch(/is 64 characters long/);
  });
});

describe('checkTargetInput: plan time, with unknown values', () => {
  it('accepts a resource whose every attribute is unknown', () => {
    const allUnknown = Object.fromEntries(TARGET_FIELDS.map((field) => [field, UNKNOWN])) as TargetInput;
    expect(checkTargetInput(allUnknown)).toEqual([]);
  });

  it('skips the rules that need an unknown attribute, and checks the rest', () => {
    // use_aws_secrets unknown: the password/secret rule cannot be judged yet.
    expect(checkTargetInput({ ...BASE, use_aws_secrets: UNKNOWN, aws_secret_name: 'x' })).toEqual([]);
    // password unknown: it may turn out null, so "both" cannot be judged.
    expect(checkTargetInput({ ...AWS_BASE, password: UNKNOWN })).toEqual([]);
    // The key is unknown: the pair cannot be matched, but the certificate is still checked.
    expect(fieldsOf({ ...BASE, tls_cert_file: expired.certPem, tls_key_file: UNKNOWN })).toEqual(['tls_cert_file']);
    // max unknown: min is checked alone.
    expect(checkTargetInput({ ...BASE, max_connections: UNKNOWN, min_connections: 500 })).toEqual([]);
    expect(fieldsOf({ ...BASE, host: UNKNOWN, port: 'x', ssl_mode: UNKNOWN })).toEqual(['port']);
  });
});

describe('checkTargetInput: reporting', () => {
  it('reports every issue at once, in attribute order', () => {
    const issues = checkTargetInput({
      type: 'mysql',
      name: 'bad name',
      host: 'db:5432',
      port: '99999',
      database_name: 'production',
      username: 'admin',
      password: 'pw',
      use_aws_secrets: true,
      ssl_mode: 'strict',
      tls_cert_file: client.certPem,
      max_connections: 5,
      min_connections: 10,
      connect_timeout: 0,
    });
    expect(issues.map((i) => i.field)).toEqual([
      'type',
      'name',
      'host',
      'port',
      'password',
      'aws_secret_name',
      'ssl_mode',
      'tls_key_file',
      'min_connections',
      'connect_timeout',
    ]);
  });

  it('never repeats a password or secret key in a message', () => {
    const secret = 'Sup3r-Secret-Passw0rd';
    const issues = checkTargetInput({ ...AWS_BASE, password: secret, aws_access_key_id: `${secret} `, aws_secret_access_key: `${secret}\n` });
    expect(issues.length).toBeGreaterThan(0);
    for (const found of issues) expect(found.message).not.toContain(secret);
  });
});
