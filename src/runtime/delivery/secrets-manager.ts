/**
 * Delivery of member credentials to AWS Secrets Manager (`credential_delivery =
 * "secrets_manager"` on a group): one secret per member x endpoint, written when the
 * credential is issued and deleted without recovery when it is revoked or reaped.
 *
 * The secret's JSON is the one RDS and the Secrets Manager console write for a database
 * (`username`, `password`, `engine`, `host`, `port`, `dbname`), so tools that read those
 * read these, plus `expires_at` (RFC 3339) and a connection `uri`.
 *
 * AWS credentials come from the SDK's default chain (environment, profile, SSO, instance or
 * task role), as the reaper's will: no static key is kept in the catalog. The SDK is loaded
 * on first use only (the plugin starts several times per Terraform command).
 */
import { errorText } from '../errors';
import { connectionUri } from '../types';
import { runtimeSecrets } from '../secret-registry';

/** Where the secrets go: a region and an endpoint override, else the SDK's configuration. */
export interface SecretsLocation {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

/** What a member's secret says. */
export interface MemberSecretContent {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
  readonly sslmode: string;
  /** The target's `tls_root_cert` (PEM), or null when it trusts the system store. */
  readonly caCert: string | null;
  readonly expiresAt: Date;
}

/** A secret to write: its name, content, and tags saying whose it is (for `secretsmanager:ResourceTag` conditions). */
export interface SecretToWrite {
  readonly name: string;
  readonly content: MemberSecretContent;
  readonly tags: Readonly<Record<string, string>>;
}

/** A secret that could not be deleted, and why. */
export interface SecretDeleteFailure {
  readonly arn: string;
  readonly error: string;
}

/** The secret's JSON text. */
export function memberSecretJson(c: MemberSecretContent): string {
  const uri = connectionUri({ ...c, database: c.dbname }, c.password);
  runtimeSecrets.register(c.password, uri);
  return JSON.stringify({
    username: c.username,
    password: c.password,
    engine: 'postgres',
    host: c.host,
    port: c.port,
    dbname: c.dbname,
    ca_cert: c.caCert,
    expires_at: c.expiresAt.toISOString(),
    uri,
  });
}

async function clientFor(location: SecretsLocation) {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({
    ...(location.region ? { region: location.region } : {}),
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
  });
  return { client, sdk };
}

function where(location: SecretsLocation): string {
  return `AWS Secrets Manager${location.region ? ` in ${location.region}` : ''}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
}

/** An AWS failure for a message: its name and text, never the secret's content. */
function awsText(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  const text = errorText(err);
  return name && !text.startsWith(name) ? `${name}: ${text}` : text;
}

/**
 * Writes each secret (created, or given a new value when a secret of that name exists) and
 * returns their ARNs in order. On a failure the secrets this call wrote are deleted again
 * and the error names the secret that failed; none is left behind (unless that delete
 * fails too, which the error then says).
 */
export async function writeSecrets(location: SecretsLocation, secrets: readonly SecretToWrite[]): Promise<string[]> {
  if (secrets.length === 0) return [];
  const { client, sdk } = await clientFor(location);
  const arns: string[] = [];
  try {
    for (const secret of secrets) {
      const SecretString = memberSecretJson(secret.content);
      try {
        const created = await client.send(
          new sdk.CreateSecretCommand({
            Name: secret.name,
            SecretString,
            Description: `PostgreSQL login ${secret.content.username}, valid until ${secret.content.expiresAt.toISOString()} (adaptive-access)`,
            Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        arns.push(created.ARN!);
      } catch (err) {
        if (!(err instanceof Error && err.name === 'ResourceExistsException')) throw err;
        // Left by a run that could not delete it: its content is replaced (the old login is gone).
        const put = await client.send(new sdk.PutSecretValueCommand({ SecretId: secret.name, SecretString }));
        arns.push(put.ARN!);
      }
    }
  } catch (err) {
    const failedName = secrets[arns.length]?.name ?? '';
    const notDeleted = await deleteWith(client, sdk, arns);
    const left = notDeleted.length === 0 ? '' : `; the secrets written before could not be deleted: ${notDeleted.map((f) => `${f.arn} (${f.error})`).join('; ')}`;
    throw new Error(`could not write the secret "${failedName}" to ${where(location)}: ${awsText(err)}${left}`, { cause: err });
  } finally {
    client.destroy();
  }
  return arns;
}

/**
 * Deletes secrets without recovery. A secret already gone counts as deleted. Never
 * throws: what could not be deleted is returned, with why.
 */
export async function deleteSecrets(location: SecretsLocation, arns: readonly string[]): Promise<SecretDeleteFailure[]> {
  if (arns.length === 0) return [];
  let opened: Awaited<ReturnType<typeof clientFor>>;
  try {
    opened = await clientFor(location);
  } catch (err) {
    return arns.map((arn) => ({ arn, error: `${where(location)}: ${awsText(err)}` }));
  }
  try {
    return await deleteWith(opened.client, opened.sdk, arns);
  } finally {
    opened.client.destroy();
  }
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

async function deleteWith(client: InstanceType<Sdk['SecretsManagerClient']>, sdk: Sdk, arns: readonly string[]): Promise<SecretDeleteFailure[]> {
  const failures: SecretDeleteFailure[] = [];
  for (const arn of arns) {
    try {
      await client.send(new sdk.DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') continue;
      failures.push({ arn, error: awsText(err) });
    }
  }
  return failures;
}
