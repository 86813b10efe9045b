/**
 * `adaptive_resource`: the attributes as the user writes them in HCL, checked together and
 * turned into the runtime's `TargetConfig`.
 *
 * Every issue is reported at once, each naming its attribute. Any attribute may be
 * `UNKNOWN` (plan time, computed from another resource); a rule that needs an unknown
 * attribute is skipped, so the provider can validate at plan time what it can. Absent
 * attributes may be `undefined` or `null` (Terraform's null).
 *
 * Decisions:
 * - `type`, `name`, `host` and `database_name` are required, also with `use_aws_secrets`
 *   (`TargetConfig` needs host and database; every example sets them), unless
 *   `connection_url` gives host, database and the rest (./target-url), or the type is
 *   `postgres_aws_secrets_manager` (Adaptive's spelling, ./target-adaptive: the secret gives
 *   the address; `arn` is a role assumed through STS, as `aws_role_arn` is here).
 * - The admin secret comes either from `password` (with `username`) or from AWS Secrets
 *   Manager (`use_aws_secrets = true` with `aws_secret_name`): not both, not neither.
 *   `aws_*` attributes without `use_aws_secrets = true` are refused rather than ignored.
 *   `password_wo` stands for `password` and `aws_secret_access_key_wo` for
 *   `aws_secret_access_key`, never with them (the pairing rules: ./write-only-secrets).
 * - `use_rds_iam = true` makes the admin password an IAM token (./rds-iam): no password, no
 *   Secrets Manager, ssl_mode require or stronger; aws_region and the static keys apply.
 * - `ssl_mode` is one of libpq's six modes, lower case, default `prefer` as libpq.
 *   `verify-full` without `tls_root_cert` is accepted: the system trust store is used, with
 *   the host name checked, as libpq's `sslrootcert=system`. `verify-ca` without it is
 *   refused on `ssl_mode` (see ./tls-mode): libpq refuses it too.
 * - An empty string is refused with a hint to omit the attribute (null), not read as absent.
 * - Pool sizes: 1 <= min_connections <= max_connections <= 1000 (min compared with max only
 *   when both are set). connect_timeout: 1 to 3600 seconds (libpq's 0, "wait forever",
 *   would hang terraform).
 * - `revoked_objects`: "reassign" (default) or "drop", exactly, lower case.
 */
import { isIP } from 'node:net';
import { REVOKED_OBJECTS, SSL_MODES, ValidationError, type AwsSecretRef, type RdsIamAuth, type RevokedObjects, type SslMode, type TargetConfig, type ValidationIssue } from '../types';
import { hasControlCharacter, isAbsent, issue, isUnknown, show, typeName, utf8Length, type Unknown } from './common';
import { checkHostname, checkName, describeCharacter, hostnameProblem } from './names';
import { checkAwsKeyPairs } from './aws-keys';
import { checkCertificates, checkClientPair, checkPrivateKey, type TlsCheckOptions } from './tls-material';
import { checkRdsIam, checkRdsIamFlag, usesRdsIam } from './rds-iam';
import { sslModeRefusal } from './tls-mode';
import { ADAPTIVE_SECRETS_MANAGER_TYPE, checkRoleArn, withAdaptiveSecretsManager } from './target-adaptive';
import { withConnectionUrl } from './target-url';
import { checkWriteOnlySecrets, eitherPresent } from './write-only-secrets';

/** An attribute's value: known, not known yet, or absent (null). */
export type InputValue<T> = T | Unknown | null | undefined;

/** The attributes of `adaptive_resource`, named as in HCL. */
export interface TargetInput {
  /** "postgres", or "postgres_aws_secrets_manager" (Adaptive's Secrets Manager form, ./target-adaptive). */
  readonly type?: InputValue<string>;
  readonly name?: InputValue<string>;
  /** Adaptive's form: the IAM role to assume (stands for aws_role_arn). */
  readonly arn?: InputValue<string>;
  /** Adaptive's form: the secret's region (stands for aws_region). */
  readonly region?: InputValue<string>;
  /** Adaptive's form: the secret's name or ARN (stands for aws_secret_name). */
  readonly secret_id?: InputValue<string>;
  /** A postgres:// URI standing for host, port, database_name, username, password, ssl_mode (see ./target-url). */
  readonly connection_url?: InputValue<string>;
  readonly host?: InputValue<string>;
  /** A string in the examples (`port = "5432"`); a number is accepted too. */
  readonly port?: InputValue<string | number>;
  readonly database_name?: InputValue<string>;
  readonly username?: InputValue<string>;
  readonly password?: InputValue<string>;
  /** Write-only: the admin password, never in plan or state (see ./write-only-secrets). */
  readonly password_wo?: InputValue<string>;
  readonly password_wo_version?: InputValue<number>;
  readonly use_aws_secrets?: InputValue<boolean>;
  /** The admin password is an IAM token made for each connection (./rds-iam). */
  readonly use_rds_iam?: InputValue<boolean>;
  readonly aws_region?: InputValue<string>;
  readonly aws_secret_name?: InputValue<string>;
  readonly aws_access_key_id?: InputValue<string>;
  readonly aws_secret_access_key?: InputValue<string>;
  /** Write-only: the AWS secret access key, never in plan or state. */
  readonly aws_secret_access_key_wo?: InputValue<string>;
  readonly aws_secret_access_key_wo_version?: InputValue<number>;
  readonly aws_session_token?: InputValue<string>;
  readonly aws_endpoint?: InputValue<string>;
  /** An IAM role assumed through STS to read the secret. */
  readonly aws_role_arn?: InputValue<string>;
  /** STS endpoint override for AssumeRole. */
  readonly aws_sts_endpoint?: InputValue<string>;
  readonly ssl_mode?: InputValue<string>;
  /** PEM contents, as `file()` returns them. */
  readonly tls_root_cert?: InputValue<string>;
  /** PEM contents of the client certificate (optionally followed by its chain). */
  readonly tls_cert_file?: InputValue<string>;
  /** PEM contents of the client key. */
  readonly tls_key_file?: InputValue<string>;
  readonly tls_server_name?: InputValue<string>;
  readonly max_connections?: InputValue<number | string>;
  readonly min_connections?: InputValue<number | string>;
  /** Seconds. */
  readonly connect_timeout?: InputValue<number | string>;
  readonly application_name?: InputValue<string>;
  /** "reassign" (default) or "drop". */
  readonly revoked_objects?: InputValue<string>;
  /** Labels, as Terraform's map(string); a value may be unknown at plan time. */
  readonly tags?: InputValue<Readonly<Record<string, InputValue<string>>>>;
}

/** The attributes of `adaptive_resource`, in the order issues are reported. */
export const TARGET_FIELDS = [
  'type',
  'name',
  'arn',
  'region',
  'secret_id',
  'connection_url',
  'host',
  'port',
  'database_name',
  'username',
  'password',
  'password_wo',
  'password_wo_version',
  'use_aws_secrets',
  'use_rds_iam',
  'aws_region',
  'aws_secret_name',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_secret_access_key_wo',
  'aws_secret_access_key_wo_version',
  'aws_session_token',
  'aws_endpoint',
  'aws_role_arn',
  'aws_sts_endpoint',
  'ssl_mode',
  'tls_root_cert',
  'tls_cert_file',
  'tls_key_file',
  'tls_server_name',
  'max_connections',
  'min_connections',
  'connect_timeout',
  'application_name',
  'revoked_objects',
  'tags',
] as const satisfies readonly (keyof TargetInput)[];

/** The port used when `port` is not set, as libpq. */
export const DEFAULT_PORT = 5432;
/** The sslmode used when `ssl_mode` is not set, as libpq. */
export const DEFAULT_SSL_MODE: SslMode = 'prefer';
/** The largest pool the provider will open to one target. */
export const MAX_POOL_SIZE = 1000;
/** The longest connect timeout, in seconds. */
export const MAX_CONNECT_TIMEOUT_SECONDS = 3600;
/** Tag limits, as AWS's: at most 50 tags, keys up to 128 characters, values up to 256. */
export const MAX_TAGS = 50;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

const AWS_FIELDS = [
  'aws_region',
  'aws_secret_name',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_secret_access_key_wo',
  'aws_secret_access_key_wo_version',
  'aws_session_token',
  'aws_endpoint',
  'aws_role_arn',
  'aws_sts_endpoint',
] as const;
const SSL_MODE_LIST = SSL_MODES.join(', ');

type Issues = ValidationIssue[];

/** true / false when presence is known, undefined when the value is unknown. */
function presence(value: unknown): boolean | undefined {
  if (isUnknown(value)) return undefined;
  return !isAbsent(value);
}

/** The value when known and present, else undefined. */
function known<T>(value: InputValue<T>): T | undefined {
  return isUnknown(value) || isAbsent(value) ? undefined : value;
}

function requireString(value: unknown, field: string, out: Issues, hint: string): value is string {
  if (typeof value !== 'string') {
    out.push(issue(field, `must be a string, got ${typeName(value)}; ${hint}`));
    return false;
  }
  if (value.length === 0) {
    out.push(issue(field, `is empty; ${hint} (or leave it out)`));
    return false;
  }
  return true;
}

/** Parses an integer given as a number or a string of digits, within bounds. */
function parseInteger(value: number | string, field: string, min: number, max: number, example: string, out: Issues): number | undefined {
  const accepted = `write a whole number from ${min} to ${max}, e.g. ${example}`;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\d+$/.test(value)) n = Number(value);
  else {
    out.push(issue(field, `${show(value)} is not a whole number; ${accepted}`));
    return undefined;
  }
  if (!Number.isInteger(n)) {
    out.push(issue(field, `${show(value)} is not a whole number; ${accepted}`));
    return undefined;
  }
  if (n < min || n > max) {
    out.push(issue(field, `${show(value)} is out of range; ${accepted}`));
    return undefined;
  }
  return n;
}

function checkHost(value: string, out: Issues): void {
  const hint = 'give one host name, IP address, or Unix socket directory, e.g. db.example.com';
  if (value.startsWith('/')) {
    if (hasControlCharacter(value)) out.push(issue('host', `contains a control character; ${hint}`));
    return;
  }
  if (isIP(value) !== 0) return;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    out.push(issue('host', `${show(value)} is a URL; ${hint}, and put the port in port and the database in database_name`));
    return;
  }
  if (value.includes(',')) {
    out.push(issue('host', `${show(value)} lists several hosts; ${hint} (multi-host lists are not supported)`));
    return;
  }
  if (/^[^:]+:\d+$/.test(value)) {
    out.push(issue('host', `${show(value)} includes a port; write the host alone and the port in port`));
    return;
  }
  const problem = hostnameProblem(value);
  if (problem !== undefined) out.push(issue('host', `${problem}; ${hint}`));
}

/** Database and role names go to the server as given; PostgreSQL keeps 63 bytes. */
function checkServerName(value: string, field: string, out: Issues): void {
  const rule = 'at most 63 bytes, no control characters';
  const bytes = utf8Length(value);
  if (bytes > 63) out.push(issue(field, `${show(value)} is ${bytes} bytes long; ${rule}`));
  else if (hasControlCharacter(value)) out.push(issue(field, `contains a control character; ${rule}`));
}

function checkAwsFields(input: TargetInput, out: Issues): void {
  const region = known(input.aws_region);
  if (region !== undefined && requireString(region, 'aws_region', out, 'write an AWS region, e.g. us-east-1')) {
    if (!/^[a-z]{2,}(?:-[a-z]+)+-\d+$/.test(region)) {
      out.push(issue('aws_region', `${show(region)} is not an AWS region; write one such as us-east-1 or eu-central-1`));
    }
  }
  const secret = known(input.aws_secret_name);
  const secretHint = 'write the name or ARN of the secret, e.g. postgres-prod-credentials';
  if (secret !== undefined && requireString(secret, 'aws_secret_name', out, secretHint)) {
    const bad = Array.from(secret).find((ch) => !/^[A-Za-z0-9/_+=.@:-]$/.test(ch));
    if (bad !== undefined) out.push(issue('aws_secret_name', `${show(secret)} contains ${describeCharacter(bad)}; ${secretHint} (letters, digits and /_+=.@-)`));
    else if (secret.length > 2048) out.push(issue('aws_secret_name', `is ${secret.length} characters long; at most 2048`));
  }
  // Keys are credentials: messages describe them and never repeat them.
  for (const field of ['aws_access_key_id', 'aws_secret_access_key', 'aws_secret_access_key_wo', 'aws_session_token'] as const) {
    const value = known(input[field]);
    if (value === undefined) continue;
    if (requireString(value, field, out, 'give the credential, or leave it out to use the standard AWS configuration') && /\s/.test(value)) {
      out.push(issue(field, 'contains whitespace; check for a stray space or newline around the value'));
    }
  }
  checkEndpoint(known(input.aws_endpoint), 'aws_endpoint', 'https://secretsmanager.us-east-1.amazonaws.com', out);
  checkEndpoint(known(input.aws_sts_endpoint), 'aws_sts_endpoint', 'https://sts.us-east-1.amazonaws.com', out);
  const role = known(input.aws_role_arn);
  if (role !== undefined) out.push(...checkRoleArn(role, 'aws_role_arn'));
}

/** An endpoint override: an http(s) URL without credentials in it. */
function checkEndpoint(endpoint: string | undefined, field: string, example: string, out: Issues): void {
  const endpointHint = `write an http(s) URL, e.g. ${example}`;
  if (endpoint === undefined || !requireString(endpoint, field, out, endpointHint)) return;
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    out.push(issue(field, `${show(endpoint)} is not a URL; ${endpointHint}`));
  }
  if (url !== undefined && url.protocol !== 'http:' && url.protocol !== 'https:') {
    out.push(issue(field, `${show(endpoint)} is not an http or https URL; ${endpointHint}`));
  } else if (url !== undefined && (url.username !== '' || url.password !== '')) {
    out.push(issue(field, 'contains credentials; use aws_access_key_id and aws_secret_access_key instead'));
  }
}

/** Where the admin secret comes from: password or AWS Secrets Manager, exactly one. */
function checkCredentialSource(input: TargetInput, out: Issues): void {
  const aws = input.use_aws_secrets;
  checkRdsIamFlag(input, out);
  if (isUnknown(aws) || isUnknown(input.use_rds_iam)) return;
  if (usesRdsIam(input)) {
    checkRdsIam(input, DEFAULT_SSL_MODE, out);
    return;
  }
  if (aws === true) {
    if (presence(input.aws_secret_name) === false) {
      out.push(issue('aws_secret_name', 'is required when use_aws_secrets = true; give the name or ARN of the secret holding the admin credentials'));
    }
    for (const field of ['password', 'password_wo'] as const) {
      if (presence(input[field]) !== true) continue;
      out.push(
        issue(field, `must not be set when use_aws_secrets = true: the admin password comes from the secret aws_secret_name; remove ${field}, or set use_aws_secrets = false`),
      );
    }
    checkAwsKeyPairs(input, out);
    return;
  }
  // Password mode (use_aws_secrets false or absent). A non-boolean was reported already.
  if (!isAbsent(aws) && aws !== false) return;
  for (const field of AWS_FIELDS) {
    if (presence(input[field]) === true) {
      const iamToo = field === 'aws_secret_name' || field === 'aws_endpoint' ? '' : ' or use_rds_iam = true';
      out.push(issue(field, `is only used with use_aws_secrets = true${iamToo}; set use_aws_secrets = true${iamToo}, or remove ${field}`));
    }
  }
  if (eitherPresent(input.password, input.password_wo) === false) {
    out.push(issue('password', 'is required: set username and password, or use_aws_secrets = true with aws_secret_name, or use_rds_iam = true'));
  }
  if (presence(input.username) === false) {
    out.push(issue('username', 'is required unless use_aws_secrets = true: set username and password, or use_aws_secrets = true with aws_secret_name'));
  }
}

function checkTls(input: TargetInput, options: TlsCheckOptions, out: Issues): void {
  const mode = known(input.ssl_mode);
  if (mode !== undefined && requireString(mode, 'ssl_mode', out, `accepted: ${SSL_MODE_LIST}`)) {
    if (!(SSL_MODES as readonly string[]).includes(mode)) {
      const lower = (SSL_MODES as readonly string[]).includes(mode.toLowerCase()) ? ` (modes are lower case: ${show(mode.toLowerCase())})` : '';
      out.push(issue('ssl_mode', `${show(mode)} is not an sslmode${lower}; accepted: ${SSL_MODE_LIST}, as in libpq (default ${DEFAULT_SSL_MODE})`));
    } else {
      // Judged only when it is known whether tls_root_cert is set.
      const rootCert = presence(input.tls_root_cert);
      const refusal = rootCert === undefined ? undefined : sslModeRefusal(mode as SslMode, rootCert);
      if (refusal !== undefined) out.push(issue('ssl_mode', refusal));
    }
  }
  if (presence(input.tls_root_cert) === true) out.push(...checkCertificates(input.tls_root_cert as string | Unknown, 'tls_root_cert', options));

  const cert = presence(input.tls_cert_file);
  const key = presence(input.tls_key_file);
  if (cert === true && key === true) {
    out.push(...checkClientPair(input.tls_cert_file as string | Unknown, input.tls_key_file as string | Unknown, 'tls_cert_file', 'tls_key_file', options));
  } else {
    if (cert === true) out.push(...checkCertificates(input.tls_cert_file as string | Unknown, 'tls_cert_file', options));
    if (key === true) out.push(...checkPrivateKey(input.tls_key_file as string | Unknown, 'tls_key_file'));
    if (cert === true && key === false) {
      out.push(issue('tls_key_file', 'is required when tls_cert_file is set: a client certificate needs its key; add tls_key_file = file("client.key"), or remove tls_cert_file'));
    }
    if (key === true && cert === false) {
      out.push(issue('tls_cert_file', 'is required when tls_key_file is set: a client key needs its certificate; add tls_cert_file = file("client.crt"), or remove tls_key_file'));
    }
  }

  const serverName = known(input.tls_server_name);
  if (serverName !== undefined && requireString(serverName, 'tls_server_name', out, 'write the host name the server certificate is for, e.g. db.example.com')) {
    out.push(...checkHostname(serverName, 'tls_server_name').map((i) => issue(i.field, `${i.message} (the name the server certificate is issued for)`)));
  }
}

function checkTags(tags: unknown, out: Issues): void {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    out.push(issue('tags', `must be a map of strings, got ${typeName(tags)}; e.g. tags = { owner = "data-team" }`));
    return;
  }
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > MAX_TAGS) out.push(issue('tags', `has ${entries.length} tags; at most ${MAX_TAGS}`));
  for (const [key, value] of entries) {
    const field = `tags[${JSON.stringify(key)}]`;
    if (key.length === 0 || key.length > MAX_TAG_KEY_LENGTH || hasControlCharacter(key)) {
      out.push(issue('tags', `has the key ${show(key)}; a key has 1 to ${MAX_TAG_KEY_LENGTH} characters and no control characters`));
    }
    if (isUnknown(value) || isAbsent(value)) continue;
    if (typeof value !== 'string') out.push(issue(field, `must be a string, got ${typeName(value)}`));
    else if (value.length > MAX_TAG_VALUE_LENGTH || hasControlCharacter(value)) {
      out.push(issue(field, `is not accepted; a value has at most ${MAX_TAG_VALUE_LENGTH} characters and no control characters`));
    }
  }
}

interface TargetAnalysis {
  readonly issues: ValidationIssue[];
  /** The attributes with those connection_url stands for filled in from it. */
  readonly input: TargetInput;
  readonly port?: number;
  readonly maxConnections?: number;
  readonly minConnections?: number;
  readonly connectTimeout?: number;
}

/** Issues in the order of TARGET_FIELDS (stable among those of one attribute). */
function inFieldOrder(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const order = (field: string): number => (TARGET_FIELDS as readonly string[]).indexOf(field.replace(/\[.*$/, ''));
  return issues.map((item, i) => ({ item, i })).sort((a, b) => order(a.item.field) - order(b.item.field) || a.i - b.i).map(({ item }) => item);
}

function analyseTarget(given: TargetInput, options: TlsCheckOptions): TargetAnalysis {
  const adaptive = withAdaptiveSecretsManager(given);
  const url = withConnectionUrl(adaptive.input);
  const out: Issues = [];
  const input = url.input;
  const required = (field: 'type' | 'name' | 'host' | 'database_name', hint: string): void => {
    if (presence(input[field]) === false) out.push(issue(field, `is required; ${hint}`));
  };
  required('type', `set type = "postgres" (or "${ADAPTIVE_SECRETS_MANAGER_TYPE}" for a target in AWS Secrets Manager)`);
  required('name', 'set a name such as name = "postgres-production"');
  required('host', 'set the server host name, e.g. host = "db.example.com", or give connection_url');
  required('database_name', 'set the database the admin connects to, e.g. database_name = "production", or give connection_url');

  const type = known(input.type);
  if (type !== undefined && type !== 'postgres') {
    out.push(issue('type', `${show(type)} is not supported; write "postgres", or "${ADAPTIVE_SECRETS_MANAGER_TYPE}" (admin credentials and address in AWS Secrets Manager)`));
  }
  const name = known(input.name);
  if (name !== undefined) out.push(...checkName(name, 'name'));
  const host = known(input.host);
  if (host !== undefined && requireString(host, 'host', out, 'write a host name, e.g. db.example.com')) checkHost(host, out);

  const portValue = known(input.port);
  const port = portValue === undefined ? undefined : parseInteger(portValue, 'port', 1, 65535, '"5432"', out);

  const database = known(input.database_name);
  if (database !== undefined && requireString(database, 'database_name', out, 'write a database name, e.g. production')) {
    checkServerName(database, 'database_name', out);
  }
  const username = known(input.username);
  if (username !== undefined && requireString(username, 'username', out, 'write the admin role name, e.g. postgres')) {
    checkServerName(username, 'username', out);
  }
  for (const field of ['password', 'password_wo'] as const) {
    const password = known(input[field]);
    // The password is never repeated in a message.
    if (password !== undefined && requireString(password, field, out, 'give the admin password') && password.includes('\0')) {
      out.push(issue(field, 'contains a NUL character, which PostgreSQL cannot receive'));
    }
  }
  const aws = known(input.use_aws_secrets);
  if (aws !== undefined && typeof aws !== 'boolean') {
    out.push(issue('use_aws_secrets', `must be true or false, got ${typeName(aws)}`));
  }

  checkAwsFields(input, out);
  checkCredentialSource(input, out);
  checkWriteOnlySecrets(input, out);
  checkTls(input, options, out);

  const maxValue = known(input.max_connections);
  const minValue = known(input.min_connections);
  const max = maxValue === undefined ? undefined : parseInteger(maxValue, 'max_connections', 1, MAX_POOL_SIZE, '100', out);
  const min = minValue === undefined ? undefined : parseInteger(minValue, 'min_connections', 1, MAX_POOL_SIZE, '10', out);
  if (max !== undefined && min !== undefined && min > max) {
    out.push(issue('min_connections', `(${min}) is more than max_connections (${max}); write a min_connections from 1 to ${max}, or raise max_connections`));
  }
  const timeoutValue = known(input.connect_timeout);
  const connectTimeout =
    timeoutValue === undefined ? undefined : parseInteger(timeoutValue, 'connect_timeout', 1, MAX_CONNECT_TIMEOUT_SECONDS, '10 (seconds)', out);

  const appName = known(input.application_name);
  if (appName !== undefined && requireString(appName, 'application_name', out, 'write a short label, e.g. adaptive-access')) {
    const bad = Array.from(appName).find((ch) => ch < ' ' || ch > '~');
    if (bad !== undefined) {
      out.push(issue('application_name', `contains ${describeCharacter(bad)}; PostgreSQL keeps only printable ASCII here (letters, digits, punctuation, spaces)`));
    } else if (appName.length > 63) {
      out.push(issue('application_name', `is ${appName.length} characters long; PostgreSQL keeps at most 63`));
    }
  }

  const revoked = known(input.revoked_objects);
  const revokedHint = 'write "reassign" (the default: what a revoked credential created goes to the privilege-less role adaptive_revoked) or "drop" (it is dropped)';
  if (revoked !== undefined && requireString(revoked, 'revoked_objects', out, revokedHint) && !(REVOKED_OBJECTS as readonly string[]).includes(revoked)) {
    out.push(issue('revoked_objects', `${show(revoked)} is not accepted; ${revokedHint}`));
  }

  const tags = known(input.tags);
  if (tags !== undefined) checkTags(tags, out);

  const issues = inFieldOrder([...adaptive.issues, ...adaptive.attribute([...url.issues, ...url.attribute(out)])]);
  return {
    issues,
    input,
    ...(port !== undefined && { port }),
    ...(max !== undefined && { maxConnections: max }),
    ...(min !== undefined && { minConnections: min }),
    ...(connectTimeout !== undefined && { connectTimeout }),
  };
}

/**
 * Checks the attributes of an `adaptive_resource` without throwing and returns every issue,
 * skipping rules that need an unknown attribute. `options.now` dates the certificates.
 */
export function checkTargetInput(input: TargetInput, options: TlsCheckOptions = {}): ValidationIssue[] {
  return analyseTarget(input, options).issues;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** IAM authentication's AWS settings: region, static keys and a role to assume, when given. */
function rdsIamAuth(text: (field: (typeof TARGET_FIELDS)[number]) => string | undefined): RdsIamAuth {
  const region = text('aws_region');
  const accessKeyId = text('aws_access_key_id');
  const secretAccessKey = text('aws_secret_access_key') ?? text('aws_secret_access_key_wo');
  const sessionToken = text('aws_session_token');
  const roleArn = text('aws_role_arn');
  const stsEndpoint = text('aws_sts_endpoint');
  return {
    ...(region !== undefined && { region }),
    ...(accessKeyId !== undefined && { accessKeyId }),
    ...(secretAccessKey !== undefined && { secretAccessKey }),
    ...(sessionToken !== undefined && { sessionToken }),
    ...(roleArn !== undefined && { roleArn }),
    ...(stsEndpoint !== undefined && { stsEndpoint }),
  };
}

/**
 * Turns the attributes of an `adaptive_resource` into a `TargetConfig`, with defaults
 * applied (port 5432, ssl_mode prefer). Throws a `ValidationError` with every issue
 * `checkTargetInput` finds, and with one issue per attribute that is not known yet.
 */
export function toTargetConfig(given: TargetInput, options: TlsCheckOptions = {}): TargetConfig {
  const analysis = analyseTarget(given, options);
  const input = analysis.input;
  const pending = TARGET_FIELDS.filter((field) => isUnknown(given[field])).map((field) =>
    issue(field, 'is not known yet (it is computed during apply); the connection settings need every value'),
  );
  if (analysis.issues.length > 0 || pending.length > 0) throw new ValidationError([...analysis.issues, ...pending]);

  // After the checks every present value has its declared type; `known` drops null/undefined.
  const text = (field: (typeof TARGET_FIELDS)[number]): string | undefined => known(input[field]) as string | undefined;
  const fromSecret = known(given.type) === ADAPTIVE_SECRETS_MANAGER_TYPE;
  const config: Mutable<TargetConfig> = {
    ...(fromSecret && { type: ADAPTIVE_SECRETS_MANAGER_TYPE }),
    name: text('name') ?? '',
    // Empty (or 0) in Adaptive's form when not set: the secret gives it.
    host: text('host') ?? '',
    port: analysis.port ?? (fromSecret ? 0 : DEFAULT_PORT),
    database: text('database_name') ?? '',
    sslMode: (text('ssl_mode') as SslMode | undefined) ?? DEFAULT_SSL_MODE,
  };
  const set = <K extends keyof TargetConfig>(key: K, value: TargetConfig[K] | undefined): void => {
    if (value !== undefined) config[key] = value;
  };
  set('username', text('username'));
  if (known(input.use_aws_secrets) === true) {
    const aws: Mutable<AwsSecretRef> = { secretName: text('aws_secret_name') ?? '' };
    const region = text('aws_region');
    const accessKeyId = text('aws_access_key_id');
    const secretAccessKey = text('aws_secret_access_key') ?? text('aws_secret_access_key_wo');
    const sessionToken = text('aws_session_token');
    const endpoint = text('aws_endpoint');
    if (region !== undefined) aws.region = region;
    if (accessKeyId !== undefined) aws.accessKeyId = accessKeyId;
    if (secretAccessKey !== undefined) aws.secretAccessKey = secretAccessKey;
    if (sessionToken !== undefined) aws.sessionToken = sessionToken;
    if (endpoint !== undefined) aws.endpoint = endpoint;
    const roleArn = text('aws_role_arn');
    const stsEndpoint = text('aws_sts_endpoint');
    if (roleArn !== undefined) aws.roleArn = roleArn;
    if (stsEndpoint !== undefined) aws.stsEndpoint = stsEndpoint;
    config.aws = aws;
  } else if (usesRdsIam(input)) {
    config.rdsIam = rdsIamAuth(text);
  } else {
    // The write-only password arrives only in the configuration of an apply.
    set('password', text('password') ?? text('password_wo'));
  }
  set('tlsRootCert', text('tls_root_cert'));
  set('tlsClientCert', text('tls_cert_file'));
  set('tlsClientKey', text('tls_key_file'));
  set('tlsServerName', text('tls_server_name'));
  set('maxConnections', analysis.maxConnections);
  set('minConnections', analysis.minConnections);
  set('connectTimeoutSeconds', analysis.connectTimeout);
  set('applicationName', text('application_name'));
  set('revokedObjects', text('revoked_objects') as RevokedObjects | undefined);
  // A null value in the map is no tag: Terraform's map(string) allows it, the catalog has no use for it.
  const tags = Object.entries(known(input.tags) ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (tags.length > 0) config.tags = Object.fromEntries(tags);
  return config;
}
