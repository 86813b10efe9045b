/**
 * The seed's mutual TLS example (`verify-full`, a root certificate, a client certificate
 * and key) against a cluster that demands a client certificate whose CN is the user: it
 * applies, verifying the server by its 127.0.0.1 subjectAltName; the client key is stored
 * only encrypted; without the client certificate the update fails with the
 * client-certificate message and nothing changes; a second plan is empty; destroy leaves
 * nothing behind. The catalog lives on a plain cluster of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type KeyPairPem, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import {
  accessRoles,
  catalogCounts,
  EMPTY_CATALOG,
  exampleFiles,
  exampleWorkspace,
  installAdaptiveProvider,
  openStoredSecrets,
  prepareCatalog,
  prepareTarget,
  printed,
  scratchDir,
  sql,
  storedResource,
  tlsAccess,
  type ClusterAccess,
} from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

// One plugin bundle and mirror for both majors.
const scratch = scratchDir('adaptive-e2e-mtls-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let catalog: LocalCluster;
  let target: LocalCluster;
  let pki: TestPki;
  let adminCert: KeyPairPem;
  let access: ClusterAccess;
  let env: Record<string, string>;
  let ws: TerraformWorkspace;
  const example = exampleFiles('mutual-tls')['main.tf']!;

  beforeAll(async () => {
    pki = await createTestPki();
    adminCert = await pki.clientCert('postgres');
    access = tlsAccess(pki, adminCert);
    [catalog, target] = await Promise.all([startPostgres(binaries), startTlsPostgres(binaries, { pki, hba: 'client-cert' })]);
    [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(target, access)]);
    ws = exampleWorkspace('mutual-tls', {
      mirrorDir,
      env,
      // 127.0.0.1: verify-full checks it against the server certificate's IP subjectAltName.
      vars: { pg_host: target.host, pg_port: String(target.port), pg_username: target.user, pg_password: target.password },
      files: { 'ca-certificate.crt': pki.ca.certPem, 'client-certificate.crt': adminCert.certPem, 'client-key.key': adminCert.keyPem },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([catalog?.stop(), target?.stop()]);
  });

  it('applies, presenting the client certificate to a server that demands one', async () => {
    // The cluster really demands the certificate: without one, even TLS with the right password is refused.
    await expect(sql(target, 'postgres', 'select 1', [], tlsAccess(pki))).rejects.toThrow(/connection requires a valid client certificate/);
    await ws.apply();
    const stored = await storedResource(catalog, 'postgres-mtls');
    // The client key is a secret: stored encrypted, never in the public settings (booleans
    // first, so that a failing assertion prints no key).
    expect(JSON.stringify(stored?.config).includes('PRIVATE KEY')).toBe(false);
    expect(stored?.config).toMatchObject({
      host: target.host,
      port: target.port,
      sslMode: 'verify-full',
      tlsRootCert: pki.ca.certPem,
      tlsClientCert: adminCert.certPem,
    });
    expect(stored?.secrets?.includes(Buffer.from(adminCert.keyPem))).toBe(false);
    const opened = openStoredSecrets(env, 'postgres-mtls', stored!);
    expect(Object.keys(opened).sort()).toEqual(['password', 'tlsClientKey']);
    expect(opened.tlsClientKey === adminCert.keyPem).toBe(true);
    const marker = await sql(target, 'postgres', "select 1 from pg_roles where rolname = 'adaptive_managed'", [], access);
    expect(marker).toHaveLength(1);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('without the client certificate, the update fails with the client-certificate message and nothing changes', async () => {
    const withoutClientCert = example.replace(/^\s*tls_(cert|key)_file\s*=.*\n/gm, '');
    expect(withoutClientCert).not.toMatch(/tls_cert_file|tls_key_file/);
    ws.write('main.tf', withoutClientCert);
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Failed to update adaptive_resource');
    expect(text).toContain(`Cannot connect to target "postgres-mtls" at 127.0.0.1:${target.port}`);
    expect(text).toContain('the server requires a client certificate and none was given');
    expect((await storedResource(catalog, 'postgres-mtls'))?.config).toMatchObject({ tlsClientCert: adminCert.certPem });
    ws.write('main.tf', example);
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(catalog)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(target, access)).toEqual([]);
  });
});
