/**
 * TLS material given as PEM contents (`tls_root_cert`, `tls_cert_file`, `tls_key_file`
 * take what Terraform's `file()` returns, despite the names): parsed, dated and matched at
 * plan time, so a wrong file fails before anything connects.
 *
 * Only `node:crypto` is used. Messages never contain the material itself: a private key
 * pasted into the wrong attribute must not end up in a plan's output, so a message
 * describes what was found (labels, counts, subjects, dates), never the text.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { ValidationIssue } from '../types';
import { issue, isUnknown, throwIfIssues, typeName, type MaybeUnknown } from './common';

/** Options of the certificate checks. */
export interface TlsCheckOptions {
  /** The instant validity is judged at; the current time when absent. */
  readonly now?: Date;
}

interface PemBlock {
  readonly label: string;
  readonly text: string;
}

const PEM_BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE_OID = '2.5.29.37.0';
const MIN_RSA_BITS = 2048;

function pemBlocks(pem: string): PemBlock[] {
  return Array.from(pem.matchAll(PEM_BLOCK_RE), (m) => ({ label: m[1] ?? '', text: m[0] }));
}

function isPrivateKeyLabel(label: string): boolean {
  return label.endsWith('PRIVATE KEY');
}

/** What a non-PEM value looks like, without repeating it. */
function describeNonPem(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.includes('\n') && /\.(?:pem|crt|cer|key)$|^[~.]?\//i.test(trimmed)) {
    return 'looks like a file path; this attribute takes the PEM contents, so write file("<path>")';
  }
  if (/-----BEGIN /.test(text)) return 'has a -----BEGIN line without its matching -----END line';
  return 'has no -----BEGIN line';
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A certificate's subject on one line: `CN=db.example.com, O=Example`. */
function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).join(', ');
}

/** The validity problem of one certificate at `now`, or undefined. */
function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const window = `valid from ${isoSeconds(from)} to ${isoSeconds(to)}`;
  if (now.getTime() < from.getTime()) return `is not valid yet (${window}); check the clock, or issue a certificate valid now`;
  if (now.getTime() > to.getTime()) return `expired on ${isoSeconds(to)} (${window}); renew it`;
  return undefined;
}

interface CertificatesResult {
  readonly issues: ValidationIssue[];
  readonly certificates: X509Certificate[];
}

function analyseCertificates(pem: unknown, field: string, now: Date): CertificatesResult {
  const fail = (message: string): CertificatesResult => ({ issues: [issue(field, message)], certificates: [] });
  const example = field.includes('root') ? 'ca.pem' : 'client.crt';
  const expected = `expected the contents of a PEM file with -----BEGIN CERTIFICATE----- blocks, e.g. file("${example}")`;
  if (typeof pem !== 'string') return fail(`must be a string (PEM text), got ${typeName(pem)}; ${expected}`);
  if (pem.trim().length === 0) return fail(`is empty; ${expected}`);
  const blocks = pemBlocks(pem);
  if (blocks.some((b) => isPrivateKeyLabel(b.label))) {
    return fail('contains a private key; this attribute takes certificates only, put the key in tls_key_file');
  }
  const certBlocks = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certBlocks.length === 0) {
    const others = blocks.map((b) => b.label);
    const why = others.length > 0 ? `has ${others.join(', ')} blocks but no CERTIFICATE block` : describeNonPem(pem);
    return fail(`is not a PEM certificate: it ${why}; ${expected}`);
  }
  const issues: ValidationIssue[] = [];
  const certificates: X509Certificate[] = [];
  certBlocks.forEach((block, index) => {
    const which = certBlocks.length === 1 ? 'the certificate' : `certificate ${index + 1} of ${certBlocks.length}`;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block.text);
    } catch (caught) {
      const reason = caught instanceof Error ? ` (${caught.message})` : '';
      issues.push(issue(field, `is not a PEM certificate: ${which} does not parse${reason}; ${expected}`));
      return;
    }
    certificates.push(cert);
    const problem = validityProblem(cert, now);
    if (problem !== undefined) issues.push(issue(field, `${which} (subject ${subjectOf(cert)}) ${problem}`));
  });
  return { issues, certificates };
}

/**
 * Checks one or more PEM certificates (a single certificate, or a CA bundle): each must
 * parse and be valid at `options.now`. Text between the blocks (comments) is ignored.
 */
export function checkCertificates(pem: MaybeUnknown<string>, field: string, options: TlsCheckOptions = {}): ValidationIssue[] {
  if (isUnknown(pem)) return [];
  return analyseCertificates(pem, field, options.now ?? new Date()).issues;
}

/**
 * Parses one or more PEM certificates, in file order; throws a `ValidationError` with
 * every issue `checkCertificates` finds.
 */
export function parseCertificates(pem: string, field: string, options: TlsCheckOptions = {}): X509Certificate[] {
  const result = analyseCertificates(pem, field, options.now ?? new Date());
  throwIfIssues(result.issues);
  return result.certificates;
}

interface KeyResult {
  readonly issues: ValidationIssue[];
  readonly key?: KeyObject;
}

function analysePrivateKey(pem: unknown, field: string): KeyResult {
  const fail = (message: string): KeyResult => ({ issues: [issue(field, message)] });
  const expected =
    'expected the contents of an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY), e.g. file("client.key")';
  if (typeof pem !== 'string') return fail(`must be a string (PEM text), got ${typeName(pem)}; ${expected}`);
  if (pem.trim().length === 0) return fail(`is empty; ${expected}`);
  const blocks = pemBlocks(pem);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(b.text))) {
    return fail(`is an encrypted private key; decrypt it first (e.g. openssl pkey -in key.pem -out plain.pem); ${expected}`);
  }
  const keyBlocks = blocks.filter((b) => KEY_LABELS.has(b.label));
  if (keyBlocks.length === 0) {
    const labels = blocks.map((b) => b.label);
    let why: string;
    if (labels.includes('OPENSSH PRIVATE KEY')) why = 'is an OpenSSH key; convert it to PKCS#8 (ssh-keygen -p -m PKCS8 -f <file>)';
    else if (labels.some(isPrivateKeyLabel)) why = `is a ${labels.find(isPrivateKeyLabel) ?? ''} block, which is not supported`;
    else if (labels.includes('CERTIFICATE')) why = 'contains a certificate but no private key; put the certificate in tls_cert_file';
    else if (labels.some((l) => l.endsWith('PUBLIC KEY'))) why = 'is a public key; the private key is needed';
    else if (labels.length > 0) why = `has ${labels.join(', ')} blocks but no private key`;
    else why = `is not a PEM private key: it ${describeNonPem(pem)}`;
    return fail(`${why}; ${expected}`);
  }
  if (keyBlocks.length > 1) return fail(`contains ${keyBlocks.length} private keys; give exactly one`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyBlocks[0]?.text ?? '', format: 'pem' });
  } catch {
    // The library's reason is left out on purpose: messages about keys stay generic.
    return fail(`is not a valid private key: the ${keyBlocks[0]?.label ?? ''} block does not parse; ${expected}`);
  }
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'rsa-pss' && type !== 'ec' && type !== 'ed25519' && type !== 'ed448') {
    return fail(`is a ${type ?? 'unknown'} key, which TLS client authentication cannot use; use an RSA, EC or Ed25519 key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if ((type === 'rsa' || type === 'rsa-pss') && bits !== undefined && bits < MIN_RSA_BITS) {
    return fail(`is a ${bits}-bit RSA key, which OpenSSL refuses by default; use at least ${MIN_RSA_BITS} bits`);
  }
  return { issues: [], key };
}

/**
 * Checks a PEM private key: exactly one unencrypted key in PKCS#8 (`PRIVATE KEY`), PKCS#1
 * (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) form that parses, of a type TLS can use.
 */
export function checkPrivateKey(pem: MaybeUnknown<string>, field: string): ValidationIssue[] {
  if (isUnknown(pem)) return [];
  return analysePrivateKey(pem, field).issues;
}

/** Parses a PEM private key; throws a `ValidationError` with the issue `checkPrivateKey` finds. */
export function parsePrivateKey(pem: string, field: string): KeyObject {
  const result = analysePrivateKey(pem, field);
  throwIfIssues(result.issues);
  if (result.key === undefined) throw new Error(`${field}: no key and no issues`); // unreachable
  return result.key;
}

/** The extended key usages of a certificate (Node 22 renamed `keyUsage` to `extKeyUsage`). */
function extendedKeyUsages(cert: X509Certificate): readonly string[] | undefined {
  const renamed = (cert as unknown as { extKeyUsage?: readonly string[] }).extKeyUsage;
  return renamed ?? cert.keyUsage;
}

/**
 * Checks a client certificate and its key: the certificate file (the client certificate
 * first, optionally followed by its chain) parses and is valid at `options.now`; the key
 * parses and belongs to the first certificate; and that certificate may be used for client
 * authentication (no extended key usage, or one that includes clientAuth).
 */
export function checkClientPair(
  certPem: MaybeUnknown<string>,
  keyPem: MaybeUnknown<string>,
  certField = 'tls_cert_file',
  keyField = 'tls_key_file',
  options: TlsCheckOptions = {},
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const certs = isUnknown(certPem) ? undefined : analyseCertificates(certPem, certField, options.now ?? new Date());
  const key = isUnknown(keyPem) ? undefined : analysePrivateKey(keyPem, keyField);
  if (certs !== undefined) issues.push(...certs.issues);
  const leaf = certs?.certificates[0];
  if (leaf !== undefined) {
    const usages = extendedKeyUsages(leaf);
    if (usages !== undefined && !usages.includes(CLIENT_AUTH_OID) && !usages.includes(ANY_EXTENDED_KEY_USAGE_OID)) {
      issues.push(
        issue(
          certField,
          `the certificate (subject ${subjectOf(leaf)}) is not for client authentication: its extended key usage lacks clientAuth, so the server would refuse it; issue a client certificate`,
        ),
      );
    }
  }
  if (key !== undefined) issues.push(...key.issues);
  if (leaf !== undefined && key?.key !== undefined && !leaf.checkPrivateKey(key.key)) {
    issues.push(
      issue(
        keyField,
        `does not match the certificate in ${certField} (subject ${subjectOf(leaf)}); give the private key that certificate was issued for`,
      ),
    );
  }
  return issues;
}
