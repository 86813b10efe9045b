/**
 * The `provider "adaptive" {}` block: where the catalog is, its encryption key, AWS
 * defaults. `configure` checks the settings and opens the catalog read-only at once (a
 * missing or unreachable catalog is a plan-time error). Before the first
 * change of an apply (never during plan, refresh or import: those only read) it runs one
 * cheap reaper pass over grants the catalog knows have expired.
 */
import { attr, ResourceError, type ConfigOf, type Logger } from '../provider';
import {
  CATALOG_URL_ENV,
  CatalogError,
  openRuntime,
  resolveCatalogSettings,
  ValidationError,
  type CatalogErrorCode,
  type CatalogSettings,
  type Runtime,
} from '../runtime';
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
    aws_sts_endpoint: attr.string({
      optional: true,
      description: 'Default STS endpoint override for resources that assume an IAM role (`arn`, `aws_role_arn`): an STS VPC endpoint, or a local stand-in for testing.',
    }),
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

/**
 * Turns the provider block into the client resources use. The catalog is opened here,
 * read-only, once per process: a plan whose apply could not reach the catalog fails now
 * rather than passing, and the one pool is what `runtime()` reads with (nothing migrated,
 * nothing written). The first change makes it writable (migrating it, e.g. creating the
 * schema of a new catalog) and runs the reaper pass.
 */
export async function configureAdaptive(config: ProviderConfig, logger: Logger, redact: (secret: string) => void): Promise<AdaptiveClient> {
  const settings = catalogSettings(config);
  redact(settings.url);
  const schema = known(config.catalog_schema);
  const reapOnRun = config.reap_on_run !== false;
  const reading = Promise.resolve(await openForReading(config, settings, schema));
  let writing: Promise<Runtime> | undefined;
  let onDemand: Promise<Runtime> | undefined;
  return {
    plannedEndpoints: new Set<string>(),
    awsDefaults: {
      ...(known(config.aws_region) ? { region: known(config.aws_region)! } : {}),
      ...(known(config.aws_endpoint) ? { endpoint: known(config.aws_endpoint)! } : {}),
      ...(known(config.aws_sts_endpoint) ? { stsEndpoint: known(config.aws_sts_endpoint)! } : {}),
    },
    runtime: () => reading,
    runtimeForChange() {
      // Once per process, and only on the way to a write: a plan must leave targets and catalog as they are.
      writing ??= (async () => {
        const opened = await reading;
        await opened.allowWrites();
        if (reapOnRun) await reapExpired(opened, logger);
        return opened;
      })();
      return writing;
    },
    runtimeForOnDemand() {
      onDemand ??= (async () => {
        const opened = await reading;
        await opened.allowWrites();
        return opened;
      })();
      return onDemand;
    },
  };
}

/** What the diagnostic says when the catalog cannot be opened, by the kind of problem. */
const OPEN_FAILURES: Partial<Record<CatalogErrorCode, { readonly summary: string; readonly fix?: string }>> = {
  connect: {
    summary: 'Cannot reach the catalog database',
    fix: `Check catalog_url (or ${CATALOG_URL_ENV}) and that the database exists and accepts connections from here: a plan that cannot read the catalog cannot tell what an apply would do.`,
  },
  version: { summary: 'Catalog database from a newer provider' },
  outdated: { summary: 'Catalog database needs an upgrade' },
  invalid: { summary: 'Invalid catalog_schema' },
};

/** The catalog, opened read-only; a failure is a diagnostic on the provider block. */
async function openForReading(config: ProviderConfig, settings: CatalogSettings, schema: string | undefined): Promise<Runtime> {
  try {
    return await openRuntime({ catalog: settings, readOnly: true, ...(schema ? { schema } : {}) });
  } catch (err) {
    const failure = err instanceof CatalogError ? OPEN_FAILURES[err.code] : undefined;
    if (!(err instanceof CatalogError) || failure === undefined) throw err;
    const field = err.code === 'invalid' ? 'catalog_schema' : 'catalog_url';
    const message = err.message.charAt(0).toUpperCase() + err.message.slice(1);
    throw new ResourceError(failure.summary, {
      detail: failure.fix === undefined ? message : `${message}\n\n${failure.fix}`,
      ...(known((config as Record<string, unknown>)[field]) !== undefined ? { path: [field] } : {}),
    });
  }
}

/** The cheap reaper pass: only targets whose catalog records show expired, unrevoked grants. */
async function reapExpired(runtime: Runtime, logger: Logger): Promise<void> {
  const report = await runtime.reap({ onlyRecorded: true });
  for (const result of report.results) {
    if (result.reaped.length > 0) logger.info('reaped expired grants', { target: result.target, roles: result.reaped.map((r) => r.role) });
  }
  for (const e of report.errors) logger.warn('reaper could not finish on a target', { target: e.target, error: e.error });
}
