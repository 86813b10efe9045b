/**
 * `adaptive_endpoint`: an authorization applied to a target for a `ttl`. It becomes one
 * NOLOGIN access role on the target holding exactly the authorization's grants; members'
 * login roles only get membership in it. Grants changed by hand show up as `drift` in the
 * plan, and applying puts them back.
 */
import { attr, requiresReplace, resourceFactory, types, useStateForUnknown, type ModelOf, type ResourceDiagnostics } from '../provider';
import { checkName } from '../runtime/validation/names';
import { checkSessionSettings, parseSessionDuration, parseSessionSettings, sessionSettingsInput } from '../runtime/validation/session-settings';
import { checkTtl, formatTtl, parseTtl } from '../runtime/validation/ttl';
import { forValidation, issueDiagnostics, namingMissing, reportWarnings, type AdaptiveClient } from './common';

const defineResource = resourceFactory<AdaptiveClient>();

const schema = {
  version: 0,
  description: "An authorization applied to a target for a time-to-live: members of groups using it get credentials valid for `ttl`.",
  attributes: {
    id: attr.string({ computed: true, description: 'The endpoint name.', planModifiers: [useStateForUnknown()] }),
    name: attr.string({ required: true, description: 'Unique name; groups refer to it. Changing it replaces the endpoint.', planModifiers: [requiresReplace()] }),
    type: attr.string({ required: true, description: 'How members reach the target. Only `direct` (members connect to PostgreSQL themselves) is supported.' }),
    ttl: attr.string({
      required: true,
      description:
        'How long each credential lives from its grant: a number and a unit, e.g. `30m`, `8h`, `1h30m`, `1d`, `7d`, `90d` (1s to 365d). ' +
        'Changing it moves the expiry of live credentials to grant time + ttl.',
    }),
    resource: attr.string({ required: true, description: 'Name of the `adaptive_resource` (target). Changing it replaces the endpoint.', planModifiers: [requiresReplace()] }),
    authorization: attr.string({ required: true, description: 'Name of the `adaptive_authorization` whose grants the endpoint applies.' }),
    search_path: attr.list(types.string, {
      optional: true,
      description:
        "Schemas the members' sessions search, in order, e.g. `[\"app\", \"public\"]` (schema names, or `$user`). Omitted: the database's default.",
    }),
    statement_timeout: attr.string({
      optional: true,
      description:
        'Longest a member\'s statement may run before PostgreSQL cancels it: `30s`, `5m`, `1h` (units s, m, h, d; up to 24d), or `0` for none. Omitted: the database\'s default.',
    }),
    idle_session_timeout: attr.string({
      optional: true,
      description:
        "How long a member's session may sit idle (outside a transaction) before PostgreSQL ends it, written like `statement_timeout`. PostgreSQL 14 and later.",
    }),
    connection_limit: attr.number({
      optional: true,
      description: 'Most sessions each member may have open at once on this endpoint (per login role), at least 1. Omitted: no limit.',
    }),
    timezone: attr.string({ optional: true, description: "Time zone of the members' sessions, e.g. `UTC` or `Europe/Berlin`. Omitted: the database's default." }),
    application_name: attr.string({ optional: true, description: "`application_name` of the members' sessions unless their client sets one. Omitted: none." }),
    access_role: attr.string({ computed: true, description: 'The NOLOGIN PostgreSQL role on the target that holds the grants.', planModifiers: [useStateForUnknown()] }),
    drift: attr.list(types.string, {
      computed: true,
      description: 'Differences between the access role on the target and the authorization, found at refresh; applying removes them.',
    }),
  },
} as const;

type Model = ModelOf<typeof schema>;

async function apply(values: Model, client: AdaptiveClient, diagnostics: ResourceDiagnostics<typeof schema>): Promise<Partial<Model>> {
  const runtime = await client.runtimeForChange();
  const { record, warnings } = await namingMissing({ resource: ['resource'], authorization: ['authorization'] }, () =>
    runtime.applyEndpoint({
      name: values.name,
      type: 'direct',
      ttlSeconds: parseTtl(values.ttl),
      resource: values.resource,
      authorization: values.authorization,
      sessionSettings: parseSessionSettings(values),
    }),
  );
  const name = values.name;
  reportWarnings(
    diagnostics,
    warnings,
    {
      'access role': { summary: `Access role of endpoint "${name}" does not match its authorization exactly`, path: ['authorization'] },
      'endpoint moved': { summary: `Endpoint "${name}" moved: its previous target is not cleaned up yet`, path: ['resource'] },
      'ttl ended': { summary: `Credentials of endpoint "${name}" ended by the lower ttl`, path: ['ttl'] },
      'ttl not revoked': { summary: `Credentials of endpoint "${name}" past the new ttl are not revoked yet`, path: ['ttl'] },
    },
    `Endpoint "${name}" applied with warnings`,
  );
  return { id: values.name, access_role: record.accessRole, drift: [] };
}

export const adaptiveEndpoint = defineResource({
  typeName: 'adaptive_endpoint',
  schema,
  validateConfig: ({ config }) => {
    const issues = [
      ...checkName(forValidation(config.name) as string, 'name'),
      ...checkTtl(forValidation(config.ttl) as string),
      ...checkName(forValidation(config.resource) as string, 'resource'),
      ...checkName(forValidation(config.authorization) as string, 'authorization'),
      ...checkSessionSettings(forValidation(config) as Record<string, unknown>),
    ];
    if (typeof config.type === 'string' && config.type !== 'direct') {
      issues.push({ field: 'type', message: `"${config.type}" is not supported; use "direct" (members connect to PostgreSQL with their own credentials)` });
    }
    return issueDiagnostics(issues);
  },
  modifyPlan({ plan, ctx }) {
    // Drift found at refresh is what applying fixes: planning it away makes the update run.
    plan.drift = [];
    // Groups planned after this one may list the name before the endpoint exists.
    if (typeof plan.name === 'string') ctx.provider.plannedEndpoints.add(plan.name);
  },
  create: ({ config, ctx, diagnostics }) => apply(config, ctx.provider, diagnostics),
  update: ({ config, ctx, diagnostics }) => apply(config, ctx.provider, diagnostics),
  async read({ state, ctx }) {
    const runtime = await ctx.provider.runtime();
    const found = await runtime.inspectEndpoint(state.name);
    if (!found) return null;
    const { record } = found;
    return {
      // Keep the written ttl while it means the same duration.
      ttl: safeSeconds(state.ttl) === record.ttlSeconds ? state.ttl : formatTtl(record.ttlSeconds),
      resource: record.resource,
      authorization: record.authorization,
      access_role: record.accessRole,
      ...readSettings(state, record.sessionSettings),
      drift: found.drift,
    };
  },
  async delete({ state, ctx }) {
    const runtime = await ctx.provider.runtimeForChange();
    await runtime.removeEndpoint(state.name);
  },
  async importState({ id, ctx }) {
    const runtime = await ctx.provider.runtime();
    const record = await runtime.readEndpoint(id);
    if (!record) throw new Error(`No adaptive_endpoint named "${id}" in the catalog; import takes the endpoint's name.`);
    return {
      id,
      name: id,
      type: record.type,
      ttl: formatTtl(record.ttlSeconds),
      resource: record.resource,
      authorization: record.authorization,
      ...readSettings({}, record.sessionSettings),
    };
  },
});

function safeSeconds(ttl: string): number | undefined {
  try {
    return parseTtl(ttl);
  } catch {
    return undefined;
  }
}

type Settings = Parameters<typeof sessionSettingsInput>[0];
type SettingsModel = Pick<Model, 'search_path' | 'statement_timeout' | 'idle_session_timeout' | 'connection_limit' | 'timezone' | 'application_name'>;

/** The recorded session settings as attributes, keeping a written timeout while it means the same (`60s` for `1m`). */
function readSettings(state: Partial<SettingsModel>, settings: Settings): SettingsModel {
  const canonical = sessionSettingsInput(settings);
  const keep = (field: 'statement_timeout' | 'idle_session_timeout', seconds: number | undefined): string | null => {
    const written = state[field];
    if (seconds === undefined) return null;
    return typeof written === 'string' && safeDuration(written, field) === seconds ? written : (canonical[field] as string);
  };
  return {
    search_path: settings.searchPath ? [...settings.searchPath] : null,
    statement_timeout: keep('statement_timeout', settings.statementTimeoutSeconds),
    idle_session_timeout: keep('idle_session_timeout', settings.idleSessionTimeoutSeconds),
    connection_limit: settings.connectionLimit ?? null,
    timezone: settings.timezone ?? null,
    application_name: settings.applicationName ?? null,
  };
}

function safeDuration(text: string, field: string): number | undefined {
  try {
    return parseSessionDuration(text, field);
  } catch {
    return undefined;
  }
}
