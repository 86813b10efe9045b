/**
 * `Runtime.checkAuthorization`, the read-only check a plan runs on a changed permission
 * set: through a runtime opened read-only, it finds what the targets of the authorization's
 * endpoints lack and a database other than theirs, and changes nothing. Also: a set written
 * for another database (the YAML form's `database:`) is refused when an endpoint applies it,
 * and a set of functions alone applies.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { openRuntime, ValidationError, type Runtime } from '../../src/runtime';
import { parsePermissions } from '../../src/runtime/validation';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { createDatabase, sql, targetConfig } from './service-fixture';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let writer: Runtime;
  let reader: Runtime;

  /** What a check could change: the function's ACL, the roles, the catalog's audit log. */
  async function snapshot(): Promise<unknown> {
    return {
      acl: await sql(cluster, 'shop', "select proname::text, proacl::text from pg_proc where pronamespace = 'app'::regnamespace order by 1"),
      roles: await sql(cluster, 'shop', "select rolname::text from pg_roles where rolname like 'adaptive_ep_%' order by 1"),
      audit: await sql(cluster, 'check_catalog', 'select count(*)::int as n from adaptive.audit_log'),
    };
  }

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'check_catalog');
    await createDatabase(cluster, 'shop');
    await sql(cluster, 'shop', "create schema app; create function app.total(n integer) returns integer language sql as 'select n * 2'");
    const catalog = { url: cluster.url('check_catalog'), key: randomBytes(32) };
    writer = await openRuntime({ catalog });
    await writer.applyResource(targetConfig(cluster, 'main', 'shop'));
    // A set of functions alone: no grants, no tables.
    await writer.applyAuthorization({ name: 'calc', resourceType: 'postgres', permissions: parsePermissions({ schemas: ['app'], functions: ['app.total(integer)'] }) });
    await writer.applyEndpoint({ name: 'calc-ep', type: 'direct', ttlSeconds: 3600, resource: 'main', authorization: 'calc' });
    reader = await openRuntime({ catalog, readOnly: true });
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await cluster?.stop();
  });

  it('a set of functions alone applies and reads back without drift', async () => {
    expect((await reader.inspectEndpoint('calc-ep'))?.drift).toEqual([]);
  });

  it('finds a function the target lacks, naming the endpoint, the resource and the function; changes nothing', async () => {
    const before = await snapshot();
    const result = await reader.checkAuthorization({ name: 'calc', permissions: parsePermissions({ schemas: ['app'], functions: ['app.missing(integer)'] }) });
    expect(result.checked).toEqual(['calc-ep']);
    expect(result.unchecked).toEqual([]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.message).toMatch(/^endpoint "calc-ep" \(resource "main"\): function .*app.*missing.* does not exist/);
    expect(await snapshot()).toEqual(before);
    // The set as applied finds nothing.
    expect((await reader.checkAuthorization({ name: 'calc', permissions: parsePermissions({ schemas: ['app'], functions: ['app.total(integer)'] }) })).issues).toEqual([]);
  });

  it("finds a database other than the target's, naming both", async () => {
    const yaml = 'allow:\n  - database: warehouse\n    privileges: [SELECT]\n    objects: [app.*]\n';
    const result = await reader.checkAuthorization({ name: 'calc', permissions: parsePermissions(yaml) });
    expect(result.issues).toEqual([
      { field: 'permissions', message: expect.stringMatching(/written for database "?warehouse"?, but the endpoint's resource connects to database "?shop"?/) as unknown },
    ]);
  });

  it('an authorization no endpoint uses checks nothing', async () => {
    expect(await reader.checkAuthorization({ name: 'unused', permissions: parsePermissions({ schemas: ['app'], functions: ['*'] }) })).toEqual({ checked: [], issues: [], unchecked: [] });
  });

  it('an endpoint applying a set written for another database is refused, and no access role is made', async () => {
    const yaml = 'allow:\n  - database: warehouse\n    privileges: [SELECT]\n    objects: [ALL]\n';
    await writer.applyAuthorization({ name: 'elsewhere', resourceType: 'postgres', permissions: parsePermissions(yaml), permissionsSource: yaml });
    const before = await snapshot();
    const refused = await writer.applyEndpoint({ name: 'elsewhere-ep', type: 'direct', ttlSeconds: 3600, resource: 'main', authorization: 'elsewhere' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(String((refused as Error).message)).toMatch(/permissions: endpoint "elsewhere-ep": the permissions are written for database "?warehouse"?/);
    expect(await snapshot()).toEqual(before);
    expect(await writer.readEndpoint('elsewhere-ep')).toBeNull();
  });
});
