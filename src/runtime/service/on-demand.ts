/**
 * On-demand credentials: one eligible member, one endpoint, a login role of its own for as
 * long as the caller needs it (Terraform's `ephemeral "adaptive_credential"`, the CLI's
 * `credential` command). Eligibility is the catalog's: a group listing both the member and
 * the endpoint.
 */
import type { ServiceContext } from './context';
import type { IssueCredentialRequest, OnDemandCredential, RenewCredentialRequest, RenewCredentialResponse } from './model';

export async function issueOnDemand(_ctx: ServiceContext, _request: IssueCredentialRequest): Promise<OnDemandCredential> {
  throw new Error('not implemented yet');
}

export async function renewOnDemand(_ctx: ServiceContext, _request: RenewCredentialRequest): Promise<RenewCredentialResponse> {
  throw new Error('not implemented yet');
}

export async function revokeOnDemand(_ctx: ServiceContext, _roleName: string, _reason: string): Promise<void> {
  throw new Error('not implemented yet');
}
