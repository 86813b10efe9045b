/**
 * A group's delivery of standing credentials to AWS Secrets Manager, as the verbs use it:
 * the secrets of credentials just issued (written before they are recorded, so the record
 * names its secret), and the deletion of a credential's secret when it is revoked or reaped.
 *
 * A secret that cannot be deleted keeps its credential recorded live (its role is already
 * dropped): the revocation is reported as failed, and the next apply, destroy or reaper
 * pass tries again (revoking a role already gone succeeds at once). The record is what
 * remembers the secret, so it is marked revoked only once the secret is gone.
 */
import type { IssuedCredential } from '../access/credentials';
import type { RevokeFailure } from '../access/revoke';
import type { CredentialDelivery, CredentialRecord, GroupDelivery } from '../catalog';
import { memberSecretName } from '../validation/delivery';
import { deleteSecrets, writeSecrets, type SecretsLocation } from '../delivery/secrets-manager';
import type { MemberCredential } from './model';

/** The delivery of a group that writes secrets, or null. */
export type SecretsDelivery = Extract<GroupDelivery, { mode: 'secrets_manager' }>;

export function secretsDelivery(delivery: GroupDelivery | undefined): SecretsDelivery | null {
  return delivery?.mode === 'secrets_manager' ? delivery : null;
}

/** Whether a live credential was delivered as `delivery` says it should be now (same prefix, region, endpoint). */
export function deliveredAs(c: CredentialRecord, delivery: SecretsDelivery, group: string): boolean {
  const sm = c.deliveredTo?.secretsManager;
  if (!sm) return false;
  const expected = memberSecretName(delivery.secretPrefix, group, c.member, c.endpoint);
  // A secret's ARN is `arn:...:secret:<name>-` and six random characters.
  const name = sm.arn.slice(sm.arn.indexOf(':secret:') + ':secret:'.length, -7);
  return (sm.region ?? '') === (delivery.region ?? '') && (sm.endpoint ?? '') === (delivery.endpoint ?? '') && name === expected;
}

/**
 * Writes one secret per credential just issued (`views` in the same order, with where to
 * connect) and returns where each went, in order. On failure none is left written.
 */
export async function deliverToSecrets(
  delivery: SecretsDelivery,
  group: string,
  creds: readonly IssuedCredential[],
  views: readonly MemberCredential[],
): Promise<CredentialDelivery[]> {
  const location: SecretsLocation = { region: delivery.region, endpoint: delivery.endpoint };
  const arns = await writeSecrets(
    location,
    creds.map((c, i) => ({
      name: memberSecretName(delivery.secretPrefix, group, c.member, c.endpoint),
      content: { username: c.roleName, password: c.password, host: views[i]!.host, port: views[i]!.port, dbname: views[i]!.database, sslmode: views[i]!.sslmode, caCert: views[i]!.caCert, expiresAt: c.validUntil },
      tags: { 'adaptive-access:group': group, 'adaptive-access:member': c.member, 'adaptive-access:endpoint': c.endpoint },
    })),
  );
  return arns.map((arn) => ({ secretsManager: { arn, ...(delivery.region ? { region: delivery.region } : {}), ...(delivery.endpoint ? { endpoint: delivery.endpoint } : {}) } }));
}

/**
 * Deletes the secrets of credentials whose roles were dropped. Returns the role names whose
 * secret is still there, each with why (they stay live in the catalog, for the retry).
 */
export async function deleteDelivered(creds: readonly Pick<CredentialRecord, 'roleName' | 'deliveredTo'>[]): Promise<RevokeFailure[]> {
  const byLocation = new Map<string, { location: SecretsLocation; creds: Pick<CredentialRecord, 'roleName' | 'deliveredTo'>[] }>();
  for (const c of creds) {
    const sm = c.deliveredTo?.secretsManager;
    if (!sm) continue;
    const key = `${sm.region ?? ''}\u0000${sm.endpoint ?? ''}`;
    const entry = byLocation.get(key) ?? { location: { region: sm.region, endpoint: sm.endpoint }, creds: [] };
    entry.creds.push(c);
    byLocation.set(key, entry);
  }
  const failed: RevokeFailure[] = [];
  for (const { location, creds: batch } of byLocation.values()) {
    const failures = await deleteSecrets(location, batch.map((c) => c.deliveredTo!.secretsManager!.arn));
    for (const f of failures) {
      const c = batch.find((b) => b.deliveredTo?.secretsManager?.arn === f.arn)!;
      failed.push({
        role: c.roleName,
        error: `login role dropped, but its secret ${f.arn} could not be deleted (${f.error}); the credential stays recorded until it is, and the next apply, destroy or reaper pass retries`,
      });
    }
  }
  return failed;
}
