/** `adaptive-access status`: not written yet. */
import type { OptionValues } from './args';
import { CliError } from './errors';
import type { Output } from './output';
import type { STATUS_OPTIONS } from './specs/status';

export function status(_values: OptionValues<typeof STATUS_OPTIONS>, _out: Output): Promise<number> {
  return Promise.reject(new CliError('not written yet'));
}
