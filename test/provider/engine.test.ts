/**
 * The framework's RPC logic, driven directly with msgpack messages as Terraform sends them:
 * schemas, validation with attribute paths, planning (unknowns, defaults, plan modifiers,
 * replacement), apply (null-filling, consistency with the plan, errors as diagnostics),
 * read, import, state upgrades from JSON, and StopProvider.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProviderEngine, type Message } from '../../src/provider/engine';
import { createLogger, Redactor } from '../../src/provider/log';
import {
  attr,
  defineProvider,
  defineResource,
  requiresReplace,
  ResourceError,
  types,
  type Provider,
} from '../../src/provider';
import { decodeMsgpack, encodeMsgpack, isUnknown, UNKNOWN, type TfType } from '../../src/provider/values';
import { toyProvider } from './toy/provider';
import { cleanup, tempDir } from './support';

const dirs: string[] = [];
afterAll(() => cleanup(...dirs));

function engineFor(provider: Provider, level: 'trace' | undefined = undefined) {
  const lines: string[] = [];
  const redactor = new Redactor();
  const logger = createLogger({ level, module: provider.typeName, sink: (l) => lines.push(l), redactor });
  return { engine: new ProviderEngine(provider, { logger, redactor }), lines };
}

function objectTypeOf(provider: Provider, typeName: string): TfType {
  const resource = provider.resources.get(typeName);
  if (!resource) throw new Error(typeName);
  return ['object', Object.fromEntries(Object.entries(resource.schema.attributes).map(([n, a]) => [n, a.type]))];
}

const toy = toyProvider();
const toyType = objectTypeOf(toy, 'toy_file');
const dv = (value: unknown, type: TfType = toyType) => ({ msgpack: encodeMsgpack(type, value) });
const state = (message: unknown, type: TfType = toyType) => decodeMsgpack(type, (message as { msgpack: Uint8Array }).msgpack) as Record<string, unknown> | null;
const diags = (response: Message) => response.diagnostics as { severity: number; summary: string; detail?: string; attribute?: { steps: Record<string, unknown>[] } }[];

/** A full toy config with everything unset but what is given. */
function toyConfig(values: Record<string, unknown>): Record<string, unknown> {
  return { id: null, name: null, content: null, secret: null, tags: null, mode: null, size: null, created_at: null, fail_on_create: null, gate: null, warn: null, ...values };
}

async function configured(provider: Provider = toy, level?: 'trace') {
  const dir = tempDir('toy-engine-');
  dirs.push(dir);
  const e = engineFor(provider, level);
  const response = await e.engine.handle('ConfigureProvider', { terraform_version: '1.11.4', config: dv({ directory: dir }, ['object', { directory: 'string' }]) });
  expect(diags(response)).toEqual([]);
  return { ...e, dir };
}

describe('schema', () => {
  it('describes every attribute with its type, flags and description', async () => {
    const { engine } = engineFor(toy);
    const response = await engine.handle('GetProviderSchema', {});
    const schemas = response.resource_schemas as Record<string, { version: number; block: { attributes: Record<string, unknown>[] } }>;
    const file = schemas.toy_file;
    expect(file?.version).toBe(1);
    const byName: Record<string, Record<string, unknown>> = Object.fromEntries((file?.block.attributes ?? []).map((a) => [String(a.name), a]));
    expect(Object.keys(byName).sort()).toEqual(['content', 'created_at', 'fail_on_create', 'gate', 'id', 'mode', 'name', 'secret', 'size', 'tags', 'warn']);
    expect(byName.secret).toMatchObject({ sensitive: true, optional: true });
    expect(byName.id).toMatchObject({ computed: true, required: false });
    expect(Buffer.from(byName.tags?.type as Uint8Array).toString()).toBe('["map","string"]');
    for (const a of file?.block.attributes ?? []) expect(a.description).not.toBe('');
    const metadata = await engine.handle('GetMetadata', {});
    expect(metadata.resources).toEqual([{ type_name: 'toy_file' }, { type_name: 'toy_account' }]);
  });

  it('advertises get_provider_schema_optional in GetMetadata and GetProviderSchema', async () => {
    // Terraform then serves later plugin processes of a command from its schema cache
    // instead of asking each one for the whole schema again.
    const { engine } = engineFor(toy);
    for (const rpc of ['GetMetadata', 'GetProviderSchema'] as const) {
      expect((await engine.handle(rpc, {})).server_capabilities).toMatchObject({ get_provider_schema_optional: true });
    }
  });

  it('refuses unsound declarations when the resource is defined', () => {
    expect(() =>
      defineResource({
        typeName: 'bad_thing',
        schema: { description: 'x', attributes: { name: attr.string({ required: true, description: '' }) } },
        create: () => ({}),
        read: () => null,
        delete: () => undefined,
      }),
    ).toThrow(/every attribute needs a description/);
    expect(() =>
      defineResource({
        typeName: 'bad_thing',
        schema: { description: 'x', attributes: { mode: attr.string({ optional: true, default: 'a', description: 'd' }) } },
        create: () => ({}),
        read: () => null,
        delete: () => undefined,
      }),
    ).toThrow(/a default needs optional and computed/);
    expect(() => defineProvider({ typeName: 'other', version: '1.0.0', schema: { description: 'x', attributes: {} }, configure: () => undefined, resources: toy.definition.resources })).toThrow(
      /must start with the provider name/,
    );
  });
});

describe('validation', () => {
  it('points at the attribute a validator rejects', async () => {
    const { engine } = engineFor(toy);
    const response = await engine.handle('ValidateResourceConfig', { type_name: 'toy_file', config: dv(toyConfig({ name: 'Bad Name', mode: 'xx' })) });
    const d = diags(response);
    expect(d).toHaveLength(2);
    expect(d[0]).toMatchObject({ severity: 1, summary: 'Invalid value for "name"', attribute: { steps: [{ attribute_name: 'name' }] } });
    expect(d[0]?.detail).toContain('lower case letters');
    expect(d[1]).toMatchObject({ summary: 'Invalid value for "mode"', attribute: { steps: [{ attribute_name: 'mode' }] } });
  });

  it('skips unknown values and runs the resource-level check', async () => {
    const { engine } = engineFor(toy);
    expect(diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_file', config: dv(toyConfig({ name: UNKNOWN })) }))).toEqual([]);
    const d = diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_file', config: dv(toyConfig({ name: 'ok', content: 'forbidden' })) }));
    expect(d).toEqual([{ severity: 1, summary: 'Forbidden content', detail: 'Pick another value.', attribute: { steps: [{ attribute_name: 'content' }] } }]);
  });

  it('passes warnings through, with their paths, next to errors', async () => {
    const provider = defineProvider({
      typeName: 'warn',
      version: '1.0.0',
      schema: { description: 'W.', attributes: {} },
      configure: () => ({}),
      resources: [
        defineResource({
          typeName: 'warn_thing',
          schema: {
            description: 'W.',
            attributes: {
              old: attr.string({ optional: true, description: 'Old.', deprecated: 'Use "new" instead.' }),
              ttl: attr.list('string', {
                optional: true,
                description: 'Durations.',
                validators: [(v) => v.map((d, i) => ({ severity: 'warning' as const, summary: 'Long duration', detail: d, path: [i] }))],
              }),
            },
          },
          create: () => ({}),
          read: () => null,
          delete: () => undefined,
        }),
      ],
    });
    const { engine } = engineFor(provider);
    const type: TfType = ['object', { old: 'string', ttl: ['list', 'string'] }];
    const d = diags(await engine.handle('ValidateResourceConfig', { type_name: 'warn_thing', config: dv({ old: 'x', ttl: ['1d', '30d'] }, type) }));
    expect(d).toEqual([
      { severity: 2, summary: 'Attribute "old" is deprecated', detail: 'Use "new" instead.', attribute: { steps: [{ attribute_name: 'old' }] } },
      { severity: 2, summary: 'Long duration', detail: '1d', attribute: { steps: [{ attribute_name: 'ttl' }, { element_key_int: 0 }] } },
      { severity: 2, summary: 'Long duration', detail: '30d', attribute: { steps: [{ attribute_name: 'ttl' }, { element_key_int: 1 }] } },
    ]);
  });

  it('answers an unknown resource type with a diagnostic', async () => {
    const { engine } = engineFor(toy);
    const d = diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_nope', config: dv({}) }));
    expect(d[0]).toMatchObject({ severity: 1, summary: 'Unknown resource type' });
  });
});

describe('planning', () => {
  const prior = toyConfig({ id: 'abc123abc123', name: 'one', content: 'hi', mode: 'rw', size: 2, created_at: '2024-01-01T00:00:00Z' });

  it('plans a create with computed attributes unknown and defaults applied', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'one', content: 'hi' });
    const response = await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) });
    const planned = state(response.planned_state);
    expect(isUnknown(planned?.id)).toBe(true);
    expect(isUnknown(planned?.size)).toBe(true);
    expect(isUnknown(planned?.created_at)).toBe(true);
    expect(planned?.mode).toBe('rw');
    expect(planned?.name).toBe('one');
    expect(response.requires_replace).toEqual([]);
  });

  it('plans no change when nothing changed', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'one', content: 'hi' });
    // Terraform's proposed state: configured values, computed ones carried from prior state.
    const proposed = { ...prior };
    const response = await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) });
    expect(state(response.planned_state)).toEqual(prior);
  });

  it('keeps use-state-for-unknown attributes and marks the others unknown on update', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'one', content: 'changed' });
    const proposed = { ...prior, content: 'changed' };
    const response = await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) });
    const planned = state(response.planned_state);
    expect(planned).toMatchObject({ id: 'abc123abc123', created_at: '2024-01-01T00:00:00Z', content: 'changed' });
    expect(isUnknown(planned?.size)).toBe(true);
    expect(response.requires_replace).toEqual([]);
  });

  it('asks for replacement when a requires-replace attribute changes', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'two', content: 'hi' });
    const proposed = { ...prior, name: 'two' };
    const response = await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) });
    expect(response.requires_replace).toEqual([{ steps: [{ attribute_name: 'name' }] }]);
  });

  it('plans a destroy as the null object', async () => {
    const { engine } = await configured();
    const response = await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(prior), proposed_new_state: dv(null), config: dv(null) });
    expect(state(response.planned_state)).toBeNull();
  });
});

describe('apply, read and import', () => {
  it('creates, returning every attribute, then reads, updates and deletes', async () => {
    const { engine, dir } = await configured();
    const config = toyConfig({ name: 'one', content: 'hello', secret: 'top-secret-1' });
    const plan = state((await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) })).planned_state);
    const applied = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv(plan), config: dv(config) });
    expect(diags(applied)).toEqual([]);
    const created = state(applied.new_state);
    expect(created).toMatchObject({ name: 'one', content: 'hello', secret: 'top-secret-1', mode: 'rw', size: 5, fail_on_create: null, gate: null });
    expect(created?.id).toMatch(/^[0-9a-f]{12}$/);
    expect(Object.keys(created ?? {})).toHaveLength(11);
    expect(existsSync(path.join(dir, `${String(created?.id)}.json`))).toBe(true);

    const read = await engine.handle('ReadResource', { type_name: 'toy_file', current_state: dv(created) });
    expect(state(read.new_state)).toEqual(created);

    const updatedConfig = { ...config, content: 'bye' };
    const updatePlan = state(
      (await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(created), proposed_new_state: dv({ ...created, content: 'bye' }), config: dv(updatedConfig) })).planned_state,
    );
    const updated = state((await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(created), planned_state: dv(updatePlan), config: dv(updatedConfig) })).new_state);
    expect(updated).toMatchObject({ id: created?.id, content: 'bye', size: 3, created_at: created?.created_at });

    const deleted = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(updated), planned_state: dv(null), config: dv(null) });
    expect(state(deleted.new_state)).toBeNull();
    expect(existsSync(path.join(dir, `${String(created?.id)}.json`))).toBe(false);

    // Gone: read says so with a null state.
    expect(state((await engine.handle('ReadResource', { type_name: 'toy_file', current_state: dv(updated) })).new_state)).toBeNull();
  });

  it('turns a throwing create into an error diagnostic and records nothing', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'one', fail_on_create: true });
    const plan = { ...config, id: UNKNOWN, mode: 'rw', size: UNKNOWN, created_at: UNKNOWN };
    const applied = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv(plan), config: dv(config) });
    expect(diags(applied)).toEqual([{ severity: 1, summary: 'Failed to create toy_file', detail: 'the toy was told to fail' }]);
    expect(state(applied.new_state)).toBeNull();
  });

  it('passes the warnings create, update and delete report to Terraform, at their attribute', async () => {
    const { engine } = await configured();
    const at = { steps: [{ attribute_name: 'warn' }] };
    const config = toyConfig({ name: 'one', content: 'hello', warn: 'look here' });
    const plan = state((await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) })).planned_state);
    const created = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv(plan), config: dv(config) });
    expect(diags(created)).toEqual([{ severity: 2, summary: 'Toy warning', detail: 'create: look here', attribute: at }]);
    const createdState = state(created.new_state);
    expect(createdState).toMatchObject({ name: 'one', content: 'hello', warn: 'look here' });

    const updatedConfig = { ...config, warn: 'and here' };
    const updatePlan = state(
      (await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(createdState), proposed_new_state: dv({ ...createdState, warn: 'and here' }), config: dv(updatedConfig) }))
        .planned_state,
    );
    const updated = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(createdState), planned_state: dv(updatePlan), config: dv(updatedConfig) });
    expect(diags(updated)).toEqual([{ severity: 2, summary: 'Toy warning', detail: 'update: and here', attribute: at }]);
    const updatedState = state(updated.new_state);
    expect(updatedState).toMatchObject({ id: createdState?.id, warn: 'and here' });

    const deleted = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(updatedState), planned_state: dv(null), config: dv(null) });
    expect(diags(deleted)).toEqual([{ severity: 2, summary: 'Toy warning', detail: 'delete: and here', attribute: at }]);
    expect(state(deleted.new_state)).toBeNull();
  });

  it('keeps a warning reported before a failure, ahead of the error, and masks secrets in it', async () => {
    const { engine } = await configured();
    const config = toyConfig({ name: 'one', fail_on_create: true, secret: 'hush-7731', warn: 'the secret is hush-7731' });
    const plan = { ...config, id: UNKNOWN, mode: 'rw', size: UNKNOWN, created_at: UNKNOWN };
    const applied = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv(plan), config: dv(config) });
    expect(diags(applied)).toEqual([
      { severity: 2, summary: 'Toy warning', detail: 'create: the secret is (sensitive value)', attribute: { steps: [{ attribute_name: 'warn' }] } },
      { severity: 1, summary: 'Failed to create toy_file', detail: 'the toy was told to fail' },
    ]);
    expect(state(applied.new_state)).toBeNull();
  });

  it('reports an unconfigured provider as a diagnostic, not a crash', async () => {
    const { engine } = engineFor(toy);
    const config = toyConfig({ name: 'one' });
    const applied = await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv({ ...config, id: UNKNOWN }), config: dv(config) });
    expect(diags(applied)[0]?.detail).toMatch(/not been configured/);
  });

  it('imports by id, leaving the rest to read', async () => {
    const { engine } = await configured();
    const bad = await engine.handle('ImportResourceState', { type_name: 'toy_file', id: 'nope' });
    expect(diags(bad)[0]).toMatchObject({ summary: 'Invalid import id' });
    const good = await engine.handle('ImportResourceState', { type_name: 'toy_file', id: '0123456789ab' });
    const imported = good.imported_resources as { type_name: string; state: unknown }[];
    expect(imported[0]?.type_name).toBe('toy_file');
    expect(state(imported[0]?.state)).toEqual(toyConfig({ id: '0123456789ab' }));
  });

  it('never logs sensitive values, even when resource code does', async () => {
    const { engine, lines } = await configured(toy, 'trace');
    const config = toyConfig({ name: 'one', secret: 'never-in-the-log' });
    const plan = state((await engine.handle('PlanResourceChange', { type_name: 'toy_file', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) })).planned_state);
    await engine.handle('ApplyResourceChange', { type_name: 'toy_file', prior_state: dv(null), planned_state: dv(plan), config: dv(config) });
    const log = lines.join('');
    expect(log).toContain('toy created'); // the toy logs the secret on purpose
    expect(log).toContain('(sensitive value)');
    expect(log).not.toContain('never-in-the-log');
  });
});

describe('custom resources', () => {
  const thingSchema = {
    description: 'A thing.',
    attributes: {
      id: attr.string({ computed: true, description: 'Id.' }),
      name: attr.string({ required: true, description: 'Name.', planModifiers: [requiresReplace()] }),
      amount: attr.number({ optional: true, description: 'Amount.' }),
    },
  } as const;
  const thingType: TfType = ['object', { id: 'string', name: 'string', amount: 'number' }];

  function thingProvider(behaviour: { create: () => unknown }): Provider {
    return defineProvider({
      typeName: 'test',
      version: '1.0.0',
      schema: { description: 'Test.', attributes: {} },
      configure: () => ({}),
      resources: [
        defineResource({
          typeName: 'test_thing',
          schema: thingSchema,
          create: () => behaviour.create() as never,
          read: ({ state }) => state,
          delete: () => undefined,
        }),
      ],
    });
  }

  async function applyCreate(provider: Provider) {
    const { engine } = await configured(provider);
    const config = { id: null, name: 'n', amount: null };
    return engine.handle('ApplyResourceChange', { type_name: 'test_thing', prior_state: dv(null, thingType), planned_state: dv({ ...config, id: UNKNOWN }, thingType), config: dv(config, thingType) });
  }

  it('records the partial state a resource reports with its error', async () => {
    const response = await applyCreate(
      thingProvider({
        create: () => {
          throw new ResourceError('Half done', { detail: 'the grant failed', state: { id: 'made-1' } });
        },
      }),
    );
    expect(diags(response)).toEqual([{ severity: 1, summary: 'Half done', detail: 'the grant failed' }]);
    expect(state(response.new_state, thingType)).toEqual({ id: 'made-1', name: 'n', amount: null });
  });

  it('rejects a result of the wrong type with a diagnostic naming the attribute', async () => {
    const response = await applyCreate(thingProvider({ create: () => ({ id: 42 }) }));
    expect(diags(response)[0]).toMatchObject({ summary: 'Invalid result from the resource', attribute: { steps: [{ attribute_name: 'id' }] } });
  });

  it('turns a computed attribute the resource left unset into null, not unknown', async () => {
    const response = await applyCreate(thingProvider({ create: () => ({}) }));
    expect(state(response.new_state, thingType)).toEqual({ id: null, name: 'n', amount: null });
  });

  it('survives a resource that throws a non-Error', async () => {
    const response = await applyCreate(
      thingProvider({
        create: () => {
          throw 'a string'; // eslint-disable-line @typescript-eslint/only-throw-error
        },
      }),
    );
    expect(diags(response)).toEqual([{ severity: 1, summary: 'Failed to create test_thing', detail: 'a string' }]);
  });
});

describe('secrets in diagnostics', () => {
  const loginSchema = {
    description: 'A login.',
    attributes: {
      id: attr.string({ computed: true, description: 'Id.' }),
      name: attr.string({ required: true, description: 'Name.', validators: [(value: string) => (value.startsWith('bad') ? `"${value}" is refused` : undefined)] }),
      password: attr.string({
        optional: true,
        sensitive: true,
        description: 'Password.',
        validators: [(value: string) => (value.length < 12 ? `the password "${value}" is too short` : undefined)],
      }),
    },
  } as const;
  const loginType: TfType = ['object', { id: 'string', name: 'string', password: 'string' }];
  // A password with every character JSON or a URL escapes.
  const password = `pw"with\\all'of\nthem%`;

  /** A provider whose create fails as `fail` says; `source` stands for a runtime's registry of secrets. */
  function loginProvider(fail: (ctx: { redact(secret: string): void }, fetched: (secret: string) => void) => never): Provider {
    let register: (secret: string) => void = () => undefined;
    return defineProvider({
      typeName: 'test',
      version: '1.0.0',
      schema: { description: 'Test.', attributes: {} },
      configure: () => ({}),
      secrets: (add: (secret: string) => void) => (register = add),
      resources: [
        defineResource({
          typeName: 'test_login',
          schema: loginSchema,
          create: ({ ctx }) => fail(ctx, (secret) => register(secret)),
          read: ({ state }) => state,
          delete: () => undefined,
        }),
      ],
    });
  }

  async function createWith(provider: Provider, values: { name?: string; password?: string | null } = {}) {
    const { engine } = await configured(provider);
    const config = { id: null, name: values.name ?? 'n', password: values.password === undefined ? password : values.password };
    return engine.handle('ApplyResourceChange', {
      type_name: 'test_login',
      prior_state: dv(null, loginType),
      planned_state: dv({ ...config, id: UNKNOWN }, loginType),
      config: dv(config, loginType),
    });
  }

  it("scrubs a sensitive attribute's value from the diagnostic of a failed create", async () => {
    const response = await createWith(
      loginProvider(() => {
        throw new Error(`login failed for password ${password}`);
      }),
    );
    expect(diags(response)).toEqual([{ severity: 1, summary: 'Failed to create test_login', detail: 'login failed for password (sensitive value)' }]);
  });

  it('scrubs a secret the resource registered from the summary and detail of its ResourceError', async () => {
    const fetched = 'fetched-at-run-time-5ecret';
    const response = await createWith(
      loginProvider((ctx) => {
        ctx.redact(fetched);
        throw new ResourceError(`Refused ${fetched}`, { detail: `the store said "${fetched}" is wrong` });
      }),
      { password: null },
    );
    expect(diags(response)).toEqual([{ severity: 1, summary: 'Refused (sensitive value)', detail: 'the store said "(sensitive value)" is wrong' }]);
  });

  it("scrubs a secret from the provider's source of run-time secrets, as a runtime registers it", async () => {
    const generated = `generated"member\\password`;
    const response = await createWith(
      loginProvider((_ctx, fetched) => {
        fetched(generated);
        throw new Error(`granted ${generated}, then failed: ${JSON.stringify({ password: generated })}`);
      }),
      { password: null },
    );
    expect(diags(response)).toEqual([
      { severity: 1, summary: 'Failed to create test_login', detail: 'granted (sensitive value), then failed: {"password":"(sensitive value)"}' },
    ]);
  });

  it('masks only the secretFields of a sensitive list of objects: the password, not whom it is for', async () => {
    const grantType = types.object({ member: types.string, password: types.string });
    const provider = defineProvider({
      typeName: 'test',
      version: '1.0.0',
      schema: { description: 'Test.', attributes: {} },
      configure: () => ({}),
      resources: [
        defineResource({
          typeName: 'test_grants',
          schema: {
            description: 'Grants.',
            attributes: {
              id: attr.string({ computed: true, description: 'Id.' }),
              grants: attr.list(grantType, { computed: true, sensitive: true, secretFields: ['password'], description: 'Grants.' }),
            },
          },
          create: () => ({ id: 'g', grants: [{ member: 'ana@example.com', password }] }),
          read: ({ state }) => state,
          update: () => {
            throw new Error(`cannot renew ana@example.com, whose password is ${password}`);
          },
          delete: () => undefined,
        }),
      ],
    });
    const type: TfType = ['object', { id: 'string', grants: ['list', ['object', { member: 'string', password: 'string' }]] }];
    const { engine, lines } = engineFor(provider, 'trace');
    await engine.handle('ConfigureProvider', { terraform_version: '1.11.4', config: dv({}, ['object', {}]) });
    const created = await engine.handle('ApplyResourceChange', { type_name: 'test_grants', prior_state: dv(null, type), planned_state: dv({ id: UNKNOWN, grants: UNKNOWN }, type), config: dv({ id: null, grants: null }, type) });
    const state = created.new_state;
    const updated = await engine.handle('ApplyResourceChange', { type_name: 'test_grants', prior_state: state, planned_state: state, config: dv({ id: null, grants: null }, type) });
    expect(diags(updated)).toEqual([{ severity: 1, summary: 'Failed to update test_grants', detail: 'cannot renew ana@example.com, whose password is (sensitive value)' }]);
    expect(lines.join('')).toContain('ana@example.com');
    expect(lines.join('').includes(JSON.stringify(password).slice(1, -1))).toBe(false);
  });

  it('masks the secretFields of a sensitive map of objects too, under whatever keys the map has', async () => {
    const grantType = types.object({ member: types.string, password: types.string });
    const provider = defineProvider({
      typeName: 'test',
      version: '1.0.0',
      schema: { description: 'Test.', attributes: {} },
      configure: () => ({}),
      resources: [
        defineResource({
          typeName: 'test_grants',
          schema: {
            description: 'Grants.',
            attributes: {
              id: attr.string({ computed: true, description: 'Id.' }),
              grants: attr.map(grantType, { computed: true, sensitive: true, secretFields: ['password'], description: 'Grants.' }),
            },
          },
          create: () => ({ id: 'g', grants: { 'db/ana@example.com': { member: 'ana@example.com', password } } }),
          read: ({ state }) => state,
          update: () => {
            throw new Error(`cannot renew ana@example.com, whose password is ${password}`);
          },
          delete: () => undefined,
        }),
      ],
    });
    const type: TfType = ['object', { id: 'string', grants: ['map', ['object', { member: 'string', password: 'string' }]] }];
    const { engine, lines } = engineFor(provider, 'trace');
    await engine.handle('ConfigureProvider', { terraform_version: '1.11.4', config: dv({}, ['object', {}]) });
    const created = await engine.handle('ApplyResourceChange', { type_name: 'test_grants', prior_state: dv(null, type), planned_state: dv({ id: UNKNOWN, grants: UNKNOWN }, type), config: dv({ id: null, grants: null }, type) });
    const state = created.new_state;
    const updated = await engine.handle('ApplyResourceChange', { type_name: 'test_grants', prior_state: state, planned_state: state, config: dv({ id: null, grants: null }, type) });
    expect(diags(updated)).toEqual([{ severity: 1, summary: 'Failed to update test_grants', detail: 'cannot renew ana@example.com, whose password is (sensitive value)' }]);
    expect(lines.join('')).toContain('ana@example.com');
    expect(lines.join('').includes(JSON.stringify(password).slice(1, -1))).toBe(false);
  });

  it('refuses secretFields on an attribute that is not sensitive', () => {
    expect(() =>
      defineResource({
        typeName: 'bad_thing',
        schema: { description: 'x', attributes: { grants: attr.list(types.object({ password: types.string }), { computed: true, secretFields: ['password'], description: 'd' }) } },
        create: () => ({}),
        read: () => null,
        delete: () => undefined,
      }),
    ).toThrow(/secretFields only apply to a sensitive attribute/);
  });

  it('scrubs validation diagnostics that quote a sensitive value', async () => {
    const { engine } = engineFor(loginProvider(() => undefined as never));
    const config = { id: null, name: 'n', password: 'short"pw\\' };
    const response = await engine.handle('ValidateResourceConfig', { type_name: 'test_login', config: dv(config, loginType) });
    expect(diags(response)).toEqual([
      { severity: 1, summary: 'Invalid value for "password"', detail: 'the password "(sensitive value)" is too short', attribute: { steps: [{ attribute_name: 'password' }] } },
    ]);
  });
});

describe('state upgrades', () => {
  it('upgrades JSON state from an older schema version', async () => {
    const { engine } = await configured();
    const raw = { id: 'abc123abc123', name: 'one', text: 'old content', mode: 'rw', size: 11, created_at: 'then', removed_attribute: true };
    const response = await engine.handle('UpgradeResourceState', { type_name: 'toy_file', version: 0, raw_state: { json: Buffer.from(JSON.stringify(raw)) } });
    expect(diags(response)).toEqual([]);
    expect(state(response.upgraded_state)).toEqual(toyConfig({ id: 'abc123abc123', name: 'one', content: 'old content', mode: 'rw', size: 11, created_at: 'then' }));
  });

  it('reads current-version JSON state as is (Terraform asks before every read)', async () => {
    const { engine } = await configured();
    const raw = toyConfig({ id: 'abc123abc123', name: 'one', tags: { a: 'b' } });
    const response = await engine.handle('UpgradeResourceState', { type_name: 'toy_file', version: 1, raw_state: { json: Buffer.from(JSON.stringify(raw)) } });
    expect(state(response.upgraded_state)).toEqual(raw);
  });

  it('refuses state from a newer provider', async () => {
    const { engine } = await configured();
    const response = await engine.handle('UpgradeResourceState', { type_name: 'toy_file', version: 7, raw_state: { json: Buffer.from('{}') } });
    expect(diags(response)[0]).toMatchObject({ summary: 'State written by a newer provider' });
  });
});

describe('stopping', () => {
  it('aborts the signal resources see, and keeps serving', async () => {
    const { engine } = await configured();
    expect(engine.signal.aborted).toBe(false);
    expect(await engine.handle('StopProvider', {})).toEqual({ Error: '' });
    expect(engine.signal.aborted).toBe(true);
    const response = await engine.handle('GetProviderSchema', {});
    expect(response.resource_schemas).toBeDefined();
  });
});
