/**
 * The catalog's API: records by name, issued credentials and the audit log. A store is
 * bound either to the catalog's pool (each call stands alone; calls that need several
 * statements run in a transaction of their own) or to one client inside `transaction`, so
 * a caller can record credentials and audit events atomically.
 *
 * Writes of the four named records (resource, authorization, endpoint, group) append their
 * own audit event (`resource.create`, `endpoint.delete`, ...) in the same statement;
 * credential events (grant, revoke, expire, extend) are appended by the caller, who knows
 * the context.
 */
import type { PoolClient } from 'pg';
import { transaction as runTransaction, type RetryOptions } from '../pg/locks';
import { CatalogError, pgErrorFields } from './errors';
import type { AuditEvent, AuditFilter, AuditRecord, CredentialFilter, CredentialRecord, NewCredential, RevokeReason } from './records';
import { DefinitionStore } from './definition-store';
import { PRESENCE_GONE } from './presence';
import { Conditions, compareIds, conflictingValue, requireDate, requireLimit, type CatalogContext } from './store-base';
import { AUDIT_COLUMNS, CREDENTIAL_COLUMNS, auditRecord, credentialRecord, type AuditRow, type CredentialRow } from './store-rows';

export type { CatalogAccess, CatalogContext } from './store-base';

/** What a reaper replica holds after `renewReaperLeases`. */
export interface ReaperLeases {
  /** The targets whose lease it holds, by name. */
  readonly held: string[];
  /** Live replicas, itself included: its share is the targets divided by this. */
  readonly replicas: number;
}

/** A target's credentials by state, as `credentialCounts` reports them. */
export interface CredentialCount {
  readonly resource: string;
  readonly live: number;
  readonly expiredUnreaped: number;
}

/**
 * The catalog API, bound to the pool or to one transaction's client: resources
 * (resource-store.ts), authorizations, endpoints and groups (definition-store.ts), and here
 * issued credentials, the audit log and transactions.
 */
export class CatalogStore extends DefinitionStore {
  /** Use `Catalog.open`; stores are made by the catalog and by `transaction`. */
  protected constructor(ctx: CatalogContext, client?: PoolClient) {
    super(ctx, client);
  }

  /**
   * Runs `fn` with the API bound to one client inside BEGIN ... COMMIT (ROLLBACK on any
   * error). A serialization failure or deadlock re-runs `fn` as a whole, so `fn` must not
   * have effects outside the catalog that cannot be repeated. Called on a store that is
   * already in a transaction, `fn` joins that transaction. Inside `fn`, use `tx`: the
   * catalog's own methods run on other pool connections, outside the transaction.
   */
  async transaction<T>(fn: (tx: CatalogStore) => Promise<T>, options: RetryOptions = {}): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.ctx.pool.connect();
    try {
      const tx = new CatalogStore(this.ctx, client);
      return await runTransaction(client, () => fn(tx), options);
    } finally {
      client.release();
    }
  }

  /**
   * Several statements that must hold together: alone in a transaction, or in the caller's.
   * `tx` is a `CatalogStore`, also when `this` is the `Catalog` that extends it; the record
   * methods that call this use only the store's own API on it.
   */
  protected atomically<T>(fn: (tx: this) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(tx as this));
  }

  // ----- credentials -------------------------------------------------------------------

  /**
   * Records login roles just issued, in one statement whatever their number. A role that
   * already has a live credential is refused (code `conflict`): revoke it first.
   */
  async recordIssued(credentials: readonly NewCredential[]): Promise<CredentialRecord[]> {
    if (credentials.length === 0) return [];
    const rows = credentials.map((c, i) => {
      const what = `credential ${i + 1} (role "${c.roleName}")`;
      const names = { roleName: c.roleName, resource: c.resource, endpoint: c.endpoint, group: c.group, member: c.member };
      for (const [field, value] of Object.entries(names)) {
        if (typeof value !== 'string' || value === '') {
          throw new CatalogError('invalid', `${what}: ${field} must be a non-empty string`);
        }
      }
      const grantedAt = requireDate(`${what}: grantedAt`, c.grantedAt);
      const expiresAt = requireDate(`${what}: expiresAt`, c.expiresAt);
      if (c.expiresAt.getTime() <= c.grantedAt.getTime()) {
        throw new CatalogError('invalid', `${what}: expiresAt must be after grantedAt`);
      }
      return {
        i,
        role_name: c.roleName,
        resource: c.resource,
        endpoint: c.endpoint,
        group_name: c.group,
        member: c.member,
        granted_at: grantedAt,
        expires_at: expiresAt,
        kind: c.kind ?? 'standing',
        not_after: c.notAfter ? requireDate(`${what}: notAfter`, c.notAfter) : null,
        delivered_to: c.deliveredTo?.secretsManager ? { secrets_manager: c.deliveredTo.secretsManager } : null,
      };
    });
    try {
      const result = await this.query<CredentialRow>(
        `insert into ${this.t.credentials} (role_name, resource, endpoint, group_name, member, granted_at, expires_at, kind, not_after, delivered_to)
         select x.role_name, x.resource, x.endpoint, x.group_name, x.member, x.granted_at, x.expires_at, x.kind, x.not_after, x.delivered_to
           from jsonb_to_recordset($1::jsonb) as x(i integer, role_name text, resource text, endpoint text,
                                                  group_name text, member text, granted_at timestamptz, expires_at timestamptz,
                                                  kind text, not_after timestamptz, delivered_to jsonb)
          order by x.i
         returning ${CREDENTIAL_COLUMNS}`,
        [JSON.stringify(rows)],
      );
      return result.rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
    } catch (err) {
      const pg = pgErrorFields(err);
      if (pg.constraint === 'credentials_one_live_per_role') {
        const role = conflictingValue(pg.detail);
        throw new CatalogError(
          'conflict',
          `${role === undefined ? 'a role' : `role "${role}"`} already has a live credential in the catalog ` +
            '(or appears twice in the batch); revoke it before recording a new one',
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Marks the live credentials of these roles revoked, now (or `at`), with a reason.
   * Roles with no live credential are ignored; returns the credentials it revoked.
   */
  async markRevoked(roleNames: readonly string[], reason: RevokeReason, options: { readonly at?: Date } = {}): Promise<CredentialRecord[]> {
    if (typeof reason !== 'string' || reason === '') throw new CatalogError('invalid', 'a revocation needs a reason');
    if (roleNames.length === 0) return [];
    const at = options.at === undefined ? null : requireDate('at', options.at);
    const { rows } = await this.query<CredentialRow>(
      `update ${this.t.credentials} set revoked_at = coalesce($3::timestamptz, now()), revoke_reason = $2
        where role_name = any($1::text[]) and revoked_at is null
       returning ${CREDENTIAL_COLUMNS}`,
      [[...roleNames], reason, at],
    );
    return rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
  }

  /**
   * Moves the expiry of these roles' live credentials to `newExpiresAt` (when a ttl is
   * raised). Returns the credentials it changed.
   */
  async extend(roleNames: readonly string[], newExpiresAt: Date): Promise<CredentialRecord[]> {
    const expiresAt = requireDate('newExpiresAt', newExpiresAt);
    if (roleNames.length === 0) return [];
    try {
      const { rows } = await this.query<CredentialRow>(
        `update ${this.t.credentials} set expires_at = $2::timestamptz
          where role_name = any($1::text[]) and revoked_at is null
         returning ${CREDENTIAL_COLUMNS}`,
        [[...roleNames], expiresAt],
      );
      return rows.map(credentialRecord).sort((a, b) => compareIds(a.id, b.id));
    } catch (err) {
      if (pgErrorFields(err).constraint === 'credentials_expiry_after_grant') {
        throw new CatalogError('invalid', 'the new expiry is not after the grant of every credential given', { cause: err });
      }
      throw err;
    }
  }

  /**
   * Credentials not yet revoked (including ones past their expiry that the reaper has not
   * finished), soonest expiry first.
   */
  async liveCredentials(filter: CredentialFilter = {}): Promise<CredentialRecord[]> {
    const c = new Conditions();
    c.eq('resource', filter.resource);
    c.eq('endpoint', filter.endpoint);
    c.eq('group_name', filter.group);
    c.eq('member', filter.member);
    c.eq('kind', filter.kind);
    c.eq('role_name', filter.roleName);
    const { rows } = await this.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from ${this.t.credentials} ${c.where(['revoked_at is null'])} order by expires_at, role_name`,
      c.values,
    );
    return rows.map(credentialRecord);
  }

  /**
   * Live credentials whose expiry is at or before `now` (default: the database's clock):
   * what the reaper has to finish. Oldest expiry first.
   */
  async expiredUnrevoked(now?: Date, options: { readonly resource?: string; readonly limit?: number } = {}): Promise<CredentialRecord[]> {
    requireLimit(options.limit);
    const c = new Conditions();
    c.add((p) => `expires_at <= coalesce(${p}::timestamptz, now())`, now === undefined ? null : requireDate('now', now));
    c.eq('resource', options.resource);
    const limit = options.limit === undefined ? '' : ` limit ${options.limit}`;
    const { rows } = await this.query<CredentialRow>(
      `select ${CREDENTIAL_COLUMNS} from ${this.t.credentials} ${c.where(['revoked_at is null'])} order by expires_at, role_name${limit}`,
      c.values,
    );
    return rows.map(credentialRecord);
  }

  /**
   * The earliest expiry among live credentials (of one resource, when given), or null
   * when none is live. In the past when the reaper has work waiting.
   */
  async nextExpiry(resource?: string): Promise<Date | null> {
    // Two texts rather than an "is null or" condition, so each can use its partial index.
    const { rows } =
      resource === undefined
        ? await this.query<{ next: Date | null }>(`select min(expires_at) as next from ${this.t.credentials} where revoked_at is null`)
        : await this.query<{ next: Date | null }>(
            `select min(expires_at) as next from ${this.t.credentials} where revoked_at is null and resource = $1`,
            [resource],
          );
    return rows[0]?.next ?? null;
  }

  /**
   * How long until the earliest future expiry among live credentials, in ms by the
   * catalog's clock, or null when none expires in the future; with `resources`, among
   * those targets' only. A duration rather than an instant, so a caller can wait on its own
   * clock whatever its skew.
   */
  async msUntilNextExpiry(resources?: readonly string[]): Promise<number | null> {
    const { rows } =
      resources === undefined
        ? await this.query<{ ms: number | null }>(
            `select (extract(epoch from min(expires_at) - now()) * 1000)::float8 as ms
               from ${this.t.credentials} where revoked_at is null and expires_at > now()`,
          )
        : await this.query<{ ms: number | null }>(
            `select (extract(epoch from min(expires_at) - now()) * 1000)::float8 as ms
               from ${this.t.credentials} where revoked_at is null and expires_at > now() and resource = any($1::text[])`,
            [resources],
          );
    return rows[0]?.ms ?? null;
  }

  /**
   * Per target (every resource, so one without credentials counts 0): credentials issued
   * and not revoked, split by the catalog's clock into still valid and expired but not yet
   * reaped. What a monitor watches: expired ones that stay are a reaper not doing its job.
   */
  async credentialCounts(): Promise<CredentialCount[]> {
    const { rows } = await this.query<CredentialCount>(
      `select r.name as resource,
              (count(c.id) filter (where c.expires_at > now()))::int as live,
              (count(c.id) filter (where c.expires_at <= now()))::int as "expiredUnreaped"
         from ${this.t.resources} r
         left join ${this.t.credentials} c on c.resource = r.name and c.revoked_at is null
        group by r.name order by r.name`,
    );
    return rows;
  }

  // ----- reaper leases ------------------------------------------------------------------

  /**
   * One lease round for the reaper replica `holder`, in one transaction, by the catalog's
   * clock: it renews its own row among the replicas and its leases for `leaseMs`, gives up
   * leases above its share (ceil(targets / live replicas)), and claims free or lapsed ones
   * up to it. Claims cannot overlap: a lease is taken only while lapsed, decided under
   * the row's lock, so two replicas never hold one target. Each replica prefers targets in
   * its own hash order, so replicas starting together rarely contend for the same rows.
   */
  async renewReaperLeases(holder: string, leaseMs: number): Promise<ReaperLeases> {
    return this.atomically(async (tx) => {
      const lease = `${Math.max(1, Math.round(leaseMs))} milliseconds`;
      await tx.query(
        `insert into ${tx.t.reaperReplicas} (holder, expires_at) values ($1, now() + $2::interval)
         on conflict (holder) do update set expires_at = excluded.expires_at`,
        [holder, lease],
      );
      await tx.query(`delete from ${tx.t.reaperReplicas} where expires_at < now() - interval '1 minute'`);
      // A replica whose presence lock no session holds has died (its process ended, so did
      // its session): its row and leases go now instead of when they lapse. A replica cut off
      // by the network keeps its session a while; its leases lapse on their own.
      const { rows: gone } = await tx.query<{ holder: string }>(
        `delete from ${tx.t.reaperReplicas} r where r.holder <> $2 and ${PRESENCE_GONE} returning r.holder`,
        [tx.ctx.schema, holder],
      );
      if (gone.length > 0) {
        await tx.query(`delete from ${tx.t.reaperLeases} where holder = any($1::text[])`, [gone.map((g) => g.holder)]);
      }
      const { rows: counts } = await tx.query<{ replicas: number; targets: number }>(
        `select (select count(*) from ${tx.t.reaperReplicas} where expires_at > now())::int as replicas,
                (select count(*) from ${tx.t.resources})::int as targets`,
      );
      const { replicas, targets } = counts[0]!;
      const share = Math.ceil(targets / Math.max(1, replicas));
      const { rows: renewed } = await tx.query<{ resource: string }>(
        `update ${tx.t.reaperLeases} set expires_at = now() + $2::interval where holder = $1
         returning resource`,
        [holder, lease],
      );
      let held = renewed.map((r) => r.resource).sort();
      if (held.length > share) {
        // Above its share (a replica joined): the excess goes back, for the newcomer.
        const excess = held.slice(share);
        await tx.query(`delete from ${tx.t.reaperLeases} where holder = $1 and resource = any($2::text[])`, [holder, excess]);
        held = held.slice(0, share);
      } else if (held.length < share) {
        const { rows: claimed } = await tx.query<{ resource: string }>(
          `insert into ${tx.t.reaperLeases} as l (resource, holder, expires_at)
           select r.name, $1, now() + $2::interval
             from ${tx.t.resources} r
             left join ${tx.t.reaperLeases} x on x.resource = r.name
            where x.resource is null or x.expires_at <= now()
            order by md5(r.name || $1)
            limit $3
           on conflict (resource) do update set holder = excluded.holder, expires_at = excluded.expires_at
             where l.expires_at <= now()
           returning resource`,
          [holder, lease, share - held.length],
        );
        held = [...held, ...claimed.map((r) => r.resource)].sort();
      }
      return { held, replicas: Math.max(1, replicas) };
    });
  }

  /** A replica stopping: its leases and its row go at once, so others take its targets without waiting. */
  async releaseReaperLeases(holder: string): Promise<void> {
    await this.atomically(async (tx) => {
      await tx.query(`delete from ${tx.t.reaperLeases} where holder = $1`, [holder]);
      await tx.query(`delete from ${tx.t.reaperReplicas} where holder = $1`, [holder]);
    });
  }

  /** One round trip to the catalog database; fails as any query would when it is not reachable. */
  async ping(): Promise<void> {
    await this.query('select 1');
  }

  // ----- audit log ---------------------------------------------------------------------

  /** Appends events in one statement, in order; returns how many. Never put secrets in them. */
  async appendAudit(events: readonly AuditEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = events.map((e, i) => {
      if (typeof e.event !== 'string' || e.event === '') {
        throw new CatalogError('invalid', `audit event ${i + 1}: event must be a non-empty string`);
      }
      if (e.detail !== undefined && (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))) {
        throw new CatalogError('invalid', `audit event ${i + 1} ("${e.event}"): detail must be an object`);
      }
      return {
        i,
        at: e.at === undefined ? null : requireDate(`audit event ${i + 1}: at`, e.at),
        event: e.event,
        resource: e.resource ?? null,
        endpoint: e.endpoint ?? null,
        group_name: e.group ?? null,
        member: e.member ?? null,
        role_name: e.roleName ?? null,
        detail: e.detail ?? {},
      };
    });
    const result = await this.query(
      `insert into ${this.t.audit} (at, event, resource, endpoint, group_name, member, role_name, detail)
       select coalesce(x.at, now()), x.event, x.resource, x.endpoint, x.group_name, x.member, x.role_name, x.detail
         from jsonb_to_recordset($1::jsonb) as x(i integer, at timestamptz, event text, resource text, endpoint text,
                                                group_name text, member text, role_name text, detail jsonb)
        order by x.i`,
      [JSON.stringify(rows)],
    );
    return result.rowCount ?? 0;
  }

  /** Audit events matching `filter`, oldest first unless `newestFirst`. */
  async readAudit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    requireLimit(filter.limit);
    const c = new Conditions();
    if (filter.since !== undefined) c.add((p) => `at >= ${p}::timestamptz`, requireDate('since', filter.since));
    if (filter.until !== undefined) c.add((p) => `at < ${p}::timestamptz`, requireDate('until', filter.until));
    if (filter.event !== undefined) {
      c.add((p) => `event = any(${p}::text[])`, typeof filter.event === 'string' ? [filter.event] : [...filter.event]);
    }
    c.eq('member', filter.member);
    c.eq('resource', filter.resource);
    c.eq('endpoint', filter.endpoint);
    c.eq('group_name', filter.group);
    c.eq('role_name', filter.roleName);
    const order = filter.newestFirst ? 'desc' : 'asc';
    const limit = filter.limit === undefined ? '' : ` limit ${filter.limit}`;
    const { rows } = await this.query<AuditRow>(
      // "a.id", not "id": the bare name would sort by the text output column.
      `select ${AUDIT_COLUMNS} from ${this.t.audit} a ${c.where()} order by a.id ${order}${limit}`,
      c.values,
    );
    return rows.map(auditRecord);
  }
}
