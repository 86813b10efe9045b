/**
 * `adaptive_group`: people (emails) given a set of endpoints. Each member x endpoint gets a
 * LOGIN role of their own with a generated password, valid until grant time + the
 * endpoint's ttl. Adding or removing a member touches only that member. After expiry the
 * plan shows no change (access ending is by design) but warns which grants expired;
 * renewal is explicit (`terraform apply -replace=...`).
 *
 * `credential_delivery` says where the passwords go: into `credentials` (Terraform state,
 * the default), one AWS Secrets Manager secret per member x endpoint (state holds only the
 * secrets' ARNs, in `secrets`), or nowhere (`none`: no standing credential, the group only
 * makes its members eligible for on-demand ones). Only in `state` mode does `credentials`
 * hold anything: in the others it stays an empty map, so no password ever reaches state
 * and the plan has nothing to change.
 *
 * `credentials` and `secrets` are maps keyed `<endpoint>/<member>`, not lists: Terraform
 * diffs a list attribute of every resource in a plan with a longest common subsequence
 * (quadratic in its length) but a map key by key, which keeps plans of large groups fast.
 */
import { attr, isUnknown, requiresReplace, ResourceError, resourceFactory, types, UNKNOWN, useStateForUnknown, warning, type DiagnosticInput, type ConfigOf, type ModelOf, type ResourceDiagnostics } from '../provider';
import { connectionUri, errorText, nameList, pairKey, type DeliveredSecret, type GroupDelivery, type GroupInspection, type MemberCredential, type PairKey } from '../runtime';
import { DELIVERY_MODES, SECRET_PREFIX_RULE, checkDelivery } from '../runtime/validation/delivery';
import { closest } from '../runtime/validation/common';
import { checkMembers, normaliseMember } from '../runtime/validation/members';
import { checkName, checkNames } from '../runtime/validation/names';
import { forValidation, issueDiagnostics, namingMissing, reportWarnings, type AdaptiveClient } from './common';

const defineResource = resourceFactory<AdaptiveClient>();

const credentialType = types.object({
  member: types.string,
  endpoint: types.string,
  username: types.string,
  password: types.string,
  expires_at: types.string,
  host: types.string,
  port: types.number,
  database: types.string,
  sslmode: types.string,
  uri: types.string,
  ca_cert: types.string,
});

const secretType = types.object({
  member: types.string,
  endpoint: types.string,
  arn: types.string,
  expires_at: types.string,
});

const schema = {
  // Version 0 held credentials and secrets as lists (see upgradeState).
  version: 1,
  description: 'People given a set of endpoints: one time-limited PostgreSQL login per member and endpoint.',
  attributes: {
    id: attr.string({ computed: true, description: 'The group name.', planModifiers: [useStateForUnknown()] }),
    name: attr.string({ required: true, description: 'Unique name of the group. Changing it replaces the group (new credentials).', planModifiers: [requiresReplace()] }),
    // A list, not a set: Terraform checks a set's applied value against its plan pair by pair
    // (O(n^2) in the group's size: minutes at 10,000 members), a list element by element.
    members: attr.list(types.string, {
      required: true,
      description:
        'Email addresses of the people in the group (compared case-insensitively; each person once). Their order changes no access: ' +
        'reordering the list shows as an in-place update that issues and revokes nothing.',
    }),
    endpoints: attr.set(types.string, { required: true, description: 'Names of the `adaptive_endpoint`s the members get.' }),
    credential_delivery: attr.string({
      optional: true,
      computed: true,
      default: 'state',
      description:
        `Where members' passwords go: ${DELIVERY_MODES.map((m) => '`' + m + '`').join(', ')} (default \`state\`). ` +
        '`state`: in `credentials`, so in Terraform state. `secrets_manager`: one AWS Secrets Manager secret per member and endpoint ' +
        '(see `secret_prefix`; state holds only their ARNs, in `secrets`), deleted without recovery when the credential is revoked or reaped. ' +
        '`none`: no standing credential at all; the group only makes its members eligible for on-demand credentials. Changing it revokes ' +
        'the credentials delivered the old way and issues new ones the new way.',
    }),
    secret_prefix: attr.string({
      optional: true,
      description:
        `With \`credential_delivery = "secrets_manager"\` (and required with it): each secret is named \`<secret_prefix><group>/<member>/<endpoint>\`. ${SECRET_PREFIX_RULE}. ` +
        "Characters of an email that Secrets Manager does not allow in a name are written as `=` and two hex digits (`=` itself as `=3D`).",
    }),
    aws_region: attr.string({
      optional: true,
      description: 'With `secrets_manager`: the region of the secrets; default the provider `aws_region`, then the AWS SDK configuration.',
    }),
    aws_endpoint: attr.string({
      optional: true,
      description: 'With `secrets_manager`: Secrets Manager endpoint override (VPC endpoints, local testing); default the provider `aws_endpoint`, then the SDK configuration.',
    }),
    credentials: attr.map(credentialType, {
      computed: true,
      sensitive: true,
      // The password, and the URI that carries it; who and where stay readable in messages.
      secretFields: ['password', 'uri'],
      description:
        'With `credential_delivery = "state"`: one credential per member and endpoint, keyed `"<endpoint>/<member>"` (the member in lower case, ' +
        'e.g. `"postgres-dev-access/dev1@company.com"`): read one with `adaptive_group.<label>.credentials["<endpoint>/<member>"]`, all with `values(...)`. ' +
        'Each holds `member`, `endpoint`, `username`, `password`, `expires_at` (RFC 3339), `host`, `port`, ' +
        '`database`, `sslmode`, a connection `uri` and `ca_cert`: the target\'s `tls_root_cert` (PEM) when it has one, else null. With `ca_cert`, ' +
        'write it to a file and connect with `uri` plus `&sslrootcert=<file>`; a verifying `sslmode` without it carries `sslrootcert=system` in `uri` (libpq 16+). ' +
        'Hand them on with `terraform output` or a downstream module. Empty in the other modes.',
    }),
    secrets: attr.map(secretType, {
      computed: true,
      description:
        'With `credential_delivery = "secrets_manager"`: the secret of each member and endpoint, keyed `"<endpoint>/<member>"` like `credentials` ' +
        '(read one with `adaptive_group.<label>.secrets["<endpoint>/<member>"]`, all with `values(...)`): `member`, `endpoint`, its `arn`, and the credential\'s `expires_at`. ' +
        'No password: members read their own secret with their AWS identity. Empty in the other modes.',
    }),
    drift: attr.list(types.string, {
      computed: true,
      description: 'Credentials found missing, disabled or given attributes (such as CREATEDB) on their target at refresh (changed outside Terraform); applying issues them again.',
    }),
  },
} as const;

type Model = ModelOf<typeof schema>;

/** A credential as the group stores it (every field set) and as `credentials` outputs hand it on. */
export interface GroupCredential {
  member: string;
  endpoint: string;
  username: string;
  password: string;
  expires_at: string;
  host: string;
  port: number;
  database: string;
  sslmode: string;
  uri: string;
  /** The target's tls_root_cert (PEM), for the client's sslrootcert; null when the target trusts the system store (and in state written before it existed). */
  ca_cert: string | null;
}

type Credential = GroupCredential;

/** What credentials and secrets in state have in common. */
type Listed = { member: string; endpoint: string; expires_at: string };

/**
 * The key of a member's credential or secret in `credentials` and `secrets`:
 * `<endpoint>/<member>`, unambiguous since an endpoint name holds no `/`.
 */
function credentialKey(c: { member: string; endpoint: string }): string {
  return `${c.endpoint}/${c.member}`;
}

/** Credentials or secrets as the map state holds, keyed by endpoint and member (written in a stable order). */
function keyed<T extends { member: string; endpoint: string }>(list: readonly T[]): Record<string, T> {
  return Object.fromEntries(sorted([...list]).map((c) => [credentialKey(c), c]));
}

/** Credentials from state, where the framework types object fields as nullable. */
function stored(map: Model['credentials']): Credential[] {
  return Object.values(map ?? {}).map((c) => ({
    member: c.member ?? '',
    endpoint: c.endpoint ?? '',
    username: c.username ?? '',
    password: c.password ?? '',
    expires_at: c.expires_at ?? new Date(0).toISOString(),
    host: c.host ?? '',
    port: c.port ?? 0,
    database: c.database ?? '',
    sslmode: c.sslmode ?? '',
    uri: c.uri ?? '',
    ca_cert: c.ca_cert ?? null,
  }));
}

function toCredential(c: MemberCredential, password: string): Credential {
  return {
    member: c.member,
    endpoint: c.endpoint,
    username: c.username,
    password,
    expires_at: c.expiresAt.toISOString(),
    host: c.host,
    port: c.port,
    database: c.database,
    sslmode: c.sslmode,
    uri: connectionUri(c, password),
    ca_cert: c.caCert,
  };
}

function sorted<T extends { member: string; endpoint: string }>(credentials: T[]): T[] {
  return credentials.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.member.localeCompare(b.member));
}

/** A delivered secret as the group stores it. */
interface Secret {
  member: string;
  endpoint: string;
  arn: string;
  expires_at: string;
}

function storedSecrets(map: Model['secrets']): Secret[] {
  return Object.values(map ?? {}).map((s) => ({ member: s.member ?? '', endpoint: s.endpoint ?? '', arn: s.arn ?? '', expires_at: s.expires_at ?? new Date(0).toISOString() }));
}

function toSecret(d: DeliveredSecret): Secret {
  return { member: d.member, endpoint: d.endpoint, arn: d.arn, expires_at: d.expiresAt.toISOString() };
}

/** The delivery the configuration asks for, with the provider's AWS defaults filled in. */
function deliveryOf(values: Pick<Model, 'credential_delivery' | 'secret_prefix' | 'aws_region' | 'aws_endpoint'>, client: AdaptiveClient): GroupDelivery {
  if (values.credential_delivery === 'none') return { mode: 'none' };
  if (values.credential_delivery !== 'secrets_manager') return { mode: 'state' };
  const region = values.aws_region ?? client.awsDefaults.region;
  const endpoint = values.aws_endpoint ?? client.awsDefaults.endpoint;
  return { mode: 'secrets_manager', secretPrefix: values.secret_prefix ?? '', ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
}

/** The delivery settings as written, to tell whether they changed. */
function deliveryKey(values: Pick<Model, 'credential_delivery' | 'secret_prefix' | 'aws_region' | 'aws_endpoint'>): string {
  return JSON.stringify([values.credential_delivery ?? 'state', values.secret_prefix ?? null, values.aws_region ?? null, values.aws_endpoint ?? null]);
}

/**
 * The pairs the caller holds as the new mode counts them: credentials in state only in
 * `state` mode, secrets only in `secrets_manager` mode (the runtime issues again those it
 * delivered elsewhere), nothing in `none` mode.
 */
function heldPairs(mode: GroupDelivery['mode'], prior: Model | null, wanted: ReadonlySet<PairKey>): Set<PairKey> {
  const listed = mode === 'state' ? stored(prior?.credentials ?? null) : mode === 'secrets_manager' ? storedSecrets(prior?.secrets ?? null) : [];
  return new Set(listed.map((c) => pairKey(c.member, c.endpoint)).filter((key) => wanted.has(key)));
}

function wantedPairs(members: readonly string[], endpoints: readonly string[]): Set<PairKey> {
  const pairs = new Set<PairKey>();
  for (const m of members) for (const e of endpoints) pairs.add(pairKey(normaliseMember(m), e));
  return pairs;
}

function expiredWarnings(name: string, credentials: readonly Listed[], now = Date.now()): DiagnosticInput[] {
  const expired = credentials.filter((c) => Date.parse(c.expires_at) <= now);
  if (expired.length === 0) return [];
  return [
    warning(
      `${expired.length} grant(s) of group "${name}" expired`,
      expired.map((c) => `- ${c.member} on ${c.endpoint}: expired at ${c.expires_at}`).join('\n') +
        `\nAccess ended by design, so there is nothing to change. To grant it again: terraform apply -replace='<address of this adaptive_group>'.`,
      ['credentials'],
    ),
  ];
}

/**
 * Errors for endpoint names the group lists that exist nowhere: neither in the catalog
 * nor planned so far in this configuration. Terraform plans an endpoint before a group
 * that refers to it (`adaptive_endpoint.x.name`), so such an endpoint is known here even
 * on the first run; a name written out by hand gives Terraform no such order, so it has to
 * be in the catalog already. The catalog is asked only about names not planned here.
 */
async function endpointsNotFound(listed: unknown, client: AdaptiveClient): Promise<DiagnosticInput[]> {
  const names = Array.isArray(listed) ? listed.filter((name): name is string => typeof name === 'string') : [];
  const unplanned = names.filter((name) => !client.plannedEndpoints.has(name));
  if (unplanned.length === 0) return [];
  let inCatalog: string[];
  try {
    const runtime = await client.runtime();
    inCatalog = await runtime.listNames('endpoint');
  } catch (err) {
    // Not being able to look is no reason to refuse the plan: applying reports it anyway.
    return [
      warning(
        'Could not check endpoints against the catalog',
        `endpoints lists ${nameList(unplanned)}, which this configuration does not plan before this group, and the catalog could not ` +
          `be read to check that they exist: ${errorText(err)}`,
        ['endpoints'],
      ),
    ];
  }
  const known = [...new Set([...inCatalog, ...client.plannedEndpoints])].sort();
  return unplanned
    .filter((name) => !inCatalog.includes(name))
    .map((name) => {
      const guess = closest(name, known);
      return {
        summary: `Unknown endpoint "${name}"`,
        detail:
          `endpoints lists "${name}", but no adaptive_endpoint has that name: the catalog holds none, and this configuration ` +
          `plans none before this group.${guess === undefined ? '' : ` Did you mean "${guess}"?`} ` +
          (known.length > 0 ? `Known endpoints: ${nameList(known, 10)}. ` : 'There are no endpoints yet. ') +
          'List an existing endpoint, or refer to one this configuration creates as adaptive_endpoint.<label>.name, ' +
          'so that Terraform creates it before the group.',
        path: ['endpoints'],
      };
    });
}

async function apply(values: Model, prior: Model | null, client: AdaptiveClient, diagnostics: ResourceDiagnostics<typeof schema>): Promise<Partial<Model>> {
  const runtime = await client.runtimeForChange();
  const members = values.members.map((m) => normaliseMember(m));
  const wanted = wantedPairs(members, values.endpoints);
  const delivery = deliveryOf(values, client);
  const have = heldPairs(delivery.mode, prior, wanted);
  // Credentials already handed out (in state) are kept, with their passwords.
  const priorCredentials = stored(prior?.credentials ?? null).filter((c) => have.has(pairKey(c.member, c.endpoint)));
  const result = await namingMissing({ endpoint: ['endpoints'] }, () =>
    runtime.applyGroup({ name: values.name, members, endpoints: values.endpoints, delivery, have }),
  );
  reportWarnings(
    diagnostics,
    result.warnings,
    {
      'grant expired': { summary: `Grants of group "${values.name}" expired`, path: ['credentials'] },
      'credential lost': { summary: `Members of group "${values.name}" have no live credential`, path: ['members'] },
    },
    `Group "${values.name}" applied with warnings`,
  );
  const secrets = keyed(result.delivered.map(toSecret));
  if (delivery.mode !== 'state') return { id: values.name, credential_delivery: delivery.mode, credentials: {}, secrets, drift: [] };
  const keptRoles = new Map(result.kept.map((k) => [pairKey(k.member, k.endpoint), k]));
  const credentials = [
    ...priorCredentials.map((c) => {
      const current = keptRoles.get(pairKey(c.member, c.endpoint));
      return current ? { ...c, expires_at: current.expiresAt.toISOString() } : c;
    }),
    ...result.issued.map((c) => toCredential(c, c.password ?? '')),
  ];
  return { id: values.name, credential_delivery: delivery.mode, credentials: keyed(credentials), secrets: {}, drift: [] };
}

/**
 * What refresh keeps of a list in state (credentials or secrets): the pairs still live or
 * expired, with their current expiry; the others (missing on their target, revoked outside
 * Terraform before expiry) are dropped and named in `drift`, so the next apply issues them again.
 */
function refreshed<T extends Listed>(list: T[], found: GroupInspection, drift: string[], roleOf: (c: T) => string): T[] {
  const reasons = new Map(found.missing.map((c) => [pairKey(c.member, c.endpoint), c.reason]));
  const current = new Map([...found.live, ...found.expired].map((c) => [pairKey(c.member, c.endpoint), c]));
  const now = Date.now();
  return list
    .filter((c) => {
      const key = pairKey(c.member, c.endpoint);
      if (reasons.has(key)) {
        drift.push(`the login role of ${c.member} on ${c.endpoint}${roleOf(c)} ${reasons.get(key) ?? 'is missing or disabled on its target'}`);
        return false;
      }
      // Revoked by someone else before expiry (the reaper only takes expired ones).
      if (!current.has(key) && Date.parse(c.expires_at) > now) {
        drift.push(`the credential of ${c.member} on ${c.endpoint} was revoked outside Terraform`);
        return false;
      }
      return true;
    })
    .map((c) => {
      const live = current.get(pairKey(c.member, c.endpoint));
      return live ? { ...c, expires_at: live.expiresAt.toISOString() } : c;
    });
}

/** The delivery settings of a group read back from the catalog (import). */
function deliveryModel(delivery: GroupDelivery): Pick<Model, 'credential_delivery' | 'secret_prefix' | 'aws_region' | 'aws_endpoint'> {
  if (delivery.mode !== 'secrets_manager') return { credential_delivery: delivery.mode, secret_prefix: null, aws_region: null, aws_endpoint: null };
  return { credential_delivery: delivery.mode, secret_prefix: delivery.secretPrefix, aws_region: delivery.region ?? null, aws_endpoint: delivery.endpoint ?? null };
}

/**
 * The planned `credentials` and `secrets`: in `state` mode `credentials` is unknown when the
 * pairs change (new passwords), in `secrets_manager` mode `secrets` is, also when the
 * delivery settings change (new secrets); a list the mode does not use is planned empty.
 */
function planLists(state: Model, plan: ConfigOf<typeof schema>, wanted: Set<PairKey> | null): void {
  const mode = plan.credential_delivery;
  const samePairs = (listed: Listed[]): boolean => {
    const pairs = new Set(listed.map((c) => pairKey(c.member, c.endpoint)));
    return wanted !== null && wanted.size === pairs.size && [...wanted].every((p) => pairs.has(p));
  };
  const drifted = (state.drift ?? []).length > 0;
  const settings = [plan.credential_delivery, plan.secret_prefix, plan.aws_region, plan.aws_endpoint];
  const deliveryChanged = settings.some((v) => isUnknown(v)) || deliveryKey(state) !== deliveryKey(plan as Model);
  if (mode === 'state') {
    if (!samePairs(stored(state.credentials)) || drifted) plan.credentials = UNKNOWN;
    plan.secrets = {};
  } else if (mode === 'none') {
    plan.credentials = {};
    plan.secrets = {};
  } else if (mode === 'secrets_manager') {
    plan.credentials = {};
    if (!samePairs(storedSecrets(state.secrets)) || drifted || deliveryChanged) plan.secrets = UNKNOWN;
  } else {
    plan.credentials = UNKNOWN;
    plan.secrets = UNKNOWN;
  }
}

export const adaptiveGroup = defineResource({
  typeName: 'adaptive_group',
  schema,
  validateConfig: ({ config }) =>
    issueDiagnostics(
      [
        ...checkName(forValidation(config.name) as string, 'name'),
        ...checkMembers(forValidation(config.members) as string[]),
        ...checkNames(forValidation(config.endpoints) as string[], 'endpoints'),
        ...checkDelivery({
          mode: forValidation(config.credential_delivery) as string,
          secretPrefix: forValidation(config.secret_prefix) as string,
          region: forValidation(config.aws_region) as string,
          endpoint: forValidation(config.aws_endpoint) as string,
        }),
      ],
      { sets: ['endpoints'], config, causes: { secret_prefix: ['credential_delivery'] } },
    ),
  async modifyPlan({ state, plan, config, ctx }) {
    const missing = await endpointsNotFound(config.endpoints, ctx.provider);
    plan.drift = [];
    if (!state) {
      if (plan.credential_delivery === 'none' || plan.credential_delivery === 'secrets_manager') plan.credentials = {};
      if (plan.credential_delivery === 'none' || plan.credential_delivery === 'state') plan.secrets = {};
      return { diagnostics: missing };
    }
    const listed = [...stored(state.credentials), ...storedSecrets(state.secrets)];
    const diagnostics = [...missing, ...expiredWarnings(state.name, listed)];
    const members = config.members;
    const endpoints = config.endpoints;
    const known = Array.isArray(members) && Array.isArray(endpoints) && [...members, ...endpoints].every((v) => typeof v === 'string');
    planLists(state, plan, known ? wantedPairs(members as string[], endpoints as string[]) : null);
    return { diagnostics };
  },
  create: ({ config, ctx, diagnostics }) => apply(config, null, ctx.provider, diagnostics),
  update: ({ config, state, ctx, diagnostics }) => apply(config, state, ctx.provider, diagnostics),
  async read({ state, ctx }) {
    const runtime = await ctx.provider.runtime();
    const found = await runtime.inspectGroup(state.name);
    if (!found) return null;
    const drift: string[] = [];
    // The CA follows the target's current tls_root_cert (rotated, or missing in a state from before ca_cert).
    const caCerts = new Map([...found.live, ...found.expired].map((c) => [pairKey(c.member, c.endpoint), c.caCert]));
    const credentials = refreshed(stored(state.credentials), found, drift, (c) => ` (${c.username})`).map((c) => {
      const key = pairKey(c.member, c.endpoint);
      return caCerts.has(key) ? { ...c, ca_cert: caCerts.get(key) ?? null } : c;
    });
    const secrets = refreshed(storedSecrets(state.secrets), found, drift, () => '');
    return { credentials: keyed(credentials), secrets: keyed(secrets), drift };
  },
  async delete({ state, ctx }) {
    const runtime = await ctx.provider.runtimeForChange();
    await runtime.removeGroup(state.name);
  },
  async importState({ id, ctx }) {
    const runtime = await ctx.provider.runtime();
    const record = await runtime.readGroup(id);
    if (!record) throw new Error(`No adaptive_group named "${id}" in the catalog; import takes the group's name.`);
    const found = await runtime.inspectGroup(id);
    // Passwords are never stored, so imported credentials carry none: replace the group to
    // hand out new ones. Secrets are not listed: the next apply delivers them again.
    const credentials =
      record.delivery.mode === 'state' ? [...(found?.live ?? []), ...(found?.expired ?? [])].map((c) => toCredential(c, '')) : [];
    return {
      id,
      name: id,
      members: [...record.members],
      endpoints: [...record.endpoints],
      ...deliveryModel(record.delivery),
      credentials: keyed(credentials),
      secrets: {},
      drift: [],
    };
  },
  upgradeState({ fromVersion, state }) {
    // Version 0 held credentials and secrets as lists of the same objects.
    if (fromVersion === 0) return { ...state, credentials: listToMap(state.credentials), secrets: listToMap(state.secrets) };
    return { ...state };
  },
});

/** A version 0 list of credentials or secrets (plain JSON from state) as the map version 1 holds; null stays null. */
function listToMap(list: unknown): Record<string, unknown> | null {
  if (list === null || list === undefined) return null;
  const invalid = (detail: string) => new ResourceError('Cannot upgrade adaptive_group state', { detail });
  if (!Array.isArray(list)) throw invalid('The state of schema version 0 holds credentials or secrets that are not a list.');
  const entries = list.map((item: unknown) => {
    const { member, endpoint } = (item ?? {}) as { member?: unknown; endpoint?: unknown };
    if (typeof member !== 'string' || typeof endpoint !== 'string') {
      throw invalid('The state of schema version 0 holds a credential or secret without its member and endpoint.');
    }
    return [credentialKey({ member, endpoint }), item] as const;
  });
  return Object.fromEntries(entries);
}
