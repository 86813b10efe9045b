/**
 * How the commands that read the catalog find and open it: `--catalog-url` or
 * ADAPTIVE_CATALOG_URL, ADAPTIVE_CATALOG_KEY for stored secrets, `--catalog-schema`; and
 * the messages when that goes wrong (a usage error for missing or malformed settings, a
 * failure with a fix for an unreachable or newer catalog). Never shows a password.
 */
import {
  CATALOG_KEY_ENV,
  CATALOG_URL_ENV,
  CatalogError,
  openCatalogReader,
  openRuntime,
  resolveCatalogSettings,
  ValidationError,
  type CatalogReader,
  type CatalogSettings,
  type Runtime,
} from '../runtime';
import { CliError, EXIT_USAGE, UsageError } from '../terminal/errors';

/** The catalog options, as parsed. */
export interface CatalogValues {
  readonly 'catalog-url'?: string | undefined;
  readonly 'catalog-schema'?: string | undefined;
}

/** The catalog's URL and key from the options and the environment. */
export function catalogSettingsFrom(command: string, values: CatalogValues, env: Readonly<Record<string, string | undefined>>): CatalogSettings {
  const given = values['catalog-url'];
  if (given === undefined && (env[CATALOG_URL_ENV] ?? '').trim() === '') {
    throw new UsageError(
      `no catalog database given: pass --catalog-url URL or set ${CATALOG_URL_ENV} (a URL such as postgres://user:password@host:5432/adaptive)`,
      command,
    );
  }
  try {
    return resolveCatalogSettings({ url: given }, env);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const issue = err.issues[0];
    if (issue?.field === 'catalog_url') {
      throw new UsageError(`the catalog URL (${given === undefined ? CATALOG_URL_ENV : '--catalog-url'}) ${issue.message}`, command);
    }
    // A malformed key: its message names ADAPTIVE_CATALOG_KEY and how to make one.
    throw new CliError(issue?.message ?? err.message, undefined, { exitCode: EXIT_USAGE });
  }
}

/**
 * Opens the runtime over the catalog (migrating it if needed), for commands that act
 * (`reap`, `check --target`), with failures an operator can act on.
 */
export function openRuntimeFor(command: string, settings: CatalogSettings, schema: string | undefined, targetApplicationName?: string): Promise<Runtime> {
  return explainingOpen(() => openRuntime({ catalog: settings, schema, applicationName: `adaptive-access ${command}`, targetApplicationName }));
}

/**
 * Opens the catalog read-only, for commands that only look (`status`, `audit`): nothing
 * is migrated or written, and the reader has no verb that could.
 */
export function openReaderFor(command: string, settings: CatalogSettings, schema: string | undefined): Promise<CatalogReader> {
  return explainingOpen(() => openCatalogReader({ url: settings.url, schema, applicationName: `adaptive-access ${command}` }));
}

/** Runs an open; a catalog that cannot be opened becomes a failure with a fix. */
async function explainingOpen<T>(open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (err instanceof CatalogError && err.code === 'connect') {
      throw new CliError(err.message, `Check --catalog-url / ${CATALOG_URL_ENV} and that the database accepts connections.`, { cause: err });
    }
    if (err instanceof CatalogError && err.code === 'version') {
      throw new CliError(err.message, 'Use the adaptive-access release that migrated the catalog, or a newer one.', { cause: err });
    }
    if (err instanceof CatalogError && err.code === 'outdated') {
      // The message says how to upgrade it.
      throw new CliError(err.message, undefined, { cause: err });
    }
    throw err;
  }
}

/**
 * The environment without ADAPTIVE_CATALOG_KEY, for commands that decrypt nothing: a
 * missing or malformed key must not stop someone from reading who has access.
 */
export function withoutCatalogKey(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const { [CATALOG_KEY_ENV]: _key, ...rest } = env;
  return rest;
}
