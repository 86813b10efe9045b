/**
 * Plugin start: spawn of the installed executable (the wrapper `installProvider` wrote
 * into the mirror, which execs Node on the bundle) to its handshake line, with the
 * environment Terraform gives it, next to `node -e` printing a line. Interleaved, so a
 * change in the machine's load affects both series alike.
 */
import { generateKeyPairSync } from 'node:crypto';
import { selfSignedCertificate, toPem } from '../../src/provider/cert';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/provider/server';
import type { Sampled } from '../measure';
import { PRINT_LINE_SCRIPT, spawnToFirstLine } from '../spawn-line';
import type { BenchWorld } from '../world';

/** Starts per run: one start is short, so a few more than --repeat steady the median. */
const STARTS_PER_RUN = 5;

export async function measurePluginStart(world: BenchWorld, repeat: number): Promise<Sampled> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const env = {
    PATH: process.env.PATH ?? '',
    [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
    PLUGIN_PROTOCOL_VERSIONS: '5,6',
    PLUGIN_CLIENT_CERT: toPem(selfSignedCertificate(privateKey, publicKey), 'CERTIFICATE'),
    PLUGIN_UNIX_SOCKET_DIR: world.dir,
  };
  const samples: number[] = [];
  const floorSamples: number[] = [];
  for (let i = 0; i < repeat * STARTS_PER_RUN; i++) {
    floorSamples.push((await spawnToFirstLine(process.execPath, ['-e', PRINT_LINE_SCRIPT], env)).ms / 1000);
    const start = await spawnToFirstLine(world.provider.executable, [], env);
    if (!/^\d+\|\d+\|unix\|/.test(start.line)) throw new Error(`not a handshake line: ${start.line.slice(0, 80)}`);
    samples.push(start.ms / 1000);
  }
  return { samples, floorSamples };
}
