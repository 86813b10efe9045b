/**
 * `ephemeral "adaptive_credential"`: a credential issued on demand to a member a group
 * makes eligible, for one Terraform run, never stored in plan or state. Open issues a login
 * role of its own; Terraform renews it while the run lasts (never past the endpoint's ttl
 * from the first open); Close revokes it at once, ending its sessions. A run killed before
 * Close leaves it to the reaper at its expiry.
 *
 * Terraform opens ephemeral resources during `plan` too: a plan issues a credential and
 * revokes it when the plan ends, so what is left is audit history, not a role.
 */
import { attr, ephemeralResourceFactory, ResourceError } from '../provider';
import { CatalogError, connectionUri, ValidationError, type OnDemandCredential } from '../runtime';
import { checkMember } from '../runtime/validation/members';
import { checkName } from '../runtime/validation/names';
import { checkTtl, parseTtl } from '../runtime/validation/ttl';
import { forValidation, issueDiagnostics, namingMissing, type AdaptiveClient } from './common';

const defineEphemeralResource = ephemeralResourceFactory<AdaptiveClient>();

/** What renew and close need: the role, and the ttl each renewal asks for. */
type CredentialPrivate = { readonly role: string; readonly ttl_seconds: number };

/** Renew when this share of the credential's remaining life has passed. */
const RENEW_AFTER = 2 / 3;

const schema = {
  description:
    'A PostgreSQL credential issued on demand to a member a group makes eligible, for the length of one Terraform run: ' +
    'a login role of its own, renewed while the run lasts and revoked (sessions ended, role dropped) when it ends. ' +
    'Nothing of it is stored in plan or state.',
  attributes: {
    endpoint: attr.string({ required: true, description: 'Name of the `adaptive_endpoint` to connect through.' }),
    member: attr.string({
      required: true,
      description: 'Email of the member the credential is for: an `adaptive_group` in the catalog must list both this member and the endpoint.',
    }),
    group: attr.string({
      optional: true,
      description:
        'Name of the `adaptive_group` whose eligibility counts (default any group that lists both). Referring to a group this ' +
        'configuration creates (`adaptive_group.x.id`) also makes Terraform wait for it before opening the credential.',
    }),
    ttl: attr.string({
      optional: true,
      description:
        "How long the password works before Terraform renews it, e.g. `15m` (default `15m`, or the endpoint's ttl when shorter). " +
        "At most the endpoint's ttl; renewals never take it past the endpoint's ttl from the first open.",
    }),
    username: attr.string({ computed: true, description: 'The login role: the member\'s credential name plus a unique suffix (`#` and 8 hex digits).' }),
    password: attr.string({ computed: true, sensitive: true, description: 'The password (only its SCRAM verifier reaches PostgreSQL).' }),
    host: attr.string({ computed: true, description: "The target's host." }),
    port: attr.number({ computed: true, description: "The target's port." }),
    database: attr.string({ computed: true, description: 'The database the endpoint grants access to.' }),
    sslmode: attr.string({ computed: true, description: "libpq's `sslmode` to connect with (the target's)." }),
    uri: attr.string({
      computed: true,
      sensitive: true,
      description:
        'A `postgresql://` connection URI with the password. With a verifying `sslmode` and no `ca_cert` it carries `sslrootcert=system` (libpq 16+); ' +
        'with `ca_cert`, append `&sslrootcert=<file>` holding it.',
    }),
    ca_cert: attr.string({
      computed: true,
      description: "The target's `tls_root_cert` (PEM, public) for the client's sslrootcert; null when the target trusts the system store.",
    }),
    expires_at: attr.string({ computed: true, description: 'When the password stops working unless renewed (RFC 3339), by the server\'s clock.' }),
  },
} as const;

/** The runtime's refusals, pointed at the attribute they concern. */
async function issued(
  client: AdaptiveClient,
  request: { endpoint: string; member: string; group: string | undefined; ttlSeconds: number | undefined },
): Promise<OnDemandCredential> {
  // Issuing writes to the target and the catalog, during plan too; it never reaps.
  const runtime = await client.runtimeForOnDemand();
  try {
    return await namingMissing({ endpoint: ['endpoint'] }, () => runtime.issueCredential({ ...request, via: 'terraform' }));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const [first] = issueDiagnostics(err.issues);
    throw new ResourceError(first?.summary ?? 'Invalid configuration', { detail: first?.detail ?? err.message, ...(first?.path ? { path: first.path } : {}) });
  }
}

export const adaptiveCredential = defineEphemeralResource<typeof schema, CredentialPrivate>({
  typeName: 'adaptive_credential',
  schema,

  validateConfig: ({ config }) =>
    issueDiagnostics([
      ...checkName(forValidation(config.endpoint) as string, 'endpoint'),
      ...checkMember(forValidation(config.member) as string, 'member'),
      ...(config.group === null ? [] : checkName(forValidation(config.group) as string, 'group')),
      ...(config.ttl === null ? [] : checkTtl(forValidation(config.ttl) as string, 'ttl')),
    ]),

  async open({ config, ctx }) {
    const ttlSeconds = config.ttl === null ? undefined : parseTtl(config.ttl, 'ttl');
    const c = await issued(ctx.provider, { endpoint: config.endpoint, member: config.member, group: config.group ?? undefined, ttlSeconds });
    const lifeMs = c.expiresAt.getTime() - c.grantedAt.getTime();
    const renewable = c.expiresAt.getTime() < c.notAfter.getTime();
    return {
      result: {
        username: c.username,
        password: c.password,
        host: c.host,
        port: c.port,
        database: c.database,
        sslmode: c.sslmode,
        uri: connectionUri(c, c.password),
        ca_cert: c.caCert,
        expires_at: c.expiresAt.toISOString(),
      },
      // Measured from now on this clock, as a share of a life the server measured: skew-free.
      ...(renewable ? { renewAt: new Date(Date.now() + lifeMs * RENEW_AFTER) } : {}),
      private: { role: c.roleName, ttl_seconds: Math.round(lifeMs / 1000) },
    };
  },

  async renew({ private: held, ctx }) {
    const runtime = await ctx.provider.runtimeForOnDemand();
    try {
      const renewed = await runtime.renewCredential({ roleName: held.role, ttlSeconds: held.ttl_seconds });
      ctx.logger.info('renewed on-demand credential', { role: held.role, expires_at: renewed.expiresAt.toISOString(), at_limit: renewed.atLimit });
      return renewed.atLimit ? {} : { renewAt: new Date(Date.now() + held.ttl_seconds * 1000 * RENEW_AFTER) };
    } catch (err) {
      if (err instanceof CatalogError && err.code === 'gone') {
        throw new ResourceError('Credential revoked', { detail: `${err.message}. It was revoked or reaped before the run ended.`, cause: err });
      }
      throw err;
    }
  },

  async close({ private: held, ctx }) {
    const runtime = await ctx.provider.runtimeForOnDemand();
    await runtime.revokeCredential(held.role, 'closed');
  },
});
