/**
 * A toy provider for testing the framework end to end: `toy_file` keeps its values in a
 * JSON file per object under the provider's `directory`. It exercises a computed id, a
 * sensitive attribute, a requires-replace attribute, validators, a default, import, a
 * create that fails on demand, a create that waits on a gate the test controls, and
 * create, update and delete reporting a warning at an attribute (`warn`). Its ephemeral
 * resource (`toy_token`) and write-only attribute (`toy_account`) are in ephemeral.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  attr,
  defineProvider,
  matches,
  oneOf,
  requiresReplace,
  resourceFactory,
  ResourceError,
  types,
  useStateForUnknown,
  type ModelOf,
  type Provider,
} from '../../../src/provider';
import { toyAccount, toyToken } from './ephemeral';

/** What `configure` returns: where objects live. */
export interface ToyStore {
  readonly directory: string;
}

const defineResource = resourceFactory<ToyStore>();

const fileSchema = {
  version: 1,
  description: 'A named value kept in a JSON file.',
  attributes: {
    id: attr.string({ computed: true, description: 'Random identifier.', planModifiers: [useStateForUnknown()] }),
    name: attr.string({
      required: true,
      description: 'Name; changing it replaces the object.',
      validators: [matches(/^[a-z0-9-]+$/, 'Use lower case letters, digits and dashes')],
      planModifiers: [requiresReplace()],
    }),
    content: attr.string({ optional: true, description: 'The value kept.' }),
    secret: attr.string({ optional: true, sensitive: true, description: 'A value never shown.' }),
    tags: attr.map(types.string, { optional: true, description: 'Labels.' }),
    mode: attr.string({ optional: true, computed: true, default: 'rw', description: 'Access mode.', validators: [oneOf('rw', 'ro')] }),
    size: attr.number({ computed: true, description: 'Length of content.' }),
    created_at: attr.string({ computed: true, description: 'Creation time.', planModifiers: [useStateForUnknown()] }),
    fail_on_create: attr.bool({ optional: true, description: 'Make create fail (for tests).' }),
    gate: attr.string({ optional: true, description: 'Unix socket create waits on (for tests).' }),
    warn: attr.string({ optional: true, description: 'Create, update and delete report this as a warning at this attribute (for tests).' }),
  },
} as const;

type FileModel = ModelOf<typeof fileSchema>;

function file(store: ToyStore, id: string): string {
  return path.join(store.directory, `${id}.json`);
}

/**
 * Tells the gate "waiting", then waits for "go" or "abort". When Terraform asks the
 * provider to stop meanwhile, tells the gate "stopping" and keeps waiting: the gate decides
 * whether the object gets created, as a real remote call in flight would.
 */
function passGate(socket: string, signal: AbortSignal): Promise<'go' | 'abort'> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let buffer = '';
    const onAbort = (): void => void conn.write('stopping\n');
    conn.once('connect', () => {
      conn.write('waiting\n');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    conn.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n') && (line === 'go' || line === 'abort')) {
        signal.removeEventListener('abort', onAbort);
        conn.end();
        resolve(line);
      }
    });
    conn.once('error', reject);
  });
}

function save(store: ToyStore, model: FileModel): void {
  mkdirSync(store.directory, { recursive: true });
  writeFileSync(file(store, model.id ?? ''), JSON.stringify(model));
}

/** The toy_file resource. */
export const toyFile = defineResource({
  typeName: 'toy_file',
  schema: fileSchema,

  validateConfig({ config }) {
    if (config.content === 'forbidden') return { summary: 'Forbidden content', detail: 'Pick another value.', path: ['content'] };
    return undefined;
  },

  async create({ plan, ctx, diagnostics }) {
    if (plan.warn) diagnostics.addWarning('Toy warning', `create: ${plan.warn}`, ['warn']);
    if (plan.fail_on_create) throw new Error('the toy was told to fail');
    if (plan.gate) {
      const decision = await passGate(plan.gate, ctx.signal);
      if (decision === 'abort') throw new ResourceError('Creation cancelled', { detail: 'Stopped before anything was created.' });
    }
    const model: FileModel = {
      id: randomBytes(6).toString('hex'),
      name: plan.name,
      content: plan.content,
      secret: plan.secret,
      tags: plan.tags,
      mode: typeof plan.mode === 'string' ? plan.mode : 'rw',
      size: plan.content?.length ?? 0,
      created_at: new Date().toISOString(),
      fail_on_create: plan.fail_on_create,
      gate: plan.gate,
      warn: plan.warn,
    };
    ctx.logger.info('toy created', { id: model.id, secret: plan.secret });
    save(ctx.provider, model);
    return model;
  },

  read({ state, ctx }) {
    try {
      return JSON.parse(readFileSync(file(ctx.provider, state.id ?? ''), 'utf8')) as FileModel;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  },

  update({ plan, state, ctx, diagnostics }) {
    if (plan.warn) diagnostics.addWarning('Toy warning', `update: ${plan.warn}`, ['warn']);
    const model: FileModel = {
      ...state,
      content: plan.content,
      secret: plan.secret,
      tags: plan.tags,
      mode: typeof plan.mode === 'string' ? plan.mode : 'rw',
      size: plan.content?.length ?? 0,
      fail_on_create: plan.fail_on_create,
      gate: plan.gate,
      warn: plan.warn,
    };
    save(ctx.provider, model);
    return model;
  },

  delete({ state, ctx, diagnostics }) {
    if (state.warn) diagnostics.addWarning('Toy warning', `delete: ${state.warn}`, ['warn']);
    rmSync(file(ctx.provider, state.id ?? ''), { force: true });
  },

  importState({ id }) {
    if (!/^[0-9a-f]{12}$/.test(id)) throw new ResourceError('Invalid import id', { detail: `Expected 12 hexadecimal digits, got ${JSON.stringify(id)}.` });
    return { id };
  },

  upgradeState({ fromVersion, state }) {
    // Version 0 called the content "text".
    if (fromVersion === 0) {
      const { text, ...rest } = state;
      return { ...rest, content: text ?? null };
    }
    return { ...state };
  },
});

/** The toy provider. */
export function toyProvider(): Provider {
  return defineProvider({
    typeName: 'toy',
    version: '0.1.0',
    schema: {
      description: 'Toy provider for framework tests.',
      attributes: {
        directory: attr.string({ required: true, description: 'Where objects are kept.' }),
      },
    },
    configure: ({ config }): ToyStore => {
      if (typeof config.directory !== 'string') throw new ResourceError('directory must be known when the provider is configured', { path: ['directory'] });
      return { directory: config.directory };
    },
    resources: [toyFile, toyAccount],
    ephemeralResources: [toyToken],
  });
}
