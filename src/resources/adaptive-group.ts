/**
 * `adaptive_group`: people (emails) given a set of endpoints. Each member x endpoint gets a
 * LOGIN role of their own with a generated password, valid until grant time + the
 * endpoint's ttl. Adding or removing a member touches only that member. After expiry the
 * plan shows no change (access ending is by design) but warns which grants expired;
 * renewal is explicit (`terraform apply -replace=...`).
 */
import { attr, requiresReplace, resourceFactory, types, UNKNOWN, useStateForUnknown, warning, type DiagnosticInput, type ModelOf, type ResourceDiagnostics } from '../provider';
import { errorText, nameList, pairKey, type MemberCredential, type PairKey } from '../runtime';
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
});

const schema = {
  version: 0,
  description: 'People given a set of endpoints: one time-limited PostgreSQL login per member and endpoint.',
  attributes: {
    id: attr.string({ computed: true, description: 'The group name.', planModifiers: [useStateForUnknown()] }),
    name: attr.string({ required: true, description: 'Unique name of the group. Changing it replaces the group (new credentials).', planModifiers: [requiresReplace()] }),
    members: attr.set(types.string, { required: true, description: 'Email addresses of the people in the group (compared case-insensitively).' }),
    endpoints: attr.set(types.string, { required: true, description: 'Names of the `adaptive_endpoint`s the members get.' }),
    credentials: attr.list(credentialType, {
      computed: true,
      sensitive: true,
      // The password, and the URI that carries it; who and where stay readable in messages.
      secretFields: ['password', 'uri'],
      description:
        'One credential per member and endpoint: `member`, `endpoint`, `username`, `password`, `expires_at` (RFC 3339), `host`, `port`, ' +
        '`database`, `sslmode` and a connection `uri`. Hand them on with `terraform output` or a downstream module.',
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
}

type Credential = GroupCredential;

/** Credentials from state, where the framework types object fields as nullable. */
function stored(list: Model['credentials']): Credential[] {
  return (list ?? []).map((c) => ({
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
  }));
}

function toCredential(c: MemberCredential, password: string): Credential {
  const userinfo = `${encodeURIComponent(c.username)}:${encodeURIComponent(password)}`;
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
    uri: `postgresql://${userinfo}@${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}/${encodeURIComponent(c.database)}?sslmode=${c.sslmode}`,
  };
}

function sorted(credentials: Credential[]): Credential[] {
  return credentials.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.member.localeCompare(b.member));
}

function wantedPairs(members: readonly string[], endpoints: readonly string[]): Set<PairKey> {
  const pairs = new Set<PairKey>();
  for (const m of members) for (const e of endpoints) pairs.add(pairKey(normaliseMember(m), e));
  return pairs;
}

function expiredWarnings(name: string, credentials: readonly Credential[], now = Date.now()): DiagnosticInput[] {
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
  // Credentials already handed out (in state) are kept, with their passwords.
  const priorCredentials = stored(prior?.credentials ?? null).filter((c) => wanted.has(pairKey(c.member, c.endpoint)));
  const have = new Set(priorCredentials.map((c) => pairKey(c.member, c.endpoint)));
  const result = await namingMissing({ endpoint: ['endpoints'] }, () => runtime.applyGroup({ name: values.name, members, endpoints: values.endpoints, have }));
  reportWarnings(
    diagnostics,
    result.warnings,
    {
      'grant expired': { summary: `Grants of group "${values.name}" expired`, path: ['credentials'] },
      'credential lost': { summary: `Members of group "${values.name}" have no live credential`, path: ['members'] },
    },
    `Group "${values.name}" applied with warnings`,
  );
  const keptRoles = new Map(result.kept.map((k) => [pairKey(k.member, k.endpoint), k]));
  const credentials = [
    ...priorCredentials.map((c) => {
      const current = keptRoles.get(pairKey(c.member, c.endpoint));
      return current ? { ...c, expires_at: current.expiresAt.toISOString() } : c;
    }),
    ...result.issued.map((c) => toCredential(c, c.password ?? '')),
  ];
  return { id: values.name, credentials: sorted(credentials), drift: [] };
}

export const adaptiveGroup = defineResource({
  typeName: 'adaptive_group',
  schema,
  validateConfig: ({ config }) =>
    issueDiagnostics([
      ...checkName(forValidation(config.name) as string, 'name'),
      ...checkMembers(forValidation(config.members) as string[]),
      ...checkNames(forValidation(config.endpoints) as string[], 'endpoints'),
    ], { sets: ['members', 'endpoints'] }),
  async modifyPlan({ state, plan, config, ctx }) {
    const missing = await endpointsNotFound(config.endpoints, ctx.provider);
    if (!state) {
      plan.drift = [];
      return { diagnostics: missing };
    }
    const diagnostics = [...missing, ...expiredWarnings(state.name, stored(state.credentials))];
    const members = config.members;
    const endpoints = config.endpoints;
    const known = Array.isArray(members) && Array.isArray(endpoints) && [...members, ...endpoints].every((v) => typeof v === 'string');
    const statePairs = new Set(stored(state.credentials).map((c) => pairKey(c.member, c.endpoint)));
    const wanted = known ? wantedPairs(members as string[], endpoints as string[]) : null;
    const same = wanted !== null && wanted.size === statePairs.size && [...wanted].every((p) => statePairs.has(p));
    if (!same || (state.drift ?? []).length > 0) {
      plan.credentials = UNKNOWN;
    }
    plan.drift = [];
    return { diagnostics };
  },
  create: ({ config, ctx, diagnostics }) => apply(config, null, ctx.provider, diagnostics),
  update: ({ config, state, ctx, diagnostics }) => apply(config, state, ctx.provider, diagnostics),
  async read({ state, ctx }) {
    const runtime = await ctx.provider.runtime();
    const found = await runtime.inspectGroup(state.name);
    if (!found) return null;
    const reasons = new Map(found.missing.map((c) => [pairKey(c.member, c.endpoint), c.reason]));
    const missing = new Set(reasons.keys());
    const current = new Map([...found.live, ...found.expired].map((c) => [pairKey(c.member, c.endpoint), c]));
    const now = Date.now();
    const drift: string[] = [];
    const credentials = stored(state.credentials).filter((c) => {
      const key = pairKey(c.member, c.endpoint);
      if (missing.has(key)) {
        drift.push(`the login role of ${c.member} on ${c.endpoint} (${c.username}) ${reasons.get(key) ?? 'is missing or disabled on its target'}`);
        return false;
      }
      // Revoked by someone else before expiry (the reaper only takes expired ones).
      if (!current.has(key) && Date.parse(c.expires_at) > now) {
        drift.push(`the credential of ${c.member} on ${c.endpoint} was revoked outside Terraform`);
        return false;
      }
      return true;
    });
    const refreshed = credentials.map((c) => {
      const live = current.get(pairKey(c.member, c.endpoint));
      return live ? { ...c, expires_at: live.expiresAt.toISOString() } : c;
    });
    return { credentials: refreshed, drift };
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
    // hand out new ones.
    const credentials = [...(found?.live ?? []), ...(found?.expired ?? [])].map((c) => toCredential(c, ''));
    return { id, name: id, members: [...record.members], endpoints: [...record.endpoints], credentials: sorted(credentials), drift: [] };
  },
});
