/**
 * Static AWS keys on `adaptive_resource` (Secrets Manager and IAM authentication alike):
 * `aws_access_key_id` with `aws_secret_access_key` (or its write-only form), and a session
 * token only with both. Neither key: the AWS SDK's default credential chain.
 */
import type { ValidationIssue } from '../types';
import { isAbsent, isUnknown, issue } from './common';
import { eitherPresent } from './write-only-secrets';

interface AwsKeyInput {
  readonly aws_access_key_id?: unknown;
  readonly aws_secret_access_key?: unknown;
  readonly aws_secret_access_key_wo?: unknown;
  readonly aws_session_token?: unknown;
}

/** true / false when presence is known, undefined when the value is unknown. */
function presence(value: unknown): boolean | undefined {
  if (isUnknown(value)) return undefined;
  return !isAbsent(value);
}

/** Both keys or neither; a session token goes with temporary keys. */
export function checkAwsKeyPairs(input: AwsKeyInput, out: ValidationIssue[]): void {
  const id = presence(input.aws_access_key_id);
  const key = eitherPresent(input.aws_secret_access_key, input.aws_secret_access_key_wo);
  const token = presence(input.aws_session_token);
  if (id === true && key === false) out.push(issue('aws_secret_access_key', 'is required when aws_access_key_id is set; give both keys or neither (the standard AWS configuration is used then)'));
  if (key === true && id === false) {
    const keyField = presence(input.aws_secret_access_key) === true ? 'aws_secret_access_key' : 'aws_secret_access_key_wo';
    out.push(issue('aws_access_key_id', `is required when ${keyField} is set; give both keys or neither (the standard AWS configuration is used then)`));
  }
  if (token === true && id === false && key === false) {
    out.push(issue('aws_access_key_id', 'is required when aws_session_token is set (a session token goes with temporary keys)'));
    out.push(issue('aws_secret_access_key', 'is required when aws_session_token is set (a session token goes with temporary keys)'));
  }
}
