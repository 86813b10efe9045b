/**
 * Loads a CommonJS bundle with V8's code cache, the way Node's own loader would run it
 * (same wrapper, `require` relative to the file) but with the compiled code taken from
 * `<file>.v8cache` when one lies next to it. Compiling a bundle of a megabyte or more is most
 * of what a Node plugin spends before its first answer; the cache, written at install time
 * by `src/install` (`writeCodeCache`, which must wrap the source the same way), skips it.
 * V8 checks the cache against the source and its own version and flags: a cache that does
 * not fit is rejected and the source compiled as usual, so a stale one only costs time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** The code cache's file name for a bundle. */
export function codeCachePath(file: string): string {
  return `${file}.v8cache`;
}

/** Node's CommonJS wrapper (`Module.wrap`), spelled out so the install-time writer can match it. */
export const CJS_WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
export const CJS_WRAPPER_TAIL = '\n});';

/** The module's exports, and how it was compiled (`code cache accepted`, `... rejected`, `no code cache`). */
export function requireWithCodeCache(file: string): { exports: unknown; loadedWith: string } {
  const source = readFileSync(file, 'utf8');
  const cacheFile = codeCachePath(file);
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(CJS_WRAPPER_HEAD + source + CJS_WRAPPER_TAIL, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // The bundle keeps a few `import('node:...')` (in the AWS SDK): served by Node's loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const loadedWith = cachedData === undefined ? 'no code cache' : script.cachedDataRejected ? 'code cache rejected' : 'code cache accepted';
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return { exports: module.exports, loadedWith };
}
