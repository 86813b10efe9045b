/**
 * `adaptive-access check` against real clusters, run as a child process: an admin and a
 * restricted role given by options and PG* variables, the --url form, TLS verification
 * (right and wrong CA), a catalog target, a wrong password, usage errors, and --json.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { createTestPki, type TestPki } from '../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres, testedPostgres } from '../fixtures/postgres';
import { createDatabase, openService, sql, targetConfig } from '../runtime/service-fixture';
import { runCli } from './run-cli';

const READER_PASSWORD = 'reader-Pa55word-check';
const USAGE = "Run 'adaptive-access check --help' for usage.";

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(
      cluster,
      'appdb',
      `create schema app; create table app.items (id int); create table app.secrets (id int);
       create role reader login password '${READER_PASSWORD}';
       grant usage on schema app to reader; grant select on app.items to reader`,
    );
  });
  afterAll(async () => cluster?.stop());

  const hostArgs = (): string[] => ['--host', cluster.host, '--port', String(cluster.port), '--sslmode', 'disable'];

  it('checks an admin given by --host/--port/--user and PGPASSWORD', async () => {
    const r = await runCli(['check', ...hostArgs(), '--user', cluster.user], { env: { PGPASSWORD: cluster.password } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`version +PostgreSQL ${binaries.major}\\.`));
    expect(r.stdout).toContain('can manage access: yes');
    expect(r.stdout).toMatch(/TLS +not used \(sslmode disable\)/);
    expect(r.stdout + r.stderr).not.toContain(cluster.password);
  });

  it('lists exactly what a restricted role may use; --admin fails with the SQL that grants what is missing', async () => {
    const env = { PGPASSWORD: READER_PASSWORD };
    const args = ['check', ...hostArgs(), '--user', 'reader', '--database', 'appdb'];
    const r = await runCli(args, { env });
    expect(r.code, r.stderr).toBe(0);
    const tables = r.stdout.slice(r.stdout.indexOf('Tables in "appdb"')).trimEnd().split('\n');
    expect(tables.slice(2)).toEqual([expect.stringMatching(/^ +app +items +table +SELECT$/)]);
    expect(r.stdout).toContain('can manage access: no (not required');

    const admin = await runCli([...args, '--admin'], { env });
    expect(admin.code).toBe(1);
    expect(admin.stdout).toContain('ALTER ROLE "reader" CREATEROLE;');
    expect(admin.stderr).toMatch(/error: role "reader" cannot manage access/);
  });

  it('takes the --url form with sslmode=disable, and prints --json', async () => {
    const url = `postgres://reader@${cluster.host}:${cluster.port}/appdb?sslmode=disable`;
    const r = await runCli(['check', '--url', url, '--json'], { env: { PGPASSWORD: READER_PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { databases: unknown[]; schemas: unknown[] };
    expect(report).toMatchObject({
      ok: true,
      connection: { user: 'reader', database: 'appdb', major: binaries.major, sslMode: 'disable', tls: { used: false } },
      admin: { required: false, canManageAccess: false, createRole: false },
      role: { name: 'reader', superuser: false, login: true, validUntil: null, memberOf: [] },
      tables: [{ schema: 'app', table: 'items', kind: 'table', privileges: ['SELECT'], schemaUsage: true }],
      tablesTotal: 1,
    });
    expect(report.databases).toContainEqual({ name: 'appdb', privileges: ['CONNECT', 'TEMPORARY'] });
    expect(report.schemas).toContainEqual({ name: 'app', owner: cluster.user, privileges: ['USAGE'] });
  });

  it("takes libpq's query keywords for the URL's parts in --url (host, port, dbname, user) and application_name", async () => {
    const url = `postgres:///?host=${cluster.host}&port=${cluster.port}&dbname=appdb&user=reader&sslmode=disable&application_name=my-tool`;
    const r = await runCli(['check', '--url', url, '--json'], { env: { PGPASSWORD: READER_PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, connection: { user: 'reader', database: 'appdb', sslMode: 'disable' } });
  });

  it('fails on a wrong password with the cause and fix, without showing the password; --json too', async () => {
    const wrong = 'not-the-Right-pa55word';
    const r = await runCli(['check', ...hostArgs(), '--user', 'reader', '--json'], { env: { PGPASSWORD: wrong } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, connection: { cause: 'auth_failed', error: expect.stringContaining('authentication failed') as unknown } });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });
});

describe('TLS and the catalog', () => {
  const binaries = testedPostgres().at(-1)!;
  let pki: TestPki;
  let tlsCluster: LocalCluster;
  let dir: string;
  beforeAll(async () => {
    pki = await createTestPki();
    tlsCluster = await startTlsPostgres(binaries, { pki, hba: 'tls-optional' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'check-test-'));
    writeFileSync(path.join(dir, 'ca.pem'), pki.ca.certPem);
    writeFileSync(path.join(dir, 'other.pem'), pki.otherCa.certPem);
  });
  afterAll(async () => tlsCluster?.stop());

  const args = (ca: string): string[] => ['check', '--host', 'localhost', '--port', String(tlsCluster.port), '--user', tlsCluster.user, '--sslmode', 'verify-full', '--sslrootcert', path.join(dir, ca)];

  it('reports TLS verified with verify-full and --sslrootcert', async () => {
    const r = await runCli(args('ca.pem'), { env: { PGPASSWORD: tlsCluster.password } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/TLS +TLSv1\.[23], certificate verified \(chain and host name localhost\)/);
  });

  it('fails with a certificate error naming the fix when the CA is wrong', async () => {
    const r = await runCli(args('other.pem'), { env: { PGPASSWORD: tlsCluster.password } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*certificate does not chain to --sslrootcert.*Set --sslrootcert to the CA certificate/);
  });

  it('refuses --sslmode verify-ca without --sslrootcert even where the system store trusts the CA; verify-full uses the store and checks the name', async () => {
    // NODE_EXTRA_CA_CERTS puts the test CA in the system store, as a public CA would be.
    const env = { PGPASSWORD: tlsCluster.password, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') };
    const base = ['check', '--host', 'localhost', '--port', String(tlsCluster.port), '--user', tlsCluster.user];
    // A name the certificate does not list: verify-ca would not notice.
    const ca = await runCli([...base, '--sslmode', 'verify-ca', '--tls-server-name', 'db.attacker.invalid'], { env });
    expect(ca.code, ca.stdout).toBe(2);
    expect(ca.stderr).toContain(
      `adaptive-access check: option '--sslmode': "verify-ca" needs --sslrootcert: without it any certificate that a public CA in the system trust store issued, ` +
        `for any host name, is accepted (libpq refuses this too); set --sslrootcert to the CA certificate that signed the server's certificate, ` +
        `or use --sslmode "verify-full" to trust the system store with host name checking`,
    );
    expect(ca.stdout).toBe('');

    const full = await runCli([...base, '--sslmode', 'verify-full'], { env });
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/TLS +TLSv1\.[23], certificate verified \(chain and host name localhost\)/);
    const wrongName = await runCli([...base, '--sslmode', 'verify-full', '--tls-server-name', 'db.attacker.invalid'], { env });
    expect(wrongName.code).toBe(1);
    expect(wrongName.stderr).toContain(`the server's certificate is not valid for the name "db.attacker.invalid"`);
  });

  it('checks a catalog target with --target, and lists the known targets for an unknown one', async () => {
    const handle = await openService(tlsCluster, 'checkcli');
    try {
      await handle.service.applyResource({ ...targetConfig(tlsCluster, 'main', 'postgres'), sslMode: 'verify-full', host: 'localhost', tlsRootCert: pki.ca.certPem });
      const env = { ADAPTIVE_CATALOG_URL: tlsCluster.url(handle.db), ADAPTIVE_CATALOG_KEY: handle.key.toString('hex') };
      const ok = await runCli(['check', '--target', 'main'], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('Connection (target "main")');
      expect(ok.stdout).toContain('can manage access: yes');
      const unknown = await runCli(['check', '--target', 'nope'], { env });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no target "nope" in the catalog\. The targets are: main\./);
    } finally {
      await handle.service.close();
    }
  });
});

describe('usage errors', () => {
  it.each([
    [['--sslmode', 'bogus', '--user', 'x'], /option '--sslmode' must be one of disable, allow, prefer, require, verify-ca, verify-full, not "bogus"/],
    [['--target', 'main', '--url', 'postgres://x@h/db'], /option '--target' cannot be combined with '--url'/],
    [['--port', 'abc', '--user', 'x'], /option '--port': "abc" is not a whole number/],
    [['--user', 'x', '--sslrootcert', '/nonexistent/ca.pem'], /cannot read the file "\/nonexistent\/ca\.pem" given by option '--sslrootcert': no such file/],
    [['--url', 'postgres://x:Secret-pw-1@h/db?sslmode=verify-everything'], /'sslmode' in --url must be one of/],
    [['--url', 'postgres://x:Secret-pw-1@h/db?options=-csearch_path%3Dx'], /option '--url' has the unknown parameter 'options'; accepted: host, port, dbname, user, password, sslmode, /],
    [['--url', 'postgres://x:Secret-pw-1@h/db?user=y'], /option '--url' gives the user name twice: in the URL and as the parameter 'user'/],
    [['--user', 'x', '--sslmode', 'verify-ca'], /option '--sslmode': "verify-ca" needs --sslrootcert: .* or use --sslmode "verify-full"/],
    [['--url', 'postgres://x:Secret-pw-1@h/db?sslmode=verify-ca&sslrootcert=system'], /'sslmode' in --url: "verify-ca" needs --sslrootcert: /],
  ])('%j exits 2', async (args, message) => {
    const r = await runCli(['check', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(USAGE);
    expect(r.stderr).not.toContain('Secret-pw-1');
  });
});
