/**
 * The TLS cluster fixture: the generated CA, server certificates (right and wrong
 * hostname) and client certificates really work with PostgreSQL's own TLS, and the
 * pg_hba modes really demand what they claim. The TLS matrix of later tests builds on it.
 */
import { Client, type ClientConfig } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type TestPki } from '../fixtures/pki';
import { eachPostgres, startTlsPostgres } from '../fixtures/postgres';

async function sslState(config: ClientConfig): Promise<{ ssl: boolean; client_dn: string | null }> {
  const client = new Client(config);
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: boolean; client_dn: string | null }>(
      'select ssl, client_dn from pg_stat_ssl where pid = pg_backend_pid()',
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });

  describe('server certificate for localhost, client certificate required', () => {
    let cluster: LocalCluster;
    beforeAll(async () => {
      cluster = await startTlsPostgres(binaries, { pki, hba: 'client-cert' });
    });
    afterAll(async () => cluster.stop());

    it('accepts a verified connection with a client certificate for the user', async () => {
      const client = await pki.clientCert('postgres');
      const state = await sslState({
        ...cluster.clientConfig(),
        ssl: { ca: pki.ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' },
      });
      expect(state.ssl).toBe(true);
      expect(state.client_dn).toContain('CN=postgres');
    });

    it('refuses TLS without a client certificate', async () => {
      const config = { ...cluster.clientConfig(), ssl: { ca: pki.ca.certPem, servername: 'localhost' } };
      await expect(sslState(config)).rejects.toThrow(/certificate/i);
    });

    it('refuses a client certificate from another CA', async () => {
      const foreign = await pki.clientCert('postgres', pki.otherCa);
      const config = {
        ...cluster.clientConfig(),
        ssl: { ca: pki.ca.certPem, cert: foreign.certPem, key: foreign.keyPem, servername: 'localhost' },
      };
      await expect(sslState(config)).rejects.toThrow();
    });

    it('refuses a plaintext connection', async () => {
      await expect(sslState({ ...cluster.clientConfig(), ssl: false })).rejects.toThrow(/no encryption|pg_hba/);
    });

    it('fails verification against the wrong CA', async () => {
      const client = await pki.clientCert('postgres');
      const config = {
        ...cluster.clientConfig(),
        ssl: { ca: pki.otherCa.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' },
      };
      await expect(sslState(config)).rejects.toThrow(/self-signed|unable to verify|unable to get/i);
    });
  });

  describe('server certificate for another hostname, TLS optional', () => {
    let cluster: LocalCluster;
    beforeAll(async () => {
      cluster = await startTlsPostgres(binaries, { pki, serverCert: 'wrong-host', hba: 'tls-optional' });
    });
    afterAll(async () => cluster.stop());

    it('chains to the CA but fails hostname verification', async () => {
      const config = { ...cluster.clientConfig(), ssl: { ca: pki.ca.certPem, servername: 'localhost' } };
      await expect(sslState(config)).rejects.toThrow(/altnames|does not match|Hostname/i);
    });

    it('verifies when the chain alone is checked', async () => {
      const state = await sslState({
        ...cluster.clientConfig(),
        ssl: { ca: pki.ca.certPem, checkServerIdentity: () => undefined },
      });
      expect(state.ssl).toBe(true);
    });

    it('still accepts plaintext when pg_hba allows it', async () => {
      const state = await sslState({ ...cluster.clientConfig(), ssl: false });
      expect(state.ssl).toBe(false);
    });
  });
});
