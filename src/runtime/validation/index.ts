/**
 * Validation of user input, shared by the provider (plan time) and the CDKTF constructs
 * (synth time) so both give the same messages. Pure and synchronous: no I/O, no clock
 * except where a certificate's validity is judged (and there the instant can be given).
 *
 * Every validator comes as `checkX(value, field): ValidationIssue[]` (never throws, accepts
 * `UNKNOWN`) and `parseX(value, field)` (returns the normalised value or throws a
 * `ValidationError`). Issues name the attribute as the user wrote it, e.g. `ttl`,
 * `permissions.grants[1]`, `members[0]`, and say what would be accepted.
 */
export { UNKNOWN, isUnknown, throwIfIssues, type MaybeUnknown, type Unknown } from './common';
export { findJsonSyntaxError, parseJsonText, type JsonSyntaxError, type JsonTextResult } from './json';
export { TTL_MAX_SECONDS, TTL_MIN_SECONDS, checkTtl, formatTtl, parseTtl } from './ttl';
export {
  IDENTIFIER_MAX_BYTES,
  IDENTIFIER_PATTERN,
  IDENTIFIER_RULE,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  NAME_RULE,
  checkHostname,
  checkIdentifier,
  checkName,
  checkNames,
  hostnameProblem,
  identifierProblem,
  parseIdentifier,
  parseName,
} from './names';
export { DELIVERY_MODES, SECRET_PREFIX_RULE, checkDelivery, memberSecretName, type DeliveryInput, type DeliveryMode } from './delivery';
export { EMAIL_MAX_LENGTH, checkMember, checkMembers, normaliseMember, parseMembers } from './members';
export { PERMISSIONS_SCHEMA, canonicalPermissionsJson, checkPermissions, parsePermissions } from './permissions';
export {
  checkCertificates,
  checkClientPair,
  checkPrivateKey,
  parseCertificates,
  parsePrivateKey,
  type TlsCheckOptions,
} from './tls-material';
export { VERIFY_CA_NEEDS_ROOT_CERT, sslModeRefusal } from './tls-mode';
export { PostgresUrlError, parsePostgresUrl, type PostgresUrl } from './connection-url';
export {
  DEFAULT_PORT,
  DEFAULT_SSL_MODE,
  MAX_CONNECT_TIMEOUT_SECONDS,
  MAX_POOL_SIZE,
  TARGET_FIELDS,
  checkTargetInput,
  toTargetConfig,
  type InputValue,
  type TargetInput,
} from './target';
