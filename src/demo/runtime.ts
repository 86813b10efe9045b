/**
 * The demo's two calls into the runtime, kept together: one reaper pass over every target
 * in the catalog (what `adaptive-access reap` runs), and reading the audit log.
 */
import { Catalog, parseCatalogKey, type AuditRecord } from '../runtime/catalog';
import { AccessService, type ReapReport } from '../runtime/service';

/** Where the demo's catalog is, and its key (hex). */
export interface DemoCatalog {
  readonly url: string;
  readonly key: string;
}

const APPLICATION_NAME = 'adaptive-access demo';

/** One reaper pass, as `adaptive-access reap` makes it. */
export async function reapExpired(catalog: DemoCatalog): Promise<ReapReport> {
  const service = new AccessService(await Catalog.open(catalog.url, { key: parseCatalogKey(catalog.key), applicationName: APPLICATION_NAME }));
  try {
    return await service.reap();
  } finally {
    await service.close();
  }
}

/** The catalog's audit log, oldest first. */
export async function readAuditLog(catalog: DemoCatalog): Promise<AuditRecord[]> {
  const opened = await Catalog.open(catalog.url, { key: parseCatalogKey(catalog.key), applicationName: APPLICATION_NAME });
  try {
    return await opened.readAudit();
  } finally {
    await opened.close();
  }
}

export type { AuditRecord, ReapReport };
