/**
 * How validation issues and provider-block problems become Terraform diagnostics: which
 * attribute they point at (Terraform shows that line), their summary, and a detail that
 * reads as a sentence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceError } from '../../src/provider';
import { createLogger } from '../../src/provider/log';
import { configureAdaptive, providerSchema } from '../../src/resources';
import { issueDiagnostics } from '../../src/resources/common';
import { checkTargetInput } from '../../src/runtime/validation';
import { checkMembers } from '../../src/runtime/validation/members';
import { CertificateAuthority } from '../fixtures/pki';

describe('issueDiagnostics', () => {
  it('points an element of a set at the set: Terraform reorders sets, so an index would name the wrong line', () => {
    const issues = checkMembers(['not-an-email', 'zed@company.com']);
    expect(issueDiagnostics(issues, { sets: ['members'] })).toEqual([
      {
        summary: 'Invalid members',
        detail: `"not-an-email" is not an email address (no '@'); write an email address, e.g. dev1@company.com`,
        path: ['members'],
      },
    ]);
    expect(issueDiagnostics(checkMembers(['']), { sets: ['members'] })[0]?.detail).toBe(
      'an element of members is empty; write an email address, e.g. dev1@company.com',
    );
  });

  it('points an element of a list at the element', () => {
    expect(issueDiagnostics([{ field: 'hosts[2]', message: 'is empty' }])).toEqual([{ summary: 'Invalid hosts[2]', detail: 'hosts[2] is empty', path: ['hosts', 2] }]);
  });

  it('points a field inside a JSON attribute at the attribute and names the field in the summary', () => {
    expect(issueDiagnostics([{ field: 'permissions.grants', message: 'is empty; list table privileges' }])).toEqual([
      { summary: 'Invalid permissions.grants', detail: 'permissions.grants is empty; list table privileges', path: ['permissions'] },
    ]);
  });

  it('points a missing attribute at the attribute that requires it', async () => {
    const ca = await CertificateAuthority.create('Diagnostics Test CA');
    const client = await ca.issue({ commonName: 'admin', usage: 'client' });
    const config = {
      type: 'postgres',
      name: 'pg',
      host: 'db.example.com',
      database_name: 'app',
      username: 'admin',
      password: 'pw',
      tls_cert_file: client.certPem,
      tls_key_file: null,
    };
    const issues = checkTargetInput(config);
    expect(issueDiagnostics(issues, { config, causes: { tls_key_file: ['tls_cert_file'] } })).toEqual([
      {
        summary: 'Missing tls_key_file',
        detail:
          'tls_key_file is required when tls_cert_file is set: a client certificate needs its key; add tls_key_file = file("client.key"), or remove tls_cert_file',
        path: ['tls_cert_file'],
      },
    ]);
  });

  it('leaves a missing attribute with no cause set pointing at itself (Terraform shows the block)', () => {
    const config = { password: null, username: 'admin' };
    const [diagnostic] = issueDiagnostics([{ field: 'password', message: 'is required: set username and password' }], { config, causes: {} });
    expect(diagnostic).toEqual({ summary: 'Missing password', detail: 'password is required: set username and password', path: ['password'] });
  });

  it('keeps a message that starts with the value as it is', () => {
    const [diagnostic] = issueDiagnostics([{ field: 'ssl_mode', message: '"x" is not an sslmode' }]);
    expect(diagnostic?.detail).toBe('"x" is not an sslmode');
  });
});

describe('provider block', () => {
  const saved = { url: process.env.ADAPTIVE_CATALOG_URL, key: process.env.ADAPTIVE_CATALOG_KEY };
  const logger = createLogger({ level: undefined, module: 'test' });
  const unset = Object.fromEntries(Object.keys(providerSchema.attributes).map((name) => [name, null])) as Parameters<typeof configureAdaptive>[0];

  beforeEach(() => {
    delete process.env.ADAPTIVE_CATALOG_URL;
    delete process.env.ADAPTIVE_CATALOG_KEY;
  });
  afterEach(() => {
    for (const [name, value] of [['ADAPTIVE_CATALOG_URL', saved.url], ['ADAPTIVE_CATALOG_KEY', saved.key]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function configureError(config: Parameters<typeof configureAdaptive>[0]): Promise<ResourceError> {
    try {
      await configureAdaptive(config, logger, () => undefined);
    } catch (err) {
      if (err instanceof ResourceError) return err;
      throw err;
    }
    throw new Error('configure accepted the configuration');
  }

  it('names both catalog_url and ADAPTIVE_CATALOG_URL when neither is set', async () => {
    const err = await configureError(unset);
    expect(err.message).toBe('No catalog database configured');
    expect(err.detail).toBe(
      "No catalog database is configured: set the provider's catalog_url or the ADAPTIVE_CATALOG_URL environment variable to a PostgreSQL URL " +
        'such as postgres://user:password@host:5432/database',
    );
    expect(err.path).toBeUndefined();
  });

  it('points a malformed catalog_key at the attribute, without repeating it', async () => {
    const err = await configureError({ ...unset, catalog_url: 'postgres://u@localhost/catalog', catalog_key: 'abc123' });
    expect(err.message).toBe('Invalid catalog_key');
    expect(err.path).toEqual(['catalog_key']);
    expect(err.detail).toMatch(/^The catalog key \(catalog_key or ADAPTIVE_CATALOG_KEY\) has 6 hex characters, not 64\./);
    expect(err.detail).not.toContain('abc123');
  });

  it('does not point at catalog_url when the environment variable holds the bad value', async () => {
    process.env.ADAPTIVE_CATALOG_URL = 'http://example.com/catalog';
    const err = await configureError(unset);
    expect(err.message).toBe('Invalid catalog_url');
    expect(err.path).toBeUndefined();
  });
});
