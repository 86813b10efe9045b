/**
 * The commands and the overview help. Each command's options, help and loader are in
 * `specs/`; nothing here loads PostgreSQL, esbuild or Terraform code.
 */
import type { CommandSpec } from './spec';
import { PROG } from './spec';
import { AUDIT } from './specs/audit';
import { CHECK } from './specs/check';
import { CREDENTIAL } from './specs/credential';
import { DEMO } from './specs/demo';
import { INSTALL } from './specs/install';
import { REAP } from './specs/reap';
import { RELEASE } from './specs/release';
import { STATUS } from './specs/status';

export { PROG } from './spec';

/** In the order the overview lists them. */
export const COMMANDS: readonly CommandSpec[] = [DEMO, INSTALL, RELEASE, STATUS, CHECK, AUDIT, REAP, CREDENTIAL] as readonly CommandSpec[];

const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;

export const TOP_HELP = `${PROG}: operate time-limited, per-person PostgreSQL access

Usage:
  ${PROG} <command> [options]
  ${PROG} help <command>
  ${PROG} credential --endpoint E --member M -- <command> [args...]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(NAME_WIDTH)}${c.summary}`).join('\n')}

Options:
  -h, --help      Show this help; '${PROG} <command> --help' shows a command's
  -V, --version   Print the version
      --debug     Show stack traces with errors

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database (status, audit, reap, credential, check --target)
  ADAPTIVE_CATALOG_KEY   Key that decrypts admin passwords stored in the catalog (reap,
                         credential, check)
  NO_COLOR               Set to turn colours off (they are used only on a terminal)

Exit codes: 0 success, 1 failure, 2 usage error.
`;

/** The command called `name`, if there is one. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
