/**
 * Provider source addresses, `HOST/NAMESPACE/TYPE`, checked by Terraform's rules: a mistyped
 * address is refused before anything is written, instead of surfacing later as a
 * `terraform init` that finds no provider in the mirror. The one check for every command
 * that takes an address (`install --source`, `release --source`): Terraform compares
 * addresses case-insensitively and looks providers up under the lower-cased form, so that
 * is the form returned, and the form mirror and release paths are made of.
 */

/** The three parts of a source address, lower-cased as Terraform compares them. */
export interface SourceAddress {
  readonly host: string;
  readonly namespace: string;
  readonly type: string;
}

// A DNS label: letters, digits and inner hyphens, at most 63 characters; a hostname at most 253.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(?=[^:]{1,253}(?::|$))${LABEL}(?:\\.${LABEL})*(?::([0-9]{1,5}))?$`);
// Namespaces and types: letters, digits and inner hyphens, at most 64 characters.
const PART = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Splits and checks `host/namespace/type`; throws an Error saying what is wrong. */
export function parseSourceAddress(source: string): SourceAddress {
  const parts = source.split('/');
  if (parts.length !== 3) {
    throw new Error(`Provider source address must be host/namespace/type (e.g. registry.example.corp/platform/adaptive), got ${JSON.stringify(source)}`);
  }
  // Terraform compares addresses case-insensitively and writes them lower-cased.
  const [host = '', namespace = '', type = ''] = parts.map((part) => part.toLowerCase());
  const port = HOST.exec(host)?.[1];
  if (!HOST.test(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new Error(`the host ${JSON.stringify(parts[0])} of ${JSON.stringify(source)} is not a hostname (DNS labels of letters, digits and inner hyphens, at most 253 characters, optionally :port)`);
  }
  for (const [what, value, given] of [['namespace', namespace, parts[1]], ['type', type, parts[2]]] as const) {
    if (!PART.test(value)) {
      throw new Error(`the ${what} ${JSON.stringify(given)} of ${JSON.stringify(source)} must be 1 to 64 letters, digits and hyphens, starting and ending with a letter or digit`);
    }
  }
  return { host, namespace, type };
}

/** The address as Terraform writes it: `host/namespace/type`, lower-cased. */
export function normalSourceAddress(source: string): string {
  const { host, namespace, type } = parseSourceAddress(source);
  return `${host}/${namespace}/${type}`;
}
