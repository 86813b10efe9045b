/**
 * Encryption at rest of the secrets the catalog stores (inline admin passwords, TLS client
 * keys, static AWS keys). AES-256-GCM with a random 12-byte IV per value; the record it
 * belongs to is bound in as associated data, so a ciphertext copied to another row does
 * not decrypt there.
 *
 * Sealed layout: version (1 byte) | key id (8) | IV (12) | ciphertext | GCM tag (16).
 * The key id (a keyed hash of the key, which reveals nothing about it) lets a wrong key be
 * reported as such instead of as a generic authentication failure.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { ValidationError } from '../types';
import { CatalogError } from './errors';

/** Length of a catalog key in bytes (AES-256). */
export const CATALOG_KEY_BYTES = 32;

const FORMAT_VERSION = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;

/** How to make a key, appended to every message about a missing or malformed one. */
export const CATALOG_KEY_HOWTO =
  'Set the provider\'s catalog_key (or the ADAPTIVE_CATALOG_KEY environment variable) to 32 random bytes, ' +
  'written as 64 hex characters or in base64; make one with `openssl rand -hex 32`.';

/**
 * Parses a catalog key: 32 bytes written as 64 hex characters or in base64 (standard or
 * URL-safe alphabet, padding optional). Surrounding whitespace is ignored. The messages
 * never repeat the text, which is meant to be secret.
 */
export function parseCatalogKey(text: string): Buffer {
  const value = text.trim();
  const fail = (what: string): ValidationError =>
    new ValidationError([
      {
        field: 'catalog_key',
        message: `the catalog key (catalog_key or ADAPTIVE_CATALOG_KEY) ${what}. ${CATALOG_KEY_HOWTO}`,
      },
    ]);
  if (value === '') throw fail('is empty');
  if (/^[0-9a-fA-F]+$/.test(value)) {
    if (value.length === CATALOG_KEY_BYTES * 2) return Buffer.from(value, 'hex');
    throw fail(`has ${value.length} hex characters, not ${CATALOG_KEY_BYTES * 2}`);
  }
  const base64 = /^[A-Za-z0-9+/]+={0,2}$/.test(value) || /^[A-Za-z0-9_-]+={0,2}$/.test(value);
  if (!base64 || (value.includes('=') && value.length % 4 !== 0)) throw fail('is neither hex nor base64');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== CATALOG_KEY_BYTES) {
    throw fail(`decodes from base64 to ${bytes.length} bytes, not ${CATALOG_KEY_BYTES}`);
  }
  return bytes;
}

/** A short, non-secret identifier of a key: the first 8 bytes of HMAC-SHA256(key, label). */
export function catalogKeyId(key: Buffer): Buffer {
  return createHmac('sha256', key).update('adaptive-access catalog key id').digest().subarray(0, KEY_ID_BYTES);
}

function checkKey(key: Buffer): void {
  if (key.length !== CATALOG_KEY_BYTES) {
    throw new CatalogError('key', `the catalog key must be ${CATALOG_KEY_BYTES} bytes, not ${key.length}. ${CATALOG_KEY_HOWTO}`);
  }
}

/**
 * Encrypts `plaintext` for the record named by `context` (e.g. `resource:prod`). The same
 * context must be given to `openSecret`.
 */
export function sealSecret(key: Buffer, context: string, plaintext: Buffer): Buffer {
  checkKey(key);
  const header = Buffer.concat([Buffer.from([FORMAT_VERSION]), catalogKeyId(key)]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  // The header is authenticated too, so neither the version nor the key id can be altered.
  cipher.setAAD(Buffer.concat([header, Buffer.from(context, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

/**
 * Decrypts what `sealSecret` produced for the same `context`. `what` names the value for
 * messages (e.g. `the admin password of resource "prod"`). Fails with a `CatalogError`
 * (code `key`) that says whether the key is wrong or the value was altered or moved.
 */
export function openSecret(key: Buffer, context: string, sealed: Buffer, what: string): Buffer {
  checkKey(key);
  if (sealed.length < HEADER_BYTES + IV_BYTES + TAG_BYTES) {
    throw new CatalogError('key', `cannot decrypt ${what}: the stored value is truncated`);
  }
  const version = sealed[0];
  if (version !== FORMAT_VERSION) {
    throw new CatalogError(
      'key',
      `cannot decrypt ${what}: it was stored in encryption format ${version ?? '?'}, which this provider does not know; upgrade the provider`,
    );
  }
  const header = sealed.subarray(0, HEADER_BYTES);
  if (!header.subarray(1).equals(catalogKeyId(key))) {
    throw new CatalogError(
      'key',
      `cannot decrypt ${what}: the catalog key does not match the one the password was stored with. ` +
        'Configure the key the catalog was written with (catalog_key or ADAPTIVE_CATALOG_KEY).',
    );
  }
  const iv = sealed.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const body = sealed.subarray(HEADER_BYTES + IV_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.concat([header, Buffer.from(context, 'utf8')]));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    // The key is the right one (the key id matched), so the value itself is not what was
    // stored for this record: altered, or copied from another row.
    throw new CatalogError(
      'key',
      `cannot decrypt ${what}: the stored value does not belong to this record (it was altered or copied from another record); ` +
        'store the secret again',
    );
  }
}
