/**
 * `adaptive_resource`: a PostgreSQL target and the admin connection used to manage it.
 * Creating or updating it connects, checks the admin's privileges (preflight) and records
 * it in the catalog; secrets are stored encrypted or, with Secrets Manager, only referenced.
 */
import { attr, requiresReplace, resourceFactory, useStateForUnknown, type ModelOf } from '../provider';
import { runtimeSecrets, SSL_MODES, type TargetConfig } from '../runtime';
import { checkTargetInput, toTargetConfig, type TargetInput } from '../runtime/validation/target';
import { ADAPTIVE_SECRETS_MANAGER_TYPE } from '../runtime/validation/target-adaptive';
import { forValidation, issueDiagnostics, type AdaptiveClient } from './common';

const defineResource = resourceFactory<AdaptiveClient>();
/** The schema's default port, which state holds when the configuration leaves `port` out. */
const DEFAULT_PORT_TEXT = '5432';

const schema = {
  version: 0,
  description:
    'A PostgreSQL target and the admin connection used to manage it. Creating or updating it tests the connection ' +
    "and the admin's privileges (CREATEROLE or superuser; the right to end sessions) and says exactly what is missing.",
  attributes: {
    id: attr.string({ computed: true, description: 'The resource name (its identity in the catalog).', planModifiers: [useStateForUnknown()] }),
    type: attr.string({
      required: true,
      description:
        'The kind of target: `postgres`, or `postgres_aws_secrets_manager` (Adaptive\'s Secrets Manager form: `secret_id` names a secret holding ' +
        '`username`, `password`, `host`, `port` and `dbname`, read with the IAM role `arn` assumed through STS in `region`; `host`, `port` and `database_name` are then optional).',
    }),
    name: attr.string({
      required: true,
      description: 'Unique name of the target; endpoints refer to it. 1-63 letters, digits, `-`, `_`, `.`. Changing it replaces the resource.',
      planModifiers: [requiresReplace()],
    }),
    arn: attr.string({
      optional: true,
      description:
        'With `type = "postgres_aws_secrets_manager"`: the ARN of an IAM role assumed (STS AssumeRole, session name `adaptive-access`) to read `secret_id`. ' +
        'The AWS credentials (`aws_access_key_id`/`aws_secret_access_key`, else the AWS SDK chain) only need `sts:AssumeRole` on it; the role needs `secretsmanager:GetSecretValue` on the secret.',
    }),
    region: attr.string({
      optional: true,
      description: 'With `type = "postgres_aws_secrets_manager"`: AWS region of the secret and of STS; default the provider `aws_region`, then the AWS SDK configuration.',
    }),
    secret_id: attr.string({
      optional: true,
      description:
        'With `type = "postgres_aws_secrets_manager"` (required then): name or ARN of the secret; its JSON holds `username`, `password`, `host`, `port` and `dbname` (optionally `engine`), as RDS writes it.',
    }),
    connection_url: attr.string({
      optional: true,
      sensitive: true,
      description:
        'The connection as a `postgres://` or `postgresql://` URI, instead of `host`, `port`, `database_name`, `username`, `password` and `ssl_mode`: ' +
        '`postgres://user:password@host:5432/database?sslmode=verify-full`, read with libpq\'s rules (percent-encoding, IPv6 host in brackets, port 5432 by default). ' +
        'Query keywords: `host`, `port`, `dbname`, `user`, `password`, `sslmode`, `application_name`, `connect_timeout`; certificates stay in the `tls_*` attributes. ' +
        'Not with the attributes it stands for. The password in it is stored encrypted in the catalog like `password`, and the URI is in Terraform state as this sensitive value.',
    }),
    host: attr.string({ optional: true, description: 'Host name or IP address of the PostgreSQL server. Required unless `connection_url` is set.' }),
    port: attr.string({ optional: true, computed: true, default: DEFAULT_PORT_TEXT, description: 'TCP port, as a string or number (default `5432`).' }),
    database_name: attr.string({ optional: true, description: 'Database the grants apply to, and the one the admin connects to. Required unless `connection_url` is set.' }),
    username: attr.string({ optional: true, description: 'Admin role name. Not needed with `use_aws_secrets` (the secret holds it); with `use_rds_iam`, the database user the token is for.' }),
    password: attr.string({ optional: true, sensitive: true, description: 'Admin password. Stored encrypted in the catalog (needs `catalog_key` or `ADAPTIVE_CATALOG_KEY`), and in Terraform state: `password_wo` keeps it out of state.' }),
    password_wo: attr.string({
      optional: true,
      sensitive: true,
      writeOnly: true,
      description:
        'Admin password, write-only (Terraform 1.11+): stored encrypted in the catalog like `password`, never in plan or state; it may come from an ephemeral value. ' +
        'Requires `password_wo_version`; not with `password`. Every apply that creates or updates the resource uses the value configured then.',
    }),
    password_wo_version: attr.number({
      optional: true,
      description: 'Raise it to apply a new `password_wo`: Terraform cannot see a change in a write-only value, so a new value alone plans nothing. Required with `password_wo`.',
    }),
    use_aws_secrets: attr.bool({ optional: true, description: 'Read the admin credentials from AWS Secrets Manager (`aws_secret_name`) instead of `username`/`password`.' }),
    use_rds_iam: attr.bool({
      optional: true,
      description:
        'IAM database authentication for the admin (Amazon RDS, Aurora): the admin password is a token signed with the AWS credentials ' +
        '(`aws_access_key_id`/`aws_secret_access_key`, else the AWS SDK default chain) for `host`, `port`, `username` and `aws_region`, made afresh for each connection and never stored. ' +
        'Needs `ssl_mode` `require` or stronger; not with `password`, `password_wo`, `use_aws_secrets` or a password in `connection_url`. ' +
        'The admin role needs `GRANT rds_iam`, and the credentials `rds-db:connect` on it.',
    }),
    aws_region: attr.string({
      optional: true,
      description: 'AWS region of the secret (`use_aws_secrets`) or of the DB instance (`use_rds_iam`); default the provider `aws_region`, then the AWS SDK configuration.',
    }),
    aws_secret_name: attr.string({
      optional: true,
      description: 'Name or ARN of the secret; its JSON holds `username`, `password` and optionally `engine`, `host`, `port`, `dbname`.',
    }),
    aws_access_key_id: attr.string({ optional: true, sensitive: true, description: 'Static AWS access key id; default the AWS SDK credential chain.' }),
    aws_secret_access_key: attr.string({
      optional: true,
      sensitive: true,
      description: 'Static AWS secret access key (with `aws_access_key_id`). Stored encrypted in the catalog, and in Terraform state: `aws_secret_access_key_wo` keeps it out of state.',
    }),
    aws_secret_access_key_wo: attr.string({
      optional: true,
      sensitive: true,
      writeOnly: true,
      description:
        'Static AWS secret access key, write-only (Terraform 1.11+): stored encrypted in the catalog like `aws_secret_access_key`, never in plan or state. ' +
        'Requires `aws_secret_access_key_wo_version`; not with `aws_secret_access_key`.',
    }),
    aws_secret_access_key_wo_version: attr.number({
      optional: true,
      description: 'Raise it to apply a new `aws_secret_access_key_wo` (a new write-only value alone plans nothing). Required with `aws_secret_access_key_wo`.',
    }),
    aws_session_token: attr.string({ optional: true, sensitive: true, description: 'AWS session token for temporary credentials.' }),
    aws_endpoint: attr.string({
      optional: true,
      description: 'Secrets Manager endpoint override (VPC endpoints, local testing); default the provider `aws_endpoint`, then the SDK configuration.',
    }),
    aws_role_arn: attr.string({
      optional: true,
      description:
        'With `use_aws_secrets`: the ARN of an IAM role assumed through STS (session name `adaptive-access`) to read the secret, as `arn` does in Adaptive\'s form; ' +
        'with `use_rds_iam`: the role whose credentials sign the IAM tokens. The AWS credentials then only sign the AssumeRole request.',
    }),
    aws_sts_endpoint: attr.string({
      optional: true,
      description:
        'STS endpoint override for assuming `arn` / `aws_role_arn` (an STS VPC endpoint, or a local stand-in for testing); default the provider `aws_sts_endpoint`, then the SDK\'s regional STS endpoint.',
    }),
    ssl_mode: attr.string({
      optional: true,
      computed: true,
      default: 'prefer',
      description: `TLS mode with libpq's exact semantics: ${SSL_MODES.map((m) => '`' + m + '`').join(', ')} (default \`prefer\`). With \`tls_root_cert\`, \`require\` verifies the chain as libpq does. \`verify-full\` without it trusts the system store, Node.js's built-in CA list plus \`NODE_EXTRA_CA_CERTS\`, with the host name checked (like libpq 16's \`sslrootcert=system\`); \`verify-ca\` without it is refused, as libpq refuses it (any public CA's certificate for any host name would pass).`,
    }),
    tls_root_cert: attr.string({ optional: true, description: 'PEM contents of the CA certificate(s) that sign the server certificate, e.g. `file("ca.crt")`. Required with `verify-ca`; without it, `verify-full` trusts the system store (libpq\'s `sslrootcert=system`).' }),
    tls_cert_file: attr.string({ optional: true, description: 'PEM contents of the client certificate for mutual TLS (with `tls_key_file`).' }),
    tls_key_file: attr.string({ optional: true, sensitive: true, description: 'PEM contents of the client private key (with `tls_cert_file`). Stored encrypted.' }),
    tls_server_name: attr.string({ optional: true, description: 'Host name to verify and send as SNI when `host` is an IP address or an alias.' }),
    max_connections: attr.number({ optional: true, description: "Largest number of admin connections the provider opens to this target (default 10)." }),
    min_connections: attr.number({ optional: true, description: 'Idle admin connections kept open once made.' }),
    connect_timeout: attr.number({ optional: true, description: 'Seconds to wait for a connection (default 10).' }),
    application_name: attr.string({ optional: true, description: 'application_name of admin sessions (default `adaptive-access`).' }),
    revoked_objects: attr.string({
      optional: true,
      description:
        'What happens to the objects (tables, functions, ...) a member created with a credential when it is revoked or expires, ' +
        "and to those an endpoint's access role owns when the endpoint is deleted: `reassign` (default) hands them to `adaptive_revoked`, " +
        'a NOLOGIN role with no privileges, no attributes and no members, and makes their SECURITY DEFINER functions and views run ' +
        "with their caller's privileges; `drop` drops them. Never the admin: the admin is often a superuser, and a member's " +
        'SECURITY DEFINER function it came to own would let anyone run SQL as the admin. A role named `adaptive_revoked` that ' +
        'is not the one adaptive-access created is refused.',
    }),
    tags: attr.map('string', {
      optional: true,
      description: 'Labels for people and tools, e.g. `{ owner = "data-team", env = "prod" }`: recorded in the catalog, they decide nothing. At most 50; keys up to 128 characters, values up to 256.',
    }),
    server_version: attr.string({ computed: true, description: 'PostgreSQL server version, read when the resource was last created or updated.' }),
  },
} as const;

type Model = ModelOf<typeof schema>;

const INPUT_FIELDS = [
  'type', 'name', 'arn', 'region', 'secret_id', 'connection_url', 'host', 'port', 'database_name', 'username', 'password', 'password_wo', 'password_wo_version', 'use_aws_secrets',
  'use_rds_iam', 'aws_region', 'aws_secret_name', 'aws_access_key_id', 'aws_secret_access_key', 'aws_secret_access_key_wo',
  'aws_secret_access_key_wo_version', 'aws_session_token', 'aws_endpoint', 'aws_role_arn', 'aws_sts_endpoint', 'ssl_mode', 'tls_root_cert', 'tls_cert_file',
  'tls_key_file', 'tls_server_name', 'max_connections', 'min_connections', 'connect_timeout', 'application_name', 'revoked_objects', 'tags',
] as const;

/**
 * Attributes required only because another is set (the runtime's pairing rules), with
 * the attributes that make them so: a diagnostic about the missing one points at these.
 */
const REQUIRED_BECAUSE: Readonly<Record<string, readonly string[]>> = {
  tls_key_file: ['tls_cert_file'],
  tls_cert_file: ['tls_key_file'],
  aws_secret_name: ['use_aws_secrets'],
  secret_id: ['type'],
  aws_secret_access_key: ['aws_access_key_id', 'aws_session_token'],
  aws_access_key_id: ['aws_secret_access_key', 'aws_secret_access_key_wo', 'aws_session_token'],
  password_wo_version: ['password_wo'],
  aws_secret_access_key_wo_version: ['aws_secret_access_key_wo'],
};

function targetInput(values: Readonly<Record<string, unknown>>): TargetInput {
  const input: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) input[field] = forValidation(values[field]);
  return input;
}

/** The target as the runtime wants it, with the provider's AWS defaults filled in. */
function targetConfig(values: Model, client: AdaptiveClient): TargetConfig {
  const withDefaults: Record<string, unknown> = { ...values };
  const adaptiveForm = values.type === ADAPTIVE_SECRETS_MANAGER_TYPE;
  if (values.use_aws_secrets || adaptiveForm) {
    if (adaptiveForm) withDefaults.region = values.region ?? client.awsDefaults.region ?? null;
    else withDefaults.aws_region = values.aws_region ?? client.awsDefaults.region ?? null;
    withDefaults.aws_endpoint = values.aws_endpoint ?? client.awsDefaults.endpoint ?? null;
    withDefaults.aws_sts_endpoint = values.aws_sts_endpoint ?? client.awsDefaults.stsEndpoint ?? null;
  }
  if (values.use_rds_iam) {
    withDefaults.aws_region = values.aws_region ?? client.awsDefaults.region ?? null;
    // Only a role to assume calls STS; the provider's STS endpoint applies to it as to Secrets Manager's.
    if (values.aws_role_arn) withDefaults.aws_sts_endpoint = values.aws_sts_endpoint ?? client.awsDefaults.stsEndpoint ?? null;
  }
  return toTargetConfig(targetInput(withDefaults));
}

/**
 * State for a target read back from the catalog (import), in the spelling of its `type`
 * (Adaptive's `arn`/`region`/`secret_id`, or `use_aws_secrets` with `aws_*`). The catalog does not record
 * whether a secret came from `password` or `password_wo`: it comes back as `password`, and
 * a configuration using `password_wo` plans it away (null) on the next apply.
 */
function modelFromConfig(config: TargetConfig, defaults: AdaptiveClient['awsDefaults']): Partial<Model> {
  const adaptiveForm = config.type === ADAPTIVE_SECRETS_MANAGER_TYPE;
  const aws = config.aws;
  const stsEndpoint = aws?.stsEndpoint ?? config.rdsIam?.stsEndpoint;
  return {
    id: config.name,
    type: config.type ?? 'postgres',
    name: config.name,
    // Adaptive's form keeps empty what the secret gives (the port's default is the schema's).
    host: config.host === '' ? null : config.host,
    port: config.port > 0 ? String(config.port) : DEFAULT_PORT_TEXT,
    database_name: config.database === '' ? null : config.database,
    username: aws ? null : (config.username ?? null),
    password: config.password ?? null,
    use_aws_secrets: aws && !adaptiveForm ? true : null,
    use_rds_iam: config.rdsIam ? true : null,
    arn: adaptiveForm ? (aws?.roleArn ?? null) : null,
    region: adaptiveForm ? (aws?.region ?? null) : null,
    secret_id: adaptiveForm ? (aws?.secretName ?? null) : null,
    aws_region: adaptiveForm ? null : (aws?.region ?? config.rdsIam?.region ?? null),
    aws_secret_name: adaptiveForm ? null : (aws?.secretName ?? null),
    aws_role_arn: adaptiveForm ? null : (aws?.roleArn ?? config.rdsIam?.roleArn ?? null),
    aws_access_key_id: aws?.accessKeyId ?? config.rdsIam?.accessKeyId ?? null,
    aws_secret_access_key: aws?.secretAccessKey ?? config.rdsIam?.secretAccessKey ?? null,
    aws_session_token: aws?.sessionToken ?? config.rdsIam?.sessionToken ?? null,
    // The provider block's endpoints are stored with the target (the reaper has no provider
    // block); the same value comes back as the provider's, not the resource's.
    aws_endpoint: aws?.endpoint !== undefined && aws.endpoint !== defaults.endpoint ? aws.endpoint : null,
    aws_sts_endpoint: stsEndpoint !== undefined && stsEndpoint !== defaults.stsEndpoint ? stsEndpoint : null,
    ssl_mode: config.sslMode,
    tls_root_cert: config.tlsRootCert ?? null,
    tls_cert_file: config.tlsClientCert ?? null,
    tls_key_file: config.tlsClientKey ?? null,
    tls_server_name: config.tlsServerName ?? null,
    max_connections: config.maxConnections ?? null,
    min_connections: config.minConnections ?? null,
    connect_timeout: config.connectTimeoutSeconds ?? null,
    application_name: config.applicationName ?? null,
    revoked_objects: config.revokedObjects ?? null,
    tags: config.tags ?? null,
  };
}

/**
 * Creates or updates the target from the configuration, write-only secrets included:
 * Terraform sends their configured values in every apply (plan and state hold null). So an
 * update planned for another reason (say `connect_timeout`) still has the admin password,
 * and uses the value configured now; raising `*_wo_version` is what plans an update when
 * only the secret changed. Plans, refreshes and the reaper connect with the catalog's copy.
 */
async function apply(values: Model, client: AdaptiveClient): Promise<Partial<Model>> {
  const config = targetConfig(values, client);
  // Taken out of connection_url, the password is a value no output writer knows yet.
  runtimeSecrets.register(config.password);
  const runtime = await client.runtimeForChange();
  const { serverVersion } = await runtime.applyResource(config);
  return { id: config.name, server_version: serverVersion };
}

export const adaptiveResource = defineResource({
  typeName: 'adaptive_resource',
  schema,
  validateConfig: ({ config }) => issueDiagnostics(checkTargetInput(targetInput(config)), { config, causes: REQUIRED_BECAUSE }),
  create: ({ config, ctx }) => apply(config, ctx.provider),
  update: ({ config, ctx }) => apply(config, ctx.provider),
  async read({ state, ctx }) {
    const runtime = await ctx.provider.runtime();
    return (await runtime.readResource(state.name)) ? {} : null;
  },
  async delete({ state, ctx }) {
    const runtime = await ctx.provider.runtimeForChange();
    await runtime.removeResource(state.name);
  },
  async importState({ id, ctx }) {
    const runtime = await ctx.provider.runtime();
    const target = await runtime.readResourceConfig(id);
    if (!target) throw new Error(`No adaptive_resource named "${id}" in the catalog; import takes the resource's name.`);
    return modelFromConfig(target, ctx.provider.awsDefaults);
  },
});
