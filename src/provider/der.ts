/**
 * The few DER (ASN.1 Distinguished Encoding Rules) constructions a self-signed X.509
 * certificate needs. Written by hand rather than pulling in an X.509 library because the
 * plugin builds a certificate on every start and its cold start matters.
 */

/** Encodes a length in DER form: short form below 128, long form (big-endian, minimal) above. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A tag-length-value element. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/** SET of already-encoded elements (callers pass a single element, so no sorting is needed). */
export function set(...items: readonly Uint8Array[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

/**
 * A non-negative INTEGER from its unsigned big-endian bytes. DER requires the minimal
 * two's-complement form: leading zero bytes are dropped, and a zero byte is prepended when
 * the top bit is set, or the number would read as negative (the classic random-serial bug).
 */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  const body = trimmed.length === 0 ? Buffer.from([0]) : (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(0x02, body);
}

/** A small non-negative INTEGER. */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return unsignedInteger(Uint8Array.from(bytes.length ? bytes : [0]));
}

/** OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => Number.parseInt(arc, 10));
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [first * 40 + second];
  for (const arc of rest) {
    const group: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) group.unshift((n & 0x7f) | 0x80);
    out.push(...group);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** OCTET STRING. */
export function octetString(content: Uint8Array): Buffer {
  return tlv(0x04, content);
}

/** BIT STRING with the given number of unused trailing bits in the last byte. */
export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

/** UTF8String. */
export function utf8String(value: string): Buffer {
  return tlv(0x0c, Buffer.from(value, 'utf8'));
}

/** Time as UTCTime (years 1950-2049) or GeneralizedTime (otherwise), as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(pad(year % 100) + rest, 'ascii'));
  return tlv(0x18, Buffer.from(String(year).padStart(4, '0') + rest, 'ascii'));
}

/** Context-specific constructed tag [n] EXPLICIT around one element. */
export function explicit(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, content);
}

/** Context-specific primitive tag [n] IMPLICIT (e.g. a GeneralName dNSName is [2]). */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, content);
}
