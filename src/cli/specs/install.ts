import { COMMON_OPTIONS, type OptionsConfig } from '../args';
import { PROVIDER_SOURCE } from '../../install/mirror';
import { defineCommand, PROG } from '../spec';

export const INSTALL_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' },
  source: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const INSTALL = defineCommand({
  name: 'install',
  summary: 'Install the Terraform provider into a local filesystem mirror (works offline)',
  options: INSTALL_OPTIONS,
  help: `Usage: ${PROG} install [--dir DIR] [--source HOST/NAMESPACE/TYPE] [--json]

Bundles the provider plugin, installs it into a filesystem mirror that Terraform reads
without a registry or network, and writes a Terraform CLI configuration that points at
it. Prints how to use it: the CLI configuration to export (or merge into ~/.terraformrc)
and the required_providers block to paste. Running it again is safe: an unchanged build
gives identical files. Run it again after upgrading adaptive-access or moving Node.js (the
provider runs the Node.js that ran install).

Options:
      --dir DIR   Where to install; created if missing. Default: $XDG_DATA_HOME/adaptive-access,
                  or ~/.local/share/adaptive-access when XDG_DATA_HOME is unset.
                  Writes DIR/mirror/ (the provider package) and DIR/terraform.rc.
      --source HOST/NAMESPACE/TYPE
                  The provider's source address, e.g. your private registry's
                  registry.example.corp/platform/adaptive: the mirror path, the CLI
                  configuration and the printed required_providers block use it.
                  Default: ${PROVIDER_SOURCE}.
      --json      Print the result as one JSON object on stdout (progress stays on stderr)
      --debug     Show stack traces with errors
  -h, --help      Show this help

Exit codes: 0 installed, 1 failure, 2 usage error.
`,
  async run(values, out) {
    const { install } = await import('../install');
    return install(values, out);
  },
});
