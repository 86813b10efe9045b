/**
 * The command line itself, run as a child process through the bin script: help on every
 * command, the version, usage errors (exit 2 with a pointer to the help), runtime failures
 * (exit 1, one line with the cause and the fix, a stack trace only with --debug), and
 * colour only on a terminal without NO_COLOR.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/install/version';
import { CLI_BIN, cliEnv, REPO_ROOT, runCli } from './run-cli';

const ESC = '\u001b[';
const scratch = mkdtempSync(path.join(os.tmpdir(), 'adaptive-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('help and version', () => {
  it.each([[['--help']], [['-h']], [['help']]])('%j prints the overview on stdout and exits 0', async (args) => {
    const r = await runCli(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^adaptive-access: /);
    expect(r.stdout).toMatch(/Usage:\n {2}adaptive-access <command> \[options\]/);
    expect(r.stdout).toMatch(/^ {2}install {6}Install the Terraform provider/m);
    expect(r.stdout).toMatch(/^ {2}reap {9}End expired grants/m);
    expect(r.stdout).toMatch(/^ {2}credential {3}Issue an eligible member a credential/m);
    expect(r.stdout).toContain('ADAPTIVE_CATALOG_URL');
    // Not a terminal: no colour.
    expect(r.stdout).not.toContain(ESC);
  });

  it.each([[['install', '--help']], [['install', '-h']], [['help', 'install']], [['install', '--dir', 'x', '--help']]])(
    '%j prints the install help',
    async (args) => {
      const r = await runCli(args);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^Usage: adaptive-access install \[--dir DIR\] \[--source HOST\/NAMESPACE\/TYPE\] \[--json\]/);
      expect(r.stdout).toContain('$XDG_DATA_HOME/adaptive-access');
      expect(r.stdout).toMatch(/^ {6}--source HOST\/NAMESPACE\/TYPE$/m);
      expect(r.stdout).toContain('Default: adaptive-access.local/access/adaptive.');
      expect(r.stdout).toContain('--json');
    },
  );

  it.each([[['reap', '--help']], [['reap', '-h']], [['help', 'reap']], [['reap', '--watch', '-h']]])('%j prints the reap help', async (args) => {
    const r = await runCli(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: adaptive-access reap \[--catalog-url URL\] \[--watch \[--metrics-addr HOST:PORT\]\] \[--json\]/);
    for (const text of ['--catalog-url URL', 'ADAPTIVE_CATALOG_URL', 'ADAPTIVE_CATALOG_KEY', '--watch', '--metrics-addr HOST:PORT', 'leases', 'SIGTERM', 'Exit codes:']) {
      expect(r.stdout).toContain(text);
    }
  });

  it.each(['demo', 'install', 'release', 'status', 'check', 'audit', 'reap', 'credential'])('%s --help and help %s print that command\'s usage, options and exit codes', async (name) => {
    for (const args of [[name, '--help'], ['help', name]]) {
      const r = await runCli(args);
      expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^Usage: adaptive-access ${name}\\b`));
      expect(r.stdout).toMatch(/^Options:$/m);
      expect(r.stdout).toMatch(/^ {2}-h, --help +Show this help$/m);
      expect(r.stdout).toMatch(/^Exit codes: 0 /m);
    }
  });

  it.each([[['--version']], [['-V']], [['--debug', '--version']]])('%j prints the version', async (args) => {
    const r = await runCli(args);
    expect(r).toEqual({ code: 0, signal: null, stdout: `adaptive-access ${packageVersion()}\n`, stderr: '' });
  });

  it('is what npm runs for the package bin, and through npm run cli', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string>; scripts?: Record<string, string> };
    expect(path.resolve(REPO_ROOT, pkg.bin?.['adaptive-access'] ?? '')).toBe(CLI_BIN);
    expect(pkg.scripts?.cli).toBe('node bin/adaptive-access.mjs');
  });
});

describe('usage errors exit 2 with a message and a pointer to the help', () => {
  const cases: Array<[string[], RegExp, string]> = [
    [[], /^adaptive-access: missing command; the commands are: demo, install, release, status, check, audit, reap, credential$/m, 'adaptive-access --help'],
    [['frobnicate'], /^adaptive-access: unknown command 'frobnicate'; the commands are: demo, install, release, status, check, audit, reap, credential$/m, 'adaptive-access --help'],
    [['--bogus'], /^adaptive-access: unknown option '--bogus'$/m, 'adaptive-access --help'],
    [['help', 'frobnicate'], /unknown command 'frobnicate'/, 'adaptive-access --help'],
    [['install', '--bogus'], /^adaptive-access install: unknown option '--bogus'$/m, 'adaptive-access install --help'],
    [['install', '-x'], /^adaptive-access install: unknown option '-x'$/m, 'adaptive-access install --help'],
    [['install', '--dir'], /^adaptive-access install: option '--dir' needs a value$/m, 'adaptive-access install --help'],
    [['install', '--dir', '--json'], /option '--dir' needs a value, but the next argument is the option '--json'/, 'adaptive-access install --help'],
    [['install', '--dir='], /option '--dir' needs a non-empty value/, 'adaptive-access install --help'],
    [['install', '--json=yes'], /option '--json' takes no value/, 'adaptive-access install --help'],
    [['install', 'somewhere'], /^adaptive-access install: unexpected argument 'somewhere'$/m, 'adaptive-access install --help'],
    [['reap', '--watch', '--wacth'], /^adaptive-access reap: unknown option '--wacth'$/m, 'adaptive-access reap --help'],
    [['reap', '--catalog-url'], /option '--catalog-url' needs a value/, 'adaptive-access reap --help'],
    [['reap', '--max-sleep', '5'], /option '--max-sleep' applies only with --watch/, 'adaptive-access reap --help'],
    [['reap', '--watch', '--poll', 'soon'], /option '--poll' must be a positive number of seconds/, 'adaptive-access reap --help'],
    [['reap', '--watch', '--max-sleep', '0'], /option '--max-sleep' must be a positive number of seconds/, 'adaptive-access reap --help'],
  ];
  it.each(cases)('%j', async (args, message, help) => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Run '${help}' for usage.`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('reap without a catalog names --catalog-url and ADAPTIVE_CATALOG_URL', async () => {
    const r = await runCli(['reap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^adaptive-access reap: no catalog database given: pass --catalog-url URL or set ADAPTIVE_CATALOG_URL/);
    // An empty variable is as good as none.
    expect((await runCli(['reap'], { env: { ADAPTIVE_CATALOG_URL: ' ' } })).code).toBe(2);
  });

  it('reap with a catalog URL that is not postgres:// says which setting is wrong', async () => {
    const flag = await runCli(['reap', '--catalog-url', 'mysql://db:3306/x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/the catalog URL \(--catalog-url\) must be a postgres:\/\/ or postgresql:\/\/ URL/);
    const env = await runCli(['reap'], { env: { ADAPTIVE_CATALOG_URL: 'not a url' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/the catalog URL \(ADAPTIVE_CATALOG_URL\) is not a URL/);
  });

  it('reap with a malformed catalog key says how to make one, without repeating it', async () => {
    const r = await runCli(['reap', '--catalog-url', 'postgres://u@127.0.0.1:1/db'], { env: { ADAPTIVE_CATALOG_KEY: 'abc123-not-a-key' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ADAPTIVE_CATALOG_KEY/);
    expect(r.stderr).toContain('openssl rand -hex 32');
    expect(r.stderr).not.toContain('abc123-not-a-key');
  });
});

describe('runtime failures exit 1 with one line: the cause and the fix', () => {
  it('an unreachable catalog: no stack trace, no password; --debug adds the trace', async () => {
    const url = 'postgres://reaper:hunter2-secret@127.0.0.1:1/adaptive';
    const r = await runCli(['reap'], { env: { ADAPTIVE_CATALOG_URL: url } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^adaptive-access reap: error: cannot connect to the catalog database reaper@127\.0\.0\.1:1\/adaptive: .*ECONNREFUSED.*\. Check --catalog-url \/ ADAPTIVE_CATALOG_URL and that the database accepts connections\.\n$/,
    );
    expect(r.stderr).not.toContain('hunter2');

    const debug = await runCli(['reap', '--debug'], { env: { ADAPTIVE_CATALOG_URL: url } });
    expect(debug.code).toBe(1);
    expect(debug.stderr.split('\n')[0]).toMatch(/^adaptive-access reap: error: cannot connect/);
    expect(debug.stderr).toMatch(/^\s+at /m);
    expect(debug.stderr).toMatch(/^caused by: CatalogError/m);
    expect(debug.stderr).not.toContain('hunter2');

    // --watch too: a catalog it cannot reach at start is the one failure that ends it.
    const watch = await runCli(['reap', '--watch'], { env: { ADAPTIVE_CATALOG_URL: url } });
    expect(watch.code).toBe(1);
    expect(watch.stderr).toMatch(/^adaptive-access reap: error: cannot connect to the catalog database/);
  });

  it('install into a path it cannot create', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, '');
    const r = await runCli(['install', '--dir', path.join(file, 'sub')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `adaptive-access install: error: cannot create the install directory ${path.join(file, 'sub')}: ` +
        `ENOTDIR: not a directory, mkdir '${path.join(file, 'sub')}'. Choose another one with --dir DIR, or fix its permissions.\n`,
    );
    const debug = await runCli(['install', '--debug', '--dir', path.join(file, 'sub')]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});

describe('colour', () => {
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
  function onTerminal(args: string, env: Readonly<Record<string, string>> = {}): string {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} ${args}`;
    return execFileSync('script', ['-qec', command, '/dev/null'], { env: cliEnv(env), encoding: 'utf8' });
  }

  it('is used on a terminal, and not with NO_COLOR or when piped', async () => {
    expect(onTerminal('--help')).toContain(`${ESC}1mUsage:${ESC}22m`);
    expect(onTerminal('frobnicate || true')).toContain(`${ESC}1madaptive-access:${ESC}22m`);
    expect(onTerminal('--help', { NO_COLOR: '1' })).not.toContain(ESC);
    expect(onTerminal('frobnicate || true', { NO_COLOR: '1' })).not.toContain(ESC);
    const piped = await runCli(['frobnicate']);
    expect(piped.stderr).not.toContain(ESC);
  });
});
