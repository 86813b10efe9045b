/**
 * What the service asks of a target's roles beyond issuing and revoking: putting live
 * credentials back into their endpoint's access role, and which of some roles still exist.
 */
import type { TargetDb } from '../types';
import { transaction } from '../pg/locks';
import { ident } from '../pg/sql';
import { lockCredentialRoles, releaseAfter } from './login-roles';

/**
 * Grants `accessRole` again to the login roles among `roleNames` that can log in and are no
 * longer its members (the access role was re-created, or the membership revoked by hand).
 * Under the same locks as issuing and revoking, so a role is not dropped under the GRANT;
 * one transaction: on error nothing is granted.
 */
export async function restoreMemberships(target: TargetDb, accessRole: string, roleNames: readonly string[]): Promise<void> {
  if (roleNames.length === 0) return;
  const client = await target.pool.connect();
  let failure: unknown;
  try {
    await transaction(client, async () => {
      await lockCredentialRoles(client, roleNames, 'transaction', [accessRole]);
      // As at issue (credentials.ts): from 16 on, the member inherits the access role but
      // cannot SET ROLE to it.
      const { rows: server } = await client.query<{ version: number }>(`select pg_catalog.current_setting('server_version_num')::int as version`);
      const options = (server[0]?.version ?? 0) >= 160000 ? ' WITH INHERIT TRUE, SET FALSE' : '';
      const { rows } = await client.query<{ name: string }>(
        `select r.rolname::text as name from pg_catalog.pg_roles r
          where r.rolname = any($1::text[]) and r.rolcanlogin
            and not pg_catalog.pg_has_role(r.oid, (select oid from pg_catalog.pg_roles where rolname = $2), 'MEMBER')`,
        [roleNames, accessRole],
      );
      if (rows.length > 0) await client.query(rows.map((r) => `GRANT ${ident(accessRole)} TO ${ident(r.name)}${options}`).join(';\n'));
    });
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    releaseAfter(client, failure);
  }
}

/** Which of `roleNames` exist on the target now. */
export async function existingRoles(target: TargetDb, roleNames: readonly string[]): Promise<Set<string>> {
  if (roleNames.length === 0) return new Set();
  const { rows } = await target.pool.query<{ name: string }>('select rolname::text as name from pg_catalog.pg_roles where rolname = any($1::text[])', [
    roleNames,
  ]);
  return new Set(rows.map((r) => r.name));
}
