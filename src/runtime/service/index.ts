/**
 * `AccessService`: the implementation behind the runtime's verbs (src/runtime/index.ts is
 * the interface callers use). It coordinates the catalog (what exists, by name) with the
 * targets (what PostgreSQL holds): every change is made on the target first and recorded
 * in the catalog after, and a failure part-way is undone on the targets already changed,
 * so nothing is left half-applied. One module per kind of record holds its verbs; this
 * class holds the catalog and the open target connections they share.
 *
 * Its `catalog` and `target()` are for the runtime itself and white-box tests: index.ts
 * does not export this class.
 */
import { accessRoleName } from '../access/access-role';
import { loginRoleName } from '../access/credentials';
import type { AuthorizationSpec, Catalog } from '../catalog';
import type { OpenTarget } from '../connections/connect';
import type { PreflightReport } from '../connections/preflight';
import type { TargetConfig } from '../types';
import { applyAuthorization, checkAuthorization, removeAuthorization, type AuthorizationApplyResult, type CheckAuthorizationRequest, type CheckAuthorizationResult } from './authorizations';
import { TargetConnections, type ServiceContext } from './context';
import { applyEndpoint, inspectEndpoint, removeEndpoint, type EndpointApplyResult } from './endpoints';
import { inspectGroup } from './group-inspection';
import { applyGroup, removeGroup } from './groups';
import type {
  EndpointInput,
  EndpointInspection,
  GroupApplyResult,
  GroupInput,
  GroupInspection,
  IssueCredentialRequest,
  OnDemandCredential,
  PairKey,
  ReapReport,
  RenewCredentialRequest,
  RenewCredentialResponse,
} from './model';
import { issueOnDemand, renewOnDemand, revokeOnDemand } from './on-demand';
import { reap } from './reaper';
import { applyResource, removeResource } from './resources';

export * from './model';
export type { AuthorizationApplyResult, CheckAuthorizationRequest, CheckAuthorizationResult } from './authorizations';
export type { EndpointApplyResult } from './endpoints';
export { expiredWarning } from './groups';
/** The deterministic role names the runtime uses (for tests and messages). */
export { accessRoleName, loginRoleName };

export class AccessService {
  private readonly ctx: ServiceContext;

  /** `targetApplicationName`: see `TargetConnections`. */
  constructor(
    readonly catalog: Catalog,
    targetApplicationName?: string,
  ) {
    this.ctx = { catalog, targets: new TargetConnections(catalog, targetApplicationName) };
  }

  /** Closes every target pool and the catalog. */
  async close(): Promise<void> {
    await this.ctx.targets.closeAll();
    await this.catalog.close();
  }

  /** The open admin connection to a resource recorded in the catalog (`NotFoundError` when it is not). */
  target(resource: string): Promise<OpenTarget> {
    return this.ctx.targets.get(resource);
  }

  /** See resources.ts. */
  applyResource(config: TargetConfig): Promise<PreflightReport> {
    return applyResource(this.ctx, config);
  }

  removeResource(name: string): Promise<void> {
    return removeResource(this.ctx, name);
  }

  /** See authorizations.ts. */
  applyAuthorization(spec: AuthorizationSpec): Promise<AuthorizationApplyResult> {
    return applyAuthorization(this.ctx, spec);
  }

  checkAuthorization(request: CheckAuthorizationRequest): Promise<CheckAuthorizationResult> {
    return checkAuthorization(this.ctx, request);
  }

  removeAuthorization(name: string): Promise<void> {
    return removeAuthorization(this.ctx, name);
  }

  /** See endpoints.ts. */
  applyEndpoint(spec: EndpointInput): Promise<EndpointApplyResult> {
    return applyEndpoint(this.ctx, spec);
  }

  inspectEndpoint(name: string): Promise<EndpointInspection | null> {
    return inspectEndpoint(this.ctx, name);
  }

  removeEndpoint(name: string): Promise<void> {
    return removeEndpoint(this.ctx, name);
  }

  /** See groups.ts and group-inspection.ts. */
  applyGroup(spec: GroupInput, have: ReadonlySet<PairKey>): Promise<GroupApplyResult> {
    return applyGroup(this.ctx, spec, have);
  }

  inspectGroup(name: string): Promise<GroupInspection | null> {
    return inspectGroup(this.ctx, name);
  }

  removeGroup(name: string): Promise<string[]> {
    return removeGroup(this.ctx, name);
  }

  /** See on-demand.ts. */
  issueCredential(request: IssueCredentialRequest): Promise<OnDemandCredential> {
    return issueOnDemand(this.ctx, request);
  }

  renewCredential(request: RenewCredentialRequest): Promise<RenewCredentialResponse> {
    return renewOnDemand(this.ctx, request);
  }

  revokeCredential(roleName: string, reason = 'closed'): Promise<void> {
    return revokeOnDemand(this.ctx, roleName, reason);
  }

  /** See reaper.ts. */
  reap(options: { readonly onlyRecorded?: boolean; readonly targets?: readonly string[] } = {}): Promise<ReapReport> {
    return reap(this.ctx, options);
  }
}
