/** The demo's PostgreSQL sessions: as the cluster's superuser, and as a member with an issued credential. */
import { Client, type ClientConfig } from 'pg';
import type { LocalCluster } from '../localpg';
import { errorText } from '../terminal/errors';
import type { Started } from './run';

/** A credential as `terraform output -json credentials` gives it. */
export interface Credential {
  readonly member: string;
  readonly endpoint: string;
  readonly username: string;
  readonly password: string;
  readonly expires_at: string;
  readonly host: string;
  readonly port: number | string;
  readonly database: string;
}

/** One statement a member tried, and what PostgreSQL said. */
export interface TryResult {
  readonly ok: boolean;
  readonly statement: string;
  readonly result: string;
}

/** A statement to try: as shown, as run, and how to describe its rows. */
export type Attempt = readonly [shown: string, text: string, describe: (rows: Array<Record<string, unknown>>) => string];

/** SQL as the cluster's superuser. */
export async function superuserSql(cluster: LocalCluster, database: string, text: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ ...cluster.clientConfig(database), application_name: 'adaptive-access demo' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Connects as a member with their issued credential; the client is tracked for clean-up. */
export async function connectAs(started: Started, c: Credential): Promise<Client> {
  const client = new Client({
    host: c.host,
    port: Number(c.port),
    database: c.database,
    user: c.username,
    password: c.password,
    application_name: 'adaptive-access demo',
    connectionTimeoutMillis: 10_000,
  } satisfies ClientConfig);
  // A session the server ends reports errors; they are shown where they matter.
  client.on('error', () => undefined);
  await client.connect();
  started.clients.add(client);
  client.once('end', () => started.clients.delete(client));
  return client;
}

/** Runs each statement in one session as the member, noting whether it was allowed. */
export async function tryAs(started: Started, c: Credential, statements: readonly Attempt[]): Promise<TryResult[]> {
  const client = await connectAs(started, c);
  try {
    const results: TryResult[] = [];
    for (const [shown, text, describe] of statements) {
      try {
        const r = await client.query<Record<string, unknown>>(text);
        results.push({ ok: true, statement: shown, result: describe(r.rows) });
      } catch (err) {
        results.push({ ok: false, statement: shown, result: `ERROR:  ${errorText(err)}` });
      }
    }
    return results;
  } finally {
    await client.end();
  }
}
