/**
 * The adaptive provider as Terraform sees it: its configuration block and its resource
 * types. This is the one place that lists resources; `main.ts` serves what it returns.
 */
import { adaptiveEphemeralResources, adaptiveResources, configureAdaptive, providerSchema, type AdaptiveClient } from '../resources';
import { runtimeSecrets } from '../runtime';
import { defineProvider, type Provider } from '../provider';
import { providerVersion } from '../install/version';

/** The provider definition served by the plugin. */
export function adaptiveProvider(): Provider {
  return defineProvider<typeof providerSchema, AdaptiveClient>({
    typeName: 'adaptive',
    version: providerVersion(),
    schema: providerSchema,
    configure: (request) => configureAdaptive(request.config, request.logger, (secret) => request.redact(secret)),
    // What the runtime obtains at run time (secrets read or decrypted, passwords it generates).
    secrets: (add) => void runtimeSecrets.subscribe(add),
    resources: adaptiveResources,
    ephemeralResources: adaptiveEphemeralResources,
  });
}
