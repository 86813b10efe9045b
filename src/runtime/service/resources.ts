/** The verbs for targets (`adaptive_resource`). */
import { ensureManagedRole } from '../access/access-role';
import { MANAGED_ROLE } from '../pg/roles';
import { openTarget } from '../connections/connect';
import { requireAdminPrivileges, type PreflightReport } from '../connections/preflight';
import type { TargetConfig } from '../types';
import type { ServiceContext } from './context';

/**
 * Creates or updates a target: connects with its settings, checks the admin can do the job
 * (and says exactly what is missing, including ADMIN OPTION on existing roles it must make
 * members of on PostgreSQL 16+), creates the marker role, then records it. On failure,
 * the catalog is unchanged.
 */
export async function applyResource(ctx: ServiceContext, config: TargetConfig): Promise<PreflightReport> {
  const target = await openTarget(config);
  let adopted = false;
  try {
    const endpoints = await ctx.catalog.endpointsOnResource(config.name);
    const report = await requireAdminPrivileges(target, { manageRoles: [MANAGED_ROLE, ...endpoints.map((e) => e.accessRole)] });
    await ensureManagedRole(target);
    await ctx.catalog.putResource(config);
    // The connection just checked replaces one opened with the previous settings.
    await ctx.targets.replace(config.name, target);
    adopted = true;
    return report;
  } finally {
    if (!adopted) await target.close();
  }
}

/** Removes a target from the catalog; refused while endpoints use it. */
export async function removeResource(ctx: ServiceContext, name: string): Promise<void> {
  await ctx.catalog.deleteResource(name);
  await ctx.targets.replace(name);
}
