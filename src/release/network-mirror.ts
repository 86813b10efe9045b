/**
 * The provider network mirror protocol's JSON
 * (https://developer.hashicorp.com/terraform/internals/provider-network-mirror-protocol)
 * and the SHA256SUMS file, merged with what a release directory already holds: releasing
 * the same version on another platform adds that platform and keeps the others.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatSha256Sums, parseSha256Sums } from './hashes';
import { INDEX_JSON, sumsName, versionJsonName } from './layout';

/** `index.json`: `{"versions":{"1.2.3":{}}}` */
export interface MirrorIndex {
  readonly versions: Record<string, Record<string, never>>;
}

/** One platform's archive in `<version>.json`. */
export interface MirrorArchive {
  /** Relative to the version JSON's URL. */
  readonly url: string;
  readonly hashes: readonly string[];
}

/** `<version>.json`: `{"archives":{"linux_amd64":{"url":...,"hashes":["h1:...","zh:..."]}}}` */
export interface MirrorVersion {
  readonly archives: Record<string, MirrorArchive>;
}

/** What a provider directory holds for one version. */
export interface ReleaseFiles {
  readonly index: MirrorIndex;
  readonly version: MirrorVersion;
  /** SHA256SUMS: zip name to hex SHA-256. */
  readonly sums: Map<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

function readIndex(file: string): MirrorIndex {
  if (!existsSync(file)) return { versions: {} };
  const json = readJson(file);
  if (!isObject(json) || !isObject(json.versions)) throw new Error(`${file} is not a network mirror index ({"versions":{...}})`);
  return { versions: Object.fromEntries(Object.keys(json.versions).map((v) => [v, {}])) };
}

function readVersion(file: string): MirrorVersion {
  if (!existsSync(file)) return { archives: {} };
  const json = readJson(file);
  if (!isObject(json) || !isObject(json.archives)) throw new Error(`${file} is not a network mirror version file ({"archives":{...}})`);
  const archives: Record<string, MirrorArchive> = {};
  for (const [platform, archive] of Object.entries(json.archives)) {
    if (!isObject(archive) || typeof archive.url !== 'string' || !Array.isArray(archive.hashes) || !archive.hashes.every((h) => typeof h === 'string')) {
      throw new Error(`${file}: the archive of ${platform} has no url and hashes`);
    }
    archives[platform] = { url: archive.url, hashes: archive.hashes };
  }
  return { archives };
}

/** Reads what `dir` holds for `version` (empty when nothing); throws, naming the file, on a damaged one. */
export function readReleaseFiles(dir: string, type: string, version: string): ReleaseFiles {
  const sumsFile = path.join(dir, sumsName(type, version));
  let sums: Map<string, string>;
  try {
    sums = existsSync(sumsFile) ? parseSha256Sums(readFileSync(sumsFile, 'utf8')) : new Map<string, string>();
  } catch (err) {
    throw new Error(`${sumsFile}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { index: readIndex(path.join(dir, INDEX_JSON)), version: readVersion(path.join(dir, versionJsonName(version))), sums };
}

/** One platform's build, to merge in. */
export interface PlatformBuild {
  readonly version: string;
  readonly platform: string;
  readonly zipName: string;
  readonly zipSha256: string;
  readonly hashes: readonly string[];
}

/** `files` with `build` added (replacing an earlier build of the same version and platform). */
export function mergeBuild(files: ReleaseFiles, build: PlatformBuild): ReleaseFiles {
  const sums = new Map(files.sums);
  sums.set(build.zipName, build.zipSha256);
  return {
    index: { versions: { ...files.index.versions, [build.version]: {} } },
    version: { archives: { ...files.version.archives, [build.platform]: { url: build.zipName, hashes: [...build.hashes] } } },
    sums,
  };
}

/** Writes the files, each through a temporary file so a server never serves half of one. */
export function writeReleaseFiles(dir: string, type: string, version: string, files: ReleaseFiles): void {
  writeAtomically(path.join(dir, sumsName(type, version)), formatSha256Sums(files.sums));
  writeAtomically(path.join(dir, versionJsonName(version)), `${JSON.stringify(sortedKeys(files.version), null, 2)}\n`);
  // The index last: a version is listed only once its archives are.
  writeAtomically(path.join(dir, INDEX_JSON), `${JSON.stringify(sortedKeys(files.index), null, 2)}\n`);
}

/** Keys of nested objects in order, so repeated releases give the same bytes. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys(value[k])]));
}

function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}
