/** The adaptive provider's resource types and configuration, for the plugin's entry point. */
import { adaptiveAuthorization } from './adaptive-authorization';
import { adaptiveCredential } from './adaptive-credential';
import { adaptiveEndpoint } from './adaptive-endpoint';
import { adaptiveGroup } from './adaptive-group';
import { adaptiveResource } from './adaptive-resource';

export { configureAdaptive, providerSchema } from './provider-config';
export type { AdaptiveClient } from './common';

/** Every resource type the provider serves. */
export const adaptiveResources = [adaptiveResource, adaptiveAuthorization, adaptiveEndpoint, adaptiveGroup] as const;

/** Every ephemeral resource type the provider serves. */
export const adaptiveEphemeralResources = [adaptiveCredential] as const;
