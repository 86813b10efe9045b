/**
 * Open session ended after expiry: `adaptive-access reap --watch --json` (the real CLI)
 * runs against the catalog; a member is issued an on-demand credential with a 2 s ttl
 * (the runtime's verb, as `adaptive-access credential` issues it), logs in with it and
 * keeps the session open. The value is the moment the client sees the server end the
 * session minus the credential's expiry. No floor: the target is absolute.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { openRuntime } from '../../src/runtime';
import { CATALOG_DB, type BenchWorld } from '../world';
import type { Sampled } from '../measure';
import { memberEmail } from './members';

const CLI_BIN = path.resolve(__dirname, '..', '..', 'bin', 'adaptive-access.mjs');
const TTL_SECONDS = 2;
/** How long past expiry a session may stay open before the row counts as failed. */
const GIVE_UP_MS = 30_000;

/** Starts the watcher and resolves once it has finished its first pass (its first `sleeping` line). */
function startReaper(world: BenchWorld): Promise<void> {
  const env = { ...process.env, ...Object.fromEntries(Object.entries(world.terraformEnv).filter(([k]) => k.startsWith('ADAPTIVE_'))) };
  // Own process group: Ctrl-C reaches the bench, which ends it in close().
  const child = spawn(process.execPath, [CLI_BIN, 'reap', '--watch', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  world.adopt(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (/"event":"sleeping"/.test(out)) resolve();
      out = out.slice(-4000);
    });
    child.once('error', reject);
    child.once('close', (code) => reject(new Error(`reap --watch exited ${code}: ${err.trim()}`)));
  });
}

/** Seconds from the credential's expiry to the end of a session held with it. */
async function sessionEndAfterExpiry(issue: () => Promise<{ host: string; port: number; database: string; username: string; password: string; expiresAt: Date }>): Promise<number> {
  const credential = await issue();
  const client = new Client({ host: credential.host, port: credential.port, database: credential.database, user: credential.username, password: credential.password });
  const ended = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a session was still open ${GIVE_UP_MS / 1000} s after its credential expired`)), credential.expiresAt.getTime() - Date.now() + GIVE_UP_MS);
    const done = (): void => {
      clearTimeout(timer);
      resolve((Date.now() - credential.expiresAt.getTime()) / 1000);
    };
    client.once('error', done);
    client.once('end', done);
  });
  await client.connect();
  try {
    return await ended;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `endpoint`: an applied endpoint whose group lists `memberEmail(0)`. */
export async function measureReap(world: BenchWorld, endpoint: string, repeat: number): Promise<Sampled> {
  const runtime = await openRuntime({ catalog: { url: world.cluster.url(CATALOG_DB), key: world.catalogKey }, applicationName: 'adaptive-bench' });
  try {
    await startReaper(world);
    const samples: number[] = [];
    for (let i = 0; i < repeat; i++) {
      samples.push(await sessionEndAfterExpiry(() => runtime.issueCredential({ endpoint, member: memberEmail(0), ttlSeconds: TTL_SECONDS, via: 'bench' })));
    }
    return { samples, floorSamples: [] };
  } finally {
    await runtime.close();
  }
}
