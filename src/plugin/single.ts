/**
 * The plugin as one file, for the single executable a release ships (src/release): there
 * `require` reaches only Node's built-in modules, so the server part cannot be a file of its
 * own as in the installed mirror (`main.ts`). The launcher still prints the handshake line
 * first; the server's module bodies run only after it (esbuild keeps a bundled dynamic
 * import lazy), and the executable's own V8 code cache covers the whole file.
 */
import { launchPlugin } from '../provider/launch';
import { providerVersion } from '../install/version';

launchPlugin({ typeName: 'adaptive', version: providerVersion() }, async () => {
  const { serve } = await import('./serve');
  return { serve, loadedWith: 'single executable' };
});
