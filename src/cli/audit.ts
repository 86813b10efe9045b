/** `adaptive-access audit`: not written yet. */
import type { OptionValues } from './args';
import { CliError } from './errors';
import type { Output } from './output';
import type { AUDIT_OPTIONS } from './specs/audit';

export function audit(_values: OptionValues<typeof AUDIT_OPTIONS>, _out: Output): Promise<number> {
  return Promise.reject(new CliError('not written yet'));
}
