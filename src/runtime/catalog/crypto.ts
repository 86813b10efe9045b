/**
 * Encryption at rest of the secrets the catalog stores (inline admin passwords, TLS client
 * keys, static AWS keys). AES-256-GCM with a random 12-byte IV per value; the caller binds
 * in what the value belongs to as associated data (the "context"), so a ciphertext copied
 * to another row, or left in a row whose bound settings were changed, does not decrypt.
 *
 * Sealed layout: format (1 byte) | key id (8) | IV (12) | ciphertext | GCM tag (16).
 * The key id (a keyed hash of the key, which reveals nothing about it) lets a wrong key be
 * reported as such instead of as a generic authentication failure.
 *
 * The format byte says what the context was when the value was sealed; the layout is the
 * same for both, and the byte is authenticated with the rest (a changed byte fails to
 * decrypt), so a value cannot be passed off as the weaker format:
 *
 * - 1: earlier builds; the context named the record only (`resource:<name>`).
 * - 2: the context is the record's canonical binding (its name and the settings that
 *   decide where its secrets go; see ./binding), which the caller builds.
 *
 * `sealSecret` always writes the current format; `openSecret` reads both, with the
 * context the caller chose for `sealedFormat(value)`.
 *
 * Records without encrypted secrets get a keyed MAC of their binding instead
 * (`macBinding`): layout format (1) | key id (8) | HMAC-SHA256 (32).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../types';
import { CatalogError } from './errors';

/** Length of a catalog key in bytes (AES-256). */
export const CATALOG_KEY_BYTES = 32;

/** The format `sealSecret` writes. */
export const SEAL_FORMAT = 2;
/** The format of values sealed by earlier builds, whose context named the record only. */
export const LEGACY_SEAL_FORMAT = 1;
const KNOWN_FORMATS: ReadonlySet<number> = new Set([LEGACY_SEAL_FORMAT, SEAL_FORMAT]);
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const MAC_BYTES = 32;

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

/** The format byte of a sealed value (or a binding MAC), or undefined when it is empty. */
export function sealedFormat(sealed: Buffer): number | undefined {
  return sealed[0];
}

function unknownFormat(what: string, format: number | undefined): CatalogError {
  return new CatalogError(
    'key',
    `cannot decrypt ${what}: it was stored in encryption format ${format ?? '?'}, which this provider does not know; upgrade the provider`,
  );
}

function wrongKey(what: string): CatalogError {
  return new CatalogError(
    'key',
    `cannot decrypt ${what}: the catalog key does not match the one the password was stored with. ` +
      'Configure the key the catalog was written with (catalog_key or ADAPTIVE_CATALOG_KEY).',
  );
}

/**
 * Encrypts `plaintext` for the record described by `context` (format 2: the record's
 * binding). The same context must be given to `openSecret`.
 */
export function sealSecret(key: Buffer, context: string, plaintext: Buffer): Buffer {
  checkKey(key);
  const header = Buffer.concat([Buffer.from([SEAL_FORMAT]), catalogKeyId(key)]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  // The header is authenticated too, so neither the version nor the key id can be altered.
  cipher.setAAD(Buffer.concat([header, Buffer.from(context, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

/**
 * Decrypts what `sealSecret` (or an earlier build) produced for the same `context`. `what`
 * names the value for messages (e.g. `the admin password of resource "prod"`). Fails with
 * a `CatalogError`: code `key` when the key is wrong or the format unknown, code
 * `tampered` when the value or its context was altered, or the value moved.
 */
export function openSecret(key: Buffer, context: string, sealed: Buffer, what: string): Buffer {
  checkKey(key);
  if (sealed.length < HEADER_BYTES + IV_BYTES + TAG_BYTES) {
    throw new CatalogError('key', `cannot decrypt ${what}: the stored value is truncated`);
  }
  const format = sealed[0];
  if (format === undefined || !KNOWN_FORMATS.has(format)) throw unknownFormat(what, format);
  const header = sealed.subarray(0, HEADER_BYTES);
  if (!header.subarray(1).equals(catalogKeyId(key))) throw wrongKey(what);
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
      'tampered',
      `cannot decrypt ${what}: the stored value does not belong to this record (it was altered or copied from another record); ` +
        'store the secret again',
    );
  }
}

/** The key of binding MACs: derived, so the AES key is never used as an HMAC key too. */
function macKey(key: Buffer): Buffer {
  return createHmac('sha256', key).update('adaptive-access catalog binding mac').digest();
}

/**
 * A keyed MAC of `context` (a record's binding), for records that have no encrypted
 * secrets whose associated data could carry it.
 */
export function macBinding(key: Buffer, context: string): Buffer {
  checkKey(key);
  const header = Buffer.concat([Buffer.from([SEAL_FORMAT]), catalogKeyId(key)]);
  const mac = createHmac('sha256', macKey(key)).update(header).update(context, 'utf8').digest();
  return Buffer.concat([header, mac]);
}

/**
 * Checks a MAC made by `macBinding` for `context`. Fails like `openSecret`: code `key` for
 * a wrong key or unknown format, code `tampered` when the context is not what was sealed.
 */
export function checkBindingMac(key: Buffer, context: string, stored: Buffer, what: string): void {
  checkKey(key);
  const format = stored[0];
  if (format !== SEAL_FORMAT || stored.length !== HEADER_BYTES + MAC_BYTES) {
    if (format !== undefined && format !== SEAL_FORMAT) throw unknownFormat(what, format);
    throw new CatalogError('tampered', `cannot verify ${what}: the stored seal is truncated`);
  }
  if (!stored.subarray(1, HEADER_BYTES).equals(catalogKeyId(key))) throw wrongKey(what);
  if (!timingSafeEqual(stored, macBinding(key, context))) {
    throw new CatalogError('tampered', `cannot verify ${what}: the stored settings are not the ones that were sealed`);
  }
}
