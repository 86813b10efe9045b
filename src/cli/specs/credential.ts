import { CATALOG_OPTIONS, COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const CREDENTIAL_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CATALOG_OPTIONS,
  endpoint: { type: 'string' },
  member: { type: 'string' },
  ttl: { type: 'string' },
  json: { type: 'boolean' },
  env: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const CREDENTIAL = defineCommand({
  name: 'credential',
  summary: 'Issue an eligible member a credential on demand, or run a command with one',
  options: CREDENTIAL_OPTIONS,
  takesCommand: true,
  help: `Usage: ${PROG} credential --endpoint NAME --member EMAIL [--ttl 15m] [--json | --env]
       ${PROG} credential --endpoint NAME --member EMAIL [--ttl 15m] -- COMMAND [ARGS...]

Issues a member an on-demand credential on an endpoint: a login role of its own (never the
member's standing one), in the endpoint's access role, recorded in the catalog with a
'grant.ephemeral' audit event. The member must belong to a group that lists the endpoint
(a group with credential_delivery = "none" says exactly that and nothing more); otherwise
the command fails naming the groups that do, and nothing is issued.

Without a command, the credential is printed on stdout (username, password, host, port,
database, sslmode, uri, expires_at) and lives until it expires, when the reaper drops it.

With '-- COMMAND ARGS...', the command runs with PGHOST, PGPORT, PGDATABASE, PGUSER,
PGPASSWORD and PGSSLMODE set in its environment (never on its command line), stdin, stdout
and stderr inherited; PGSSLROOTCERT too when the target has a tls_root_cert (a file of its
own, mode 0600, removed when the command exits) or trusts the system store (system). When it exits, the credential is revoked at once (its sessions ended,
its role dropped) and ${PROG} exits with the command's exit code. SIGINT (Ctrl-C) and
SIGTERM are passed on to the command; once it exits the credential is revoked and the exit
code is 128 + the signal's number. While the command runs the credential is renewed before
it expires, up to the endpoint's ttl from the moment it was issued; stderr says when that
limit is reached (new logins are refused after it, and the reaper ends its sessions).
The command does not receive ADAPTIVE_CATALOG_URL or ADAPTIVE_CATALOG_KEY.

Options:
      --endpoint NAME        The endpoint (an adaptive_endpoint name)
      --member EMAIL         The member the credential is for
      --ttl DURATION         How long the password works, e.g. 90s, 15m, 1h (default 15m,
                             or the endpoint's ttl when that is shorter; never longer)
      --json                 Print the credential as one JSON object: { username, password,
                             host, port, database, sslmode, uri, expires_at, not_after,
                             member, endpoint, group }
      --env                  Print shell-quoted 'export PGHOST=...' lines, for
                             eval "$(${PROG} credential ... --env)"
      --catalog-url URL      The catalog database, postgres://user:password@host:5432/db.
                             Default: ADAPTIVE_CATALOG_URL (preferable: arguments are
                             visible to other users of the machine).
      --catalog-schema NAME  Schema of the catalog tables (default: adaptive)
      --debug                Show stack traces with errors
  -h, --help                 Show this help

Environment:
  ADAPTIVE_CATALOG_URL   The catalog database, when --catalog-url is not given
  ADAPTIVE_CATALOG_KEY   Key that decrypts admin passwords stored in the catalog (not
                         needed for targets whose admin password is in AWS Secrets Manager)

The password is written only to stdout (printed forms) or into the command's environment;
progress and errors on stderr never hold it.

Exit codes: 0 issued and printed; 1 failure (not eligible, ttl too long, endpoint unknown,
target unreachable: nothing issued); 2 usage error. With a command: the command's exit
code; 128 + the signal's number when stopped by SIGINT or SIGTERM; 127 (126) when the
command is not found (cannot be run); 1 when nothing could be issued, or when the command
succeeded but the credential could not be revoked (the reaper drops it at its expiry).
`,
  async run(values, out, command) {
    const { credential } = await import('../credential');
    return credential(values, out, command);
  },
});
