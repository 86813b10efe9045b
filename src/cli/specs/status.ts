import { CATALOG_OPTIONS, COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const STATUS_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CATALOG_OPTIONS,
  target: { type: 'string' },
  member: { type: 'string' },
  group: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const STATUS = defineCommand({
  name: 'status',
  summary: 'List live grants: who can reach which target, through which endpoint, for how long',
  options: STATUS_OPTIONS,
  help: `Usage: ${PROG} status [--target NAME] [--member EMAIL] [--json]

Lists the grants that are live in the catalog, per target and member: the endpoint and
group each came from, its login role, when it was granted and how long is left. A grant
past its expiry that has not been reaped yet is listed as expired (PostgreSQL already
refuses its login; '${PROG} reap' ends its sessions and drops its role). Reads the
catalog only: needs no catalog key, contacts no target, and shows no passwords.

Options:
      --catalog-url URL      The catalog database, postgres://user:password@host:5432/db.
                             Default: ADAPTIVE_CATALOG_URL.
      --catalog-schema NAME  Schema of the catalog tables (default: adaptive)
      --target NAME          Only grants on this target (an adaptive_resource name)
      --member EMAIL         Only this member's grants
      --group NAME           Only grants given by this group
      --endpoint NAME        Only grants through this endpoint
      --json                 One JSON object on stdout
      --debug                Show stack traces with errors
  -h, --help                 Show this help

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database, when --catalog-url is not given

Exit codes: 0 listed (also when nothing is live), 1 failure, 2 usage error.
`,
  async run(values, out) {
    const { status } = await import('../status');
    return status(values, out);
  },
});
