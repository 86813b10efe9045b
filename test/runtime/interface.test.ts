/**
 * The runtime's public interface (src/runtime/index.ts) as its callers see it: a runtime
 * opened read-only reads and refuses every change until made writable, the catalog and the
 * target connections are not reachable through it, a missing record is a NotFoundError
 * that names its kind and name, and the catalog reader reads without any verb that writes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { CatalogError, NotFoundError, openCatalogReader, openRuntime, type Runtime } from '../../src/runtime';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { createDatabase, targetConfig } from './service-fixture';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let catalogUrl: string;
  let runtime: Runtime | undefined;
  const key = randomBytes(32);

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'interface_catalog');
    catalogUrl = cluster.url('interface_catalog');
  });
  afterAll(async () => {
    await runtime?.close();
    await cluster?.stop();
  });

  it('opened read-only, reads an empty catalog and refuses changes until allowWrites; catalog and targets stay private', async () => {
    runtime = await openRuntime({ catalog: { url: catalogUrl, key }, readOnly: true });
    // Nothing but the verbs: no field, no catalog, no way to a target's connection.
    expect(Object.keys(runtime)).toEqual([]);
    expect('catalog' in runtime).toBe(false);
    expect('target' in runtime).toBe(false);

    expect(await runtime.listNames('resource')).toEqual([]);
    expect(await runtime.readAuthorization('read')).toBeNull();
    const refused = await runtime
      .applyAuthorization({ name: 'read', resourceType: 'postgres', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CatalogError);
    expect(refused).toMatchObject({ code: 'read-only' });

    await runtime.allowWrites();
    const config = targetConfig(cluster, 'main', cluster.database);
    const applied = await runtime.applyResource(config);
    expect(applied.serverVersion).toMatch(/^\d+/);
    expect(await runtime.listNames('resource')).toEqual(['main']);
    expect(await runtime.readResource('main')).toMatchObject({ name: 'main', hasStoredSecrets: true });
    // The full settings, the admin password decrypted with the key.
    expect(await runtime.readResourceConfig('main')).toMatchObject({ name: 'main', host: config.host, port: config.port, password: config.password });
    expect(await runtime.readResourceConfig('other')).toBeNull();
  });

  it('names the kind and the name of a record a verb needs and the catalog does not hold, and changes nothing', async () => {
    const missing = await runtime!
      .applyEndpoint({ name: 'ep', type: 'direct', ttlSeconds: 3600, resource: 'main', authorization: 'nowhere' })
      .catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ kind: 'authorization', entity: 'nowhere', message: 'authorization "nowhere" is not in the catalog' });
    const noEndpoint = await runtime!.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: ['ep'], have: new Set() }).catch((err: unknown) => err);
    expect(noEndpoint).toMatchObject({ kind: 'endpoint', entity: 'ep' });
    expect(await runtime!.listNames('endpoint')).toEqual([]);
    expect(await runtime!.listNames('group')).toEqual([]);
    const pass = await runtime!.reap();
    expect(pass).toMatchObject({ errors: [], msUntilNextExpiry: null });
  });

  it('a catalog reader reads credentials and the audit log, without the key, and has no verb that writes', async () => {
    const reader = await openCatalogReader({ url: catalogUrl });
    try {
      expect(Object.getOwnPropertyNames(Object.getPrototypeOf(reader)).sort()).toEqual([
        'close',
        'constructor',
        'credentialCounts',
        'listTargets',
        'liveCredentials',
        'ping',
        'readAudit',
      ]);
      expect(Object.keys(reader)).toEqual([]);
      expect(await reader.liveCredentials()).toEqual([]);
      expect((await reader.readAudit()).map((e) => [e.event, e.resource])).toEqual([['resource.create', 'main']]);
      expect((await reader.listTargets()).map((t) => t.name)).toEqual(['main']);
      expect(await reader.credentialCounts()).toEqual([{ resource: 'main', live: 0, expiredUnreaped: 0 }]);
      await reader.ping();
    } finally {
      await reader.close();
    }
  });
});
