/**
 * Issuing a large set of credentials on one target: as many transactions as the server's
 * lock table needs (login-roles.ts, `rolesPerTransaction`; one for up to a thousand roles
 * with default settings), each all or nothing, with every verifier computed on the thread
 * pool from the start so the server never waits for the next batch's hashes.
 *
 * Between batches the caller records what was committed (`onIssued`), so at any moment
 * every committed role is either recorded or about to be: a failure in a later batch
 * leaves the earlier batches issued and recorded, and the caller revokes them (the
 * service's roll back), as it does when recording or delivery fails. Roles that exist and
 * are not ours are refused before the first batch, so that common refusal changes nothing
 * at all; each transaction checks again under its locks.
 */
import type { TargetDb } from '../types';
import { issueInTransaction, prepareIssue, refuseNotOurs, sliceIssue, type CredentialRequest, type IssuedCredential } from './credentials';
import { readRoleStates, rolesPerTransaction } from './login-roles';

/**
 * Issues `requests` on `target` in batches; after each batch commits, `onIssued` gets its
 * credentials and is awaited before the next batch starts. A batch that fails throws (its
 * transaction rolled back, nothing of it issued); the batches before it stay issued and
 * were handed to `onIssued`.
 */
export async function issueCredentialsInBatches(
  target: TargetDb,
  requests: readonly CredentialRequest[],
  onIssued: (batch: IssuedCredential[]) => Promise<void>,
): Promise<void> {
  if (requests.length === 0) return;
  const prepared = prepareIssue(requests);
  const client = await target.pool.connect();
  let size: number;
  try {
    refuseNotOurs(prepared.names, await readRoleStates(client, prepared.names));
    size = await rolesPerTransaction(client);
  } finally {
    client.release();
  }
  for (let start = 0; start < requests.length; start += size) {
    await onIssued(await issueInTransaction(target, sliceIssue(prepared, start, start + size)));
  }
}
