/**
 * Bundles a plugin entry point into one CommonJS file with esbuild. One file means one
 * read and no module resolution at start-up, which is most of a Node plugin's cold start.
 * Used by the test suite and the CLI's `install`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { packageVersion } from './version';

/** Options for `bundlePlugin`. */
export interface BundleOptions {
  /** The entry module (TypeScript), e.g. `src/plugin/main.ts`. */
  readonly entry: string;
  /** Where to write the bundle (`.cjs`). */
  readonly outfile: string;
  /** Minify (default true): smaller files parse faster. */
  readonly minify?: boolean;
  /** The version the plugin reports; package.json's by default. */
  readonly version?: string;
}

/**
 * protobufjs uses the `long` package for 64-bit integers when it can load it, and `long`
 * compiles a WebAssembly module as it loads (several milliseconds of every start). The
 * framework converts 64-bit fields to plain numbers anyway, so the bundle gets a `long`
 * that is absent, which protobufjs is written to accept.
 */
const withoutLong: Plugin = {
  name: 'without-long',
  setup(build) {
    build.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'absent' }));
    build.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({ contents: 'module.exports = null;' }));
  },
};

/** Bundles `entry` to `outfile`; resolves to the output path. */
export async function bundlePlugin(options: BundleOptions): Promise<string> {
  // Loaded lazily: esbuild is a build-time tool and the plugin itself never needs it.
  const esbuild = await import('esbuild');
  mkdirSync(path.dirname(options.outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: options.minify ?? true,
    // Stack traces in logs stay readable with names kept.
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    // grpc-js requires the proto loader only for channelz and ORCA, which are never served
    // here; leaving it out keeps a second protobuf stack out of the bundle.
    // esbuild itself never belongs in a plugin, should the entry reach this module.
    external: ['@grpc/proto-loader', 'esbuild'],
    plugins: [withoutLong],
    // The version is fixed at bundle time: the installed plugin has no package.json nearby.
    define: { 'process.env.ADAPTIVE_PROVIDER_VERSION': JSON.stringify(options.version ?? packageVersion()) },
  });
  return options.outfile;
}
