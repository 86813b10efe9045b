/**
 * The checks of what a release is named by: its source address (where Terraform will look
 * for it) and its version. Both become directory and file names of the release and parts
 * of mirror URLs, so they are refused before anything is built or written.
 */

/** A provider source address, split: `registry.example.com/platform/adaptive`. */
export interface ReleaseSource {
  readonly host: string;
  readonly namespace: string;
  readonly type: string;
}

/** Terraform's normal form of a hostname (lowercase DNS labels), with an optional port. */
const HOST = /^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
/** Terraform's namespace rule (letters, digits, inner dashes, at most 64), in its lowercase normal form. */
const NAMESPACE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** A provider type: it also names the executable, terraform-provider-<type>. */
const TYPE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** Semantic versions, as Terraform's version constraints read them. */
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/**
 * Splits and checks `HOST/NAMESPACE/TYPE`; throws an Error saying which part is wrong and
 * what it must look like. Only normal forms (lowercase) are taken: Terraform looks the
 * provider up under its lowercased address, and a mirror's paths must match it exactly.
 */
export function parseReleaseSource(text: string): ReleaseSource {
  const parts = text.split('/');
  if (parts.length !== 3) {
    throw new Error(`${JSON.stringify(text)} is not HOST/NAMESPACE/TYPE (three parts separated by '/', e.g. registry.example.com/platform/adaptive)`);
  }
  const [host = '', namespace = '', type = ''] = parts;
  const port = /:(\d+)$/.exec(host)?.[1];
  if (!HOST.test(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new Error(`the host ${JSON.stringify(host)} is not a lowercase hostname (DNS labels of letters, digits and inner dashes, optionally :PORT)`);
  }
  if (!NAMESPACE.test(namespace)) {
    throw new Error(`the namespace ${JSON.stringify(namespace)} must be 1-64 lowercase letters, digits and inner dashes`);
  }
  if (!TYPE.test(type)) {
    throw new Error(`the type ${JSON.stringify(type)} must be 1-64 lowercase letters, digits and inner dashes`);
  }
  return { host, namespace, type };
}

/** Checks a release version; throws an Error saying what it must look like. */
export function checkReleaseVersion(version: string): string {
  if (!VERSION.test(version)) throw new Error(`${JSON.stringify(version)} is not a semantic version (1.2.3 or 1.2.3-rc.1)`);
  return version;
}
