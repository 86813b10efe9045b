// https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface ResourceConfig extends cdktf.TerraformMetaArguments {
  /**
  * application_name of admin sessions (default `adaptive-access`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#application_name Resource#application_name}
  */
  readonly applicationName?: string;
  /**
  * With `type = "postgres_aws_secrets_manager"`: the ARN of an IAM role assumed (STS AssumeRole, session name `adaptive-access`) to read `secret_id`. The AWS credentials (`aws_access_key_id`/`aws_secret_access_key`, else the AWS SDK chain) only need `sts:AssumeRole` on it; the role needs `secretsmanager:GetSecretValue` on the secret.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#arn Resource#arn}
  */
  readonly arn?: string;
  /**
  * Static AWS access key id; default the AWS SDK credential chain.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_access_key_id Resource#aws_access_key_id}
  */
  readonly awsAccessKeyId?: string;
  /**
  * Secrets Manager endpoint override (VPC endpoints, local testing); default the provider `aws_endpoint`, then the SDK configuration.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_endpoint Resource#aws_endpoint}
  */
  readonly awsEndpoint?: string;
  /**
  * AWS region of the secret (`use_aws_secrets`) or of the DB instance (`use_rds_iam`); default the provider `aws_region`, then the AWS SDK configuration.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_region Resource#aws_region}
  */
  readonly awsRegion?: string;
  /**
  * With `use_aws_secrets`: the ARN of an IAM role assumed through STS (session name `adaptive-access`) to read the secret, as `arn` does in Adaptive's form; with `use_rds_iam`: the role whose credentials sign the IAM tokens. The AWS credentials then only sign the AssumeRole request.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_role_arn Resource#aws_role_arn}
  */
  readonly awsRoleArn?: string;
  /**
  * Static AWS secret access key (with `aws_access_key_id`). Stored encrypted in the catalog, and in Terraform state: `aws_secret_access_key_wo` keeps it out of state.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_secret_access_key Resource#aws_secret_access_key}
  */
  readonly awsSecretAccessKey?: string;
  /**
  * Static AWS secret access key, write-only (Terraform 1.11+): stored encrypted in the catalog like `aws_secret_access_key`, never in plan or state. Requires `aws_secret_access_key_wo_version`; not with `aws_secret_access_key`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_secret_access_key_wo Resource#aws_secret_access_key_wo}
  */
  readonly awsSecretAccessKeyWo?: string;
  /**
  * Raise it to apply a new `aws_secret_access_key_wo` (a new write-only value alone plans nothing). Required with `aws_secret_access_key_wo`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_secret_access_key_wo_version Resource#aws_secret_access_key_wo_version}
  */
  readonly awsSecretAccessKeyWoVersion?: number;
  /**
  * Name or ARN of the secret; its JSON holds `username`, `password` and optionally `engine`, `host`, `port`, `dbname`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_secret_name Resource#aws_secret_name}
  */
  readonly awsSecretName?: string;
  /**
  * AWS session token for temporary credentials.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_session_token Resource#aws_session_token}
  */
  readonly awsSessionToken?: string;
  /**
  * STS endpoint override for assuming `arn` / `aws_role_arn` (an STS VPC endpoint, or a local stand-in for testing); default the provider `aws_sts_endpoint`, then the SDK's regional STS endpoint.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#aws_sts_endpoint Resource#aws_sts_endpoint}
  */
  readonly awsStsEndpoint?: string;
  /**
  * Seconds to wait for a connection (default 10).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#connect_timeout Resource#connect_timeout}
  */
  readonly connectTimeout?: number;
  /**
  * The connection as a `postgres://` or `postgresql://` URI, instead of `host`, `port`, `database_name`, `username`, `password` and `ssl_mode`: `postgres://user:password@host:5432/database?sslmode=verify-full`, read with libpq's rules (percent-encoding, IPv6 host in brackets, port 5432 by default). Query keywords: `host`, `port`, `dbname`, `user`, `password`, `sslmode`, `application_name`, `connect_timeout`; certificates stay in the `tls_*` attributes. Not with the attributes it stands for. The password in it is stored encrypted in the catalog like `password`, and the URI is in Terraform state as this sensitive value.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#connection_url Resource#connection_url}
  */
  readonly connectionUrl?: string;
  /**
  * Database the grants apply to, and the one the admin connects to. Required unless `connection_url` is set.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#database_name Resource#database_name}
  */
  readonly databaseName?: string;
  /**
  * Host name or IP address of the PostgreSQL server. Required unless `connection_url` is set.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#host Resource#host}
  */
  readonly host?: string;
  /**
  * Largest number of admin connections the provider opens to this target (default 10).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#max_connections Resource#max_connections}
  */
  readonly maxConnections?: number;
  /**
  * Idle admin connections kept open once made.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#min_connections Resource#min_connections}
  */
  readonly minConnections?: number;
  /**
  * Unique name of the target; endpoints refer to it. 1-63 letters, digits, `-`, `_`, `.`. Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#name Resource#name}
  */
  readonly name: string;
  /**
  * Admin password. Stored encrypted in the catalog (needs `catalog_key` or `ADAPTIVE_CATALOG_KEY`), and in Terraform state: `password_wo` keeps it out of state.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#password Resource#password}
  */
  readonly password?: string;
  /**
  * Admin password, write-only (Terraform 1.11+): stored encrypted in the catalog like `password`, never in plan or state; it may come from an ephemeral value. Requires `password_wo_version`; not with `password`. Every apply that creates or updates the resource uses the value configured then.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#password_wo Resource#password_wo}
  */
  readonly passwordWo?: string;
  /**
  * Raise it to apply a new `password_wo`: Terraform cannot see a change in a write-only value, so a new value alone plans nothing. Required with `password_wo`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#password_wo_version Resource#password_wo_version}
  */
  readonly passwordWoVersion?: number;
  /**
  * TCP port, as a string or number (default `5432`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#port Resource#port}
  */
  readonly port?: string;
  /**
  * With `type = "postgres_aws_secrets_manager"`: AWS region of the secret and of STS; default the provider `aws_region`, then the AWS SDK configuration.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#region Resource#region}
  */
  readonly region?: string;
  /**
  * What happens to the objects (tables, functions, ...) a member created with a credential when it is revoked or expires, and to those an endpoint's access role owns when the endpoint is deleted: `reassign` (default) hands them to `adaptive_revoked`, a NOLOGIN role with no privileges, no attributes and no members, and makes their SECURITY DEFINER functions and views run with their caller's privileges; `drop` drops them. Never the admin: the admin is often a superuser, and a member's SECURITY DEFINER function it came to own would let anyone run SQL as the admin. A role named `adaptive_revoked` that is not the one adaptive-access created is refused.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#revoked_objects Resource#revoked_objects}
  */
  readonly revokedObjects?: string;
  /**
  * With `type = "postgres_aws_secrets_manager"` (required then): name or ARN of the secret; its JSON holds `username`, `password`, `host`, `port` and `dbname` (optionally `engine`), as RDS writes it.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#secret_id Resource#secret_id}
  */
  readonly secretId?: string;
  /**
  * TLS mode with libpq's exact semantics: `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full` (default `prefer`). With `tls_root_cert`, `require` verifies the chain as libpq does. `verify-full` without it trusts the system store, Node.js's built-in CA list plus `NODE_EXTRA_CA_CERTS`, with the host name checked (like libpq 16's `sslrootcert=system`); `verify-ca` without it is refused, as libpq refuses it (any public CA's certificate for any host name would pass).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#ssl_mode Resource#ssl_mode}
  */
  readonly sslMode?: string;
  /**
  * Labels for people and tools, e.g. `{ owner = "data-team", env = "prod" }`: recorded in the catalog, they decide nothing. At most 50; keys up to 128 characters, values up to 256.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#tags Resource#tags}
  */
  readonly tags?: { [key: string]: string };
  /**
  * PEM contents of the client certificate for mutual TLS (with `tls_key_file`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#tls_cert_file Resource#tls_cert_file}
  */
  readonly tlsCertFile?: string;
  /**
  * PEM contents of the client private key (with `tls_cert_file`). Stored encrypted.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#tls_key_file Resource#tls_key_file}
  */
  readonly tlsKeyFile?: string;
  /**
  * PEM contents of the CA certificate(s) that sign the server certificate, e.g. `file("ca.crt")`. Required with `verify-ca`; without it, `verify-full` trusts the system store (libpq's `sslrootcert=system`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#tls_root_cert Resource#tls_root_cert}
  */
  readonly tlsRootCert?: string;
  /**
  * Host name to verify and send as SNI when `host` is an IP address or an alias.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#tls_server_name Resource#tls_server_name}
  */
  readonly tlsServerName?: string;
  /**
  * The kind of target: `postgres`, or `postgres_aws_secrets_manager` (Adaptive's Secrets Manager form: `secret_id` names a secret holding `username`, `password`, `host`, `port` and `dbname`, read with the IAM role `arn` assumed through STS in `region`; `host`, `port` and `database_name` are then optional).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#type Resource#type}
  */
  readonly type: string;
  /**
  * Read the admin credentials from AWS Secrets Manager (`aws_secret_name`) instead of `username`/`password`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#use_aws_secrets Resource#use_aws_secrets}
  */
  readonly useAwsSecrets?: boolean | cdktf.IResolvable;
  /**
  * IAM database authentication for the admin (Amazon RDS, Aurora): the admin password is a token signed with the AWS credentials (`aws_access_key_id`/`aws_secret_access_key`, else the AWS SDK default chain) for `host`, `port`, `username` and `aws_region`, made afresh for each connection and never stored. Needs `ssl_mode` `require` or stronger; not with `password`, `password_wo`, `use_aws_secrets` or a password in `connection_url`. The admin role needs `GRANT rds_iam`, and the credentials `rds-db:connect` on it.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#use_rds_iam Resource#use_rds_iam}
  */
  readonly useRdsIam?: boolean | cdktf.IResolvable;
  /**
  * Admin role name. Not needed with `use_aws_secrets` (the secret holds it); with `use_rds_iam`, the database user the token is for.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#username Resource#username}
  */
  readonly username?: string;
}

/**
* Represents a {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource adaptive_resource}
*/
export class Resource extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "adaptive_resource";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Resource resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Resource to import
  * @param importFromId The id of the existing Resource that should be imported. Refer to the {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Resource to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "adaptive_resource", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/resource adaptive_resource} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options ResourceConfig
  */
  public constructor(scope: Construct, id: string, config: ResourceConfig) {
    super(scope, id, {
      terraformResourceType: 'adaptive_resource',
      terraformGeneratorMetadata: {
        providerName: 'adaptive',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._applicationName = config.applicationName;
    this._arn = config.arn;
    this._awsAccessKeyId = config.awsAccessKeyId;
    this._awsEndpoint = config.awsEndpoint;
    this._awsRegion = config.awsRegion;
    this._awsRoleArn = config.awsRoleArn;
    this._awsSecretAccessKey = config.awsSecretAccessKey;
    this._awsSecretAccessKeyWo = config.awsSecretAccessKeyWo;
    this._awsSecretAccessKeyWoVersion = config.awsSecretAccessKeyWoVersion;
    this._awsSecretName = config.awsSecretName;
    this._awsSessionToken = config.awsSessionToken;
    this._awsStsEndpoint = config.awsStsEndpoint;
    this._connectTimeout = config.connectTimeout;
    this._connectionUrl = config.connectionUrl;
    this._databaseName = config.databaseName;
    this._host = config.host;
    this._maxConnections = config.maxConnections;
    this._minConnections = config.minConnections;
    this._name = config.name;
    this._password = config.password;
    this._passwordWo = config.passwordWo;
    this._passwordWoVersion = config.passwordWoVersion;
    this._port = config.port;
    this._region = config.region;
    this._revokedObjects = config.revokedObjects;
    this._secretId = config.secretId;
    this._sslMode = config.sslMode;
    this._tags = config.tags;
    this._tlsCertFile = config.tlsCertFile;
    this._tlsKeyFile = config.tlsKeyFile;
    this._tlsRootCert = config.tlsRootCert;
    this._tlsServerName = config.tlsServerName;
    this._type = config.type;
    this._useAwsSecrets = config.useAwsSecrets;
    this._useRdsIam = config.useRdsIam;
    this._username = config.username;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // application_name - computed: false, optional: true, required: false
  private _applicationName?: string; 
  public get applicationName() {
    return this.getStringAttribute('application_name');
  }
  public set applicationName(value: string) {
    this._applicationName = value;
  }
  public resetApplicationName() {
    this._applicationName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get applicationNameInput() {
    return this._applicationName;
  }

  // arn - computed: false, optional: true, required: false
  private _arn?: string; 
  public get arn() {
    return this.getStringAttribute('arn');
  }
  public set arn(value: string) {
    this._arn = value;
  }
  public resetArn() {
    this._arn = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get arnInput() {
    return this._arn;
  }

  // aws_access_key_id - computed: false, optional: true, required: false
  private _awsAccessKeyId?: string; 
  public get awsAccessKeyId() {
    return this.getStringAttribute('aws_access_key_id');
  }
  public set awsAccessKeyId(value: string) {
    this._awsAccessKeyId = value;
  }
  public resetAwsAccessKeyId() {
    this._awsAccessKeyId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsAccessKeyIdInput() {
    return this._awsAccessKeyId;
  }

  // aws_endpoint - computed: false, optional: true, required: false
  private _awsEndpoint?: string; 
  public get awsEndpoint() {
    return this.getStringAttribute('aws_endpoint');
  }
  public set awsEndpoint(value: string) {
    this._awsEndpoint = value;
  }
  public resetAwsEndpoint() {
    this._awsEndpoint = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsEndpointInput() {
    return this._awsEndpoint;
  }

  // aws_region - computed: false, optional: true, required: false
  private _awsRegion?: string; 
  public get awsRegion() {
    return this.getStringAttribute('aws_region');
  }
  public set awsRegion(value: string) {
    this._awsRegion = value;
  }
  public resetAwsRegion() {
    this._awsRegion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsRegionInput() {
    return this._awsRegion;
  }

  // aws_role_arn - computed: false, optional: true, required: false
  private _awsRoleArn?: string; 
  public get awsRoleArn() {
    return this.getStringAttribute('aws_role_arn');
  }
  public set awsRoleArn(value: string) {
    this._awsRoleArn = value;
  }
  public resetAwsRoleArn() {
    this._awsRoleArn = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsRoleArnInput() {
    return this._awsRoleArn;
  }

  // aws_secret_access_key - computed: false, optional: true, required: false
  private _awsSecretAccessKey?: string; 
  public get awsSecretAccessKey() {
    return this.getStringAttribute('aws_secret_access_key');
  }
  public set awsSecretAccessKey(value: string) {
    this._awsSecretAccessKey = value;
  }
  public resetAwsSecretAccessKey() {
    this._awsSecretAccessKey = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsSecretAccessKeyInput() {
    return this._awsSecretAccessKey;
  }

  // aws_secret_access_key_wo - computed: false, optional: true, required: false
  private _awsSecretAccessKeyWo?: string; 
  public get awsSecretAccessKeyWo() {
    return this.getStringAttribute('aws_secret_access_key_wo');
  }
  public set awsSecretAccessKeyWo(value: string) {
    this._awsSecretAccessKeyWo = value;
  }
  public resetAwsSecretAccessKeyWo() {
    this._awsSecretAccessKeyWo = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsSecretAccessKeyWoInput() {
    return this._awsSecretAccessKeyWo;
  }

  // aws_secret_access_key_wo_version - computed: false, optional: true, required: false
  private _awsSecretAccessKeyWoVersion?: number; 
  public get awsSecretAccessKeyWoVersion() {
    return this.getNumberAttribute('aws_secret_access_key_wo_version');
  }
  public set awsSecretAccessKeyWoVersion(value: number) {
    this._awsSecretAccessKeyWoVersion = value;
  }
  public resetAwsSecretAccessKeyWoVersion() {
    this._awsSecretAccessKeyWoVersion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsSecretAccessKeyWoVersionInput() {
    return this._awsSecretAccessKeyWoVersion;
  }

  // aws_secret_name - computed: false, optional: true, required: false
  private _awsSecretName?: string; 
  public get awsSecretName() {
    return this.getStringAttribute('aws_secret_name');
  }
  public set awsSecretName(value: string) {
    this._awsSecretName = value;
  }
  public resetAwsSecretName() {
    this._awsSecretName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsSecretNameInput() {
    return this._awsSecretName;
  }

  // aws_session_token - computed: false, optional: true, required: false
  private _awsSessionToken?: string; 
  public get awsSessionToken() {
    return this.getStringAttribute('aws_session_token');
  }
  public set awsSessionToken(value: string) {
    this._awsSessionToken = value;
  }
  public resetAwsSessionToken() {
    this._awsSessionToken = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsSessionTokenInput() {
    return this._awsSessionToken;
  }

  // aws_sts_endpoint - computed: false, optional: true, required: false
  private _awsStsEndpoint?: string; 
  public get awsStsEndpoint() {
    return this.getStringAttribute('aws_sts_endpoint');
  }
  public set awsStsEndpoint(value: string) {
    this._awsStsEndpoint = value;
  }
  public resetAwsStsEndpoint() {
    this._awsStsEndpoint = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsStsEndpointInput() {
    return this._awsStsEndpoint;
  }

  // connect_timeout - computed: false, optional: true, required: false
  private _connectTimeout?: number; 
  public get connectTimeout() {
    return this.getNumberAttribute('connect_timeout');
  }
  public set connectTimeout(value: number) {
    this._connectTimeout = value;
  }
  public resetConnectTimeout() {
    this._connectTimeout = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get connectTimeoutInput() {
    return this._connectTimeout;
  }

  // connection_url - computed: false, optional: true, required: false
  private _connectionUrl?: string; 
  public get connectionUrl() {
    return this.getStringAttribute('connection_url');
  }
  public set connectionUrl(value: string) {
    this._connectionUrl = value;
  }
  public resetConnectionUrl() {
    this._connectionUrl = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get connectionUrlInput() {
    return this._connectionUrl;
  }

  // database_name - computed: false, optional: true, required: false
  private _databaseName?: string; 
  public get databaseName() {
    return this.getStringAttribute('database_name');
  }
  public set databaseName(value: string) {
    this._databaseName = value;
  }
  public resetDatabaseName() {
    this._databaseName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get databaseNameInput() {
    return this._databaseName;
  }

  // host - computed: false, optional: true, required: false
  private _host?: string; 
  public get host() {
    return this.getStringAttribute('host');
  }
  public set host(value: string) {
    this._host = value;
  }
  public resetHost() {
    this._host = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get hostInput() {
    return this._host;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // max_connections - computed: false, optional: true, required: false
  private _maxConnections?: number; 
  public get maxConnections() {
    return this.getNumberAttribute('max_connections');
  }
  public set maxConnections(value: number) {
    this._maxConnections = value;
  }
  public resetMaxConnections() {
    this._maxConnections = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get maxConnectionsInput() {
    return this._maxConnections;
  }

  // min_connections - computed: false, optional: true, required: false
  private _minConnections?: number; 
  public get minConnections() {
    return this.getNumberAttribute('min_connections');
  }
  public set minConnections(value: number) {
    this._minConnections = value;
  }
  public resetMinConnections() {
    this._minConnections = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get minConnectionsInput() {
    return this._minConnections;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // password - computed: false, optional: true, required: false
  private _password?: string; 
  public get password() {
    return this.getStringAttribute('password');
  }
  public set password(value: string) {
    this._password = value;
  }
  public resetPassword() {
    this._password = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get passwordInput() {
    return this._password;
  }

  // password_wo - computed: false, optional: true, required: false
  private _passwordWo?: string; 
  public get passwordWo() {
    return this.getStringAttribute('password_wo');
  }
  public set passwordWo(value: string) {
    this._passwordWo = value;
  }
  public resetPasswordWo() {
    this._passwordWo = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get passwordWoInput() {
    return this._passwordWo;
  }

  // password_wo_version - computed: false, optional: true, required: false
  private _passwordWoVersion?: number; 
  public get passwordWoVersion() {
    return this.getNumberAttribute('password_wo_version');
  }
  public set passwordWoVersion(value: number) {
    this._passwordWoVersion = value;
  }
  public resetPasswordWoVersion() {
    this._passwordWoVersion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get passwordWoVersionInput() {
    return this._passwordWoVersion;
  }

  // port - computed: true, optional: true, required: false
  private _port?: string; 
  public get port() {
    return this.getStringAttribute('port');
  }
  public set port(value: string) {
    this._port = value;
  }
  public resetPort() {
    this._port = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get portInput() {
    return this._port;
  }

  // region - computed: false, optional: true, required: false
  private _region?: string; 
  public get region() {
    return this.getStringAttribute('region');
  }
  public set region(value: string) {
    this._region = value;
  }
  public resetRegion() {
    this._region = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get regionInput() {
    return this._region;
  }

  // revoked_objects - computed: false, optional: true, required: false
  private _revokedObjects?: string; 
  public get revokedObjects() {
    return this.getStringAttribute('revoked_objects');
  }
  public set revokedObjects(value: string) {
    this._revokedObjects = value;
  }
  public resetRevokedObjects() {
    this._revokedObjects = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get revokedObjectsInput() {
    return this._revokedObjects;
  }

  // secret_id - computed: false, optional: true, required: false
  private _secretId?: string; 
  public get secretId() {
    return this.getStringAttribute('secret_id');
  }
  public set secretId(value: string) {
    this._secretId = value;
  }
  public resetSecretId() {
    this._secretId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get secretIdInput() {
    return this._secretId;
  }

  // server_version - computed: true, optional: false, required: false
  public get serverVersion() {
    return this.getStringAttribute('server_version');
  }

  // ssl_mode - computed: true, optional: true, required: false
  private _sslMode?: string; 
  public get sslMode() {
    return this.getStringAttribute('ssl_mode');
  }
  public set sslMode(value: string) {
    this._sslMode = value;
  }
  public resetSslMode() {
    this._sslMode = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sslModeInput() {
    return this._sslMode;
  }

  // tags - computed: false, optional: true, required: false
  private _tags?: { [key: string]: string }; 
  public get tags() {
    return this.getStringMapAttribute('tags');
  }
  public set tags(value: { [key: string]: string }) {
    this._tags = value;
  }
  public resetTags() {
    this._tags = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tagsInput() {
    return this._tags;
  }

  // tls_cert_file - computed: false, optional: true, required: false
  private _tlsCertFile?: string; 
  public get tlsCertFile() {
    return this.getStringAttribute('tls_cert_file');
  }
  public set tlsCertFile(value: string) {
    this._tlsCertFile = value;
  }
  public resetTlsCertFile() {
    this._tlsCertFile = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tlsCertFileInput() {
    return this._tlsCertFile;
  }

  // tls_key_file - computed: false, optional: true, required: false
  private _tlsKeyFile?: string; 
  public get tlsKeyFile() {
    return this.getStringAttribute('tls_key_file');
  }
  public set tlsKeyFile(value: string) {
    this._tlsKeyFile = value;
  }
  public resetTlsKeyFile() {
    this._tlsKeyFile = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tlsKeyFileInput() {
    return this._tlsKeyFile;
  }

  // tls_root_cert - computed: false, optional: true, required: false
  private _tlsRootCert?: string; 
  public get tlsRootCert() {
    return this.getStringAttribute('tls_root_cert');
  }
  public set tlsRootCert(value: string) {
    this._tlsRootCert = value;
  }
  public resetTlsRootCert() {
    this._tlsRootCert = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tlsRootCertInput() {
    return this._tlsRootCert;
  }

  // tls_server_name - computed: false, optional: true, required: false
  private _tlsServerName?: string; 
  public get tlsServerName() {
    return this.getStringAttribute('tls_server_name');
  }
  public set tlsServerName(value: string) {
    this._tlsServerName = value;
  }
  public resetTlsServerName() {
    this._tlsServerName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tlsServerNameInput() {
    return this._tlsServerName;
  }

  // type - computed: false, optional: false, required: true
  private _type?: string; 
  public get type() {
    return this.getStringAttribute('type');
  }
  public set type(value: string) {
    this._type = value;
  }
  // Temporarily expose input value. Use with caution.
  public get typeInput() {
    return this._type;
  }

  // use_aws_secrets - computed: false, optional: true, required: false
  private _useAwsSecrets?: boolean | cdktf.IResolvable; 
  public get useAwsSecrets() {
    return this.getBooleanAttribute('use_aws_secrets');
  }
  public set useAwsSecrets(value: boolean | cdktf.IResolvable) {
    this._useAwsSecrets = value;
  }
  public resetUseAwsSecrets() {
    this._useAwsSecrets = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get useAwsSecretsInput() {
    return this._useAwsSecrets;
  }

  // use_rds_iam - computed: false, optional: true, required: false
  private _useRdsIam?: boolean | cdktf.IResolvable; 
  public get useRdsIam() {
    return this.getBooleanAttribute('use_rds_iam');
  }
  public set useRdsIam(value: boolean | cdktf.IResolvable) {
    this._useRdsIam = value;
  }
  public resetUseRdsIam() {
    this._useRdsIam = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get useRdsIamInput() {
    return this._useRdsIam;
  }

  // username - computed: false, optional: true, required: false
  private _username?: string; 
  public get username() {
    return this.getStringAttribute('username');
  }
  public set username(value: string) {
    this._username = value;
  }
  public resetUsername() {
    this._username = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get usernameInput() {
    return this._username;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      application_name: cdktf.stringToTerraform(this._applicationName),
      arn: cdktf.stringToTerraform(this._arn),
      aws_access_key_id: cdktf.stringToTerraform(this._awsAccessKeyId),
      aws_endpoint: cdktf.stringToTerraform(this._awsEndpoint),
      aws_region: cdktf.stringToTerraform(this._awsRegion),
      aws_role_arn: cdktf.stringToTerraform(this._awsRoleArn),
      aws_secret_access_key: cdktf.stringToTerraform(this._awsSecretAccessKey),
      aws_secret_access_key_wo: cdktf.stringToTerraform(this._awsSecretAccessKeyWo),
      aws_secret_access_key_wo_version: cdktf.numberToTerraform(this._awsSecretAccessKeyWoVersion),
      aws_secret_name: cdktf.stringToTerraform(this._awsSecretName),
      aws_session_token: cdktf.stringToTerraform(this._awsSessionToken),
      aws_sts_endpoint: cdktf.stringToTerraform(this._awsStsEndpoint),
      connect_timeout: cdktf.numberToTerraform(this._connectTimeout),
      connection_url: cdktf.stringToTerraform(this._connectionUrl),
      database_name: cdktf.stringToTerraform(this._databaseName),
      host: cdktf.stringToTerraform(this._host),
      max_connections: cdktf.numberToTerraform(this._maxConnections),
      min_connections: cdktf.numberToTerraform(this._minConnections),
      name: cdktf.stringToTerraform(this._name),
      password: cdktf.stringToTerraform(this._password),
      password_wo: cdktf.stringToTerraform(this._passwordWo),
      password_wo_version: cdktf.numberToTerraform(this._passwordWoVersion),
      port: cdktf.stringToTerraform(this._port),
      region: cdktf.stringToTerraform(this._region),
      revoked_objects: cdktf.stringToTerraform(this._revokedObjects),
      secret_id: cdktf.stringToTerraform(this._secretId),
      ssl_mode: cdktf.stringToTerraform(this._sslMode),
      tags: cdktf.hashMapper(cdktf.stringToTerraform)(this._tags),
      tls_cert_file: cdktf.stringToTerraform(this._tlsCertFile),
      tls_key_file: cdktf.stringToTerraform(this._tlsKeyFile),
      tls_root_cert: cdktf.stringToTerraform(this._tlsRootCert),
      tls_server_name: cdktf.stringToTerraform(this._tlsServerName),
      type: cdktf.stringToTerraform(this._type),
      use_aws_secrets: cdktf.booleanToTerraform(this._useAwsSecrets),
      use_rds_iam: cdktf.booleanToTerraform(this._useRdsIam),
      username: cdktf.stringToTerraform(this._username),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      application_name: {
        value: cdktf.stringToHclTerraform(this._applicationName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      arn: {
        value: cdktf.stringToHclTerraform(this._arn),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_access_key_id: {
        value: cdktf.stringToHclTerraform(this._awsAccessKeyId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_endpoint: {
        value: cdktf.stringToHclTerraform(this._awsEndpoint),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_region: {
        value: cdktf.stringToHclTerraform(this._awsRegion),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_role_arn: {
        value: cdktf.stringToHclTerraform(this._awsRoleArn),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_secret_access_key: {
        value: cdktf.stringToHclTerraform(this._awsSecretAccessKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_secret_access_key_wo: {
        value: cdktf.stringToHclTerraform(this._awsSecretAccessKeyWo),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_secret_access_key_wo_version: {
        value: cdktf.numberToHclTerraform(this._awsSecretAccessKeyWoVersion),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      aws_secret_name: {
        value: cdktf.stringToHclTerraform(this._awsSecretName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_session_token: {
        value: cdktf.stringToHclTerraform(this._awsSessionToken),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_sts_endpoint: {
        value: cdktf.stringToHclTerraform(this._awsStsEndpoint),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      connect_timeout: {
        value: cdktf.numberToHclTerraform(this._connectTimeout),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      connection_url: {
        value: cdktf.stringToHclTerraform(this._connectionUrl),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      database_name: {
        value: cdktf.stringToHclTerraform(this._databaseName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      host: {
        value: cdktf.stringToHclTerraform(this._host),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      max_connections: {
        value: cdktf.numberToHclTerraform(this._maxConnections),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      min_connections: {
        value: cdktf.numberToHclTerraform(this._minConnections),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      password: {
        value: cdktf.stringToHclTerraform(this._password),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      password_wo: {
        value: cdktf.stringToHclTerraform(this._passwordWo),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      password_wo_version: {
        value: cdktf.numberToHclTerraform(this._passwordWoVersion),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      port: {
        value: cdktf.stringToHclTerraform(this._port),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      region: {
        value: cdktf.stringToHclTerraform(this._region),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      revoked_objects: {
        value: cdktf.stringToHclTerraform(this._revokedObjects),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      secret_id: {
        value: cdktf.stringToHclTerraform(this._secretId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ssl_mode: {
        value: cdktf.stringToHclTerraform(this._sslMode),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      tags: {
        value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this._tags),
        isBlock: false,
        type: "map",
        storageClassType: "stringMap",
      },
      tls_cert_file: {
        value: cdktf.stringToHclTerraform(this._tlsCertFile),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      tls_key_file: {
        value: cdktf.stringToHclTerraform(this._tlsKeyFile),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      tls_root_cert: {
        value: cdktf.stringToHclTerraform(this._tlsRootCert),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      tls_server_name: {
        value: cdktf.stringToHclTerraform(this._tlsServerName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      type: {
        value: cdktf.stringToHclTerraform(this._type),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      use_aws_secrets: {
        value: cdktf.booleanToHclTerraform(this._useAwsSecrets),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      use_rds_iam: {
        value: cdktf.booleanToHclTerraform(this._useRdsIam),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      username: {
        value: cdktf.stringToHclTerraform(this._username),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
