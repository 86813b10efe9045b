/**
 * The plugin process: go-plugin's handshake and transport around the engine.
 *
 * Terraform starts the plugin with a magic cookie and its client certificate in the
 * environment, reads one line from stdout (`1|6|unix|<socket>|grpc|<our cert>`), then
 * speaks gRPC over mutual TLS on that socket. It stops the plugin through the controller's
 * Shutdown RPC. Ctrl-C reaches the whole process group, so SIGINT is ignored here: Terraform
 * itself decides, through StopProvider, how in-flight work ends.
 *
 * Start-up order is chosen for cold start: the socket is bound by a plain listener and the
 * handshake line printed first; gRPC and protobuf load while Terraform is already
 * connecting. Connections that arrive meanwhile wait, unread, until TLS and gRPC are ready.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { generateServerCertificate, type ServerCertificate } from './cert';
import { ProviderEngine, type Message } from './engine';
import { createLogger, levelFromEnv, Redactor, type Logger } from './log';
import { brokerService, commonJs, controllerService, healthService, loadProtocol, providerService, stdioService, PROVIDER_RPCS } from './proto';
import type { Provider } from './resource';

/** The cookie Terraform sets, so a plugin can tell it was started by Terraform. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
/** The cookie's value (the same for every Terraform plugin). */
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** go-plugin's handshake protocol version (the first field of the handshake line). */
export const CORE_PROTOCOL_VERSION = 1;
/** The Terraform plugin protocol this server speaks. */
export const APP_PROTOCOL_VERSION = 6;

/** The handshake line for a unix socket and a DER certificate: base64 without padding. */
export function handshakeLine(socketPath: string, certDer: Uint8Array): string {
  const cert = Buffer.from(certDer).toString('base64').replace(/=+$/, '');
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socketPath}|grpc|${cert}\n`;
}

/** Why the plugin cannot start, for a person who ran it by hand. */
function notStartedByTerraform(provider: Provider): string {
  return [
    `This is a Terraform provider plugin (${provider.typeName} ${provider.version}), not a program to run directly.`,
    'Terraform starts it when a configuration uses the provider: install it with `adaptive-access install`',
    'and run `terraform init`.',
    '',
  ].join('\n');
}

/**
 * The plugin's main: serves `provider` until Terraform shuts it down. A failure to start
 * (the socket cannot be bound, ...) is reported on stderr and exits 1 at once, so Terraform
 * shows it instead of waiting for a connection that never works.
 */
export function runPlugin(provider: Provider, env: NodeJS.ProcessEnv = process.env): void {
  serve(provider, env).catch((err: unknown) => {
    process.stderr.write(`The ${provider.typeName} provider plugin failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

/** Serves `provider` until Terraform shuts it down; exits the process at the end. */
export async function serve(provider: Provider, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(notStartedByTerraform(provider));
    process.exit(1);
  }
  const versions = (env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION)).split(',').map((v) => v.trim());
  if (!versions.includes(String(APP_PROTOCOL_VERSION))) {
    process.stderr.write(`This provider speaks plugin protocol ${APP_PROTOCOL_VERSION}; Terraform offered ${versions.join(', ')}. Use Terraform 1.0 or later.\n`);
    process.exit(1);
  }
  const clientCert = env.PLUGIN_CLIENT_CERT;
  if (!clientCert) {
    process.stderr.write('PLUGIN_CLIENT_CERT is not set: this provider only serves Terraform over mutual TLS (Terraform sets it automatically).\n');
    process.exit(1);
  }

  // Read before anything slow: if Terraform dies early the plugin is re-parented at once.
  const terraformPid = process.ppid;
  const redactor = new Redactor();
  const logger = createLogger({ level: levelFromEnv(env), module: provider.typeName, redactor });
  // Ctrl-C goes to the whole process group; Terraform relays it as StopProvider.
  process.on('SIGINT', () => logger.debug('Ignoring SIGINT: Terraform will ask the provider to stop'));
  // If Terraform dies its pipes break: a failed write to them must not become an uncaught
  // exception, whose logging would fail the same way, forever.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  process.on('uncaughtException', (err) => logger.error('Uncaught exception (the plugin keeps serving)', { error: err }));
  process.on('unhandledRejection', (reason) => logger.error('Unhandled promise rejection (the plugin keeps serving)', { error: reason }));

  const certificate = generateServerCertificate();
  const listener = await UnixListener.open(env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir());
  process.on('exit', () => listener.removeSocket());
  // Synchronous: the line must be out before anything else is written or the process exits.
  writeSync(1, handshakeLine(listener.socketPath, certificate.der));

  try {
    const [grpcJs] = await Promise.all([import('@grpc/grpc-js'), loadProtocol()]);
    const plugin = new PluginServer(commonJs(grpcJs), provider, logger, redactor, listener);
    plugin.start(certificate, clientCert, terraformPid);
  } catch (err) {
    // After the handshake stderr is Terraform's only window into the plugin.
    process.stderr.write(`The ${provider.typeName} provider plugin failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  }
  redirectConsole(logger);
  logger.info('Plugin serving', { provider: provider.typeName, version: provider.version, socket: listener.socketPath, pid: process.pid });
}

/** After the handshake stdout is ignored by Terraform: send console output to the log instead. */
function redirectConsole(logger: Logger): void {
  const format = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' ');
  console.log = (...args: unknown[]) => logger.info(format(args));
  console.info = (...args: unknown[]) => logger.info(format(args));
  console.debug = (...args: unknown[]) => logger.debug(format(args));
  console.warn = (...args: unknown[]) => logger.warn(format(args));
  console.error = (...args: unknown[]) => logger.error(format(args));
}

function safeInspect(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The unix socket, bound by a plain listener. Connections are accepted paused and held
 * until a consumer (gRPC) takes them, so nothing is read before TLS is ready.
 */
class UnixListener {
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

type GrpcModule = typeof grpc;

/** The gRPC server with the four services Terraform expects, and the shutdown sequence. */
class PluginServer {
  private readonly server: grpc.Server;
  private readonly engine: ProviderEngine;
  private readonly openStreams = new Set<{ end(): void }>();
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private shuttingDown = false;

  constructor(
    private readonly grpcJs: GrpcModule,
    provider: Provider,
    private readonly logger: Logger,
    redactor: Redactor,
    private readonly listener: UnixListener,
  ) {
    this.engine = new ProviderEngine(provider, { logger, redactor });
    // Terraform sends whole states and schemas in one message: no size limits.
    this.server = new grpcJs.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
    this.addServices();
  }

  /**
   * Attaches mutual TLS and gRPC to the listener's connections. TLS is terminated here
   * rather than by gRPC so that Terraform's certificate can be pinned (the peer must
   * present exactly that certificate and prove its key) without a trust store: building one
   * makes Node parse its whole bundle of root certificates, a third of the start-up time.
   */
  start(certificate: ServerCertificate, clientCertPem: string, terraformPid: number): void {
    const expected = new X509Certificate(clientCertPem).raw;
    const injector = this.server.createConnectionInjector(this.grpcJs.ServerCredentials.createInsecure());
    // Never listens: it only runs the TLS handshake on connections handed to it. An empty
    // CA list keeps Node from loading its root store; the pin below is the check.
    const tlsServer = tls.createServer({
      key: certificate.keyPem,
      cert: certificate.certPem,
      ca: [],
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
    });
    tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
      const peer = socket.getPeerX509Certificate();
      if (!peer || !peer.raw.equals(expected)) {
        this.logger.warn('Refused a connection without Terraform’s client certificate');
        socket.destroy();
        return;
      }
      injector.injectConnection(socket);
    });
    tlsServer.on('tlsClientError', (err, socket) => {
      this.logger.debug('TLS handshake failed', { error: err.message });
      socket.destroy();
    });
    this.listener.consume((raw) => tlsServer.emit('connection', raw));
    process.on('SIGTERM', () => void this.shutdown(0));
    this.watchParent(terraformPid);
  }

  private addServices(): void {
    const providerImpl: grpc.UntypedServiceImplementation = {};
    for (const rpc of PROVIDER_RPCS) {
      providerImpl[rpc] = (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        this.inFlight++;
        this.engine
          .handle(rpc, call.request)
          .then((response) => callback(null, response))
          // handle() never rejects; this guards the callback itself.
          .catch((err: unknown) => callback({ code: this.grpcJs.status.INTERNAL, details: String(err) }))
          .finally(() => this.finished());
      };
    }
    this.server.addService(providerService(), providerImpl);

    this.server.addService(controllerService(), {
      Shutdown: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        this.logger.debug('Shutdown requested by Terraform');
        callback(null, {});
        setImmediate(() => void this.shutdown(0));
      },
    });
    // Opened by go-plugin at connect. Nothing is forwarded: logs go to stderr, which
    // Terraform reads directly. The streams stay open until shutdown.
    this.server.addService(stdioService(), {
      StreamStdio: (call: grpc.ServerWritableStream<object, object>) => this.holdOpen(call),
    });
    this.server.addService(brokerService(), {
      StartStream: (call: grpc.ServerDuplexStream<object, object>) => {
        call.on('data', () => undefined);
        call.on('end', () => call.end());
        this.holdOpen(call);
      },
    });
    this.server.addService(healthService(), {
      Check: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => callback(null, { status: 1 }),
    });
  }

  private holdOpen(call: grpc.ServerWritableStream<object, object> | grpc.ServerDuplexStream<object, object>): void {
    const stream = { end: () => call.end() };
    this.openStreams.add(stream);
    call.on('cancelled', () => this.openStreams.delete(stream));
    call.on('error', () => this.openStreams.delete(stream));
  }

  private finished(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  /**
   * Exits if Terraform disappears without shutting the plugin down (killed, or its output
   * pipe closed under it): a plugin nobody will ever call should not linger. Node's
   * `process.ppid` does not follow re-parenting, so the original parent is probed instead.
   */
  private watchParent(parent: number): void {
    const timer = setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch (err) {
        // EPERM means it exists but is not ours to signal: still there.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return;
        this.logger.warn('Terraform went away; exiting');
        void this.shutdown(0);
      }
    }, 1000);
    timer.unref();
  }

  /** Lets in-flight RPCs finish, closes the streams and the server, removes the socket and exits. */
  private async shutdown(code: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.listener.close();
    if (this.inFlight > 0) {
      this.logger.info('Waiting for in-flight requests before exiting', { in_flight: this.inFlight });
      await new Promise<void>((resolve) => (this.drained = resolve));
    }
    for (const stream of this.openStreams) stream.end();
    await new Promise<void>((resolve) => {
      // A client that keeps its connection open must not keep the plugin alive.
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 500);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.listener.removeSocket();
    this.logger.debug('Plugin exiting');
    process.exit(code);
  }
}
