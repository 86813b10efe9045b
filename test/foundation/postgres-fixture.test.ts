/**
 * The throwaway-cluster fixture itself: every tested PostgreSQL major really starts,
 * accepts password logins on loopback, runs SQL, and leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { eachPostgres, startPostgres, testedPostgres } from '../fixtures/postgres';

it('finds at least one PostgreSQL build to test against', () => {
  expect(testedPostgres().length).toBeGreaterThan(0);
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startPostgres(binaries);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('runs the expected major version on a loopback port', async () => {
    const client = new Client(cluster.clientConfig());
    await client.connect();
    try {
      const { rows } = await client.query<{ num: string; addr: string }>(
        "select current_setting('server_version_num') as num, inet_server_addr()::text as addr",
      );
      expect(Math.floor(Number(rows[0]!.num) / 10000)).toBe(binaries.major);
      expect(rows[0]!.addr).toBe('127.0.0.1/32');
    } finally {
      await client.end();
    }
  });

  it('stores and reads back real rows', async () => {
    const client = new Client(cluster.clientConfig());
    await client.connect();
    try {
      await client.query('create table fixture_probe (id serial primary key, name text not null)');
      await client.query("insert into fixture_probe (name) values ('alpha'), ('beta')");
      const { rows } = await client.query<{ name: string }>('select name from fixture_probe order by id');
      expect(rows.map((r) => r.name)).toEqual(['alpha', 'beta']);
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password (scram-sha-256 is enforced)', async () => {
    const client = new Client({ ...cluster.clientConfig(), password: 'not-the-password' });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('runs clusters side by side and removes a stopped one completely', async () => {
    const second = await startPostgres(binaries);
    expect(second.port).not.toBe(cluster.port);
    const client = new Client(second.clientConfig());
    await client.connect();
    await client.end();
    await second.stop();
    expect(existsSync(second.dataDir)).toBe(false);
    const after = new Client({ ...second.clientConfig(), connectionTimeoutMillis: 5000 });
    await expect(after.connect()).rejects.toThrow(/ECONNREFUSED/);
  });

  it('records statements in a server log the tests can read', async () => {
    const logged = await startPostgres(binaries, { settings: { log_statement: 'all' } });
    try {
      const client = new Client(logged.clientConfig());
      await client.connect();
      await client.query("select 'fixture-log-marker'");
      await client.end();
    } finally {
      await logged.stop();
    }
    expect(logged.readLog()).toContain("select 'fixture-log-marker'");
  });
});
