/**
 * Errors the catalog raises. One class with a `code`, so callers (the provider, the CLI)
 * can branch on the kind of problem without matching message text; the message itself is
 * written for the person who has to fix it and never contains a secret.
 */

/** What kind of problem a `CatalogError` reports. */
export type CatalogErrorCode =
  /** The catalog database could not be reached or logged into. */
  | 'connect'
  /** The catalog was migrated by a newer (or incompatible) build. */
  | 'version'
  /**
   * The catalog's schema is older than this build's, and it was opened read-only (a plan),
   * which does not upgrade it: a command that writes (e.g. `adaptive-access reap`) does.
   */
  | 'outdated'
  /** A write on a catalog opened read-only. */
  | 'read-only'
  /** The catalog key is missing, or is not the key a stored secret was sealed with. */
  | 'key'
  /**
   * A stored record does not match its seal: it was changed (or its sealed value copied
   * from another record) other than through adaptive-access. Re-applying it seals it again.
   */
  | 'tampered'
  /** A delete was refused because something still refers to the record. */
  | 'referenced'
  /** A record refers to a name the catalog does not hold. */
  | 'unknown-reference'
  /** The write would duplicate something that must be unique. */
  | 'conflict'
  /** A value the catalog cannot store (e.g. an expiry before the grant). */
  | 'invalid'
  /** A credential asked for is no longer live: revoked, or reaped at its expiry. */
  | 'gone';

/** Something that still refers to a record whose delete was refused. */
export interface CatalogReference {
  readonly kind: 'endpoint' | 'group' | 'credential';
  readonly name: string;
}

/** A problem reported by the catalog; `code` says which kind. */
export class CatalogError extends Error {
  /** For `referenced`: what still refers to the record (possibly empty when unknown). */
  readonly referencedBy: readonly CatalogReference[];

  constructor(
    readonly code: CatalogErrorCode,
    message: string,
    options: { readonly cause?: unknown; readonly referencedBy?: readonly CatalogReference[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CatalogError';
    this.referencedBy = options.referencedBy ?? [];
  }
}

/** The parts of a node-postgres server error the catalog looks at. */
export interface PgErrorFields {
  readonly code?: string;
  readonly constraint?: string;
  readonly detail?: string;
}

/** The server-error fields of `err`, or an empty object when it is not a server error. */
export function pgErrorFields(err: unknown): PgErrorFields {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as Record<string, unknown>;
  const pick = (k: string): { [key: string]: string } => (typeof e[k] === 'string' ? { [k]: e[k] } : {});
  return { ...pick('code'), ...pick('constraint'), ...pick('detail') };
}

/** `"a", "b" and 3 more`: names for a message, bounded so a long list stays readable. */
export function nameList(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}
