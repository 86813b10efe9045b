/** `adaptive-access check`: not written yet. */
import type { OptionValues } from './args';
import { CliError } from './errors';
import type { Output } from './output';
import type { CHECK_OPTIONS } from './specs/check';

export function check(_values: OptionValues<typeof CHECK_OPTIONS>, _out: Output): Promise<number> {
  return Promise.reject(new CliError('not written yet'));
}
