/**
 * The catalog: the control-plane database holding resources, authorizations, endpoints,
 * groups, every issued credential and an append-only audit log, by name.
 */
export {
  Catalog,
  type CredentialListener,
  CATALOG_KEY_ENV,
  CATALOG_URL_ENV,
  DEFAULT_CATALOG_SCHEMA,
  resolveCatalogSettings,
  type CatalogOptions,
  type CatalogSettings,
} from './catalog';
export { CatalogStore, type CredentialCount, type ReaperLeases } from './store';
export { CATALOG_KEY_BYTES, CATALOG_KEY_HOWTO, catalogKeyId, openSecret, parseCatalogKey, sealSecret } from './crypto';
export { CatalogError, type CatalogErrorCode, type CatalogReference } from './errors';
export { CATALOG_MIGRATIONS, CATALOG_VERSION, migrateCatalog, type CatalogMigration, type MigrationResult } from './migrations';
export * from './records';
