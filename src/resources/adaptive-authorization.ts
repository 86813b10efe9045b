/**
 * `adaptive_authorization`: a named permission set (`grants`, `schemas`, `tables`). It does
 * nothing on its own; endpoints apply it. Changing it re-syncs every endpoint using it.
 */
import { attr, requiresReplace, resourceFactory, useStateForUnknown, type ConfigOf, type DiagnosticInput, type ModelOf, type ResourceDiagnostics } from '../provider';
import { canonicalPermissionsJson, checkPermissions, parsePermissions } from '../runtime/validation/permissions';
import { checkName } from '../runtime/validation/names';
import { forValidation, issueDiagnostics, reportWarnings, type AdaptiveClient } from './common';

const defineResource = resourceFactory<AdaptiveClient>();

const schema = {
  version: 0,
  description: 'A named permission set: which privileges on which tables of which schemas. Endpoints apply it to a target.',
  attributes: {
    id: attr.string({ computed: true, description: 'The authorization name.', planModifiers: [useStateForUnknown()] }),
    name: attr.string({ required: true, description: 'Unique name; endpoints refer to it. Changing it replaces the authorization.', planModifiers: [requiresReplace()] }),
    description: attr.string({ optional: true, description: 'What the permission set is for.' }),
    resource_type: attr.string({ required: true, description: 'The kind of target it applies to. Only `postgres` is supported.' }),
    permissions: attr.string({
      required: true,
      description:
        'JSON, usually `jsonencode({ grants = [...], schemas = [...], tables = [...] })`. `grants`: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, ' +
        'REFERENCES, TRIGGER (or ALL). `schemas`: schema names. `tables`: names, `schema.table`, or `"*"` for every table now and later. ' +
        'Optional `sequences = { privileges = [USAGE, SELECT, UPDATE or ALL], names = [...] }`, names written like `tables`. ' +
        'Optional `functions`: routines to EXECUTE, `"*"`, `name`, `schema.name` (every overload) or `schema.name(argtypes)`. ' +
        '`grants` and `tables` may be left out together when `sequences` or `functions` grant something. ' +
        "Or Adaptive's YAML form, `allow:` entries of `database` (the target's database), `privileges` and `objects` " +
        '(`ALL` = every table of schema public, `schema.*`, `schema.table`, `table`); entries must agree on database and privileges.',
    }),
  },
} as const;

type Model = ModelOf<typeof schema>;

async function apply(values: Model, client: AdaptiveClient, diagnostics: ResourceDiagnostics<typeof schema>): Promise<Partial<Model>> {
  const runtime = await client.runtimeForChange();
  const { warnings } = await runtime.applyAuthorization({
    name: values.name,
    resourceType: values.resource_type,
    permissions: parsePermissions(values.permissions),
    permissionsSource: values.permissions,
    ...(values.description !== null ? { description: values.description } : {}),
  });
  // The endpoints re-synced are not reported: following the authorization is what they do,
  // and the plan showed the change. What a re-sync could not make exact is.
  reportWarnings(
    diagnostics,
    warnings,
    { 'access role': { summary: `Not every endpoint's access role matches authorization "${values.name}"`, path: ['permissions'] } },
    `Authorization "${values.name}" applied with warnings`,
  );
  return { id: values.name };
}

/**
 * A changed permission set is checked, read only, on the targets of the endpoints that
 * already use the authorization: a function, sequence or table a target lacks (or a
 * database other than its own) fails the plan, naming it, instead of the apply.
 */
async function checkOnTargets(config: ConfigOf<typeof schema>, state: Model | null, client: AdaptiveClient): Promise<{ diagnostics: DiagnosticInput[] } | undefined> {
  const { name, permissions } = config;
  if (typeof name !== 'string' || typeof permissions !== 'string' || state === null || state.permissions === permissions) return undefined;
  if (checkPermissions(permissions).length > 0) return undefined; // validateConfig reports those
  const runtime = await client.runtime();
  const result = await runtime.checkAuthorization({ name, permissions: parsePermissions(permissions) });
  const diagnostics: DiagnosticInput[] = result.issues.map((found) => ({
    summary: 'Invalid permissions',
    detail: `${found.message}. Nothing was changed; fix permissions (or create the object on the target first) and plan again.`,
    path: ['permissions'],
  }));
  for (const { endpoint, reason } of result.unchecked) {
    diagnostics.push({
      severity: 'warning',
      summary: `Permissions not checked on endpoint "${endpoint}"`,
      detail: `The target could not be reached, so what the permissions name was not checked there: ${reason}`,
      path: ['permissions'],
    });
  }
  return { diagnostics };
}

export const adaptiveAuthorization = defineResource({
  typeName: 'adaptive_authorization',
  schema,
  validateConfig: ({ config }) => {
    const issues = [...checkName(forValidation(config.name) as string, 'name'), ...checkPermissions(forValidation(config.permissions))];
    if (typeof config.resource_type === 'string' && config.resource_type !== 'postgres') {
      issues.push({ field: 'resource_type', message: `"${config.resource_type}" is not supported; use "postgres"` });
    }
    return issueDiagnostics(issues);
  },
  modifyPlan: ({ config, state, ctx }) => checkOnTargets(config, state, ctx.provider),
  create: ({ config, ctx, diagnostics }) => apply(config, ctx.provider, diagnostics),
  update: ({ config, ctx, diagnostics }) => apply(config, ctx.provider, diagnostics),
  async read({ state, ctx }) {
    const runtime = await ctx.provider.runtime();
    const record = await runtime.readAuthorization(state.name);
    if (!record) return null;
    // Keep the configured text while it means the same; show the catalog's when it differs.
    const same = (() => {
      try {
        return canonicalPermissionsJson(parsePermissions(state.permissions)) === canonicalPermissionsJson(record.permissions);
      } catch {
        return false;
      }
    })();
    return {
      resource_type: record.resourceType,
      description: record.description === '' && state.description === null ? null : record.description,
      ...(same ? {} : { permissions: canonicalPermissionsJson(record.permissions) }),
    };
  },
  async delete({ state, ctx }) {
    const runtime = await ctx.provider.runtimeForChange();
    await runtime.removeAuthorization(state.name);
  },
  async importState({ id, ctx }) {
    const runtime = await ctx.provider.runtime();
    const record = await runtime.readAuthorization(id);
    if (!record) throw new Error(`No adaptive_authorization named "${id}" in the catalog; import takes the authorization's name.`);
    return {
      id: record.name,
      name: record.name,
      resource_type: record.resourceType,
      description: record.description === '' ? null : record.description,
      permissions: record.permissionsSource ?? canonicalPermissionsJson(record.permissions),
    };
  },
});
