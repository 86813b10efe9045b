#!/usr/bin/env node
// The adaptive-access command.
//
// Installed from the npm package there is no src/ (package.json "files" ships dist/ only):
// the compiled CLI runs at once, with no modification times compared and no tsx needed.
// In a clone, it runs the compiled CLI in dist/ (made by `npm run build`) when it is at
// least as new as every TypeScript source and source directory; otherwise the sources
// themselves through tsx (a devDependency). So a fresh clone works before any build, and
// an edited tree never runs an outdated build. Comparing modification times costs a few
// milliseconds; a build makes the next start fast again.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');
const sourceDir = path.join(root, 'src');
const source = path.join(sourceDir, 'cli', 'main.ts');
// The CLI is CommonJS (compiled or through tsx): loaded with require, exactly as built.
const load = createRequire(import.meta.url);

/**
 * The CLI's entry point, from the module in `file`.
 * @param {string} file
 * @returns {() => void}
 */
function mainOf(file) {
  /** @type {unknown} */
  const mod = load(file);
  if (typeof mod === 'object' && mod !== null && 'main' in mod && typeof mod.main === 'function') {
    return /** @type {() => void} */ (mod.main);
  }
  throw new Error(`${file} does not export main()`);
}

/**
 * The newest modification time under `dir`: of .ts files, and of directories, whose time
 * changes when a file is added, renamed or deleted.
 * @param {string} dir
 * @returns {number}
 */
function newestSource(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

/** @returns {boolean} */
function tsxInstalled() {
  try {
    import.meta.resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

/** @returns {'compiled' | 'source' | 'stale-compiled' | 'none'} */
function choose() {
  const built = existsSync(compiled) ? statSync(compiled).mtimeMs : undefined;
  // The installed package (or a tree without sources): only the build can run.
  if (!existsSync(source)) return built === undefined ? 'none' : 'compiled';
  if (built !== undefined && newestSource(sourceDir) <= built) return 'compiled';
  if (tsxInstalled()) return 'source';
  // Installed without devDependencies: an older build is better than nothing.
  return built === undefined ? 'none' : 'stale-compiled';
}

const how = choose();
if (how === 'none') {
  process.stderr.write(
    'adaptive-access: error: the CLI is neither built nor runnable from source. ' +
      'Reinstall the adaptive-access package, or run npm ci (and npm run build) in its repository.\n',
  );
  process.exitCode = 1;
} else if (how === 'source') {
  // Compiler settings of this repository, whatever the working directory.
  process.env.TSX_TSCONFIG_PATH ??= path.join(root, 'tsconfig.json');
  // tsx's loader hooks both require() of .ts files and the import() that loads each
  // command lazily, as `node --import tsx` would.
  const loader = 'tsx'; // a name rather than a literal: tsx ships no types for its loader
  await import(loader);
  mainOf(source)();
} else {
  if (how === 'stale-compiled') {
    process.stderr.write('adaptive-access: warning: dist/ is older than the sources; run npm run build.\n');
  }
  mainOf(compiled)();
}
