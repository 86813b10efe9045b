/**
 * The set-up of each example in examples/, as the examples-*.test.ts files give it, in one
 * place: the clusters it needs (plain, TLS-only, client certificates), the local Secrets
 * Manager, the files and variables of its workspace, and the list of every secret the run
 * hands the provider (admin passwords, AWS keys, PEM private keys, the catalog key and the
 * catalog URL's password), so a test can look for them in what Terraform printed.
 *
 * The admin of each target is a role of its own whose password has every character JSON,
 * URLs and SQL treat specially (a quote, a backslash, an apostrophe, a newline, a percent
 * sign), so any escaped form of it that leaks can be told apart from the raw one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { LocalCluster, PostgresBinaries } from '../../src/localpg';
import { ident, literal } from '../../src/runtime/pg/sql';
import { exampleFiles, exampleWorkspace, prepareCatalog, prepareTarget, SEED_SQL, sql, tlsAccess, type ClusterAccess } from '../fixtures/adaptive';
import { createTestPki, type KeyPairPem, type TestPki } from '../fixtures/pki';
import { startPostgres, startTlsPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import { startSts } from '../fixtures/sts';
import type { TerraformWorkspace } from '../fixtures/terraform';

/** A secret the run hands the provider, and what it is (for messages that must not show it). */
export interface KnownSecret {
  readonly what: string;
  readonly value: string;
}

/**
 * A failure the example can be put through: while on, applying fails with an error that
 * quotes what the provider sent (as a service does when it refuses a request).
 */
export interface ExampleFailure {
  /** What the failure message names (to check it really happened). */
  readonly expected: string;
  set(on: boolean): void;
}

/** An example ready to run: its workspace (initialised), its secrets, and how to tear it all down. */
export interface PreparedExample {
  readonly ws: TerraformWorkspace;
  readonly secrets: readonly KnownSecret[];
  /** Secrets that exist only once the runs are over (on-demand credentials a job received), read after them. */
  readonly secretsAfterRuns?: () => KnownSecret[];
  readonly failure?: ExampleFailure;
  dispose(): Promise<void>;
}

/** Where set-ups put their files (the mirror's directory will do), and the mirror. */
export interface SetupContext {
  readonly binaries: PostgresBinaries;
  readonly mirrorDir: string;
  readonly scratchDir: string;
}

/** An admin role of the target's own, with a password full of characters that need escaping. */
export interface TargetAdmin {
  readonly user: string;
  readonly password: string;
}

const ADMIN_USER = 'adaptive_admin';

/** Creates the example's admin (a superuser) on a cluster, reached with `access`. */
export async function createAdmin(cluster: LocalCluster, access: ClusterAccess = {}): Promise<TargetAdmin> {
  const password = `adm"in\\pa'ss\nw%rd-${randomBytes(6).toString('hex')}`;
  await sql(cluster, 'postgres', `create role ${ident(ADMIN_USER)} superuser login password ${literal(password)}`, [], access);
  return { user: ADMIN_USER, password };
}

/** The catalog's secrets: its key, and the password in its URL. */
function catalogSecrets(env: Record<string, string>): KnownSecret[] {
  const key = Buffer.from(env.ADAPTIVE_CATALOG_KEY!, 'hex');
  const url = new URL(env.ADAPTIVE_CATALOG_URL!);
  return [
    { what: 'the catalog key (hex, as given)', value: env.ADAPTIVE_CATALOG_KEY! },
    { what: 'the catalog key (base64)', value: key.toString('base64') },
    { what: 'the password of the catalog URL', value: decodeURIComponent(url.password) },
  ];
}

function adminSecrets(admin: TargetAdmin, label = 'the admin password'): KnownSecret[] {
  return [{ what: label, value: admin.password }];
}

/** Secrets Manager refusing the provider's signed requests, quoting their Authorization header. */
function refusedSignature(sm: SecretsManagerFixture): ExampleFailure {
  return { expected: 'IncompleteSignatureException', set: (on) => sm.refuseAuthorization(on) };
}

function awsSecrets(sm: SecretsManagerFixture): KnownSecret[] {
  return [
    { what: 'the AWS access key id', value: sm.accessKeyId },
    { what: 'the AWS secret access key', value: sm.secretAccessKey },
  ];
}

function keySecret(what: string, pair: KeyPairPem): KnownSecret {
  return { what, value: pair.keyPem };
}

/** Teardown in reverse order of set-up, also when set-up fails part-way. */
class Teardown {
  private readonly steps: Array<() => unknown> = [];
  add<T>(value: T, step: (value: T) => unknown): T {
    this.steps.push(() => step(value));
    return value;
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  }
}

async function prepared(
  teardown: Teardown,
  make: () => Promise<{ ws: TerraformWorkspace; secrets: KnownSecret[]; failure?: ExampleFailure }>,
): Promise<PreparedExample> {
  try {
    const made = await make();
    teardown.add(made.ws, (w) => w.dispose());
    await made.ws.init();
    return { ...made, dispose: () => teardown.run() };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

/**
 * A plain cluster holding the catalog and the seeded `production` database, with the
 * example's admin: what basic, groups-and-endpoints, short-lived, the GitOps configuration
 * and the HCL module use.
 */
function plainTarget(name: string, options: { files?: (files: Record<string, string>) => Record<string, string> } = {}) {
  return (ctx: SetupContext): Promise<PreparedExample> => {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const cluster = teardown.add(await startPostgres(ctx.binaries), (c) => c.stop());
      const { env } = await prepareCatalog(cluster);
      await prepareTarget(cluster);
      const admin = await createAdmin(cluster);
      const ws = exampleWorkspace(name, {
        mirrorDir: ctx.mirrorDir,
        env,
        vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: admin.user, pg_password: admin.password },
        ...(options.files ? { files: options.files(exampleFiles(name)) } : {}),
      });
      return { ws, secrets: [...catalogSecrets(env), ...adminSecrets(admin)] };
    });
  };
}

/** The catalog on a plain cluster, the target on a TLS cluster of the test PKI. */
async function tlsClusters(ctx: SetupContext, teardown: Teardown, hba: 'tls-only' | 'client-cert') {
  const pki = await createTestPki();
  const [catalog, target] = await Promise.all([startPostgres(ctx.binaries), startTlsPostgres(ctx.binaries, { pki, hba })]);
  teardown.add(catalog, (c) => c.stop());
  teardown.add(target, (c) => c.stop());
  const superuserCert = hba === 'client-cert' ? await pki.clientCert(target.user) : undefined;
  const access = tlsAccess(pki, superuserCert);
  const [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(target, access)]);
  const admin = await createAdmin(target, access);
  return { pki, target, env, admin };
}

/** The files of `modules/use-from-hcl` with the module it uses beside it. */
function moduleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(exampleFiles('modules/use-from-hcl'))) files[name] = text.replace('source = "../postgres-access"', 'source = "./postgres-access"');
  for (const [name, text] of Object.entries(exampleFiles('modules/postgres-access'))) files[`postgres-access/${name}`] = text;
  return files;
}

/**
 * The just-in-time example on a plain cluster, its job keeping each on-demand password it
 * receives in a file, so that the check knows them once the runs are over.
 */
async function justInTime(ctx: SetupContext): Promise<PreparedExample> {
  const kept = path.join(await mkdtemp(path.join(ctx.scratchDir, 'jit-')), 'passwords');
  const job = `printf '%s\\n' "$PGPASSWORD" >> ${JSON.stringify(kept)} && psql -X -v ON_ERROR_STOP=1 -c 'select count(*) from orders'`;
  const example = await plainTarget('just-in-time', { files: (files) => ({ ...files, 'job.auto.tfvars.json': JSON.stringify({ job }) }) })(ctx);
  const secretsAfterRuns = (): KnownSecret[] =>
    (existsSync(kept) ? readFileSync(kept, 'utf8').split('\n').filter(Boolean) : []).map((value, i) => ({ what: `on-demand password ${i + 1}`, value }));
  return { ...example, secretsAfterRuns };
}

/** Every example in examples/ that Terraform applies from HCL, by folder. */
export const EXAMPLE_SETUPS: Readonly<Record<string, (ctx: SetupContext) => Promise<PreparedExample>>> = {
  basic: plainTarget('basic'),
  'groups-and-endpoints': plainTarget('groups-and-endpoints'),
  'short-lived': plainTarget('short-lived'),
  'gitops/terraform': plainTarget('gitops/terraform'),
  'modules/use-from-hcl': plainTarget('modules/use-from-hcl', { files: () => moduleFiles() }),
  'just-in-time': justInTime,

  authorizations(ctx) {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const cluster = teardown.add(await startPostgres(ctx.binaries), (c) => c.stop());
      const { env } = await prepareCatalog(cluster);
      return { ws: exampleWorkspace('authorizations', { mirrorDir: ctx.mirrorDir, env }), secrets: catalogSecrets(env) };
    });
  },

  tls(ctx) {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const { pki, target, env, admin } = await tlsClusters(ctx, teardown, 'tls-only');
      const ws = exampleWorkspace('tls', {
        mirrorDir: ctx.mirrorDir,
        env,
        vars: { pg_host: target.host, pg_port: String(target.port), pg_username: admin.user, pg_password: admin.password },
        files: { 'ca-certificate.crt': pki.ca.certPem },
      });
      return { ws, secrets: [...catalogSecrets(env), ...adminSecrets(admin)] };
    });
  },

  'mutual-tls'(ctx) {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const { pki, target, env, admin } = await tlsClusters(ctx, teardown, 'client-cert');
      // The server wants a client certificate whose CN is the user.
      const adminCert = await pki.clientCert(admin.user);
      const ws = exampleWorkspace('mutual-tls', {
        mirrorDir: ctx.mirrorDir,
        env,
        vars: { pg_host: target.host, pg_port: String(target.port), pg_username: admin.user, pg_password: admin.password },
        files: { 'ca-certificate.crt': pki.ca.certPem, 'client-certificate.crt': adminCert.certPem, 'client-key.key': adminCert.keyPem },
      });
      return { ws, secrets: [...catalogSecrets(env), ...adminSecrets(admin), keySecret('the client private key', adminCert)] };
    });
  },

  'secrets-manager'(ctx) {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const [cluster, sm] = await Promise.all([startPostgres(ctx.binaries), startSecretsManager()]);
      teardown.add(cluster, (c) => c.stop());
      teardown.add(sm, (s) => s.close());
      const { env } = await prepareCatalog(cluster);
      await prepareTarget(cluster);
      const admin = await createAdmin(cluster);
      sm.putSecret('postgres-credentials', { username: admin.user, password: admin.password, engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'production' });
      const ws = exampleWorkspace('secrets-manager', {
        mirrorDir: ctx.mirrorDir,
        env,
        vars: { pg_host: cluster.host, pg_port: String(cluster.port), aws_access_key: sm.accessKeyId, aws_secret_key: sm.secretAccessKey, aws_endpoint: sm.endpoint },
      });
      return { ws, secrets: [...catalogSecrets(env), ...adminSecrets(admin, 'the admin password from the secret'), ...awsSecrets(sm)], failure: refusedSignature(sm) };
    });
  },

  /**
   * Adaptive's Secrets Manager form: the keys in the environment only assume the role; the
   * secret goes only to the role's temporary credentials, which are secrets too (known once
   * the runs are over). The refused apply quotes the request signed with them.
   */
  'adaptive-secrets-manager'(ctx) {
    const teardown = new Teardown();
    let issued: () => KnownSecret[] = () => [];
    const made = prepared(teardown, async () => {
      const [cluster, sm, sts] = await Promise.all([startPostgres(ctx.binaries), startSecretsManager(), startSts()]);
      teardown.add(cluster, (c) => c.stop());
      teardown.add(sm, (s) => s.close());
      teardown.add(sts, (s) => s.close());
      const { env } = await prepareCatalog(cluster);
      await sql(cluster, 'postgres', 'create database pagila');
      await sql(cluster, 'pagila', SEED_SQL);
      const admin = await createAdmin(cluster);
      const role = 'arn:aws:iam::123456789012:role/secretsAccessRole';
      sts.allowRole(role);
      sm.putSecret('db/postgres/pagila', { username: admin.user, password: admin.password, engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'pagila' });
      sm.restrictTo((accessKeyId) => sts.issued.some((c) => c.accessKeyId === accessKeyId && c.roleArn === role));
      issued = () =>
        sts.issued.flatMap((c, i) => [
          { what: `assumed access key id ${i + 1}`, value: c.accessKeyId },
          { what: `assumed secret access key ${i + 1}`, value: c.secretAccessKey },
          { what: `assumed session token ${i + 1}`, value: c.sessionToken },
        ]);
      const ws = exampleWorkspace('adaptive-secrets-manager', {
        mirrorDir: ctx.mirrorDir,
        env: { ...env, AWS_ACCESS_KEY_ID: sm.accessKeyId, AWS_SECRET_ACCESS_KEY: sm.secretAccessKey },
        vars: { aws_endpoint: sm.endpoint, aws_sts_endpoint: sts.endpoint, pg_host: cluster.host, pg_port: String(cluster.port) },
      });
      return { ws, secrets: [...catalogSecrets(env), ...adminSecrets(admin, 'the admin password from the secret'), ...awsSecrets(sm)], failure: refusedSignature(sm) };
    });
    return made.then((example) => ({ ...example, secretsAfterRuns: () => issued() }));
  },

  production(ctx) {
    const teardown = new Teardown();
    return prepared(teardown, async () => {
      const pki: TestPki = await createTestPki();
      const [catalog, primary, replica, sm] = await Promise.all([
        startPostgres(ctx.binaries),
        startTlsPostgres(ctx.binaries, { pki, hba: 'client-cert' }),
        startTlsPostgres(ctx.binaries, { pki, hba: 'tls-only' }),
        startSecretsManager(),
      ]);
      for (const cluster of [catalog, primary, replica]) teardown.add(cluster, (c) => c.stop());
      teardown.add(sm, (s) => s.close());
      const primaryAccess = tlsAccess(pki, await pki.clientCert(primary.user));
      const replicaAccess = tlsAccess(pki);
      const [{ env }] = await Promise.all([prepareCatalog(catalog), prepareTarget(primary, primaryAccess), prepareTarget(replica, replicaAccess)]);
      const [primaryAdmin, replicaAdmin] = await Promise.all([createAdmin(primary, primaryAccess), createAdmin(replica, replicaAccess)]);
      sm.putSecret('postgres-prod-credentials', { username: primaryAdmin.user, password: primaryAdmin.password, engine: 'postgres', host: 'localhost', port: primary.port, dbname: 'production' });
      sm.putSecret('postgres-replica-credentials', { username: replicaAdmin.user, password: replicaAdmin.password, engine: 'postgres', host: 'localhost', port: replica.port, dbname: 'production' });
      const adminCert = await pki.clientCert(primaryAdmin.user);
      // The plugin's Node trusts the private CA the replica's certificate chains to.
      const trustedCaFile = path.join(ctx.scratchDir, `private-ca-${randomBytes(4).toString('hex')}.pem`);
      writeFileSync(trustedCaFile, pki.ca.certPem);
      const ws = exampleWorkspace('production', {
        mirrorDir: ctx.mirrorDir,
        env: { ...env, NODE_EXTRA_CA_CERTS: trustedCaFile },
        vars: {
          primary_host: 'localhost',
          primary_port: String(primary.port),
          replica_host: 'localhost',
          replica_port: String(replica.port),
          aws_access_key: sm.accessKeyId,
          aws_secret_key: sm.secretAccessKey,
          aws_endpoint: sm.endpoint,
        },
        files: { 'certs/ca-cert.pem': pki.ca.certPem, 'certs/client-cert.pem': adminCert.certPem, 'certs/client-key.pem': adminCert.keyPem },
      });
      return {
        ws,
        secrets: [
          ...catalogSecrets(env),
          ...adminSecrets(primaryAdmin, 'the primary admin password from the secret'),
          ...adminSecrets(replicaAdmin, 'the replica admin password from the secret'),
          ...awsSecrets(sm),
          keySecret('the client private key', adminCert),
        ],
        failure: refusedSignature(sm),
      };
    });
  },
};
