/**
 * The AWS credentials a target's AWS calls are signed with: the static keys, or the SDK's
 * default chain, or, with a role ARN, temporary credentials of that role from STS
 * (AssumeRole, through the SDK's `fromTemporaryCredentials`), which the static keys (or
 * the default chain) only sign the AssumeRole request for. Shared by every AWS call made
 * for a target (reading its Secrets Manager secret, signing RDS IAM tokens).
 *
 * Every key, token and the assumed role's credentials are registered as secrets before use.
 * An AssumeRole that fails is thrown as an `AssumeRoleFailure` naming the role, so callers
 * can tell it from a failure of the call the credentials were for.
 *
 * The SDK's credential providers load on first use only (the plugin's cold start).
 */
import { runtimeSecrets } from '../secret-registry';

/** AWS keys as the SDK takes them; `expiration` lets a client renew them in time. */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** What the SDK calls for credentials when it signs a request. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Where a target's AWS credentials come from. */
export interface AwsCredentialSource {
  readonly region?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
  /** An IAM role to assume through STS; absent: the credentials above are used as they are. */
  readonly roleArn?: string | undefined;
  /** STS endpoint override (an STS VPC endpoint, a local stand-in); else the SDK's regional one. */
  readonly stsEndpoint?: string | undefined;
}

/** The session name of every AssumeRole: CloudTrail shows it next to the role. */
export const ROLE_SESSION_NAME = 'adaptive-access';

/** STS did not hand out the role's credentials. `error` is the SDK's error (its `name` is STS's code). */
export class AssumeRoleFailure extends Error {
  constructor(
    readonly roleArn: string,
    readonly error: unknown,
  ) {
    super(`AssumeRole of ${roleArn} failed: ${error instanceof Error ? error.message : String(error)}`);
    this.name = 'AssumeRoleFailure';
  }

  /** STS's error code (`AccessDenied`, ...) or the SDK's error name. */
  get code(): string {
    return this.error instanceof Error ? this.error.name : '';
  }
}

/** The static keys as an SDK identity, or undefined when none are configured. */
function staticKeys(source: AwsCredentialSource): AwsCredentialIdentity | undefined {
  if (!source.accessKeyId || !source.secretAccessKey) return undefined;
  return {
    accessKeyId: source.accessKeyId,
    secretAccessKey: source.secretAccessKey,
    ...(source.sessionToken ? { sessionToken: source.sessionToken } : {}),
  };
}

/**
 * The credentials for an SDK client's `credentials` option: undefined (the SDK's default
 * chain), the static keys, or a provider that assumes `roleArn` (memoised by the client
 * that uses it until the temporary credentials near their expiry).
 */
export async function awsCredentials(source: AwsCredentialSource): Promise<AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined> {
  runtimeSecrets.register(source.accessKeyId, source.secretAccessKey, source.sessionToken);
  const keys = staticKeys(source);
  if (!source.roleArn) return keys;
  const roleArn = source.roleArn;
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  const assume = fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME },
    ...(keys ? { masterCredentials: keys } : {}),
    clientConfig: {
      ...(source.region ? { region: source.region } : {}),
      ...(source.stsEndpoint ? { endpoint: source.stsEndpoint } : {}),
    },
  });
  return async () => {
    let assumed: AwsCredentialIdentity;
    try {
      assumed = await assume();
    } catch (err) {
      throw new AssumeRoleFailure(roleArn, err);
    }
    runtimeSecrets.register(assumed.accessKeyId, assumed.secretAccessKey, assumed.sessionToken);
    return assumed;
  };
}
