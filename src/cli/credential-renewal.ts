/**
 * Keeps an on-demand credential alive while its command runs: renews it (`renewCredential`,
 * new expiry = the server's now + ttl) whenever a third of the ttl is left, until the
 * runtime says it is at its `notAfter` (the endpoint's ttl from issue), which stderr then
 * announces: new logins are refused after it and the reaper ends its sessions.
 *
 * Intervals are durations measured on this machine's clock from before each request, so a
 * clock that disagrees with the server's does not make a renewal late.
 */
import { CatalogError, errorText, type OnDemandCredential, type Runtime } from '../runtime';
import { oneLine, type Output } from '../terminal/output';
import { isoSeconds } from './time-format';

/** Renew when this share of the ttl has passed since the last renewal was asked for. */
const RENEW_AFTER = 2 / 3;
/** After a failed renewal, try again after this share of the ttl. */
const RETRY_AFTER = 1 / 6;
/**
 * The longest wait between renewals: a day. Timers cannot wait past 2^31-1 ms (24.8 days;
 * a longer one fires at once), and a ttl may be up to 365d; renewing early is harmless.
 */
const MAX_WAIT_MS = 86_400_000;

export class CredentialRenewal {
  /** The expiry in force, as the last renewal reported it. */
  expiresAt: Date;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly credential: OnDemandCredential,
    private readonly ttlSeconds: number,
    private readonly out: Output,
  ) {
    this.expiresAt = credential.expiresAt;
    if (credential.expiresAt.getTime() >= credential.notAfter.getTime()) this.#announceLimit();
    else this.#schedule(RENEW_AFTER);
  }

  /** Stops renewing; waits for a renewal under way, so that a revocation comes after it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  #schedule(share: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#renew();
    }, Math.min(MAX_WAIT_MS, Math.round(this.ttlSeconds * 1000 * share)));
  }

  async #renew(): Promise<void> {
    try {
      const renewed = await this.runtime.renewCredential({ roleName: this.credential.roleName, ttlSeconds: this.ttlSeconds });
      this.expiresAt = renewed.expiresAt;
      if (renewed.atLimit) this.#announceLimit();
      else this.#schedule(RENEW_AFTER);
    } catch (err) {
      if (this.#stopped) return;
      if (err instanceof CatalogError && err.code === 'gone') {
        // Revoked or expired meanwhile (the reaper, a person): there is nothing left to keep alive.
        this.out.note(`${this.credential.username} was revoked or has expired: ${oneLine(errorText(err))}; not renewed.`);
        return;
      }
      this.out.note(`Could not renew ${this.credential.username} (expires ${isoSeconds(this.expiresAt)}): ${oneLine(errorText(err))}; trying again.`);
      this.#schedule(RETRY_AFTER);
    }
  }

  #announceLimit(): void {
    this.out.note(
      `${this.credential.username} cannot be renewed past ${isoSeconds(this.credential.notAfter)} (endpoint ${this.credential.endpoint}'s ttl from issue): ` +
        `new logins are refused after it, and the reaper ends its sessions.`,
    );
  }
}
