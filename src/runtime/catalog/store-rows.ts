/**
 * The catalog's rows as PostgreSQL returns them, the columns each query selects, and their
 * mapping to the records the API hands out.
 */
import type { Permissions, SessionSettings } from '../types';
import type {
  AuditRecord,
  AuthorizationRecord,
  CredentialKind,
  CredentialRecord,
  EndpointRecord,
  EndpointSpec,
  GroupDelivery,
  GroupRecord,
  PublicTargetConfig,
  ResourceInfo,
} from './records';

export interface TimestampRow {
  created_at: Date;
  updated_at: Date;
}

export interface ResourceRow extends TimestampRow {
  name: string;
  config: PublicTargetConfig;
  secrets: Buffer | null;
  /** MAC of the record's binding, for records without `secrets` written with a key; else null. */
  binding: Buffer | null;
}

export interface AuthorizationRow extends TimestampRow {
  name: string;
  description: string;
  resource_type: string;
  permissions: Permissions;
  permissions_source: string | null;
}

export interface EndpointRow extends TimestampRow {
  name: string;
  type: EndpointSpec['type'];
  ttl_seconds: number;
  resource: string;
  authorization: string;
  access_role: string;
  session_settings: SessionSettings;
}

export interface GroupRow extends TimestampRow {
  name: string;
  members: string[];
  endpoints: string[];
  delivery: { mode?: string; secret_prefix?: string; region?: string; endpoint?: string };
}

export interface CredentialRow {
  id: string;
  role_name: string;
  resource: string;
  endpoint: string;
  group_name: string;
  member: string;
  granted_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  kind: CredentialKind;
  not_after: Date | null;
  delivered_to: { secrets_manager?: { arn: string; region?: string; endpoint?: string } } | null;
}

export interface AuditRow {
  id: string;
  at: Date;
  event: string;
  resource: string | null;
  endpoint: string | null;
  group_name: string | null;
  member: string | null;
  role_name: string | null;
  detail: Record<string, unknown>;
}

export const RESOURCE_COLUMNS = 'name, config, secrets, binding, created_at, updated_at';
export const AUTHORIZATION_COLUMNS = 'name, description, resource_type, permissions, permissions_source, created_at, updated_at';
export const ENDPOINT_COLUMNS = 'name, type, ttl_seconds, resource, "authorization", access_role, session_settings, created_at, updated_at';
export const GROUP_COLUMNS = 'name, members, endpoints, delivery, created_at, updated_at';
export const CREDENTIAL_COLUMNS =
  'id::text as id, role_name, resource, endpoint, group_name, member, granted_at, expires_at, revoked_at, revoke_reason, kind, not_after, delivered_to';
export const AUDIT_COLUMNS = 'id::text as id, at, event, resource, endpoint, group_name, member, role_name, detail';

export function stamps(row: TimestampRow): { createdAt: Date; updatedAt: Date } {
  return { createdAt: row.created_at, updatedAt: row.updated_at };
}

export function resourceInfo(row: ResourceRow): ResourceInfo {
  return { name: row.name, config: row.config, hasStoredSecrets: row.secrets !== null, ...stamps(row) };
}

export function authorizationRecord(row: AuthorizationRow): AuthorizationRecord {
  return {
    name: row.name,
    description: row.description,
    resourceType: row.resource_type,
    permissions: row.permissions,
    permissionsSource: row.permissions_source,
    ...stamps(row),
  };
}

export function endpointRecord(row: EndpointRow): EndpointRecord {
  return {
    name: row.name,
    type: row.type,
    ttlSeconds: row.ttl_seconds,
    resource: row.resource,
    authorization: row.authorization,
    accessRole: row.access_role,
    sessionSettings: row.session_settings,
    ...stamps(row),
  };
}

export function groupRecord(row: GroupRow): GroupRecord {
  return { name: row.name, members: row.members, endpoints: row.endpoints, delivery: groupDelivery(row.delivery), ...stamps(row) };
}

/** A group's delivery as stored (snake_case JSON) to its record. */
export function groupDelivery(stored: GroupRow['delivery']): GroupDelivery {
  if (stored.mode === 'none') return { mode: 'none' };
  if (stored.mode === 'secrets_manager') {
    return {
      mode: 'secrets_manager',
      secretPrefix: stored.secret_prefix ?? '',
      ...(stored.region ? { region: stored.region } : {}),
      ...(stored.endpoint ? { endpoint: stored.endpoint } : {}),
    };
  }
  return { mode: 'state' };
}

/** A group's delivery as stored. */
export function storedDelivery(delivery: GroupDelivery | undefined): GroupRow['delivery'] {
  if (!delivery || delivery.mode !== 'secrets_manager') return { mode: delivery?.mode ?? 'state' };
  return {
    mode: 'secrets_manager',
    secret_prefix: delivery.secretPrefix,
    ...(delivery.region ? { region: delivery.region } : {}),
    ...(delivery.endpoint ? { endpoint: delivery.endpoint } : {}),
  };
}

export function credentialRecord(row: CredentialRow): CredentialRecord {
  return {
    id: row.id,
    roleName: row.role_name,
    resource: row.resource,
    endpoint: row.endpoint,
    group: row.group_name,
    member: row.member,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason,
    kind: row.kind,
    notAfter: row.not_after,
    deliveredTo: row.delivered_to?.secrets_manager ? { secretsManager: row.delivered_to.secrets_manager } : null,
  };
}

export function auditRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    event: row.event,
    resource: row.resource,
    endpoint: row.endpoint,
    group: row.group_name,
    member: row.member,
    roleName: row.role_name,
    detail: row.detail,
  };
}
