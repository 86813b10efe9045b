// @peculiar/x509 (for the RSA certificate below) needs the metadata polyfill loaded first.
import 'reflect-metadata';
import { describe, it, expect, beforeAll } from 'vitest';
import { createPrivateKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createTestPki, type KeyPairPem, type TestPki } from '../../fixtures/pki';
import { ValidationError, type ValidationIssue } from '../../../src/runtime/types';
import {
  UNKNOWN,
  checkCertificates,
  checkClientPair,
  checkPrivateKey,
  parseCertificates,
  parsePrivateKey,
} from '../../../src/runtime/validation';

const DAY = 86_400_000;

/** A self-signed RSA client certificate (the fixture's PKI is ECDSA only). */
async function selfSignedRsa(): Promise<KeyPairPem> {
  // The fixture module has set @peculiar/x509's crypto provider to Node's webcrypto.
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=rsa-admin',
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs1', format: 'pem' }).toString();
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

/** Every message, to check that no key material leaks into them. */
function messages(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('\n');
}

function base64Body(pem: string): string {
  return pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----')).join('');
}

let pki: TestPki;
let client: KeyPairPem;
let otherClient: KeyPairPem;
let expired: KeyPairPem;
let notYetValid: KeyPairPem;
let rsa: KeyPairPem;

beforeAll(async () => {
  pki = await createTestPki();
  [client, otherClient, expired, notYetValid, rsa] = await Promise.all([
    pki.clientCert('admin'),
    pki.clientCert('someone-else'),
    pki.ca.issue({ commonName: 'old-admin', usage: 'client', notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) }),
    pki.ca.issue({ commonName: 'future-admin', usage: 'client', notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 40 * DAY) }),
    selfSignedRsa(),
  ]);
});

describe('checkCertificates', () => {
  it('accepts a CA certificate, a server certificate and a bundle of several', () => {
    expect(checkCertificates(pki.ca.certPem, 'tls_root_cert')).toEqual([]);
    expect(checkCertificates(pki.server.certPem, 'tls_root_cert')).toEqual([]);
    const bundle = `# our CAs\n${pki.ca.certPem}\n# the old one\n${pki.otherCa.certPem}`;
    expect(checkCertificates(bundle, 'tls_root_cert')).toEqual([]);
    expect(parseCertificates(bundle, 'tls_root_cert').map((c) => c.subject)).toEqual(['CN=Adaptive Test CA', 'CN=Untrusted Test CA']);
  });

  it('refuses garbage as "is not a PEM certificate"', () => {
    const issues = checkCertificates('hello, I am not a certificate', 'tls_root_cert');
    expect(issues).toEqual([
      {
        field: 'tls_root_cert',
        message:
          'is not a PEM certificate: it has no -----BEGIN line; expected the contents of a PEM file with -----BEGIN CERTIFICATE----- blocks, e.g. file("ca.pem")',
      },
    ]);
    expect(messages(issues)).not.toContain('hello');
  });

  it('refuses a PEM block whose content does not parse', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';
    const [found] = checkCertificates(broken, 'tls_root_cert');
    expect(found?.field).toBe('tls_root_cert');
    expect(found?.message).toMatch(/^is not a PEM certificate: the certificate does not parse/);
  });

  it('says which certificate of a bundle is broken', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';
    const [found] = checkCertificates(pki.ca.certPem + broken, 'tls_root_cert');
    expect(found?.message).toMatch(/certificate 2 of 2 does not parse/);
  });

  it('recognises a file path given instead of the contents', () => {
    expect(checkCertificates('certs/ca-cert.pem', 'tls_root_cert')[0]?.message).toMatch(/looks like a file path; this attribute takes the PEM contents, so write file\("<path>"\)/);
  });

  it('refuses a private key in a certificate attribute without repeating it', () => {
    const issues = checkCertificates(client.certPem + client.keyPem, 'tls_cert_file');
    expect(issues).toEqual([{ field: 'tls_cert_file', message: 'contains a private key; this attribute takes certificates only, put the key in tls_key_file' }]);
    expect(messages(issues)).not.toContain(base64Body(client.keyPem).slice(0, 20));
  });

  it('refuses an expired certificate, with its dates', () => {
    const issues = checkCertificates(expired.certPem, 'tls_cert_file');
    expect(issues).toEqual([
      {
        field: 'tls_cert_file',
        message: 'the certificate (subject CN=old-admin) expired on 2021-01-01T00:00:00Z (valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z); renew it',
      },
    ]);
  });

  it('refuses a certificate that is not valid yet, with its dates', () => {
    const [found] = checkCertificates(notYetValid.certPem, 'tls_cert_file');
    expect(found?.message).toMatch(/^the certificate \(subject CN=future-admin\) is not valid yet \(valid from \d{4}-\d\d-\d\dT[\d:]+Z to \d{4}-\d\d-\d\dT[\d:]+Z\)/);
  });

  it('judges validity at the instant it is given', () => {
    expect(checkCertificates(expired.certPem, 'c', { now: new Date(Date.UTC(2020, 5, 1)) })).toEqual([]);
    expect(checkCertificates(pki.ca.certPem, 'c', { now: new Date(Date.now() + 400 * DAY) })[0]?.message).toMatch(/subject CN=Adaptive Test CA\) expired on/);
  });

  it('refuses an empty value and a non-string, and accepts an unknown value', () => {
    expect(checkCertificates('', 'tls_root_cert')[0]?.message).toMatch(/^is empty; expected the contents of a PEM file/);
    expect(checkCertificates(42 as unknown as string, 'tls_root_cert')[0]?.message).toMatch(/must be a string \(PEM text\), got a number/);
    expect(checkCertificates(UNKNOWN, 'tls_root_cert')).toEqual([]);
  });

  it('parseCertificates throws a ValidationError', () => {
    expect(() => parseCertificates('nope', 'tls_root_cert')).toThrow(ValidationError);
    expect(parseCertificates(pki.ca.certPem, 'tls_root_cert')[0]).toBeInstanceOf(X509Certificate);
  });
});

describe('checkPrivateKey', () => {
  it('accepts PKCS#8, SEC1 EC and PKCS#1 RSA keys', () => {
    const sec1 = createPrivateKey(client.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
    expect(sec1).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(rsa.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(client.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    for (const pem of [client.keyPem, sec1, rsa.keyPem]) expect(checkPrivateKey(pem, 'tls_key_file')).toEqual([]);
    expect(parsePrivateKey(rsa.keyPem, 'tls_key_file').asymmetricKeyType).toBe('rsa');
    expect(parsePrivateKey(sec1, 'tls_key_file').asymmetricKeyType).toBe('ec');
  });

  it('accepts a SEC1 key preceded by its EC PARAMETERS block, as openssl ecparam -genkey writes it', () => {
    const sec1 = createPrivateKey(client.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
    const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    expect(checkPrivateKey(params + sec1, 'tls_key_file')).toEqual([]);
  });

  it('refuses garbage without repeating it', () => {
    const issues = checkPrivateKey('super-secret-value', 'tls_key_file');
    expect(issues[0]?.field).toBe('tls_key_file');
    expect(issues[0]?.message).toMatch(/^is not a PEM private key: it has no -----BEGIN line; expected the contents of an unencrypted PEM private key/);
    expect(messages(issues)).not.toContain('super-secret');
  });

  it('refuses a key block that does not parse, without repeating it', () => {
    const body = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=';
    const issues = checkPrivateKey(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`, 'tls_key_file');
    expect(issues[0]?.message).toMatch(/^is not a valid private key: the PRIVATE KEY block does not parse/);
    expect(messages(issues)).not.toContain(body);
  });

  it('refuses an encrypted key with a way out', () => {
    const encrypted = createPrivateKey(client.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    expect(checkPrivateKey(encrypted, 'tls_key_file')[0]?.message).toMatch(/^is an encrypted private key; decrypt it first/);
    const legacy = createPrivateKey(rsa.keyPem).export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    expect(legacy).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect(checkPrivateKey(legacy, 'tls_key_file')[0]?.message).toMatch(/^is an encrypted private key/);
  });

  it('refuses a certificate, a public key, two keys, and a weak RSA key', () => {
    expect(checkPrivateKey(client.certPem, 'tls_key_file')[0]?.message).toMatch(/contains a certificate but no private key; put the certificate in tls_cert_file/);
    const publicPem = createPrivateKey(client.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString().replace(/PRIVATE/g, 'PUBLIC');
    expect(checkPrivateKey(publicPem, 'tls_key_file')[0]?.message).toMatch(/is a public key; the private key is needed/);
    expect(checkPrivateKey(client.keyPem + otherClient.keyPem, 'tls_key_file')[0]?.message).toBe('contains 2 private keys; give exactly one');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(checkPrivateKey(weak, 'tls_key_file')[0]?.message).toMatch(/is a 1024-bit RSA key, which OpenSSL refuses by default; use at least 2048 bits/);
  });

  it('refuses an OpenSSH key with a conversion hint', () => {
    const openssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(checkPrivateKey(openssh, 'tls_key_file')[0]?.message).toMatch(/^is an OpenSSH key; convert it to PKCS#8/);
  });

  it('accepts an unknown value', () => {
    expect(checkPrivateKey(UNKNOWN, 'tls_key_file')).toEqual([]);
  });
});

describe('checkClientPair', () => {
  it('accepts a client certificate with its key (EC and RSA)', () => {
    expect(checkClientPair(client.certPem, client.keyPem)).toEqual([]);
    expect(checkClientPair(rsa.certPem, rsa.keyPem)).toEqual([]);
  });

  it('accepts a client certificate followed by its chain', () => {
    expect(checkClientPair(client.certPem + pki.ca.certPem, client.keyPem)).toEqual([]);
  });

  it('refuses a key that does not match the certificate, naming the key attribute', () => {
    const issues = checkClientPair(client.certPem, otherClient.keyPem, 'tls_cert_file', 'tls_key_file');
    expect(issues).toEqual([
      {
        field: 'tls_key_file',
        message: 'does not match the certificate in tls_cert_file (subject CN=admin); give the private key that certificate was issued for',
      },
    ]);
    expect(messages(issues)).not.toContain(base64Body(otherClient.keyPem).slice(0, 20));
  });

  it('refuses a key of another type than the certificate (RSA key, EC certificate)', () => {
    expect(checkClientPair(client.certPem, rsa.keyPem).map((i) => i.field)).toEqual(['tls_key_file']);
  });

  it('refuses an expired client certificate even with its own key', () => {
    const issues = checkClientPair(expired.certPem, expired.keyPem);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('tls_cert_file');
    expect(issues[0]?.message).toMatch(/expired on 2021-01-01T00:00:00Z/);
  });

  it('refuses a server certificate used as a client certificate', () => {
    const issues = checkClientPair(pki.server.certPem, pki.server.keyPem);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('tls_cert_file');
    expect(issues[0]?.message).toMatch(/is not for client authentication: its extended key usage lacks clientAuth/);
  });

  it('reports problems with both attributes at once', () => {
    const issues = checkClientPair(expired.certPem, 'garbage', 'tls_cert_file', 'tls_key_file');
    expect(issues.map((i) => i.field)).toEqual(['tls_cert_file', 'tls_key_file']);
  });

  it('checks what is known when one side is unknown', () => {
    expect(checkClientPair(UNKNOWN, client.keyPem)).toEqual([]);
    expect(checkClientPair(client.certPem, UNKNOWN)).toEqual([]);
    expect(checkClientPair(expired.certPem, UNKNOWN).map((i) => i.field)).toEqual(['tls_cert_file']);
  });

  it('uses the field names it is given', () => {
    expect(checkClientPair(client.certPem, otherClient.keyPem, 'cert', 'key')[0]?.message).toMatch(/^does not match the certificate in cert/);
  });
});
