/**
 * libpq's sslmode semantics, checked against libpq itself: every sslmode against servers
 * without TLS, with TLS and the right or a wrong host name in their certificate, demanding
 * TLS, and demanding a client certificate, with no root certificate, the right CA or
 * another CA, and with or without a client certificate. For each combination `psql` runs
 * with the same settings, and our connection must end the same way: connected or not,
 * and with TLS or without. A few rows are also asserted outright, so the expectations are
 * readable here and not only "whatever psql did".
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ConnectionError, openTarget, testConnection, type ConnectionErrorCause } from '../../../src/runtime/connections';
import { SSL_MODES, ValidationError, type SslMode, type TargetConfig } from '../../../src/runtime/types';
import { createTestPki, type KeyPairPem, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../../fixtures/postgres';

const SERVERS = ['plain', 'tls-optional', 'wrong-host', 'tls-only', 'client-cert'] as const;
type ServerKind = (typeof SERVERS)[number];
const CAS = ['none', 'right', 'other'] as const;
type CaChoice = (typeof CAS)[number];

/** No client certificate, one from the server's CA, or one from another CA. */
type ClientCertChoice = 'none' | 'right' | 'foreign';

interface Row {
  readonly server: ServerKind;
  readonly mode: SslMode;
  readonly ca: CaChoice;
  readonly clientCert: ClientCertChoice;
}

/** How a connection ended: what libpq and we must agree on. */
type Outcome = { readonly connected: false } | { readonly connected: true; readonly ssl: boolean };

/** Which client certificates each server is tried with. */
const CLIENT_CERTS: Record<ServerKind, readonly ClientCertChoice[]> = {
  plain: ['none'],
  'tls-optional': ['none', 'foreign'],
  'wrong-host': ['none'],
  'tls-only': ['none'],
  'client-cert': ['none', 'right', 'foreign'],
};

const ROWS: Row[] = SERVERS.flatMap((server) =>
  SSL_MODES.flatMap((mode) => CAS.flatMap((ca) => CLIENT_CERTS[server].map((clientCert) => ({ server, mode, ca, clientCert })))),
);

const SSL_QUERY = 'select coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl';

/** A libpq conninfo value, quoted. */
function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Runs psql (libpq) and reports how the connection ended; for a failure also how many
 * connection attempts failed (psql prints one "connection to server ... failed" each).
 */
function psqlOutcome(settings: Record<string, string>, password: string): Promise<{ outcome: Outcome; failedAttempts: number }> {
  const conninfo = Object.entries(settings)
    .map(([k, v]) => `${k}=${conninfoValue(v)}`)
    .join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'psql',
      [conninfo, '-XAtq', '-c', SSL_QUERY],
      // A clean environment: no PG* variables or ~/.postgresql files of the machine leak in.
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: password, PGCONNECT_TIMEOUT: '10', LC_ALL: 'C' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ outcome: { connected: true, ssl: stdout.trim() === 't' }, failedAttempts: 0 });
        // psql exits 2 when the connection fails; anything else is a broken test.
        if ((err as { code?: unknown }).code === 2) {
          return resolve({ outcome: { connected: false }, failedAttempts: stderr.split('connection to server at').length - 1 });
        }
        reject(new Error(`psql failed unexpectedly: ${err.message}\n${stderr}`));
      },
    );
  });
}

/** Whether libpq refuses the settings themselves: verify-ca without a root certificate (sslrootcert=system is verify-full only). */
function refusedSettings(row: { readonly mode: SslMode; readonly ca: CaChoice }): boolean {
  return row.mode === 'verify-ca' && row.ca === 'none';
}

/**
 * Connects through openTarget and reports how the connection ended, and the error; settings
 * refused before any attempt come back as `refused`.
 */
async function ourOutcome(config: TargetConfig): Promise<{ outcome: Outcome; cause?: ConnectionErrorCause; error?: ConnectionError; refused?: ValidationError }> {
  let target;
  try {
    target = await openTarget(config);
  } catch (err) {
    if (err instanceof ConnectionError) return { outcome: { connected: false }, cause: err.cause, error: err };
    if (err instanceof ValidationError) return { outcome: { connected: false }, refused: err };
    throw err;
  }
  try {
    const { rows } = await target.pool.query<{ ssl: boolean }>(SSL_QUERY);
    return { outcome: { connected: true, ssl: rows[0]!.ssl } };
  } finally {
    await target.close();
  }
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let dir: string;
  let client: KeyPairPem;
  let foreign: KeyPairPem;
  const files: Record<string, string> = {};
  const servers = {} as Record<ServerKind, LocalCluster>;

  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    // libpq refuses a private key readable by others.
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };

  beforeAll(async () => {
    pki = await createTestPki();
    client = await pki.clientCert('postgres');
    foreign = await pki.clientCert('postgres', pki.otherCa);
    dir = mkdtempSync(path.join(os.tmpdir(), 'adaptive-tls-matrix-'));
    files.right = write('right-ca.crt', pki.ca.certPem);
    files.other = write('other-ca.crt', pki.otherCa.certPem);
    files.cert = write('client.crt', client.certPem);
    files.key = write('client.key', client.keyPem);
    files.foreignCert = write('foreign.crt', foreign.certPem);
    files.foreignKey = write('foreign.key', foreign.keyPem);
    // A path that does not exist: libpq then has no root certificate (and no client
    // certificate), whatever the home directory holds.
    files.none = path.join(dir, 'absent.pem');
    const [plain, optional, wrongHost, only, clientCert] = await Promise.all([
      startPostgres(binaries),
      startTlsPostgres(binaries, { pki, hba: 'tls-optional' }),
      startTlsPostgres(binaries, { pki, hba: 'tls-optional', serverCert: 'wrong-host' }),
      startTlsPostgres(binaries, { pki, hba: 'tls-only' }),
      startTlsPostgres(binaries, { pki, hba: 'client-cert' }),
    ]);
    Object.assign(servers, { plain, 'tls-optional': optional, 'wrong-host': wrongHost, 'tls-only': only, 'client-cert': clientCert });
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function configFor(row: Row, name = 'matrix'): TargetConfig {
    const cluster = servers[row.server];
    return {
      name,
      host: cluster.host,
      port: cluster.port,
      database: 'postgres',
      username: cluster.user,
      password: cluster.password,
      sslMode: row.mode,
      ...(row.ca === 'right' ? { tlsRootCert: pki.ca.certPem } : row.ca === 'other' ? { tlsRootCert: pki.otherCa.certPem } : {}),
      ...(row.clientCert === 'right' ? { tlsClientCert: client.certPem, tlsClientKey: client.keyPem } : {}),
      ...(row.clientCert === 'foreign' ? { tlsClientCert: foreign.certPem, tlsClientKey: foreign.keyPem } : {}),
    };
  }

  function psqlFor(row: Row): Promise<{ outcome: Outcome; failedAttempts: number }> {
    const cluster = servers[row.server];
    return psqlOutcome(
      {
        host: cluster.host,
        port: String(cluster.port),
        dbname: 'postgres',
        user: cluster.user,
        sslmode: row.mode,
        sslrootcert: files[row.ca]!,
        sslcert: { none: files.none!, right: files.cert!, foreign: files.foreignCert! }[row.clientCert],
        sslkey: { none: files.none!, right: files.key!, foreign: files.foreignKey! }[row.clientCert],
      },
      cluster.password,
    );
  }

  it.each(ROWS)('$server server, sslmode=$mode, CA $ca, client cert $clientCert: same outcome as libpq', async (row) => {
    const libpq = await psqlFor(row);
    const ours = await ourOutcome(configFor(row));
    expect(ours.outcome).toEqual(libpq.outcome);
    // libpq fails these on whatever the server does; we refuse them before connecting.
    expect(ours.refused?.issues.map((i) => i.field)).toEqual(refusedSettings(row) ? ['ssl_mode'] : undefined);
    if (ours.error) {
      // The same attempts failed. Where the server answers "no TLS" to allow or prefer,
      // libpq carries on in plain on the same connection and reports one failure, while
      // node-postgres needs a new connection: that refusal is not a failure of its own.
      const continued = (row.mode === 'allow' || row.mode === 'prefer');
      const ourFailures = ours.error.attempts.filter((a) => !(continued && a.cause === 'ssl_unsupported'));
      expect(ourFailures.length).toBe(libpq.failedAttempts);
    }
  });

  // A wrong password: libpq retries allow and prefer after a rejection before
  // authentication, so the number of failed attempts shows the retry rules at work.
  const WRONG_PASSWORD_ROWS: Row[] = (['plain', 'tls-optional', 'tls-only'] as const).flatMap((server) =>
    SSL_MODES.map((mode) => ({ server, mode, ca: 'none' as const, clientCert: 'none' as const })),
  );

  it.each(WRONG_PASSWORD_ROWS)('$server server, sslmode=$mode, wrong password: the same attempts fail as in libpq', async (row) => {
    const cluster = servers[row.server];
    const wrong = 'not-the-password-0';
    const libpq = await psqlOutcome(
      { host: cluster.host, port: String(cluster.port), dbname: 'postgres', user: cluster.user, sslmode: row.mode, sslrootcert: files.none!, sslcert: files.none!, sslkey: files.none! },
      wrong,
    );
    const ours = await ourOutcome({ ...configFor(row), password: wrong });
    expect(ours.outcome).toEqual(libpq.outcome);
    if (refusedSettings(row)) {
      // Refused before any attempt, so no attempts to compare.
      expect(ours.refused?.issues.map((i) => i.field)).toEqual(['ssl_mode']);
      return;
    }
    const continued = row.mode === 'allow' || row.mode === 'prefer';
    expect(ours.error?.attempts.filter((a) => !(continued && a.cause === 'ssl_unsupported')).length).toBe(libpq.failedAttempts);
  });

  // The rows that show what node-postgres alone gets wrong, asserted outright.
  const KEY_ROWS: Array<[Row, Outcome, ConnectionErrorCause?]> = [
    [{ server: 'tls-only', mode: 'disable', ca: 'none', clientCert: 'none' }, { connected: false }, 'ssl_required'],
    [{ server: 'tls-only', mode: 'allow', ca: 'none', clientCert: 'none' }, { connected: true, ssl: true }],
    [{ server: 'tls-optional', mode: 'allow', ca: 'none', clientCert: 'none' }, { connected: true, ssl: false }],
    [{ server: 'plain', mode: 'prefer', ca: 'none', clientCert: 'none' }, { connected: true, ssl: false }],
    [{ server: 'tls-optional', mode: 'prefer', ca: 'none', clientCert: 'none' }, { connected: true, ssl: true }],
    // A root certificate makes libpq verify the chain in prefer too; failure falls back to plain.
    [{ server: 'tls-optional', mode: 'prefer', ca: 'other', clientCert: 'none' }, { connected: true, ssl: false }],
    [{ server: 'tls-only', mode: 'prefer', ca: 'other', clientCert: 'none' }, { connected: false }, 'tls_verify'],
    [{ server: 'plain', mode: 'require', ca: 'none', clientCert: 'none' }, { connected: false }, 'ssl_unsupported'],
    [{ server: 'wrong-host', mode: 'require', ca: 'none', clientCert: 'none' }, { connected: true, ssl: true }],
    // require with a root certificate is verify-ca.
    [{ server: 'wrong-host', mode: 'require', ca: 'right', clientCert: 'none' }, { connected: true, ssl: true }],
    [{ server: 'tls-optional', mode: 'require', ca: 'other', clientCert: 'none' }, { connected: false }, 'tls_verify'],
    [{ server: 'wrong-host', mode: 'verify-ca', ca: 'right', clientCert: 'none' }, { connected: true, ssl: true }],
    [{ server: 'wrong-host', mode: 'verify-full', ca: 'right', clientCert: 'none' }, { connected: false }, 'tls_verify'],
    [{ server: 'tls-optional', mode: 'verify-full', ca: 'right', clientCert: 'none' }, { connected: true, ssl: true }],
    // No root certificate: the system trust store, which does not know the test CA.
    [{ server: 'tls-optional', mode: 'verify-full', ca: 'none', clientCert: 'none' }, { connected: false }, 'tls_verify'],
    [{ server: 'client-cert', mode: 'prefer', ca: 'none', clientCert: 'none' }, { connected: false }, 'client_cert_required'],
    [{ server: 'client-cert', mode: 'verify-full', ca: 'right', clientCert: 'right' }, { connected: true, ssl: true }],
    // The server rejects a foreign client certificate after the (TLS 1.3) handshake: no
    // plain retry, even in prefer and even where pg_hba.conf would accept plain.
    [{ server: 'tls-optional', mode: 'prefer', ca: 'none', clientCert: 'foreign' }, { connected: false }, 'client_cert_required'],
    [{ server: 'client-cert', mode: 'require', ca: 'none', clientCert: 'foreign' }, { connected: false }, 'client_cert_required'],
  ];

  it.each(KEY_ROWS)('key row %o', async (row, expected, cause) => {
    const ours = await ourOutcome(configFor(row));
    expect(ours.outcome).toEqual(expected);
    if (cause) expect(ours.cause).toBe(cause);
  });

  describe('tls_server_name', () => {
    let localhostOnly: LocalCluster;
    beforeAll(async () => {
      // A certificate for the name localhost only (no IP address in it).
      const cert = await pki.ca.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
      localhostOnly = await startPostgres(binaries, {
        hba: ['local all all scram-sha-256', 'host all all 127.0.0.1/32 scram-sha-256'],
        files: {
          'server.crt': { content: cert.certPem, mode: 0o644 },
          'server.key': { content: cert.keyPem, mode: 0o600 },
        },
        settings: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
      });
    });
    afterAll(async () => localhostOnly.stop());

    const config = (extra: Partial<TargetConfig>): TargetConfig => ({
      name: 'by-ip',
      host: '127.0.0.1',
      port: localhostOnly.port,
      database: 'postgres',
      username: localhostOnly.user,
      password: localhostOnly.password,
      sslMode: 'verify-full',
      tlsRootCert: pki.ca.certPem,
      ...extra,
    });
    const psql = (hostSettings: Record<string, string>): Promise<{ outcome: Outcome; failedAttempts: number }> =>
      psqlOutcome(
        { ...hostSettings, port: String(localhostOnly.port), dbname: 'postgres', user: localhostOnly.user, sslmode: 'verify-full', sslrootcert: files.right!, sslcert: files.none!, sslkey: files.none! },
        localhostOnly.password,
      );

    it('verify-full to 127.0.0.1 fails against a certificate for localhost, as libpq does', async () => {
      const ours = await ourOutcome(config({}));
      expect(ours).toMatchObject({ outcome: { connected: false }, cause: 'tls_verify' });
      expect(ours.error?.message).toContain('not valid for the name "127.0.0.1"');
      expect(ours.error?.fix).toContain('tls_server_name');
      expect((await psql({ host: '127.0.0.1' })).outcome).toEqual({ connected: false });
    });

    it('verify-full to 127.0.0.1 with tls_server_name "localhost" verifies "localhost" (libpq: host=localhost hostaddr=127.0.0.1)', async () => {
      const ours = await ourOutcome(config({ tlsServerName: 'localhost' }));
      expect(ours.outcome).toEqual({ connected: true, ssl: true });
      expect((await psql({ host: 'localhost', hostaddr: '127.0.0.1' })).outcome).toEqual({ connected: true, ssl: true });
      const check = await testConnection(config({ tlsServerName: 'localhost' }));
      expect(check.tls).toMatchObject({ used: true, verified: 'chain-and-hostname', serverName: 'localhost' });
    });

    it('verify-full to a host alias with tls_server_name verifies that name (libpq: host=<name> hostaddr=<address>)', async () => {
      const wrongHost = servers['wrong-host'];
      const alias: TargetConfig = { ...configFor({ server: 'wrong-host', mode: 'verify-full', ca: 'right', clientCert: 'none' }, 'by-alias'), host: 'localhost' };
      expect((await ourOutcome(alias)).cause).toBe('tls_verify');
      const ours = await ourOutcome({ ...alias, tlsServerName: 'db.wrong.invalid' });
      expect(ours.outcome).toEqual({ connected: true, ssl: true });
      const libpq = await psqlOutcome(
        { host: 'db.wrong.invalid', hostaddr: '127.0.0.1', port: String(wrongHost.port), dbname: 'postgres', user: wrongHost.user, sslmode: 'verify-full', sslrootcert: files.right!, sslcert: files.none!, sslkey: files.none! },
        wrongHost.password,
      );
      expect(libpq.outcome).toEqual(ours.outcome);
    });

    it('a tls_server_name the certificate does not name fails verification', async () => {
      const ours = await ourOutcome(config({ tlsServerName: 'db.other.invalid' }));
      expect(ours).toMatchObject({ outcome: { connected: false }, cause: 'tls_verify' });
      expect(ours.error?.message).toContain('not valid for the name "db.other.invalid"');
    });
  });
});

describe('tls_server_name is sent as SNI', () => {
  /**
   * A server that speaks just enough of PostgreSQL's TLS start (answers the SSLRequest with
   * 'S', then runs the TLS handshake) to record the SNI name the client sends.
   */
  async function sniRecorder(pki: TestPki): Promise<{ port: number; names: Array<string | false | null>; close(): Promise<void> }> {
    const names: Array<string | false | null> = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.once('data', () => {
        socket.write('S');
        const secure = new tls.TLSSocket(socket, { isServer: true, cert: pki.server.certPem, key: pki.server.keyPem });
        secure.once('secure', () => {
          names.push(secure.servername);
          // Not PostgreSQL: end the connection once the name is known.
          secure.destroy();
        });
        secure.on('error', () => undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      names,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  let pki: TestPki;
  let recorder: Awaited<ReturnType<typeof sniRecorder>>;
  beforeAll(async () => {
    pki = await createTestPki();
    recorder = await sniRecorder(pki);
  });
  afterAll(async () => recorder.close());

  const config = (host: string, tlsServerName?: string): TargetConfig => ({
    name: 'sni',
    host,
    port: recorder.port,
    database: 'postgres',
    username: 'postgres',
    password: 'not-used-here',
    sslMode: 'require',
    ...(tlsServerName ? { tlsServerName } : {}),
  });

  it.each([
    ['an IP address, no tls_server_name', '127.0.0.1', undefined, false],
    ['an IP address with tls_server_name', '127.0.0.1', 'db.example.internal', 'db.example.internal'],
    ['a host name, no tls_server_name', 'localhost', undefined, 'localhost'],
    ['a host name (alias) with tls_server_name', 'localhost', 'db.example.internal', 'db.example.internal'],
  ] as const)('host %s', async (_label, host, serverName, expected) => {
    const before = recorder.names.length;
    await expect(openTarget(config(host, serverName))).rejects.toBeInstanceOf(ConnectionError);
    expect(recorder.names.slice(before)).toEqual([expected]);
  });
});
