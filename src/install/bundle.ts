/**
 * Bundles a plugin entry point into one CommonJS file with esbuild. One file means one
 * read and no module resolution at start-up, which is most of a Node plugin's cold start.
 * Used by the test suite and the CLI's `install`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';
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

/**
 * pg picks its socket implementation as it loads by asking whether it runs in a Cloudflare
 * Worker, and the question touches Node's global `Response`, which makes Node load its whole
 * fetch implementation (undici): some 40 ms of every process that loads pg. The plugin runs
 * on Node only, so the bundle's pg takes Node's sockets without asking. A pg whose source no
 * longer reads as expected fails the bundle rather than silently keeping the cost.
 */
const nodeOnlyPg: Plugin = {
  name: 'node-only-pg',
  setup(build) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const probe = 'if (isCloudflareRuntime()) {';
      if (!source.includes(probe)) throw new Error(`pg's ${args.path} no longer contains "${probe}": review nodeOnlyPg in src/install/bundle.ts`);
      return { contents: source.replace(probe, 'if (false) {'), loader: 'js' };
    });
  },
};

/** The file a `?bundle-file` import of `modulePath` becomes, next to `outfile`. */
export function partFileName(outfile: string, modulePath: string): string {
  return `${path.basename(outfile, '.cjs')}.${path.basename(modulePath).replace(/\.[cm]?[jt]s$/, '')}.cjs`;
}

/**
 * `import file from './module?bundle-file'`: bundles the module into a file of its own next
 * to `outfile` (same options) and gives the importer its file name. A launcher can so print
 * the plugin's handshake line before the bulk of the code is even read.
 */
function separateBundles(outfile: string, build: (options: BundleOptions) => Promise<string>): Plugin {
  return {
    name: 'separate-bundles',
    setup(esbuild) {
      esbuild.onResolve({ filter: /\?bundle-file$/ }, (args) => {
        const base = path.resolve(args.resolveDir, args.path.replace(/\?bundle-file$/, ''));
        const found = ['', '.ts', '.js'].map((ext) => base + ext).find((candidate) => existsSync(candidate));
        if (!found) return { errors: [{ text: `Cannot find ${args.path} for a separate bundle` }] };
        return { path: found, namespace: 'bundle-file' };
      });
      esbuild.onLoad({ filter: /.*/, namespace: 'bundle-file' }, async (args) => {
        const fileName = partFileName(outfile, args.path);
        await build({ entry: args.path, outfile: path.join(path.dirname(outfile), fileName) });
        return { contents: `export default ${JSON.stringify(fileName)};`, loader: 'js' };
      });
    },
  };
}

/**
 * Bundles `entry` to `outfile`; resolves to the output path. Modules the entry imports with
 * `?bundle-file` become files of their own next to it (`<outfile name>.<module>.cjs`), which
 * `writeFilesystemMirror` installs along.
 */
export async function bundlePlugin(options: BundleOptions): Promise<string> {
  // Loaded lazily: esbuild is a build-time tool and the plugin itself never needs it.
  const esbuild = await import('esbuild');
  mkdirSync(path.dirname(options.outfile), { recursive: true });
  const part = (partOptions: BundleOptions): Promise<string> =>
    bundlePlugin({ ...partOptions, ...(options.minify === undefined ? {} : { minify: options.minify }), ...(options.version === undefined ? {} : { version: options.version }) });
  const settings: BuildOptions = {
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
    plugins: [withoutLong, nodeOnlyPg, separateBundles(options.outfile, part)],
    // The version is fixed at bundle time: the installed plugin has no package.json nearby.
    define: { 'process.env.ADAPTIVE_PROVIDER_VERSION': JSON.stringify(options.version ?? packageVersion()) },
  };
  await esbuild.build(settings);
  return options.outfile;
}
