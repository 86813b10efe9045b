/**
 * Authorizations, endpoints and groups in the catalog: stored by name, each write with its
 * own audit event in the same statement, and a delete refused while something still refers
 * to the record (code `referenced`).
 */
import { canonicalPermissionsJson } from '../validation/permissions';
import { CatalogError, nameList, pgErrorFields } from './errors';
import type { AuthorizationRecord, AuthorizationSpec, EndpointRecord, EndpointSpec, GroupRecord, GroupSpec } from './records';
import { ENDPOINT_TYPES } from './records';
import { ResourceStore } from './resource-store';
import { referenced, requireName } from './store-base';
import {
  AUTHORIZATION_COLUMNS,
  ENDPOINT_COLUMNS,
  GROUP_COLUMNS,
  authorizationRecord,
  endpointRecord,
  groupRecord,
  storedDelivery,
  type AuthorizationRow,
  type EndpointRow,
  type GroupRow,
} from './store-rows';

/** The catalog API's authorizations, endpoints and groups (see `CatalogStore`). */
export abstract class DefinitionStore extends ResourceStore {
  /** Stores a permission set (insert or replace) in normal form. */
  async putAuthorization(spec: AuthorizationSpec): Promise<AuthorizationRecord> {
    requireName('authorization', spec.name);
    // The validation module's normal form, so what is stored compares equal to what a plan computes.
    const permissions = canonicalPermissionsJson(spec.permissions);
    const { rows } = await this.query<AuthorizationRow>(
      `with up as (
         insert into ${this.t.authorizations} (name, description, resource_type, permissions, permissions_source) values ($1, $2, $3, $4::jsonb, $5)
         on conflict (name) do update set description = excluded.description, resource_type = excluded.resource_type,
           permissions = excluded.permissions, permissions_source = excluded.permissions_source, updated_at = now()
         returning ${AUTHORIZATION_COLUMNS}, (xmax = 0) as inserted
       ), logged as (
         insert into ${this.t.audit} (event, detail)
         select case when inserted then 'authorization.create' else 'authorization.update' end,
                jsonb_build_object('authorization', name, 'permissions', permissions)
           from up
       )
       select ${AUTHORIZATION_COLUMNS} from up`,
      [spec.name, spec.description ?? '', spec.resourceType, permissions, spec.permissionsSource ?? null],
    );
    return authorizationRecord(rows[0]!);
  }

  /** An authorization, or undefined. */
  async getAuthorization(name: string): Promise<AuthorizationRecord | undefined> {
    const { rows } = await this.query<AuthorizationRow>(
      `select ${AUTHORIZATION_COLUMNS} from ${this.t.authorizations} where name = $1`,
      [name],
    );
    return rows[0] && authorizationRecord(rows[0]);
  }

  /** Every authorization, by name. */
  async listAuthorizations(): Promise<AuthorizationRecord[]> {
    const { rows } = await this.query<AuthorizationRow>(`select ${AUTHORIZATION_COLUMNS} from ${this.t.authorizations} order by name`);
    return rows.map(authorizationRecord);
  }

  /**
   * Deletes an authorization; false when there was none. Refused (code `referenced`)
   * while an endpoint uses it.
   */
  async deleteAuthorization(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      const found = await tx.query(`select 1 from ${tx.t.authorizations} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const users = await tx.query<{ name: string }>(
        `select name from ${tx.t.endpoints} where "authorization" = $1 order by name`,
        [name],
      );
      const endpoints = users.rows.map((r) => r.name);
      if (endpoints.length > 0) {
        throw referenced(`authorization "${name}"`, { endpoints }, 'delete those endpoints or give them another authorization first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.authorizations} where name = $1 returning name)
         insert into ${tx.t.audit} (event, detail) select 'authorization.delete', jsonb_build_object('authorization', name) from del`,
        [name],
      );
      return true;
    });
  }

  // ----- endpoints ---------------------------------------------------------------------

  /**
   * Stores an endpoint (insert or replace). Its resource and authorization must be in the
   * catalog (code `unknown-reference` otherwise), and its access role must be unique on
   * its resource (code `conflict`).
   */
  async putEndpoint(spec: EndpointSpec): Promise<EndpointRecord> {
    requireName('endpoint', spec.name);
    if (!(ENDPOINT_TYPES as readonly string[]).includes(spec.type)) {
      throw new CatalogError('invalid', `endpoint "${spec.name}": type must be one of ${ENDPOINT_TYPES.join(', ')}, not "${spec.type}"`);
    }
    if (!Number.isInteger(spec.ttlSeconds) || spec.ttlSeconds <= 0 || spec.ttlSeconds > 2 ** 31 - 1) {
      throw new CatalogError('invalid', `endpoint "${spec.name}": ttlSeconds must be a positive whole number of seconds`);
    }
    try {
      const { rows } = await this.query<EndpointRow>(
        `with up as (
           insert into ${this.t.endpoints} (name, type, ttl_seconds, resource, "authorization", access_role, session_settings)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (name) do update set type = excluded.type, ttl_seconds = excluded.ttl_seconds,
             resource = excluded.resource, "authorization" = excluded."authorization",
             access_role = excluded.access_role, session_settings = excluded.session_settings, updated_at = now()
           returning ${ENDPOINT_COLUMNS}, (xmax = 0) as inserted
         ), logged as (
           insert into ${this.t.audit} (event, resource, endpoint, detail)
           select case when inserted then 'endpoint.create' else 'endpoint.update' end, resource, name,
                  jsonb_build_object('type', type, 'ttlSeconds', ttl_seconds, 'authorization', "authorization",
                                     'accessRole', access_role, 'sessionSettings', session_settings)
             from up
         )
         select ${ENDPOINT_COLUMNS} from up`,
        [spec.name, spec.type, spec.ttlSeconds, spec.resource, spec.authorization, spec.accessRole, JSON.stringify(spec.sessionSettings ?? {})],
      );
      return endpointRecord(rows[0]!);
    } catch (err) {
      const pg = pgErrorFields(err);
      if (pg.constraint === 'endpoints_resource_fkey') {
        throw new CatalogError(
          'unknown-reference',
          `endpoint "${spec.name}" refers to resource "${spec.resource}", which is not in the catalog`,
          { cause: err },
        );
      }
      if (pg.constraint === 'endpoints_authorization_fkey') {
        throw new CatalogError(
          'unknown-reference',
          `endpoint "${spec.name}" refers to authorization "${spec.authorization}", which is not in the catalog`,
          { cause: err },
        );
      }
      if (pg.constraint === 'endpoints_access_role_key') {
        throw new CatalogError(
          'conflict',
          `endpoint "${spec.name}": access role "${spec.accessRole}" on resource "${spec.resource}" already belongs to another endpoint`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** An endpoint, or undefined. */
  async getEndpoint(name: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where name = $1`, [name]);
    return rows[0] && endpointRecord(rows[0]);
  }

  /** Every endpoint, by name. */
  async listEndpoints(): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} order by name`);
    return rows.map(endpointRecord);
  }

  /** The endpoints that apply an authorization (to re-sync their access roles when it changes). */
  async endpointsUsingAuthorization(authorization: string): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where "authorization" = $1 order by name`,
      [authorization],
    );
    return rows.map(endpointRecord);
  }

  /** The endpoints on a resource. */
  async endpointsOnResource(resource: string): Promise<EndpointRecord[]> {
    const { rows } = await this.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from ${this.t.endpoints} where resource = $1 order by name`,
      [resource],
    );
    return rows.map(endpointRecord);
  }

  /**
   * Deletes an endpoint; false when there was none. Refused (code `referenced`) while a
   * group lists it or a live credential was issued through it: revoke those first.
   */
  async deleteEndpoint(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      // The row lock orders this against putGroup, which key-share-locks the endpoints it lists.
      const found = await tx.query(`select 1 from ${tx.t.endpoints} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const groups = await tx.query<{ name: string }>(
        `select name from ${tx.t.groups} where endpoints @> array[$1]::text[] order by name`,
        [name],
      );
      const live = await tx.query<{ role_name: string }>(
        `select role_name from ${tx.t.credentials} where endpoint = $1 and revoked_at is null order by role_name`,
        [name],
      );
      if (groups.rowCount !== 0 || live.rowCount !== 0) {
        throw referenced(
          `endpoint "${name}"`,
          { groups: groups.rows.map((r) => r.name), credentials: live.rows.map((r) => r.role_name) },
          'remove it from those groups and revoke its credentials first',
        );
      }
      await tx.query(
        `with del as (delete from ${tx.t.endpoints} where name = $1 returning name, resource)
         insert into ${tx.t.audit} (event, resource, endpoint) select 'endpoint.delete', resource, name from del`,
        [name],
      );
      return true;
    });
  }

  // ----- groups ------------------------------------------------------------------------

  /**
   * Stores a group (insert or replace). Every endpoint it lists must be in the catalog
   * (code `unknown-reference` otherwise, naming the missing ones).
   */
  async putGroup(spec: GroupSpec): Promise<GroupRecord> {
    requireName('group', spec.name);
    return this.atomically(async (tx) => {
      // Key-share locks keep the listed endpoints from being deleted until this commits.
      const found = await tx.query<{ name: string }>(
        `select name from ${tx.t.endpoints} where name = any($1::text[]) for key share`,
        [[...spec.endpoints]],
      );
      const known = new Set(found.rows.map((r) => r.name));
      const missing = [...new Set(spec.endpoints.filter((e) => !known.has(e)))];
      if (missing.length > 0) {
        throw new CatalogError(
          'unknown-reference',
          `group "${spec.name}" lists endpoint${missing.length > 1 ? 's' : ''} ${nameList(missing)}, ` +
            `which ${missing.length > 1 ? 'are' : 'is'} not in the catalog`,
        );
      }
      const { rows } = await tx.query<GroupRow>(
        `with up as (
           insert into ${tx.t.groups} (name, members, endpoints, delivery) values ($1, $2::text[], $3::text[], $4::jsonb)
           on conflict (name) do update set members = excluded.members, endpoints = excluded.endpoints, delivery = excluded.delivery, updated_at = now()
           returning ${GROUP_COLUMNS}, (xmax = 0) as inserted
         ), logged as (
           insert into ${tx.t.audit} (event, group_name, detail)
           select case when inserted then 'group.create' else 'group.update' end, name,
                  jsonb_build_object('members', to_jsonb(members), 'endpoints', to_jsonb(endpoints))
             from up
         )
         select ${GROUP_COLUMNS} from up`,
        [spec.name, [...spec.members], [...spec.endpoints], JSON.stringify(storedDelivery(spec.delivery))],
      );
      return groupRecord(rows[0]!);
    });
  }

  /** A group, or undefined. */
  async getGroup(name: string): Promise<GroupRecord | undefined> {
    const { rows } = await this.query<GroupRow>(`select ${GROUP_COLUMNS} from ${this.t.groups} where name = $1`, [name]);
    return rows[0] && groupRecord(rows[0]);
  }

  /** Every group, by name. */
  async listGroups(): Promise<GroupRecord[]> {
    const { rows } = await this.query<GroupRow>(`select ${GROUP_COLUMNS} from ${this.t.groups} order by name`);
    return rows.map(groupRecord);
  }

  /** The groups that list an endpoint. */
  async groupsUsingEndpoint(endpoint: string): Promise<GroupRecord[]> {
    const { rows } = await this.query<GroupRow>(
      `select ${GROUP_COLUMNS} from ${this.t.groups} where endpoints @> array[$1]::text[] order by name`,
      [endpoint],
    );
    return rows.map(groupRecord);
  }

  /**
   * Deletes a group; false when there was none. Refused (code `referenced`) while it has
   * live credentials: revoke them (reason `group destroyed`) first, in the same transaction.
   */
  async deleteGroup(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      const found = await tx.query(`select 1 from ${tx.t.groups} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const live = await tx.query<{ role_name: string }>(
        `select role_name from ${tx.t.credentials} where group_name = $1 and revoked_at is null order by role_name`,
        [name],
      );
      if (live.rowCount !== 0) {
        throw referenced(`group "${name}"`, { credentials: live.rows.map((r) => r.role_name) }, 'revoke them first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.groups} where name = $1 returning name)
         insert into ${tx.t.audit} (event, group_name) select 'group.delete', name from del`,
        [name],
      );
      return true;
    });
  }
}
