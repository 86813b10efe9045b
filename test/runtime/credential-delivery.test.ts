/**
 * Groups' credential delivery in the access service: `secrets_manager` writes one secret
 * per member x endpoint through the real AWS SDK (against the local fake speaking the
 * service's protocol) and deletes it without recovery when the credential is revoked or
 * reaped; `none` issues no standing credential. A secret that cannot be written rolls the
 * issue back; one that cannot be deleted keeps its record live until a later pass deletes it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import type { GroupDelivery } from '../../src/runtime/catalog';
import { memberSecretName } from '../../src/runtime/validation/delivery';
import { pairKey, type MemberCredential } from '../../src/runtime/service';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { startSecretsManager, type SecretsManagerFixture } from '../fixtures/secrets-manager';
import {
  APP_SCHEMA_SQL,
  createDatabase,
  credentialRows,
  loginResult,
  managedLoginRoles,
  serviceWithEndpoint,
  sql,
  untilServerPasses,
  type ServiceHandle,
} from './service-fixture';

const AWS_ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
const HOUR = 3600;

interface SecretJson {
  username: string;
  password: string;
  engine: string;
  host: string;
  port: number;
  dbname: string;
  expires_at: string;
  uri: string;
  ca_cert: string | null;
}

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let sm: SecretsManagerFixture;
  const handles: ServiceHandle[] = [];
  const savedEnv = new Map<string, string | undefined>();
  let seq = 0;

  beforeAll(async () => {
    for (const name of AWS_ENV) savedEnv.set(name, process.env[name]);
    [cluster, sm] = await Promise.all([startPostgres(binaries), startSecretsManager({ region: 'eu-west-3' })]);
    // The SDK's default chain: what the reaper and the provider use to write and delete.
    process.env.AWS_ACCESS_KEY_ID = sm.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = sm.secretAccessKey;
    delete process.env.AWS_PROFILE;
    await createDatabase(cluster, 'appdb');
    await sql(cluster, 'appdb', APP_SCHEMA_SQL);
  });
  afterEach(async () => {
    sm.refuseDeletes(false);
    sm.refuseCreates(null);
    await Promise.all(handles.splice(0).map((h) => h.service.close()));
  });
  afterAll(async () => {
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all([cluster?.stop(), sm?.close()]);
  });

  /** A fresh catalog with one endpoint, and a delivery to a prefix of its own. */
  async function fresh(ttlSeconds = HOUR) {
    const tag = `d${++seq}`;
    const h = await serviceWithEndpoint(cluster, handles, `ep-${tag}`, ttlSeconds);
    const delivery: GroupDelivery = { mode: 'secrets_manager', secretPrefix: `adaptive/${tag}/`, region: sm.region, endpoint: sm.endpoint };
    return { ...h, tag, delivery, prefix: `adaptive/${tag}/` };
  }

  function secretJson(name: string): SecretJson | undefined {
    const s = sm.secret(name);
    return s ? (JSON.parse(s.value) as SecretJson) : undefined;
  }

  /** The credential a secret describes, to log in with. */
  function fromSecret(s: SecretJson, member: string, endpoint: string): MemberCredential {
    return { member, endpoint, username: s.username, password: s.password, host: s.host, port: s.port, database: s.dbname, sslmode: 'disable', caCert: s.ca_cert, expiresAt: new Date(s.expires_at) };
  }

  function deletes(): Array<{ SecretId: string; ForceDeleteWithoutRecovery?: boolean }> {
    return sm.requests.filter((r) => r.target === 'secretsmanager.DeleteSecret').map((r) => r.body as { SecretId: string; ForceDeleteWithoutRecovery?: boolean });
  }

  it('secrets_manager writes one secret per pair in the seed format, with expires_at and uri, and hands back no password', async () => {
    const h = await fresh();
    const members = ['ann@example.com', 'o=brien+ops@example.com'];
    const result = await h.service.applyGroup({ name: `g-${h.tag}`, members, endpoints: [h.endpoint], delivery: h.delivery }, new Set());
    expect(result.issued.map((c) => c.password)).toEqual([null, null]);
    expect(result.delivered.map((d) => d.member).sort()).toEqual(members);
    const names = members.map((m) => memberSecretName(h.prefix, `g-${h.tag}`, m, h.endpoint));
    expect(names[1]).toBe(`${h.prefix}g-${h.tag}/o=3Dbrien+ops@example.com/${h.endpoint}`);
    for (const [i, member] of members.entries()) {
      const json = secretJson(names[i]!)!;
      const issued = result.issued.find((c) => c.member === member)!;
      expect(Object.keys(json).sort()).toEqual(['ca_cert', 'dbname', 'engine', 'expires_at', 'host', 'password', 'port', 'uri', 'username']);
      // A target without tls_root_cert: no CA to hand on.
      expect(json).toMatchObject({ username: issued.username, engine: 'postgres', host: cluster.host, port: cluster.port, dbname: 'appdb', ca_cert: null, expires_at: issued.expiresAt.toISOString() });
      expect(json.uri).toBe(`postgresql://${encodeURIComponent(json.username)}:${encodeURIComponent(json.password)}@${cluster.host}:${cluster.port}/appdb?sslmode=disable`);
      expect(await loginResult(fromSecret(json, member, h.endpoint))).toBe('ok');
      expect(sm.secret(names[i]!)!.tags).toMatchObject({ 'adaptive-access:member': member, 'adaptive-access:group': `g-${h.tag}` });
      expect(result.delivered.find((d) => d.member === member)!.arn).toBe(sm.secret(names[i]!)!.arn);
    }
    const rows = await sql<{ delivered_to: { secrets_manager: { arn: string; region: string } } }>(cluster, h.db, 'select delivered_to from adaptive.credentials order by member');
    expect(rows.map((r) => r.delivered_to.secrets_manager.arn)).toEqual(names.map((n) => sm.secret(n)!.arn));
    // Applying again with the pairs held keeps them: nothing rewritten.
    const creates = sm.requests.filter((r) => r.target === 'secretsmanager.CreateSecret').length;
    const again = await h.service.applyGroup({ name: `g-${h.tag}`, members, endpoints: [h.endpoint], delivery: h.delivery }, new Set(members.map((m) => pairKey(m, h.endpoint))));
    expect(again.issued).toEqual([]);
    expect(again.delivered.map((d) => d.arn).sort()).toEqual(names.map((n) => sm.secret(n)!.arn).sort());
    expect(sm.requests.filter((r) => r.target === 'secretsmanager.CreateSecret').length).toBe(creates);
  });

  it('a member removed loses the secret (deleted without recovery), and destroying the group deletes the rest', async () => {
    const h = await fresh();
    const group = `g-${h.tag}`;
    await h.service.applyGroup({ name: group, members: ['ann@example.com', 'bob@example.com'], endpoints: [h.endpoint], delivery: h.delivery }, new Set());
    const ann = memberSecretName(h.prefix, group, 'ann@example.com', h.endpoint);
    const bob = memberSecretName(h.prefix, group, 'bob@example.com', h.endpoint);
    const bobSecret = secretJson(bob)!;
    const bobArn = sm.secret(bob)!.arn;
    const result = await h.service.applyGroup({ name: group, members: ['ann@example.com'], endpoints: [h.endpoint], delivery: h.delivery }, new Set([pairKey('ann@example.com', h.endpoint)]));
    expect(result.revoked).toEqual([bobSecret.username]);
    expect(sm.secret(bob)).toBeUndefined();
    expect(deletes()).toContainEqual({ SecretId: bobArn, ForceDeleteWithoutRecovery: true });
    expect(await loginResult(fromSecret(bobSecret, 'bob@example.com', h.endpoint))).not.toBe('ok');
    expect(sm.secret(ann)).toBeDefined();

    await h.service.removeGroup(group);
    expect(sm.secretNames().filter((n) => n.startsWith(h.prefix))).toEqual([]);
    expect((await credentialRows(cluster, h.db)).filter((r) => r.revoked_at === null)).toEqual([]);
  });

  it('a secret that cannot be deleted keeps its credential recorded live, and the next try deletes it', async () => {
    const h = await fresh();
    const group = `g-${h.tag}`;
    await h.service.applyGroup({ name: group, members: ['ann@example.com'], endpoints: [h.endpoint], delivery: h.delivery }, new Set());
    const name = memberSecretName(h.prefix, group, 'ann@example.com', h.endpoint);
    const role = secretJson(name)!.username;
    sm.refuseDeletes(true);
    await expect(h.service.removeGroup(group)).rejects.toThrow(/could not revoke 1 credential.*secret arn:aws:secretsmanager:.* could not be deleted \(AccessDeniedException/s);
    expect(sm.secret(name)).toBeDefined();
    expect(await h.catalog.getGroup(group)).toBeDefined();
    expect((await credentialRows(cluster, h.db)).filter((r) => r.revoked_at === null).map((r) => r.role_name)).toEqual([role]);
    expect(await managedLoginRoles(cluster)).not.toContain(role);
    sm.refuseDeletes(false);
    await h.service.removeGroup(group);
    expect(sm.secret(name)).toBeUndefined();
    expect((await credentialRows(cluster, h.db)).find((r) => r.role_name === role)!.revoke_reason).toBe('group destroyed');
  });

  it('a secret that cannot be written rolls the issue back: no role, no secret, no live record', async () => {
    const h = await fresh();
    const group = `g-${h.tag}`;
    const before = await managedLoginRoles(cluster);
    sm.refuseCreates(`${h.prefix}${group}/bob`);
    await expect(
      h.service.applyGroup({ name: group, members: ['ann@example.com', 'bob@example.com'], endpoints: [h.endpoint], delivery: h.delivery }, new Set()),
    ).rejects.toThrow(/could not write the secret "adaptive\/d\d+\/g-d\d+\/bob@example.com\/ep-d\d+".*AccessDeniedException/);
    expect(sm.secretNames().filter((n) => n.startsWith(h.prefix))).toEqual([]);
    expect(await managedLoginRoles(cluster)).toEqual(before);
    expect((await credentialRows(cluster, h.db)).filter((r) => r.revoked_at === null)).toEqual([]);
    expect(await h.catalog.getGroup(group)).toBeUndefined();
  });

  it('the reaper deletes the secret at expiry; one it cannot delete stays live for the next pass', async () => {
    const h = await fresh(3);
    const group = `g-${h.tag}`;
    const result = await h.service.applyGroup({ name: group, members: ['ann@example.com', 'bob@example.com'], endpoints: [h.endpoint], delivery: h.delivery }, new Set());
    const ann = memberSecretName(h.prefix, group, 'ann@example.com', h.endpoint);
    const bob = memberSecretName(h.prefix, group, 'bob@example.com', h.endpoint);
    const bobArn = sm.secret(bob)!.arn;
    await untilServerPasses(cluster, result.issued[0]!.expiresAt);
    sm.refuseDeletes(true);
    const failing = await h.service.reap();
    expect(failing.errors.map((e) => e.error).join('\n')).toMatch(/could not be deleted \(AccessDeniedException/);
    expect(sm.secret(ann)).toBeDefined();
    expect(sm.secret(bob)).toBeDefined();
    expect((await credentialRows(cluster, h.db)).filter((r) => r.revoked_at === null)).toHaveLength(2);
    sm.refuseDeletes(false);
    const pass = await h.service.reap();
    expect(pass.errors).toEqual([]);
    expect(sm.secret(ann)).toBeUndefined();
    expect(sm.secret(bob)).toBeUndefined();
    expect(deletes()).toContainEqual({ SecretId: bobArn, ForceDeleteWithoutRecovery: true });
    expect((await credentialRows(cluster, h.db)).map((r) => r.revoke_reason)).toEqual(['expired', 'expired']);
  });

  it('none issues no standing credential; state -> none revokes them, none -> state and -> secrets_manager issue them', async () => {
    const h = await fresh();
    const group = `g-${h.tag}`;
    const spec = { name: group, members: ['ann@example.com'], endpoints: [h.endpoint] };
    const before = await managedLoginRoles(cluster);
    const none = await h.service.applyGroup({ ...spec, delivery: { mode: 'none' } }, new Set());
    expect(none.issued).toEqual([]);
    expect(await managedLoginRoles(cluster)).toEqual(before);
    expect((await h.catalog.getGroup(group))!.delivery).toEqual({ mode: 'none' });

    const state = await h.service.applyGroup({ ...spec, delivery: { mode: 'state' } }, new Set());
    expect(state.issued).toHaveLength(1);
    expect(state.issued[0]!.password).toEqual(expect.any(String));
    expect(await loginResult(state.issued[0]!)).toBe('ok');

    // To secrets_manager, with the pair held in state: it is issued again, into a secret.
    const held = new Set([pairKey('ann@example.com', h.endpoint)]);
    const moved = await h.service.applyGroup({ ...spec, delivery: h.delivery }, held);
    expect(moved.issued).toHaveLength(1);
    expect(moved.issued[0]!.password).toBeNull();
    expect(await loginResult(state.issued[0]!)).not.toBe('ok');
    const secret = secretJson(memberSecretName(h.prefix, group, 'ann@example.com', h.endpoint))!;
    expect(await loginResult(fromSecret(secret, 'ann@example.com', h.endpoint))).toBe('ok');

    const back = await h.service.applyGroup({ ...spec, delivery: { mode: 'none' } }, held);
    expect(back.issued).toEqual([]);
    expect(back.kept).toEqual([]);
    expect(back.revoked).toEqual([secret.username]);
    expect(sm.secretNames().filter((n) => n.startsWith(h.prefix))).toEqual([]);
    expect(await managedLoginRoles(cluster)).toEqual(before);
    expect((await credentialRows(cluster, h.db)).map((r) => r.revoke_reason)).toEqual(['replaced', 'delivery changed']);
  });
  it("on-demand credentials never count as a pair's standing one, and a member removed loses them too", async () => {
    const h = await fresh();
    const group = `g-${h.tag}`;
    const spec = { name: group, endpoints: [h.endpoint], delivery: { mode: 'none' } as GroupDelivery };
    await h.service.applyGroup({ ...spec, members: ['ann@example.com', 'bob@example.com'] }, new Set());
    // As an on-demand issue records them (their roles are already gone here: revoking succeeds at once).
    const onDemand = (member: string, suffix: string) => ({
      roleName: `${member}/${h.endpoint}~${suffix}`,
      resource: 'main',
      endpoint: h.endpoint,
      group,
      member,
      grantedAt: new Date(),
      expiresAt: new Date(Date.now() + 600_000),
      kind: 'ephemeral' as const,
      notAfter: new Date(Date.now() + 600_000),
    });
    await h.catalog.recordIssued([onDemand('ann@example.com', 'a1'), onDemand('bob@example.com', 'b1')]);
    const state = await h.service.applyGroup({ ...spec, members: ['ann@example.com'], delivery: { mode: 'state' } }, new Set([pairKey('ann@example.com', h.endpoint)]));
    // ann's pair is held, but only by an on-demand credential: it has no standing one, so it is lost, not kept.
    expect(state.kept).toEqual([]);
    expect(state.revoked).toEqual([`bob@example.com/${h.endpoint}~b1`]);
    const rows = await sql<{ role_name: string; revoke_reason: string | null }>(cluster, h.db, "select role_name, revoke_reason from adaptive.credentials where kind = 'ephemeral' order by role_name");
    expect(rows).toEqual([
      { role_name: `ann@example.com/${h.endpoint}~a1`, revoke_reason: null },
      { role_name: `bob@example.com/${h.endpoint}~b1`, revoke_reason: 'member removed' },
    ]);
    await h.service.removeGroup(group);
    expect((await credentialRows(cluster, h.db)).filter((r) => r.revoked_at === null)).toEqual([]);
  });
});
