/**
 * What happens to the objects a revoked credential created. A member who may create
 * anything (PUBLIC's CREATE on `public`, the default before PostgreSQL 15, emulated here)
 * creates SECURITY DEFINER functions that PUBLIC may execute. After the reaper, they must
 * never run as the admin (a superuser here): in "reassign" mode they belong to the
 * privilege-less `adaptive_revoked` and run as their caller, in "drop" mode they are gone.
 * The same for objects owned by an endpoint's access role when the endpoint is dropped.
 * A role named `adaptive_revoked` that is not ours is refused, never given anything; and
 * on PostgreSQL 16+ a member cannot SET ROLE to the access role or to the marker role.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { accessRoleName, dropAccessRole, ensureManagedRole, syncAccessRole } from '../../../src/runtime/access/access-role';
import { issueCredentials, type IssuedCredential } from '../../../src/runtime/access/credentials';
import { REVOKED_OWNER_COMMENT } from '../../../src/runtime/access/revoked-owner';
import { MANAGED_ROLE, REVOKED_OWNER_ROLE } from '../../../src/runtime/pg/roles';
import { reapOnce } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/pg/sql';
import type { RevokedObjects, TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, targetDbFor, type TestLogin } from '../../fixtures/target-db';

const ENDPOINT = 'incident';
const ACCESS_ROLE = accessRoleName(ENDPOINT);
const MODES: readonly RevokedObjects[] = ['reassign', 'drop'];

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  /** The superuser admin's target (the dangerous case: the admin is a superuser). */
  let target: TargetDb;
  /** The superuser, in the target database. */
  let su: Client;
  /** An unprivileged login role that calls what the former members left behind. */
  let bystander: TestLogin;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const bootstrap = new Client(cluster.clientConfig());
    await bootstrap.connect();
    try {
      await bootstrap.query('create database appdb');
    } finally {
      await bootstrap.end();
    }
    su = new Client(cluster.clientConfig('appdb'));
    await su.connect();
    // PostgreSQL 14 and older let every role create in `public`; a DBA may grant it too.
    await su.query('grant create on schema public to public; create table public.items (id int)');
    bystander = await createLoginRole(cluster, 'bystander');
    target = targetDbFor(cluster, 'appdb');
  });
  afterAll(async () => {
    await su?.end();
    await target?.close();
    await cluster?.stop();
  });

  function withMode(mode: RevokedObjects): TargetDb {
    return { ...target, revokedObjects: mode };
  }

  async function connectAs(cred: IssuedCredential): Promise<Client> {
    const client = new Client({ ...cluster.clientConfig('appdb'), user: cred.roleName, password: cred.password });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** Runs `text` as the bystander; the result rows, or the error's SQLSTATE. */
  async function asBystander(text: string): Promise<{ rows?: unknown[]; code?: string }> {
    const client = await bystander.connect('appdb');
    try {
      return { rows: (await client.query(text)).rows };
    } catch (err) {
      return { code: String((err as { code?: unknown }).code) };
    } finally {
      await client.end();
    }
  }

  async function roleExists(name: string): Promise<boolean> {
    return (await su.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1;
  }

  /** Owner and SECURITY DEFINER of a function in `public`, or undefined when it is gone. */
  async function functionState(name: string): Promise<{ owner: string; definer: boolean } | undefined> {
    const { rows } = await su.query<{ owner: string; definer: boolean }>(
      `select pg_get_userbyid(p.proowner) as owner, p.prosecdef as definer
         from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname = $1`,
      [name],
    );
    return rows[0];
  }

  /** The member's functions: one reports who it runs as, one does what only the admin may. */
  function definerFunctions(suffix: string): string {
    return `
      create function public.whoami_${suffix}() returns text language sql security definer
        as $$ select current_user::text $$;
      create function public.escalate_${suffix}() returns text language plpgsql security definer
        as $$ begin execute 'create role pwned_${suffix} superuser login'; return 'done'; end $$;
      create view public.items_${suffix} as select * from public.items;
      grant execute on function public.whoami_${suffix}(), public.escalate_${suffix}() to public;
      grant select on public.items_${suffix} to public`;
  }

  describe('the reaper, with a member who created SECURITY DEFINER functions', () => {
    beforeAll(async () => {
      expect(await ensureManagedRole(target)).toBe(true);
      await syncAccessRole(target, { endpoint: ENDPOINT, permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['items'] } });
    });

    it.each(MODES)('revoked_objects = %s: nothing the member left runs as the admin', async (mode) => {
      const suffix = mode;
      const [cred] = await issueCredentials(target, [{ member: `mallory-${mode}@example.com`, endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds: 600 }]);
      const member = await connectAs(cred!);
      try {
        await member.query(definerFunctions(suffix));
      } finally {
        await member.end();
      }

      // Its time has come (moved into the past by hand: this test is about what reaping does).
      await su.query(`alter role ${ident(cred!.roleName)} valid until '2001-01-01'`);
      const pass = await reapOnce(withMode(mode), [cred!.roleName]);
      expect(pass).toMatchObject({ failed: [], skipped: [] });
      expect(pass.reaped.map((r) => r.role)).toEqual([cred!.roleName]);
      expect(await roleExists(cred!.roleName)).toBe(false);

      const whoami = await asBystander(`select public.whoami_${suffix}() as who`);
      const escalate = await asBystander(`select public.escalate_${suffix}()`);
      expect(await roleExists(`pwned_${suffix}`)).toBe(false);
      if (mode === 'drop') {
        expect(await functionState(`whoami_${suffix}`)).toBeUndefined();
        expect(await functionState(`escalate_${suffix}`)).toBeUndefined();
        expect(whoami).toEqual({ code: '42883' });
        expect(escalate).toEqual({ code: '42883' });
      } else {
        // Kept, owned by the privilege-less role, and running as whoever calls it.
        expect(await functionState(`whoami_${suffix}`)).toEqual({ owner: REVOKED_OWNER_ROLE, definer: false });
        expect(await functionState(`escalate_${suffix}`)).toEqual({ owner: REVOKED_OWNER_ROLE, definer: false });
        expect(whoami).toEqual({ rows: [{ who: 'bystander' }] });
        expect(escalate).toEqual({ code: '42501' });
        const view = await su.query<{ owner: string; options: string[] | null }>(
          `select pg_get_userbyid(relowner) as owner, reloptions as options from pg_class where oid = $1::regclass`,
          [`public.items_${suffix}`],
        );
        expect(view.rows).toEqual([{ owner: REVOKED_OWNER_ROLE, options: ['security_invoker=true'] }]);
      }
      // The admin holds no membership in the privilege-less role; nobody does.
      const members = await su.query(
        `select pg_get_userbyid(member) as member from pg_auth_members where roleid = (select oid from pg_roles where rolname = $1)
            and (${binaries.major >= 16 ? 'inherit_option or set_option' : 'true'})`,
        [REVOKED_OWNER_ROLE],
      );
      expect(members.rows).toEqual([]);
      const attributes = await su.query(
        `select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls from pg_roles where rolname = $1`,
        [REVOKED_OWNER_ROLE],
      );
      expect(attributes.rows).toEqual([
        { rolcanlogin: false, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false },
      ]);
    });

    it.each(MODES)('revoked_objects = %s: dropping an endpoint never hands its access role’s objects to the admin', async (mode) => {
      const endpoint = `owner-${mode}`;
      const role = accessRoleName(endpoint);
      await syncAccessRole(target, { endpoint, permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['items'] } });
      // Objects the access role came to own (a member with SET ROLE before PostgreSQL 16).
      await su.query(definerFunctions(`ep_${mode}`));
      for (const fn of [`whoami_ep_${mode}()`, `escalate_ep_${mode}()`]) await su.query(`alter function public.${fn} owner to ${ident(role)}`);

      const dropped = await dropAccessRole(withMode(mode), endpoint, { revokeMemberships: true });
      expect(dropped).toMatchObject({ dropped: true });
      expect(await roleExists(role)).toBe(false);
      const whoami = await asBystander(`select public.whoami_ep_${mode}() as who`);
      const escalate = await asBystander(`select public.escalate_ep_${mode}()`);
      expect(await roleExists(`pwned_ep_${mode}`)).toBe(false);
      if (mode === 'drop') {
        expect(await functionState(`whoami_ep_${mode}`)).toBeUndefined();
        expect(whoami).toEqual({ code: '42883' });
      } else {
        expect(await functionState(`whoami_ep_${mode}`)).toEqual({ owner: REVOKED_OWNER_ROLE, definer: false });
        expect(whoami).toEqual({ rows: [{ who: 'bystander' }] });
        expect(escalate).toEqual({ code: '42501' });
      }
    });

    it('on PostgreSQL 16+ a member cannot SET ROLE to the access role or to the marker role, and still has the access role’s privileges', async () => {
      const [cred] = await issueCredentials(target, [
        { member: 'setrole@example.com', endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds: 600 },
      ]);
      const member = await connectAs(cred!);
      const attempt = async (text: string): Promise<string> =>
        member.query(text).then(
          () => 'ok',
          (err: unknown) => String((err as { code?: unknown }).code),
        );
      try {
        expect(await attempt('select * from public.items')).toBe('ok');
        if (binaries.major >= 16) {
          expect(await attempt(`set role ${ident(ACCESS_ROLE)}`)).toBe('42501');
          expect(await attempt(`set role ${ident(MANAGED_ROLE)}`)).toBe('42501');
          const { rows } = await su.query(
            `select pg_get_userbyid(roleid) as role, inherit_option, set_option from pg_auth_members
              where member = (select oid from pg_roles where rolname = $1) order by pg_get_userbyid(roleid)::text collate "C"`,
            [cred!.roleName],
          );
          expect(rows).toEqual([
            { role: ACCESS_ROLE, inherit_option: true, set_option: false },
            { role: MANAGED_ROLE, inherit_option: false, set_option: false },
          ]);
        } else {
          // PostgreSQL 15 has no SET option: every membership allows SET ROLE. What the member
          // creates as the access role is handed over like its own objects when it is dropped.
          expect(await attempt(`set role ${ident(ACCESS_ROLE)}`)).toBe('ok');
        }
      } finally {
        await member.end();
      }
      const result = await revokeCredentials(target, [cred!.roleName], 'test done');
      expect(result.revoked).toEqual([cred!.roleName]);
    });
  });

  describe('a role named adaptive_revoked that is not ours', () => {
    /** A second cluster where the impostors are made (the main one holds our own role). */
    let fresh: LocalCluster;
    let admin: Client;
    let local: TargetDb;

    beforeAll(async () => {
      fresh = await startPostgres(binaries);
      admin = new Client(fresh.clientConfig());
      await admin.connect();
      await admin.query(`create role bystander login; create role ${ident(MANAGED_ROLE)} nologin; create role reader nologin`);
      await admin.query('grant create on schema public to public');
      local = targetDbFor(fresh);
    });
    afterAll(async () => {
      await local?.close();
      await admin?.end();
      await fresh?.stop();
    });

    const ours = `comment on role ${REVOKED_OWNER_ROLE} is '${REVOKED_OWNER_COMMENT.replace(/'/g, "''")}'`;
    const impostors: ReadonlyArray<[string, string, RegExp]> = [
      ['can log in', `create role ${REVOKED_OWNER_ROLE} login; ${ours}`, /can log in/],
      ['has an attribute', `create role ${REVOKED_OWNER_ROLE} nologin createdb; ${ours}`, /CREATEDB/],
      ['has a member', `create role ${REVOKED_OWNER_ROLE} nologin; ${ours}; grant ${REVOKED_OWNER_ROLE} to bystander`, /members?.*"bystander"/],
      ['is a member of another role', `create role ${REVOKED_OWNER_ROLE} nologin; ${ours}; grant pg_read_all_data to ${REVOKED_OWNER_ROLE}`, /pg_read_all_data/],
      ['carries a comment that is not ours', `create role ${REVOKED_OWNER_ROLE} nologin; comment on role ${REVOKED_OWNER_ROLE} is 'made by hand'`, /comment/],
    ];

    it.each(impostors)('is refused when it %s, and given nothing', async (_what, create, problem) => {
      const refused = new RegExp(`${REVOKED_OWNER_ROLE}.*${problem.source}`, 's');
      await admin.query(create);
      try {
        await expect(ensureManagedRole(local)).rejects.toThrow(refused);

        // Revoking a credential that owns something refuses to hand it over: the credential
        // stays disabled, still owning its function, to be retried once the role is fixed.
        const [cred] = await issueCredentials(local, [{ member: 'x@example.com', endpoint: 'e', accessRole: 'reader', ttlSeconds: 600 }]);
        const member = new Client({ ...fresh.clientConfig(), user: cred!.roleName, password: cred!.password });
        await member.connect();
        await member.query('create function public.mine() returns int language sql security definer as $$ select 1 $$');
        await member.end();
        const result = await revokeCredentials(local, [cred!.roleName], 'test');
        expect(result.revoked).toEqual([]);
        expect(result.failed).toEqual([{ role: cred!.roleName, error: expect.stringMatching(refused) as unknown }]);
        const { rows } = await admin.query(`select pg_get_userbyid(proowner) as owner from pg_proc where proname = 'mine'`);
        expect(rows).toEqual([{ owner: cred!.roleName }]);
        // Drop mode needs no inheritor: the credential and its function go.
        expect((await revokeCredentials({ ...local, revokedObjects: 'drop' }, [cred!.roleName], 'test')).revoked).toEqual([cred!.roleName]);
        expect((await admin.query(`select 1 from pg_proc where proname = 'mine'`)).rows).toEqual([]);
      } finally {
        await admin.query(`drop role ${REVOKED_OWNER_ROLE}`);
      }
    });
  });
});
