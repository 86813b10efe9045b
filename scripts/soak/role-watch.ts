/**
 * Watches the cluster from outside, as an auditor would: every 250 ms, the managed login
 * roles whose VALID UNTIL is more than 2 s in the past and that still exist (PostgreSQL
 * already refuses their password, but the reaper has not finished with them). Roles are
 * cluster-wide, so one query covers every target database. Also reads what the catalog
 * recorded at the end.
 */
import { Client } from 'pg';
import type { LocalCluster } from '../../src/localpg';

const POLL_MS = 250;
/** Grace past expiry before a role counts as outliving it. */
export const OUTLIVE_GRACE_SECONDS = 2;

const OUTLIVING_SQL = `
  select r.rolname::text as role, extract(epoch from now() - r.rolvaliduntil)::float8 as over
    from pg_roles r
   where r.rolvaliduntil < now() - make_interval(secs => $1)
     and exists (select from pg_auth_members m join pg_roles g on g.oid = m.roleid
                  where m.member = r.oid and g.rolname = 'adaptive_managed')`;

export interface OutlivedStats {
  /** Each role seen outliving its expiry, with the longest overrun seen (seconds past expiry). */
  readonly roles: Map<string, number>;
  polls: number;
  pollErrors: number;
}

export class RoleWatch {
  readonly stats: OutlivedStats = { roles: new Map(), polls: 0, pollErrors: 0 };
  readonly #client: Client;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();

  constructor(cluster: LocalCluster) {
    this.#client = new Client({ ...cluster.clientConfig(cluster.database), application_name: 'adaptive-soak-watch' });
    this.#client.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.#client.connect();
    this.#timer = setInterval(() => {
      this.#polling = this.#polling.then(() => this.#poll());
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
    await this.#client.end().catch(() => undefined);
  }

  async #poll(): Promise<void> {
    try {
      const { rows } = await this.#client.query<{ role: string; over: number }>(OUTLIVING_SQL, [OUTLIVE_GRACE_SECONDS]);
      this.stats.polls++;
      for (const { role, over } of rows) this.stats.roles.set(role, Math.max(over, this.stats.roles.get(role) ?? 0));
    } catch {
      this.stats.pollErrors++;
    }
  }
}

export interface CatalogCounts {
  readonly issued: number;
  readonly revoked: number;
  readonly revokedExpired: number;
}

/** What the catalog recorded for the soak's credentials. */
export async function catalogCounts(cluster: LocalCluster, catalogDb: string): Promise<CatalogCounts> {
  const client = new Client(cluster.clientConfig(catalogDb));
  await client.connect();
  try {
    const { rows } = await client.query<CatalogCounts>(
      `select count(*)::int as issued,
              count(*) filter (where revoked_at is not null)::int as revoked,
              count(*) filter (where revoke_reason = 'expired')::int as "revokedExpired"
         from adaptive.credentials`,
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}
