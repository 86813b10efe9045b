/**
 * `verify-ca` without a root certificate is refused by the connection code itself, before
 * any connection is made, with the message the plan-time check gives: a target record
 * stored by an older version (or any caller that skips validation) must not connect while
 * trusting every public CA for any host name. `verify-full` without a root certificate
 * still connects, trusting the system store with the host name checked.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { ConnectionError, connectWith, negotiate, openTarget, resolveTarget, testConnection } from '../../../src/runtime/connections';
import { ValidationError, type TargetConfig } from '../../../src/runtime/types';
import { checkTargetInput } from '../../../src/runtime/validation';
import { createTestPki, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startTlsPostgres } from '../../fixtures/postgres';

/** The plan-time message for ssl_mode "verify-ca" without tls_root_cert. */
function planTimeRefusal(): string {
  const issues = checkTargetInput({ type: 'postgres', name: 'x', host: 'db.example.com', database_name: 'd', username: 'u', password: 'p', ssl_mode: 'verify-ca' });
  expect(issues.map((i) => i.field)).toEqual(['ssl_mode']);
  return issues[0]!.message;
}

/** A TCP server that counts the connections it accepts and never answers. */
async function countingServer(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
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

/** The ValidationError a call rejects with (anything else fails the test). */
async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const err = await promise.then(
    () => new Error('expected the connection to be refused'),
    (e: unknown) => e,
  );
  if (err instanceof ValidationError) return err;
  throw err;
}

describe('verify-ca without tls_root_cert, e.g. a record from an older catalog', () => {
  let server: Awaited<ReturnType<typeof countingServer>>;
  beforeAll(async () => {
    server = await countingServer();
  });
  afterAll(() => server?.close());

  const config = (): TargetConfig => ({
    name: 'old-record',
    host: '127.0.0.1',
    port: server.port,
    database: 'postgres',
    username: 'admin',
    password: 'admin-Pa55word',
    sslMode: 'verify-ca',
    connectTimeoutSeconds: 2,
  });

  it('is refused by openTarget, testConnection, negotiate and connectWith before anything connects, with the plan-time message', async () => {
    const message = planTimeRefusal();
    const resolved = await resolveTarget(config());
    const calls = [() => openTarget(config()), () => testConnection(config()), () => negotiate(resolved), () => connectWith(resolved, { tls: true, verify: 'chain' })];
    for (const call of calls) {
      const err = await refusal(call());
      expect(err.issues).toEqual([{ field: 'ssl_mode', message }]);
      expect(err.message).toBe(`ssl_mode: ${message}`);
      expect(err.message).not.toContain('admin-Pa55word');
    }
    expect(server.accepted()).toBe(0);
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let cluster: LocalCluster;

  beforeAll(async () => {
    pki = await createTestPki();
    cluster = await startTlsPostgres(binaries, { pki, hba: 'tls-only' });
  });
  afterAll(() => cluster?.stop());

  const config = (extra: Partial<TargetConfig>): TargetConfig => ({
    name: 'tls-target',
    host: 'localhost',
    port: cluster.port,
    database: 'postgres',
    username: cluster.user,
    password: cluster.password,
    sslMode: 'verify-full',
    ...extra,
  });

  it('connects with verify-ca and tls_root_cert', async () => {
    const target = await openTarget(config({ sslMode: 'verify-ca', tlsRootCert: pki.ca.certPem }));
    try {
      expect(target.tls).toBe(true);
      expect(target.attempt).toEqual({ tls: true, verify: 'chain' });
    } finally {
      await target.close();
    }
  });

  it('refuses verify-ca without tls_root_cert against a real server too', async () => {
    const err = await refusal(openTarget(config({ sslMode: 'verify-ca' })));
    expect(err.issues).toEqual([{ field: 'ssl_mode', message: planTimeRefusal() }]);
  });

  it('still tries verify-full without tls_root_cert, against the system trust store (which does not hold the test CA)', async () => {
    const err = await openTarget(config({ sslMode: 'verify-full' })).then(
      () => new Error('expected a certificate failure'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).cause).toBe('tls_verify');
    expect((err as ConnectionError).message).toContain('does not chain to a CA in the system trust store (no tls_root_cert given)');
  });
});
