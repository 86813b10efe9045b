/**
 * Admin credentials from AWS Secrets Manager, and the resolution of a TargetConfig into
 * the concrete values a connection needs.
 *
 * The secret's JSON is the one RDS and the Secrets Manager console write:
 * `{"username", "password", "engine", "host", "port", "dbname"}`. Precedence:
 *
 * - host, port, database: the configuration wins when it sets them (a non-empty string, a
 *   port above 0); otherwise the secret's value is used. A configuration that points at a
 *   proxy or a replica must not be overridden by what the secret was created for.
 * - username, password: the secret's pair wins. The password belongs to the secret's
 *   user (rotation changes both together), so pairing it with another name could only
 *   fail. A configured username is used only when the secret has none.
 *
 * The AWS SDK is loaded on first use only: the plugin starts several times per Terraform
 * command, and most targets never need it.
 */
import { errorText } from '../errors';
import { runtimeSecrets } from '../secret-registry';
import { ValidationError, type AwsSecretRef, type SslMode, type TargetConfig } from '../types';
import { ADAPTIVE_SECRETS_MANAGER_TYPE } from '../validation/target-adaptive';
import { AssumeRoleFailure, awsCredentials } from './aws-credentials';
import { ConnectionError, classify, redact, type ConnectionErrorCause } from './errors';

/** The fields of a database secret that matter here. */
export interface DbSecret {
  readonly username?: string;
  readonly password?: string;
  readonly engine?: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

/** Engines a PostgreSQL target's secret may name (RDS writes "postgres"). */
const POSTGRES_ENGINES = new Set(['postgres', 'postgresql', 'aurora-postgresql']);

function secretError(target: string, cause: ConnectionErrorCause, message: string, fix: string, code?: string): ConnectionError {
  return new ConnectionError({ cause, message, fix, target, ...(code ? { code } : {}) });
}

/**
 * The attributes a message names: Adaptive's form (`type = "postgres_aws_secrets_manager"`)
 * spells the secret `secret_id` and the role `arn`, the `use_aws_secrets` form
 * `aws_secret_name` and `aws_role_arn`.
 */
export interface SecretAttributes {
  readonly secret: string;
  readonly region: string;
  readonly role: string;
}

const USE_AWS_SECRETS_ATTRIBUTES: SecretAttributes = { secret: 'aws_secret_name', region: 'aws_region', role: 'aws_role_arn' };
const ADAPTIVE_ATTRIBUTES: SecretAttributes = { secret: 'secret_id', region: 'region', role: 'arn' };

/** The attribute names of the form a target's configuration uses. */
export function secretAttributes(config: Pick<TargetConfig, 'type'>): SecretAttributes {
  return config.type === ADAPTIVE_SECRETS_MANAGER_TYPE ? ADAPTIVE_ATTRIBUTES : USE_AWS_SECRETS_ATTRIBUTES;
}

/** A Secrets Manager client for the reference: its region, credentials (a role assumed when set) and endpoint. */
async function clientFor(ref: AwsSecretRef) {
  const credentials = await awsCredentials(ref);
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({
    ...(ref.region ? { region: ref.region } : {}),
    ...(ref.endpoint ? { endpoint: ref.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return { client, GetSecretValueCommand };
}

/**
 * Reads and parses a database secret. Failures become ConnectionErrors with cause
 * `secret_missing`, `secret_access_denied`, `secret_malformed`, or the network causes
 * for an unreachable endpoint; a missing region is a ValidationError. Messages name the
 * secret and region, never the secret's content.
 */
export async function fetchDbSecret(target: string, ref: AwsSecretRef, names: SecretAttributes = USE_AWS_SECRETS_ATTRIBUTES): Promise<DbSecret> {
  const { client, GetSecretValueCommand } = await clientFor(ref);
  let region = ref.region ?? '';
  try {
    region = await client.config.region();
  } catch {
    throw new ValidationError([
      {
        field: names.region,
        message: `required to read the secret "${ref.secretName}": set ${names.region}, or AWS_REGION in the environment, or a region in the AWS profile`,
      },
    ]);
  }
  const secretDesc = `AWS Secrets Manager secret "${ref.secretName}" (${names.secret}) in region ${region}`;
  let value: string;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: ref.secretName }));
    if (out.SecretString !== undefined) value = out.SecretString;
    else if (out.SecretBinary !== undefined) value = Buffer.from(out.SecretBinary).toString('utf8');
    else value = '';
    runtimeSecrets.register(value);
  } catch (err) {
    if (err instanceof AssumeRoleFailure) throw assumeRoleError(target, ref, secretDesc, names.role, err);
    throw awsError(target, ref, secretDesc, err);
  } finally {
    client.destroy();
  }
  return parseDbSecret(target, secretDesc, value);
}

/** STS refused the role, or could not be reached: the message names the role, the fix says what to change. */
function assumeRoleError(target: string, ref: AwsSecretRef, secretDesc: string, roleAttribute: string, failure: AssumeRoleFailure): ConnectionError {
  const secrets = [ref.secretAccessKey, ref.sessionToken];
  const role = `IAM role "${failure.roleArn}" (${roleAttribute})`;
  const classified = classify(failure.error, secrets);
  if (classified.cause === 'refused' || classified.cause === 'dns' || classified.cause === 'timeout') {
    return secretError(
      target,
      classified.cause,
      `Target "${target}": cannot reach ${ref.stsEndpoint ?? 'the STS endpoint of the region'} to assume the ${role} for the ${secretDesc} (${classified.detail}).`,
      'check network access to STS (an STS VPC endpoint, NAT, or aws_sts_endpoint) and the endpoint URL',
      classified.code,
    );
  }
  const code = failure.code || 'error';
  const noCredentials = code === 'CredentialsProviderError';
  return secretError(
    target,
    'role_assumption_denied',
    noCredentials
      ? `Target "${target}": no AWS credentials to assume the ${role} for the ${secretDesc} (${classified.detail}).`
      : `Target "${target}": AWS STS refused to let these credentials assume the ${role} to read the ${secretDesc}: ${code} (${classified.detail}).`,
    noCredentials
      ? 'set aws_access_key_id and aws_secret_access_key, or provide credentials through the AWS SDK default chain (environment, profile, SSO, instance or task role)'
      : `allow these credentials sts:AssumeRole on the role: its trust policy must name their user or role as Principal with "Action": "sts:AssumeRole", ` +
          `and their own IAM policy must allow sts:AssumeRole on it; or correct ${roleAttribute} if it names the wrong role`,
    code,
  );
}

function awsError(target: string, ref: AwsSecretRef, secretDesc: string, err: unknown): ConnectionError {
  const name = err instanceof Error ? err.name : '';
  const secrets = [ref.secretAccessKey, ref.sessionToken];
  const detail = redact(errorText(err), secrets);
  switch (name) {
    case 'ResourceNotFoundException':
      return secretError(
        target,
        'secret_missing',
        `Target "${target}": the ${secretDesc} does not exist.`,
        'check aws_secret_name and aws_region: the secret must exist in that region and account (a full ARN works too); create it, or correct the name or region',
        name,
      );
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'InvalidClientTokenId':
    case 'DecryptionFailure':
    case 'CredentialsProviderError':
      return secretError(
        target,
        'secret_access_denied',
        name === 'CredentialsProviderError'
          ? `Target "${target}": no AWS credentials to read the ${secretDesc} (${detail}).`
          : `Target "${target}": AWS refused to return the ${secretDesc}: ${name} (${detail}).`,
        name === 'CredentialsProviderError'
          ? 'set aws_access_key_id and aws_secret_access_key, or provide credentials through the AWS SDK default chain (environment, profile, SSO, instance or task role)'
          : name === 'DecryptionFailure'
            ? "allow these credentials kms:Decrypt on the secret's KMS key"
            : "check the AWS credentials, and allow them secretsmanager:GetSecretValue on the secret (IAM policy and the secret's resource policy)",
        name,
      );
    case 'InvalidParameterException':
    case 'InvalidRequestException':
    case 'ValidationException':
      return secretError(
        target,
        'secret_missing',
        `Target "${target}": the ${secretDesc} cannot be read: ${name} (${detail}).`,
        'check aws_secret_name (a name or ARN of an existing, not deleted, secret)',
        name,
      );
  }
  // Network failures reaching the endpoint keep the connection causes (refused, dns, timeout).
  const classified = classify(err, secrets);
  const endpoint = ref.endpoint ?? `the Secrets Manager endpoint of the region`;
  if (classified.cause === 'refused' || classified.cause === 'dns' || classified.cause === 'timeout') {
    return secretError(
      target,
      classified.cause,
      `Target "${target}": cannot reach ${endpoint} to read the ${secretDesc} (${classified.detail}).`,
      'check network access to Secrets Manager (a VPC endpoint, NAT, or the endpoint override), and the endpoint URL',
      classified.code,
    );
  }
  return secretError(
    target,
    'unknown',
    `Target "${target}": reading the ${secretDesc} failed: ${name || 'error'} (${detail}).`,
    'check the AWS configuration (region, credentials, endpoint) and retry',
    name || undefined,
  );
}

/** Parses a secret's text; problems name the missing or mistyped keys, never the values. */
export function parseDbSecret(target: string, secretDesc: string, text: string): DbSecret {
  const malformed = (what: string, fix: string): ConnectionError =>
    secretError(target, 'secret_malformed', `Target "${target}": the ${secretDesc} ${what}.`, fix);
  const expected = 'store a JSON object with at least "username" and "password" (as RDS writes it: username, password, engine, host, port, dbname)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message quotes the input: it must not reach the user.
    throw malformed('is not JSON', expected);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed('is not a JSON object', expected);
  const raw = parsed as Record<string, unknown>;
  const wrongType: string[] = [];
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      wrongType.push(`${key} (expected a string)`);
      return undefined;
    }
    return v;
  };
  const username = str('username');
  const password = str('password');
  runtimeSecrets.register(password);
  const engine = str('engine');
  const host = str('host');
  const dbname = str('dbname');
  let port: number | undefined;
  const rawPort = raw.port;
  if (rawPort !== undefined && rawPort !== null && rawPort !== '') {
    const n = typeof rawPort === 'number' ? rawPort : typeof rawPort === 'string' && /^\d+$/.test(rawPort.trim()) ? Number(rawPort) : NaN;
    if (Number.isInteger(n) && n > 0 && n < 65536) port = n;
    else wrongType.push('port (expected a number from 1 to 65535)');
  }
  if (wrongType.length > 0) throw malformed(`has keys of the wrong type: ${wrongType.join(', ')}`, expected);
  if (engine !== undefined && !POSTGRES_ENGINES.has(engine.toLowerCase())) {
    throw malformed('is for another database engine (its "engine" is not postgres)', 'point aws_secret_name at the secret of this PostgreSQL target');
  }
  return {
    ...(username !== undefined && username !== '' ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(engine !== undefined ? { engine } : {}),
    ...(host !== undefined && host !== '' ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(dbname !== undefined && dbname !== '' ? { dbname } : {}),
  };
}

/**
 * A target with every value a connection needs: secrets resolved, defaults applied.
 * `password` is a non-enumerable property, so logging or serialising this object does
 * not reveal it.
 */
export interface ResolvedTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
  readonly sslMode: SslMode;
  readonly tlsRootCert: string | undefined;
  readonly tlsClientCert: string | undefined;
  readonly tlsClientKey: string | undefined;
  readonly tlsServerName: string | undefined;
  readonly maxConnections: number;
  readonly minConnections: number;
  /** 0 waits indefinitely, as libpq's connect_timeout. */
  readonly connectTimeoutSeconds: number;
  readonly applicationName: string;
  readonly credentialSource: 'configuration' | 'aws-secrets-manager';
}

/** Pool size when max_connections is not set. */
export const DEFAULT_MAX_CONNECTIONS = 10;
/** Seconds to wait for a connection when connect_timeout is not set. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/** application_name of admin connections, so DBAs can tell them apart in pg_stat_activity. */
export const DEFAULT_APPLICATION_NAME = 'adaptive-access';

/**
 * Resolves a TargetConfig: reads the Secrets Manager secret when `aws` is set, applies the
 * precedence described above and the defaults (pool of 10, 10 s connect timeout,
 * application_name "adaptive-access"). Missing values are a ValidationError.
 */
export async function resolveTarget(config: TargetConfig): Promise<ResolvedTarget> {
  const names = secretAttributes(config);
  const secret = config.aws ? await fetchDbSecret(config.name, config.aws, names) : undefined;
  const issues: Array<{ field: string; message: string }> = [];
  const host = config.host !== '' ? config.host : secret?.host;
  const port = config.port > 0 ? config.port : secret?.port;
  const database = config.database !== '' ? config.database : secret?.dbname;
  const user = secret?.username ?? (config.username !== '' ? config.username : undefined);
  const password = secret ? secret.password : config.password;
  const fromSecret = config.aws ? ' (or in the AWS secret)' : '';
  if (!host) issues.push({ field: 'host', message: `required${fromSecret}` });
  if (!port || !Number.isInteger(port) || port > 65535) issues.push({ field: 'port', message: `required: a port from 1 to 65535${fromSecret}` });
  if (!database) issues.push({ field: 'database_name', message: `required${fromSecret}` });
  if (!user && !secret) issues.push({ field: 'username', message: 'required' });
  if (secret) {
    // In Adaptive's form the secret is where the address is expected: missing there, it is the secret that lacks it.
    const addressFromSecret = config.type === ADAPTIVE_SECRETS_MANAGER_TYPE;
    const missing = [
      ...(user ? [] : ['username']),
      ...(secret.password === undefined ? ['password'] : []),
      ...(addressFromSecret && !host ? ['host'] : []),
      ...(addressFromSecret && !port ? ['port'] : []),
      ...(addressFromSecret && !database ? ['dbname'] : []),
    ];
    if (missing.length > 0) {
      const keys = missing.map((k) => `"${k}"`).join(' and ');
      // Each missing key but the password has an attribute that may give it instead.
      const override = missing.filter((key) => key !== 'password').map((key) => (key === 'dbname' ? 'database_name' : key));
      throw secretError(
        config.name,
        'secret_malformed',
        `Target "${config.name}": the AWS Secrets Manager secret "${config.aws?.secretName ?? ''}" (${names.secret}) is missing ${keys}.`,
        `add ${keys} to the secret's JSON (as RDS writes it: username, password, engine, host, port, dbname)${override.length > 0 ? `, or set ${override.join(' and ')} on the resource` : ''}`,
      );
    }
  }
  const maxConnections = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const minConnections = config.minConnections ?? 0;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) issues.push({ field: 'max_connections', message: 'must be a whole number of at least 1' });
  if (!Number.isInteger(minConnections) || minConnections < 0 || minConnections > maxConnections) {
    issues.push({ field: 'min_connections', message: `must be a whole number from 0 to max_connections (${maxConnections})` });
  }
  const timeout = config.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  if (!Number.isFinite(timeout) || timeout < 0) issues.push({ field: 'connect_timeout', message: 'must be 0 (wait indefinitely) or a number of seconds' });
  if ((config.tlsClientCert === undefined) !== (config.tlsClientKey === undefined)) {
    issues.push({ field: config.tlsClientCert === undefined ? 'tls_cert_file' : 'tls_key_file', message: 'client certificate and key go together: set both or neither' });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const resolved = {
    name: config.name,
    host: host!,
    port: port!,
    database: database!,
    user: user!,
    sslMode: config.sslMode,
    tlsRootCert: config.tlsRootCert,
    tlsClientCert: config.tlsClientCert,
    tlsClientKey: config.tlsClientKey,
    tlsServerName: config.tlsServerName || undefined,
    maxConnections,
    minConnections,
    // libpq treats a connect_timeout of 1 as 2 ("the minimum allowed timeout is 2 seconds").
    connectTimeoutSeconds: timeout > 0 && timeout < 2 ? 2 : timeout,
    applicationName: config.applicationName ?? DEFAULT_APPLICATION_NAME,
    credentialSource: secret ? ('aws-secrets-manager' as const) : ('configuration' as const),
  };
  Object.defineProperty(resolved, 'password', { value: password, enumerable: false });
  return resolved as typeof resolved & { readonly password: string | undefined };
}
