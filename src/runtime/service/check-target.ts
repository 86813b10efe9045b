/** The "Test Connection" verb: everything `adaptive-access check` reports about a target, changing nothing. */
import { openTarget, testConnection, type ConnectionCheck } from '../connections/connect';
import { preflight, type PreflightReport } from '../connections/preflight';
import { inspectRole, type RoleInspection } from '../connections/role-inspection';
import { resolveTarget, type ResolvedTarget } from '../connections/secrets';
import type { TargetConfig } from '../types';

/** What checking a target found. */
export interface TargetCheck {
  /** The settings as resolved (an AWS secret read once); holds the password, never print it. */
  readonly resolved: ResolvedTarget;
  /** How the connection went: server, TLS, where the credentials came from. */
  readonly connection: ConnectionCheck;
  /** Whether the role can manage access, and the SQL that grants what is missing. */
  readonly admin: PreflightReport;
  /** What the role is, and what it can see and do. */
  readonly inspection: RoleInspection;
}

/** A TargetConfig holding the resolved values (the secret is read once), on a pool of two. */
function resolvedConfig(r: ResolvedTarget, config: TargetConfig): TargetConfig {
  return {
    name: r.name,
    host: r.host,
    port: r.port,
    database: r.database,
    username: r.user,
    ...(r.password !== undefined ? { password: r.password } : {}),
    // IAM authentication makes a token per connection from these, not a password to keep.
    ...(config.rdsIam ? { rdsIam: config.rdsIam } : {}),
    sslMode: r.sslMode,
    ...(r.tlsRootCert !== undefined ? { tlsRootCert: r.tlsRootCert } : {}),
    ...(r.tlsClientCert !== undefined ? { tlsClientCert: r.tlsClientCert } : {}),
    ...(r.tlsClientKey !== undefined ? { tlsClientKey: r.tlsClientKey } : {}),
    ...(r.tlsServerName !== undefined ? { tlsServerName: r.tlsServerName } : {}),
    connectTimeoutSeconds: r.connectTimeoutSeconds,
    applicationName: r.applicationName,
    maxConnections: 2,
    minConnections: 0,
  };
}

/**
 * Connects the way an applied resource does (same sslmode rules, certificates, Secrets
 * Manager lookup), runs the admin preflight and inspects the role. Read-only: nothing is
 * created or granted. Throws `ValidationError` for settings that are not valid and
 * `ConnectionError` (with a cause and a fix) when the target cannot be reached.
 */
export async function checkTarget(config: TargetConfig): Promise<TargetCheck> {
  const resolved = await resolveTarget(config);
  const connection = { ...(await testConnection(resolvedConfig(resolved, config))), credentialSource: config.rdsIam ? ('rds-iam' as const) : resolved.credentialSource };
  const target = await openTarget(resolvedConfig(resolved, config));
  try {
    return { resolved, connection, admin: await preflight(target), inspection: await inspectRole(target.pool) };
  } finally {
    await target.close();
  }
}
