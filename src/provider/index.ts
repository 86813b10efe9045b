/**
 * The provider framework, for resource authors (src/resources): schemas, resource and
 * provider definitions, diagnostics, values, validators and plan modifiers.
 *
 * Deliberately nothing else: whatever this module imports ends up in the plugin bundle.
 * The server (`./server`) is started by the plugin's entry point, src/plugin/main.ts;
 * bundling and installing are in src/install.
 */
export { attr, type Attribute, type AttributeOptions, type ConfigOf, type ModelOf, type PlannedOf, type PlanModifier, type ProviderSchema, type ResourceSchema, type Validator, type WriteOnlyOf } from './schema';
export {
  defineEphemeralResource,
  ephemeralResourceFactory,
  type EphemeralResource,
  type EphemeralResourceDefinition,
  type JsonValue,
  type OpenResult,
  type RenewResult,
} from './resource';
export { defineProvider, defineResource, resourceFactory, type ModifyPlanResult, type Provider, type Resource, type ResourceContext, type ResourceDefinition, type ResourceDiagnostics, type ResourcePath } from './resource';
export { error, warning, ResourceError, type ApplyDiagnostics, type Diagnostic, type DiagnosticInput } from './diagnostics';
export { types, UNKNOWN, isUnknown, isWhollyKnown, type AttributePath, type Known, type MaybeUnknown, type TfType, type UnknownValue } from './values';
export { requiresReplace, requiresReplaceIf, useStateForUnknown } from './planmodifiers';
export { between, lengthBetween, matches, minItems, oneOf } from './validators';
export type { Logger } from './log';
