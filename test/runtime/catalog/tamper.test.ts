/**
 * A resource's connection settings are sealed together with its secrets: whoever can
 * write the catalog (or sits on its connection) and changes where a resource points (host,
 * port, database, user, sslmode, TLS material, the Secrets Manager reference) gets a clear
 * refusal, and nothing connects to the changed destination: a local listener stands in
 * for it and must see no connection at all. Settings that do not decide where secrets go
 * (pool size, a field added later) stay freely changeable, and records sealed by older
 * builds keep working until they are stored again.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ident } from '../../../src/runtime/pg/sql';
import { Catalog, CatalogError, catalogKeyId } from '../../../src/runtime/catalog';
import { AccessService } from '../../../src/runtime/service';
import type { TargetConfig } from '../../../src/runtime/types';
import { createTestPki, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const CHANGED = /catalog record of resource "prod" was changed outside adaptive-access/;
const PASSWORD = 'Adm1n-Pa55word-for-tamper-tests';

/** A TCP listener standing in for wherever a changed record points: counts connections, closes them. */
interface Trap {
  readonly port: number;
  readonly connections: () => number;
  close(): Promise<void>;
}

async function startTrap(): Promise<Trap> {
  let count = 0;
  const server = net.createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Seals like the format-1 builds did (associated data: the resource's name only). */
function sealLegacy(key: Buffer, name: string, plaintext: string): Buffer {
  const header = Buffer.concat([Buffer.from([1]), catalogKeyId(key)]);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.concat([header, Buffer.from(`resource:${name}`, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([header, iv, body, cipher.getAuthTag()]);
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let admin: Client;
  let pki: TestPki;
  let trap: Trap;
  let seq = 0;
  const opened: Catalog[] = [];
  const key = randomBytes(32);

  beforeAll(async () => {
    [cluster, pki] = await Promise.all([startPostgres(binaries), createTestPki()]);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await trap?.close();
  });
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshCatalog(options: { key?: Buffer } = { key }): Promise<{ db: string; catalog: Catalog }> {
    const db = `tamper_${++seq}`;
    await admin.query(`create database ${ident(db)} strategy = file_copy`);
    return { db, catalog: await open(db, options) };
  }

  async function open(db: string, options: { key?: Buffer } = { key }): Promise<Catalog> {
    const catalog = await Catalog.open(cluster.url(db), options);
    opened.push(catalog);
    return catalog;
  }

  async function sql(db: string, text: string, values: unknown[] = []): Promise<void> {
    const client = new Client(cluster.clientConfig(db));
    await client.connect();
    try {
      await client.query(text, values);
    } finally {
      await client.end();
    }
  }

  /** Sets one key (a path into the config JSON) of the stored record, as a direct SQL UPDATE would. */
  function setConfig(db: string, path: readonly string[], value: unknown): Promise<void> {
    return sql(db, `update adaptive.resources set config = jsonb_set(config, $1::text[], $2::jsonb) where name = 'prod'`, [
      path,
      JSON.stringify(value),
    ]);
  }

  function inline(extra: Partial<TargetConfig> = {}): TargetConfig {
    return {
      name: 'prod',
      host: '127.0.0.1',
      port: trap.port,
      database: 'app',
      username: 'admin',
      password: PASSWORD,
      sslMode: 'disable',
      connectTimeoutSeconds: 2,
      ...extra,
    };
  }

  /** Every way of using the record must refuse it, and nothing may reach the trap. */
  async function expectRefusedWithoutConnecting(catalog: Catalog): Promise<void> {
    const failure = await catalog.getResource('prod').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(CatalogError);
    expect((failure as CatalogError).message).toMatch(CHANGED);
    expect((failure as CatalogError).message).toMatch(/re-apply the adaptive_resource/i);
    expect((failure as CatalogError).message).not.toContain(PASSWORD);
    await expect(new AccessService(catalog).target('prod')).rejects.toThrow(CHANGED);
    expect(trap.connections()).toBe(0);
  }

  const changes: Array<[string, () => Partial<TargetConfig>, readonly string[], () => unknown]> = [
    ['host', () => ({ host: 'db.invalid' }), ['host'], () => '127.0.0.1'],
    ['port', () => ({ port: 1 }), ['port'], () => trap.port],
    ['database', () => ({}), ['database'], () => 'postgres'],
    ['username', () => ({}), ['username'], () => 'postgres'],
    ['ssl_mode', () => ({ sslMode: 'verify-full', tlsRootCert: pki.ca.certPem }), ['sslMode'], () => 'disable'],
    ['tls_root_cert', () => ({ sslMode: 'verify-ca', tlsRootCert: pki.ca.certPem }), ['tlsRootCert'], () => pki.otherCa.certPem],
    ['tls_server_name', () => ({ sslMode: 'verify-full', tlsRootCert: pki.ca.certPem, tlsServerName: 'db.example' }), ['tlsServerName'], () => 'evil.example'],
  ];

  it.each(changes)('refuses a record whose %s was changed, before connecting', async (_field, original, path, changed) => {
    trap = await startTrap();
    const { db, catalog } = await freshCatalog();
    await catalog.putResource(inline(original()));
    await setConfig(db, path, changed());
    await expectRefusedWithoutConnecting(catalog);
    // Another process with the same key sees the same.
    await expectRefusedWithoutConnecting(await open(db));
  });

  it('refuses a record whose Secrets Manager endpoint or secret name was changed (static AWS keys sealed)', async () => {
    trap = await startTrap();
    const aws = { secretName: 'prod/admin', region: 'eu-west-1', endpoint: 'http://db.invalid:1', accessKeyId: 'AKIATAMPERTEST000001', secretAccessKey: 'tamper-secret-access-key' };
    const { password: _p, ...rest } = inline();
    const { db, catalog } = await freshCatalog();
    await catalog.putResource({ ...rest, aws });
    await setConfig(db, ['aws', 'endpoint'], `http://127.0.0.1:${trap.port}`);
    await expectRefusedWithoutConnecting(catalog);

    await catalog.putResource({ ...rest, aws });
    await setConfig(db, ['aws', 'secretName'], 'attacker/secret');
    await expectRefusedWithoutConnecting(catalog);
  });

  it('refuses a changed Secrets Manager endpoint of a record without stored secrets, when a key is configured', async () => {
    trap = await startTrap();
    // Credentials from the environment (the SDK's default chain): they must not go to the changed endpoint.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAENVIRONMENT00001');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'environment-secret-access-key');
    const { password: _p, ...rest } = inline();
    const aws = { secretName: 'prod/admin', region: 'eu-west-1', endpoint: 'http://db.invalid:1' };
    const { db, catalog } = await freshCatalog();
    const info = await catalog.putResource({ ...rest, aws });
    expect(info.hasStoredSecrets).toBe(false);
    await setConfig(db, ['aws', 'endpoint'], `http://127.0.0.1:${trap.port}`);
    await expectRefusedWithoutConnecting(catalog);

    // Removing the seal along with the change does not help either.
    await catalog.putResource({ ...rest, aws });
    await sql(db, `update adaptive.resources set binding = null where name = 'prod'`);
    await setConfig(db, ['aws', 'endpoint'], `http://127.0.0.1:${trap.port}`);
    await expectRefusedWithoutConnecting(catalog);
  });

  it('refuses a record whose assumed role or STS endpoint was changed, added or removed, before anything is signed for it', async () => {
    trap = await startTrap();
    const keys = { accessKeyId: 'AKIATAMPERTEST000001', secretAccessKey: 'tamper-secret-access-key' };
    const plain = { secretName: 'prod/admin', region: 'eu-west-1', endpoint: 'http://db.invalid:1', ...keys };
    const withRole = { ...plain, roleArn: 'arn:aws:iam::123456789012:role/reader', stsEndpoint: 'http://sts.invalid:1' };
    const { password: _p, ...rest } = inline();
    const { db, catalog } = await freshCatalog();
    const trapUrl = `http://127.0.0.1:${trap.port}`;

    // The signed AssumeRole request would go to the changed STS endpoint.
    await catalog.putResource({ ...rest, aws: withRole });
    await setConfig(db, ['aws', 'stsEndpoint'], trapUrl);
    await expectRefusedWithoutConnecting(catalog);

    await catalog.putResource({ ...rest, aws: withRole });
    await setConfig(db, ['aws', 'roleArn'], 'arn:aws:iam::999999999999:role/attacker');
    await expectRefusedWithoutConnecting(catalog);

    // Added to a record sealed without them.
    await catalog.putResource({ ...rest, aws: plain });
    await setConfig(db, ['aws', 'stsEndpoint'], trapUrl);
    await expectRefusedWithoutConnecting(catalog);

    // Removed from a record sealed with them.
    await catalog.putResource({ ...rest, aws: withRole });
    await sql(db, `update adaptive.resources set config = config #- '{aws,roleArn}' #- '{aws,stsEndpoint}' where name = 'prod'`);
    await expectRefusedWithoutConnecting(catalog);

    // Unchanged, both forms read back as stored.
    await catalog.putResource({ ...rest, aws: withRole });
    expect((await catalog.getResource('prod'))?.target.aws).toMatchObject({ roleArn: withRole.roleArn, stsEndpoint: withRole.stsEndpoint });
    await catalog.putResource({ ...rest, aws: plain });
    expect((await catalog.getResource('prod'))?.target.aws?.roleArn).toBeUndefined();
  });

  it("refuses an IAM-authenticated record whose role or STS endpoint was changed or added, before anything is signed for it", async () => {
    trap = await startTrap();
    const keys = { accessKeyId: 'AKIATAMPERTEST000002', secretAccessKey: 'tamper-iam-secret-access-key' };
    const plain = { region: 'eu-west-1', ...keys };
    const withRole = { ...plain, roleArn: 'arn:aws:iam::123456789012:role/rds-admin', stsEndpoint: 'http://sts.invalid:1' };
    const { password: _p, ...rest } = inline();
    const { db, catalog } = await freshCatalog();
    const trapUrl = `http://127.0.0.1:${trap.port}`;

    await catalog.putResource({ ...rest, sslMode: 'require', rdsIam: withRole });
    await setConfig(db, ['rdsIam', 'stsEndpoint'], trapUrl);
    await expectRefusedWithoutConnecting(catalog);

    await catalog.putResource({ ...rest, sslMode: 'require', rdsIam: withRole });
    await setConfig(db, ['rdsIam', 'roleArn'], 'arn:aws:iam::999999999999:role/attacker');
    await expectRefusedWithoutConnecting(catalog);

    await catalog.putResource({ ...rest, sslMode: 'require', rdsIam: plain });
    await setConfig(db, ['rdsIam', 'stsEndpoint'], trapUrl);
    await expectRefusedWithoutConnecting(catalog);

    await catalog.putResource({ ...rest, sslMode: 'require', rdsIam: withRole });
    expect((await catalog.getResource('prod'))?.target.rdsIam).toMatchObject({ roleArn: withRole.roleArn, stsEndpoint: withRole.stsEndpoint });
  });

  it('refuses a record whose sealed secrets were removed and a Secrets Manager reference put in', async () => {
    trap = await startTrap();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAENVIRONMENT00001');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'environment-secret-access-key');
    const { db, catalog } = await freshCatalog();
    await catalog.putResource(inline());
    await sql(db, `update adaptive.resources set secrets = null where name = 'prod'`);
    await setConfig(db, ['aws'], { secretName: 'attacker/secret', region: 'eu-west-1', endpoint: `http://127.0.0.1:${trap.port}` });
    await expectRefusedWithoutConnecting(catalog);
  });

  it('still reads a record after a change to a setting that decides nothing about where secrets go', async () => {
    trap = await startTrap();
    const { db, catalog } = await freshCatalog();
    await catalog.putResource(inline({ maxConnections: 5 }));
    await setConfig(db, ['maxConnections'], 7);
    // A field a later version adds to the record (e.g. objects it tracks) is not bound either.
    await setConfig(db, ['revokedObjects'], ['public.t']);
    const record = await catalog.getResource('prod');
    expect(record?.target).toMatchObject({ host: '127.0.0.1', port: trap.port, password: PASSWORD, maxConnections: 7 });
  });

  it('reads a Secrets Manager record without a key (nothing to verify it with) and verifies it with one', async () => {
    trap = await startTrap();
    const { password: _p, ...rest } = inline();
    const aws = { secretName: 'prod/admin', region: 'eu-west-1' };
    const { db, catalog } = await freshCatalog();
    await catalog.putResource({ ...rest, aws });
    const keyless = await open(db, {});
    expect((await keyless.getResource('prod'))?.target.aws).toEqual(aws);
    // Written without a key, the record carries no seal: a process with the key refuses it.
    await keyless.putResource({ ...rest, aws });
    await expect(catalog.getResource('prod')).rejects.toThrow(/was changed outside adaptive-access.*written without the catalog key/s);
    await catalog.putResource({ ...rest, aws });
    expect((await catalog.getResource('prod'))?.target.aws).toEqual(aws);
    // The wrong key is reported as such, not as a change.
    await expect((await open(db, { key: randomBytes(32) })).getResource('prod')).rejects.toThrow(/catalog key does not match/);
  });

  it('keeps reading secrets sealed by earlier builds (name-only binding), and seals them anew when stored again', async () => {
    trap = await startTrap();
    const { db, catalog } = await freshCatalog();
    await catalog.putResource(inline());
    await sql(db, `update adaptive.resources set secrets = $1 where name = 'prod'`, [sealLegacy(key, 'prod', JSON.stringify({ password: 'legacy-password' }))]);
    expect((await catalog.getResource('prod'))?.target.password).toBe('legacy-password');

    await catalog.putResource(inline({ password: 'legacy-password' }));
    await setConfig(db, ['host'], 'localhost');
    await expectRefusedWithoutConnecting(catalog);
  });
});
