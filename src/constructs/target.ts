/**
 * `PostgresTarget`: a PostgreSQL server and the admin connection that manages it
 * (`adaptive_resource`), with typed credentials and TLS settings, checked at synth time by
 * the same rules `terraform plan` applies.
 */
import type { RevokedObjects, SslMode } from '../runtime/types';
import { checkTargetInput, type TargetInput } from '../runtime/validation';
import { Token, Construct } from './cdk';
import { resource as l1 } from './generated/providers/adaptive';
import { forSynth, validateWith } from './validation';

export type { RevokedObjects, SslMode } from '../runtime/types';

/** Admin credentials kept in AWS Secrets Manager. */
export interface SecretsManagerCredentialsOptions {
  /**
   * Name or ARN of the secret; its JSON holds `username`, `password` and optionally
   * `engine`, `host`, `port`, `dbname` (attribute `aws_secret_name`).
   */
  readonly secretName: string;
  /**
   * AWS region of the secret (`aws_region`).
   * @default the provider's `aws_region`, then the AWS SDK configuration
   */
  readonly region?: string;
  /**
   * Static access key id (`aws_access_key_id`); pass a sensitive TerraformVariable's value,
   * never a literal, so it stays out of the synthesized configuration.
   * @default the AWS SDK credential chain
   */
  readonly accessKeyId?: string;
  /** Static secret access key (`aws_secret_access_key`), with `accessKeyId`. */
  readonly secretAccessKey?: string;
  /**
   * The static secret access key as a write-only attribute (`aws_secret_access_key_wo`,
   * Terraform 1.11+): kept out of plan and state. Instead of `secretAccessKey`, with
   * `writeOnlySecretAccessKeyVersion`.
   */
  readonly writeOnlySecretAccessKey?: string;
  /** Raise it to apply a new `writeOnlySecretAccessKey` (`aws_secret_access_key_wo_version`). */
  readonly writeOnlySecretAccessKeyVersion?: number;
  /** Session token of temporary credentials (`aws_session_token`). */
  readonly sessionToken?: string;
  /**
   * Secrets Manager endpoint override (`aws_endpoint`): a VPC endpoint, or a local stand-in.
   * @default the provider's `aws_endpoint`, then the SDK configuration
   */
  readonly endpoint?: string;
}

/** IAM database authentication for the admin (Amazon RDS, Aurora). */
export interface RdsIamCredentialsOptions {
  /** The database user the token is signed for (`username`), granted `rds_iam` on the server. */
  readonly username: string;
  /**
   * AWS region of the DB instance (`aws_region`).
   * @default the provider's `aws_region`, then the AWS SDK configuration
   */
  readonly region?: string;
  /**
   * Static access key id (`aws_access_key_id`); pass a sensitive TerraformVariable's value.
   * @default the AWS SDK credential chain
   */
  readonly accessKeyId?: string;
  /** Static secret access key (`aws_secret_access_key`), with `accessKeyId`. */
  readonly secretAccessKey?: string;
  /** Session token of temporary credentials (`aws_session_token`). */
  readonly sessionToken?: string;
}

/** The `adaptive_resource` attributes a credentials choice sets. */
interface CredentialAttributes {
  readonly username?: string;
  readonly password?: string;
  readonly passwordWo?: string;
  readonly passwordWoVersion?: number;
  readonly useAwsSecrets?: boolean;
  readonly useRdsIam?: boolean;
  readonly awsSecretName?: string;
  readonly awsRegion?: string;
  readonly awsAccessKeyId?: string;
  readonly awsSecretAccessKey?: string;
  readonly awsSecretAccessKeyWo?: string;
  readonly awsSecretAccessKeyWoVersion?: number;
  readonly awsSessionToken?: string;
  readonly awsEndpoint?: string;
}

/** Where the admin's username and password come from. */
export class AdminCredentials {
  /**
   * An admin role and its password (`username`, `password`). The password is stored
   * encrypted in the catalog; pass a sensitive TerraformVariable's value so it stays out of
   * the synthesized configuration.
   */
  static fromPassword(username: string, password: string): AdminCredentials {
    return new AdminCredentials({ username, password });
  }

  /**
   * An admin role and its password as a write-only attribute (`password_wo`, Terraform
   * 1.11+): stored encrypted in the catalog, never in plan or state. Raise `version`
   * (`password_wo_version`) to apply a new password: a new value alone plans no change.
   */
  static fromWriteOnlyPassword(username: string, password: string, version: number): AdminCredentials {
    return new AdminCredentials({ username, passwordWo: password, passwordWoVersion: version });
  }

  /** The admin credentials in an AWS Secrets Manager secret (`use_aws_secrets = true`). */
  static fromSecretsManager(options: SecretsManagerCredentialsOptions): AdminCredentials {
    return new AdminCredentials({
      useAwsSecrets: true,
      awsSecretName: options.secretName,
      ...(options.region !== undefined && { awsRegion: options.region }),
      ...(options.accessKeyId !== undefined && { awsAccessKeyId: options.accessKeyId }),
      ...(options.secretAccessKey !== undefined && { awsSecretAccessKey: options.secretAccessKey }),
      ...(options.writeOnlySecretAccessKey !== undefined && { awsSecretAccessKeyWo: options.writeOnlySecretAccessKey }),
      ...(options.writeOnlySecretAccessKeyVersion !== undefined && { awsSecretAccessKeyWoVersion: options.writeOnlySecretAccessKeyVersion }),
      ...(options.sessionToken !== undefined && { awsSessionToken: options.sessionToken }),
      ...(options.endpoint !== undefined && { awsEndpoint: options.endpoint }),
    });
  }

  /**
   * IAM database authentication (`use_rds_iam = true`): the admin password is a token signed
   * for each connection with AWS credentials. Needs `tls.mode` require or stronger.
   */
  static fromRdsIam(options: RdsIamCredentialsOptions): AdminCredentials {
    return new AdminCredentials({
      username: options.username,
      useRdsIam: true,
      ...(options.region !== undefined && { awsRegion: options.region }),
      ...(options.accessKeyId !== undefined && { awsAccessKeyId: options.accessKeyId }),
      ...(options.secretAccessKey !== undefined && { awsSecretAccessKey: options.secretAccessKey }),
      ...(options.sessionToken !== undefined && { awsSessionToken: options.sessionToken }),
    });
  }

  private constructor(
    /** @internal the attributes this choice sets on `adaptive_resource` */
    readonly attributes: CredentialAttributes,
  ) {}
}

/** How the provider reaches the target over TLS, with libpq's sslmode semantics. */
export interface TargetTlsOptions {
  /**
   * libpq's sslmode (`ssl_mode`): disable, allow, prefer, require, verify-ca, verify-full.
   * @default 'prefer'
   */
  readonly mode?: SslMode;
  /**
   * PEM contents of the CA certificate(s) that sign the server's certificate
   * (`tls_root_cert`), e.g. `Fn.file('certs/ca.pem')`. Required with verify-ca (refused at
   * synth time without it); without it, verify-full uses the system trust store.
   */
  readonly rootCert?: string;
  /** PEM contents of the client certificate for mutual TLS (`tls_cert_file`), with `clientKey`. */
  readonly clientCert?: string;
  /**
   * PEM contents of the client's private key (`tls_key_file`), with `clientCert`. Prefer
   * `Fn.file(...)`: a literal key would be written into the synthesized configuration.
   */
  readonly clientKey?: string;
  /** Host name to verify and send as SNI when `host` is an IP address or an alias (`tls_server_name`). */
  readonly serverName?: string;
}

/** Properties of a {@link PostgresTarget}. */
export interface PostgresTargetProps {
  /** Unique name of the target; endpoints refer to it (`name`). 1-63 letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /** Host name or IP address of the server (`host`). */
  readonly host: string;
  /**
   * TCP port (`port`).
   * @default 5432
   */
  readonly port?: number | string;
  /** The database the grants apply to, and the one the admin connects to (`database_name`). */
  readonly databaseName: string;
  /** The admin's credentials: a password, a Secrets Manager secret, or IAM authentication. */
  readonly credentials: AdminCredentials;
  /**
   * TLS settings.
   * @default sslmode prefer, no certificates
   */
  readonly tls?: TargetTlsOptions;
  /**
   * Most admin connections the provider opens to this target (`max_connections`).
   * @default 10
   */
  readonly maxConnections?: number;
  /** Idle admin connections kept open once made (`min_connections`). */
  readonly minConnections?: number;
  /**
   * Seconds to wait for a connection (`connect_timeout`).
   * @default 10
   */
  readonly connectTimeout?: number;
  /**
   * `application_name` of the admin sessions.
   * @default 'adaptive-access'
   */
  readonly applicationName?: string;
  /**
   * What becomes of the objects a member created once the credential is revoked or expires
   * (`revoked_objects`): `reassign` hands them to the privilege-less role `adaptive_revoked`
   * (never to the admin), `drop` drops them.
   * @default 'reassign'
   */
  readonly revokedObjects?: RevokedObjects;
}

/** The port as the string attribute wants it; a number token stays a token. */
function portAttribute(port: number | string | undefined): string | undefined {
  if (port === undefined || typeof port === 'string') return port;
  return Token.isUnresolved(port) ? Token.asString(port) : String(port);
}

/**
 * A PostgreSQL target (`adaptive_resource`). Creating it in Terraform tests the admin
 * connection and privileges; endpoints apply authorizations to it.
 */
export class PostgresTarget extends Construct {
  /** The underlying `adaptive_resource` (L1), for attributes and overrides this class does not cover. */
  readonly resource: l1.Resource;
  /** The target's name, as a reference: using it makes dependents wait for the target. */
  readonly targetName: string;
  /** The PostgreSQL server version, read when the target was last created or updated. */
  readonly serverVersion: string;

  constructor(scope: Construct, id: string, props: PostgresTargetProps) {
    super(scope, id);
    const tls = props.tls ?? {};
    const port = portAttribute(props.port);
    // `Default` keeps the construct's id as the resource's address in the Terraform configuration.
    this.resource = new l1.Resource(this, 'Default', {
      type: 'postgres',
      name: props.name,
      host: props.host,
      databaseName: props.databaseName,
      ...(port !== undefined && { port }),
      ...props.credentials.attributes,
      ...(tls.mode !== undefined && { sslMode: tls.mode }),
      ...(tls.rootCert !== undefined && { tlsRootCert: tls.rootCert }),
      ...(tls.clientCert !== undefined && { tlsCertFile: tls.clientCert }),
      ...(tls.clientKey !== undefined && { tlsKeyFile: tls.clientKey }),
      ...(tls.serverName !== undefined && { tlsServerName: tls.serverName }),
      ...(props.maxConnections !== undefined && { maxConnections: props.maxConnections }),
      ...(props.minConnections !== undefined && { minConnections: props.minConnections }),
      ...(props.connectTimeout !== undefined && { connectTimeout: props.connectTimeout }),
      ...(props.applicationName !== undefined && { applicationName: props.applicationName }),
      ...(props.revokedObjects !== undefined && { revokedObjects: props.revokedObjects }),
    });
    this.targetName = this.resource.name;
    this.serverVersion = this.resource.serverVersion;
    validateWith(this, () => checkTargetInput(targetInput(this.resource)));
  }
}

/** The L1's current values, named as in HCL, as the runtime validator reads them. */
function targetInput(r: l1.Resource): TargetInput {
  const values: Record<keyof TargetInput, unknown> = {
    type: r.typeInput,
    name: r.nameInput,
    arn: r.arnInput,
    region: r.regionInput,
    secret_id: r.secretIdInput,
    connection_url: r.connectionUrlInput,
    host: r.hostInput,
    port: r.portInput,
    database_name: r.databaseNameInput,
    username: r.usernameInput,
    password: r.passwordInput,
    password_wo: r.passwordWoInput,
    password_wo_version: r.passwordWoVersionInput,
    use_aws_secrets: r.useAwsSecretsInput,
    use_rds_iam: r.useRdsIamInput,
    aws_region: r.awsRegionInput,
    aws_secret_name: r.awsSecretNameInput,
    aws_access_key_id: r.awsAccessKeyIdInput,
    aws_secret_access_key: r.awsSecretAccessKeyInput,
    aws_secret_access_key_wo: r.awsSecretAccessKeyWoInput,
    aws_secret_access_key_wo_version: r.awsSecretAccessKeyWoVersionInput,
    aws_session_token: r.awsSessionTokenInput,
    aws_endpoint: r.awsEndpointInput,
    aws_role_arn: r.awsRoleArnInput,
    aws_sts_endpoint: r.awsStsEndpointInput,
    ssl_mode: r.sslModeInput,
    tls_root_cert: r.tlsRootCertInput,
    tls_cert_file: r.tlsCertFileInput,
    tls_key_file: r.tlsKeyFileInput,
    tls_server_name: r.tlsServerNameInput,
    max_connections: r.maxConnectionsInput,
    min_connections: r.minConnectionsInput,
    connect_timeout: r.connectTimeoutInput,
    application_name: r.applicationNameInput,
    revoked_objects: r.revokedObjectsInput,
    tags: r.tagsInput,
  };
  // Every value passes through forSynth: tokens become UNKNOWN, as at plan time.
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, forSynth(value)]));
}
