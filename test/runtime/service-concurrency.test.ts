/**
 * Concurrency through the access service: twenty workers, split over two services on one
 * catalog (two provider processes), create, change, re-issue and remove groups that share
 * one target and one endpoint. None may fail, and afterwards the catalog's live credentials
 * are exactly the managed login roles on the target, each of which logs in.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { loginRoleName } from '../../src/runtime/access/credentials';
import { pairKey, type MemberCredential, type PairKey } from '../../src/runtime/service';
import type { Permissions } from '../../src/runtime/types';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import {
  APP_SCHEMA_SQL,
  createDatabase,
  loginResult,
  managedLoginRoles,
  openService,
  reopenService,
  sorted,
  sql,
  targetConfig,
  untilInstant,
  untilLockWaiters,
  type ServiceHandle,
} from './service-fixture';

const WORKERS = 20;
const ENDPOINT = 'shared-read';
const READ: Permissions = { grants: ['SELECT'], schemas: ['app'], tables: ['*'] };

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  const handles: ServiceHandle[] = [];

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterAll(async () => {
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
    await cluster?.stop();
  });

  it('twenty workers applying and removing distinct groups on one endpoint finish without errors, and the catalog matches the target', async () => {
    const first = await openService(cluster);
    handles.push(first);
    await first.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await first.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await first.service.applyEndpoint({ name: ENDPOINT, type: 'direct', ttlSeconds: 3600, resource: 'main', authorization: 'read' });
    const second = await reopenService(cluster, first);
    handles.push(second);

    /** The credentials each group should end with, by role name, with their passwords. */
    const expected = new Map<string, MemberCredential>();
    const member = (worker: number, who: string): string => `${who}.w${worker}@example.com`;
    const held = (members: readonly string[]): Set<PairKey> => new Set(members.map((m) => pairKey(m, ENDPOINT)));

    const worker = async (i: number): Promise<void> => {
      const { service } = i % 2 === 0 ? first : second;
      const group = `group-${i}`;
      const apply = (members: string[], have: Set<PairKey>) => service.applyGroup({ name: group, members, endpoints: [ENDPOINT] }, have);
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((who) => member(i, who)) as [string, string, string, string];

      const created = await apply([a, b], new Set());
      expect(created.issued).toHaveLength(2);
      const changed = await apply([a, c], held([a, b]));
      expect(changed.issued.map((x) => x.member)).toEqual([c]);
      expect(changed.revoked).toEqual([loginRoleName(b, ENDPOINT)]);
      switch (i % 4) {
        case 0: {
          // Destroyed.
          expect(sorted(await service.removeGroup(group))).toEqual(sorted([a, c].map((m) => loginRoleName(m, ENDPOINT))));
          break;
        }
        case 1: {
          // Destroyed and created again with someone else.
          await service.removeGroup(group);
          const again = await apply([d], new Set());
          again.issued.forEach((x) => expected.set(x.username, x));
          break;
        }
        case 2: {
          // Renewed: every credential re-issued.
          const renewed = await apply([a, c], new Set());
          expect(renewed.issued).toHaveLength(2);
          renewed.issued.forEach((x) => expected.set(x.username, x));
          break;
        }
        default: {
          // Kept as changed.
          const kept = await apply([a, c], held([a, c]));
          expect(kept.issued).toEqual([]);
          expect(kept.kept).toHaveLength(2);
          [...created.issued, ...changed.issued].filter((x) => x.member !== b).forEach((x) => expected.set(x.username, x));
        }
      }
    };

    const outcomes = await Promise.allSettled(Array.from({ length: WORKERS }, (_, i) => worker(i)));
    const errors = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`worker ${i}: ${String(o.reason)}`] : []));
    expect(errors).toEqual([]);

    const live = sorted((await first.catalog.liveCredentials()).map((c) => c.roleName));
    expect(live).toEqual(await managedLoginRoles(cluster));
    expect(live).toEqual(sorted(expected.keys()));
    for (const credential of expected.values()) expect(await loginResult(credential)).toBe('ok');
    expect(sorted((await first.catalog.listGroups()).map((g) => g.name))).toEqual(
      sorted(Array.from({ length: WORKERS }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => `group-${i}`)),
    );
  });

  it('three reapers on one catalog reaping the same expired credentials at once report and record each one once', async () => {
    const first = await openService(cluster, 'reapers');
    handles.push(first);
    await first.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await first.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await first.service.applyEndpoint({ name: 'brief-read', type: 'direct', ttlSeconds: 2, resource: 'main', authorization: 'read' });
    const members = Array.from({ length: 12 }, (_, i) => `r${i}@example.com`);
    const { issued } = await first.service.applyGroup({ name: 'brief', members, endpoints: ['brief-read'] }, new Set());
    const others = [await reopenService(cluster, first), await reopenService(cluster, first)];
    handles.push(...others);
    await untilInstant(new Date(Math.max(...issued.map((c) => c.expiresAt.getTime()))));

    const reports = await Promise.all([first, ...others].map((h) => h.service.reap()));
    const reaped = reports.flatMap((r) => r.results.flatMap((x) => x.reaped.map((y) => y.role)));
    expect(reports.flatMap((r) => [...r.errors, ...r.results.flatMap((x) => x.failed)])).toEqual([]);
    expect(sorted(reaped)).toEqual(sorted(issued.map((c) => c.username)));
    const expired = (await first.catalog.readAudit({ event: 'expire' })).map((e) => e.roleName);
    expect(sorted(expired)).toEqual(sorted(issued.map((c) => c.username)));
  });

  it('two reapers recording the same roles, already dropped by another process, write each expiry once', async () => {
    const first = await openService(cluster, 'gone');
    handles.push(first);
    await first.service.applyResource(targetConfig(cluster, 'main', 'appdb'));
    await first.service.applyAuthorization({ name: 'read', resourceType: 'postgresql', permissions: READ });
    await first.service.applyEndpoint({ name: 'gone-read', type: 'direct', ttlSeconds: 2, resource: 'main', authorization: 'read' });
    const members = Array.from({ length: 4 }, (_, i) => `g${i}@example.com`);
    const { issued } = await first.service.applyGroup({ name: 'gone', members, endpoints: ['gone-read'] }, new Set());
    const second = await reopenService(cluster, first);
    handles.push(second);
    await untilInstant(new Date(Math.max(...issued.map((c) => c.expiresAt.getTime()))));
    // A third reaper dropped the roles and has not recorded it yet: both passes find expired
    // records whose roles are gone. Their records are held locked, so that both passes reach
    // the recording transaction before either commits.
    const roles = issued.map((c) => c.username);
    await sql(cluster, 'appdb', roles.map((role) => `drop role "${role}"`).join('; '));
    const locker = new Client(cluster.clientConfig(first.db));
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from adaptive.credentials where role_name = any($1::text[]) for update', [roles]);
      const passes = Promise.all([first, second].map((h) => h.service.reap()));
      await untilLockWaiters(cluster, first.db, 2);
      await locker.query('commit');
      const reports = await passes;
      expect(reports.flatMap((r) => [...r.errors, ...r.results.flatMap((x) => x.failed)])).toEqual([]);
    } finally {
      await locker.end();
    }
    const expired = (await first.catalog.readAudit({ event: 'expire' })).map((e) => e.roleName);
    expect(sorted(expired)).toEqual(sorted(roles));
    expect(await first.catalog.liveCredentials()).toEqual([]);
  });
});

