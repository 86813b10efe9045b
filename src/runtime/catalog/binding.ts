/**
 * What a resource's seal binds: its name and every stored setting that decides where its
 * admin secret (or the AWS credentials that fetch it) is sent, or how the server proving
 * its identity is checked. Someone who can write the catalog, or who sits on its
 * connection, could otherwise point a resource at their own host, downgrade its sslmode
 * or swap its CA, and the next run would send the decrypted password there.
 *
 * IAM authentication (`rdsIam`) binds only its role and STS endpoint (below): its token is
 * sent to the bound host, as the bound user, under the bound sslmode, and its keys only
 * sign, locally, or sign the AssumeRole request sent to the STS endpoint.
 *
 * The list is explicit, not "the whole record": settings that decide nothing of the sort
 * (pool sizes, timeouts, application_name, fields added to the record later) can change
 * without a new seal, and adding such a field does not invalidate stored records.
 * Adding a field to this list does: it needs a new sealed format (see ./crypto), with this
 * encoding kept for the records sealed in format 2.
 *
 * Encoding (format 2): the UTF-8 text of a JSON array, in this fixed order:
 *
 *   ["adaptive-access resource", 2, name, host, port, database, username, sslMode,
 *    tlsRootCert, tlsClientCert, tlsServerName, aws.secretName, aws.region, aws.endpoint]
 *
 * followed, only when one of them is set, by aws.roleArn, aws.stsEndpoint, rdsIam.roleArn and
 * rdsIam.stsEndpoint (the role assumed to read the secret or sign IAM tokens, and where the
 * AssumeRole request signed with the AWS credentials goes).
 * Appended only when set, a record without them encodes exactly as before, so records sealed
 * before these settings existed still open; a record with them cannot be passed off as one
 * without (the arrays differ in length), nor the other way round.
 *
 * A missing value is `null`. The values are taken from the record as stored (its JSON), so
 * the writer and every reader encode the same text. The secrets themselves (password, TLS
 * client key, static AWS keys) are not listed: they are inside the sealed value.
 */
import type { PublicTargetConfig } from './records';

/** The bound settings, by their path in the stored config, in encoding order. */
export const BOUND_RESOURCE_SETTINGS = [
  'host',
  'port',
  'database',
  'username',
  'sslMode',
  'tlsRootCert',
  'tlsClientCert',
  'tlsServerName',
  'aws.secretName',
  'aws.region',
  'aws.endpoint',
] as const;

/** Bound too, appended only when one of them is set (see the encoding above). */
export const BOUND_ROLE_SETTINGS = ['aws.roleArn', 'aws.stsEndpoint', 'rdsIam.roleArn', 'rdsIam.stsEndpoint'] as const;

const LABEL = 'adaptive-access resource';
const ENCODING_VERSION = 2;

/** The value at a dotted path of a JSON object, or null. */
function valueAt(config: unknown, path: string): unknown {
  let value: unknown = config;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    value = (value as Record<string, unknown>)[part];
  }
  return value ?? null;
}

/**
 * The canonical binding of a resource: the associated data of its sealed secrets, or the
 * text its MAC covers when it has none. `config` is the record's stored (non-secret) config.
 */
export function resourceBinding(name: string, config: PublicTargetConfig): string {
  // Through JSON first, so the writer encodes exactly what a reader will get back (an
  // undefined property is dropped on storage and read back as missing, hence null).
  const stored: unknown = JSON.parse(JSON.stringify(config));
  const role = BOUND_ROLE_SETTINGS.map((path) => valueAt(stored, path));
  const roleBound = role.some((value) => value !== null) ? role : [];
  return JSON.stringify([LABEL, ENCODING_VERSION, name, ...BOUND_RESOURCE_SETTINGS.map((path) => valueAt(stored, path)), ...roleBound]);
}

/** The context earlier builds (sealed format 1) bound a resource's secrets to: its name only. */
export function legacyResourceContext(name: string): string {
  return `resource:${name}`;
}
