/**
 * What the AccessService tests share: a catalog in its own database per test, target
 * configurations for throwaway clusters, superuser SQL, and logging in as a member with
 * the credential the service handed out.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { LocalCluster } from '../../src/localpg';
import { ident } from '../../src/runtime/pg/sql';
import { Catalog } from '../../src/runtime/catalog';
import { AccessService, type MemberCredential } from '../../src/runtime/service';
import type { TargetConfig } from '../../src/runtime/types';

/** A target configuration for `cluster`, as the superuser unless `login` says otherwise. */
export function targetConfig(
  cluster: LocalCluster,
  name: string,
  database: string,
  login?: { readonly user: string; readonly password: string },
): TargetConfig {
  return {
    name,
    host: cluster.host,
    port: cluster.port,
    database,
    username: login?.user ?? cluster.user,
    password: login?.password ?? cluster.password,
    sslMode: 'disable',
    maxConnections: 6,
    connectTimeoutSeconds: 5,
  };
}

/** Runs SQL as the superuser in `database` and returns the rows. */
export async function sql<R extends Record<string, unknown> = Record<string, unknown>>(
  cluster: LocalCluster,
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new Client(cluster.clientConfig(database));
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Creates a database (quickly: a file copy of the template). */
export async function createDatabase(cluster: LocalCluster, name: string, owner?: string): Promise<void> {
  await sql(cluster, cluster.database, `create database ${ident(name)} strategy = file_copy${owner ? ` owner ${ident(owner)}` : ''}`);
}

/** A service over a fresh catalog database on `cluster`, with an encryption key. */
export interface ServiceHandle {
  readonly service: AccessService;
  readonly catalog: Catalog;
  /** The catalog's database, for reading its tables directly. */
  readonly db: string;
  /** The catalog key, for opening the same catalog again (another process). */
  readonly key: Buffer;
}

let catalogs = 0;

export async function openService(cluster: LocalCluster, prefix = 'catalog'): Promise<ServiceHandle> {
  const db = `${prefix}_${++catalogs}`;
  await createDatabase(cluster, db);
  const key = randomBytes(32);
  const catalog = await Catalog.open(cluster.url(db), { key });
  return { service: new AccessService(catalog), catalog, db, key };
}

/**
 * A service over a fresh catalog with the resource "main" (database `database`), the
 * authorization "read" (SELECT on app.items) and one endpoint of its own with `ttlSeconds`;
 * the handle is pushed on `handles` for the caller to close.
 */
export async function serviceWithEndpoint(
  cluster: LocalCluster,
  handles: ServiceHandle[],
  endpoint: string,
  ttlSeconds: number,
  database = 'appdb',
): Promise<ServiceHandle & { endpoint: string }> {
  const handle = await openService(cluster);
  handles.push(handle);
  await handle.service.applyResource(targetConfig(cluster, 'main', database));
  await handle.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['app'], tables: ['items'] } });
  await handle.service.applyEndpoint({ name: endpoint, type: 'direct', ttlSeconds, resource: 'main', authorization: 'read' });
  return { ...handle, endpoint };
}

/** Another service over the same catalog, as a second provider process would open it. */
export async function reopenService(cluster: LocalCluster, handle: ServiceHandle): Promise<ServiceHandle> {
  const catalog = await Catalog.open(cluster.url(handle.db), { key: handle.key });
  return { service: new AccessService(catalog), catalog, db: handle.db, key: handle.key };
}

/** Role names on the cluster, sorted. */
export async function roleNames(cluster: LocalCluster): Promise<string[]> {
  const rows = await sql<{ rolname: string }>(cluster, cluster.database, 'select rolname::text as rolname from pg_roles order by 1');
  return rows.map((r) => r.rolname);
}

/** Whether a role exists on the cluster. */
export async function roleExists(cluster: LocalCluster, role: string): Promise<boolean> {
  return (await sql(cluster, cluster.database, 'select 1 from pg_roles where rolname = $1', [role])).length === 1;
}

/** A role's VALID UNTIL, or null (none, or no such role). */
export async function validUntil(cluster: LocalCluster, role: string): Promise<Date | null> {
  const rows = await sql<{ v: Date | null }>(cluster, cluster.database, 'select rolvaliduntil as v from pg_roles where rolname = $1', [role]);
  return rows[0]?.v ?? null;
}

/** Login roles that are members of adaptive_managed, sorted. */
export async function managedLoginRoles(cluster: LocalCluster): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    cluster,
    cluster.database,
    `select r.rolname::text as name from pg_roles r
      where exists (select from pg_auth_members m join pg_roles g on g.oid = m.roleid
                    where m.member = r.oid and g.rolname = 'adaptive_managed')
      order by 1`,
  );
  return rows.map((r) => r.name);
}

/** One credential row of the catalog, read with SQL. */
export interface CredentialRow {
  role_name: string;
  group_name: string;
  member: string;
  endpoint: string;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

/** Every credential the catalog holds, including revoked ones, oldest first. */
export async function credentialRows(cluster: LocalCluster, db: string): Promise<CredentialRow[]> {
  return sql<CredentialRow & Record<string, unknown>>(
    cluster,
    db,
    'select role_name, group_name, member, endpoint, expires_at, revoked_at, revoke_reason from adaptive.credentials order by id',
  );
}

/** Logs in as a member with the credential's settings; the caller ends the client. */
export async function connectAs(credential: MemberCredential, password: string | null = credential.password): Promise<Client> {
  const client = new Client({
    host: credential.host,
    port: credential.port,
    database: credential.database,
    user: credential.username,
    ...(password !== null ? { password } : {}),
  });
  // A session the server terminates reports an 'error' event; the next query rejects.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The SQLSTATE of an error, or its message when it has none. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/** The SQLSTATE of a failed login, or 'ok' when the login works. */
export async function loginResult(credential: MemberCredential, password: string | null = credential.password): Promise<string> {
  try {
    const client = await connectAs(credential, password);
    await client.end();
    return 'ok';
  } catch (err) {
    return errorCode(err);
  }
}

/** The SQLSTATE a query fails with, or 'ok'. */
export async function queryResult(client: Client, text: string): Promise<string> {
  try {
    await client.query(text);
    return 'ok';
  } catch (err) {
    return errorCode(err);
  }
}

/** Resolves at `at` plus `marginMs`: waiting for time itself (an expiry), not for work. */
export function untilInstant(at: Date, marginMs = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() + marginMs - Date.now())));
}

/**
 * Resolves once the server's clock has passed `at`: asked of the server (which is what
 * enforces and reaps expiry), not of this process's clock. Between asks it waits for as
 * long as the server says is left.
 */
export async function untilServerPasses(cluster: LocalCluster, at: Date): Promise<void> {
  for (;;) {
    const [row] = await sql<{ passed: boolean; wait: number }>(
      cluster,
      cluster.database,
      `select now() > $1::timestamptz as passed, greatest(0, extract(epoch from $1::timestamptz - now()) * 1000)::float8 as wait`,
      [at],
    );
    if (row!.passed) return;
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(row!.wait) + 20));
  }
}

/** Resolves once `n` backends of database `db` wait on a lock (asks pg_stat_activity; fails after 20 s). */
export async function untilLockWaiters(cluster: LocalCluster, db: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [row] = await sql<{ waiting: number }>(
      cluster,
      cluster.database,
      "select count(*)::int as waiting from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'",
      [db],
    );
    if ((row?.waiting ?? 0) >= n) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${n} backends of ${db} started waiting on a lock`);
  }
}

/** The server's clock (`now()`). */
export async function serverClock(cluster: LocalCluster): Promise<Date> {
  const [row] = await sql<{ now: Date }>(cluster, cluster.database, 'select now() as now');
  return row!.now;
}

/** The application schema every target database gets: what authorizations grant on. */
export const APP_SCHEMA_SQL = `
  create schema app;
  create table app.items (id serial primary key, name text);
  create table app.secrets (id int);
  insert into app.items (name) values ('first');
`;

/** Sorted copy. */
export function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort();
}
