/** The verbs for permission sets (`adaptive_authorization`). */
import { syncAccessRole } from '../access/access-role';
import type { AuthorizationRecord, AuthorizationSpec, EndpointRecord } from '../catalog';
import { errorText } from '../errors';
import { canonicalPermissionsJson, parsePermissions } from '../validation/permissions';
import type { ServiceContext } from './context';
import { warn, type ServiceWarning } from './model';

/** What applying an authorization did. */
export interface AuthorizationApplyResult {
  readonly record: AuthorizationRecord;
  /** Endpoints whose access role was re-synced to the new permissions. */
  readonly resynced: string[];
  readonly warnings: ServiceWarning[];
}

/**
 * Creates or updates a permission set (validated and normalised) and re-syncs the access
 * role of every endpoint that uses it. If one target fails, the endpoints already
 * re-synced are put back to the previous permissions and nothing is recorded.
 */
export async function applyAuthorization(ctx: ServiceContext, spec: AuthorizationSpec): Promise<AuthorizationApplyResult> {
  const permissions = parsePermissions(spec.permissions);
  const normalised: AuthorizationSpec = { ...spec, permissions };
  const previous = await ctx.catalog.getAuthorization(spec.name);
  if (!previous || canonicalPermissionsJson(previous.permissions) === canonicalPermissionsJson(permissions)) {
    return { record: await ctx.catalog.putAuthorization(normalised), resynced: [], warnings: [] };
  }
  const endpoints = await ctx.catalog.endpointsUsingAuthorization(spec.name);
  const done: EndpointRecord[] = [];
  const warnings: ServiceWarning[] = [];
  try {
    for (const endpoint of endpoints) {
      const target = await ctx.targets.get(endpoint.resource);
      const result = await syncAccessRole(target, { endpoint: endpoint.name, permissions });
      // One authorization, several endpoints: each warning says which endpoint it is about.
      warnings.push(...result.warnings.map((w) => warn('access role', `endpoint "${endpoint.name}": ${w}`)));
      done.push(endpoint);
    }
    const record = await ctx.catalog.putAuthorization(normalised);
    return { record, resynced: done.map((e) => e.name), warnings };
  } catch (err) {
    const notRestored: string[] = [];
    for (const endpoint of done) {
      try {
        await syncAccessRole(await ctx.targets.get(endpoint.resource), { endpoint: endpoint.name, permissions: previous.permissions });
      } catch (undo) {
        notRestored.push(`${endpoint.name} (${errorText(undo)})`);
      }
    }
    if (notRestored.length === 0) throw err;
    throw new Error(
      `${errorText(err)}\nThe access roles of these endpoints already hold the new permissions and could not be put back: ` +
        `${notRestored.join('; ')}. Apply the authorization again.`,
      { cause: err },
    );
  }
}

/** Removes a permission set; refused while endpoints use it. */
export async function removeAuthorization(ctx: ServiceContext, name: string): Promise<void> {
  await ctx.catalog.deleteAuthorization(name);
}
