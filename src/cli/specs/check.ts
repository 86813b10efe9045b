import { CATALOG_OPTIONS, COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const CHECK_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CATALOG_OPTIONS,
  target: { type: 'string' },
  url: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  database: { type: 'string' },
  user: { type: 'string' },
  sslmode: { type: 'string' },
  sslrootcert: { type: 'string' },
  sslcert: { type: 'string' },
  sslkey: { type: 'string' },
  'tls-server-name': { type: 'string' },
  'aws-secret': { type: 'string' },
  'aws-region': { type: 'string' },
  'aws-endpoint': { type: 'string' },
  'connect-timeout': { type: 'string' },
  admin: { type: 'boolean' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

export const CHECK = defineCommand({
  name: 'check',
  summary: 'Test a connection as adaptive_resource would, and list what the role can see and do',
  options: CHECK_OPTIONS,
  help: `Usage: ${PROG} check --target NAME
       ${PROG} check [--url URL | --host HOST --port PORT --database DB --user USER] [options]

Connects the way adaptive_resource does (the same sslmode rules, certificates and AWS
Secrets Manager lookup), then reports: the server and its version, whether TLS is used and
what was verified, whether the role can manage access (what adaptive_resource needs, with
the SQL that grants what is missing), and what the role can see and do: the databases it
can connect to, the schemas it can use, and its privileges on each table. Like a "Test
Connection" button; it changes nothing.

A target from the catalog (--target) is checked as the provider checks it: as the admin
that manages access. Other connections (a member's credential, an admin you are about to
configure) are checked as given; add --admin to require the admin privileges too.

Options:
      --target NAME          A target in the catalog (an adaptive_resource name). Needs the
                             catalog, and ADAPTIVE_CATALOG_KEY unless its admin secret is in
                             AWS Secrets Manager.
      --url URL              postgres://user@host:port/database?sslmode=verify-full&...
                             (sslmode, sslrootcert, sslcert, sslkey, connect_timeout)
      --host HOST            Default: PGHOST, else 127.0.0.1
      --port PORT            Default: PGPORT, else 5432
      --database DB          Default: PGDATABASE, else the user name
      --user USER            Default: PGUSER
      --sslmode MODE         disable, allow, prefer, require, verify-ca or verify-full
                             (libpq's meanings). Default: PGSSLMODE, else prefer
      --sslrootcert FILE     CA certificate(s), PEM. Default: PGSSLROOTCERT
      --sslcert FILE         Client certificate, PEM (mutual TLS). Default: PGSSLCERT
      --sslkey FILE          Client key, PEM. Default: PGSSLKEY
      --tls-server-name NAME Name to verify when HOST is an address or an alias
      --aws-secret NAME      Take the credentials from this AWS Secrets Manager secret
      --aws-region REGION    Its region (default: the AWS SDK's configuration)
      --aws-endpoint URL     Secrets Manager endpoint override (VPC endpoints, testing)
      --connect-timeout SECONDS  Give up connecting after this long (default 10)
      --admin                Fail unless the role can manage access (implied by --target)
      --catalog-url URL      With --target: the catalog database. Default: ADAPTIVE_CATALOG_URL
      --catalog-schema NAME  With --target: schema of the catalog tables (default: adaptive)
      --json                 One JSON object on stdout
      --debug                Show stack traces with errors
  -h, --help                 Show this help

Environment:
  PGPASSWORD             The password (a password in --url works too, but is visible in ps)
  PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY
                         Defaults, as for psql (with --aws-secret, the secret supplies
                         host, port, database and user, and PGPASSWORD is not used)
  ADAPTIVE_CATALOG_URL   With --target, when --catalog-url is not given
  ADAPTIVE_CATALOG_KEY   With --target: decrypts the admin password stored in the catalog

Exit codes: 0 connected (and, with --admin or --target, the role can manage access);
1 cannot connect, or the admin privileges are missing; 2 usage error (including a
certificate or key file that cannot be read, or is not valid PEM).
`,
  async run(values, out) {
    const { check } = await import('../check');
    return check(values, out);
  },
});
