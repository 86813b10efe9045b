/**
 * Time in the access service: inspecting a group (live, expired, missing), a changed ttl
 * moving the expiry of live credentials, and the reaper finishing what VALID UNTIL starts,
 * with the catalog kept in step. Tests wait for expiry instants themselves (short ttls).
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { accessRoleName } from '../../src/runtime/access/access-role';
import { MANAGED_BY, loginRoleName } from '../../src/runtime/access/credentials';
import { MANAGED_ROLE } from '../../src/runtime/pg/roles';
import { ident, literal } from '../../src/runtime/pg/sql';
import { expiredWarning, pairKey, type MemberCredential, type PairKey } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  APP_SCHEMA_SQL,
  connectAs,
  createDatabase,
  credentialRows,
  loginResult,
  openService,
  queryResult,
  roleExists,
  sorted,
  sql,
  targetConfig,
  untilServerPasses,
  validUntil,
  type ServiceHandle,
} from './service-fixture';

const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['items'] };
const HOUR = 3600;
/**
 * A ttl (seconds) that must not run out before the steps that follow the grant (log in,
 * inspect, reap) have run, also on a machine loaded by the suite's parallel files.
 */
const SHORT = 5;

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  const clients: Client[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** A service with the resource 'main' and the authorization 'read'; names unique to the test. */
  async function fresh(): Promise<ServiceHandle & { tag: string }> {
    const handle = await openService(cluster);
    handles.push(handle);
    await handle.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await handle.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    return { ...handle, tag: `x${++seq}` };
  }

  async function applyEndpoint(h: ServiceHandle, name: string, ttlSeconds: number) {
    return h.service.applyEndpoint({ name, type: 'direct', ttlSeconds, resource: 'main', authorization: 'read' });
  }

  async function session(credential: MemberCredential): Promise<Client> {
    const client = await connectAs(credential);
    clients.push(client);
    return client;
  }

  function pairs(members: readonly string[], endpoints: readonly string[]): Set<PairKey> {
    return new Set(members.flatMap((m) => endpoints.map((e) => pairKey(m, e))));
  }

  const names = (cs: readonly MemberCredential[]): string[] => sorted(cs.map((c) => c.username));
  const latest = (cs: readonly MemberCredential[]): Date => new Date(Math.max(...cs.map((c) => c.expiresAt.getTime())));

  it('inspectGroup tells live, expired and missing credentials apart', async () => {
    const h = await fresh();
    const long = `${h.tag}-long`;
    const short = `${h.tag}-short`;
    await applyEndpoint(h, long, HOUR);
    await applyEndpoint(h, short, SHORT);
    const [ana, bo, cy] = ['ana@example.com', 'bo@example.com', 'cy@example.com'];
    const spec = { name: 'watch', members: [ana, bo, cy], endpoints: [long, short] };
    const { issued } = await h.service.applyGroup(spec, new Set());
    expect(issued).toHaveLength(6);
    const all = await h.service.inspectGroup('watch');
    expect(names(all!.live)).toEqual(names(issued));
    expect(all).toMatchObject({ expired: [], missing: [] });

    // Drift by hand: one role dropped, one role's membership in the access role revoked.
    await sql(cluster, 'postgres', `drop role ${ident(loginRoleName(bo, long))}`);
    await sql(cluster, 'postgres', `revoke ${ident(accessRoleName(long))} from ${ident(loginRoleName(cy, long))}`);
    await untilServerPasses(cluster, latest(issued.filter((c) => c.endpoint === short)));

    const seen = await h.service.inspectGroup('watch');
    expect(names(seen!.live)).toEqual([loginRoleName(ana, long)]);
    expect(names(seen!.expired)).toEqual(sorted([ana, bo, cy].map((m) => loginRoleName(m, short))));
    expect(names(seen!.missing)).toEqual(sorted([loginRoleName(bo, long), loginRoleName(cy, long)]));
    expect([...seen!.live, ...seen!.expired, ...seen!.missing].every((c) => c.password === null)).toBe(true);
    // What the classification says is what PostgreSQL does.
    const byName = new Map(issued.map((c) => [c.username, c]));
    expect(await loginResult(byName.get(loginRoleName(ana, long))!)).toBe('ok');
    expect(await loginResult(byName.get(loginRoleName(ana, short))!)).toBe('28P01');
    expect(await loginResult(byName.get(loginRoleName(bo, long))!)).toBe('28P01');

    // Holding everything: nothing is issued, and the expired grants are named in warnings.
    const kept = await h.service.applyGroup(spec, pairs([ana, bo, cy], [long, short]));
    expect(kept.issued).toEqual([]);
    expect(kept.revoked).toEqual([]);
    expect(new Set(kept.warnings.map((w) => w.kind))).toEqual(new Set(['grant expired']));
    expect(sorted(kept.warnings.map((w) => w.message))).toEqual(sorted(seen!.expired.map((c) => expiredWarning(c, 'watch'))));

    // Leaving the missing pairs out of `have` re-issues exactly those.
    const held = pairs([ana, bo, cy], [long, short]);
    held.delete(pairKey(bo, long));
    held.delete(pairKey(cy, long));
    const repaired = await h.service.applyGroup(spec, held);
    expect(names(repaired.issued)).toEqual(sorted([loginRoleName(bo, long), loginRoleName(cy, long)]));
    for (const c of repaired.issued) {
      const client = await session(c);
      expect(await queryResult(client, 'select * from app.items')).toBe('ok');
    }
    const after = await h.service.inspectGroup('watch');
    expect(names(after!.live)).toEqual(sorted([ana, bo, cy].map((m) => loginRoleName(m, long))));
    expect(after!.missing).toEqual([]);
    expect(await h.service.inspectGroup('no-such-group')).toBeNull();
  });

  it('a changed ttl moves the expiry of live credentials on the target and in the catalog, with extend events', async () => {
    const h = await fresh();
    const ep = `${h.tag}-ep`;
    await applyEndpoint(h, ep, HOUR);
    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com', 'bo@example.com'], endpoints: [ep] }, new Set());
    const granted = new Map((await h.catalog.liveCredentials({ group: 'g' })).map((c) => [c.roleName, c.grantedAt]));
    const expectExpiries = async (ttlSeconds: number): Promise<void> => {
      for (const c of await h.catalog.liveCredentials({ group: 'g' })) {
        const want = granted.get(c.roleName)!.getTime() + ttlSeconds * 1000;
        expect(c.expiresAt.getTime()).toBe(want);
        expect((await validUntil(cluster, c.roleName))?.getTime()).toBe(want);
      }
    };

    const longer = await applyEndpoint(h, ep, 2 * HOUR);
    expect(sorted(longer.extended)).toEqual(names(issued));
    await expectExpiries(2 * HOUR);
    const extendEvents = await h.catalog.readAudit({ event: 'extend' });
    expect(sorted(extendEvents.map((e) => e.roleName))).toEqual(names(issued));
    for (const e of extendEvents) {
      expect(e).toMatchObject({ endpoint: ep, group: 'g', resource: 'main' });
      expect(new Date(e.detail.expires_at as string).getTime()).toBe(granted.get(e.roleName!)!.getTime() + 2 * HOUR * 1000);
    }
    for (const c of issued) expect(await loginResult(c)).toBe('ok');

    // The same ttl again changes nothing.
    expect((await applyEndpoint(h, ep, 2 * HOUR)).extended).toEqual([]);
    expect(await h.catalog.readAudit({ event: 'extend' })).toHaveLength(2);

    // A shorter ttl shortens them.
    const shorter = await applyEndpoint(h, ep, HOUR / 2);
    expect(sorted(shorter.extended)).toEqual(names(issued));
    await expectExpiries(HOUR / 2);
    expect(await h.catalog.readAudit({ event: 'extend' })).toHaveLength(4);

    // A ttl that has already run out ends them now.
    const ended = await applyEndpoint(h, ep, 1);
    expect(ended.extended).toEqual([]);
    expect(ended.warnings).toContainEqual({ kind: 'ttl ended', message: expect.stringContaining('ended now') as string });
    for (const c of issued) {
      expect(await roleExists(cluster, c.username)).toBe(false);
      expect(await loginResult(c)).toBe('28P01');
    }
    expect(await h.catalog.liveCredentials({ group: 'g' })).toEqual([]);
    expect((await credentialRows(cluster, h.db)).map((r) => r.revoke_reason)).toEqual(['ttl lowered', 'ttl lowered']);
    // Ended by the ttl, they count as expired (at granted_at + the new ttl), not as revoked.
    const seen = await h.service.inspectGroup('g');
    expect(seen).toMatchObject({ live: [], missing: [] });
    expect(names(seen!.expired)).toEqual(names(issued));
    for (const c of seen!.expired) expect(c.expiresAt.getTime()).toBe(granted.get(c.username)!.getTime() + 1000);
  });

  it('reap({ onlyRecorded }) drops expired roles and records them; a full reap leaves alone an expired managed role the catalog never issued', async () => {
    const h = await fresh();
    const ep = `${h.tag}-short`;
    await applyEndpoint(h, ep, SHORT);
    const { issued } = await h.service.applyGroup({ name: 'brief', members: ['ana@example.com', 'bo@example.com'], endpoints: [ep] }, new Set());
    const open = await session(issued[0]!);
    // Expired, a member of adaptive_managed and carrying a comment like ours: only the
    // catalog knows it was never issued.
    const stray = `stray-${h.tag}@example.com/${ep}`;
    const comment = JSON.stringify({ managed_by: MANAGED_BY, kind: 'credential', member: `stray-${h.tag}@example.com`, endpoint: ep });
    await sql(cluster, 'postgres', `create role ${ident(stray)} login valid until '2001-01-01 00:00:00+00' in role ${ident(MANAGED_ROLE)};
      comment on role ${ident(stray)} is ${literal(comment)}`);
    const strayFacts = async (): Promise<unknown> =>
      (
        await sql(
          cluster,
          'postgres',
          `select rolcanlogin, rolvaliduntil, shobj_description(oid, 'pg_authid') as comment,
                  array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid order by 1) as member_of
             from pg_roles r where rolname = $1`,
          [stray],
        )
      )[0];
    const strayBefore = await strayFacts();
    expect(strayBefore).toMatchObject({ rolcanlogin: true, member_of: [MANAGED_ROLE] });
    try {
      // Nothing recorded has expired yet: the cheap pass visits no target, and says when the next is due.
      const cheap = await h.service.reap({ onlyRecorded: true });
      expect(cheap).toMatchObject({ results: [], errors: [] });
      expect(cheap.msUntilNextExpiry).toBeGreaterThan(0);
      expect(cheap.msUntilNextExpiry).toBeLessThanOrEqual(SHORT * 1000);
      // The full pass visits the target, but acts only on what the catalog issued: the stray role stays as it was.
      const full = await h.service.reap();
      expect(full.errors).toEqual([]);
      expect(full.results.map((r) => r.target)).toEqual(['main']);
      expect(full.results.flatMap((r) => [...r.reaped.map((x) => x.role), ...r.failed.map((f) => f.role), ...r.skipped])).toEqual([]);
      expect(full.msUntilNextExpiry).toBeGreaterThan(0);
      expect(full.msUntilNextExpiry).toBeLessThanOrEqual(SHORT * 1000);
      expect(await strayFacts()).toEqual(strayBefore);
      expect(await h.catalog.readAudit({ event: 'expire' })).toEqual([]);
      for (const c of issued) expect(await roleExists(cluster, c.username)).toBe(true);

      await untilServerPasses(cluster, latest(issued));
      const pass = await h.service.reap({ onlyRecorded: true });
      expect(pass.errors).toEqual([]);
      expect(sorted(pass.results.flatMap((r) => r.reaped.map((x) => x.role)))).toEqual(names(issued));
      expect(pass.msUntilNextExpiry).toBeNull();
      for (const c of issued) expect(await roleExists(cluster, c.username)).toBe(false);
      expect(await queryResult(open, 'select 1')).not.toBe('ok');
      expect(await h.catalog.liveCredentials()).toEqual([]);
      const rows = await credentialRows(cluster, h.db);
      expect(rows.map((r) => r.revoke_reason)).toEqual(['expired', 'expired']);
      const expires = await h.catalog.readAudit({ event: 'expire' });
      expect(sorted(expires.map((e) => e.roleName!))).toEqual(names(issued));
      for (const e of expires) expect(e).toMatchObject({ endpoint: ep, group: 'brief', resource: 'main', detail: { role_dropped: true } });
      // Reaped, the expiry is still what inspection reports for the group's pairs.
      const seen = await h.service.inspectGroup('brief');
      expect(seen).toMatchObject({ live: [], missing: [] });
      expect(names(seen!.expired)).toEqual(names(issued));
      for (const c of seen!.expired) expect(c.expiresAt).toEqual(issued.find((x) => x.username === c.username)!.expiresAt);
      // A second pass has nothing left to do; nor has a full one, which still leaves the stray role alone.
      expect(await h.service.reap({ onlyRecorded: true })).toEqual({ results: [], errors: [], msUntilNextExpiry: null });
      const again = await h.service.reap();
      expect(again.results.flatMap((r) => [...r.reaped, ...r.failed])).toEqual([]);
      expect(await strayFacts()).toEqual(strayBefore);
    } finally {
      await sql(cluster, 'postgres', `drop role ${ident(stray)}`);
    }
  });

  it('a revocation left unfinished is completed by the reaper and then recorded in the catalog', async () => {
    const h = await fresh();
    const ep = `${h.tag}-ep`;
    await applyEndpoint(h, ep, HOUR);
    const { issued } = await h.service.applyGroup({ name: 'stuck', members: ['ana@example.com'], endpoints: [ep] }, new Set());
    const role = issued[0]!.username;
    // The role holds a privilege in a database nobody may connect to: its drop cannot finish.
    const locked = `locked_${h.tag}`;
    await createDatabase(cluster, locked);
    await sql(cluster, locked, `create table t (id int); grant select on t to ${ident(role)}`);
    await sql(cluster, 'postgres', `alter database ${ident(locked)} allow_connections false`);

    await expect(h.service.removeGroup('stuck')).rejects.toThrow(/could not revoke 1 credential\(s\) of group "stuck"/);
    expect(await loginResult(issued[0]!)).toBe('28P01');
    expect(await roleExists(cluster, role)).toBe(true);
    expect((await h.catalog.liveCredentials()).map((c) => c.roleName)).toEqual([role]);

    await sql(cluster, 'postgres', `alter database ${ident(locked)} allow_connections true`);
    const pass = await h.service.reap();
    expect(pass.errors).toEqual([]);
    expect(pass.results.flatMap((r) => r.reaped.map((x) => x.role))).toContain(role);
    expect(await roleExists(cluster, role)).toBe(false);
    expect(await h.catalog.liveCredentials()).toEqual([]);
    expect((await credentialRows(cluster, h.db)).map((r) => r.revoke_reason)).toEqual(['revoked']);
    const events = await h.catalog.readAudit({ event: 'revoke', group: 'stuck' });
    expect(events.map((e) => [e.roleName, e.detail.completed_by])).toEqual([[role, 'reaper']]);
    // With nothing live, the group can go.
    expect(await h.service.removeGroup('stuck')).toEqual([]);
    expect(await h.catalog.getGroup('stuck')).toBeUndefined();
  });
});
