/**
 * Command-line parsing on `util.parseArgs`, with messages written for people: its own
 * errors mention internals (positional arguments, `--` escapes) that do not apply here.
 * The arguments are first read loosely as tokens and checked one by one, so the first
 * problem is named exactly; then parsed strictly for typed values.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../terminal/errors';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The values of parsed options: strings for string options (arrays when repeatable), true for flags given. */
export type OptionValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K] extends { type: 'string'; multiple: true } ? string[] : O[K] extends { type: 'string' } ? string : boolean;
};

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const satisfies OptionsConfig;

/** Options of every command that reads the catalog. */
export const CATALOG_OPTIONS = {
  'catalog-url': { type: 'string' },
  'catalog-schema': { type: 'string' },
} as const satisfies OptionsConfig;

/**
 * Checks `args` against `options` and returns the values. `command` names the command for
 * the pointer to its help (undefined: the top level).
 */
export function parseOptions<const O extends OptionsConfig>(command: string | undefined, args: readonly string[], options: O): OptionValues<O> {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, tokens: true, allowPositionals: true });
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument '${token.value}'`, command);
    }
    const spec = Object.prototype.hasOwnProperty.call(options, token.name) ? options[token.name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option '${token.rawName}'`, command);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option '${token.rawName}' takes no value`, command);
      continue;
    }
    if (token.value === undefined) throw new UsageError(`option '${token.rawName}' needs a value`, command);
    if (!token.inlineValue && token.value.startsWith('-')) {
      // parseArgs would take the next option as the value: almost always a forgotten value.
      throw new UsageError(
        `option '${token.rawName}' needs a value, but the next argument is the option '${token.value}' ` +
          `(for a value that starts with '-', write ${token.rawName}=VALUE)`,
        command,
      );
    }
    if (token.value.trim() === '') throw new UsageError(`option '${token.rawName}' needs a non-empty value`, command);
  }
  return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
}

/** A positive number of seconds from an option's value, in milliseconds. */
export function secondsOption(command: string, name: string, value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds * 1000;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0) || seconds > 86_400) {
    throw new UsageError(`option '--${name}' must be a positive number of seconds, at most 86400, not '${value}'`, command);
  }
  return Math.round(seconds * 1000);
}
