/**
 * The plugin's half of go-plugin's automatic mutual TLS: a fresh ECDSA P-256 key and a
 * self-signed certificate for it, built as DER. Terraform pins exactly this certificate
 * (it arrives base64-encoded in the handshake line), so it must be a CA (CA:TRUE) valid for
 * the name Terraform dials, `localhost`.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der';

/** The server identity for one plugin process. */
export interface ServerCertificate {
  /** The certificate as DER bytes (what the handshake line carries). */
  readonly der: Buffer;
  /** The certificate as PEM (what the TLS stack wants). */
  readonly certPem: string;
  /** The PKCS#8 private key as PEM. */
  readonly keyPem: string;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** Wraps DER bytes as PEM with the given label. */
export function toPem(der: Uint8Array, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * A random certificate serial: 16 random bytes with the top bit cleared (so the INTEGER is
 * positive without a padding byte) and the next bit set (so it never starts with a zero
 * byte). `unsignedInteger` would cope either way; this keeps the serial a fixed 16 bytes.
 */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

/** Builds a self-signed certificate for `key`, valid from a minute ago for `validHours`. */
export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, now = new Date(), validHours = 24 * 30): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const name = sequence(
    set(sequence(oid(OID.organization), utf8String('adaptive-access'))),
    set(sequence(oid(OID.commonName), utf8String('localhost'))),
  );
  // A minute of slack either side of "now" absorbs clock differences between processes.
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + validHours * 3_600_000);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const extensions = sequence(
    extension(OID.basicConstraints, true, sequence(boolean(true))),
    // digitalSignature (bit 0) and keyCertSign (bit 5): 1000 0100, two unused trailing bits.
    extension(OID.keyUsage, true, bitString(Buffer.from([0x84]), 2)),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.subjectAltName, false, sequence(implicitPrimitive(2, Buffer.from('localhost', 'ascii')))),
  );
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(randomSerial()),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bitString(signature));
}

/** Generates the key pair and certificate for one plugin process (a few milliseconds). */
export function generateServerCertificate(now = new Date()): ServerCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = selfSignedCertificate(privateKey, publicKey, now);
  return {
    der,
    certPem: toPem(der, 'CERTIFICATE'),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
