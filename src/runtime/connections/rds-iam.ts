/**
 * IAM database authentication for the admin (Amazon RDS, Aurora): the password of every
 * admin connection is a token from `@aws-sdk/rds-signer`, a SigV4-presigned
 * `rds-db:connect` request for this host, port and user, valid 15 minutes.
 *
 * A token is made for each connection, never kept: node-postgres asks for the password
 * (an async function here) when the server asks for it, so a pool that opens a connection
 * an hour after the first still sends a valid token. Signing is local (no AWS call), so
 * this costs a hash per connection; the credentials are resolved once per target (the
 * SDK's chain caches them and refreshes them before they expire).
 *
 * The token is signed for `host` (not tls_server_name): RDS checks it against the endpoint
 * the client names. Tokens and the keys that sign them are registered as secrets before use.
 * The AWS SDK is loaded on first use only, as for Secrets Manager (./secrets).
 */
import type { SignerConfig } from '@aws-sdk/rds-signer';
import { errorText } from '../errors';
import { runtimeSecrets } from '../secret-registry';
import { awsCredentials } from './aws-credentials';
import { ValidationError, type RdsIamAuth } from '../types';
import { rdsIamSslModeRefusal } from '../validation/rds-iam';
import { ConnectionError, redact } from './errors';

/** What signing needs of a resolved target. */
export interface IamSigningTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly sslMode: Parameters<typeof rdsIamSslModeRefusal>[0];
}

/** The admin password of a target with IAM authentication: a fresh token per call. */
export type IamPassword = () => Promise<string>;

type SigningCredentials = NonNullable<SignerConfig['credentials']>;

/**
 * The credentials IAM tokens are signed with: the static keys when configured, else the AWS
 * SDK's default chain (environment, profile, SSO, instance or task role), whose keys are
 * registered as secrets as it resolves them. Every token of a target is signed with what
 * this returns; with `roleArn`, the role's temporary credentials from STS
 * (./aws-credentials), for which the keys above only sign the AssumeRole request.
 */
export async function iamSigningCredentials(auth: RdsIamAuth): Promise<SigningCredentials> {
  if (auth.roleArn !== undefined) {
    // The role's temporary credentials sign; the keys (or the default chain) only sign the AssumeRole.
    const assumed = await awsCredentials(auth);
    if (typeof assumed === 'function') return assumed;
  }
  if (auth.accessKeyId !== undefined && auth.secretAccessKey !== undefined) {
    runtimeSecrets.register(auth.accessKeyId, auth.secretAccessKey, auth.sessionToken);
    return {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: auth.secretAccessKey,
      ...(auth.sessionToken !== undefined ? { sessionToken: auth.sessionToken } : {}),
    };
  }
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const chain = fromNodeProviderChain();
  return async (options) => {
    const credentials = await chain(options);
    runtimeSecrets.register(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
    return credentials;
  };
}

/** An SDK error that means there was no region to sign for. */
function isMissingRegion(err: unknown): boolean {
  return err instanceof Error && /region is missing/i.test(err.message);
}

/** Signing failed: no region (a ValidationError naming aws_region) or no usable credentials. */
function signingFailed(target: IamSigningTarget, auth: RdsIamAuth, err: unknown): Error {
  if (isMissingRegion(err)) {
    return new ValidationError([
      {
        field: 'aws_region',
        message: `required to sign the IAM authentication token of target "${target.name}": set aws_region (or the provider's aws_region), or AWS_REGION in the environment, or a region in the AWS profile`,
      },
    ]);
  }
  const detail = redact(errorText(err), [auth.secretAccessKey, auth.sessionToken]);
  return new ConnectionError({
    cause: 'secret_access_denied',
    message: `Target "${target.name}": cannot sign an IAM authentication token for user "${target.user}" (${detail}).`,
    fix: 'set aws_access_key_id and aws_secret_access_key, or provide credentials through the AWS SDK default chain (environment, profile, SSO, instance or task role)',
    target: target.name,
    host: target.host,
    port: target.port,
  });
}

/**
 * The password function of a target with IAM authentication. Refuses an sslmode weaker
 * than require before anything is signed (the plan-time check, repeated here because the
 * settings may come from the catalog).
 */
export async function rdsIamPassword(target: IamSigningTarget, auth: RdsIamAuth): Promise<IamPassword> {
  const refusal = rdsIamSslModeRefusal(target.sslMode);
  if (refusal !== undefined) throw new ValidationError([{ field: 'ssl_mode', message: refusal }]);
  const credentials = await iamSigningCredentials(auth);
  const { Signer } = await import('@aws-sdk/rds-signer');
  const signer = new Signer({
    hostname: target.host,
    port: target.port,
    username: target.user,
    credentials,
    ...(auth.region !== undefined ? { region: auth.region } : {}),
  });
  return async () => {
    let token: string;
    try {
      token = await signer.getAuthToken();
    } catch (err) {
      throw signingFailed(target, auth, err);
    }
    runtimeSecrets.register(token);
    return token;
  };
}
