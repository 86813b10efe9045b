/**
 * Plugin cold start, as Terraform pays it on every provider process it starts (the
 * executable installed in a filesystem mirror: shell wrapper, launcher, server part with its
 * code cache):
 *   - spawn to handshake line (what go-plugin waits for before connecting),
 *   - spawn to the first RPC answered (GetProviderSchema over mutual TLS, as Terraform's
 *     first call), measured from the same spawn,
 * next to spawn-to-exit of bare `node -e 0`. Every handshake's certificate is parsed too,
 * so a large run count doubles as a start-up stress test.
 *
 *   node --import tsx bench/cold-start.ts [--runs 20] [--entry src/plugin/main.ts]
 *
 * A closer look than `npm run bench`'s plugin-start row (which starts the installed
 * executable, wrapper included, to its handshake line only).
 */
import { spawn } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { bundlePlugin } from '../src/install/bundle';
import { PROVIDER_SOURCE, writeFilesystemMirror } from '../src/install/mirror';
import { selfSignedCertificate, toPem } from '../src/provider/cert';
import { controllerService, loadProtocol, providerService } from '../src/provider/proto';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../src/provider/server';
import { nowMs, PRINT_LINE_SCRIPT } from './spawn-line';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const runs = Number.parseInt(option('runs', '20'), 10);
const entry = path.resolve(option('entry', 'src/plugin/main.ts'));

const now = nowMs;

/**
 * Bare Node: spawn to exit of `node -e 0`, or (given a one-line script file) spawn to the
 * line it prints, the same measuring point as the plugin's handshake.
 */
function bareNode(printLineScript?: string): Promise<number> {
  const printLine = printLineScript !== undefined;
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(process.execPath, printLine ? [printLineScript] : ['-e', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.once('error', reject);
    if (printLine) child.stdout.once('data', () => resolve(now() - started));
    else child.once('exit', () => resolve(now() - started));
    child.stdout.resume();
  });
}

type Unary = (request: object, callback: (err: grpc.ServiceError | null, response: object) => void) => void;

/** One plugin start: times to the handshake line and to the first answered RPC. */
function pluginStart(executable: string, env: NodeJS.ProcessEnv, client: { certPem: string; keyPem: string }): Promise<{ line: number; firstRpc: number }> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(executable, [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let result: { line: number; firstRpc: number } | undefined;
    child.once('error', reject);
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`plugin exited ${code} before answering`))));
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      if (!stdout.includes('\n')) return;
      child.stdout.off('data', onData);
      const line = now() - started;
      const fields = stdout.slice(0, stdout.indexOf('\n')).split('|');
      const certPem = toPem(Buffer.from(fields[5] ?? '', 'base64'), 'CERTIFICATE');
      const parsed = new X509Certificate(certPem);
      if (!parsed.ca || parsed.subjectAltName !== 'DNS:localhost') {
        reject(new Error(`bad certificate in handshake: ${stdout}`));
        return;
      }
      const credentials = grpc.credentials.createSsl(Buffer.from(certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
      const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
      const address = `unix:${fields[3] ?? ''}`;
      const provider = new (grpc.makeGenericClientConstructor(providerService(), 'Provider'))(address, credentials, options);
      const controller = new (grpc.makeGenericClientConstructor(controllerService(), 'Controller'))(address, credentials, options);
      (provider as unknown as Record<string, Unary>).GetProviderSchema?.call(provider, {}, (err) => {
        if (err) return reject(err);
        result = { line, firstRpc: now() - started };
        (controller as unknown as Record<string, Unary>).Shutdown?.call(controller, {}, () => {
          provider.close();
          controller.close();
        });
      });
    };
    child.stdout.on('data', onData);
  });
}

function stats(samples: number[]): { median: number; p95: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { median: at(0.5), p95: at(0.95), min: sorted[0] ?? Number.NaN };
}

const fmt = (s: { median: number; p95: number; min: number }): string =>
  `median ${s.median.toFixed(1).padStart(6)} ms   p95 ${s.p95.toFixed(1).padStart(6)} ms   min ${s.min.toFixed(1).padStart(6)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cold-start-'));
  try {
    await loadProtocol();
    const lineScript = path.join(dir, 'line.cjs');
    // Written like the handshake line (a synchronous write to fd 1), for a like-for-like start.
    writeFileSync(lineScript, `${PRINT_LINE_SCRIPT};\n`);
    const bundlePath = await bundlePlugin({ entry, outfile: path.join(dir, 'plugin.cjs') });
    const { executable } = writeFilesystemMirror({ mirrorDir: path.join(dir, 'mirror'), sourceAddress: PROVIDER_SOURCE, version: '0.0.0', pluginEntry: bundlePath });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const client = { certPem: toPem(selfSignedCertificate(privateKey, publicKey), 'CERTIFICATE'), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const env = {
      PATH: process.env.PATH ?? '',
      [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
      PLUGIN_PROTOCOL_VERSIONS: '5,6',
      PLUGIN_CLIENT_CERT: client.certPem,
      PLUGIN_UNIX_SOCKET_DIR: dir,
    };
    const bare: number[] = [];
    const bareLine: number[] = [];
    const line: number[] = [];
    const firstRpc: number[] = [];
    // Interleaved, so a change in machine load affects every series alike.
    for (let i = 0; i < runs; i++) {
      bare.push(await bareNode());
      bareLine.push(await bareNode(lineScript));
      const run = await pluginStart(executable, env, client);
      line.push(run.line);
      firstRpc.push(run.firstRpc);
    }
    const b = stats(bare);
    const bl = stats(bareLine);
    const l = stats(line);
    const f = stats(firstRpc);
    console.log(`entry ${path.relative(process.cwd(), entry)}, ${runs} runs, node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(2)}`);
    console.log(`node -e 0 (spawn to exit)              ${fmt(b)}`);
    console.log(`bare node script: spawn to its line    ${fmt(bl)}`);
    console.log(`plugin: spawn to handshake line        ${fmt(l)}`);
    console.log(`plugin: spawn to first RPC answered    ${fmt(f)}`);
    const delta = (a: number, z: number): string => `${a - z >= 0 ? '+' : ''}${(a - z).toFixed(1)} ms`;
    console.log(`handshake line vs bare node's line:    median ${delta(l.median, bl.median)}, p95 ${delta(l.p95, bl.p95)}, ratio of medians ${(l.median / bl.median).toFixed(2)}x`);
    console.log(`first RPC answered vs node -e 0:       median ${delta(f.median, b.median)}, p95 ${delta(f.p95, b.p95)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
