/**
 * Which sslmode and root certificate combinations are refused, with the message. Shared by
 * the plan-time check of `adaptive_resource` (./target) and the connection code, which
 * refuses the same combination before it connects (a record stored by an older version).
 *
 * `verify-ca` without `tls_root_cert` would check the server's certificate against every
 * public CA in the system trust store and check no host name at all: any certificate a
 * public CA issued, for any name, would be accepted. libpq refuses it too (`sslrootcert=system`
 * is only allowed with verify-full). `verify-full` without `tls_root_cert` stays allowed: the
 * system trust store with the host name checked, as libpq 16's `sslrootcert=system`.
 */
import type { SslMode } from '../types';

/** Why verify-ca needs tls_root_cert, and the two ways out. */
export const VERIFY_CA_NEEDS_ROOT_CERT =
  '"verify-ca" needs tls_root_cert: without it any certificate that a public CA in the system trust store issued, for any host name, is accepted ' +
  "(libpq refuses this too); set tls_root_cert to the CA certificate that signed the server's certificate, " +
  'or use ssl_mode "verify-full" to trust the system store with host name checking';

/** The message refusing `mode` with (or without) a root certificate, or undefined when the pair is accepted. */
export function sslModeRefusal(mode: SslMode, hasRootCert: boolean): string | undefined {
  return mode === 'verify-ca' && !hasRootCert ? VERIFY_CA_NEEDS_ROOT_CERT : undefined;
}
