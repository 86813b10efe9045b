/**
 * CDKTF constructs for adaptive-access: the bindings generated from the provider's schema
 * (L1, under `l1`, and the provider itself), and hand-written constructs on top of them.
 */
export * as l1 from './generated/providers/adaptive';
export { AdaptiveProvider, type AdaptiveProviderConfig } from './generated/providers/adaptive/provider';
export { AccessGroup, type AccessGroupProps } from './access-group';
export { Authorization, type AuthorizationProps } from './authorization';
export { Endpoint, type EndpointProps } from './endpoint';
export { permissionsJson, terraformJsonEncode, type Permissions, type TablePrivilege } from './permissions';
export { PostgresAccess, type PostgresAccessProps } from './postgres-access';
export { AdminCredentials, PostgresTarget, type PostgresTargetProps, type RdsIamCredentialsOptions, type SecretsManagerCredentialsOptions, type SslMode, type TargetTlsOptions } from './target';
export { issueMessage } from './validation';
