/**
 * The plugin's first moments, up to the go-plugin handshake line, kept apart from the
 * server so that a plugin can print the line before it even loads the rest of its code.
 *
 * Terraform starts the plugin with a magic cookie and its client certificate in the
 * environment and reads one line from stdout (`1|6|unix|<socket>|grpc|<our cert>`). This
 * module checks the environment, makes the certificate, binds the socket with a plain
 * listener and prints the line; connections that arrive meanwhile wait, unread, until the
 * server (gRPC, TLS, the provider) is loaded and takes them. It imports only Node's core
 * and the certificate builder, so a launcher bundle holding it stays a few kilobytes.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateServerCertificate, type ServerCertificate } from './cert';

/** The cookie Terraform sets, so a plugin can tell it was started by Terraform. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
/** The cookie's value (the same for every Terraform plugin). */
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** go-plugin's handshake protocol version (the first field of the handshake line). */
export const CORE_PROTOCOL_VERSION = 1;
/** The Terraform plugin protocol this server speaks. */
export const APP_PROTOCOL_VERSION = 6;

/** What the launcher needs to know of the provider before its code is loaded. */
export interface PluginIdentity {
  readonly typeName: string;
  readonly version: string;
}

/** What the launcher hands the server once the handshake line is out. */
export interface Handoff {
  readonly listener: UnixListener;
  readonly certificate: ServerCertificate;
  /** Terraform's client certificate (PEM), the only peer the server accepts. */
  readonly clientCertPem: string;
  /** Terraform's pid, read before anything slow (see `launchPlugin`). */
  readonly terraformPid: number;
  /** How the server's code was loaded (for the log), e.g. `code cache accepted`. */
  readonly loadedWith?: string;
}

/** Serves Terraform from a handoff; resolves once serving. */
export type ServeAfterHandshake = (handoff: Handoff) => Promise<void> | void;

/** The handshake line for a unix socket and a DER certificate: base64 without padding. */
export function handshakeLine(socketPath: string, certDer: Uint8Array): string {
  const cert = Buffer.from(certDer).toString('base64').replace(/=+$/, '');
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socketPath}|grpc|${cert}\n`;
}

/** Why the plugin cannot start, for a person who ran it by hand. */
function notStartedByTerraform(identity: PluginIdentity): string {
  return [
    `This is a Terraform provider plugin (${identity.typeName} ${identity.version}), not a program to run directly.`,
    'Terraform starts it when a configuration uses the provider: install it with `adaptive-access install`',
    'and run `terraform init`.',
    '',
  ].join('\n');
}

/**
 * The plugin's main: checks the environment, prints the handshake line, then loads the
 * server with `loadServer` and hands it the socket. A failure to start (the socket cannot
 * be bound, the server does not load, ...) is reported on stderr and exits 1 at once, so
 * Terraform shows it instead of waiting for a connection that never works.
 */
export function launchPlugin(identity: PluginIdentity, loadServer: () => Promise<{ serve: ServeAfterHandshake; loadedWith?: string }>, env: NodeJS.ProcessEnv = process.env): void {
  const failed = (err: unknown): never => {
    // After the handshake stderr is Terraform's only window into the plugin.
    process.stderr.write(`The ${identity.typeName} provider plugin failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  handshake(identity, env)
    .then(async (handoff) => {
      const { serve, loadedWith } = await loadServer();
      await serve(loadedWith === undefined ? handoff : { ...handoff, loadedWith });
    })
    .catch(failed);
}

async function handshake(identity: PluginIdentity, env: NodeJS.ProcessEnv): Promise<Handoff> {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(notStartedByTerraform(identity));
    process.exit(1);
  }
  const versions = (env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION)).split(',').map((v) => v.trim());
  if (!versions.includes(String(APP_PROTOCOL_VERSION))) {
    process.stderr.write(`This provider speaks plugin protocol ${APP_PROTOCOL_VERSION}; Terraform offered ${versions.join(', ')}. Use Terraform 1.0 or later.\n`);
    process.exit(1);
  }
  const clientCertPem = env.PLUGIN_CLIENT_CERT;
  if (!clientCertPem) {
    process.stderr.write('PLUGIN_CLIENT_CERT is not set: this provider only serves Terraform over mutual TLS (Terraform sets it automatically).\n');
    process.exit(1);
  }
  // Read before anything slow: if Terraform dies early the plugin is re-parented at once.
  const terraformPid = process.ppid;
  // Ctrl-C goes to the whole process group; Terraform relays it as StopProvider. Ignored
  // from the start, before the server (which logs it) is loaded.
  process.on('SIGINT', () => undefined);

  const certificate = generateServerCertificate();
  const listener = await UnixListener.open(env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir());
  process.on('exit', () => listener.removeSocket());
  // Synchronous: the line must be out before anything else is written or the process exits.
  writeSync(1, handshakeLine(listener.socketPath, certificate.der));
  // If Terraform dies its pipes break: a failed write to them must not become an uncaught
  // exception, whose logging would fail the same way, forever. Attached once the line is out:
  // creating the two streams costs milliseconds of every start, and nothing before the line
  // writes through them (a failed start writes stderr and exits, with no later write to fail).
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  return { listener, certificate, clientCertPem, terraformPid };
}

/**
 * The unix socket, bound by a plain listener. Connections are accepted paused and held
 * until a consumer (gRPC) takes them, so nothing is read before TLS is ready.
 */
export class UnixListener {
  private readonly pending: net.Socket[] = [];
  private consumer: ((socket: net.Socket) => void) | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {
    server.on('connection', (socket) => (this.consumer ? this.consumer(socket) : this.pending.push(socket)));
  }

  static async open(dir: string): Promise<UnixListener> {
    const socketPath = path.join(dir, `plugin${randomBytes(6).toString('hex')}`);
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new UnixListener(server, socketPath);
  }

  /** Hands every held and future connection to `consumer`. */
  consume(consumer: (socket: net.Socket) => void): void {
    this.consumer = consumer;
    for (const socket of this.pending.splice(0)) consumer(socket);
  }

  close(): void {
    this.server.close();
  }

  removeSocket(): void {
    rmSync(this.socketPath, { force: true });
  }
}
