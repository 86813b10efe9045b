/**
 * Passwords never reach PostgreSQL's logs: with every statement, connection and duration
 * logged, issuing, re-issuing, extending and revoking credentials (and members logging in
 * with them) leaves no generated password in the server log, while the role names are
 * there, proving the statements were logged.
 */
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { extendCredentials, issueCredentials, type IssuedCredential } from '../../../src/runtime/access/credentials';
import { MANAGED_ROLE } from '../../../src/runtime/pg/roles';
import { revokeCredentials } from '../../../src/runtime/access/revoke';
import { ident } from '../../../src/runtime/pg/sql';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { targetDbFor } from '../../fixtures/target-db';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  it('keeps generated passwords out of the statement log', async () => {
    const cluster = await startPostgres(binaries, {
      settings: { log_statement: 'all', log_min_duration_statement: '0', log_connections: 'on', log_min_error_statement: 'info' },
    });
    const target = targetDbFor(cluster);
    const issued: IssuedCredential[] = [];
    try {
      const admin = new Client(cluster.clientConfig());
      await admin.connect();
      await admin.query(`create role ${ident(MANAGED_ROLE)} nologin; create role logged_access nologin;`);
      await admin.end();

      const requests = Array.from({ length: 20 }, (_, i) => ({
        member: `logged-${i}@example.com`,
        endpoint: 'logged-endpoint',
        accessRole: 'logged_access',
        ttlSeconds: 3600,
      }));
      issued.push(...(await issueCredentials(target, requests)));
      // Re-issue half of them (ALTER ROLE ... PASSWORD path).
      issued.push(...(await issueCredentials(target, requests.slice(0, 10))));
      const extended = await extendCredentials(target, issued.slice(0, 5).map((c) => c.roleName), new Date(issued[0]!.validUntil.getTime() + 3600_000));
      expect(extended.extended).toHaveLength(5);
      for (const cred of issued.slice(20, 25)) {
        const member = new Client({ ...cluster.clientConfig(), user: cred.roleName, password: cred.password });
        await member.connect();
        await member.query('select 1');
        await member.end();
      }
      const revoked = await revokeCredentials(target, issued.slice(25, 30).map((c) => c.roleName), 'test');
      expect(revoked.failed).toEqual([]);
    } finally {
      await target.close();
      await cluster.stop();
    }

    const log = cluster.readLog();
    expect(issued).toHaveLength(30);
    for (const cred of issued) {
      expect(log).toContain(cred.roleName);
      expect(log.includes(cred.password)).toBe(false);
    }
    // What the server saw instead: verifiers.
    expect(log).toContain("PASSWORD 'SCRAM-SHA-256$4096:");
    expect(log).toMatch(/connection authorized: user=logged-\d@example\.com\/logged-endpoint/);
  });
});
