/**
 * Every secret the runtime obtains at run time, registered before it is used: the catalog
 * key and URL, admin credentials read from AWS Secrets Manager and the static AWS keys that
 * read them, secrets decrypted from the catalog, generated member passwords.
 *
 * The runtime writes no logs and knows nothing of who does. Whatever writes output (the
 * provider plugin's log redactor, which also scrubs diagnostics) subscribes here and keeps
 * these values out of it. A subscriber first receives every secret registered so far, so
 * the order in which the two sides start does not matter.
 */

/** Called with each secret, once per subscriber. */
export type SecretListener = (secret: string) => void;

export class SecretRegistry {
  private readonly known = new Set<string>();
  private readonly listeners = new Set<SecretListener>();

  /** Registers secrets; empty and non-string values are ignored. */
  register(...secrets: readonly unknown[]): void {
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret === '' || this.known.has(secret)) continue;
      this.known.add(secret);
      for (const listener of this.listeners) listener(secret);
    }
  }

  /** Hands `listener` every secret registered so far and each one from now on; returns the unsubscribe. */
  subscribe(listener: SecretListener): () => void {
    for (const secret of this.known) listener(secret);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The process's registry: what the runtime registers into and output writers subscribe to. */
export const runtimeSecrets = new SecretRegistry();
