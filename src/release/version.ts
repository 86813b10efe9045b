/**
 * The check of a release's version: it becomes part of directory, file and URL names of the
 * release, so it is refused before anything is built or written. (The release's source
 * address is checked by the install module's `parseSourceAddress`, the one rule for addresses.)
 */

/** Semantic versions, as Terraform's version constraints read them. */
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Checks a release version; throws an Error saying what it must look like. */
export function checkReleaseVersion(version: string): string {
  if (!VERSION.test(version)) throw new Error(`${JSON.stringify(version)} is not a semantic version (1.2.3 or 1.2.3-rc.1)`);
  return version;
}
