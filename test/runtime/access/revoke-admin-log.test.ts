/**
 * Revocation does no REASSIGN/DROP OWNED work for a role that owns and holds nothing (the
 * usual credential): with every statement logged, a non-superuser admin revoking and
 * reaping such roles sends only DROP ROLE for them, while a role that created a table in
 * the same batch gets its membership grant and REASSIGN/DROP OWNED, proving the log holds
 * what was sent.
 */
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { accessRoleName, ensureManagedRole, syncAccessRole } from '../../../src/runtime/access/access-role';
import { issueCredentials } from '../../../src/runtime/access/credentials';
import { reapOnce } from '../../../src/runtime/access/reaper';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/pg/sql';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, targetDbFor } from '../../fixtures/target-db';

const ENDPOINT = 'logged';
const ACCESS_ROLE = accessRoleName(ENDPOINT);

/** Every logged statement line that names `role`. */
function linesNaming(log: string, role: string): string[] {
  return log.split('\n').filter((line) => line.includes(ident(role)));
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  it('revokes and reaps roles that own nothing with DROP ROLE alone', async () => {
    const cluster = await startPostgres(binaries, { settings: { log_statement: 'all' } });
    let roles: { owner: string; idle: string; expired: string } | undefined;
    try {
      const admin = await createLoginRole(cluster, 'log_admin', { createRole: true, memberOf: ['pg_signal_backend'] });
      const bootstrap = new Client(cluster.clientConfig());
      await bootstrap.connect();
      await bootstrap.query('create database logdb owner log_admin');
      await bootstrap.end();
      const target = targetDbFor(cluster, 'logdb', admin);
      try {
        await ensureManagedRole(target);
        const setup = await admin.connect('logdb');
        await setup.query('create schema work');
        await syncAccessRole(target, { endpoint: ENDPOINT, permissions: { grants: ['SELECT'], schemas: ['work'], tables: ['*'] } });
        await setup.query(`grant create on schema work to ${ident(ACCESS_ROLE)}`);
        await setup.end();

        const [owner, idle, expired] = await issueCredentials(target, [
          { member: 'owner@example.com', endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds: 3600 },
          { member: 'idle@example.com', endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds: 3600 },
          { member: 'expired@example.com', endpoint: ENDPOINT, accessRole: ACCESS_ROLE, ttlSeconds: 60 },
        ]);
        roles = { owner: owner!.roleName, idle: idle!.roleName, expired: expired!.roleName };
        const member = new Client({ ...cluster.clientConfig('logdb'), user: owner!.roleName, password: owner!.password });
        const ended = new Promise<void>((resolve) => member.on('error', () => resolve()));
        await member.connect();
        await member.query('create table work.owned (id int)');
        // The idle member logs in too: a session alone leaves nothing to clean up.
        const visitor = new Client({ ...cluster.clientConfig('logdb'), user: idle!.roleName, password: idle!.password });
        const visitorEnded = new Promise<void>((resolve) => visitor.on('error', () => resolve()));
        await visitor.connect();

        const revoked = await revokeCredentials(target, [roles.owner, roles.idle], 'removed from group');
        expect(revoked).toEqual({ revoked: [roles.owner, roles.idle], failed: [], skipped: [] });
        await Promise.all([ended, visitorEnded]);
        // Expired by hand (as the superuser): what matters here is what reaping it sends.
        const superuser = new Client(cluster.clientConfig());
        await superuser.connect();
        await superuser.query(`alter role ${ident(roles.expired)} valid until '2001-01-01 00:00:00+00'`);
        await superuser.end();
        const reaped = await reapOnce(target, [roles.owner, roles.idle, roles.expired]);
        expect(reaped.reaped.map((r) => r.role)).toEqual([roles.expired]);
        expect(reaped.failed).toEqual([]);
      } finally {
        await target.close();
      }
    } finally {
      await cluster.stop();
    }

    const log = cluster.readLog();
    const { owner, idle, expired } = roles;
    // The role that owned a table: the admin took on its privileges for REASSIGN/DROP OWNED,
    // handing the table to adaptive_revoked, never to itself.
    const ownerLines = linesNaming(log, owner);
    expect(ownerLines.some((l) => l.includes(`GRANT ${ident(owner)} TO CURRENT_USER`))).toBe(true);
    expect(ownerLines.some((l) => l.includes(`REASSIGN OWNED BY ${ident(owner)} TO "adaptive_revoked"`))).toBe(true);
    expect(ownerLines.some((l) => l.includes(`DROP OWNED BY ${ident(owner)}`))).toBe(true);
    for (const role of [idle, expired]) {
      const lines = linesNaming(log, role);
      // Logged (disabled, dropped), but never named in ownership work or a grant to the admin.
      expect(lines.some((l) => l.includes('NOLOGIN'))).toBe(true);
      expect(lines.some((l) => l.includes('DROP ROLE'))).toBe(true);
      expect(lines.filter((l) => /OWNED BY|TO CURRENT_USER/.test(l))).toEqual([]);
    }
  });
});
