/**
 * Helpers for the constructs' tests: Terraform run in a directory of our choosing (a
 * synthesized stack, a module's caller next to its module), isolated from the user's own
 * configuration and installing providers only from the filesystem mirror; SQL on a
 * cluster over plain or TLS connections; and the validation messages a stack carries.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, type ClientConfig } from 'pg';
import type { LocalCluster } from '../../src/localpg';
import type { IConstruct } from '../../src/constructs/cdk';
import { SEED_SQL } from '../fixtures/adaptive';
import { terraformBinary, type TerraformResult } from '../fixtures/terraform';

/** node-postgres settings laid over a cluster's plain ones (TLS material for TLS-only clusters). */
export type Access = Omit<ClientConfig, 'host' | 'port' | 'database'>;

/** Runs SQL on a database of the cluster as its superuser. */
export async function query<T extends Record<string, unknown>>(cluster: LocalCluster, database: string, text: string, access: Access = {}): Promise<T[]> {
  const client = new Client({ ...cluster.clientConfig(database), ...access });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** The `production` database the examples grant on, seeded with the guide's schemas and tables. */
export async function prepareProduction(cluster: LocalCluster, access: Access = {}): Promise<void> {
  await query(cluster, 'postgres', 'create database production', access);
  await query(cluster, 'production', SEED_SQL, access);
}

/** Roles the provider made on a cluster: endpoints' access roles and members' logins. */
export async function managedRoles(cluster: LocalCluster, access: Access = {}): Promise<string[]> {
  const rows = await query<{ rolname: string }>(
    cluster,
    'postgres',
    `select r.rolname::text from pg_roles r
      where r.rolname like 'adaptive\\_ep\\_%'
         or exists (select 1 from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid and g.rolname = 'adaptive_managed')
      order by 1`,
    access,
  );
  return rows.map((r) => r.rolname);
}

/** How many records of each kind the catalog holds, and how many credentials are live. */
export async function catalogCounts(cluster: LocalCluster): Promise<Record<string, number>> {
  const rows = await query<Record<string, number>>(
    cluster,
    'adaptive_catalog',
    `select (select count(*)::int from adaptive.resources) as resources,
            (select count(*)::int from adaptive.authorizations) as authorizations,
            (select count(*)::int from adaptive.endpoints) as endpoints,
            (select count(*)::int from adaptive.groups) as groups,
            (select count(*)::int from adaptive.credentials where revoked_at is null) as live_credentials`,
  );
  return rows[0] ?? {};
}

/**
 * Terraform in an existing directory, with a CLI configuration of its own that installs
 * providers only from `mirrorDir`, no checkpoint calls, no input, and proxies pointing
 * nowhere so a registry lookup fails at once.
 */
export class TerraformDir {
  /** The CLI configuration (the mirror), for other tools that run terraform here. */
  readonly cliConfigPath: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly binary = terraformBinary();

  constructor(
    readonly dir: string,
    options: { readonly mirrorDir: string; readonly configDir: string; readonly env?: Readonly<Record<string, string>> },
  ) {
    mkdirSync(options.configDir, { recursive: true });
    const cliConfig = path.join(options.configDir, `terraform-${path.basename(dir)}.rc`);
    this.cliConfigPath = cliConfig;
    writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(options.mirrorDir)}\n  }\n}\ndisable_checkpoint = true\n`);
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TF_')));
    this.env = {
      ...inherited,
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '',
      ...options.env,
    };
  }

  /** Runs terraform; never throws on a non-zero exit. */
  run(args: readonly string[]): Promise<TerraformResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, [`-chdir=${this.dir}`, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Runs terraform and throws with its output when it fails. */
  async ok(args: readonly string[]): Promise<TerraformResult> {
    const result = await this.run(args);
    if (result.code !== 0) throw new Error(`terraform ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
    return result;
  }

  init(): Promise<TerraformResult> {
    return this.ok(['init', '-no-color', '-input=false']);
  }

  apply(): Promise<TerraformResult> {
    return this.ok(['apply', '-no-color', '-input=false', '-auto-approve']);
  }

  destroy(): Promise<TerraformResult> {
    return this.ok(['destroy', '-no-color', '-input=false', '-auto-approve']);
  }

  /** `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error. */
  plan(): Promise<TerraformResult> {
    return this.run(['plan', '-no-color', '-input=false', '-detailed-exitcode']);
  }

  async outputs(): Promise<Record<string, { value: unknown; sensitive: boolean }>> {
    return JSON.parse((await this.ok(['output', '-json'])).stdout) as Record<string, { value: unknown; sensitive: boolean }>;
  }
}

/** Every validation message of a construct tree, as `node.validate()` returns them. */
export function validationMessages(root: IConstruct): string[] {
  return root.node.findAll().flatMap((c) => c.node.validate());
}
