/**
 * The HTTP side of `reap --watch --metrics-addr HOST:PORT`: `/metrics` (Prometheus text
 * format), `/healthz` and `/readyz`, for Kubernetes probes and a scraper.
 *
 * - `/healthz`: the process answers and the catalog database answers a query within
 *   PROBE_TIMEOUT_MS. A reaper cut off from its catalog cannot know what to reap, so it
 *   is unhealthy until the catalog is back (restarting it would not help, so a liveness
 *   probe should be lenient; see docs/guides/reaper-service.md).
 * - `/readyz`: healthy, and a first pass has finished since the start.
 *
 * Answers are short plain-text lines; nothing secret (an error names the catalog's host,
 * never its URL or password).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorText } from '../runtime';
import type { ReaperMetrics } from './reaper-metrics';

/** A probe slower than this counts as a failure: a probe must answer, not hang. */
const PROBE_TIMEOUT_MS = 2000;

export interface ReaperServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: ReaperMetrics;
  /** Resolves when the catalog answers a query. */
  readonly pingCatalog: () => Promise<void>;
  /** Whether a first pass has finished. */
  readonly passed: () => boolean;
}

export interface ReaperServer {
  /** Where it listens, e.g. `127.0.0.1:9464` (the port the system chose for port 0). */
  readonly address: string;
  close(): Promise<void>;
}

/** Starts listening; rejects when the address cannot be bound (in use, not local). */
export async function startReaperServer(options: ReaperServerOptions): Promise<ReaperServer> {
  const server = http.createServer((req, res) => {
    void answer(req.url ?? '/', options).then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const text = (status: number, body: string): Answer => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });

async function answer(url: string, options: ReaperServerOptions): Promise<Answer> {
  const path = url.split('?')[0];
  switch (path) {
    case '/metrics':
      return { status: 200, type: options.metrics.registry.contentType, body: await options.metrics.registry.metrics() };
    case '/healthz': {
      const problem = await catalogProblem(options.pingCatalog);
      return problem === null ? text(200, 'ok') : text(503, `catalog unreachable: ${problem}`);
    }
    case '/readyz': {
      const problem = await catalogProblem(options.pingCatalog);
      if (problem !== null) return text(503, `catalog unreachable: ${problem}`);
      return options.passed() ? text(200, 'ready') : text(503, 'no pass finished yet');
    }
    default:
      return text(404, 'not found: try /metrics, /healthz or /readyz');
  }
}

/** Null when the catalog answered in time; otherwise why not, in one line. */
async function catalogProblem(ping: () => Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([ping(), timeout]);
    return null;
  } catch (err) {
    return errorText(err).split('\n')[0]!;
  } finally {
    clearTimeout(timer);
  }
}
