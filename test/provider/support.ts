/**
 * Shared set-up for the provider tests: bundles the toy plugin once per test file with the
 * same bundler the CLI uses, installs it into a filesystem mirror, and talks to a plugin
 * process directly (handshake, mutual TLS) the way Terraform does.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { bundlePlugin } from '../../src/install/bundle';
import { selfSignedCertificate, toPem } from '../../src/provider/cert';
import { writeFilesystemMirror } from '../../src/install/mirror';
import { controllerService, healthService, loadProtocol, providerService } from '../../src/provider/proto';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/provider/server';

/** The toy provider's source address and version. */
export const TOY_SOURCE = 'adaptive-access.local/test/toy';
export const TOY_VERSION = '0.1.0';

const repoRoot = path.resolve(__dirname, '..', '..');

/** A temporary directory removed by `cleanup()`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Bundles a plugin entry (relative to the repository root) into `dir`. */
export async function bundle(entry: string, dir: string, name: string): Promise<string> {
  return bundlePlugin({ entry: path.join(repoRoot, entry), outfile: path.join(dir, `${name}.cjs`) });
}

/** Bundles the toy plugin and installs it into a new mirror; returns the mirror and bundle paths. */
export async function installToy(dir: string): Promise<{ mirrorDir: string; bundlePath: string }> {
  const bundlePath = await bundle('test/provider/toy/main.ts', dir, 'toy');
  const mirrorDir = path.join(dir, 'mirror');
  writeFilesystemMirror({ mirrorDir, sourceAddress: TOY_SOURCE, version: TOY_VERSION, pluginEntry: bundlePath });
  return { mirrorDir, bundlePath };
}

/** A client identity like the one go-plugin generates for Terraform. */
export function clientIdentity(): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { certPem: toPem(selfSignedCertificate(privateKey, publicKey), 'CERTIFICATE'), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A running plugin process and what its handshake said. */
export interface RunningPlugin {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly line: string;
  readonly socketPath: string;
  readonly serverCertPem: string;
  readonly client: { certPem: string; keyPem: string };
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts a bundled plugin as Terraform would and waits for its handshake line. */
export function startPlugin(bundlePath: string, socketDir: string, env: Readonly<Record<string, string>> = {}): Promise<RunningPlugin> {
  const client = clientIdentity();
  const child = spawn(process.execPath, [bundlePath], {
    env: {
      PATH: process.env.PATH ?? '',
      [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
      PLUGIN_PROTOCOL_VERSIONS: '5,6',
      PLUGIN_CLIENT_CERT: client.certPem,
      PLUGIN_UNIX_SOCKET_DIR: socketDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const onData = (c: Buffer): void => {
      stdout += c.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end < 0) return;
      child.stdout.off('data', onData);
      const line = stdout.slice(0, end);
      const [, , , socketPath = '', , cert = ''] = line.split('|');
      resolve({
        child,
        line,
        socketPath,
        serverCertPem: toPem(Buffer.from(cert, 'base64'), 'CERTIFICATE'),
        client,
        stderr: () => stderr,
        exited,
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`plugin exited (${code}) before its handshake:\n${stderr}`)));
  });
}

type UnaryClient = grpc.Client & Record<string, (request: object, callback: (err: grpc.ServiceError | null, response: Record<string, unknown>) => void) => void>;

/** gRPC clients for the plugin's provider and controller services, over mutual TLS like Terraform's. */
export async function connect(plugin: RunningPlugin, identity: { certPem: string; keyPem: string } | null = plugin.client) {
  await loadProtocol();
  const credentials = identity
    ? grpc.credentials.createSsl(Buffer.from(plugin.serverCertPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem))
    : grpc.credentials.createSsl(Buffer.from(plugin.serverCertPem));
  const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
  const Provider = grpc.makeGenericClientConstructor(providerService(), 'Provider');
  const Controller = grpc.makeGenericClientConstructor(controllerService(), 'Controller');
  const Health = grpc.makeGenericClientConstructor(healthService(), 'Health');
  const provider = new Provider(`unix:${plugin.socketPath}`, credentials, options) as unknown as UnaryClient;
  const controller = new Controller(`unix:${plugin.socketPath}`, credentials, options) as unknown as UnaryClient;
  const health = new Health(`unix:${plugin.socketPath}`, credentials, options) as unknown as UnaryClient;
  const call = (client: UnaryClient, rpc: string, request: object = {}): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const method = client[rpc];
      if (!method) throw new Error(`no method ${rpc}`);
      method.call(client, request, (err, response) => (err ? reject(err) : resolve(response)));
    });
  return {
    provider: (rpc: string, request?: object) => call(provider, rpc, request),
    shutdown: () => call(controller, 'Shutdown'),
    health: () => call(health, 'Check', { service: '' }),
    close: () => {
      provider.close();
      controller.close();
      health.close();
    },
  };
}

/** Removes directories created by a test file. */
export function cleanup(...dirs: string[]): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
