/**
 * Ephemeral resources and write-only attributes, with the real terraform binary: the toy's
 * `toy_token` is opened during plan and apply and closed at the end of each run, its result
 * reaches a provider block, a local-exec provisioner and another ephemeral resource, and it
 * is renewed while a long apply still uses it; `toy_account`'s write-only password reaches
 * create (and update, after a version bump) but never the state, `terraform show -json` or
 * the plan file. The protocol side (schemas, metadata, the write-only client capability,
 * private data, redaction) is driven directly through the engine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerraformWorkspace } from '../fixtures/terraform';
import { ProviderEngine, type Message } from '../../src/provider/engine';
import { createLogger, Redactor } from '../../src/provider/log';
import { attr, defineEphemeralResource, defineProvider, defineResource } from '../../src/provider';
import { decodeMsgpack, encodeMsgpack, type TfType } from '../../src/provider/values';
import { readAccount, readEvents, type ToyEvent } from './toy/ephemeral';
import { toyProvider } from './toy/provider';
import { TOY_SOURCE, cleanup, installToy, tempDir } from './support';

let dir: string;
let mirrorDir: string;
const workspaces: TerraformWorkspace[] = [];

beforeAll(async () => {
  dir = tempDir('toy-ephemeral-');
  ({ mirrorDir } = await installToy(dir));
});

afterAll(() => {
  for (const ws of workspaces) ws.dispose();
  cleanup(dir);
});

function toyWorkspace(store: string, body: string, env: Record<string, string> = {}): TerraformWorkspace {
  const ws = new TerraformWorkspace({
    mirrorDir,
    env,
    files: {
      'main.tf': ['terraform {', '  required_providers {', `    toy = { source = "${TOY_SOURCE}" }`, '  }', '}', `provider "toy" { directory = "${store}" }`, body, ''].join('\n'),
    },
  });
  workspaces.push(ws);
  return ws;
}

/** The events of one toy_token (or toy_account) name, as `event` strings. */
function eventsOf(events: readonly ToyEvent[], name: string): string[] {
  return events.filter((e) => e.name === name).map((e) => e.event);
}

/** Everything inside a plan file (a zip): the entries' contents, uncompressed. */
function planFileContents(file: string): string {
  return execFileSync('unzip', ['-p', file], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
}

describe('ephemeral resources under terraform', () => {
  it('opens during plan and apply, closes at the end of each run, and its result reaches a provider block, local-exec and another ephemeral resource', async () => {
    const store = path.join(dir, 'store-open-close');
    const execFile = path.join(store, 'exec-token');
    const ws = toyWorkspace(
      store,
      [
        'ephemeral "toy_token" "main" { name = "main" }',
        'ephemeral "toy_token" "child" {',
        '  name = "child"',
        '  seed = ephemeral.toy_token.main.value',
        '}',
        'provider "toy" {',
        '  alias     = "scoped"',
        `  directory = "${store}/scoped-\${ephemeral.toy_token.main.value}"`,
        '}',
        'resource "toy_file" "scoped" {',
        '  provider = toy.scoped',
        '  name     = "scoped"',
        '}',
        'resource "terraform_data" "exec" {',
        '  provisioner "local-exec" {',
        `    command     = "printf %s \\"$TOKEN\\" > ${execFile}"`,
        '    environment = { TOKEN = ephemeral.toy_token.main.value }',
        '  }',
        '}',
      ].join('\n'),
    );
    await ws.init();

    // A plan opens both tokens (the child with the main token's value) and closes both.
    const plan = await ws.plan();
    expect(plan.code).toBe(2);
    const afterPlan = readEvents(store);
    expect(eventsOf(afterPlan, 'main')).toEqual(['open', 'close']);
    expect(eventsOf(afterPlan, 'child')).toEqual(['open', 'close']);
    const planMain = afterPlan.find((e) => e.name === 'main' && e.event === 'open');
    expect(afterPlan.find((e) => e.name === 'child' && e.event === 'open')?.seed).toBe(planMain?.value);
    expect(afterPlan.some((e) => e.event === 'create')).toBe(false);
    expect(plan.stdout).not.toContain(String(planMain?.value));

    // apply plans, then applies: each walk opens and closes again.
    const applied = await ws.apply();
    const events = readEvents(store).slice(afterPlan.length);
    expect(eventsOf(events, 'main')).toEqual(['open', 'close', 'open', 'close']);
    expect(eventsOf(events, 'child')).toEqual(['open', 'close', 'open', 'close']);
    const applyMain = events.filter((e) => e.name === 'main' && e.event === 'open').at(-1);
    const token = String(applyMain?.value);
    expect(token).toMatch(/^tok-main-[0-9a-f]{16}$/);
    // The provider block and the provisioner saw the token of the apply walk.
    expect(readdirSync(path.join(store, `scoped-${token}`)).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(readFileSync(execFile, 'utf8')).toBe(token);
    expect(applied.stdout + applied.stderr).not.toContain(token);
    // Nothing of the token is stored.
    expect(readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')).not.toContain('tok-');
  }, 180_000);

  it('renews when renew_at passes while the apply still uses it, and closes with the private data open returned', async () => {
    const store = path.join(dir, 'store-renew');
    const ws = toyWorkspace(
      store,
      [
        'ephemeral "toy_token" "lease" {',
        '  name           = "lease"',
        '  renew_every_ms = 300',
        '}',
        'resource "toy_account" "a" {',
        '  name        = "leased"',
        '  password_wo = ephemeral.toy_token.lease.value',
        '  wait_for    = "renew:lease"',
        '}',
      ].join('\n'),
    );
    await ws.init();
    await ws.apply();
    const events = readEvents(store);
    // The apply walk: its open, at least one renew before the account's create finished
    // waiting for it, then close once nothing uses the token any more.
    const lastOpen = events.map((e) => `${e.event}:${e.name}`).lastIndexOf('open:lease');
    const walk = events.slice(lastOpen);
    const sequence = walk.filter((e) => e.name === 'lease').map((e) => e.event);
    expect(sequence[0]).toBe('open');
    expect(sequence.at(-1)).toBe('close');
    const renews = walk.filter((e) => e.name === 'lease' && e.event === 'renew');
    expect(renews.length).toBeGreaterThanOrEqual(1);
    // Each renew receives the private data the previous one returned.
    expect(renews.map((e) => e.serial)).toEqual(renews.map((_, i) => i));
    const createdAt = walk.findIndex((e) => e.event === 'create');
    expect(createdAt).toBeGreaterThan(walk.findIndex((e) => e.event === 'renew'));
    expect(walk.findIndex((e) => e.event === 'close')).toBeGreaterThan(createdAt);
    // Terraform closes with what Open returned.
    expect(walk.find((e) => e.event === 'close')?.serial).toBe(0);

    // The account got the token of the apply walk as its write-only password.
    const state = JSON.parse(readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')) as { resources: { instances: { attributes: Record<string, unknown> }[] }[] };
    const attributes = state.resources[0]?.instances[0]?.attributes ?? {};
    expect(attributes.password_wo).toBeNull();
    expect(readAccount(store, String(attributes.id)).password).toBe(walk[0]?.value);
    expect(walk.find((e) => e.event === 'create')).toMatchObject({ password_in_plan: null, has_password: true });
  }, 180_000);

  it('sends a write-only value to create and, after a version bump, to update, never to the state, show -json or the plan file', async () => {
    const store = path.join(dir, 'store-write-only');
    const first = 'wo-first-4b1f9c';
    const second = 'wo-second-77e0aa';
    const ws = toyWorkspace(
      store,
      [
        'variable "pw" {',
        '  type      = string',
        '  sensitive = true',
        '  ephemeral = true',
        '}',
        'variable "pw_version" {',
        '  type    = number',
        '  default = 1',
        '}',
        'resource "toy_account" "a" {',
        '  name                = "wo"',
        '  password_wo         = var.pw',
        '  password_wo_version = var.pw_version',
        '}',
      ].join('\n'),
    );
    await ws.init();
    const planFile = path.join(ws.dir, 'tfplan');
    await ws.ok(['plan', '-no-color', '-input=false', `-out=${planFile}`], { TF_VAR_pw: first });
    const shownPlan = await ws.ok(['show', '-json', planFile]);
    expect(planFileContents(planFile)).not.toContain(first);
    expect(shownPlan.stdout).not.toContain(first);
    expect(shownPlan.stdout).toContain('"password_wo":null');

    await ws.ok(['apply', '-no-color', '-input=false', planFile], { TF_VAR_pw: first });
    const pulled = JSON.parse((await ws.ok(['state', 'pull'])).stdout) as { resources: { instances: { attributes: { id: string } }[] }[] };
    const id = String(pulled.resources[0]?.instances[0]?.attributes.id);
    expect(readAccount(store, id).password).toBe(first);
    const stateFile = (): string => readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8');
    expect(stateFile()).not.toContain(first);
    expect((await ws.ok(['show', '-json'])).stdout).not.toContain(first);

    // A new value alone plans nothing: write-only values are not compared.
    const unchanged = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'], { TF_VAR_pw: second });
    expect(unchanged.code).toBe(0);
    // Bumping the version applies it.
    const bumped = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_VAR_pw: second, TF_VAR_pw_version: '2' });
    expect(bumped.code).toBe(0);
    expect(readAccount(store, id).password).toBe(second);
    expect(eventsOf(readEvents(store), 'wo')).toEqual(['create', 'update']);
    expect(stateFile()).not.toContain(second);
    expect((await ws.ok(['show', '-json'])).stdout).not.toContain(second);
  }, 180_000);

  it('reports validation errors of an ephemeral resource at its configuration line and opens nothing', async () => {
    const store = path.join(dir, 'store-invalid');
    const ws = toyWorkspace(store, ['ephemeral "toy_token" "bad" { name = "forbidden" }', 'ephemeral "toy_token" "worse" { name = "Not OK" }'].join('\n'));
    await ws.init();
    const plan = await ws.plan();
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Forbidden token name');
    expect(plan.stderr).toMatch(/in ephemeral "toy_token" "bad":\n\s+7: ephemeral "toy_token" "bad" \{ name = "forbidden" \}/);
    expect(plan.stderr).toContain('Error: Invalid value for "name"');
    expect(plan.stderr).toContain('Use lower case letters, digits and dashes; got "Not OK".');
    expect(existsSync(store) ? readEvents(store) : []).toEqual([]);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------
// The protocol side, through the engine
// ---------------------------------------------------------------------------------------

const toy = toyProvider();
const dirs: string[] = [];
afterAll(() => cleanup(...dirs));

function typeOf(attributes: Readonly<Record<string, { type: TfType }>>): TfType {
  return ['object', Object.fromEntries(Object.entries(attributes).map(([n, a]) => [n, a.type]))];
}
const accountType = typeOf(toy.resources.get('toy_account')?.schema.attributes ?? {});
const tokenType = typeOf(toy.ephemeralResources.get('toy_token')?.schema.attributes ?? {});
const dv = (value: unknown, type: TfType) => ({ msgpack: encodeMsgpack(type, value) });
const decoded = (message: unknown, type: TfType) => decodeMsgpack(type, (message as { msgpack: Uint8Array }).msgpack) as Record<string, unknown> | null;
const diags = (response: Message) => response.diagnostics as { severity: number; summary: string; detail?: string; attribute?: { steps: Record<string, unknown>[] } }[];
const account = (values: Record<string, unknown>) => ({ id: null, name: 'x', password_wo: null, password_wo_version: null, wait_for: null, ...values });
const token = (values: Record<string, unknown>) => ({ name: 't', seed: null, renew_every_ms: null, value: null, serial: null, ...values });

async function configuredEngine() {
  const store = tempDir('toy-ephemeral-engine-');
  dirs.push(store);
  const lines: string[] = [];
  const redactor = new Redactor();
  const logger = createLogger({ level: 'trace', module: 'toy', sink: (l) => lines.push(l), redactor });
  const engine = new ProviderEngine(toy, { logger, redactor });
  expect(diags(await engine.handle('ConfigureProvider', { terraform_version: '1.11.4', config: dv({ directory: store }, ['object', { directory: 'string' }]) }))).toEqual([]);
  return { engine, lines, store };
}

describe('ephemeral resources and write-only attributes in the engine', () => {
  it('declares ephemeral resources in GetMetadata and GetProviderSchema, and write_only in the schema', async () => {
    const { engine } = await configuredEngine();
    expect((await engine.handle('GetMetadata', {})).ephemeral_resources).toEqual([{ type_name: 'toy_token' }]);
    const schema = await engine.handle('GetProviderSchema', {});
    const ephemeral = schema.ephemeral_resource_schemas as Record<string, { block: { attributes: { name: string; sensitive: boolean; computed: boolean }[] } }>;
    expect(Object.keys(ephemeral)).toEqual(['toy_token']);
    expect(ephemeral.toy_token?.block.attributes.find((a) => a.name === 'value')).toMatchObject({ sensitive: true, computed: true });
    const resources = schema.resource_schemas as Record<string, { block: { attributes: { name: string; write_only: boolean }[] } }>;
    const flags = Object.fromEntries((resources.toy_account?.block.attributes ?? []).map((a) => [a.name, a.write_only]));
    expect(flags).toMatchObject({ password_wo: true, password_wo_version: false, name: false });
  });

  it('refuses a write-only value when the client does not announce write_only_attributes_allowed', async () => {
    const { engine } = await configuredEngine();
    const config = dv(account({ password_wo: 'pw-123' }), accountType);
    const refused = diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_account', config }));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ severity: 1, summary: 'Write-only attribute not supported by this client', attribute: { steps: [{ attribute_name: 'password_wo' }] } });
    expect(refused[0]?.detail).toContain('Terraform 1.11 or later');
    const old = diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_account', config, client_capabilities: { write_only_attributes_allowed: false } }));
    expect(old).toHaveLength(1);
    expect(diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_account', config, client_capabilities: { write_only_attributes_allowed: true } }))).toEqual([]);
    // Unset, it is fine for any client.
    expect(diags(await engine.handle('ValidateResourceConfig', { type_name: 'toy_account', config: dv(account({}), accountType) }))).toEqual([]);
  });

  it('plans and reads write-only attributes as null, and keeps their values out of logs', async () => {
    const { engine, lines } = await configuredEngine();
    const config = account({ password_wo: 'pw-never-logged', password_wo_version: 1 });
    const planned = await engine.handle('PlanResourceChange', {
      type_name: 'toy_account',
      prior_state: dv(null, accountType),
      proposed_new_state: dv(config, accountType),
      config: dv(config, accountType),
    });
    expect(diags(planned)).toEqual([]);
    expect(decoded(planned.planned_state, accountType)).toMatchObject({ password_wo: null, password_wo_version: 1 });
    const applied = await engine.handle('ApplyResourceChange', {
      type_name: 'toy_account',
      prior_state: dv(null, accountType),
      planned_state: planned.planned_state,
      config: dv(config, accountType),
    });
    expect(diags(applied)).toEqual([]);
    const created = decoded(applied.new_state, accountType);
    expect(created?.password_wo).toBeNull();
    const read = await engine.handle('ReadResource', { type_name: 'toy_account', current_state: applied.new_state });
    expect(decoded(read.new_state, accountType)?.password_wo).toBeNull();
    expect(lines.join('\n')).not.toContain('pw-never-logged');
  });

  it('opens with the configuration echoed, renew_at as a timestamp and private data as JSON, and redacts the sensitive result', async () => {
    const { engine, lines, store } = await configuredEngine();
    const before = Date.now();
    const opened = await engine.handle('OpenEphemeralResource', { type_name: 'toy_token', config: dv(token({ name: 'eng', renew_every_ms: 60_000 }), tokenType) });
    expect(diags(opened)).toEqual([]);
    const result = decoded(opened.result, tokenType);
    expect(result).toMatchObject({ name: 'eng', renew_every_ms: 60_000, serial: 0 });
    const value = String(result?.value);
    expect(value).toMatch(/^tok-eng-/);
    const renewAt = opened.renew_at as { seconds: number; nanos: number };
    const renewMs = renewAt.seconds * 1000 + renewAt.nanos / 1e6;
    expect(renewMs).toBeGreaterThanOrEqual(before + 60_000);
    expect(renewMs).toBeLessThan(Date.now() + 60_000 + 1);
    expect(JSON.parse(Buffer.from(opened.private as Uint8Array).toString('utf8'))).toEqual({ name: 'eng', serial: 0, renewEveryMs: 60_000 });

    const renewed = await engine.handle('RenewEphemeralResource', { type_name: 'toy_token', private: opened.private });
    expect(diags(renewed)).toEqual([]);
    expect(JSON.parse(Buffer.from(renewed.private as Uint8Array).toString('utf8'))).toMatchObject({ serial: 1 });
    expect(renewed.renew_at).toBeDefined();
    expect(diags(await engine.handle('CloseEphemeralResource', { type_name: 'toy_token', private: opened.private }))).toEqual([]);
    expect(eventsOf(readEvents(store), 'eng')).toEqual(['open', 'renew', 'close']);

    // The toy logs the token at info and the engine the result at trace: both masked.
    const log = lines.join('\n');
    expect(log).toContain('toy token opened');
    expect(log).toContain('Opened');
    expect(log).not.toContain(value);

    // Without renew_every_ms there is no renewal and renew_at is absent.
    const plain = await engine.handle('OpenEphemeralResource', { type_name: 'toy_token', config: dv(token({ name: 'plain' }), tokenType) });
    expect(plain.renew_at).toBeUndefined();
    expect(diags(await engine.handle('OpenEphemeralResource', { type_name: 'toy_nothing', config: dv(token({}), tokenType) }))[0]?.summary).toBe('Unknown ephemeral resource type');
  });

  it('refuses unsound declarations when they are defined', () => {
    const noop = { create: () => ({}), read: () => ({}), delete: () => undefined };
    expect(() =>
      defineResource({
        typeName: 'x_bad',
        schema: { description: 'x', attributes: { secret_wo: attr.string({ optional: true, computed: true, writeOnly: true, description: 'x' }) } },
        ...noop,
      }),
    ).toThrow('x_bad.secret_wo: a write-only attribute cannot be computed (Terraform keeps it null in plan and state)');
    expect(() =>
      defineEphemeralResource({
        typeName: 'x_lease',
        schema: { description: 'x', attributes: { secret_wo: attr.string({ optional: true, writeOnly: true, description: 'x' }) } },
        open: () => ({ result: {} }),
      }),
    ).toThrow('x_lease.secret_wo: write-only attributes exist only in managed resources');
    const lease = defineEphemeralResource({ typeName: 'y_lease', schema: { description: 'x', attributes: {} }, open: () => ({ result: {} }) });
    expect(() => defineProvider({ typeName: 'x', version: '1.0.0', schema: { description: 'x', attributes: {} }, configure: () => ({}), resources: [], ephemeralResources: [lease] })).toThrow(
      'Ephemeral resource type "y_lease" must start with the provider name "x_"',
    );
  });

  it('turns a failing open into an error diagnostic and still writes what open logged, masked', async () => {
    const lines: string[] = [];
    const redactor = new Redactor();
    const failing = defineEphemeralResource({
      typeName: 'x_lease',
      schema: { description: 'x', attributes: { name: attr.string({ required: true, description: 'x' }) } },
      open({ config, ctx }) {
        ctx.redact('lease-secret-1');
        ctx.logger.info('about to fail', { secret: 'lease-secret-1' });
        throw new Error(`no lease for ${config.name}`);
      },
    });
    const provider = defineProvider({ typeName: 'x', version: '1.0.0', schema: { description: 'x', attributes: {} }, configure: () => ({}), resources: [], ephemeralResources: [failing] });
    const engine = new ProviderEngine(provider, { logger: createLogger({ level: 'info', module: 'x', sink: (l) => lines.push(l), redactor }), redactor });
    const response = await engine.handle('OpenEphemeralResource', { type_name: 'x_lease', config: dv({ name: 'n' }, ['object', { name: 'string' }]) });
    expect(diags(response)).toEqual([{ severity: 1, summary: 'Failed to open x_lease', detail: 'no lease for n' }]);
    expect(response.result).toBeUndefined();
    expect(lines.join('')).toContain('"@message":"about to fail"');
    expect(lines.join('')).not.toContain('lease-secret-1');
  });
});
