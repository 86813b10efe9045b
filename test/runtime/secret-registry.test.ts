/**
 * The runtime's registry of secrets: every secret the runtime obtains at run time (the
 * catalog key and URL, admin credentials read from AWS Secrets Manager and the static AWS
 * keys used to read them, secrets decrypted from the catalog, generated member passwords)
 * is registered before it is used, so whoever writes output (the provider's log redactor)
 * can keep it out. The runtime itself knows nothing of logs.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { generatePassword } from '../../src/runtime/access/scram';
import { ident } from '../../src/runtime/pg/sql';
import { Catalog, parseCatalogKey, resolveCatalogSettings } from '../../src/runtime/catalog';
import { fetchDbSecret } from '../../src/runtime/connections/secrets';
import { runtimeSecrets } from '../../src/runtime/secret-registry';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';

/** Everything registered from now on (and before: the registry replays what it knows). */
function collect(): { seen: Set<string>; stop: () => void } {
  const seen = new Set<string>();
  const stop = runtimeSecrets.subscribe((secret) => seen.add(secret));
  return { seen, stop };
}

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

function collecting(): Set<string> {
  const { seen, stop } = collect();
  stops.push(stop);
  return seen;
}

describe('the registry', () => {
  it('hands a subscriber the secrets registered before it subscribed, and those after; an unsubscribed one gets nothing more', () => {
    const early = `early-${randomBytes(6).toString('hex')}`;
    runtimeSecrets.register(early);
    const { seen, stop } = collect();
    expect(seen.has(early)).toBe(true);
    const late = `late-${randomBytes(6).toString('hex')}`;
    runtimeSecrets.register(late);
    expect(seen.has(late)).toBe(true);
    stop();
    const after = `after-${randomBytes(6).toString('hex')}`;
    runtimeSecrets.register(after);
    expect(seen.has(after)).toBe(false);
  });
});

describe('what the runtime registers', () => {
  it('the catalog key from the environment, in every encoding it can be written in, and the password of the catalog URL', () => {
    const seen = collecting();
    const key = randomBytes(32);
    const password = `cat"alog/pass%${randomBytes(4).toString('hex')}`;
    const url = `postgres://adaptive:${encodeURIComponent(password)}@127.0.0.1:5432/adaptive_catalog`;
    resolveCatalogSettings({}, { ADAPTIVE_CATALOG_URL: url, ADAPTIVE_CATALOG_KEY: key.toString('hex') });
    for (const form of [key.toString('hex'), key.toString('base64'), key.toString('base64url'), url, password]) {
      expect(seen.has(form), form === password ? 'the URL password' : 'a form of the key or the URL').toBe(true);
    }
    // base64 as given works the same way.
    const other = randomBytes(32);
    resolveCatalogSettings({ url, key: other.toString('base64') });
    expect(seen.has(other.toString('base64'))).toBe(true);
    expect(seen.has(other.toString('hex'))).toBe(true);
    expect(parseCatalogKey(other.toString('base64')).equals(other)).toBe(true);
  });

  it('every generated member password', () => {
    const seen = collecting();
    const passwords = [generatePassword(), generatePassword()];
    for (const p of passwords) expect(seen.has(p)).toBe(true);
  });

  describe('admin credentials from AWS Secrets Manager', () => {
    let sm: SecretsManagerFixture;
    beforeAll(async () => {
      sm = await startSecretsManager();
    });
    afterAll(async () => {
      await sm?.close();
    });

    it('the password read from the secret, the whole secret, and the static AWS keys used to read it', async () => {
      const seen = collecting();
      const password = `sm"pass\\word'${randomBytes(4).toString('hex')}`;
      const sessionToken = `token-${randomBytes(12).toString('base64')}`;
      sm.putSecret('db-admin', { username: 'admin', password, engine: 'postgres', host: '127.0.0.1', port: 5432, dbname: 'app' });
      const secret = await fetchDbSecret('prod', {
        secretName: 'db-admin',
        region: sm.region,
        endpoint: sm.endpoint,
        accessKeyId: sm.accessKeyId,
        secretAccessKey: sm.secretAccessKey,
        sessionToken,
      });
      expect(secret.password === password).toBe(true);
      expect(seen.has(password)).toBe(true);
      expect([...seen].some((s) => s.includes(JSON.stringify(password)))).toBe(true); // the secret's JSON text
      for (const key of [sm.accessKeyId, sm.secretAccessKey, sessionToken]) expect(seen.has(key)).toBe(true);
    });
  });
});

describe.each(eachPostgres())('secrets decrypted from the catalog, $name', ({ binaries }) => {
  let cluster: LocalCluster;
  let catalog: Catalog;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const admin = new Client(cluster.clientConfig());
    await admin.connect();
    await admin.query(`create database ${ident('catalog')}`);
    await admin.end();
    catalog = await Catalog.open(cluster.url('catalog'), { key: randomBytes(32) });
  });
  afterAll(async () => {
    await catalog?.close();
    await cluster?.stop();
  });

  it('registers each secret of a resource as it decrypts it', async () => {
    const password = `stored"admin\\pass-${randomBytes(4).toString('hex')}`;
    const clientKey = `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    await catalog.putResource({ name: 'prod', host: '127.0.0.1', port: 5432, database: 'app', username: 'admin', password, sslMode: 'disable', tlsClientKey: clientKey });
    const seen = collecting();
    expect(seen.has(password)).toBe(false);
    const record = await catalog.getResource('prod');
    expect(record?.target.password === password).toBe(true);
    expect(seen.has(password)).toBe(true);
    expect(seen.has(clientKey)).toBe(true);
  });
});
