/**
 * The soak's world: one throwaway cluster holding the catalog database and one database
 * per target, every target applied as a resource with an endpoint, and a group per target
 * that makes its members eligible for on-demand credentials (delivery `none`: no standing
 * credentials, so every credential in the soak is one the issuer asked for with its ttl).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { findPostgresBinaries, startCluster, type LocalCluster, type PostgresBinaries } from '../../src/localpg';
import { openRuntime, type Runtime } from '../../src/runtime';
import { ident } from '../../src/runtime/pg/sql';
import type { SoakOptions } from './options';

const CATALOG_DB = 'soak_catalog';
const TEMPLATE_DB = 'soak_template';

export interface SoakTarget {
  /** Resource, database, endpoint and group share this name. */
  readonly name: string;
  readonly members: readonly string[];
}

export interface SoakWorld {
  readonly cluster: LocalCluster;
  readonly binaries: PostgresBinaries;
  readonly runtime: Runtime;
  readonly targets: readonly SoakTarget[];
  readonly catalogUrl: string;
  readonly catalogDb: string;
  readonly catalogKey: Buffer;
}

/** The major asked for, else the embedded build (18), else the first found. */
export function chooseBinaries(major: number | undefined): PostgresBinaries {
  const found = findPostgresBinaries();
  const chosen = major === undefined ? (found.find((b) => b.source === 'embedded') ?? found[0]) : found.find((b) => b.major === major);
  if (!chosen) {
    throw new Error(`no PostgreSQL ${major ?? ''} server binaries found (found: ${found.map((b) => `${b.major} (${b.source})`).join(', ') || 'none'})`);
  }
  return chosen;
}

export async function superuserSql(cluster: LocalCluster, database: string, text: string): Promise<void> {
  const client = new Client(cluster.clientConfig(database));
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export function targetName(index: number): string {
  return `soak_t${String(index + 1).padStart(2, '0')}`;
}

export function memberEmail(index: number): string {
  return `m${String(index + 1).padStart(3, '0')}@soak.example.com`;
}

/**
 * Starts the cluster and builds the world on it. `max_connections` leaves room for the
 * held sessions, each replica's pools to every target, and the issuer's. Every endpoint
 * allows the longest ttl; each credential asks for its own, so ttls spread evenly.
 */
export async function buildWorld(binaries: PostgresBinaries, options: SoakOptions): Promise<SoakWorld> {
  const { targets: targetCount, members: memberCount, replicas, sessionsPerTarget, maxTtlSeconds } = options;
  const maxConnections = 50 + targetCount * (sessionsPerTarget + 2 * (replicas + 2));
  const cluster = await startCluster({ binaries, settings: { max_connections: String(maxConnections) } });
  try {
    await superuserSql(cluster, cluster.database, `create database ${ident(CATALOG_DB)}`);
    await superuserSql(cluster, cluster.database, `create database ${ident(TEMPLATE_DB)}`);
    await superuserSql(cluster, TEMPLATE_DB, 'create schema app; create table app.items (id int primary key)');
    const catalogKey = randomBytes(32);
    const catalogUrl = cluster.url(CATALOG_DB);
    const runtime = await openRuntime({ catalog: { url: catalogUrl, key: catalogKey }, applicationName: 'adaptive-soak' });
    const members = Array.from({ length: memberCount }, (_, i) => memberEmail(i));
    await runtime.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['app'], tables: ['items'] } });
    const targets: SoakTarget[] = [];
    for (let i = 0; i < targetCount; i++) {
      const name = targetName(i);
      await superuserSql(cluster, cluster.database, `create database ${ident(name)} template ${ident(TEMPLATE_DB)} strategy = file_copy`);
      await runtime.applyResource({ name, host: cluster.host, port: cluster.port, database: name, username: cluster.user, password: cluster.password, sslMode: 'disable', maxConnections: 4, connectTimeoutSeconds: 5 });
      await runtime.applyEndpoint({ name, type: 'direct', ttlSeconds: maxTtlSeconds, resource: name, authorization: 'read' });
      await runtime.applyGroup({ name, members, endpoints: [name], delivery: { mode: 'none' }, have: new Set() });
      targets.push({ name, members });
    }
    return { cluster, binaries, runtime, targets, catalogUrl, catalogDb: CATALOG_DB, catalogKey };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
