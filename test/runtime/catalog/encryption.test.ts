/**
 * Encryption at rest of the secrets a resource stores: the key format, the round trip,
 * nothing readable in the stored bytes, refusal without a key, a clear message for the
 * wrong key, and a ciphertext that does not decrypt once moved to another record's row.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import {
  Catalog,
  CatalogError,
  openSecret,
  parseCatalogKey,
  resolveCatalogSettings,
  sealSecret,
  type CatalogOptions,
} from '../../../src/runtime/catalog';
import { ValidationError, type TargetConfig } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const KEY_HEX = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

function keyError(text: string): ValidationError {
  try {
    parseCatalogKey(text);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('parseCatalogKey accepted a bad key');
}

describe('parseCatalogKey', () => {
  it('accepts 32 bytes as 64 hex characters, in either case, ignoring surrounding whitespace', () => {
    const key = parseCatalogKey(KEY_HEX);
    expect(key.length).toBe(32);
    expect(key.toString('hex')).toBe(KEY_HEX);
    expect(parseCatalogKey(`  ${KEY_HEX.toUpperCase()}\n`)).toEqual(key);
  });

  it('accepts 32 bytes as base64, standard or URL-safe, with or without padding', () => {
    const bytes = Buffer.from('fb'.repeat(32), 'hex'); // encodes with + and / in standard base64
    expect(parseCatalogKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseCatalogKey(bytes.toString('base64url'))).toEqual(bytes);
    expect(parseCatalogKey(bytes.toString('base64').replace(/=+$/, ''))).toEqual(bytes);
  });

  it.each([
    ['too short hex', 'abcdef0123', /has 10 hex characters, not 64/],
    ['too long hex', `${KEY_HEX}00`, /has 66 hex characters, not 64/],
    ['neither hex nor base64', 'not a key at all!', /is neither hex nor base64/],
    ['base64 of 16 bytes', randomBytes(16).toString('base64'), /decodes from base64 to 16 bytes, not 32/],
    ['base64 of 48 bytes', randomBytes(48).toString('base64'), /decodes from base64 to 48 bytes, not 32/],
    ['empty', '   ', /is empty/],
  ])('refuses %s, naming the setting, the variable and how to make a key', (_label, text, reason) => {
    const err = keyError(text);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.field).toBe('catalog_key');
    expect(err.message).toMatch(reason);
    expect(err.message).toContain('catalog_key');
    expect(err.message).toContain('ADAPTIVE_CATALOG_KEY');
    expect(err.message).toContain('openssl rand -hex 32');
    if (text.trim() !== '') expect(err.message).not.toContain(text.trim());
  });
});

describe('resolveCatalogSettings', () => {
  it('prefers the provider settings and falls back to the environment', () => {
    const env = { ADAPTIVE_CATALOG_URL: 'postgres://env@db/catalog', ADAPTIVE_CATALOG_KEY: KEY_HEX };
    expect(resolveCatalogSettings({}, env)).toEqual({ url: 'postgres://env@db/catalog', key: Buffer.from(KEY_HEX, 'hex') });
    expect(resolveCatalogSettings({ url: 'postgresql://cfg@db/c' }, {})).toEqual({ url: 'postgresql://cfg@db/c', key: undefined });
  });

  it('says how to configure a missing catalog and refuses a URL that is not postgres://', () => {
    expect(() => resolveCatalogSettings({}, {})).toThrow(/catalog_url: no catalog database is configured.*ADAPTIVE_CATALOG_URL/);
    expect(() => resolveCatalogSettings({ url: 'mysql://u:hunter2@db/x' }, {})).toThrow(/must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => resolveCatalogSettings({ url: 'mysql://u:hunter2@db/x' }, {})).not.toThrow(/hunter2/);
    expect(() => resolveCatalogSettings({ url: 'postgres://db/x', key: 'short' }, {})).toThrow(/catalog_key/);
  });
});

describe('sealSecret / openSecret', () => {
  const key = parseCatalogKey(KEY_HEX);

  it('round-trips, with a fresh IV each time', () => {
    const plain = Buffer.from('s3cret');
    const a = sealSecret(key, 'resource:a', plain);
    const b = sealSecret(key, 'resource:a', plain);
    expect(a.equals(b)).toBe(false);
    expect(openSecret(key, 'resource:a', a, 'x').toString()).toBe('s3cret');
    expect(a.length).toBe(1 + 8 + 12 + plain.length + 16);
  });

  it('fails on another context, a flipped bit and the wrong key, with a message and no crypto jargon', () => {
    const sealed = sealSecret(key, 'resource:a', Buffer.from('s3cret'));
    expect(() => openSecret(key, 'resource:b', sealed, 'the value')).toThrow(/does not belong to this record/);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 20]! ^= 1;
    expect(() => openSecret(key, 'resource:a', flipped, 'the value')).toThrow(/altered or copied/);
    expect(() => openSecret(randomBytes(32), 'resource:a', sealed, 'the value')).toThrow(
      /the catalog key does not match the one the password was stored with/,
    );
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let admin: Client;
  let seq = 0;
  const opened: Catalog[] = [];
  const key = parseCatalogKey(KEY_HEX);

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshCatalog(options: CatalogOptions = {}): Promise<{ db: string; catalog: Catalog }> {
    const db = `catalog_${++seq}`;
    // A file copy of the small template is much quicker than WAL-logging it block by block.
    await admin.query(`create database ${ident(db)} strategy = file_copy`);
    return { db, catalog: await open(db, options) };
  }

  async function open(db: string, options: CatalogOptions = {}): Promise<Catalog> {
    const catalog = await Catalog.open(cluster.url(db), options);
    opened.push(catalog);
    return catalog;
  }

  async function sql<R extends Record<string, unknown>>(db: string, text: string, values: unknown[] = []): Promise<R[]> {
    const client = new Client(cluster.clientConfig(db));
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  const PASSWORD = 'Adm1n-Pa55word-for-tests';
  const CLIENT_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';

  function target(name: string, extra: Partial<TargetConfig> = {}): TargetConfig {
    return {
      name,
      host: 'db.internal',
      port: 5432,
      database: 'app',
      username: 'admin',
      password: PASSWORD,
      sslMode: 'verify-full',
      tlsRootCert: '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n',
      tlsClientCert: '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n',
      tlsClientKey: CLIENT_KEY,
      maxConnections: 5,
      ...extra,
    };
  }

  it('stores an inline password encrypted and reads it back', async () => {
    const { db, catalog } = await freshCatalog({ key });
    const info = await catalog.putResource(target('prod'));
    expect(info.hasStoredSecrets).toBe(true);
    expect(info.config).not.toHaveProperty('password');
    expect(info.config).not.toHaveProperty('tlsClientKey');

    expect((await catalog.getResource('prod'))?.target).toEqual(target('prod'));
    // A second process with the same key reads the same thing.
    const again = await open(db, { key });
    expect((await again.getResource('prod'))?.target).toEqual(target('prod'));
  });

  it('keeps no secret in the stored bytes', async () => {
    const { db, catalog } = await freshCatalog({ key });
    await catalog.putResource(
      target('prod', { aws: { secretName: 'prod/admin', region: 'eu-west-1', accessKeyId: 'AKIAEXAMPLEKEYID0001', secretAccessKey: 'aws-Secret-Access-Key-Example' } }),
    );
    const [row] = await sql<{ config: string; secrets: Buffer }>(db, 'select config::text as config, secrets from adaptive.resources');
    const stored = `${row!.config}\n${row!.secrets.toString('latin1')}\n${row!.secrets.toString('utf8')}`;
    for (const secret of [PASSWORD, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'AKIAEXAMPLEKEYID0001', 'aws-Secret-Access-Key-Example']) {
      expect(stored).not.toContain(secret);
      expect(row!.secrets.includes(Buffer.from(secret))).toBe(false);
    }
    expect(JSON.parse(row!.config)).toMatchObject({ host: 'db.internal', aws: { secretName: 'prod/admin', region: 'eu-west-1' } });
    // The audit log says where the secret comes from, not what it is.
    const audit = await sql<{ detail: string }>(db, 'select detail::text as detail from adaptive.audit_log');
    expect(audit.map((a) => a.detail).join()).not.toContain(PASSWORD);
  });

  it('refuses to store an inline password without a key, and stores nothing', async () => {
    const { catalog } = await freshCatalog();
    const failure = await catalog.putResource(target('prod')).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CatalogError);
    const err = failure as CatalogError;
    expect(err.code).toBe('key');
    expect(err.message).toMatch(/resource "prod": the catalog cannot store the admin password and the TLS client key without a catalog key/);
    expect(err.message).toContain('catalog_key');
    expect(err.message).toContain('ADAPTIVE_CATALOG_KEY');
    expect(err.message).toContain('openssl rand -hex 32');
    expect(err.message).not.toContain(PASSWORD);
    expect(await catalog.listResources()).toEqual([]);
  });

  it('stores a Secrets-Manager-backed resource without a key: only the reference', async () => {
    const { db, catalog } = await freshCatalog();
    const aws: TargetConfig = {
      name: 'aws',
      host: 'placeholder',
      port: 5432,
      database: 'app',
      sslMode: 'require',
      aws: { secretName: 'prod/db/admin', region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' },
    };
    const info = await catalog.putResource(aws);
    expect(info.hasStoredSecrets).toBe(false);
    expect((await catalog.getResource('aws'))?.target).toEqual(aws);
    const [row] = await sql<{ secrets: Buffer | null }>(db, 'select secrets from adaptive.resources');
    expect(row!.secrets).toBeNull();
  });

  it('says clearly when the key is missing or is not the one the password was stored with', async () => {
    const { db, catalog } = await freshCatalog({ key });
    await catalog.putResource(target('prod'));

    const keyless = await open(db);
    await expect(keyless.getResource('prod')).rejects.toThrow(/resource "prod" has encrypted secrets.*no catalog key is configured/s);
    // What is not secret stays readable without the key.
    expect((await keyless.listResources()).map((r) => r.name)).toEqual(['prod']);
    expect((await keyless.resourceInfo('prod'))?.config.host).toBe('db.internal');

    const wrong = await open(db, { key: randomBytes(32) });
    const failure = await wrong.getResource('prod').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CatalogError);
    expect((failure as CatalogError).code).toBe('key');
    expect((failure as CatalogError).message).toMatch(
      /the stored secrets of resource "prod": the catalog key does not match the one the password was stored with/,
    );
    expect((failure as CatalogError).message).not.toContain(PASSWORD);
  });

  it('does not decrypt a ciphertext moved to another resource row', async () => {
    const { db, catalog } = await freshCatalog({ key });
    await catalog.putResource(target('alpha', { password: 'alpha-password' }));
    await catalog.putResource(target('beta', { password: 'beta-password' }));
    await sql(db, "update adaptive.resources set secrets = (select secrets from adaptive.resources where name = 'alpha') where name = 'beta'");

    // A moved ciphertext is one way of changing a record outside adaptive-access.
    await expect(catalog.getResource('beta')).rejects.toThrow(/catalog record of resource "beta" was changed outside adaptive-access/);
    await expect(catalog.getResource('beta')).rejects.not.toThrow(/alpha-password/);
    expect((await catalog.getResource('alpha'))?.target.password).toBe('alpha-password');
  });

  it('re-encrypts on update, and drops stored secrets when the resource moves to Secrets Manager', async () => {
    const { db, catalog } = await freshCatalog({ key });
    await catalog.putResource(target('prod'));
    const [before] = await sql<{ secrets: Buffer }>(db, 'select secrets from adaptive.resources');
    await catalog.putResource(target('prod', { password: 'rotated-password' }));
    const [after] = await sql<{ secrets: Buffer }>(db, 'select secrets from adaptive.resources');
    expect(after!.secrets.equals(before!.secrets)).toBe(false);
    expect((await catalog.getResource('prod'))?.target.password).toBe('rotated-password');

    const { password: _p, tlsClientKey: _k, tlsClientCert: _c, ...rest } = target('prod');
    const moved = await catalog.putResource({ ...rest, aws: { secretName: 'prod/admin' } });
    expect(moved.hasStoredSecrets).toBe(false);
    expect((await catalog.getResource('prod'))?.target).toEqual({ ...rest, aws: { secretName: 'prod/admin' } });
  });
});
