import { COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const RELEASE_OPTIONS = {
  ...COMMON_OPTIONS,
  out: { type: 'string' },
  source: { type: 'string' },
  version: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const RELEASE = defineCommand({
  name: 'release',
  summary: 'Build a registry-format release of the provider for this platform (zip, SHA256SUMS, mirror JSON)',
  options: RELEASE_OPTIONS,
  help: `Usage: ${PROG} release --out DIR [--source HOST/NAMESPACE/TYPE] [--version V] [--json]

Builds the provider as a single executable that needs no Node.js where it runs, for the
platform this runs on (the executable embeds this Node.js binary), and writes into
DIR/HOST/NAMESPACE/TYPE/:
  terraform-provider-TYPE_V_OS_ARCH.zip   the package Terraform installs
  terraform-provider-TYPE_V_SHA256SUMS     sha256sum lines of the zips
  index.json, V.json                       the provider network mirror protocol's JSON
                                           (with each zip's h1: and zh: hashes)
Serve DIR over HTTPS as a network mirror, or use it as a packed filesystem mirror.
Releasing the same version on another OS or architecture into the same DIR adds that
platform and keeps the others.

Options:
      --out DIR        The release directory; created if missing (required)
      --source ADDR    The provider's source address, HOST/NAMESPACE/TYPE in lowercase
                       (default: adaptive-access.local/access/adaptive)
      --version V      The release's version (default: this package's version)
      --json           Print the result as one JSON object on stdout (progress stays on stderr)
      --debug          Show stack traces with errors
  -h, --help           Show this help

Exit codes: 0 released, 1 failure, 2 usage error.
`,
  async run(values, out) {
    const { release } = await import('../release');
    return release(values, out);
  },
});
