/**
 * adaptive_group's state of schema version 0, where `credentials` and `secrets` were lists,
 * upgraded to the maps keyed `<endpoint>/<member>` of version 1 (the e2e test in
 * test/e2e/groups-and-endpoints.test.ts does the same through Terraform, for credentials).
 */
import { describe, expect, it } from 'vitest';
import { adaptiveGroup } from '../../src/resources/adaptive-group';

const upgrade = (state: Record<string, unknown>) => adaptiveGroup.definition.upgradeState!({ fromVersion: 0, state });

const secret = (member: string, endpoint: string) => ({ member, endpoint, arn: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${endpoint}/${member}`, expires_at: '2030-01-01T00:00:00.000Z' });

describe('adaptive_group state from schema version 0', () => {
  it('is version 1', () => {
    expect(adaptiveGroup.schema.version).toBe(1);
  });

  it('turns the secrets list into a map keyed <endpoint>/<member>, keeping every other attribute', async () => {
    const ann = secret('ann@company.com', 'orders-read');
    const bob = secret('bob@company.com', 'orders-read');
    const upgraded = await upgrade({ id: 'team', name: 'team', members: ['ann@company.com', 'bob@company.com'], credentials: [], secrets: [ann, bob], drift: [] });
    expect(upgraded).toEqual({
      id: 'team',
      name: 'team',
      members: ['ann@company.com', 'bob@company.com'],
      credentials: {},
      secrets: { 'orders-read/ann@company.com': ann, 'orders-read/bob@company.com': bob },
      drift: [],
    });
  });

  it('keeps null lists null', async () => {
    expect(await upgrade({ id: 'team', credentials: null, secrets: null })).toEqual({ id: 'team', credentials: null, secrets: null });
  });

  it('refuses an element without its member and endpoint, saying why', async () => {
    await expect(async () => upgrade({ id: 'team', credentials: [], secrets: [{ arn: 'x' }] })).rejects.toMatchObject({
      message: 'Cannot upgrade adaptive_group state',
      detail: expect.stringContaining('without its member and endpoint') as unknown,
    });
    await expect(async () => upgrade({ id: 'team', credentials: 'not a list', secrets: [] })).rejects.toMatchObject({
      message: 'Cannot upgrade adaptive_group state',
      detail: expect.stringContaining('not a list') as unknown,
    });
  });
});
