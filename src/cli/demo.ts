/** `adaptive-access demo`: not written yet. */
import type { OptionValues } from './args';
import { CliError } from './errors';
import type { Output } from './output';
import type { DEMO_OPTIONS } from './specs/demo';

export function demo(_values: OptionValues<typeof DEMO_OPTIONS>, _out: Output): Promise<number> {
  return Promise.reject(new CliError('not written yet'));
}
