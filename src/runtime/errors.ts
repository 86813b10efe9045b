/**
 * The text of an error for a message or a warning: what every part of the runtime puts
 * after "could not ...: ". A leaf module (it imports nothing), so any layer may use it.
 */

/** Options of `errorText`. */
export interface ErrorTextOptions {
  /**
   * Append PostgreSQL's DETAIL in parentheses when the error has one (e.g. which objects
   * block a DROP ROLE): for messages about one statement's failure, where the detail is
   * what the reader needs to act on.
   */
  readonly withDetail?: boolean;
}

/** The message of an error (anything thrown that is not an Error is turned into a string). */
export function errorText(err: unknown, options: ErrorTextOptions = {}): string {
  if (!(err instanceof Error)) return String(err);
  const detail = options.withDetail ? (err as { detail?: unknown }).detail : undefined;
  return typeof detail === 'string' && detail.length > 0 ? `${err.message} (${detail})` : err.message;
}
