/**
 * The `adaptive-access` command: finds the command, parses its options, runs it and turns
 * the outcome into an exit code (0 success, 1 failure, 2 usage error). Implementations are
 * loaded only once their command is chosen, so help and usage errors stay instant.
 */
import { parseOptions } from './args';
import { COMMANDS, findCommand, PROG, TOP_HELP } from './commands';
import { EXIT_OK, reportError, UsageError } from '../terminal/errors';
import { Output, type Io } from '../terminal/output';
import { packageVersion } from '../install/version';

const TOP_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  debug: { type: 'boolean' },
} as const;

/** Prints help text, with headings in bold on a terminal. */
function printHelp(out: Output, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const heading = /^([A-Z][A-Za-z ]*:)(.*)$/.exec(line);
    out.line(heading ? `${out.paint('bold', heading[1] ?? '')}${heading[2] ?? ''}` : line);
  }
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command '${name}'; the commands are: ${COMMANDS.map((c) => c.name).join(', ')}`);
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const out = new Output(io);
  // Known before parsing, so that even a failure to parse can show its trace.
  // Not from after a command's `--`: what follows it belongs to the command `credential` runs.
  const debug = ownArguments(argv).includes('--debug');
  let command: string | undefined;
  try {
    // Options before the command belong to the top level (`adaptive-access --debug reap`).
    let at = 0;
    while (at < argv.length && argv[at]!.startsWith('-') && argv[at] !== '--') at++;
    const top = parseOptions(undefined, argv.slice(0, at), TOP_OPTIONS);
    if (argv[at] === '--') at++;
    if (top.help) {
      printHelp(out, TOP_HELP);
      return EXIT_OK;
    }
    if (top.version) {
      out.line(`${PROG} ${packageVersion()}`);
      return EXIT_OK;
    }
    const name = argv[at];
    const rest = argv.slice(at + 1);
    if (name === undefined) throw new UsageError(`missing command; the commands are: ${COMMANDS.map((c) => c.name).join(', ')}`);

    if (name === 'help') {
      const topic = parseHelpTopic(rest);
      if (topic === undefined) printHelp(out, TOP_HELP);
      else printHelp(out, findCommand(topic)?.help ?? '');
      return EXIT_OK;
    }
    const spec = findCommand(name);
    if (spec === undefined) throw unknownCommand(name);
    command = name;
    // A command that runs another one keeps what follows `--` as that command's own.
    const dashes = spec.takesCommand === true ? rest.indexOf('--') : -1;
    const values = parseOptions(name, dashes === -1 ? rest : rest.slice(0, dashes), spec.options);
    if (values.help) {
      printHelp(out, spec.help);
      return EXIT_OK;
    }
    return await spec.run(values, out, dashes === -1 ? undefined : rest.slice(dashes + 1));
  } catch (err) {
    return reportError(err, out, { prog: command === undefined ? PROG : `${PROG} ${command}`, debug });
  }
}

/** The arguments up to the first `--` after the command's name: the rest may be another program's. */
function ownArguments(argv: readonly string[]): readonly string[] {
  const name = argv.findIndex((a) => !a.startsWith('-'));
  const dashes = name === -1 ? -1 : argv.indexOf('--', name + 1);
  return dashes === -1 ? argv : argv.slice(0, dashes);
}

/** `help [command]`: the command asked about, checked. */
function parseHelpTopic(args: readonly string[]): string | undefined {
  const options = args.filter((a) => a.startsWith('-'));
  if (options.length > 0) throw new UsageError(`unknown option '${options[0]!}' for 'help'`);
  if (args.length > 1) throw new UsageError(`'help' takes one command name, not ${args.length}`);
  const topic = args[0];
  if (topic !== undefined && findCommand(topic) === undefined) throw unknownCommand(topic);
  return topic;
}

/** The process entry point (see bin/adaptive-access.js). */
export function main(): void {
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // Only a bug in the error reporting itself lands here.
      process.stderr.write(`${PROG}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
