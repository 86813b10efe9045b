/**
 * The plugin's entry point, bundled into the executable Terraform runs: a launcher that
 * prints the handshake line before it loads the server. The server (gRPC, the provider, its
 * resources and the runtime: a megabyte and more of code) is bundled apart, `serve.ts`, and
 * loaded after the line is out with the code cache written at install time.
 */
import path from 'node:path';
import { requireWithCodeCache } from '../provider/code-cache';
import { launchPlugin, type ServeAfterHandshake } from '../provider/launch';
import { providerVersion } from '../install/version';
// The bundler builds serve.ts into a file of its own and puts its path here.
import serveBundle from './serve?bundle-file';

launchPlugin({ typeName: 'adaptive', version: providerVersion() }, () => {
  const { exports, loadedWith } = requireWithCodeCache(path.resolve(__dirname, serveBundle));
  return Promise.resolve({ serve: (exports as { serve: ServeAfterHandshake }).serve, loadedWith });
});
