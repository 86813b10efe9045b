import { CATALOG_OPTIONS, COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const AUDIT_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CATALOG_OPTIONS,
  since: { type: 'string' },
  until: { type: 'string' },
  event: { type: 'string', multiple: true },
  target: { type: 'string' },
  member: { type: 'string' },
  group: { type: 'string' },
  endpoint: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const AUDIT = defineCommand({
  name: 'audit',
  summary: 'Show the audit log: grants, revocations, expiries and changes, filtered',
  options: AUDIT_OPTIONS,
  help: `Usage: ${PROG} audit [--since WHEN] [--event NAME] [--member EMAIL] [--json]

Prints the catalog's append-only audit log, oldest first: every grant, revocation, expiry
and extension, and every change to a target, authorization, endpoint or group. With more
matching events than --limit, the newest are shown and a note on stderr says so. Needs no
catalog key: event details never hold secrets.

Options:
      --catalog-url URL      The catalog database, postgres://user:password@host:5432/db.
                             Default: ADAPTIVE_CATALOG_URL.
      --catalog-schema NAME  Schema of the catalog tables (default: adaptive)
      --since WHEN           Events at or after WHEN: a time (2026-11-23T09:00:00Z, 2026-11-23;
                             UTC unless an offset is given) or a duration back from now
                             (90s, 30m, 24h, 7d)
      --until WHEN           Events before WHEN (same forms)
      --event NAME           Only these events; repeat or separate with commas: grant, grant.ephemeral,
                             revoke, expire, extend, resource.create|update|delete, and the same for
                             authorization, endpoint and group (group.* for all three)
      --target NAME          Only events about this target
      --member EMAIL         Only events about this member
      --group NAME           Only events about this group
      --endpoint NAME        Only events about this endpoint
      --limit N              At most the N newest matching events (default 100, at most 100000)
      --json                 One JSON object on stdout
      --debug                Show stack traces with errors
  -h, --help                 Show this help

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database, when --catalog-url is not given

Exit codes: 0 printed (also when nothing matched), 1 failure, 2 usage error.
`,
  async run(values, out) {
    const { audit } = await import('../audit');
    return audit(values, out);
  },
});
