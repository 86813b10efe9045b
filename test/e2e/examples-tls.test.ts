/**
 * The seed's basic TLS example (`ssl_mode = "require"` with `tls_root_cert`) against a
 * cluster that accepts only TLS: it applies; with the certificate of a CA the server's
 * certificate does not chain to, "require" verifies the chain as libpq does and the update
 * fails, leaving state and catalog as they were; a second plan is empty; destroy leaves
 * nothing behind. The catalog lives on a plain cluster of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import {
  accessRoles,
  catalogCounts,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
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
const scratch = scratchDir('adaptive-e2e-tls-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let catalog: LocalCluster;
  let target: LocalCluster;
  let pki: TestPki;
  let access: ClusterAccess;
  let ws: TerraformWorkspace;

  beforeAll(async () => {
    pki = await createTestPki();
    access = tlsAccess(pki);
    [catalog, target] = await Promise.all([startPostgres(binaries), startTlsPostgres(binaries, { pki, hba: 'tls-only' })]);
    const [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(target, access)]);
    ws = exampleWorkspace('tls', {
      mirrorDir,
      env,
      vars: { pg_host: target.host, pg_port: String(target.port), pg_username: target.user, pg_password: target.password },
      files: { 'ca-certificate.crt': pki.ca.certPem },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([catalog?.stop(), target?.stop()]);
  });

  it('applies over TLS against a server that refuses plain connections', async () => {
    // The cluster really refuses plain connections: TLS is what made the apply work.
    await expect(sql(target, 'postgres', 'select 1')).rejects.toThrow(/pg_hba\.conf rejects connection .* no encryption/);
    await ws.apply();
    const stored = await storedResource(catalog, 'postgres-secure');
    expect(stored?.config).toMatchObject({ host: target.host, port: target.port, sslMode: 'require', tlsRootCert: pki.ca.certPem });
    const marker = await sql(target, 'postgres', "select 1 from pg_roles where rolname = 'adaptive_managed'", [], access);
    expect(marker).toHaveLength(1);
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it("with another CA's certificate, require verifies the chain as libpq does and refuses the server", async () => {
    ws.write('ca-certificate.crt', pki.otherCa.certPem);
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Failed to update adaptive_resource');
    expect(text).toContain(`Cannot connect to target "postgres-secure" at 127.0.0.1:${target.port}`);
    expect(text).toContain('ssl_mode require');
    expect(text).toContain("the server's certificate does not chain to tls_root_cert");
    expect(text).toMatch(/self-signed certificate in certificate chain|unable to verify the first certificate|unable to get local issuer certificate/);
    // Nothing was recorded: the catalog keeps the CA that works, and so does the state.
    expect((await storedResource(catalog, 'postgres-secure'))?.config).toMatchObject({ tlsRootCert: pki.ca.certPem });
    ws.write('ca-certificate.crt', pki.ca.certPem);
    const plan = await ws.plan();
    expect(plan.code, printed(plan)).toBe(0);
  });

  it('destroys everything, leaving no catalog record and no access role behind', async () => {
    await ws.destroy();
    expect(await catalogCounts(catalog)).toEqual(EMPTY_CATALOG);
    expect(await accessRoles(target, access)).toEqual([]);
  });
});
