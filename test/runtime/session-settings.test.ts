/**
 * Member session settings of an endpoint (`sessionSettings`): put on each member's login
 * role when it is issued (standing and on demand), changed and reset on every live role
 * when the endpoint changes, read back as drift after a manual ALTER ROLE and put back by
 * the next apply; bad settings change nothing.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { MemberCredential } from '../../src/runtime/service';
import { ValidationError, type SessionSettings } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { APP_SCHEMA_SQL, connectAs, createDatabase, serviceWithEndpoint, sql, type ServiceHandle } from './service-fixture';

const MEMBER = 'dev@company.com';

const SETTINGS: SessionSettings = {
  searchPath: ['$user', 'app', 'my-schema'],
  statementTimeoutSeconds: 5,
  idleSessionTimeoutSeconds: 60,
  connectionLimit: 2,
  timezone: 'Europe/Berlin',
  applicationName: 'analytics',
};

interface RoleSettingsRow extends Record<string, unknown> {
  config: string[] | null;
  connlimit: number;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', `${APP_SCHEMA_SQL}; create schema "my-schema"`);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    for (const h of handles) await h.service.close();
    await cluster?.stop();
  });

  const roleSettings = async (role: string): Promise<RoleSettingsRow | undefined> =>
    (await sql<RoleSettingsRow>(cluster, cluster.database, 'select rolconfig as config, rolconnlimit as connlimit from pg_roles where rolname = $1', [role]))[0];

  const show = async (client: Client, setting: string): Promise<string> => {
    const { rows } = await client.query<Record<string, string>>(`show ${setting}`);
    return Object.values(rows[0] ?? {})[0] ?? '';
  };

  /** An endpoint with `settings`, a group holding MEMBER, and an on-demand credential beside the standing one. */
  async function endpointWithMember(tag: string, settings: SessionSettings) {
    const handle = await serviceWithEndpoint(cluster, handles, `ss-${tag}`, 3600);
    const endpoint = { name: handle.endpoint, type: 'direct' as const, ttlSeconds: 3600, resource: 'main', authorization: 'read' };
    await handle.service.applyEndpoint({ ...endpoint, sessionSettings: settings });
    const { issued } = await handle.service.applyGroup({ name: `team-${tag}`, members: [MEMBER], endpoints: [endpoint.name] }, new Set());
    const standing = issued[0] as MemberCredential;
    const onDemand = await handle.service.issueCredential({ endpoint: endpoint.name, member: MEMBER });
    return { ...handle, endpoint, standing, onDemand };
  }

  it('puts the settings on the login role at grant, standing and on demand: the member session has them, and the limit counts its sessions', async () => {
    const { standing, onDemand } = await endpointWithMember('grant', SETTINGS);
    for (const role of [standing.username, onDemand.roleName]) {
      const row = await roleSettings(role);
      expect(row?.connlimit).toBe(2);
      expect([...(row?.config ?? [])].sort()).toEqual(
        ['application_name=analytics', 'idle_session_timeout=60s', 'search_path="$user", app, "my-schema"', 'statement_timeout=5s', 'TimeZone=Europe/Berlin'].sort(),
      );
    }
    const client = await connectAs(standing);
    clients.push(client);
    expect(await show(client, 'search_path')).toBe('"$user", app, "my-schema"');
    expect(await show(client, 'statement_timeout')).toBe('5s');
    expect(await show(client, 'idle_session_timeout')).toBe('1min');
    expect(await show(client, 'timezone')).toBe('Europe/Berlin');
    expect(await show(client, 'application_name')).toBe('analytics');
    // Unqualified, through the search path.
    expect((await client.query('select name from items')).rows).toEqual([{ name: 'first' }]);
    const second = await connectAs(standing);
    clients.push(second);
    const third = await connectAs(standing).catch((err: unknown) => err);
    expect((third as Error).message).toMatch(/too many connections for role/);
  });

  it('changes and resets the settings of every live login role when the endpoint changes', async () => {
    const { service, catalog, endpoint, standing, onDemand } = await endpointWithMember('update', SETTINGS);
    const result = await service.applyEndpoint({ ...endpoint, sessionSettings: { statementTimeoutSeconds: 600, timezone: 'UTC' } });
    expect(result.record.sessionSettings).toEqual({ statementTimeoutSeconds: 600, timezone: 'UTC' });
    for (const role of [standing.username, onDemand.roleName]) {
      const row = await roleSettings(role);
      expect(row?.connlimit).toBe(-1);
      expect([...(row?.config ?? [])].sort()).toEqual(['TimeZone=UTC', 'statement_timeout=600s']);
    }
    await service.applyEndpoint({ ...endpoint });
    expect((await roleSettings(standing.username))?.config).toBeNull();
    expect((await catalog.getEndpoint(endpoint.name))?.sessionSettings).toEqual({});
  });

  it('shows a login role changed by hand as drift, and the next apply puts it back', async () => {
    const { service, endpoint, standing, onDemand } = await endpointWithMember('drift', SETTINGS);
    expect((await service.inspectEndpoint(endpoint.name))?.drift).toEqual([]);

    await sql(cluster, cluster.database, `alter role "${standing.username}" reset statement_timeout`);
    await sql(cluster, cluster.database, `alter role "${standing.username}" set search_path = public`);
    await sql(cluster, cluster.database, `alter role "${onDemand.roleName}" set statement_timeout = 0`);
    await sql(cluster, cluster.database, `alter role "${onDemand.roleName}" connection limit -1`);
    await sql(cluster, cluster.database, `alter role "${onDemand.roleName}" set idle_session_timeout = 60000`);
    const drift = (await service.inspectEndpoint(endpoint.name))?.drift ?? [];
    expect([...drift].sort()).toEqual(
      [
        `login role "${standing.username}": search_path is public, want $user, app, my-schema`,
        `login role "${standing.username}": statement_timeout is not set, want 5s`,
        `login role "${onDemand.roleName}": statement_timeout is 0, want 5s`,
        `login role "${onDemand.roleName}": connection_limit is no limit, want 2`,
      ].sort(),
    );

    await service.applyEndpoint({ ...endpoint, sessionSettings: SETTINGS });
    expect((await service.inspectEndpoint(endpoint.name))?.drift).toEqual([]);
    expect((await roleSettings(standing.username))?.config).toContain('statement_timeout=5s');
    expect((await roleSettings(onDemand.roleName))?.connlimit).toBe(2);
  });

  it('refuses bad settings and a time zone the server does not know, naming the attribute, with nothing changed', async () => {
    const { service, catalog, endpoint, standing } = await endpointWithMember('refused', SETTINGS);
    const bad = await service
      .applyEndpoint({ ...endpoint, sessionSettings: { statementTimeoutSeconds: -5, connectionLimit: 0, searchPath: ['a;b'] } })
      .catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues.map((i) => i.field).sort()).toEqual(['connection_limit', 'search_path[0]', 'statement_timeout']);

    const zone = await service.applyEndpoint({ ...endpoint, sessionSettings: { timezone: 'Mars/Olympus' } }).catch((err: unknown) => err);
    expect(zone).toBeInstanceOf(ValidationError);
    expect((zone as ValidationError).issues[0]).toMatchObject({ field: 'timezone' });
    expect((zone as Error).message).toMatch(/resource "main" does not know it/);

    expect((await catalog.getEndpoint(endpoint.name))?.sessionSettings).toEqual(SETTINGS);
    expect((await roleSettings(standing.username))?.config).toContain('statement_timeout=5s');
  });
});
