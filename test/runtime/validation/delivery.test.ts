/**
 * `credential_delivery` and `secret_prefix` at plan time, and the names of the secrets a
 * group writes (Secrets Manager's name characters; two members never share a name).
 */
import { describe, expect, it } from 'vitest';
import { issueDiagnostics } from '../../../src/resources/common';
import { UNKNOWN } from '../../../src/runtime/validation';
import { checkDelivery, memberSecretName, secretNamePart } from '../../../src/runtime/validation/delivery';

describe('checkDelivery', () => {
  it('accepts the three modes, secret_prefix with secrets_manager, and unknown values', () => {
    expect(checkDelivery({ mode: undefined, secretPrefix: undefined })).toEqual([]);
    expect(checkDelivery({ mode: 'state', secretPrefix: null })).toEqual([]);
    expect(checkDelivery({ mode: 'none', secretPrefix: null })).toEqual([]);
    expect(checkDelivery({ mode: 'secrets_manager', secretPrefix: 'adaptive/prod/', region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' })).toEqual([]);
    expect(checkDelivery({ mode: UNKNOWN, secretPrefix: null })).toEqual([]);
    expect(checkDelivery({ mode: 'secrets_manager', secretPrefix: UNKNOWN })).toEqual([]);
  });

  it('refuses another mode, naming the accepted ones', () => {
    expect(checkDelivery({ mode: 'vault', secretPrefix: null })).toEqual([
      { field: 'credential_delivery', message: 'must be one of "state", "secrets_manager", "none", got "vault"' },
    ]);
  });

  it('requires secret_prefix with secrets_manager, pointing at credential_delivery when it is left out', () => {
    const config = { credential_delivery: 'secrets_manager', secret_prefix: null };
    const issues = checkDelivery({ mode: 'secrets_manager', secretPrefix: null });
    expect(issueDiagnostics(issues, { config, causes: { secret_prefix: ['credential_delivery'] } })).toEqual([
      { summary: 'Missing secret_prefix', detail: expect.stringMatching(/^required with credential_delivery = "secrets_manager": 1 to 256 characters/) as unknown, path: ['credential_delivery'] },
    ]);
  });

  it('refuses a prefix with characters Secrets Manager does not allow, or "=" (the escape)', () => {
    for (const prefix of ['adaptive prod/', 'adaptive/é/', 'a=b/', 'x'.repeat(257)]) {
      expect(checkDelivery({ mode: 'secrets_manager', secretPrefix: prefix }).map((i) => i.field)).toEqual(['secret_prefix']);
    }
  });

  it('refuses secret_prefix, aws_region and aws_endpoint without secrets_manager', () => {
    expect(checkDelivery({ mode: 'none', secretPrefix: 'p/', region: 'eu-west-1', endpoint: 'http://x' }).map((i) => i.field)).toEqual([
      'secret_prefix',
      'aws_region',
      'aws_endpoint',
    ]);
    expect(checkDelivery({ mode: undefined, secretPrefix: 'p/' })[0]?.message).toMatch(/only applies with credential_delivery = "secrets_manager" \(it is "state"\)/);
  });
});

describe('memberSecretName', () => {
  it('is <prefix><group>/<member>/<endpoint>, an email as it is when Secrets Manager allows it', () => {
    expect(memberSecretName('adaptive/prod/', 'developers', 'dev1+ops@company.com', 'pg-dev')).toBe('adaptive/prod/developers/dev1+ops@company.com/pg-dev');
  });

  it('writes other characters as =XX (UTF-8), "=" itself as =3D, so two members never share a name', () => {
    expect(secretNamePart("o'brien=x/y!@company.com")).toBe('o=27brien=3Dx=2Fy=21@company.com');
    expect(secretNamePart('o=27brien@company.com')).not.toBe(secretNamePart("o'brien@company.com"));
    expect(secretNamePart('ü@company.com')).toBe('=C3=BC@company.com');
    expect(/^[A-Za-z0-9/_+=.@-]+$/.test(memberSecretName('p/', 'g', "a{b}|c~d#e$f%g&h*i?j^k`l@company.com", 'e'))).toBe(true);
  });
});
