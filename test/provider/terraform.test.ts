/**
 * The framework end to end with the real terraform binary: the toy provider is bundled,
 * installed in a filesystem mirror and driven through init, apply, plan, replacement,
 * import, destroy, validation errors, failing creates, warnings from create, update and
 * delete, debug logs, sensitive values and an interrupted apply.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerraformWorkspace, type TerraformResult } from '../fixtures/terraform';
import { cliConfigFor } from '../../src/install/mirror';
import { pointingAt, shownDiagnostics } from '../fixtures/diagnostics';
import { TOY_SOURCE, cleanup, installToy, tempDir } from './support';

let dir: string;
let mirrorDir: string;
const workspaces: TerraformWorkspace[] = [];

beforeAll(async () => {
  dir = tempDir('toy-tf-');
  ({ mirrorDir } = await installToy(dir));
});

afterAll(() => {
  for (const ws of workspaces) ws.dispose();
  cleanup(dir);
});

/** A workspace using the toy provider, its objects kept in `store`. */
function toyWorkspace(store: string, resources: string): TerraformWorkspace {
  const ws = new TerraformWorkspace({
    mirrorDir,
    files: {
      'main.tf': [
        'terraform {',
        '  required_providers {',
        `    toy = { source = "${TOY_SOURCE}" }`,
        '  }',
        '}',
        `provider "toy" { directory = "${store}" }`,
        resources,
        '',
      ].join('\n'),
    },
  });
  workspaces.push(ws);
  return ws;
}

function fileResource(name: string, body: Record<string, string>): string {
  return [`resource "toy_file" "${name}" {`, ...Object.entries(body).map(([k, v]) => `  ${k} = ${v}`), '}'].join('\n');
}

/** The objects in a toy store (none when the store was never written). */
function storeFiles(store: string): string[] {
  return existsSync(store) ? readdirSync(store) : [];
}

const ALPHA = { name: '"alpha"', content: '"hello"', secret: '"s3cr3t-value"', tags: '{ env = "dev" }' };

describe('toy provider under terraform', () => {
  it('installs offline, applies, plans no changes, replaces, imports, notices deletion and destroys', async () => {
    const store = path.join(dir, 'store-lifecycle');
    const ws = toyWorkspace(store, fileResource('a', ALPHA) + '\noutput "id" { value = toy_file.a.id }');
    const init = await ws.init();
    expect(init.stdout).toContain(`Installing ${TOY_SOURCE} v0.1.0`);

    const applied = await ws.apply();
    expect(applied.stdout).toMatch(/secret\s+= \(sensitive value\)/);
    expect(applied.stdout + applied.stderr).not.toContain('s3cr3t-value');
    const id = String((await ws.outputs()).id?.value);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(storeFiles(store)).toEqual([`${id}.json`]);

    expect((await ws.plan()).code).toBe(0);

    // A requires-replace attribute: the plan says so, and apply makes a new object.
    ws.write('main.tf', ws_main(store, fileResource('a', { ...ALPHA, name: '"beta"' }) + '\noutput "id" { value = toy_file.a.id }'));
    const replacePlan = await ws.plan();
    expect(replacePlan.code).toBe(2);
    expect(replacePlan.stdout).toContain('toy_file.a must be replaced');
    expect(replacePlan.stdout).toMatch(/name\s+= "alpha" -> "beta" # forces replacement/);
    await ws.apply();
    const newId = String((await ws.outputs()).id?.value);
    expect(newId).not.toBe(id);
    expect(storeFiles(store)).toEqual([`${newId}.json`]);

    // Import the same object into a second configuration: import, then read, then no changes.
    const other = toyWorkspace(store, fileResource('imported', { ...ALPHA, name: '"beta"' }));
    await other.init();
    const imported = await other.ok(['import', '-no-color', '-input=false', 'toy_file.imported', newId]);
    expect(imported.stdout).toContain('Import successful!');
    const shown = await other.ok(['state', 'show', '-no-color', 'toy_file.imported']);
    expect(shown.stdout).toContain('name       = "beta"');
    expect(shown.stdout).toContain('secret     = (sensitive value)');
    expect((await other.plan()).code).toBe(0);
    const badImport = await other.run(['import', '-no-color', '-input=false', 'toy_file.imported', 'not-an-id']);
    expect(badImport.code).toBe(1);

    // The second configuration destroys the object: the first sees it gone and plans a create.
    await other.destroy();
    expect(storeFiles(store)).toEqual([]);
    const drift = await ws.plan();
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('toy_file.a will be created');

    await ws.apply();
    await ws.destroy();
    expect(storeFiles(store)).toEqual([]);
    expect((await ws.ok(['state', 'list'])).stdout.trim()).toBe('');
  }, 180_000);

  it('installs with the CLI configuration the mirror module writes', async () => {
    const ws = toyWorkspace(path.join(dir, 'store-cli-config'), fileResource('a', { name: '"cli"' }));
    const configPath = path.join(ws.dir, 'mirror.tfrc');
    writeFileSync(configPath, cliConfigFor(mirrorDir, TOY_SOURCE));
    const init = await ws.run(['init', '-no-color', '-input=false'], { TF_CLI_CONFIG_FILE: configPath });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`Installing ${TOY_SOURCE} v0.1.0`);
  }, 120_000);

  it('points at the configuration line of an attribute a validator rejects', async () => {
    const ws = toyWorkspace(path.join(dir, 'store-validate'), fileResource('bad', { name: '"Bad Name!"', mode: '"xx"' }));
    await ws.init();
    const plan = await ws.plan();
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Invalid value for "name"');
    expect(plan.stderr).toMatch(/on main\.tf line 8, in resource "toy_file" "bad":\n\s+8:\s+name = "Bad Name!"/);
    expect(plan.stderr).toContain('Use lower case letters, digits and dashes; got "Bad Name!".');
    expect(plan.stderr).toMatch(/on main\.tf line 9, in resource "toy_file" "bad":\n\s+9:\s+mode = "xx"/);
  }, 120_000);

  it('reports a create that throws as an error diagnostic; the plugin keeps working', async () => {
    const store = path.join(dir, 'store-fail');
    const ws = toyWorkspace(store, fileResource('f', { name: '"fails"', fail_on_create: 'true' }));
    await ws.init();
    const result = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: Failed to create toy_file');
    expect(result.stderr).toContain('the toy was told to fail');
    expect(result.stderr).not.toMatch(/plugin (crashed|exited)|Plugin did not respond/i);
    expect((await ws.ok(['state', 'list'])).stdout.trim()).toBe('');
    ws.write('main.tf', ws_main(store, fileResource('f', { name: '"fails"', fail_on_create: 'false' })));
    await ws.apply();
    expect((await ws.ok(['state', 'list'])).stdout.trim()).toBe('toy_file.f');
  }, 120_000);

  it('shows the warnings of create, update and delete in apply and destroy output, at the attribute', async () => {
    const store = path.join(dir, 'store-warn');
    const main = (warn: string): string => ws_main(store, fileResource('w', { name: '"warned"', warn: `"${warn}"` }));
    const ws = toyWorkspace(store, '');
    ws.write('main.tf', main('look here'));
    await ws.init();
    /**
     * The toy's warnings as shown (with colour: Terraform draws boxes only then), each
     * checked to point at the `warn` line; a destroy shows them without a place (Terraform
     * has no configuration of the object left to point into).
     */
    const toyWarnings = (result: TerraformResult, warn: string, destroying = false): string[] => {
      const place = destroying ? [] : pointingAt(main(warn), 'resource "toy_file" "w"', `  warn = "${warn}"`);
      return shownDiagnostics(result.stdout + result.stderr)
        .filter((d) => d.severity === 'Warning' && d.summary === 'Toy warning')
        .map((d) => {
          if (destroying) expect(d.context).toEqual([]);
          else expect(d.context).toEqual(expect.arrayContaining(place));
          return d.detail;
        });
    };
    const apply = ['apply', '-input=false', '-auto-approve'];
    expect(toyWarnings(await ws.ok(apply), 'look here')).toEqual(['create: look here']);
    ws.write('main.tf', main('and here'));
    expect(toyWarnings(await ws.ok(apply), 'and here')).toEqual(['update: and here']);
    expect(toyWarnings(await ws.ok(['destroy', '-input=false', '-auto-approve']), 'and here', true)).toEqual(['delete: and here']);
    expect(storeFiles(store)).toEqual([]);
  }, 120_000);

  it('logs hclog JSON that Terraform parses under TF_LOG=debug, and never a sensitive value', async () => {
    const ws = toyWorkspace(path.join(dir, 'store-log'), fileResource('a', ALPHA));
    await ws.init();
    const debug = await ws.run(['apply', '-no-color', '-input=false', '-auto-approve'], { TF_LOG: 'debug' });
    expect(debug.code).toBe(0);
    // Parsed lines come out in Terraform's own format, with our fields as key=value.
    expect(debug.stderr).toMatch(/\[DEBUG\] provider\.terraform-provider-toy_v0\.1\.0: Received request: .*tf_rpc=PlanResourceChange/);
    expect(debug.stderr).toMatch(/\[INFO\]\s+provider\.terraform-provider-toy_v0\.1\.0: toy created: .*secret="\(sensitive value\)"/);
    // An unparsed line would show the raw JSON.
    expect(debug.stderr).not.toContain('"@message"');
    // Trace logs whole states: sensitive attributes stay masked.
    const trace = await ws.run(['plan', '-no-color', '-input=false'], { TF_LOG: 'trace' });
    expect(trace.stderr).toMatch(/\[TRACE\] provider\.terraform-provider-toy_v0\.1\.0: Read state: .*secret:\(sensitive value\)/);
    expect(debug.stderr + trace.stderr).not.toContain('s3cr3t-value');
  }, 120_000);
});

describe('schema calls', () => {
  it('asks for the schema in one plugin process of a plan; the others are served from its cache', async () => {
    const store = path.join(dir, 'store-schema');
    const ws = toyWorkspace(store, fileResource('a', ALPHA));
    await ws.init();
    await ws.apply();
    const trace = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'], { TF_LOG: 'trace' });
    // No changes: every process did its work without its own schema call.
    expect(trace.code).toBe(0);
    const started = trace.stderr.match(/\[DEBUG\] provider: plugin started: path=\S*terraform-provider-toy/g) ?? [];
    const schemaCalls = trace.stderr.match(/Received request: .*tf_rpc=GetProviderSchema/g) ?? [];
    expect(started.length).toBeGreaterThan(1);
    expect(schemaCalls).toHaveLength(1);
  }, 120_000);
});

/** The main.tf of a toy workspace (for rewriting it). */
function ws_main(store: string, resources: string): string {
  return ['terraform {', '  required_providers {', `    toy = { source = "${TOY_SOURCE}" }`, '  }', '}', `provider "toy" { directory = "${store}" }`, resources, ''].join('\n');
}

/**
 * The socket the toy's create waits on. Each connection says "waiting", maybe later
 * "stopping"; the test answers "go" or "abort" (or every create passes with `autoGo`).
 */
class Gate {
  readonly path: string;
  autoGo = false;
  private readonly server: net.Server;
  private readonly lines: { line: string; socket: net.Socket }[] = [];
  private waiter: (() => void) | undefined;

  constructor(dir: string) {
    this.path = path.join(dir, 'gate.sock');
    this.server = net.createServer((socket) => {
      let buffer = '';
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (this.autoGo && line === 'waiting') socket.write('go\n');
          else this.lines.push({ line, socket });
          this.waiter?.();
        }
      });
      socket.on('error', () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  /** The next line a create sent. */
  async next(): Promise<{ line: string; socket: net.Socket }> {
    while (this.lines.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = undefined;
    const next = this.lines.shift();
    if (!next) throw new Error('unreachable');
    return next;
  }

  close(): void {
    this.server.close();
  }
}

/**
 * Runs terraform in its own process group, as a terminal would, so the test can send
 * SIGINT to the whole group like Ctrl-C does. Same isolation as the harness's `run`.
 */
function runInProcessGroup(ws: TerraformWorkspace, args: readonly string[]): { pid: number; result: Promise<TerraformResult> } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TF_')));
  const child = spawn(ws.binary, ['-chdir=' + ws.dir, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: ws.cliConfigPath,
      TF_DATA_DIR: path.join(ws.dir, '.terraform'),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const result = new Promise<TerraformResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  if (child.pid === undefined) throw new Error('terraform did not start');
  return { pid: child.pid, result };
}

describe('Ctrl-C during a slow create', () => {
  for (const decision of ['go', 'abort'] as const) {
    it(`leaves state consistent when the in-flight create ${decision === 'go' ? 'completes' : 'gives up'}, and a second apply converges`, async () => {
      const store = path.join(dir, `store-interrupt-${decision}`);
      const ws = toyWorkspace(store, '');
      const gate = new Gate(ws.dir);
      await gate.listen();
      try {
        ws.write('main.tf', ws_main(store, fileResource('slow', { name: '"slow"', gate: JSON.stringify(gate.path) })));
        await ws.init();
        const apply = runInProcessGroup(ws, ['apply', '-no-color', '-input=false', '-auto-approve']);

        const waiting = await gate.next();
        expect(waiting.line).toBe('waiting');
        process.kill(-apply.pid, 'SIGINT'); // terraform and its plugins, like Ctrl-C
        // The plugin survived SIGINT and passed Terraform's StopProvider to the create.
        expect((await gate.next()).line).toBe('stopping');
        waiting.socket.write(`${decision}\n`);

        const interrupted = await apply.result;
        expect(interrupted.code).toBe(1);
        expect(interrupted.stdout).toContain('Interrupt received');
        expect(interrupted.stderr).not.toMatch(/plugin (crashed|exited)|Plugin did not respond|connection refused/i);
        const recorded = (await ws.ok(['state', 'list'])).stdout.trim();
        if (decision === 'go') {
          expect(interrupted.stdout).toContain('toy_file.slow: Creation complete');
          expect(recorded).toBe('toy_file.slow');
          expect(storeFiles(store)).toHaveLength(1);
        } else {
          expect(interrupted.stderr).toContain('Creation cancelled');
          expect(recorded).toBe('');
          expect(storeFiles(store)).toHaveLength(0);
        }

        gate.autoGo = true;
        await ws.apply();
        expect((await ws.plan()).code).toBe(0);
        expect((await ws.ok(['state', 'list'])).stdout.trim()).toBe('toy_file.slow');
        expect(storeFiles(store)).toHaveLength(1);
      } finally {
        gate.close();
      }
    }, 120_000);
  }
});
