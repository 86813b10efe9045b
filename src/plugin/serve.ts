/** The server half of the plugin, loaded by `main.ts` once the handshake line is out. */
import { serveAfterHandshake } from '../provider/server';
import type { Handoff } from '../provider/launch';
import { adaptiveProvider } from './provider';

/** Serves the adaptive provider on the launcher's socket. */
export function serve(handoff: Handoff): Promise<void> {
  return serveAfterHandshake(adaptiveProvider(), handoff);
}
