/** The verbs for permission sets (`adaptive_authorization`). */
import { checkWanted, syncAccessRole } from '../access/access-role';
import type { AuthorizationRecord, AuthorizationSpec, EndpointRecord } from '../catalog';
import { errorText } from '../errors';
import type { Permissions, ValidationIssue } from '../types';
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

/** What checking a permission set against the targets of an authorization's endpoints takes. */
export interface CheckAuthorizationRequest {
  /** The authorization whose endpoints (as recorded in the catalog) are checked. */
  readonly name: string;
  /** The permission set to check (e.g. the one a plan would apply), already validated. */
  readonly permissions: Permissions;
}

/** What the check found. */
export interface CheckAuthorizationResult {
  /** The endpoints whose targets were checked. */
  readonly checked: string[];
  /**
   * What a sync would refuse: objects the targets lack, a database other than the target's.
   * Each message starts with the endpoint and resource it was found through.
   */
  readonly issues: ValidationIssue[];
  /** Endpoints that could not be checked (a target unreachable), with why. */
  readonly unchecked: { readonly endpoint: string; readonly reason: string }[];
}

/**
 * Checks a permission set on the target of every endpoint recorded as using the
 * authorization, read only: nothing is changed on the targets or in the catalog. A plan
 * uses it to fail on a function, sequence or table that a target lacks, before apply.
 */
export async function checkAuthorization(ctx: ServiceContext, request: CheckAuthorizationRequest): Promise<CheckAuthorizationResult> {
  const result: CheckAuthorizationResult = { checked: [], issues: [], unchecked: [] };
  for (const endpoint of await ctx.catalog.endpointsUsingAuthorization(request.name)) {
    let found: readonly ValidationIssue[];
    try {
      found = await checkWanted(await ctx.targets.get(endpoint.resource), request.permissions);
    } catch (err) {
      result.unchecked.push({ endpoint: endpoint.name, reason: errorText(err) });
      continue;
    }
    result.checked.push(endpoint.name);
    const where = `endpoint "${endpoint.name}" (resource "${endpoint.resource}")`;
    result.issues.push(...found.map((i) => ({ field: i.field, message: `${where}: ${i.message}` })));
  }
  return result;
}
