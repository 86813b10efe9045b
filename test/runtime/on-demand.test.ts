/**
 * On-demand credentials (`issueCredential`, `renewCredential`, `revokeCredential`): only a
 * member a group makes eligible gets one, on a login role of its own beside the member's
 * standing credential; its ttl is bounded by the endpoint's; a renewal never passes the
 * endpoint's ttl from the first issue; revoking ends open sessions and drops the role; one
 * nobody revokes is reaped at its expiry; a member who leaves the group loses it.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { loginRoleName } from '../../src/runtime/access/credentials';
import { CatalogError } from '../../src/runtime/catalog';
import { pairKey } from '../../src/runtime/service';
import { onDemandRoleName } from '../../src/runtime/service/on-demand';
import { ValidationError } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  APP_SCHEMA_SQL,
  connectAs,
  createDatabase,
  credentialRows,
  loginResult,
  queryResult,
  roleExists,
  serviceWithEndpoint,
  sql,
  untilServerPasses,
  validUntil,
  type ServiceHandle,
} from './service-fixture';

const MEMBER = 'dev@company.com';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    for (const h of handles) await h.service.close();
    await cluster?.stop();
  });

  it('names the groups that list the endpoint when the member is not eligible, and issues nothing', async () => {
    const { service, endpoint, catalog } = await serviceWithEndpoint(cluster, handles, 'od-refused', 3600);
    const none = await service.issueCredential({ endpoint, member: MEMBER }).catch((err: unknown) => err);
    expect(none).toBeInstanceOf(ValidationError);
    expect((none as ValidationError).issues[0]).toMatchObject({ field: 'member' });
    expect((none as Error).message).toContain(`no adaptive_group lists endpoint "${endpoint}"`);

    await service.applyGroup({ name: 'oncall', members: ['ops@company.com'], endpoints: [endpoint] }, new Set());
    await service.applyGroup({ name: 'analysts', members: ['ana@company.com'], endpoints: [endpoint] }, new Set());
    const outsider = await service.issueCredential({ endpoint, member: MEMBER }).catch((err: unknown) => err);
    expect((outsider as Error).message).toMatch(/"dev@company.com" is not a member of any group that has endpoint "od-refused".*"analysts".*"oncall"/);
    const tooLong = await service.issueCredential({ endpoint, member: 'OPS@company.com', ttlSeconds: 7200 }).catch((err: unknown) => err);
    expect(tooLong).toBeInstanceOf(ValidationError);
    expect((tooLong as ValidationError).issues[0]).toMatchObject({ field: 'ttl' });
    expect((tooLong as Error).message).toMatch(/2h.*longer than endpoint "od-refused" allows \(ttl 1h\)/);
    expect((await catalog.liveCredentials({ kind: 'ephemeral' })).length).toBe(0);
  });

  it('issues a login role of its own beside the standing one, recorded with grant.ephemeral, and revokes it at once', async () => {
    const { service, endpoint, catalog, db } = await serviceWithEndpoint(cluster, handles, 'od-issue', 3600);
    const applied = await service.applyGroup({ name: 'team', members: [MEMBER], endpoints: [endpoint] }, new Set());
    const standing = applied.issued[0]!;

    const issued = await service.issueCredential({ endpoint, member: 'Dev@Company.com', via: 'test' });
    expect(issued.roleName).not.toBe(standing.username);
    expect(issued.roleName.startsWith(`${loginRoleName(MEMBER, endpoint)}#`)).toBe(true);
    expect(issued).toMatchObject({ member: MEMBER, endpoint, group: 'team', username: issued.roleName });
    // Default ttl: 15 minutes (the endpoint allows an hour); notAfter: the endpoint's hour.
    expect(issued.expiresAt.getTime() - issued.grantedAt.getTime()).toBe(900_000);
    expect(issued.notAfter.getTime() - issued.grantedAt.getTime()).toBe(3_600_000);
    expect((await validUntil(cluster, issued.roleName))?.getTime()).toBe(issued.expiresAt.getTime());

    const session = await connectAs(issued);
    clients.push(session);
    expect(await queryResult(session, 'select * from app.items')).toBe('ok');
    expect(await queryResult(session, 'delete from app.items')).toBe('42501');
    // Two on-demand credentials of one pair live side by side.
    const second = await service.issueCredential({ endpoint, member: MEMBER, ttlSeconds: 60 });
    expect(second.roleName).not.toBe(issued.roleName);
    expect(second.expiresAt.getTime() - second.grantedAt.getTime()).toBe(60_000);

    // The group's own credentials are its standing ones: on-demand ones are not among them.
    const inspected = await service.inspectGroup('team');
    expect(inspected?.live.map((c) => [c.username, c.expiresAt.getTime()])).toEqual([[standing.username, standing.expiresAt.getTime()]]);

    const audit = await catalog.readAudit({ event: 'grant.ephemeral' });
    expect(audit.map((e) => [e.roleName, e.group, e.member])).toEqual([
      [issued.roleName, 'team', MEMBER],
      [second.roleName, 'team', MEMBER],
    ]);
    expect(audit[0]!.detail).toMatchObject({ via: 'test', expires_at: issued.expiresAt.toISOString() });

    await service.revokeCredential(issued.roleName, 'closed');
    expect(await roleExists(cluster, issued.roleName)).toBe(false);
    expect(await queryResult(session, 'select 1')).not.toBe('ok');
    expect(await roleExists(cluster, standing.username)).toBe(true);
    expect(await loginResult(standing)).toBe('ok');
    const rows = await credentialRows(cluster, db);
    expect(rows.find((r) => r.role_name === issued.roleName)).toMatchObject({ revoke_reason: 'closed' });
    // Revoking again does nothing; renewing a revoked one is refused.
    await service.revokeCredential(issued.roleName, 'closed');
    const renewed = await service.renewCredential({ roleName: issued.roleName, ttlSeconds: 60 }).catch((err: unknown) => err);
    expect(renewed).toBeInstanceOf(CatalogError);
    expect(renewed).toMatchObject({ code: 'gone' });
    await service.revokeCredential(second.roleName, 'closed');
  });

  it('renews up to the endpoint ttl from the first issue, never past it', async () => {
    const { service, endpoint } = await serviceWithEndpoint(cluster, handles, 'od-renew', 120);
    await service.applyGroup({ name: 'renewers', members: [MEMBER], endpoints: [endpoint] }, new Set());
    const issued = await service.issueCredential({ endpoint, member: MEMBER, ttlSeconds: 30 });
    const renewed = await service.renewCredential({ roleName: issued.roleName, ttlSeconds: 60 });
    expect(renewed.expiresAt.getTime()).toBeGreaterThan(issued.expiresAt.getTime());
    expect(renewed.atLimit).toBe(false);
    expect((await validUntil(cluster, issued.roleName))?.getTime()).toBe(renewed.expiresAt.getTime());
    const capped = await service.renewCredential({ roleName: issued.roleName, ttlSeconds: 3600 });
    expect(capped).toEqual({ expiresAt: issued.notAfter, atLimit: true });
    expect((await validUntil(cluster, issued.roleName))?.getTime()).toBe(issued.notAfter.getTime());
    // Raising the endpoint's ttl does not extend it.
    await service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds: 240, resource: 'main', authorization: 'read' });
    expect((await validUntil(cluster, issued.roleName))?.getTime()).toBe(issued.notAfter.getTime());
    await service.revokeCredential(issued.roleName);
  });

  it("still reports a reaped standing credential as expired after its member used an on-demand one", async () => {
    const { service, endpoint } = await serviceWithEndpoint(cluster, handles, 'od-inspect', 3);
    const [standing] = (await service.applyGroup({ name: 'inspected', members: [MEMBER], endpoints: [endpoint] }, new Set())).issued;
    await untilServerPasses(cluster, standing!.expiresAt);
    expect((await service.reap()).errors).toEqual([]);
    const expired = async (): Promise<string[]> => ((await service.inspectGroup('inspected'))?.expired ?? []).map((c) => c.username);
    expect(await expired()).toEqual([standing!.username]);
    const onDemand = await service.issueCredential({ endpoint, member: MEMBER });
    await service.revokeCredential(onDemand.roleName);
    expect(await expired()).toEqual([standing!.username]);
  });

  it('is reaped at its expiry when nobody revokes it, and revoked when its member leaves the group', async () => {
    const { service, endpoint, catalog } = await serviceWithEndpoint(cluster, handles, 'od-reap', 3600);
    await service.applyGroup({ name: 'reaped', members: [MEMBER, 'other@company.com'], endpoints: [endpoint] }, new Set());
    const short = await service.issueCredential({ endpoint, member: MEMBER, ttlSeconds: 3 });
    const leaver = await service.issueCredential({ endpoint, member: 'other@company.com' });
    const session = await connectAs(short);
    clients.push(session);

    await service.applyGroup({ name: 'reaped', members: [MEMBER], endpoints: [endpoint] }, new Set([pairKey(MEMBER, endpoint)]));
    expect(await roleExists(cluster, leaver.roleName)).toBe(false);

    await untilServerPasses(cluster, short.expiresAt);
    const report = await service.reap();
    expect(report.errors).toEqual([]);
    expect(report.results.flatMap((r) => r.reaped.map((x) => x.role))).toContain(short.roleName);
    expect(await roleExists(cluster, short.roleName)).toBe(false);
    expect(await queryResult(session, 'select 1')).not.toBe('ok');
    expect((await catalog.liveCredentials({ kind: 'ephemeral' })).map((c) => c.roleName)).toEqual([]);
    expect(onDemandRoleName('a@b.co', 'x')).toMatch(/^a@b\.co\/x#[0-9a-f]{8}$/);
  });
});
