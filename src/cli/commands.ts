/**
 * The commands, their options and their help. Kept apart from the implementations so that
 * `--help`, `--version` and usage errors answer without loading PostgreSQL or esbuild.
 */
import { COMMON_OPTIONS, type OptionsConfig } from './args';

export const PROG = 'adaptive-access';

export const INSTALL_OPTIONS = {
  ...COMMON_OPTIONS,
  dir: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const REAP_OPTIONS = {
  ...COMMON_OPTIONS,
  'catalog-url': { type: 'string' },
  'catalog-schema': { type: 'string' },
  watch: { type: 'boolean' },
  'max-sleep': { type: 'string' },
  poll: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export interface CommandInfo {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
}

export const TOP_HELP = `${PROG}: operate time-limited, per-person PostgreSQL access

Usage:
  ${PROG} <command> [options]
  ${PROG} help <command>

Commands:
  install   Install the Terraform provider into a local filesystem mirror (works offline)
  reap      End expired grants: terminate their sessions, drop their roles, record it

Options:
  -h, --help      Show this help; '${PROG} <command> --help' shows a command's
  -V, --version   Print the version
      --debug     Show stack traces with errors

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database (reap)
  ADAPTIVE_CATALOG_KEY   Key that decrypts admin passwords stored in the catalog (reap)
  NO_COLOR               Set to turn colours off (they are used only on a terminal)

Exit codes: 0 success, 1 failure, 2 usage error.
`;

export const INSTALL_HELP = `Usage: ${PROG} install [--dir DIR] [--json]

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
      --json      Print the result as one JSON object on stdout (progress stays on stderr)
      --debug     Show stack traces with errors
  -h, --help      Show this help

Exit codes: 0 installed, 1 failure, 2 usage error.
`;

export const REAP_HELP = `Usage: ${PROG} reap [--catalog-url URL] [--watch] [--json]

Ends expired grants on every target in the catalog: terminates their open sessions, drops
their login roles, and records each in the catalog (credential revoked as 'expired', an
'expire' audit event). PostgreSQL already refuses an expired password; reap finishes the
job, and also removes managed roles past their expiry that the catalog lost track of.

Options:
      --catalog-url URL      The catalog database, postgres://user:password@host:5432/db.
                             Default: ADAPTIVE_CATALOG_URL (preferable: arguments are
                             visible to other users of the machine).
      --catalog-schema NAME  Schema of the catalog tables (default: adaptive)
      --watch                Keep running: reap, sleep until the next expiry, repeat. Stops
                             cleanly on SIGINT or SIGTERM (systemd, a Kubernetes Deployment).
      --max-sleep SECONDS    With --watch: rescan every target at least this often (default 60)
      --poll SECONDS         With --watch: check the catalog this often for grants issued
                             meanwhile that expire sooner (default 5)
      --json                 A JSON report on stdout; with --watch, one JSON object per
                             line per event
      --debug                Show stack traces with errors
  -h, --help                 Show this help

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database, when --catalog-url is not given
  ADAPTIVE_CATALOG_KEY   Key that decrypts admin passwords stored in the catalog (not
                         needed for targets whose admin password is in AWS Secrets Manager)

Exit codes: 0 every expired role was reaped (or there was none); 1 a target could not be
reaped or a role could not be dropped (it is left disabled and retried on the next run);
2 usage error. With --watch: 0 when stopped by SIGINT or SIGTERM, 1 if it cannot start;
problems while running are reported as events and retried.
`;

export const COMMANDS: readonly CommandInfo[] = [
  { name: 'install', summary: 'Install the Terraform provider into a local filesystem mirror', help: INSTALL_HELP },
  { name: 'reap', summary: 'End expired grants', help: REAP_HELP },
];

/** Commands the operator CLI will have but this version does not. */
export const PLANNED_COMMANDS: readonly string[] = ['status', 'audit', 'check', 'demo'];
