/**
 * The hand-written constructs, synthesized with CDKTF's Testing helpers: what each one
 * writes into the Terraform configuration, and that invalid properties fail synthesis with
 * exactly the runtime validators' messages (the detail `terraform plan` shows).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AccessGroup,
  AdaptiveProvider,
  AdminCredentials,
  Authorization,
  Endpoint,
  issueMessage,
  l1,
  permissionsJson,
  PostgresAccess,
  PostgresTarget,
  type Permissions,
  type PostgresTargetProps,
  type SslMode,
  type TablePrivilege,
} from '../../src/constructs';
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable, Testing, type TerraformResource } from '../../src/constructs/cdk';
import { checkMembers, checkPermissions, checkTargetInput, checkTtl, type TargetInput } from '../../src/runtime/validation';
import { checkSessionSettings } from '../../src/runtime/validation/session-settings';
import type { ValidationIssue } from '../../src/runtime/types';
import { createTestPki, type KeyPairPem } from '../fixtures/pki';
import { validationMessages } from './support';

const DEVELOPER: Permissions = { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] };

/** A target with an inline password, as the guide's first example. */
function basicTarget(overrides: Partial<PostgresTargetProps> = {}): PostgresTargetProps {
  return {
    name: 'postgres-production',
    host: 'postgres.example.com',
    port: '5432',
    databaseName: 'production',
    credentials: AdminCredentials.fromPassword('admin', 'not-a-real-password'),
    ...overrides,
  };
}

/** The same target as the HCL attributes the runtime validator reads. */
function basicTargetInput(overrides: TargetInput = {}): TargetInput {
  return {
    type: 'postgres',
    name: 'postgres-production',
    host: 'postgres.example.com',
    port: '5432',
    database_name: 'production',
    username: 'admin',
    password: 'not-a-real-password',
    ...overrides,
  };
}

function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new AdaptiveProvider(stack, 'adaptive');
  return stack;
}

/** The synthesized configuration as an object. */
function synthesized(stack: TerraformStack): { resource: Record<string, Record<string, Record<string, unknown>>> } & Record<string, unknown> {
  return JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
}

/** Expects the stack's validation to report exactly `issues` (as synth shows them) for the construct at `path`. */
function expectSynthFailure(stack: TerraformStack, path: string, issues: readonly ValidationIssue[]): void {
  expect(issues.length).toBeGreaterThan(0);
  const expected = issues.map(issueMessage);
  expect(validationMessages(stack)).toEqual(expected);
  let thrown: unknown;
  try {
    Testing.synth(stack, true);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  for (const line of expected) expect((thrown as Error).message).toContain(`[${path}] ${line}`);
}

describe('PostgresTarget', () => {
  it('writes adaptive_resource with a password, and keeps the construct id as the address', () => {
    const synth = Testing.synthScope((scope) => {
      new PostgresTarget(scope, 'postgres', basicTarget({ maxConnections: 100, minConnections: 10, port: 5433 }));
    });
    expect(
      Testing.toHaveResourceWithProperties(synth, l1.resource.Resource.tfResourceType, {
        type: 'postgres',
        name: 'postgres-production',
        host: 'postgres.example.com',
        port: '5433',
        database_name: 'production',
        username: 'admin',
        password: 'not-a-real-password',
        max_connections: 100,
        min_connections: 10,
      }),
    ).toBe(true);
    const config = JSON.parse(synth) as { resource: Record<string, Record<string, unknown>> };
    expect(Object.keys(config.resource.adaptive_resource ?? {})).toEqual(['postgres']);
    expect(config.resource.adaptive_resource?.postgres).not.toHaveProperty('use_aws_secrets');
  });

  it('writes Secrets Manager credentials and TLS settings under their HCL names', () => {
    const stack = newStack();
    const key = new TerraformVariable(stack, 'aws_access_key', { type: 'string', sensitive: true });
    const secret = new TerraformVariable(stack, 'aws_secret_key', { type: 'string', sensitive: true });
    const target = new PostgresTarget(stack, 'postgres_prod', {
      name: 'postgres-production',
      host: 'postgres-primary.internal.company.net',
      databaseName: 'production',
      credentials: AdminCredentials.fromSecretsManager({
        secretName: 'postgres-prod-credentials',
        region: 'us-east-1',
        accessKeyId: key.stringValue,
        secretAccessKey: secret.stringValue,
      }),
      tls: { mode: 'verify-full', rootCert: Fn.file('certs/ca-cert.pem'), clientCert: Fn.file('certs/client-cert.pem'), clientKey: Fn.file('certs/client-key.pem') },
      connectTimeout: 5,
      applicationName: 'adaptive-access',
    });
    expect(target.resource).toBeInstanceOf(l1.resource.Resource);
    expect(target.node.defaultChild).toBe(target.resource);
    const resource = synthesized(stack).resource.adaptive_resource?.postgres_prod;
    expect(resource).toMatchObject({
      use_aws_secrets: true,
      aws_secret_name: 'postgres-prod-credentials',
      aws_region: 'us-east-1',
      aws_access_key_id: '${var.aws_access_key}',
      aws_secret_access_key: '${var.aws_secret_key}',
      ssl_mode: 'verify-full',
      tls_root_cert: '${file("certs/ca-cert.pem")}',
      tls_cert_file: '${file("certs/client-cert.pem")}',
      tls_key_file: '${file("certs/client-key.pem")}',
      connect_timeout: 5,
      application_name: 'adaptive-access',
    });
    expect(resource).not.toHaveProperty('username');
    expect(resource).not.toHaveProperty('password');
    // Tokens (variables, file()) are unknown at synth time: nothing to refuse yet.
    expect(validationMessages(stack)).toEqual([]);
  });

  it('writes IAM authentication under its HCL names, and refuses it over ssl_mode prefer at synth time with the runtime message', () => {
    const stack = newStack();
    new PostgresTarget(stack, 'rds', {
      ...basicTarget({ name: 'rds-production' }),
      credentials: AdminCredentials.fromRdsIam({ username: 'iam_admin', region: 'eu-west-1' }),
      tls: { mode: 'verify-full', rootCert: Fn.file('certs/rds-ca.pem') },
    });
    const resource = synthesized(stack).resource.adaptive_resource?.rds;
    expect(resource).toMatchObject({ username: 'iam_admin', use_rds_iam: true, aws_region: 'eu-west-1', ssl_mode: 'verify-full' });
    expect(resource).not.toHaveProperty('password');
    expect(validationMessages(stack)).toEqual([]);

    const weak = newStack();
    new PostgresTarget(weak, 'rds', { ...basicTarget({ name: 'rds-production' }), credentials: AdminCredentials.fromRdsIam({ username: 'iam_admin' }) });
    expect(validationMessages(weak)).toEqual([expect.stringContaining('ssl_mode: IAM tokens travel as passwords: ssl_mode must be require or stronger')]);
  });

  it('writes write-only admin secrets with their versions, and never the plain attributes', () => {
    const stack = newStack();
    const password = new TerraformVariable(stack, 'admin_password', { type: 'string', sensitive: true });
    const key = new TerraformVariable(stack, 'aws_secret_key', { type: 'string', sensitive: true });
    new PostgresTarget(stack, 'inline', basicTarget({ credentials: AdminCredentials.fromWriteOnlyPassword('admin', password.stringValue, 2) }));
    new PostgresTarget(stack, 'aws', {
      ...basicTarget({ name: 'postgres-aws' }),
      credentials: AdminCredentials.fromSecretsManager({
        secretName: 'postgres-prod-credentials',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        writeOnlySecretAccessKey: key.stringValue,
        writeOnlySecretAccessKeyVersion: 1,
      }),
    });
    const resources = synthesized(stack).resource.adaptive_resource;
    expect(resources?.inline).toMatchObject({ username: 'admin', password_wo: '${var.admin_password}', password_wo_version: 2 });
    expect(resources?.inline).not.toHaveProperty('password');
    expect(resources?.aws).toMatchObject({ aws_secret_access_key_wo: '${var.aws_secret_key}', aws_secret_access_key_wo_version: 1 });
    expect(resources?.aws).not.toHaveProperty('aws_secret_access_key');
    expect(validationMessages(stack)).toEqual([]);
  });

  it('refuses a write-only secret key without its version at synth time, with the runtime message', () => {
    const stack = newStack();
    new PostgresTarget(stack, 'aws', {
      ...basicTarget(),
      credentials: AdminCredentials.fromSecretsManager({ secretName: 'postgres-prod-credentials', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', writeOnlySecretAccessKey: 'literal' }),
    });
    expect(validationMessages(stack).join('\n')).toContain('aws_secret_access_key_wo_version: is required with aws_secret_access_key_wo: Terraform does not compare write-only values');
  });

  it('refuses ssl_mode "verify_full" with the runtime message', () => {
    const stack = newStack();
    new PostgresTarget(stack, 'postgres', basicTarget({ tls: { mode: 'verify_full' as SslMode } }));
    const issues = checkTargetInput(basicTargetInput({ ssl_mode: 'verify_full' }));
    expect(issues.map((i) => i.field)).toEqual(['ssl_mode']);
    expectSynthFailure(stack, 'stack/postgres', issues);
  });

  it('refuses ssl_mode "verify-ca" without a root certificate at synth time, with the runtime message', () => {
    const stack = newStack();
    new PostgresTarget(stack, 'postgres', basicTarget({ tls: { mode: 'verify-ca' } }));
    const issues = checkTargetInput(basicTargetInput({ ssl_mode: 'verify-ca' }));
    expect(issues.map((i) => i.field)).toEqual(['ssl_mode']);
    expect(issues[0]?.message).toMatch(/^"verify-ca" needs tls_root_cert: .*set tls_root_cert to the CA certificate .*or use ssl_mode "verify-full"/);
    expectSynthFailure(stack, 'stack/postgres', issues);
    // verify-full without one trusts the system store, as the seed's read replica does.
    const replica = newStack();
    new PostgresTarget(replica, 'postgres', basicTarget({ tls: { mode: 'verify-full' } }));
    expect(validationMessages(replica)).toEqual([]);
  });

  describe('with certificates', () => {
    let client: KeyPairPem;
    beforeAll(async () => {
      client = await (await createTestPki()).clientCert('postgres');
    });

    it('refuses a client certificate without its key with the runtime message', () => {
      const stack = newStack();
      new PostgresTarget(stack, 'postgres', basicTarget({ tls: { mode: 'verify-full', clientCert: client.certPem } }));
      const issues = checkTargetInput(basicTargetInput({ ssl_mode: 'verify-full', tls_cert_file: client.certPem }));
      expect(issues.map((i) => i.field)).toEqual(['tls_key_file']);
      expectSynthFailure(stack, 'stack/postgres', issues);
    });

    it('accepts a client certificate with its key', () => {
      const stack = newStack();
      new PostgresTarget(stack, 'postgres', basicTarget({ tls: { mode: 'verify-full', clientCert: client.certPem, clientKey: client.keyPem } }));
      expect(validationMessages(stack)).toEqual([]);
    });
  });

  it('checks what the L1 holds when validation runs, so escape-hatch changes are checked too', () => {
    const stack = newStack();
    const target = new PostgresTarget(stack, 'postgres', basicTarget());
    target.resource.port = '99999';
    expectSynthFailure(stack, 'stack/postgres', checkTargetInput(basicTargetInput({ port: '99999' })));
  });
});

describe('Authorization', () => {
  it('writes permissions as the JSON text jsonencode produces, and resource_type postgres', () => {
    const synth = Testing.synthScope((scope) => {
      new Authorization(scope, 'dev_role', { name: 'developer-role', description: 'Developer access with CRUD permissions', permissions: DEVELOPER });
    });
    expect(
      Testing.toHaveResourceWithProperties(synth, 'adaptive_authorization', {
        name: 'developer-role',
        description: 'Developer access with CRUD permissions',
        resource_type: 'postgres',
        permissions: '{"grants":["SELECT","INSERT","UPDATE","DELETE"],"schemas":["public","app"],"tables":["*"]}',
      }),
    ).toBe(true);
  });

  it('leaves permissions to Terraform (jsonencode) when they hold references', () => {
    const stack = newStack();
    const schemas = new TerraformVariable(stack, 'schemas', { type: 'list(string)' });
    const authorization = new Authorization(stack, 'readonly', { name: 'readonly', permissions: { grants: ['SELECT'], schemas: schemas.listValue, tables: ['*'] } });
    expect(authorization.authorization).toBeInstanceOf(l1.authorization.Authorization);
    expect(synthesized(stack).resource.adaptive_authorization?.readonly?.permissions).toBe('${jsonencode({"grants" = ["SELECT"], "schemas" = var.schemas, "tables" = ["*"]})}');
    expect(validationMessages(stack)).toEqual([]);
  });

  it('refuses an unknown privilege with the runtime message', () => {
    const stack = newStack();
    const permissions: Permissions = { grants: ['SELECT', 'SELEKT' as TablePrivilege], schemas: ['public'], tables: ['*'] };
    new Authorization(stack, 'bad', { name: 'bad-role', permissions });
    const issues = checkPermissions(permissions);
    expect(issues.map((i) => i.field)).toEqual(['permissions.grants[1]']);
    expectSynthFailure(stack, 'stack/bad', issues);
  });

  it('refuses a system schema and a table of an unlisted schema, each at its path', () => {
    const stack = newStack();
    const permissions: Permissions = { grants: ['SELECT'], schemas: ['pg_catalog'], tables: ['app.users'] };
    new Authorization(stack, 'bad', { name: 'bad-role', permissions });
    expectSynthFailure(stack, 'stack/bad', checkPermissions(permissionsJson(permissions)));
  });
});

describe('Endpoint', () => {
  it('refers to the target and the authorization of the app, so Terraform orders them', () => {
    const stack = newStack();
    const target = new PostgresTarget(stack, 'postgres', basicTarget());
    const authorization = new Authorization(stack, 'dev_role', { name: 'developer-role', permissions: DEVELOPER });
    const endpoint = new Endpoint(stack, 'dev_access', { name: 'postgres-dev-access', target, authorization, ttl: '8h' });
    expect(endpoint.endpoint).toBeInstanceOf(l1.endpoint.Endpoint);
    expect(synthesized(stack).resource.adaptive_endpoint?.dev_access).toEqual({
      name: 'postgres-dev-access',
      type: 'direct',
      ttl: '8h',
      resource: '${adaptive_resource.postgres.name}',
      authorization: '${adaptive_authorization.dev_role.name}',
    });
    expect(validationMessages(stack)).toEqual([]);
  });

  it('takes names of a target and an authorization managed elsewhere', () => {
    const synth = Testing.synthScope((scope) => {
      new Endpoint(scope, 'ep', { name: 'ep', target: 'postgres-production', authorization: 'developer-role', ttl: '7d' });
    });
    expect(Testing.toHaveResourceWithProperties(synth, 'adaptive_endpoint', { resource: 'postgres-production', authorization: 'developer-role', ttl: '7d' })).toBe(true);
  });

  it('refuses ttl "8 hours" with the runtime message', () => {
    const stack = newStack();
    new Endpoint(stack, 'ep', { name: 'ep', target: 'postgres-production', authorization: 'developer-role', ttl: '8 hours' });
    const issues = checkTtl('8 hours');
    expect(issues.map((i) => i.field)).toEqual(['ttl']);
    expectSynthFailure(stack, 'stack/ep', issues);
  });

  it("writes the members' session settings, and refuses connection_limit 0 and a negative timeout with the runtime messages", () => {
    const synth = Testing.synthScope((scope) => {
      new Endpoint(scope, 'ep', {
        name: 'ep',
        target: 'postgres-production',
        authorization: 'developer-role',
        ttl: '4h',
        searchPath: ['app', 'public'],
        statementTimeout: '30s',
        idleSessionTimeout: '10m',
        connectionLimit: 1,
      });
    });
    expect(
      Testing.toHaveResourceWithProperties(synth, 'adaptive_endpoint', {
        search_path: ['app', 'public'],
        statement_timeout: '30s',
        idle_session_timeout: '10m',
        connection_limit: 1,
      }),
    ).toBe(true);
    const stack = newStack();
    new Endpoint(stack, 'ep', { name: 'ep', target: 'postgres-production', authorization: 'developer-role', ttl: '4h', statementTimeout: '-5s', connectionLimit: 0 });
    const issues = checkSessionSettings({ statement_timeout: '-5s', connection_limit: 0 });
    expect(issues.map((i) => i.field)).toEqual(['statement_timeout', 'connection_limit']);
    expectSynthFailure(stack, 'stack/ep', issues);
  });

  it('skips a ttl that is a reference, as the provider does with an unknown value', () => {
    const stack = newStack();
    const ttl = new TerraformVariable(stack, 'ttl', { type: 'string' });
    new Endpoint(stack, 'ep', { name: 'ep', target: 'postgres-production', authorization: 'developer-role', ttl: ttl.stringValue });
    expect(validationMessages(stack)).toEqual([]);
  });
});

describe('AccessGroup', () => {
  it('writes members and endpoint references, and exposes the credentials', () => {
    const stack = newStack();
    const endpoint = new Endpoint(stack, 'dev_access', { name: 'postgres-dev-access', target: 'postgres-production', authorization: 'developer-role', ttl: '8h' });
    const group = new AccessGroup(stack, 'developers', { name: 'backend-developers', members: ['dev1@company.com', 'dev2@company.com'], endpoints: [endpoint, 'other-endpoint'] });
    expect(group.group).toBeInstanceOf(l1.group.Group);
    expect(synthesized(stack).resource.adaptive_group?.developers).toEqual({
      name: 'backend-developers',
      members: ['dev1@company.com', 'dev2@company.com'],
      endpoints: ['${adaptive_endpoint.dev_access.name}', 'other-endpoint'],
    });
    new TerraformOutput(stack, 'credentials', { value: group.credentials, sensitive: true });
    expect(synthesized(stack).output).toEqual({ credentials: { value: '${adaptive_group.developers.credentials}', sensitive: true } });
  });

  it('refuses a member who is not an email address with the runtime message', () => {
    const stack = newStack();
    const members = ['dev1@company.com', 'dev2-at-company.com'];
    new AccessGroup(stack, 'developers', { name: 'backend-developers', members, endpoints: ['postgres-dev-access'] });
    const issues = checkMembers(members);
    expect(issues.map((i) => i.field)).toEqual(['members[1]']);
    expectSynthFailure(stack, 'stack/developers', issues);
  });

  it('still checks the known members when one is a reference', () => {
    const stack = newStack();
    const lead = new TerraformVariable(stack, 'lead', { type: 'string' });
    const members = [lead.stringValue, 'not-an-email'];
    new AccessGroup(stack, 'developers', { name: 'backend-developers', members, endpoints: ['postgres-dev-access'] });
    expect(validationMessages(stack)).toEqual(checkMembers(['dev1@company.com', 'not-an-email']).map(issueMessage));
  });
});

describe('PostgresAccess', () => {
  it('wires a target, an authorization, an endpoint and a group from one props object', () => {
    const stack = newStack();
    const access = new PostgresAccess(stack, 'developers', {
      name: 'backend-developers',
      authorizationName: 'developer-role',
      endpointName: 'postgres-dev-access',
      target: basicTarget(),
      permissions: DEVELOPER,
      ttl: '8h',
      members: ['dev1@company.com', 'dev2@company.com'],
    });
    const config = synthesized(stack);
    const only = (type: string): Record<string, unknown> => {
      const resources = Object.values(config.resource[type] ?? {});
      expect(resources).toHaveLength(1);
      return resources[0] ?? {};
    };
    const address = (resource: TerraformResource): string => `${resource.terraformResourceType}.${stack.getLogicalId(resource)}`;
    expect(only('adaptive_resource')).toMatchObject({ name: 'postgres-production', host: 'postgres.example.com' });
    expect(only('adaptive_authorization')).toMatchObject({ name: 'developer-role', permissions: permissionsJson(DEVELOPER) });
    expect(only('adaptive_endpoint')).toMatchObject({
      name: 'postgres-dev-access',
      ttl: '8h',
      resource: `\${${address(access.target.resource)}.name}`,
      authorization: `\${${address(access.authorization.authorization)}.name}`,
    });
    expect(only('adaptive_group')).toMatchObject({
      name: 'backend-developers',
      members: ['dev1@company.com', 'dev2@company.com'],
      endpoints: [`\${${address(access.endpoint.endpoint)}.name}`],
    });
    new TerraformOutput(stack, 'credentials', { value: access.credentials, sensitive: true });
    expect(synthesized(stack).output).toEqual({ credentials: { value: `\${${address(access.group.group)}.credentials}`, sensitive: true } });
  });

  it('shares an existing target and names everything after `name` by default', () => {
    const stack = newStack();
    const target = new PostgresTarget(stack, 'postgres', basicTarget());
    const access = new PostgresAccess(stack, 'analysts', { name: 'data-analysts', target, permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] }, ttl: '12h', members: ['analyst1@company.com'] });
    expect(access.target).toBe(target);
    const config = synthesized(stack);
    expect(Object.keys(config.resource.adaptive_resource ?? {})).toEqual(['postgres']);
    for (const type of ['adaptive_authorization', 'adaptive_endpoint', 'adaptive_group']) {
      expect(Object.values(config.resource[type] ?? {}).map((r) => r.name)).toEqual(['data-analysts']);
    }
  });

  it('reports every invalid property of its parts at once, each under its construct', () => {
    const stack = newStack();
    new PostgresAccess(stack, 'bad', {
      name: 'bad',
      target: basicTarget({ tls: { mode: 'verify_full' as SslMode } }),
      permissions: { grants: ['SELEKT' as TablePrivilege], schemas: ['public'], tables: ['*'] },
      ttl: '8 hours',
      members: ['not-an-email'],
    });
    const expected = [
      ...checkTargetInput(basicTargetInput({ ssl_mode: 'verify_full' })),
      ...checkPermissions({ grants: ['SELEKT'], schemas: ['public'], tables: ['*'] }),
      ...checkTtl('8 hours'),
      ...checkMembers(['not-an-email']),
    ];
    expect(validationMessages(stack)).toEqual(expected.map(issueMessage));
  });

  it('fails a real synthesis (what `cdktf synth` runs) with the runtime message', () => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-synth-'));
    try {
      const app = new App({ outdir, stackTraces: false });
      const stack = new TerraformStack(app, 'stack');
      new AdaptiveProvider(stack, 'adaptive');
      new Endpoint(stack, 'ep', { name: 'ep', target: 't', authorization: 'a', ttl: '8 hours' });
      expect(() => app.synth()).toThrow(`[stack/ep] ${issueMessage(checkTtl('8 hours')[0]!)}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
