/**
 * Ties the watch loop to its metrics and probes: one read-only catalog connection of its own
 * (so a probe answers while a pass holds the runtime, and says the truth when the loop has
 * dropped a broken runtime), the metrics, and the HTTP server. Without --metrics-addr the
 * loop gets a no-op observer and nothing is opened.
 */
import type { CatalogReader, CatalogSettings, ReapReport } from '../runtime';
import { openReaderFor } from './catalog';
import { UsageError } from '../terminal/errors';

/** What the watch loop tells the outside about its passes. */
export interface PassObserver {
  passed(report: ReapReport, at: Date): void;
  catalogFailed(): void;
  leasesHeld(count: number): void;
  close(): Promise<void>;
}

const NO_OBSERVER: PassObserver = { passed: () => undefined, catalogFailed: () => undefined, leasesHeld: () => undefined, close: async () => undefined };

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface), checked before anything starts. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(`option '--metrics-addr' must be HOST:PORT (e.g. 0.0.0.0:9464, 127.0.0.1:9464, [::1]:9464 or :9464), not "${value}"`, 'reap');
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Starts the metrics server when an address is given; `announce` is told where it listens. */
export async function observePasses(
  address: { host: string; port: number } | undefined,
  catalog: { settings: CatalogSettings; schema: string | undefined },
  announce: (where: string) => void,
): Promise<PassObserver> {
  if (address === undefined) return NO_OBSERVER;
  // prom-client and the server load only when asked for: `reap` once does not pay for them.
  const [{ ReaperMetrics }, { startReaperServer }] = await Promise.all([import('./reaper-metrics'), import('./reaper-server')]);
  let reader: CatalogReader | undefined;
  /** Runs `fn` on the reader, opening it as needed; a failure drops it, so the next call reconnects. */
  const withReader = async <T>(fn: (r: CatalogReader) => Promise<T>): Promise<T> => {
    try {
      reader ??= await openReaderFor('reap metrics', catalog.settings, catalog.schema);
      return await fn(reader);
    } catch (err) {
      const broken = reader;
      reader = undefined;
      await broken?.close().catch(() => undefined);
      throw err;
    }
  };
  const metrics = new ReaperMetrics(() => withReader((r) => r.credentialCounts()));
  let passes = 0;
  const server = await startReaperServer({
    ...address,
    metrics,
    pingCatalog: () => withReader((r) => r.ping()),
    passed: () => passes > 0,
  });
  announce(server.address);
  return {
    passed(report, at) {
      passes++;
      metrics.observePass(report, at);
    },
    catalogFailed: () => metrics.observeCatalogError(),
    leasesHeld: (count) => metrics.setLeasesHeld(count),
    async close() {
      await server.close();
      await reader?.close().catch(() => undefined);
    },
  };
}
