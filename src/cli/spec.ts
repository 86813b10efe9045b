/**
 * What a command is to the dispatcher: its name, one line for the overview, its help, its
 * options, and how to run it. Specs live in `specs/` and load their implementation only
 * once the command is chosen, so `--help` and usage errors answer without loading
 * PostgreSQL, esbuild or Terraform code.
 */
import type { OptionsConfig, OptionValues } from './args';
import type { Output } from '../terminal/output';

export const PROG = 'adaptive-access';

export interface CommandSpec<O extends OptionsConfig = OptionsConfig> {
  readonly name: string;
  /** One line for the overview (`adaptive-access --help`). */
  readonly summary: string;
  /** The full help text (`adaptive-access <command> --help`). */
  readonly help: string;
  readonly options: O;
  /**
   * Whether the command takes a command line of its own after `--` (`credential -- psql`):
   * everything after the first `--` is handed to `run` untouched instead of being parsed.
   */
  readonly takesCommand?: boolean;
  /**
   * Runs the command with its parsed options; resolves to the exit code. `command` is what
   * followed `--` (for a spec that `takesCommand`), undefined when there was no `--`.
   */
  run(values: OptionValues<O>, out: Output, command?: readonly string[]): Promise<number>;
}

/** Declares a command, typing `run`'s values from `options`. */
export function defineCommand<const O extends OptionsConfig>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}
