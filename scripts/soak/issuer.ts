/**
 * Keeps every (target, member) slot holding a credential for the whole run: issues one
 * with a ttl drawn from 5 s to --max-ttl, and issues the next when it expires (the runtime's
 * on-demand verb, as `adaptive-access credential` and the provider do). The first few
 * members of each target also log in with their credential and keep the session open;
 * the time the server ends it (the client's 'error' or 'end' event, whichever first)
 * minus the credential's expiry is the latency from the client's side.
 */
import { Client } from 'pg';
import { errorText, type OnDemandCredential, type Runtime } from '../../src/runtime';
import type { SoakTarget } from './cluster';
import { MIN_TTL_SECONDS } from './options';

/** How many issues run at once: the catalog and the targets, not the script, set the pace. */
const CONCURRENT_ISSUES = 6;

export interface IssuerStats {
  issued: number;
  issueErrors: number;
  sessionsOpened: number;
  sessionOpenErrors: number;
  /** Seconds from expiry to the session's end, one per session ended. */
  readonly sessionLatencies: number[];
  /** Sessions whose credential expired more than 2 s ago and are still open (checked at the end). */
  sessionsStillOpen: number;
  readonly errorSamples: string[];
}

interface HeldSession {
  readonly client: Client;
  readonly expiresAt: Date;
  endedAt: number | null;
}

export class Issuer {
  readonly stats: IssuerStats = { issued: 0, issueErrors: 0, sessionsOpened: 0, sessionOpenErrors: 0, sessionLatencies: [], sessionsStillOpen: 0, errorSamples: [] };
  readonly #runtime: Runtime;
  readonly #targets: readonly SoakTarget[];
  readonly #sessionsPerTarget: number;
  readonly #maxTtlSeconds: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sessions = new Set<HeldSession>();
  readonly #queue: Array<() => Promise<void>> = [];
  #running = 0;
  #stopped = false;
  /** Session ends are no longer the reaper's doing (the soak ends them, or the server stops). */
  #frozen = false;
  #idle: (() => void) | null = null;

  constructor(runtime: Runtime, targets: readonly SoakTarget[], sessionsPerTarget: number, maxTtlSeconds: number) {
    this.#runtime = runtime;
    this.#targets = targets;
    this.#sessionsPerTarget = sessionsPerTarget;
    this.#maxTtlSeconds = maxTtlSeconds;
  }

  /** Issues the first credential of every slot; each slot then re-issues at its expiry. */
  start(): void {
    for (const target of this.#targets) {
      target.members.forEach((member, i) => this.#enqueue(() => this.#issue(target.name, member, i < this.#sessionsPerTarget)));
    }
  }

  /**
   * Stops counting session ends at once: on Ctrl-C the terminal's SIGINT also stops the
   * server, whose shutdown ends every session (not the reaper's doing).
   */
  freeze(): void {
    this.#frozen = true;
  }

  /** Stops issuing and waits for the issues under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue.length = 0;
    if (this.#running > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  /** Counts the sessions still open past expiry + 2 s, then ends every held session. */
  async closeSessions(): Promise<void> {
    const now = Date.now();
    const counting = !this.#frozen;
    this.#frozen = true;
    if (counting) for (const s of this.#sessions) if (s.endedAt === null && now - s.expiresAt.getTime() > 2000) this.stats.sessionsStillOpen++;
    await Promise.all([...this.#sessions].map((s) => s.client.end().catch(() => undefined)));
    this.#sessions.clear();
  }

  #enqueue(job: () => Promise<void>): void {
    if (this.#stopped) return;
    this.#queue.push(job);
    this.#drain();
  }

  #drain(): void {
    while (this.#running < CONCURRENT_ISSUES && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      void job().finally(() => {
        this.#running--;
        if (this.#running === 0 && this.#stopped) this.#idle?.();
        this.#drain();
      });
    }
  }

  #noteError(what: string, err: unknown): void {
    if (this.stats.errorSamples.length < 10) this.stats.errorSamples.push(`${what}: ${errorText(err)}`);
  }

  async #issue(endpoint: string, member: string, holdSession: boolean): Promise<void> {
    const ttlSeconds = MIN_TTL_SECONDS + Math.floor(Math.random() * (this.#maxTtlSeconds - MIN_TTL_SECONDS + 1));
    let credential: OnDemandCredential;
    try {
      credential = await this.#runtime.issueCredential({ endpoint, member, ttlSeconds, via: 'soak' });
      this.stats.issued++;
    } catch (err) {
      this.stats.issueErrors++;
      this.#noteError('issue', err);
      this.#after(1000, () => this.#enqueue(() => this.#issue(endpoint, member, holdSession)));
      return;
    }
    if (holdSession) await this.#holdSession(credential);
    this.#after(credential.expiresAt.getTime() - Date.now(), () => this.#enqueue(() => this.#issue(endpoint, member, holdSession)));
  }

  #after(ms: number, run: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, Math.max(0, ms));
    this.#timers.add(timer);
  }

  async #holdSession(credential: OnDemandCredential): Promise<void> {
    const client = new Client({ host: credential.host, port: credential.port, database: credential.database, user: credential.username, password: credential.password });
    const held: HeldSession = { client, expiresAt: credential.expiresAt, endedAt: null };
    const ended = (): void => {
      if (held.endedAt !== null || !this.#sessions.has(held)) return;
      held.endedAt = Date.now();
      this.#sessions.delete(held);
      if (!this.#frozen) this.stats.sessionLatencies.push((held.endedAt - held.expiresAt.getTime()) / 1000);
    };
    client.on('error', ended);
    client.on('end', ended);
    try {
      await client.connect();
      this.stats.sessionsOpened++;
      this.#sessions.add(held);
    } catch (err) {
      this.stats.sessionOpenErrors++;
      this.#noteError('session', err);
    }
  }
}
