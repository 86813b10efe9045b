/**
 * libpq's sslmode semantics, exactly, on top of node-postgres.
 *
 * node-postgres knows only "TLS with these Node options" or "no TLS": it verifies the
 * chain and the host name unless told otherwise, and it has neither allow's nor prefer's
 * second attempt. This module turns an sslmode into libpq's attempt plan and each attempt
 * into Node TLS options. The rules, as libpq (15 to 18) applies them:
 *
 * - disable: plain only.
 * - allow: plain first; when the server rejects that connection before authentication
 *   completed (any ErrorResponse then: pg_hba.conf "no encryption", wrong password,
 *   "too many clients"), one more attempt with TLS. Should the server answer that
 *   attempt's SSLRequest with "no", libpq carries on in plain on the same connection.
 * - prefer: TLS first; plain again when the server does not support TLS, when the TLS
 *   handshake fails (including certificate verification when a root certificate is
 *   given), or when the server rejects the TLS connection before authentication
 *   completed. A failure after the handshake (a TLS 1.3 server rejecting our client
 *   certificate) or after authentication (database missing) is final.
 * - require: TLS without verification; with a root certificate the chain is verified.
 * - verify-ca: TLS, chain verified, host name not checked.
 * - verify-full: TLS, chain and host name verified.
 *
 * libpq verifies the chain in every TLS attempt whenever a root certificate exists (not
 * only for require), so allow and prefer do too when tls_root_cert is set. The host name
 * is checked only by verify-full. Without tls_root_cert, verify-full uses Node's default
 * trust store, as libpq does with `sslrootcert=system`; verify-ca without it is refused
 * before connecting (`refuseUnsafeTls`), as libpq refuses `sslrootcert=system` with it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ValidationError, type SslMode } from '../types';
import { sslModeRefusal } from '../validation/tls-mode';

/** How much of the server's certificate a TLS attempt checks. */
export type Verification = 'none' | 'chain' | 'full';

/** One connection attempt: plain, or TLS with a verification level. */
export type Attempt = { readonly tls: false } | { readonly tls: true; readonly verify: Verification };

/** The plain (unencrypted) attempt. */
export const PLAIN: Attempt = { tls: false };

/** The first attempt libpq makes for an sslmode. */
export function firstAttempt(mode: SslMode, hasRootCert: boolean): Attempt {
  switch (mode) {
    case 'disable':
    case 'allow':
      return PLAIN;
    case 'prefer':
    case 'require':
      return { tls: true, verify: hasRootCert ? 'chain' : 'none' };
    case 'verify-ca':
      return { tls: true, verify: 'chain' };
    case 'verify-full':
      return { tls: true, verify: 'full' };
  }
}

/** How far an attempt got before it failed: what libpq's retry decisions look at. */
export interface AttemptProgress {
  /** The server answered our SSLRequest with "no". */
  serverRefusedTls: boolean;
  /** The TLS handshake started (the server answered "yes"). */
  tlsStarted: boolean;
  /** The TLS handshake completed from our side. */
  tlsHandshakeDone: boolean;
  /** The server sent AuthenticationOk. */
  authenticated: boolean;
  /** The server sent an ErrorResponse. */
  serverError: boolean;
  /** Our connect timeout ended the attempt. */
  timedOut: boolean;
}

/** Progress of an attempt that has not started. */
export function freshProgress(): AttemptProgress {
  return { serverRefusedTls: false, tlsStarted: false, tlsHandshakeDone: false, authenticated: false, serverError: false, timedOut: false };
}

/**
 * The attempt libpq makes after `failed` failed with `progress`, or undefined when the
 * failure is final. `previous` lists the attempts already made (allow's third attempt
 * only follows its TLS attempt).
 */
export function nextAttempt(mode: SslMode, hasRootCert: boolean, previous: readonly Attempt[], progress: AttemptProgress): Attempt | undefined {
  const failed = previous[previous.length - 1];
  if (!failed) return undefined;
  const rejectedBeforeAuth = progress.serverError && !progress.authenticated;
  if (mode === 'allow') {
    if (previous.length === 1 && rejectedBeforeAuth) return { tls: true, verify: hasRootCert ? 'chain' : 'none' };
    // The server said "no" to TLS: libpq proceeds in plain on that connection.
    if (previous.length === 2 && progress.serverRefusedTls) return PLAIN;
    return undefined;
  }
  if (mode === 'prefer' && previous.length === 1 && failed.tls) {
    const handshakeFailed = progress.tlsStarted && !progress.tlsHandshakeDone && !progress.timedOut;
    if (progress.serverRefusedTls || handshakeFailed || rejectedBeforeAuth) return PLAIN;
  }
  return undefined;
}

/**
 * Throws the plan-time check's ValidationError (on ssl_mode) for a combination that check
 * refuses: verify-ca without a root certificate would trust every public CA for any host
 * name. Validation stops it at plan time; this stops what bypasses it (a target record
 * stored before the check existed) before anything is sent to the server.
 */
export function refuseUnsafeTls(mode: SslMode, material: Pick<TlsMaterial, 'tlsRootCert'>): void {
  const refusal = sslModeRefusal(mode, material.tlsRootCert !== undefined);
  if (refusal !== undefined) throw new ValidationError([{ field: 'ssl_mode', message: refusal }]);
}

/** What TLS options need from the target. */
export interface TlsMaterial {
  readonly host: string;
  readonly tlsRootCert?: string | undefined;
  readonly tlsClientCert?: string | undefined;
  readonly tlsClientKey?: string | undefined;
  readonly tlsServerName?: string | undefined;
}

/** The name the certificate is checked against and sent as SNI. */
export function serverName(material: TlsMaterial): string {
  return material.tlsServerName ?? material.host;
}

/**
 * Node TLS options for a TLS attempt. Verification is switched off or narrowed
 * explicitly, because node-postgres would otherwise check chain and host name always.
 */
export function tlsOptions(attempt: Attempt & { tls: true }, material: TlsMaterial): tls.ConnectionOptions {
  const name = serverName(material);
  const options: tls.ConnectionOptions = {
    // SNI carries a host name only, never an IP address (RFC 6066), as libpq does.
    ...(net.isIP(name) === 0 ? { servername: name } : {}),
    ...(material.tlsClientCert !== undefined ? { cert: material.tlsClientCert } : {}),
    ...(material.tlsClientKey !== undefined ? { key: material.tlsClientKey } : {}),
  };
  switch (attempt.verify) {
    case 'none':
      return { ...options, rejectUnauthorized: false, checkServerIdentity: () => undefined };
    case 'chain':
      return {
        ...options,
        ...(material.tlsRootCert !== undefined ? { ca: material.tlsRootCert } : {}),
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
      };
    case 'full':
      return {
        ...options,
        ...(material.tlsRootCert !== undefined ? { ca: material.tlsRootCert } : {}),
        rejectUnauthorized: true,
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
      };
  }
}

/** Short human description of an attempt, e.g. "TLS (chain verified)". */
export function describeAttempt(attempt: Attempt): string {
  if (!attempt.tls) return 'no TLS';
  return { none: 'TLS (certificate not verified)', chain: 'TLS (chain verified, host name not checked)', full: 'TLS (chain and host name verified)' }[attempt.verify];
}
