/**
 * Preflight with a real non-superuser admin: what is missing is reported with the SQL
 * that grants it, and once CREATEROLE and pg_signal_backend are granted nothing is. On
 * PostgreSQL 16+ existing roles the admin must manage need ADMIN OPTION.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ConnectionError, PreflightError, assertPreflight, openTarget, preflight, requireAdminPrivileges, type OpenTarget } from '../../../src/runtime/connections';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';

const PASSWORD = 'preflight-Admin-pw-41';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let superuser: pg.Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    superuser = new pg.Client(cluster.clientConfig());
    await superuser.connect();
  });
  afterAll(async () => {
    await superuser?.end();
    await cluster?.stop();
  });

  async function open(user: string): Promise<OpenTarget> {
    return openTarget({ name: 'preflight-target', host: cluster.host, port: cluster.port, database: 'postgres', username: user, password: PASSWORD, sslMode: 'disable' });
  }

  async function withTarget<T>(user: string, fn: (t: OpenTarget) => Promise<T>): Promise<T> {
    const target = await open(user);
    try {
      return await fn(target);
    } finally {
      await target.close();
    }
  }

  it('a superuser has everything', async () => {
    const target = await openTarget({ name: 'su', host: cluster.host, port: cluster.port, database: 'postgres', username: cluster.user, password: cluster.password, sslMode: 'disable' });
    try {
      const report = await requireAdminPrivileges(target);
      expect(report).toMatchObject({ superuser: true, canSignalBackends: true, canConnect: true, major: binaries.major, missing: [] });
      expect(report.serverVersionNum).toBeGreaterThanOrEqual(binaries.major * 10000);
    } finally {
      await target.close();
    }
  });

  it('a plain login role lacks CREATEROLE and pg_signal_backend, with the SQL to fix each', async () => {
    await superuser.query(`create role plain_admin login password '${PASSWORD}'`);
    const report = await withTarget('plain_admin', (t) => preflight(t));
    expect(report).toMatchObject({ user: 'plain_admin', superuser: false, createRole: false, canSignalBackends: false, canConnect: true, major: binaries.major });
    expect(report.missing.map((m) => m.fix)).toEqual(['ALTER ROLE "plain_admin" CREATEROLE;', 'GRANT pg_signal_backend TO "plain_admin";']);
    expect(report.missing[0]?.what).toContain('CREATEROLE');

    let thrown: unknown;
    try {
      assertPreflight('preflight-target', report);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PreflightError);
    expect((thrown as PreflightError).message).toContain('ALTER ROLE "plain_admin" CREATEROLE;');
    expect((thrown as PreflightError).message).toContain('GRANT pg_signal_backend TO "plain_admin";');
    expect((thrown as PreflightError).missing).toHaveLength(2);
  });

  it('CREATEROLE alone still misses pg_signal_backend', async () => {
    await superuser.query(`create role half_admin login createrole password '${PASSWORD}'`);
    const report = await withTarget('half_admin', (t) => preflight(t));
    expect(report.createRole).toBe(true);
    expect(report.missing.map((m) => m.fix)).toEqual(['GRANT pg_signal_backend TO "half_admin";']);
  });

  it('CREATEROLE and pg_signal_backend: nothing missing, and the admin really can do the job', async () => {
    await superuser.query(`create role "full admin" login createrole password '${PASSWORD}'`);
    await superuser.query('grant pg_signal_backend to "full admin"');
    await withTarget('full admin', async (target) => {
      const report = await requireAdminPrivileges(target);
      expect(report).toMatchObject({ superuser: false, createRole: true, canSignalBackends: true, missing: [] });

      // What the checks stand for: create a login role, grant it, end its session, drop it.
      await target.pool.query("create role pf_member login password 'member-pw-1234'");
      await target.pool.query('create role pf_access nologin');
      await target.pool.query('grant pf_access to pf_member');
      const member = new pg.Client({ host: cluster.host, port: cluster.port, database: 'postgres', user: 'pf_member', password: 'member-pw-1234' });
      await member.connect();
      member.on('error', () => undefined);
      const ended = new Promise<void>((resolve) => member.once('end', () => resolve()));
      const { rows } = await target.pool.query<{ ok: boolean }>(
        "select pg_terminate_backend(pid) as ok from pg_stat_activity where usename = 'pf_member'",
      );
      expect(rows.map((r) => r.ok)).toEqual([true]);
      await ended;
      await target.pool.query('drop role pf_member');
      await target.pool.query('drop role pf_access');
    });
  });

  it('reports a missing CONNECT privilege', async () => {
    await superuser.query('create database pf_locked');
    await superuser.query(`create role locked_admin login createrole password '${PASSWORD}'`);
    await superuser.query('grant pg_signal_backend to locked_admin');
    const target = await openTarget({ name: 'locked', host: cluster.host, port: cluster.port, database: 'pf_locked', username: 'locked_admin', password: PASSWORD, sslMode: 'disable' });
    try {
      // Revoked while the pool holds an idle connection, which preflight then reuses: it
      // reads the privilege, not the fact that it connected.
      (await target.pool.connect()).release();
      await superuser.query('revoke connect on database pf_locked from public');
      const report = await preflight(target);
      expect(report.canConnect).toBe(false);
      expect(report.missing.map((m) => m.fix)).toEqual(['GRANT CONNECT ON DATABASE "pf_locked" TO "locked_admin";']);

      // A new pooled connection (the idle one is taken) now fails, mapped like every
      // connection of the target.
      const held = await target.pool.connect();
      const fresh = await target.pool.connect().then(
        (c) => {
          c.release();
          return undefined;
        },
        (e: unknown) => e,
      );
      held.release();
      expect(fresh).toBeInstanceOf(ConnectionError);
      expect((fresh as ConnectionError).cause).toBe('permission_denied');
      expect((fresh as ConnectionError).fix).toBe('GRANT CONNECT ON DATABASE "pf_locked" TO "locked_admin";');
    } finally {
      await target.close();
    }
  });

  it('existing roles to manage: ADMIN OPTION is needed on PostgreSQL 16 and later only', async () => {
    await superuser.query('create role adaptive_shared nologin');
    await superuser.query(`create role mgr_admin login createrole password '${PASSWORD}'`);
    await superuser.query('grant pg_signal_backend to mgr_admin');
    const before = await withTarget('mgr_admin', (t) => preflight(t, { manageRoles: ['adaptive_shared', 'not_created_yet'] }));
    if (binaries.major >= 16) {
      expect(before.missing.map((m) => m.fix)).toEqual(['GRANT "adaptive_shared" TO "mgr_admin" WITH ADMIN OPTION;']);
      await superuser.query('grant adaptive_shared to mgr_admin with admin option');
      const after = await withTarget('mgr_admin', (t) => preflight(t, { manageRoles: ['adaptive_shared'] }));
      expect(after.missing).toEqual([]);
    } else {
      // Before 16, CREATEROLE manages every non-superuser role.
      expect(before.missing).toEqual([]);
    }
  });
});
