/**
 * The plugin process as Terraform meets it: refusal when started by hand, the handshake
 * line, gRPC over mutual TLS on the unix socket, SIGINT ignored, clean exit on Shutdown,
 * JSON logs only when asked, and no lingering process when Terraform disappears.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../src/provider/server';
import { bundle, cleanup, clientIdentity, connect, startPlugin, tempDir, type RunningPlugin } from './support';

let dir: string;
let toyBundle: string;
let mainBundle: string;
const running: RunningPlugin[] = [];

beforeAll(async () => {
  dir = tempDir('toy-plugin-');
  [toyBundle, mainBundle] = await Promise.all([bundle('test/provider/toy/main.ts', dir, 'toy'), bundle('src/plugin/main.ts', dir, 'adaptive')]);
});

afterAll(() => {
  for (const p of running) p.child.kill('SIGKILL');
  cleanup(dir);
});

async function start(env: Readonly<Record<string, string>> = {}, bundlePath = toyBundle): Promise<RunningPlugin> {
  const plugin = await startPlugin(bundlePath, dir, env);
  running.push(plugin);
  return plugin;
}

describe('plugin process', () => {
  it('explains itself and exits 1 when started by hand', async () => {
    const child = spawn(process.execPath, [mainBundle], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/This is a Terraform provider plugin \(adaptive \d+\.\d+\.\d+\), not a program to run directly/);
  });

  it('prints the go-plugin handshake line with its certificate as unpadded base64 DER', async () => {
    const plugin = await start();
    expect(plugin.line).toMatch(/^1\|6\|unix\|[^|]+\|grpc\|[A-Za-z0-9+/]+$/);
    expect(path.dirname(plugin.socketPath)).toBe(dir);
    expect(existsSync(plugin.socketPath)).toBe(true);
    const cert = new X509Certificate(plugin.serverCertPem);
    expect(cert.ca).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:localhost');
    await (await connect(plugin)).shutdown();
    expect(await plugin.exited).toBe(0);
  });

  it('serves tfplugin6 over mutual TLS, refusing clients without Terraform’s certificate', async () => {
    const plugin = await start();
    const good = await connect(plugin);
    const schema = await good.provider('GetProviderSchema');
    expect(Object.keys(schema.resource_schemas as object)).toEqual(['toy_file', 'toy_account']);
    expect(Object.keys(schema.ephemeral_resource_schemas as object)).toEqual(['toy_token']);
    const account = (schema.resource_schemas as Record<string, { block: { attributes: { name: string; write_only: boolean }[] } }>).toy_account;
    expect(account?.block.attributes.find((a) => a.name === 'password_wo')?.write_only).toBe(true);
    expect(await good.health()).toEqual({ status: 1 }); // SERVING

    for (const identity of [null, clientIdentity()]) {
      const bad = await connect(plugin, identity);
      await expect(bad.provider('GetProviderSchema')).rejects.toMatchObject({ code: 14 }); // UNAVAILABLE: handshake refused
      bad.close();
    }
    await good.shutdown();
    good.close();
    expect(await plugin.exited).toBe(0);
    expect(existsSync(plugin.socketPath)).toBe(false);
  });

  it('ignores SIGINT (Ctrl-C reaches the whole process group) and keeps serving', async () => {
    const plugin = await start();
    const client = await connect(plugin);
    plugin.child.kill('SIGINT');
    const metadata = await client.provider('GetMetadata');
    expect(metadata.resources).toEqual([{ type_name: 'toy_file' }, { type_name: 'toy_account' }]);
    expect(metadata.ephemeral_resources).toEqual([{ type_name: 'toy_token' }]);
    await client.shutdown();
    client.close();
    expect(await plugin.exited).toBe(0);
  });

  it('writes hclog JSON lines on stderr under TF_LOG, and nothing without it', async () => {
    const quiet = await start();
    const loud = await start({ TF_LOG: 'debug' });
    for (const plugin of [quiet, loud]) {
      const client = await connect(plugin);
      await client.provider('GetProviderSchema');
      await client.shutdown();
      client.close();
      expect(await plugin.exited).toBe(0);
    }
    expect(quiet.stderr()).toBe('');
    const lines = loud.stderr().trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry['@timestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      expect(['debug', 'info', 'warn', 'error']).toContain(entry['@level']);
      expect(entry['@module']).toBe('toy');
    }
    expect(lines.some((l) => l.includes('"tf_rpc":"GetProviderSchema"'))).toBe(true);
  });

  it('keeps serving, and exits on Shutdown, when its log pipe breaks', async () => {
    const plugin = await start({ TF_LOG: 'trace' });
    const client = await connect(plugin);
    // Terraform gone or not reading: every log write now fails with EPIPE.
    plugin.child.stderr.destroy();
    for (let i = 0; i < 3; i++) expect(await client.provider('GetMetadata')).toMatchObject({ resources: [{ type_name: 'toy_file' }, { type_name: 'toy_account' }] });
    await client.shutdown();
    client.close();
    expect(await plugin.exited).toBe(0);
  });

  it('serves the adaptive provider from the real entry point', async () => {
    const plugin = await start({}, mainBundle);
    const client = await connect(plugin);
    const schema = await client.provider('GetProviderSchema');
    const block = (schema.provider as { block?: { description?: string } }).block;
    expect(block?.description).toContain('Time-limited, per-person access to PostgreSQL');
    await client.shutdown();
    client.close();
    expect(await plugin.exited).toBe(0);
  });

  it('exits when Terraform disappears without shutting it down', async () => {
    // A stand-in for Terraform that starts the plugin and is then killed. The plugin shares
    // its stderr pipe, so the pipe closes only once the plugin has exited too.
    const launcher = [
      "const { spawn } = require('node:child_process');",
      `spawn(process.execPath, [${JSON.stringify(toyBundle)}], { stdio: ['ignore', 'inherit', 'inherit'] });`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const client = clientIdentity();
    const parent = spawn(process.execPath, ['-e', launcher], {
      env: { PATH: process.env.PATH ?? '', [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_CLIENT_CERT: client.certPem, PLUGIN_UNIX_SOCKET_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    await new Promise<void>((resolve) =>
      parent.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) resolve();
      }),
    );
    const socketPath = stdout.split('|')[3] ?? '';
    expect(existsSync(socketPath)).toBe(true);
    const stderrClosed = new Promise<void>((resolve) => parent.stderr.once('close', () => resolve()));
    parent.stderr.resume();
    parent.kill('SIGKILL');
    await stderrClosed;
    expect(existsSync(socketPath)).toBe(false);
  });
});
