/**
 * The seed's complete production example, end to end: a primary that demands client
 * certificates and a read replica that accepts only TLS, both verified by name
 * (`verify-full` against `localhost`), admin credentials for both from Secrets Manager (a
 * local endpoint speaking its protocol), the primary checked against `certs/ca-cert.pem`
 * and the replica against the system trust store, to which the operator adds the private
 * CA with NODE_EXTRA_CA_CERTS. Developers get CRUD on the primary, analysts read-only on
 * the replica; each can do what the authorization says and is refused what it does not;
 * a second plan is empty; destroy leaves no role on either cluster.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type KeyPairPem, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../fixtures/postgres';
import { SIGV4_AUTHORIZATION, startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import {
  accessRoles,
  catalogCounts,
  credentialList,
  EMPTY_CATALOG,
  exampleWorkspace,
  installAdaptiveProvider,
  loginAs,
  openStoredSecrets,
  prepareCatalog,
  prepareTarget,
  printed,
  scratchDir,
  storedResource,
  tlsAccess,
  type ClusterAccess,
  type IssuedCredentialOutput,
} from '../fixtures/adaptive';
import type { TerraformWorkspace } from '../fixtures/terraform';

const ALL_RESOURCES = [
  'adaptive_authorization.analyst_role',
  'adaptive_authorization.dev_role',
  'adaptive_endpoint.analyst_access',
  'adaptive_endpoint.dev_access',
  'adaptive_group.analysts',
  'adaptive_group.developers',
  'adaptive_resource.postgres_prod',
  'adaptive_resource.postgres_replica',
];

// One plugin bundle and mirror for both majors.
const scratch = scratchDir('adaptive-e2e-prod-');
let mirrorDir: string;
beforeAll(async () => {
  mirrorDir = await installAdaptiveProvider(scratch.dir);
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let catalog: LocalCluster;
  let primary: LocalCluster;
  let replica: LocalCluster;
  let pki: TestPki;
  let adminCert: KeyPairPem;
  let primaryAccess: ClusterAccess;
  let replicaAccess: ClusterAccess;
  let secrets: SecretsManagerFixture;
  let env: Record<string, string>;
  let ws: TerraformWorkspace;
  const trustedCaFile = path.join(scratch.dir, `private-ca-${binaries.major}.pem`);
  const untrustedCaFile = path.join(scratch.dir, `other-ca-${binaries.major}.pem`);

  beforeAll(async () => {
    pki = await createTestPki();
    adminCert = await pki.clientCert('postgres');
    primaryAccess = tlsAccess(pki, adminCert);
    replicaAccess = tlsAccess(pki);
    [catalog, primary, replica, secrets] = await Promise.all([
      startPostgres(binaries),
      startTlsPostgres(binaries, { pki, hba: 'client-cert' }),
      startTlsPostgres(binaries, { pki, hba: 'tls-only' }),
      startSecretsManager(),
    ]);
    [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(primary, primaryAccess), prepareTarget(replica, replicaAccess)]);
    for (const [name, cluster] of [['postgres-prod-credentials', primary], ['postgres-replica-credentials', replica]] as const) {
      secrets.putSecret(name, { username: cluster.user, password: cluster.password, engine: 'postgres', host: 'localhost', port: cluster.port, dbname: 'production' });
    }
    writeFileSync(trustedCaFile, pki.ca.certPem);
    writeFileSync(untrustedCaFile, pki.otherCa.certPem);
    ws = exampleWorkspace('production', {
      mirrorDir,
      // The plugin's Node trusts the private CA the replica's certificate chains to.
      env: { ...env, NODE_EXTRA_CA_CERTS: trustedCaFile },
      vars: {
        // Host names the server certificates list, so verify-full checks them by name.
        primary_host: 'localhost',
        primary_port: String(primary.port),
        replica_host: 'localhost',
        replica_port: String(replica.port),
        aws_access_key: secrets.accessKeyId,
        aws_secret_key: secrets.secretAccessKey,
        aws_endpoint: secrets.endpoint,
      },
      files: {
        'certs/ca-cert.pem': pki.ca.certPem,
        'certs/client-cert.pem': adminCert.certPem,
        'certs/client-key.pem': adminCert.keyPem,
      },
    });
    await ws.init();
  });
  afterAll(async () => {
    ws?.dispose();
    await Promise.all([catalog?.stop(), primary?.stop(), replica?.stop(), secrets?.close()]);
  });

  async function credentials(output: 'developer_credentials' | 'analyst_credentials'): Promise<IssuedCredentialOutput[]> {
    const outputs = await ws.outputs();
    expect(outputs[output]?.sensitive).toBe(true);
    return credentialList(outputs[output]?.value);
  }

  /**
   * A credential as assertions may show it: without the password, the URI's password
   * masked (a failing assertion prints what it received). Whether the URI carries the
   * credential's own password is a boolean.
   */
  function visible(credential: IssuedCredentialOutput): Omit<IssuedCredentialOutput, 'password'> & { uriHasPassword: boolean } {
    const { password, ...rest } = credential;
    const uri = new URL(credential.uri);
    const uriHasPassword = decodeURIComponent(uri.password) === password;
    uri.password = 'xxx';
    return { ...rest, uri: uri.toString(), uriHasPassword };
  }

  /** Whether the session runs over TLS, as the server sees it. */
  async function overTls(client: Client): Promise<boolean> {
    const { rows } = await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  }

  it('verifies the replica against the system trust store: without the private CA in it, the replica is refused', async () => {
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve'], { NODE_EXTRA_CA_CERTS: untrustedCaFile });
    expect(result.code).toBe(1);
    const text = printed(result);
    expect(text).toContain('Error: Failed to create adaptive_resource with adaptive_resource.postgres_replica');
    expect(text).toContain(`Cannot connect to target "postgres-read-replica" at localhost:${replica.port}`);
    expect(text).toContain("the server's certificate does not chain to a CA in the system trust store (no tls_root_cert given)");
    // The primary has its own root certificate and is not affected.
    expect(text).not.toContain('with adaptive_resource.postgres_prod');
    expect(await storedResource(catalog, 'postgres-read-replica')).toBeUndefined();
  });

  it('applies: both targets through Secrets Manager and verified TLS', async () => {
    const before = secrets.requests.length;
    await ws.apply();
    expect((await ws.ok(['state', 'list'])).stdout.split('\n').filter(Boolean).sort()).toEqual(ALL_RESOURCES);

    const calls = secrets.requests.slice(before);
    for (const request of calls) {
      expect(request.target).toBe('secretsmanager.GetSecretValue');
      expect(request.authorization).toMatch(SIGV4_AUTHORIZATION);
      expect(request.authorization).toContain('/us-east-1/secretsmanager/aws4_request');
    }
    expect(new Set(calls.map((r) => (r.body as { SecretId?: string }).SecretId))).toEqual(
      new Set(['postgres-prod-credentials', 'postgres-replica-credentials']),
    );

    const prod = await storedResource(catalog, 'postgres-production');
    expect(prod?.config).toMatchObject({
      host: 'localhost',
      port: primary.port,
      sslMode: 'verify-full',
      tlsRootCert: pki.ca.certPem,
      tlsClientCert: adminCert.certPem,
      maxConnections: 100,
      minConnections: 20,
      aws: { secretName: 'postgres-prod-credentials', region: 'us-east-1' },
    });
    const replicaRecord = await storedResource(catalog, 'postgres-read-replica');
    expect(replicaRecord?.config).toMatchObject({ host: 'localhost', port: replica.port, sslMode: 'verify-full', aws: { secretName: 'postgres-replica-credentials' } });
    expect(replicaRecord?.config).not.toHaveProperty('tlsRootCert');
    // Only references to the admin credentials: what is sealed is the AWS key pair (and the primary's client key).
    expect(Object.keys(openStoredSecrets(env, 'postgres-production', prod!)).sort()).toEqual(['awsAccessKeyId', 'awsSecretAccessKey', 'tlsClientKey']);
    expect(Object.keys(openStoredSecrets(env, 'postgres-read-replica', replicaRecord!)).sort()).toEqual(['awsAccessKeyId', 'awsSecretAccessKey']);
    expect(await catalogCounts(catalog)).toEqual({ resources: 2, authorizations: 2, endpoints: 2, groups: 2, liveCredentials: 4 });
  });

  it('developers log in on the primary with TLS and a client certificate, and can do what developer-role grants', async () => {
    const developers = await credentials('developer_credentials');
    expect(developers.map((c) => c.member).sort()).toEqual(['dev1@company.com', 'dev2@company.com']);
    for (const credential of developers.map(visible)) {
      expect(credential).toMatchObject({ endpoint: 'postgres-dev-access', host: 'localhost', port: primary.port, database: 'production', sslmode: 'verify-full' });
      expect(credential.uri).toMatch(new RegExp(`^postgresql://.+:xxx@localhost:${primary.port}/production\\?sslmode=verify-full$`));
      expect(credential.uriHasPassword).toBe(true);
      // The primary's tls_root_cert, for the client's sslrootcert.
      expect(credential.ca_cert).toBe(pki.ca.certPem);
      expect(Date.parse(credential.expires_at) - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    }
    const dev1 = developers.find((c) => c.member === 'dev1@company.com')!;
    // The primary demands a client certificate whose CN is the user: the operator's PKI issues one per credential.
    const cert = await pki.clientCert(dev1.username);
    const client = await loginAs(dev1, { ssl: { ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem } });
    try {
      expect(await overTls(client)).toBe(true);
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      await client.query("insert into public.orders (item) values ('pen')");
      await client.query("update public.orders set item = 'pencil' where item = 'pen'");
      await client.query("insert into app.settings (key, value) values ('theme', 'dark')");
      await client.query("delete from app.settings where key = 'theme'");
      await expect(client.query('truncate public.orders')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select * from analytics.events')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
    // A developer's credential is for the primary only.
    await expect(loginAs(dev1, { port: replica.port, ssl: { ca: pki.ca.certPem } })).rejects.toThrow(/password authentication failed/);
  });

  it('analysts log in on the replica with TLS, and can only read public and analytics', async () => {
    const analysts = await credentials('analyst_credentials');
    expect(analysts.map((c) => c.member).sort()).toEqual(['analyst1@company.com', 'analyst2@company.com']);
    for (const credential of analysts.map(visible)) {
      expect(credential).toMatchObject({ endpoint: 'postgres-analyst-access', host: 'localhost', port: replica.port, database: 'production', sslmode: 'verify-full' });
      expect(Date.parse(credential.expires_at) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
      // No tls_root_cert: no CA to hand on, and the uri tells libpq (16+) to use the system store, as the target does.
      expect(credential.ca_cert).toBeNull();
      expect(credential.uri).toMatch(new RegExp(`^postgresql://.+:xxx@localhost:${replica.port}/production\\?sslmode=verify-full&sslrootcert=system$`));
    }
    const client = await loginAs(analysts[0]!, { ssl: { ca: pki.ca.certPem } });
    try {
      expect(await overTls(client)).toBe(true);
      expect((await client.query('select count(*)::int as n from public.orders')).rows[0]).toEqual({ n: 2 });
      expect((await client.query('select name from analytics.events')).rows).toEqual([{ name: 'signup' }]);
      expect((await client.query('select count(*)::int as n from analytics.secret_stuff')).rows[0]).toEqual({ n: 0 });
      await expect(client.query("insert into public.orders (item) values ('no')")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query("insert into analytics.events (name) values ('no')")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select * from app.settings')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('plans no changes on a second run', async () => {
    const plan = await ws.plan();
    expect(printed(plan)).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('destroys everything, leaving no role on either cluster and no catalog record', async () => {
    expect((await accessRoles(primary, primaryAccess)).length).toBe(3); // access role + two developers
    expect((await accessRoles(replica, replicaAccess)).length).toBe(3); // access role + two analysts
    await ws.destroy();
    expect(await accessRoles(primary, primaryAccess)).toEqual([]);
    expect(await accessRoles(replica, replicaAccess)).toEqual([]);
    expect(await catalogCounts(catalog)).toEqual(EMPTY_CATALOG);
  });
});
