/**
 * msgpack DynamicValues: round trips through every supported type, unknowns in both
 * directions (any extension in, extension 0 out), null-filling, and the JSON form.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import { ExtData } from '@msgpack/msgpack';
import {
  decodeJson,
  decodeMsgpack,
  encodeMsgpack,
  isUnknown,
  isWhollyKnown,
  types,
  UNKNOWN,
  unknownsToNull,
  ValueError,
  valuesEqual,
  type TfType,
} from '../../src/provider/values';

const resourceType: TfType = types.object({
  id: 'string',
  count: 'number',
  enabled: 'bool',
  names: types.list('string'),
  members: types.set('string'),
  labels: types.map('string'),
  nested: types.object({ host: 'string', port: 'number' }),
  rules: types.list(types.object({ name: 'string', weight: 'number' })),
});

describe('msgpack values', () => {
  it('round-trips every type', () => {
    const value = {
      id: 'abc',
      count: 42.5,
      enabled: true,
      names: ['a', 'b'],
      members: ['x@example.com'],
      labels: { env: 'dev', team: 'data' },
      nested: { host: 'db', port: 5432 },
      rules: [{ name: 'r1', weight: 1 }, { name: 'r2', weight: null }],
    };
    expect(decodeMsgpack(resourceType, encodeMsgpack(resourceType, value))).toEqual(value);
  });

  it('round-trips large and negative integers and decimal-string numbers', () => {
    const type = types.list('number');
    const value = [0, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, 0.1];
    expect(decodeMsgpack(type, encodeMsgpack(type, value))).toEqual(value);
    // Terraform sends numbers beyond float64 precision as decimal strings.
    expect(decodeMsgpack('number', encode('12345678901234567890.5'))).toBe(Number('12345678901234567890.5'));
  });

  it('fills every attribute of every object with null', () => {
    const bytes = encodeMsgpack(resourceType, { id: 'only', rules: [{ name: 'r' }] });
    const decoded = decodeMsgpack(resourceType, bytes) as Record<string, unknown>;
    expect(Object.keys(decoded).sort()).toEqual(['count', 'enabled', 'id', 'labels', 'members', 'names', 'nested', 'rules']);
    expect(decoded).toMatchObject({ id: 'only', count: null, nested: null, rules: [{ name: 'r', weight: null }] });
    // And on the wire: a msgpack map with all eight keys.
    expect(bytes[0]).toBe(0x88);
  });

  it('decodes missing attributes from Terraform as null', () => {
    const decoded = decodeMsgpack(resourceType, encode({ id: 'x' })) as Record<string, unknown>;
    expect(decoded.names).toBeNull();
    expect(Object.keys(decoded)).toHaveLength(8);
  });

  it('encodes unknown as extension 0 with one zero byte', () => {
    expect(Buffer.from(encodeMsgpack('string', UNKNOWN)).toString('hex')).toBe('d40000');
    const bytes = encodeMsgpack(resourceType, { id: UNKNOWN });
    expect(Buffer.from(bytes).includes(Buffer.from('a26964d40000', 'hex'))).toBe(true); // "id" -> d4 00 00
  });

  it('decodes extension 0 and refined unknowns (extension 12) and any other code as unknown', () => {
    expect(isUnknown(decodeMsgpack('string', Buffer.from('d40000', 'hex')))).toBe(true);
    // Refined: not null, string prefix "ab".
    const refinement = encode(new Map<number, unknown>([[1, false], [2, 'ab']]));
    expect(isUnknown(decodeMsgpack('string', encode(new ExtData(12, refinement))))).toBe(true);
    expect(isUnknown(decodeMsgpack('number', encode(new ExtData(7, new Uint8Array([1, 2, 3])))))).toBe(true);
    // msgpack's own timestamp extension (-1) is an unknown here too, never a Date.
    expect(isUnknown(decodeMsgpack('string', Buffer.from('d6ff00000001', 'hex')))).toBe(true);
  });

  it('keeps unknowns nested in collections and objects', () => {
    const raw = encode({ id: 'x', names: ['a', new ExtData(0, new Uint8Array([0]))], nested: new ExtData(12, encode(new Map([[1, false]]))) });
    const decoded = decodeMsgpack(resourceType, raw) as Record<string, unknown>;
    expect(isUnknown((decoded.names as unknown[])[1])).toBe(true);
    expect(isUnknown(decoded.nested)).toBe(true);
    expect(isWhollyKnown(decoded)).toBe(false);
    expect(unknownsToNull(decoded as never)).toMatchObject({ names: ['a', null], nested: null });
    const again = decodeMsgpack(resourceType, encodeMsgpack(resourceType, decoded)) as Record<string, unknown>;
    expect(isUnknown((again.names as unknown[])[1])).toBe(true);
  });

  it('rejects values of the wrong type with the attribute path', () => {
    try {
      decodeMsgpack(resourceType, encode({ rules: [{ name: 5 }] }));
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ValueError);
      expect((err as ValueError).path).toEqual(['rules', 0, 'name']);
    }
    expect(() => encodeMsgpack(resourceType, { labels: { a: 1 } })).toThrow(/expected string/);
  });

  it('decodes the JSON form (stored state)', () => {
    const json = JSON.stringify({ id: 'x', count: 3, members: ['b', 'a'], labels: { k: 'v' }, extra: 'dropped' });
    expect(decodeJson(resourceType, json)).toEqual({
      id: 'x',
      count: 3,
      enabled: null,
      names: null,
      members: ['b', 'a'],
      labels: { k: 'v' },
      nested: null,
      rules: null,
    });
  });

  it('compares sets regardless of order, and objects by their attributes', () => {
    expect(valuesEqual(types.set('string'), ['a', 'b'], ['b', 'a'])).toBe(true);
    expect(valuesEqual(types.list('string'), ['a', 'b'], ['b', 'a'])).toBe(false);
    expect(valuesEqual(types.object({ a: 'string', b: 'string' }), { a: 'x' }, { a: 'x', b: null })).toBe(true);
    expect(valuesEqual('string', UNKNOWN, 'x')).toBe(false);
    expect(valuesEqual('string', UNKNOWN, UNKNOWN)).toBe(true);
  });
});
