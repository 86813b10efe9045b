/**
 * openTarget and testConnection: the pool is sized by max_connections, keeps
 * min_connections, carries application_name, reuses the TLS decision made by the first
 * connection for every pooled connection and for connect(database), and "Test Connection"
 * reports the server version and the effective TLS state.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { openTarget, testConnection, DEFAULT_APPLICATION_NAME } from '../../../src/runtime/connections';
import { ValidationError, type TargetConfig } from '../../../src/runtime/types';
import { createTestPki, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startTlsPostgres } from '../../fixtures/postgres';

const SSL_QUERY = 'select coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let tlsOnly: LocalCluster;

  beforeAll(async () => {
    pki = await createTestPki();
    tlsOnly = await startTlsPostgres(binaries, { pki, hba: 'tls-only' });
    const admin = new pg.Client({ ...tlsOnly.clientConfig(), ssl: { ca: pki.ca.certPem } });
    await admin.connect();
    await admin.query('create database other');
    await admin.end();
  });
  afterAll(async () => tlsOnly?.stop());

  const config = (extra: Partial<TargetConfig> = {}): TargetConfig => ({
    name: 'pool-target',
    host: tlsOnly.host,
    port: tlsOnly.port,
    database: 'postgres',
    username: tlsOnly.user,
    password: tlsOnly.password,
    sslMode: 'verify-full',
    tlsRootCert: pki.ca.certPem,
    ...extra,
  });
  /** The same target without tls_root_cert. */
  const withoutCa = (extra: Partial<TargetConfig>): TargetConfig => {
    const { tlsRootCert: _omitted, ...rest } = config(extra);
    return rest;
  };

  it('sizes the pool by max_connections: the next checkout waits for a release', async () => {
    const target = await openTarget(config({ maxConnections: 2, minConnections: 1 }));
    try {
      const a = await target.pool.connect();
      const b = await target.pool.connect();
      const third = target.pool.connect();
      expect(target.pool.totalCount).toBe(2);
      expect(target.pool.waitingCount).toBe(1);
      a.release();
      const c = await third;
      expect(target.pool.totalCount).toBe(2);
      b.release();
      c.release();
      expect(target.pool.options.min).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('defaults to a pool of 10 and application_name adaptive-access; both configurable', async () => {
    const plainDefaults = await openTarget(config());
    try {
      expect(plainDefaults.pool.options.max).toBe(10);
      const { rows } = await plainDefaults.pool.query<{ name: string }>("select current_setting('application_name') as name");
      expect(rows[0]?.name).toBe(DEFAULT_APPLICATION_NAME);
    } finally {
      await plainDefaults.close();
    }
    const custom = await openTarget(config({ applicationName: 'adaptive-reaper', maxConnections: 3 }));
    try {
      expect(custom.pool.options.max).toBe(3);
      const { rows } = await custom.pool.query<{ name: string }>("select current_setting('application_name') as name");
      expect(rows[0]?.name).toBe('adaptive-reaper');
    } finally {
      await custom.close();
    }
  });

  it('decides TLS once: allow against a TLS-only server uses TLS for the pool and connect(database)', async () => {
    const target = await openTarget(withoutCa({ sslMode: 'allow' }));
    try {
      expect(target.tls).toBe(true);
      expect(target.attempt).toEqual({ tls: true, verify: 'none' });
      const pooled = await target.pool.query<{ ssl: boolean }>(SSL_QUERY);
      expect(pooled.rows[0]?.ssl).toBe(true);
      const other = await target.connect('other');
      try {
        const { rows } = await other.query<{ db: string; ssl: boolean }>(`select current_database() as db, (${SSL_QUERY}) as ssl`);
        expect(rows[0]).toEqual({ db: 'other', ssl: true });
      } finally {
        await other.end();
      }
    } finally {
      await target.close();
    }
  });

  it('close() is idempotent', async () => {
    const target = await openTarget(config());
    await target.close();
    await target.close();
    expect(target.pool.ending).toBe(true);
  });

  it('testConnection reports server version and the TLS state', async () => {
    const check = await testConnection(config());
    expect(check.major).toBe(binaries.major);
    expect(check.serverVersion).toMatch(new RegExp(`^${binaries.major}\\.`));
    expect(check.serverVersionNum).toBeGreaterThanOrEqual(binaries.major * 10000);
    expect(check.tls).toMatchObject({ used: true, verified: 'chain-and-hostname', serverName: '127.0.0.1' });
    expect(check.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(check.tls.cipher).toBeTruthy();
    expect(check.tls.serverCertificate?.issuer).toContain('Adaptive Test CA');
    expect(check.summary).toBe('verify-full: TLS (chain and host name verified)');

    const unverified = await testConnection(withoutCa({ sslMode: 'require' }));
    expect(unverified.tls).toMatchObject({ used: true, verified: 'none' });
    expect(unverified.summary).toBe('require: TLS (certificate not verified)');

    const viaAllow = await testConnection(withoutCa({ sslMode: 'allow' }));
    expect(viaAllow.failedAttempts.map((a) => [a.tls, a.cause])).toEqual([[false, 'ssl_required']]);
    expect(viaAllow.tls.used).toBe(true);
  });

  it('rejects bad settings before connecting, naming the fields', async () => {
    const err = await openTarget(config({ maxConnections: 0, minConnections: 3, tlsClientKey: 'x' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.field).sort()).toEqual(['max_connections', 'min_connections', 'tls_cert_file']);
  });
});
