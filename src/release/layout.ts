/**
 * Where a release's files go and what they are called. One directory per provider,
 * `<out>/<host>/<namespace>/<type>/`, holds the zips, SHA256SUMS and the network mirror's
 * JSON: served over HTTPS it is a provider network mirror (the JSON's URLs are relative to
 * it), read from disk it is a packed filesystem mirror (Terraform looks for exactly these
 * zip names there). The names are Terraform's (and its registry's) conventions.
 */
import path from 'node:path';
import type { SourceAddress } from '../install';

/** The provider's directory in a release tree. */
export function providerDir(outDir: string, source: SourceAddress): string {
  return path.join(outDir, source.host, source.namespace, source.type);
}

/** `terraform-provider-<type>_<version>_<os>_<arch>.zip` */
export function zipName(type: string, version: string, platform: string): string {
  return `terraform-provider-${type}_${version}_${platform}.zip`;
}

/** The executable inside the zip: `terraform-provider-<type>_v<version>`. */
export function executableName(type: string, version: string): string {
  return `terraform-provider-${type}_v${version}`;
}

/** `terraform-provider-<type>_<version>_SHA256SUMS` */
export function sumsName(type: string, version: string): string {
  return `terraform-provider-${type}_${version}_SHA256SUMS`;
}

/** The network mirror's list of versions. */
export const INDEX_JSON = 'index.json';

/** The network mirror's archives of one version. */
export function versionJsonName(version: string): string {
  return `${version}.json`;
}
