/**
 * The installed plugin's start as Terraform pays it: a small launcher prints the handshake
 * line before the server part (gRPC, the provider, the runtime) is even read, and the server
 * part loads with the V8 code cache written at install time. A cache that does not fit is
 * rejected by V8 and the plugin still serves; a server part that cannot load is reported
 * after the handshake, on stderr, with exit 1.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFilesystemMirror, PROVIDER_SOURCE } from '../../src/install/mirror';
import { packageVersion } from '../../src/install/version';
import { bundle, cleanup, connect, startPlugin, tempDir, type RunningPlugin } from './support';

let dir: string;
let packageDir: string;
const running: RunningPlugin[] = [];

beforeAll(async () => {
  dir = tempDir('adaptive-launch-');
  const launcher = await bundle('src/plugin/main.ts', dir, 'adaptive');
  ({ packageDir } = writeFilesystemMirror({ mirrorDir: path.join(dir, 'mirror'), sourceAddress: PROVIDER_SOURCE, version: packageVersion(), pluginEntry: launcher }));
});

afterAll(() => {
  for (const p of running) p.child.kill('SIGKILL');
  cleanup(dir);
});

const launcherIn = (pkg: string): string => path.join(pkg, 'adaptive-plugin.cjs');
const serverPartIn = (pkg: string): string => path.join(pkg, 'adaptive.serve.cjs');

/** A copy of the installed package, to break one file of it. */
function packageCopy(name: string): string {
  const copy = path.join(dir, name);
  execFileSync('cp', ['-r', packageDir, copy]);
  return copy;
}

async function start(pkg: string): Promise<RunningPlugin> {
  const plugin = await startPlugin(launcherIn(pkg), dir, { TF_LOG: 'debug' });
  running.push(plugin);
  return plugin;
}

/** Asks for the schema, shuts the plugin down, and returns how its server part was loaded. */
async function servesAndReportsLoading(plugin: RunningPlugin): Promise<string> {
  const client = await connect(plugin);
  const schema = await client.provider('GetProviderSchema');
  expect(Object.keys(schema.resource_schemas as object)).toContain('adaptive_group');
  await client.shutdown();
  client.close();
  expect(await plugin.exited).toBe(0);
  return /"loaded_with":"([^"]+)"/.exec(plugin.stderr())?.[1] ?? 'not logged';
}

describe('installed plugin start', () => {
  it('installs a small launcher, the server part and its code cache', () => {
    const files = readdirSync(packageDir).sort();
    expect(files).toEqual(['adaptive-plugin.cjs', 'adaptive.serve.cjs', 'adaptive.serve.cjs.v8cache', `terraform-provider-adaptive_v${packageVersion()}`]);
    // What runs before the handshake line: a few kilobytes, not the megabyte of the server.
    expect(statSync(launcherIn(packageDir)).size).toBeLessThan(32 * 1024);
    expect(statSync(serverPartIn(packageDir)).size).toBeGreaterThan(256 * 1024);
  });

  it('loads the server part with the code cache written at install', async () => {
    expect(await servesAndReportsLoading(await start(packageDir))).toBe('code cache accepted');
  });

  it('still serves when the code cache does not fit (V8 rejects it and compiles the source)', async () => {
    const pkg = packageCopy('stale-cache');
    writeFileSync(`${serverPartIn(pkg)}.v8cache`, Buffer.alloc(4096, 7));
    expect(await servesAndReportsLoading(await start(pkg))).toBe('code cache rejected');
  });

  it('prints the handshake line before reading the server part; one that cannot load exits 1 with the reason', async () => {
    const pkg = packageCopy('no-server-part');
    renameSync(serverPartIn(pkg), `${serverPartIn(pkg)}.moved`);
    const plugin = await start(pkg);
    expect(plugin.line).toMatch(/^1\|6\|unix\|[^|]+\|grpc\|[A-Za-z0-9+/]+$/);
    expect(await plugin.exited).toBe(1);
    expect(plugin.stderr()).toMatch(/The adaptive provider plugin failed to start: .*ENOENT.*adaptive\.serve\.cjs/);
  });

  it('loads pg without Node’s fetch implementation (undici), which pg’s own runtime sniffing pulls in', () => {
    const undiciLoadedBy = (module: string): boolean =>
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(module)}); process.stdout.write(String(process.moduleLoadList.includes('NativeModule internal/deps/undici/undici')))`], {
        encoding: 'utf8',
        cwd: dir,
      }) === 'true';
    // pg as published does: the check below would see it.
    expect(undiciLoadedBy(require.resolve('pg'))).toBe(true);
    // The server part loads pg as it loads (the runtime imports it at the top).
    expect(undiciLoadedBy(serverPartIn(packageDir))).toBe(false);
  });
});
