/**
 * Error mapping with real failures: every cause a user can meet when connecting is
 * produced for real (a closed port, an unresolvable name, a server that never answers,
 * wrong passwords, missing databases, exhausted connection limits, TLS that does not
 * verify) and must come back as a ConnectionError with the right cause, a message that
 * names the target and host:port, a fix, and never the password.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type LocalCluster } from '../../../src/localpg';
import { ConnectionError, openTarget, type ConnectionErrorCause } from '../../../src/runtime/connections';
import type { TargetConfig } from '../../../src/runtime/types';
import { createTestPki, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../../fixtures/postgres';

const WRONG_PASSWORD = 'definitely-Wrong-pa55word';
const ROLE_PASSWORD = 'role-Pa55word-for-tests';

async function failure(config: TargetConfig): Promise<ConnectionError> {
  try {
    const target = await openTarget(config);
    await target.close();
  } catch (err) {
    if (err instanceof ConnectionError) return err;
    throw err;
  }
  throw new Error('expected the connection to fail');
}

/** What every ConnectionError must satisfy, whatever its cause. */
function expectWellFormed(err: ConnectionError, config: TargetConfig, cause: ConnectionErrorCause, passwords: readonly string[]): void {
  expect(err.cause).toBe(cause);
  expect(err.message).toContain(`"${config.name}"`);
  expect(err.message).toContain(`${config.host}:${config.port}`);
  expect(err.fix.length).toBeGreaterThan(10);
  const everything = `${err.message}\n${err.fix}\n${err.stack ?? ''}\n${JSON.stringify(err)}`;
  for (const password of passwords) expect(everything).not.toContain(password);
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('failures before any server answers', () => {
  it('refused: a closed port', async () => {
    const port = await freePort();
    const config: TargetConfig = { name: 'closed-port', host: '127.0.0.1', port, database: 'postgres', username: 'admin', password: WRONG_PASSWORD, sslMode: 'prefer' };
    const err = await failure(config);
    expectWellFormed(err, config, 'refused', [WRONG_PASSWORD]);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.fix).toContain('listen_addresses');
    // prefer does not retry in plain when nothing answered at all (libpq neither).
    expect(err.attempts).toHaveLength(1);
  });

  it('dns: a host name that does not resolve', async () => {
    const config: TargetConfig = { name: 'typo-host', host: 'db.nosuch.invalid', port: 5432, database: 'postgres', username: 'admin', password: WRONG_PASSWORD, sslMode: 'require' };
    const err = await failure(config);
    expectWellFormed(err, config, 'dns', [WRONG_PASSWORD]);
    expect(err.message).toContain('"db.nosuch.invalid" could not be resolved');
  });

  it('timeout: a server that accepts and never answers', async () => {
    const silent = await silentServer();
    try {
      const config: TargetConfig = {
        name: 'black-hole',
        host: '127.0.0.1',
        port: silent.port,
        database: 'postgres',
        username: 'admin',
        password: WRONG_PASSWORD,
        sslMode: 'prefer',
        connectTimeoutSeconds: 2,
      };
      const started = Date.now();
      const err = await failure(config);
      expectWellFormed(err, config, 'timeout', [WRONG_PASSWORD]);
      expect(err.message).toContain('within 2 s');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      // A timeout is final: no plain retry after prefer's TLS attempt (as in libpq).
      expect(err.attempts).toHaveLength(1);
      expect(silent.accepted()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('libpq treats a connect timeout of 1 s as 2 s', async () => {
    const silent = await silentServer();
    try {
      const config: TargetConfig = { name: 'short', host: '127.0.0.1', port: silent.port, database: 'postgres', username: 'a', password: 'x', sslMode: 'disable', connectTimeoutSeconds: 1 };
      const err = await failure(config);
      expect(err.cause).toBe('timeout');
      expect(err.message).toContain('within 2 s');
    } finally {
      await silent.close();
    }
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let plain: LocalCluster;
  let tlsOnly: LocalCluster;
  let wrongHost: LocalCluster;
  let clientCert: LocalCluster;
  let expired: LocalCluster;

  beforeAll(async () => {
    pki = await createTestPki();
    const expiredCert = await pki.ca.issue({
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notBefore: new Date(Date.now() - 60 * 86_400_000),
      notAfter: new Date(Date.now() - 30 * 86_400_000),
    });
    [plain, tlsOnly, wrongHost, clientCert, expired] = await Promise.all([
      startPostgres(binaries),
      startTlsPostgres(binaries, { pki, hba: 'tls-only' }),
      startTlsPostgres(binaries, { pki, hba: 'tls-optional', serverCert: 'wrong-host' }),
      startTlsPostgres(binaries, { pki, hba: 'client-cert' }),
      startPostgres(binaries, {
        files: {
          'server.crt': { content: expiredCert.certPem, mode: 0o644 },
          'server.key': { content: expiredCert.keyPem, mode: 0o600 },
        },
        settings: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
      }),
    ]);
    const admin = new pg.Client(plain.clientConfig());
    await admin.connect();
    try {
      await admin.query(`create role limited login password '${ROLE_PASSWORD}' connection limit 0`);
      await admin.query(`create role outsider login password '${ROLE_PASSWORD}'`);
      await admin.query(`create role no_login nologin password '${ROLE_PASSWORD}'`);
      await admin.query('create database locked');
      await admin.query('revoke connect on database locked from public');
    } finally {
      await admin.end();
    }
  });

  afterAll(async () => {
    await Promise.all([plain, tlsOnly, wrongHost, clientCert, expired].map((c) => c?.stop()));
  });

  const on = (cluster: LocalCluster, extra: Partial<TargetConfig> = {}): TargetConfig => ({
    name: 'orders-db',
    host: cluster.host,
    port: cluster.port,
    database: 'postgres',
    username: cluster.user,
    password: cluster.password,
    sslMode: 'prefer',
    ...extra,
  });

  it('auth_failed: wrong password, never repeated in the error', async () => {
    const config = on(plain, { password: WRONG_PASSWORD, sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'auth_failed', [WRONG_PASSWORD, plain.password]);
    expect(err.code).toBe('28P01');
    expect(err.message).toContain('authentication failed for user "postgres"');
  });

  it('auth_failed: allow retries with TLS after a refused password, like libpq, and reports both attempts', async () => {
    const config = on(wrongHost, { password: WRONG_PASSWORD, sslMode: 'allow' });
    const err = await failure(config);
    expectWellFormed(err, config, 'auth_failed', [WRONG_PASSWORD]);
    expect(err.attempts.map((a) => [a.tls, a.cause])).toEqual([
      [false, 'auth_failed'],
      [true, 'auth_failed'],
    ]);
    expect(err.message).toMatch(/tried without TLS: .*; then with TLS: /);
  });

  it('auth_failed: a role that may not log in, with the ALTER ROLE fix', async () => {
    const config = on(plain, { username: 'no_login', password: ROLE_PASSWORD, sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'auth_failed', [ROLE_PASSWORD]);
    expect(err.fix).toBe('ALTER ROLE "no_login" LOGIN;');
  });

  it('database_missing', async () => {
    const config = on(plain, { database: 'ordres', sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'database_missing', [plain.password]);
    expect(err.code).toBe('3D000');
    expect(err.message).toContain('database "ordres" does not exist');
    expect(err.fix).toContain('CREATE DATABASE "ordres";');
  });

  it('database_missing through connect(database) of an open target', async () => {
    const target = await openTarget(on(plain, { sslMode: 'disable' }));
    try {
      const err = await target.connect('nope').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).cause).toBe('database_missing');
      expect((err as ConnectionError).database).toBe('nope');
    } finally {
      await target.close();
    }
  });

  it('permission_denied: no CONNECT privilege, with the GRANT that fixes it', async () => {
    const config = on(plain, { username: 'outsider', password: ROLE_PASSWORD, database: 'locked', sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'permission_denied', [ROLE_PASSWORD]);
    expect(err.code).toBe('42501');
    expect(err.fix).toBe('GRANT CONNECT ON DATABASE "locked" TO "outsider";');
  });

  it('too_many_connections: a role at its connection limit', async () => {
    const config = on(plain, { username: 'limited', password: ROLE_PASSWORD, sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'too_many_connections', [ROLE_PASSWORD]);
    expect(err.code).toBe('53300');
    expect(err.fix).toContain('max_connections');
  });

  it('too_many_connections: a server with every slot taken', async () => {
    const small = await startPostgres(binaries, { settings: { max_connections: '3', superuser_reserved_connections: '0' } });
    const held: pg.Client[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = new pg.Client(small.clientConfig());
        await c.connect();
        held.push(c);
      }
      const config = on(small, { sslMode: 'disable' });
      const err = await failure(config);
      expectWellFormed(err, config, 'too_many_connections', [small.password]);
    } finally {
      await Promise.all(held.map((c) => c.end()));
      await small.stop();
    }
  });

  it('ssl_required: sslmode disable against a server that accepts only TLS', async () => {
    const config = on(tlsOnly, { sslMode: 'disable' });
    const err = await failure(config);
    expectWellFormed(err, config, 'ssl_required', [tlsOnly.password]);
    expect(err.fix).toContain('"require"');
  });

  it('ssl_unsupported: sslmode require against a server without TLS', async () => {
    const config = on(plain, { sslMode: 'require' });
    const err = await failure(config);
    expectWellFormed(err, config, 'ssl_unsupported', [plain.password]);
    expect(err.fix).toContain('ssl = on');
  });

  it('tls_verify: a certificate from another CA', async () => {
    const config = on(tlsOnly, { sslMode: 'verify-ca', tlsRootCert: pki.otherCa.certPem });
    const err = await failure(config);
    expectWellFormed(err, config, 'tls_verify', [tlsOnly.password]);
    // Which of the two depends on whether the server sends its CA along (OpenSSL adds it
    // from ssl_ca_file when it builds the chain).
    expect(['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(err.code);
    expect(err.message).toContain('does not chain to tls_root_cert');
    expect(err.fix).toContain('tls_root_cert');
  });

  it('tls_verify: a host name the certificate does not name', async () => {
    const config = on(wrongHost, { host: 'localhost', sslMode: 'verify-full', tlsRootCert: pki.ca.certPem });
    const err = await failure(config);
    expectWellFormed(err, config, 'tls_verify', [wrongHost.password]);
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(err.message).toContain('not valid for the name "localhost"');
  });

  it('tls_verify: an expired server certificate', async () => {
    const config = on(expired, { sslMode: 'verify-ca', tlsRootCert: pki.ca.certPem });
    const err = await failure(config);
    expectWellFormed(err, config, 'tls_verify', [expired.password]);
    expect(err.code).toBe('CERT_HAS_EXPIRED');
    expect(err.message).toContain('has expired');
  });

  it('tls_verify: no tls_root_cert means the system trust store, which does not know a private CA', async () => {
    const config = on(tlsOnly, { sslMode: 'verify-full' });
    const err = await failure(config);
    expectWellFormed(err, config, 'tls_verify', [tlsOnly.password]);
    expect(err.message).toContain('system trust store');
  });

  it('client_cert_required: none given, and one from another CA', async () => {
    const none = on(clientCert, { sslMode: 'verify-full', tlsRootCert: pki.ca.certPem });
    const errNone = await failure(none);
    expectWellFormed(errNone, none, 'client_cert_required', [clientCert.password]);
    expect(errNone.message).toContain('requires a client certificate');

    const foreign = await pki.clientCert('postgres', pki.otherCa);
    const withForeign = on(clientCert, { sslMode: 'verify-full', tlsRootCert: pki.ca.certPem, tlsClientCert: foreign.certPem, tlsClientKey: foreign.keyPem });
    const errForeign = await failure(withForeign);
    expectWellFormed(errForeign, withForeign, 'client_cert_required', [clientCert.password, foreign.keyPem]);
    expect(errForeign.message).toContain('did not accept the client certificate');
  });
});
