/**
 * SCRAM-SHA-256 verifiers computed on the client, and generated passwords.
 *
 * `CREATE ROLE ... PASSWORD 'SCRAM-SHA-256$...'` stores a precomputed verifier as is, so
 * the plaintext password never reaches the server: it cannot appear in the statement log,
 * in pg_stat_statements or in a replica's WAL. The verifier is built exactly as PostgreSQL
 * builds it (RFC 5802 / RFC 7677, including PostgreSQL's SASLprep of the password), so a
 * role given this verifier accepts the password from libpq, node-postgres or any other
 * SCRAM client.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { runtimeSecrets } from '../secret-registry';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default `scram_iterations`. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

/** PostgreSQL's salt length for SCRAM verifiers, in bytes. */
export const SCRAM_SALT_BYTES = 16;

/** How a verifier is computed; both optional. */
export interface ScramOptions {
  /** PBKDF2 iteration count; PostgreSQL's default when omitted. */
  readonly iterations?: number;
  /** Salt bytes; random (16 bytes, as PostgreSQL uses) when omitted. */
  readonly salt?: Uint8Array;
}

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's storage format:
 * `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`.
 */
export function scramSha256Verifier(password: string, options: ScramOptions = {}): string {
  const { iterations, salt } = checkedOptions(options);
  const salted = pbkdf2Sync(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
  return formatVerifier(iterations, salt, salted);
}

/**
 * The same verifier as `scramSha256Verifier`, with PBKDF2 run on libuv's thread pool so
 * that issuing many credentials at once neither blocks the event loop nor uses one core.
 */
export async function scramSha256VerifierAsync(password: string, options: ScramOptions = {}): Promise<string> {
  const { iterations, salt } = checkedOptions(options);
  const salted = await pbkdf2Async(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
  return formatVerifier(iterations, salt, salted);
}

/**
 * A strong random password: 32 random bytes (256 bits) in base64url, 43 characters from
 * `[A-Za-z0-9_-]`. Safe in URLs, connection strings and shells, and plain ASCII, so every
 * SCRAM implementation prepares it identically.
 */
export function generatePassword(): string {
  const password = randomBytes(32).toString('base64url');
  runtimeSecrets.register(password);
  return password;
}

function checkedOptions(options: ScramOptions): { iterations: number; salt: Buffer } {
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`SCRAM iterations must be a positive integer, got ${iterations}`);
  }
  const salt = options.salt ? Buffer.from(options.salt) : randomBytes(SCRAM_SALT_BYTES);
  if (salt.length === 0) throw new RangeError('SCRAM salt must not be empty');
  return { iterations, salt };
}

function formatVerifier(iterations: number, salt: Buffer, saltedPassword: Buffer): string {
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

// ---------------------------------------------------------------------------------------
// SASLprep, as PostgreSQL's src/common/saslprep.c applies it. PostgreSQL falls back to the
// raw password whenever SASLprep "fails" (prohibited or unassigned characters, bidi rule,
// empty result), and it checks those rules on the *mapped* string before normalisation;
// both quirks are reproduced here because the verifier must match byte for byte.
//
// Exact for ASCII (every generated password) and for strings of characters assigned in
// Unicode 3.2. Two tables are approximated with the runtime's Unicode data: "unassigned"
// (RFC 3454 A.1 is Unicode 3.2's list; characters assigned later count as assigned here)
// and LCat (D.2, approximated as letters and spacing marks that are not RandALCat).
// ---------------------------------------------------------------------------------------

type Ranges = ReadonlyArray<readonly [number, number]>;

/** RFC 3454 C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE: Ranges = [
  [0x00a0, 0x00a0], [0x1680, 0x1680], [0x2000, 0x200b], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000],
];

/** RFC 3454 B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING: Ranges = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x1806, 0x1806], [0x180b, 0x180d], [0x200b, 0x200d],
  [0x2060, 0x2060], [0xfe00, 0xfe0f], [0xfeff, 0xfeff],
];

/** RFC 4013 2.3: C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
const PROHIBITED: Ranges = [
  ...NON_ASCII_SPACE,
  [0x0000, 0x001f], [0x007f, 0x009f], [0x0340, 0x0341], [0x06dd, 0x06dd], [0x070f, 0x070f], [0x180e, 0x180e],
  [0x200c, 0x200f], [0x2028, 0x202e], [0x2060, 0x2063], [0x206a, 0x206f], [0x2ff0, 0x2ffb], [0xd800, 0xf8ff],
  [0xfdd0, 0xfdef], [0xfeff, 0xfeff], [0xfff9, 0xffff], [0x1d173, 0x1d17a], [0xe0001, 0xe0001],
  [0xe0020, 0xe007f], [0xf0000, 0xffffd], [0x100000, 0x10fffd],
];

/** RFC 3454 D.1: characters with bidirectional property R or AL. */
const RAND_AL_CAT: Ranges = [
  [0x05be, 0x05be], [0x05c0, 0x05c0], [0x05c3, 0x05c3], [0x05d0, 0x05ea], [0x05f0, 0x05f4], [0x061b, 0x061b],
  [0x061f, 0x061f], [0x0621, 0x063a], [0x0640, 0x064a], [0x066d, 0x066f], [0x0671, 0x06d5], [0x06dd, 0x06dd],
  [0x06e5, 0x06e6], [0x06fa, 0x06fe], [0x0700, 0x070d], [0x0710, 0x0710], [0x0712, 0x072c], [0x0780, 0x07a5],
  [0x07b1, 0x07b1], [0x200f, 0x200f], [0xfb1d, 0xfb1d], [0xfb1f, 0xfb28], [0xfb2a, 0xfb36], [0xfb38, 0xfb3c],
  [0xfb3e, 0xfb3e], [0xfb40, 0xfb41], [0xfb43, 0xfb44], [0xfb46, 0xfbb1], [0xfbd3, 0xfd3d], [0xfd50, 0xfd8f],
  [0xfd92, 0xfdc7], [0xfdf0, 0xfdfc], [0xfe70, 0xfe74], [0xfe76, 0xfefc],
];

function inRanges(code: number, ranges: Ranges): boolean {
  return ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

/** Noncharacters U+xFFFE and U+xFFFF in every plane (C.4, beyond the BMP). */
function isPlaneNoncharacter(code: number): boolean {
  return (code & 0xfffe) === 0xfffe;
}

const UNASSIGNED = /^\p{Cn}$/u;
const LETTER_OR_SPACING_MARK = /^[\p{L}\p{Mc}]$/u;

/** The password bytes PostgreSQL hashes: SASLprep'd, or the raw password when that fails. */
function saslPrep(password: string): string {
  // PostgreSQL's fast path: pure ASCII is used as is (control characters included).
  if (!/[^\p{ASCII}]/u.test(password)) return password;

  const mapped: number[] = [];
  for (const ch of password) {
    const code = ch.codePointAt(0) ?? 0;
    if (inRanges(code, NON_ASCII_SPACE)) mapped.push(0x20);
    else if (!inRanges(code, MAPPED_TO_NOTHING)) mapped.push(code);
  }
  if (mapped.length === 0) return password;

  for (const code of mapped) {
    if (inRanges(code, PROHIBITED) || isPlaneNoncharacter(code)) return password;
    if (UNASSIGNED.test(String.fromCodePoint(code))) return password;
  }

  const isRandAL = (code: number): boolean => inRanges(code, RAND_AL_CAT);
  if (mapped.some(isRandAL)) {
    const isL = (code: number): boolean => !isRandAL(code) && LETTER_OR_SPACING_MARK.test(String.fromCodePoint(code));
    if (mapped.some(isL)) return password;
    if (!isRandAL(mapped[0] ?? 0) || !isRandAL(mapped[mapped.length - 1] ?? 0)) return password;
  }

  return String.fromCodePoint(...mapped).normalize('NFKC');
}
