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
  /** Runs the command with its parsed options; resolves to the exit code. */
  run(values: OptionValues<O>, out: Output): Promise<number>;
}

/** Declares a command, typing `run`'s values from `options`. */
export function defineCommand<const O extends OptionsConfig>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}
