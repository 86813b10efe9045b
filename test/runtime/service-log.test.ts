/**
 * No generated password reaches PostgreSQL's log, even with every statement logged: the
 * service issues, re-issues, extends and revokes through verifiers only. The catalog lives
 * on the same server, so its statements are checked too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { pairKey } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, createDatabase, loginResult, openService, sql, targetConfig, type ServiceHandle } from './service-fixture';

const WRITE: Permissions = { grants: ['SELECT', 'INSERT'], schemas: ['app'], tables: ['items'] };

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let handle: ServiceHandle | undefined;

  beforeAll(async () => {
    cluster = await startPostgres(binaries, { settings: { log_statement: 'all' } });
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterAll(async () => {
    await handle?.service.close();
    await cluster?.stop();
  });

  it('keeps every generated password out of the server log', async () => {
    handle = await openService(cluster);
    const { service } = handle;
    await service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await service.applyAuthorization({ name: 'write', resourceType: 'postgresql', permissions: WRITE });
    const endpoint = { name: 'logged-write', type: 'direct' as const, ttlSeconds: 3600, resource: 'main', authorization: 'write' };
    await service.applyEndpoint(endpoint);
    const spec = { name: 'team', members: ['ana@example.com', 'bo@example.com', 'cy@example.com'], endpoints: ['logged-write'] };

    const passwords: string[] = [];
    const first = await service.applyGroup(spec, new Set());
    const renewed = await service.applyGroup(spec, new Set([pairKey('ana@example.com', 'logged-write')]));
    for (const c of [...first.issued, ...renewed.issued]) passwords.push(c.password!);
    expect(passwords).toHaveLength(5);
    for (const c of renewed.issued) expect(await loginResult(c)).toBe('ok');
    await service.applyEndpoint({ ...endpoint, ttlSeconds: 7200 });
    await service.applyGroup({ ...spec, members: ['ana@example.com'] }, new Set([pairKey('ana@example.com', 'logged-write')]));
    await service.removeGroup('team');

    await service.close();
    handle = undefined;
    await cluster.stop();
    const log = cluster.readLog();
    // The log is complete: it shows the statements that issued the roles, with verifiers.
    expect(log).toContain(
      'CREATE ROLE "bo@example.com/logged-write" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD \'SCRAM-SHA-256$',
    );
    expect(log).toContain('DROP ROLE "bo@example.com/logged-write"');
    for (const password of passwords) expect(log).not.toContain(password);
  });
});
