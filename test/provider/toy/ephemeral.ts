/**
 * The toy provider's ephemeral side: `toy_token`, an ephemeral resource that records every
 * open, renew and close in `<directory>/events.jsonl`, and `toy_account`, a resource with a
 * write-only password (`password_wo`, applied again when `password_wo_version` changes)
 * whose create can wait for an event to appear in that log.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { attr, ephemeralResourceFactory, matches, resourceFactory, ResourceError, type ModelOf } from '../../../src/provider';
import type { ToyStore } from './provider';

/** One line of the events log. */
export interface ToyEvent {
  readonly event: 'open' | 'renew' | 'close' | 'create' | 'update';
  readonly name: string;
  readonly [detail: string]: unknown;
}

/** The events log of a toy store. */
export function eventsFile(directory: string): string {
  return path.join(directory, 'events.jsonl');
}

/** The events recorded in a toy store so far. */
export function readEvents(directory: string): ToyEvent[] {
  const file = eventsFile(directory);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ToyEvent);
}

function record(store: ToyStore, event: ToyEvent): void {
  mkdirSync(store.directory, { recursive: true });
  appendFileSync(eventsFile(store.directory), JSON.stringify({ ...event, at: new Date().toISOString() }) + '\n');
}

const defineEphemeralResource = ephemeralResourceFactory<ToyStore>();
const defineResource = resourceFactory<ToyStore>();

/** What `toy_token` keeps for renew and close. */
type TokenPrivate = { readonly name: string; readonly serial: number; readonly renewEveryMs: number | null };

/** The toy_token ephemeral resource. */
export const toyToken = defineEphemeralResource({
  typeName: 'toy_token',
  schema: {
    description: 'A random token, opened for the run and closed at its end.',
    attributes: {
      name: attr.string({ required: true, description: 'Name recorded with each event.', validators: [matches(/^[a-z0-9-]+$/, 'Use lower case letters, digits and dashes')] }),
      seed: attr.string({ optional: true, description: 'Recorded with the open event (to show a value from another ephemeral resource arrived).' }),
      renew_every_ms: attr.number({ optional: true, description: 'Ask Terraform to renew this often (milliseconds).' }),
      value: attr.string({ computed: true, sensitive: true, description: 'The token.' }),
      serial: attr.number({ optional: true, computed: true, description: 'Echoed when configured, else 0.' }),
    },
  },

  validateConfig({ config }) {
    if (config.name === 'forbidden') return { summary: 'Forbidden token name', detail: 'Pick another name.', path: ['name'] };
    return undefined;
  },

  open({ config, ctx }) {
    const value = `tok-${config.name}-${randomBytes(8).toString('hex')}`;
    ctx.logger.info('toy token opened', { name: config.name, value });
    record(ctx.provider, { event: 'open', name: config.name, value, seed: config.seed });
    const renewEveryMs = config.renew_every_ms;
    const privateData: TokenPrivate = { name: config.name, serial: 0, renewEveryMs };
    return {
      result: { value, serial: config.serial ?? 0 },
      ...(renewEveryMs !== null ? { renewAt: new Date(Date.now() + renewEveryMs) } : {}),
      private: privateData,
    };
  },

  renew({ private: token, ctx }) {
    record(ctx.provider, { event: 'renew', name: token.name, serial: token.serial });
    const next: TokenPrivate = { ...token, serial: token.serial + 1 };
    return { private: next, ...(token.renewEveryMs !== null ? { renewAt: new Date(Date.now() + token.renewEveryMs) } : {}) };
  },

  close({ private: token, ctx }) {
    record(ctx.provider, { event: 'close', name: token.name, serial: token.serial });
  },
});

const accountSchema = {
  description: 'An account whose password is write-only.',
  attributes: {
    id: attr.string({ computed: true, description: 'Random identifier.' }),
    name: attr.string({ required: true, description: 'Name recorded with each event.' }),
    password_wo: attr.string({ optional: true, sensitive: true, writeOnly: true, description: 'Password: applied, never stored in state.' }),
    password_wo_version: attr.number({ optional: true, description: 'Bump to apply a new password_wo.' }),
    wait_for: attr.string({ optional: true, description: 'Create waits until "<event>:<name>" follows the latest open of that name in the log (for tests).' }),
  },
} as const;

type AccountModel = ModelOf<typeof accountSchema>;

function accountFile(store: ToyStore, id: string): string {
  return path.join(store.directory, 'accounts', `${id}.json`);
}

/** Whether the log holds `<event>:<name>` after that name's latest open (this run's, not a plan's). */
function seenSinceOpen(store: ToyStore, wanted: string): boolean {
  const keys = readEvents(store.directory).map((e) => `${e.event}:${e.name}`);
  const name = wanted.slice(wanted.indexOf(':') + 1);
  return keys.lastIndexOf(wanted) > keys.lastIndexOf(`open:${name}`);
}

/**
 * Waits until the events log holds `<event>:<name>` after that name's latest open, polling
 * the file rather than sleeping a fixed time; gives up when Terraform stops the provider or
 * after a minute.
 */
async function waitForEvent(store: ToyStore, wanted: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!seenSinceOpen(store, wanted)) {
    if (signal.aborted) throw new ResourceError('Stopped while waiting', { detail: `No ${wanted} event yet.` });
    if (Date.now() > deadline) throw new ResourceError('Event never came', { detail: `No ${wanted} event within a minute.` });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The toy_account resource. */
export const toyAccount = defineResource({
  typeName: 'toy_account',
  schema: accountSchema,

  async create({ plan, writeOnly, ctx }) {
    if (plan.wait_for) await waitForEvent(ctx.provider, plan.wait_for, ctx.signal);
    const id = randomBytes(6).toString('hex');
    // The store is the "remote system": it is where the write-only value must arrive.
    mkdirSync(path.dirname(accountFile(ctx.provider, id)), { recursive: true });
    writeFileSync(accountFile(ctx.provider, id), JSON.stringify({ name: plan.name, password: writeOnly.password_wo }));
    record(ctx.provider, { event: 'create', name: plan.name, password_in_plan: plan.password_wo, has_password: writeOnly.password_wo !== null });
    return { id };
  },

  read({ state, ctx }) {
    return existsSync(accountFile(ctx.provider, state.id ?? '')) ? {} : null;
  },

  update({ plan, state, writeOnly, ctx }) {
    writeFileSync(accountFile(ctx.provider, state.id ?? ''), JSON.stringify({ name: plan.name, password: writeOnly.password_wo }));
    record(ctx.provider, { event: 'update', name: plan.name, version: plan.password_wo_version });
    return {};
  },

  delete({ state, ctx }) {
    rmSync(accountFile(ctx.provider, state.id ?? ''), { force: true });
  },
});

/** What a toy account's store file holds. */
export function readAccount(directory: string, id: string): { name: string; password: string | null } {
  return JSON.parse(readFileSync(accountFile({ directory }, id), 'utf8')) as { name: string; password: string | null };
}

export type { AccountModel };
