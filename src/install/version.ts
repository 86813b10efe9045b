/** The provider's version: fixed into the bundle at build time, else read from package.json. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** This package's version, from the package.json found by walking up from `from`. */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'adaptive-access' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) throw new Error('package.json of adaptive-access not found');
  }
}

/** The version the running plugin reports. */
export function providerVersion(): string {
  // Replaced by a string literal when bundled (see bundle.ts).
  return process.env.ADAPTIVE_PROVIDER_VERSION ?? packageVersion();
}
