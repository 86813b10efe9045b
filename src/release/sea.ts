/**
 * A single executable of a CommonJS bundle, with Node's single executable application
 * support (https://nodejs.org/api/single-executable-applications.html): the bundle becomes
 * a preparation blob (`node --experimental-sea-config`), which postject injects into a copy
 * of the running Node binary. The result runs where no Node.js is installed, on the
 * platform of the Node that built it (it is that binary).
 *
 * In the executable `require` reaches only Node's built-in modules: the bundle must hold
 * everything it loads (bundle.ts keeps it that way).
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The fuse Node's binary carries for postject to flip (documented with the SEA support). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Runs postject's `inject` in a Node child process: its ELF writer prints warnings about
 * Node's notes sections straight to stderr, which are noise on the command's progress lines
 * (they are kept for the error when injecting fails), and its ~100 MB of working memory is
 * given back when the child ends.
 */
const INJECT = `
const [postject, file, blob, options] = process.argv.slice(1);
require(postject).inject(file, 'NODE_SEA_BLOB', require('node:fs').readFileSync(blob), JSON.parse(options))
  .catch((err) => { process.stderr.write('postject: ' + (err && err.message) + '\\n'); process.exit(1); });
`;

/** Options of `buildSingleExecutable`. */
export interface SingleExecutableOptions {
  /** The CommonJS bundle that becomes the program (one file, requiring only built-ins). */
  readonly main: string;
  /** Where to write the executable. */
  readonly output: string;
  /** A private directory for the configuration and the blob. */
  readonly scratchDir: string;
  /** The Node.js binary to build from; the running one by default. */
  readonly node?: string;
}

/** Builds the executable; failures name the step. */
export async function buildSingleExecutable(options: SingleExecutableOptions): Promise<string> {
  const node = options.node ?? process.execPath;
  const blob = path.join(options.scratchDir, 'sea-prep.blob');
  const config = path.join(options.scratchDir, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: options.main,
      output: blob,
      // Node prints the warning on stderr, but nothing may reach Terraform ahead of the
      // plugin's handshake, and each of its many starts would repeat it.
      disableExperimentalSEAWarning: true,
      // V8's compiled code goes into the blob: the plugin starts several times per command.
      useCodeCache: true,
    }),
  );
  // Without NODE_OPTIONS: a preload of the caller's (tsx, test hooks) must not shape the blob.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  await run(node, ['--experimental-sea-config', config], { env });

  copyFileSync(node, options.output);
  chmodSync(options.output, 0o755);
  const darwin = process.platform === 'darwin';
  // macOS refuses a signed binary that was changed: the signature goes, then an ad hoc one.
  if (darwin) await run('codesign', ['--remove-signature', options.output]);
  const injectOptions = { sentinelFuse: SEA_FUSE, ...(darwin ? { machoSegmentName: 'NODE_SEA' } : {}) };
  try {
    await run(process.execPath, ['-e', INJECT, require.resolve('postject'), options.output, blob, JSON.stringify(injectOptions)], { env, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const said = ((err as { stderr?: string }).stderr ?? '').split('\n').filter((line) => line.startsWith('postject: ')).join(' ');
    throw new Error(`cannot inject the program into a copy of ${node} (${said || errorMessage(err)}); the official Node.js builds carry the single executable fuse`, { cause: err });
  }
  if (darwin) await run('codesign', ['--sign', '-', options.output]);
  return options.output;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
