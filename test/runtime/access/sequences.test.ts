/**
 * `sequences` in a permission set, against real PostgreSQL: a member can use exactly the
 * sequences granted (named, or `*` including sequences created later), a change by hand is
 * read back as drift and undone by the next sync, and a missing sequence is named.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { accessRoleName, readAccessRole, syncAccessRole } from '../../../src/runtime/access/access-role';
import { ident } from '../../../src/runtime/pg/sql';
import type { Permissions, TargetDb } from '../../../src/runtime/types';
import { eachPostgres, startPostgres } from '../../fixtures/postgres';
import { createLoginRole, sqlState, targetDbFor } from '../../fixtures/target-db';

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let target: TargetDb;
  let admin: Client;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    target = targetDbFor(cluster);
    admin = new Client(cluster.clientConfig());
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await target?.close();
    await cluster?.stop();
  });

  /** A logged-in member of the endpoint's access role. */
  async function memberOf(endpoint: string, user: string): Promise<Client> {
    const login = await createLoginRole(cluster, user, {
      memberOf: [accessRoleName(endpoint)],
    });
    return login.connect();
  }

  it('a named sequence: the member can nextval it, and not another sequence of the schema', async () => {
    await admin.query('create schema seqs');
    await admin.query('create sequence seqs.order_numbers');
    await admin.query('create sequence seqs.invoice_numbers');
    await admin.query('create table seqs.orders (id int)');
    const permissions: Permissions = {
      grants: ['SELECT'],
      schemas: ['seqs'],
      tables: ['orders'],
      sequences: { privileges: ['USAGE'], names: ['order_numbers'] },
    };
    const result = await syncAccessRole(target, {
      endpoint: 'seq_named',
      permissions,
    });
    expect(result.warnings).toEqual([]);
    const client = await memberOf('seq_named', 'seq_named_user');
    try {
      expect((await client.query("select nextval('seqs.order_numbers') as n")).rows).toEqual([{ n: '1' }]);
      expect(await sqlState(client.query("select nextval('seqs.invoice_numbers')"))).toBe('42501');
      // USAGE allows nextval and currval, not setval (UPDATE).
      expect(await sqlState(client.query("select setval('seqs.order_numbers', 10)"))).toBe('42501');
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'seq_named')).toMatchObject({
      permissions,
      drift: [],
    });
  });

  it('"*": every sequence of the schema, also one created after the grant', async () => {
    await admin.query('create schema seqall');
    await admin.query('create sequence seqall.before');
    const permissions: Permissions = {
      grants: ['SELECT'],
      schemas: ['seqall'],
      tables: ['*'],
      sequences: { privileges: ['UPDATE', 'USAGE'], names: ['*'] },
    };
    expect((await syncAccessRole(target, { endpoint: 'seq_all', permissions })).warnings).toEqual([]);
    await admin.query('create sequence seqall.later');
    const client = await memberOf('seq_all', 'seq_all_user');
    try {
      expect((await client.query("select nextval('seqall.before') as n")).rows).toEqual([{ n: '1' }]);
      expect((await client.query("select nextval('seqall.later') as n")).rows).toEqual([{ n: '1' }]);
      expect((await client.query("select setval('seqall.later', 41) as n")).rows).toEqual([{ n: '41' }]);
    } finally {
      await client.end();
    }
    expect(await readAccessRole(target, 'seq_all')).toMatchObject({
      permissions,
      drift: [],
    });

    // Without `sequences`, the next sync takes the sequence privileges away again.
    const tablesOnly: Permissions = {
      grants: ['SELECT'],
      schemas: ['seqall'],
      tables: ['*'],
    };
    await syncAccessRole(target, {
      endpoint: 'seq_all',
      permissions: tablesOnly,
    });
    expect(await readAccessRole(target, 'seq_all')).toMatchObject({
      permissions: tablesOnly,
      drift: [],
    });
    const again = await memberOf('seq_all', 'seq_all_user2');
    try {
      expect(await sqlState(again.query("select nextval('seqall.later')"))).toBe('42501');
    } finally {
      await again.end();
    }
  });

  it('a manual REVOKE shows as drift, with what is still held read back, and the next sync restores it', async () => {
    await admin.query('create schema seqdrift');
    await admin.query('create sequence seqdrift.s1');
    await admin.query('create sequence seqdrift.s2');
    const endpoint = 'seq_drift';
    const role = accessRoleName(endpoint);
    const permissions: Permissions = {
      grants: ['SELECT'],
      schemas: ['seqdrift'],
      tables: ['*'],
      sequences: { privileges: ['SELECT', 'USAGE'], names: ['*'] },
    };
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({
      permissions,
      drift: [],
    });

    await admin.query(`revoke usage, select on sequence seqdrift.s1 from ${ident(role)}`);
    const state = await readAccessRole(target, endpoint);
    expect(state?.drift).toEqual(['missing SELECT, USAGE on sequence "seqdrift"."s1"']);
    expect(state?.permissions.sequences).toEqual({
      privileges: ['SELECT', 'USAGE'],
      names: ['s2'],
    });

    const repaired = await syncAccessRole(target, { endpoint, permissions });
    expect(repaired.statements).toEqual([`GRANT SELECT, USAGE ON SEQUENCE "seqdrift"."s1" TO ${ident(role)}`]);
    expect(await readAccessRole(target, endpoint)).toMatchObject({
      permissions,
      drift: [],
    });

    // An extra privilege granted by hand shows up too, and is revoked.
    await admin.query(`grant update on sequence seqdrift.s2 to ${ident(role)}`);
    const extra = await readAccessRole(target, endpoint);
    expect(extra?.drift).toEqual(['unexpected UPDATE on sequence "seqdrift"."s2" (granted by "postgres")']);
    await syncAccessRole(target, { endpoint, permissions });
    expect(await readAccessRole(target, endpoint)).toMatchObject({
      permissions,
      drift: [],
    });
  });

  it('a named sequence that does not exist fails naming it and the field, and changes nothing', async () => {
    await admin.query('create schema seqmissing');
    const failing = syncAccessRole(target, {
      endpoint: 'seq_missing',
      permissions: {
        grants: ['SELECT'],
        schemas: ['seqmissing'],
        tables: ['*'],
        sequences: { privileges: ['USAGE'], names: ['nope'] },
      },
    });
    await expect(failing).rejects.toThrow(
      /permissions\.sequences\.names\[0\]: endpoint "seq_missing": sequence "nope" does not exist in schema "seqmissing"/
    );
    expect(await readAccessRole(target, 'seq_missing')).toBeNull();
  });
});
