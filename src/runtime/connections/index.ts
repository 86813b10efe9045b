/**
 * Connections to targets: secrets, libpq sslmode semantics, pools, error mapping and the
 * admin preflight. See each module for the rules it implements.
 */
export {
  CONNECTION_ERROR_CAUSES,
  ConnectionError,
  classify,
  redact,
  type AttemptFailure,
  type ConnectionErrorCause,
} from './errors';
export {
  awsCredentials,
  AssumeRoleFailure,
  ROLE_SESSION_NAME,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
  type AwsCredentialSource,
} from './aws-credentials';
export { firstAttempt, nextAttempt, tlsOptions, describeAttempt, type Attempt, type Verification } from './tls';
export {
  fetchDbSecret,
  parseDbSecret,
  resolveTarget,
  secretAttributes,
  DEFAULT_APPLICATION_NAME,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  type DbSecret,
  type ResolvedTarget,
  type SecretAttributes,
} from './secrets';
export {
  openTarget,
  testConnection,
  negotiate,
  connectWith,
  type ConnectionCheck,
  type Negotiated,
  type OpenTarget,
  type TlsState,
} from './connect';
export {
  preflight,
  assertPreflight,
  requireAdminPrivileges,
  PreflightError,
  type MissingPrivilege,
  type PreflightOptions,
  type PreflightReport,
} from './preflight';
export { inspectRole, DEFAULT_TABLE_LIMIT, type RoleInspection, type RoleAttributes, type DatabaseAccess, type SchemaAccess, type TableAccess, type RelationKind } from './role-inspection';
