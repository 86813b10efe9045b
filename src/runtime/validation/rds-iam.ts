/**
 * `adaptive_resource.use_rds_iam`: IAM database authentication for the admin (Amazon RDS,
 * Aurora). The admin's password is a token signed with AWS credentials for this host, port
 * and user, made afresh for each connection; the server hands it to AWS to check.
 *
 * Decisions:
 * - The token replaces the admin password, so `password`, `password_wo`, a password in
 *   `connection_url` and `use_aws_secrets` (whose secret holds a password) are refused
 *   with it, each naming its attribute. `username` stays required: the token is for a user.
 * - `ssl_mode` must be `require` or stronger: the token travels as a cleartext password
 *   (PostgreSQL asks for it with the password message, no challenge), so over a plain
 *   connection anyone on the path could replay it for up to 15 minutes. Omitted, ssl_mode
 *   is libpq's `prefer`, which is refused too.
 * - The AWS settings are those of Secrets Manager where they mean the same: `aws_region`,
 *   the static keys (`aws_access_key_id`, `aws_secret_access_key` or its write-only form,
 *   `aws_session_token`) with the same pairing rules, else the SDK's default chain.
 *   `aws_secret_name` and `aws_endpoint` mean nothing here (signing calls no AWS endpoint)
 *   and are refused rather than ignored.
 * - A missing region cannot be judged at plan time (the provider's `aws_region` and the
 *   SDK's configuration may give it): the runtime reports it, naming aws_region.
 */
import type { SslMode, ValidationIssue } from '../types';
import { isAbsent, isUnknown, issue, typeName } from './common';
import { checkAwsKeyPairs } from './aws-keys';

/** The sslmodes that encrypt every connection: the only ones an IAM token may travel over. */
export const RDS_IAM_SSL_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];

/** Why an sslmode is refused with IAM authentication, or undefined when it is accepted. */
export function rdsIamSslModeRefusal(mode: SslMode): string | undefined {
  if (RDS_IAM_SSL_MODES.includes(mode)) return undefined;
  return (
    `IAM tokens travel as passwords: ssl_mode must be require or stronger (require, verify-ca or verify-full; best verify-full with ` +
    `tls_root_cert set to the RDS CA bundle) with use_rds_iam = true, not "${mode}"`
  );
}

/** The attributes use_rds_iam reads, with what each is. */
interface RdsIamInput {
  readonly use_rds_iam?: unknown;
  readonly use_aws_secrets?: unknown;
  readonly username?: unknown;
  readonly password?: unknown;
  readonly password_wo?: unknown;
  readonly aws_secret_name?: unknown;
  readonly aws_endpoint?: unknown;
  readonly ssl_mode?: unknown;
  readonly aws_access_key_id?: unknown;
  readonly aws_secret_access_key?: unknown;
  readonly aws_secret_access_key_wo?: unknown;
  readonly aws_session_token?: unknown;
}

/** Whether use_rds_iam is known to be true. */
export function usesRdsIam(input: { readonly use_rds_iam?: unknown }): boolean {
  return input.use_rds_iam === true;
}

/** The type of use_rds_iam itself. */
export function checkRdsIamFlag(input: RdsIamInput, out: ValidationIssue[]): void {
  const value = input.use_rds_iam;
  if (isUnknown(value) || isAbsent(value) || typeof value === 'boolean') return;
  out.push(issue('use_rds_iam', `must be true or false, got ${typeName(value)}`));
}

/**
 * The rules above, for an input with use_rds_iam = true. `ssl_mode` is the mode as given
 * (absent: libpq's default, prefer); an unknown one is judged at apply.
 */
export function checkRdsIam(input: RdsIamInput, defaultSslMode: SslMode, out: ValidationIssue[]): void {
  if (input.use_aws_secrets === true) {
    out.push(
      issue(
        'use_rds_iam',
        'cannot be combined with use_aws_secrets = true: with IAM authentication the admin password is a token, not a stored secret; ' +
          'remove use_aws_secrets (and aws_secret_name), or set use_rds_iam = false',
      ),
    );
  }
  if (isAbsent(input.username)) {
    out.push(issue('username', 'is required with use_rds_iam = true: the IAM token is signed for a database user; set username to the admin role granted rds_iam'));
  }
  for (const field of ['password', 'password_wo'] as const) {
    if (isAbsent(input[field]) || isUnknown(input[field])) continue;
    out.push(issue(field, `must not be set when use_rds_iam = true: the admin password is an IAM token made for each connection; remove ${field}, or set use_rds_iam = false`));
  }
  if (input.use_aws_secrets !== true) {
    for (const field of ['aws_secret_name', 'aws_endpoint'] as const) {
      if (isAbsent(input[field]) || isUnknown(input[field])) continue;
      out.push(issue(field, `is only used with use_aws_secrets = true (signing an IAM token calls no AWS endpoint); remove ${field}`));
    }
  }
  const mode = isAbsent(input.ssl_mode) ? defaultSslMode : input.ssl_mode;
  // A mode that is not one of libpq's is reported on ssl_mode already.
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') out.push(issue('ssl_mode', rdsIamSslModeRefusal(mode)!));
  checkAwsKeyPairs(input, out);
}
