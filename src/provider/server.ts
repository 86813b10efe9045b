/**
 * The plugin process: go-plugin's transport around the engine, once the handshake line is
 * out (launch.ts prints it before this module and its dependencies are even loaded).
 *
 * Terraform speaks gRPC over mutual TLS on the socket of the handshake line and stops the
 * plugin through the controller's Shutdown RPC. Ctrl-C reaches the whole process group, so
 * SIGINT is ignored here: Terraform itself decides, through StopProvider, how in-flight work
 * ends. gRPC and protobuf load while Terraform is already connecting; connections that
 * arrive meanwhile wait, unread, until TLS and gRPC are ready.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import type { ServerCertificate } from './cert';
import { ProviderEngine, type Message } from './engine';
import { launchPlugin, type Handoff, type UnixListener } from './launch';
import { createLogger, levelFromEnv, Redactor, type Logger } from './log';
import { brokerService, commonJs, controllerService, healthService, loadProtocol, providerService, stdioService, PROVIDER_RPCS } from './proto';
import type { Provider } from './resource';

export { APP_PROTOCOL_VERSION, CORE_PROTOCOL_VERSION, handshakeLine, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './launch';

/**
 * The plugin's main for a plugin bundled in one file: serves `provider` until Terraform
 * shuts it down (see `launchPlugin` for how a failure to start is reported).
 */
export function runPlugin(provider: Provider, env: NodeJS.ProcessEnv = process.env): void {
  launchPlugin(provider, () => Promise.resolve({ serve: (handoff: Handoff) => serveAfterHandshake(provider, handoff, env) }), env);
}

/** Serves `provider` on the handshake's socket until Terraform shuts it down; exits the process at the end. */
export async function serveAfterHandshake(provider: Provider, handoff: Handoff, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const redactor = new Redactor();
  const logger = createLogger({ level: levelFromEnv(env), module: provider.typeName, redactor });
  process.on('SIGINT', () => logger.debug('Ignoring SIGINT: Terraform will ask the provider to stop'));
  process.on('uncaughtException', (err) => logger.error('Uncaught exception (the plugin keeps serving)', { error: err }));
  process.on('unhandledRejection', (reason) => logger.error('Unhandled promise rejection (the plugin keeps serving)', { error: reason }));

  const [grpcJs] = await Promise.all([import('@grpc/grpc-js'), loadProtocol()]);
  const plugin = new PluginServer(commonJs(grpcJs), provider, logger, redactor, handoff.listener);
  plugin.start(handoff.certificate, handoff.clientCertPem, handoff.terraformPid);
  redirectConsole(logger);
  logger.info('Plugin serving', { provider: provider.typeName, version: provider.version, socket: handoff.listener.socketPath, pid: process.pid });
  if (handoff.loadedWith) logger.debug('Server code loaded', { loaded_with: handoff.loadedWith });
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
