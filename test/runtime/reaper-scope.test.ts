/**
 * What the reaper and revocation may touch: only login roles the catalog recorded as issued
 * that still carry this product's marker (membership in adaptive_managed and our comment),
 * and never a role that is superuser, has CREATEROLE, or holds ADMIN OPTION on
 * adaptive_managed (the preflight's own suggested fix for PostgreSQL 16+ creates exactly
 * such an admin). A pre-existing adaptive_managed that is not ours is refused, not trusted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { MANAGED_BY } from '../../src/runtime/access/credentials';
import { MANAGED_ROLE } from '../../src/runtime/pg/roles';
import { ident, literal } from '../../src/runtime/pg/sql';
import { revokeCredentials } from '../../src/runtime/access/revoke';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { targetDbFor } from '../fixtures/target-db';
import { APP_SCHEMA_SQL, createDatabase, openService, roleExists, serviceWithEndpoint, sql, targetConfig, type ServiceHandle } from './service-fixture';

/** A comment that looks like one of ours. */
const OUR_COMMENT = JSON.stringify({ managed_by: MANAGED_BY, kind: 'credential', member: 'x@example.com', endpoint: 'e' });

interface RoleFacts {
  canlogin: boolean;
  valid: Date | null;
  super: boolean;
  createrole: boolean;
  members_of: string[];
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];
  let seq = 0;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const fresh = () => serviceWithEndpoint(cluster, handles, `scope-${++seq}`, 3600);

  async function facts(role: string): Promise<RoleFacts> {
    const [row] = await sql<RoleFacts & Record<string, unknown>>(
      cluster,
      'postgres',
      `select r.rolcanlogin as canlogin, r.rolvaliduntil as valid, r.rolsuper as super, r.rolcreaterole as createrole,
              array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid order by 1) as members_of
         from pg_roles r where r.rolname = $1`,
      [role],
    );
    return row!;
  }

  it('a full reap leaves an expired member of adaptive_managed alone when the catalog never issued it, even with our comment', async () => {
    const h = await fresh();
    const stray = `stray-${seq}@example.com/${h.endpoint}`;
    await sql(cluster, 'postgres', `create role ${ident(stray)} login valid until '2001-01-01' in role ${ident(MANAGED_ROLE)};
      comment on role ${ident(stray)} is ${literal(OUR_COMMENT)}`);
    const before = await facts(stray);
    const report = await h.service.reap();
    expect(report.errors).toEqual([]);
    expect(report.results.flatMap((r) => r.reaped.map((x) => x.role))).not.toContain(stray);
    expect(await facts(stray)).toEqual(before);
    await sql(cluster, 'postgres', `drop role ${ident(stray)}`);
  });

  it('an expired admin holding ADMIN OPTION on adaptive_managed is never reaped, even when a catalog writer records it as issued', async () => {
    const h = await fresh();
    const admin = `helper_admin_${seq}`;
    // What the preflight suggests on 16+ for a second admin, with an expired password.
    await sql(cluster, 'postgres', `create role ${ident(admin)} login createrole valid until '2001-01-01';
      grant ${ident(MANAGED_ROLE)} to ${ident(admin)} with admin option;
      comment on role ${ident(admin)} is ${literal(OUR_COMMENT)}`);
    // Someone who can write the catalog records it as an issued credential.
    await sql(
      cluster,
      h.db,
      `insert into adaptive.credentials (role_name, resource, endpoint, group_name, member, granted_at, expires_at)
       values ($1, 'main', $2, 'g', 'x@example.com', now() - interval '2 hours', now() - interval '1 hour')`,
      [admin, h.endpoint],
    );
    const before = await facts(admin);
    const report = await h.service.reap();
    expect(report.results.flatMap((r) => r.reaped.map((x) => x.role))).not.toContain(admin);
    expect(await facts(admin)).toEqual(before);
    expect(before.members_of).toEqual([MANAGED_ROLE]);
  });

  it('revocation refuses superusers, CREATEROLE roles, holders of ADMIN OPTION on the marker and roles without our comment', async () => {
    await fresh();
    const target = targetDbFor(cluster, 'appdb');
    try {
      const n = seq;
      const cases = {
        [`su_${n}`]: `create role ${ident(`su_${n}`)} login superuser valid until '2001-01-01' in role ${ident(MANAGED_ROLE)}`,
        [`cr_${n}`]: `create role ${ident(`cr_${n}`)} login createrole valid until '2001-01-01' in role ${ident(MANAGED_ROLE)}`,
        [`ao_${n}`]: `create role ${ident(`ao_${n}`)} login valid until '2001-01-01'; grant ${ident(MANAGED_ROLE)} to ${ident(`ao_${n}`)} with admin option`,
        [`nc_${n}`]: `create role ${ident(`nc_${n}`)} login valid until '2001-01-01' in role ${ident(MANAGED_ROLE)}`,
      };
      for (const [role, create] of Object.entries(cases)) {
        await sql(cluster, 'postgres', create);
        if (!role.startsWith('nc_')) await sql(cluster, 'postgres', `comment on role ${ident(role)} is ${literal(OUR_COMMENT)}`);
      }
      const names = Object.keys(cases);
      const before = await Promise.all(names.map(facts));
      const result = await revokeCredentials(target, names, 'test');
      expect(result.revoked).toEqual([]);
      expect(result.failed.map((f) => f.role).sort()).toEqual([...names].sort());
      for (const f of result.failed) expect(f.error).toMatch(/^refused: /);
      expect(await Promise.all(names.map(facts))).toEqual(before);
      for (const role of names) await sql(cluster, 'postgres', `drop role ${ident(role)}`);
    } finally {
      await target.close();
    }
  });

  it('a credential left disabled by a failed revocation does not make the marker look foreign: issuing goes on', async () => {
    const h = await fresh();
    const { issued } = await h.service.applyGroup({ name: 'g', members: ['ana@example.com'], endpoints: [h.endpoint] }, new Set());
    // What step (a) of a revocation leaves until the drop succeeds.
    await sql(cluster, 'postgres', `alter role ${ident(issued[0]!.username)} nologin`);
    const more = await h.service.applyGroup({ name: 'g', members: ['ana@example.com', 'bo@example.com'], endpoints: [h.endpoint] }, new Set([`ana@example.com\u0000${h.endpoint}` as const]));
    expect(more.issued.map((c) => c.member)).toEqual(['bo@example.com']);
    await h.service.removeGroup('g');
  });

  for (const [what, setUp, problem] of [
    ['can log in', (r: string) => `alter role ${ident(r)} login`, /LOGIN/],
    ['has a member we did not add', (r: string) => `create role outsider_${r.length} login; grant ${ident(r)} to outsider_${r.length}`, /member/],
    ['holds privileges', (r: string) => `grant select on all tables in schema public to ${ident(r)}`, /privilege/],
  ] as const) {
    it(`a pre-existing ${MANAGED_ROLE} that ${what} is refused with a clear message, and nothing is recorded`, async () => {
      // A cluster of its own: the marker role is cluster-wide.
      const own = await startPostgres(binaries);
      try {
        await sql(own, own.database, `create role ${ident(MANAGED_ROLE)} nologin; create table public.t (id int)`);
        await sql(own, own.database, setUp(MANAGED_ROLE));
        const handle = await openService(own);
        handles.push(handle);
        const error = await handle.service.applyResource(targetConfig(own, 'main', own.database)).then(
          () => null,
          (err: unknown) => err as Error,
        );
        expect(error?.message).toContain(`${MANAGED_ROLE} exists but was not created by adaptive-access`);
        expect(error?.message).toMatch(problem);
        expect(await handle.catalog.listResources()).toEqual([]);
        expect(await roleExists(own, MANAGED_ROLE)).toBe(true);
      } finally {
        await own.stop();
      }
    });
  }
});
