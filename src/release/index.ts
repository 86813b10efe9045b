/**
 * A registry-format release of the provider for the platform this runs on: the plugin
 * bundled, made a single executable (no Node.js needed where it runs), zipped under
 * Terraform's names, and published into a release directory with SHA256SUMS and the
 * provider network mirror protocol's JSON, merged with the platforms already there.
 *
 * Everything is checked before anything is built, and built in a scratch directory before
 * anything is placed: bad input or a failed build leaves the release directory as it was.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bundlePlugin, packageVersion, parseSourceAddress, pluginEntry, PROVIDER_SOURCE, terraformPlatform } from '../install';
import { packageHashV1, sha256File, zipHash } from './hashes';
import { executableName, providerDir, sumsName, zipName } from './layout';
import { mergeBuild, readReleaseFiles, writeReleaseFiles } from './network-mirror';
import { buildSingleExecutable } from './sea';
import { checkReleaseVersion } from './version';
import { writeExecutableZip } from './zip';

export { packageHashV1, sha256File, zipHash, parseSha256Sums, formatSha256Sums, type PackageFile } from './hashes';
export { checkReleaseVersion } from './version';
export { executableName, providerDir, sumsName, versionJsonName, zipName, INDEX_JSON } from './layout';
export { writeExecutableZip } from './zip';
export { buildSingleExecutable } from './sea';

/** The platforms a single executable can be built for (the executable is a copy of Node). */
const SUPPORTED_OS: readonly string[] = ['linux', 'darwin'];

/** Options of `buildRelease`; `source` and `version` are checked as given. */
export interface ReleaseOptions {
  readonly outDir: string;
  /** `HOST/NAMESPACE/TYPE` (any case, as Terraform takes it); this project's default address when absent. */
  readonly source?: string;
  /** The release's version; package.json's when absent. */
  readonly version?: string;
  /** Told when a step begins, for progress lines. */
  readonly onStep?: (step: ReleaseStep) => void;
}

export type ReleaseStep = 'bundling' | 'single-executable' | 'zipping' | 'publishing';

/** What a release wrote for this platform. */
export interface ReleaseResult {
  /** The source address as Terraform writes it (lower-cased): what `required_providers` names. */
  readonly source: string;
  readonly version: string;
  /** Terraform's platform name, e.g. linux_amd64. */
  readonly platform: string;
  /** The provider's directory: the network mirror's and the packed filesystem mirror's. */
  readonly providerDir: string;
  readonly zipFile: string;
  readonly sha256SumsFile: string;
  /** What the lock file records: `h1:` of the package, `zh:` of the zip. */
  readonly hashes: { readonly h1: string; readonly zh: string };
  /** Every platform the version now has in this directory. */
  readonly platforms: readonly string[];
}

/** Thrown for input that is wrong (not a failed build): the caller names the option. */
export class ReleaseInputError extends Error {
  constructor(
    readonly option: 'source' | 'version',
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseInputError';
  }
}

function checked<T>(option: 'source' | 'version', check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new ReleaseInputError(option, err instanceof Error ? err.message : String(err));
  }
}

/** Builds and publishes the release for this platform. */
export async function buildRelease(options: ReleaseOptions): Promise<ReleaseResult> {
  const sourceText = options.source ?? PROVIDER_SOURCE;
  const source = checked('source', () => parseSourceAddress(sourceText));
  const version = options.version === undefined ? packageVersion() : checked('version', () => checkReleaseVersion(options.version!));
  const platform = terraformPlatform();
  if (!SUPPORTED_OS.includes(process.platform)) throw new Error(`releases are built on Linux or macOS, not ${process.platform}`);
  const entry = pluginEntry('single-file');
  const dir = providerDir(path.resolve(options.outDir), source);
  // Read first: a damaged directory is reported before minutes of building.
  const existing = existsSync(dir) ? readReleaseFiles(dir, source.type, version) : undefined;

  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(path.join(dir, '.release-'));
  try {
    options.onStep?.('bundling');
    const bundle = await bundlePlugin({ entry, outfile: path.join(scratch, 'plugin.cjs'), version });
    options.onStep?.('single-executable');
    const executable = await buildSingleExecutable({ main: bundle, output: path.join(scratch, executableName(source.type, version)), scratchDir: scratch });
    options.onStep?.('zipping');
    const zip = zipName(source.type, version, platform);
    const scratchZip = path.join(scratch, zip);
    await writeExecutableZip({ executable, entryName: executableName(source.type, version), zipFile: scratchZip });
    const h1 = packageHashV1([{ name: executableName(source.type, version), sha256: await sha256File(executable) }]);
    const zipSha256 = await sha256File(scratchZip);
    const zh = zipHash(zipSha256);

    options.onStep?.('publishing');
    const merged = mergeBuild(existing ?? readReleaseFiles(dir, source.type, version), { version, platform, zipName: zip, zipSha256, hashes: [h1, zh] });
    const zipFile = path.join(dir, zip);
    renameSync(scratchZip, zipFile);
    writeReleaseFiles(dir, source.type, version, merged);
    return {
      source: `${source.host}/${source.namespace}/${source.type}`,
      version,
      platform,
      providerDir: dir,
      zipFile,
      sha256SumsFile: path.join(dir, sumsName(source.type, version)),
      hashes: { h1, zh },
      platforms: Object.keys(merged.version.archives).sort(),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
