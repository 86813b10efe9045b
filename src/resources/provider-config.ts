/**
 * The `provider "adaptive" {}` block: where the catalog is, its encryption key, AWS
 * defaults. `configure` checks the settings at once (a missing catalog is a plan-time
 * error) but connects only when a resource first needs the catalog. Before the first
 * change of an apply (never during plan, refresh or import: those only read) it runs one
 * cheap reaper pass over grants the catalog knows have expired.
 */
import { attr, ResourceError, type ConfigOf, type Logger } from '../provider';
import { Catalog, CATALOG_URL_ENV, resolveCatalogSettings, type CatalogSettings } from '../runtime/catalog';
import { AccessService } from '../runtime/service';
import { ValidationError } from '../runtime/types';
import type { AdaptiveClient } from './common';

export const providerSchema = {
  description:
    'Time-limited, per-person access to PostgreSQL: targets, permission sets, endpoints with a ttl, and groups of people. ' +
    'State of record lives in a catalog database (`catalog_url`).',
  attributes: {
    catalog_url: attr.string({
      optional: true,
      sensitive: true,
      description: 'PostgreSQL URL of the catalog database (e.g. `postgres://user:pass@host:5432/adaptive`). Default: the `ADAPTIVE_CATALOG_URL` environment variable.',
    }),
    catalog_key: attr.string({
      optional: true,
      sensitive: true,
      description:
        'Key that encrypts admin passwords and client keys stored in the catalog: 32 random bytes as 64 hex characters or base64 ' +
        '(`openssl rand -hex 32`). Default: `ADAPTIVE_CATALOG_KEY`. Needed whenever a target stores a secret here: `password`, `tls_key_file`, `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token`.',
    }),
    catalog_schema: attr.string({ optional: true, description: 'Schema of the catalog tables (default `adaptive`).' }),
    aws_region: attr.string({ optional: true, description: 'Default AWS region for `adaptive_resource`s that use AWS Secrets Manager.' }),
    aws_endpoint: attr.string({ optional: true, description: 'Default Secrets Manager endpoint override (VPC endpoints, local testing).' }),
    reap_on_run: attr.bool({
      optional: true,
      description:
        'During `terraform apply`, before the provider\'s first change, run the reaper over expired grants the catalog knows of: ' +
        'their sessions are ended and their roles dropped (default true). `terraform plan` and refresh never reap or write; ' +
        'between applies, run `adaptive-access reap`.',
    }),
  },
} as const;

type ProviderConfig = ConfigOf<typeof providerSchema>;

function known(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The catalog settings from the provider block and the environment. A problem becomes a
 * diagnostic that names the setting (the framework would otherwise call it an unexpected
 * error) and points at the attribute when the block sets it; the runtime's messages never
 * repeat the URL or the key.
 */
function catalogSettings(config: ProviderConfig): CatalogSettings {
  try {
    return resolveCatalogSettings({ url: known(config.catalog_url), key: known(config.catalog_key) });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const [first] = err.issues;
    const field = first?.field ?? 'catalog_url';
    const message = err.issues.map((i) => i.message.charAt(0).toUpperCase() + i.message.slice(1)).join('\n');
    const unset = field === 'catalog_url' && known(config.catalog_url) === undefined && !process.env[CATALOG_URL_ENV]?.trim();
    throw new ResourceError(unset ? 'No catalog database configured' : `Invalid ${field}`, {
      detail: message,
      ...(known((config as Record<string, unknown>)[field]) !== undefined ? { path: [field] } : {}),
    });
  }
}

/** Turns the provider block into the client resources use. */
export function configureAdaptive(config: ProviderConfig, logger: Logger, redact: (secret: string) => void): AdaptiveClient {
  const settings = catalogSettings(config);
  redact(settings.url);
  const schema = known(config.catalog_schema);
  const reapOnRun = config.reap_on_run !== false;
  let opening: Promise<AccessService> | undefined;
  let reaping: Promise<AccessService> | undefined;
  const service = (): Promise<AccessService> => {
    opening ??= (async () => new AccessService(await Catalog.open(settings.url, { key: settings.key, ...(schema ? { schema } : {}) })))();
    return opening;
  };
  return {
    plannedEndpoints: new Set<string>(),
    awsDefaults: {
      ...(known(config.aws_region) ? { region: known(config.aws_region)! } : {}),
      ...(known(config.aws_endpoint) ? { endpoint: known(config.aws_endpoint)! } : {}),
    },
    service,
    serviceForChange() {
      // Once per process, and only on the way to a write: a plan must leave targets and catalog as they are.
      reaping ??= (async () => {
        const opened = await service();
        if (reapOnRun) await reapExpired(opened, logger);
        return opened;
      })();
      return reaping;
    },
  };
}

/** The cheap reaper pass: only targets whose catalog records show expired, unrevoked grants. */
async function reapExpired(service: AccessService, logger: Logger): Promise<void> {
  const report = await service.reap({ onlyRecorded: true });
  for (const result of report.results) {
    if (result.reaped.length > 0) logger.info('reaped expired grants', { target: result.target, roles: result.reaped.map((r) => r.role) });
  }
  for (const e of report.errors) logger.warn('reaper could not finish on a target', { target: e.target, error: e.error });
}
