import { CATALOG_OPTIONS, COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const REAP_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CATALOG_OPTIONS,
  watch: { type: 'boolean' },
  'max-sleep': { type: 'string' },
  poll: { type: 'string' },
  json: { type: 'boolean' },
  'metrics-addr': { type: 'string' },
} as const satisfies OptionsConfig;

export const REAP = defineCommand({
  name: 'reap',
  summary: 'End expired grants: terminate their sessions, drop their roles, record it',
  options: REAP_OPTIONS,
  help: `Usage: ${PROG} reap [--catalog-url URL] [--watch [--metrics-addr HOST:PORT]] [--json]

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
                             Run several for availability: they share the targets through
                             leases in the catalog, and take over a stopped one's within
                             about a second.
      --max-sleep SECONDS    With --watch: rescan every target at least this often (default 60)
      --poll SECONDS         With --watch: check the catalog this often for grants issued
                             meanwhile that expire sooner (default 30). The catalog
                             notifies watchers of new grants at once: this is the safety
                             net when that notification connection is down
      --metrics-addr HOST:PORT
                             With --watch: serve Prometheus metrics on /metrics and the
                             probes /healthz (catalog reachable) and /readyz (and a first
                             pass done), e.g. 0.0.0.0:9464
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
`,
  async run(values, out) {
    const { reap } = await import('../reap');
    return reap(values, out);
  },
});
