/**
 * The demo's two calls into the runtime, kept together: one reaper pass over every target
 * in the catalog (what `adaptive-access reap` runs), and reading the audit log.
 */
import { openCatalogReader, openRuntime, parseCatalogKey, type AuditRecord, type ReapReport } from '../runtime';

/** Where the demo's catalog is, and its key (hex). */
export interface DemoCatalog {
  readonly url: string;
  readonly key: string;
}

const APPLICATION_NAME = 'adaptive-access demo';

/** One reaper pass, as `adaptive-access reap` makes it. */
export async function reapExpired(catalog: DemoCatalog): Promise<ReapReport> {
  const runtime = await openRuntime({ catalog: { url: catalog.url, key: parseCatalogKey(catalog.key) }, applicationName: APPLICATION_NAME });
  try {
    return await runtime.reap();
  } finally {
    await runtime.close();
  }
}

/** The catalog's audit log, oldest first. */
export async function readAuditLog(catalog: DemoCatalog): Promise<AuditRecord[]> {
  const reader = await openCatalogReader({ url: catalog.url, applicationName: APPLICATION_NAME });
  try {
    return await reader.readAudit();
  } finally {
    await reader.close();
  }
}

export type { AuditRecord, ReapReport };
