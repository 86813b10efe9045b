/**
 * What a provider author writes: `defineProvider` with a configuration schema, `configure`
 * and its resources; `resourceFactory<Client>()` (or `defineResource`) for each resource
 * with its schema and CRUD. The framework (`engine.ts`) does the Terraform-facing work.
 */
import type { ApplyDiagnostics, DiagnosticInput } from './diagnostics';
import type { Logger } from './log';
import type { ConfigOf, ModelOf, PlannedOf, ProviderSchema, ResourceSchema, ValidatorResult, WriteOnlyOf } from './schema';
import { schemaProblems } from './schema';
import type { AttributePath, PathStep } from './values';

/** What `private` may hold: anything JSON can carry (Terraform keeps it as opaque bytes). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What every resource method receives besides its values. */
export interface ResourceContext<P> {
  /** What the provider's `configure` returned. Throws when the provider is not configured. */
  readonly provider: P;
  /** Logs to Terraform's log (TF_LOG), tagged with the resource type. */
  readonly logger: Logger;
  /**
   * Aborted when Terraform asks the provider to stop (Ctrl-C). Work in flight should reach a
   * consistent point and return what it did: Terraform waits for it and records the result.
   */
  readonly signal: AbortSignal;
  /** Keeps a secret (e.g. a password read from a secret store) out of every log line. */
  redact(secret: string): void;
}

/** A resource's values by attribute name, partially: the framework fills in the rest. */
export type PartialModel<S extends ResourceSchema> = Partial<ModelOf<S>>;

/** An attribute path within resource `S`: one of its attribute names, then steps into the value. */
export type ResourcePath<S extends ResourceSchema> = readonly [keyof ModelOf<S> & string, ...PathStep[]];

/**
 * What `create`, `update` and `delete` receive to report warnings (the runtime's "done, but
 * ..."), each optionally at one of the resource's attributes: `diagnostics.addWarning(summary,
 * detail, ['ttl'])`. Reported warnings reach Terraform also when the method then throws.
 */
export type ResourceDiagnostics<S extends ResourceSchema> = ApplyDiagnostics<ResourcePath<S>>;

/** What `modifyPlan` may report. */
export interface ModifyPlanResult<S extends ResourceSchema> {
  /** Attributes whose change requires replacing the resource. */
  readonly requiresReplace?: readonly (keyof ModelOf<S> & string)[];
  readonly diagnostics?: readonly DiagnosticInput[];
}

/** A resource type: schema and lifecycle. Methods may be async; anything thrown becomes an error diagnostic. */
export interface ResourceDefinition<S extends ResourceSchema, P> {
  /** The resource type name, prefixed with the provider's name: `adaptive_group`. */
  readonly typeName: string;
  readonly schema: S;

  /** Cross-attribute checks at validate time. Any value may be unknown; check only known ones. */
  validateConfig?(request: { readonly config: ConfigOf<S> }): ValidatorResult | Promise<ValidatorResult>;

  /**
   * Adjusts the plan after defaults, unknowns and attribute plan modifiers: `plan` may be
   * changed in place. Not called when the resource is being destroyed.
   */
  modifyPlan?(request: {
    readonly config: ConfigOf<S>;
    readonly state: ModelOf<S> | null;
    readonly plan: ConfigOf<S>;
    readonly ctx: ResourceContext<P>;
  }): ModifyPlanResult<S> | undefined | void | Promise<ModifyPlanResult<S> | undefined | void>;

  /**
   * Creates the object. Returns the values the resource decided (computed attributes);
   * anything it leaves out is taken from the plan. Like `update` and `delete`, called only
   * when applying (ApplyResourceChange), never by plan, refresh, import or validate: the
   * place for writes, and for work that must not happen while only planning. What went
   * through with a caveat goes to `diagnostics` as a warning. Write-only attributes are
   * null in `plan`: their values are in `writeOnly` (and `config`).
   */
  create(request: {
    readonly plan: PlannedOf<S>;
    readonly config: ModelOf<S>;
    readonly writeOnly: WriteOnlyOf<S>;
    readonly ctx: ResourceContext<P>;
    readonly diagnostics: ResourceDiagnostics<S>;
  }): Promise<PartialModel<S>> | PartialModel<S>;

  /**
   * Reads the object's current values; null when it no longer exists (Terraform plans to
   * create it again). Runs during plan and refresh: read only, change nothing.
   */
  read(request: { readonly state: ModelOf<S>; readonly ctx: ResourceContext<P> }): Promise<PartialModel<S> | null> | PartialModel<S> | null;

  /**
   * Updates the object in place. Leave it out when every configurable attribute requires
   * replacement. Terraform plans an update only when a planned value changes: a new
   * write-only value alone does not (hence the `*_version` attribute users bump).
   */
  update?(request: {
    readonly plan: PlannedOf<S>;
    readonly state: ModelOf<S>;
    readonly config: ModelOf<S>;
    readonly writeOnly: WriteOnlyOf<S>;
    readonly ctx: ResourceContext<P>;
    readonly diagnostics: ResourceDiagnostics<S>;
  }): Promise<PartialModel<S>> | PartialModel<S>;

  /** Deletes the object. Deleting something already gone is not an error. */
  delete(request: { readonly state: ModelOf<S>; readonly ctx: ResourceContext<P>; readonly diagnostics: ResourceDiagnostics<S> }): Promise<void> | void;

  /**
   * `terraform import`: turns the user's import id into enough state for `read` to find the
   * object (usually `{ id }`); Terraform then calls `read`.
   */
  importState?(request: { readonly id: string; readonly ctx: ResourceContext<P> }): Promise<PartialModel<S>> | PartialModel<S>;

  /**
   * Converts state stored by an older schema version (`fromVersion`, as plain JSON) into the
   * current schema's shape. Called once per upgrade; return the new attribute values.
   */
  upgradeState?(request: { readonly fromVersion: number; readonly state: Readonly<Record<string, unknown>> }): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** A resource definition with its schema type erased, ready to serve. */
export interface Resource<P> {
  readonly typeName: string;
  readonly schema: ResourceSchema;
  /** @internal the untyped definition the engine calls. */
  readonly definition: ResourceDefinition<ResourceSchema, P>;
}

/** Raises a clear error when a schema declaration is unsound (at definition time, so a test or start-up catches it). */
function assertSchema(owner: string, problems: readonly string[]): void {
  if (problems.length) throw new Error(`Invalid schema for ${owner}:\n  - ${problems.join('\n  - ')}`);
}

function assertTypeName(typeName: string): void {
  if (!/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(typeName)) {
    throw new Error(`Resource type name "${typeName}" must be the provider name, an underscore, then lower case words`);
  }
}

/**
 * Returns `defineResource` bound to the provider's configured client type `P`, so resource
 * methods see `ctx.provider` typed:
 *
 * ```ts
 * const defineResource = resourceFactory<Client>();
 * export const widget = defineResource({ typeName: 'acme_widget', schema, create, read, update, delete });
 * ```
 */
export function resourceFactory<P>(): <const S extends ResourceSchema>(definition: ResourceDefinition<S, P>) => Resource<P> {
  return (definition) => {
    assertTypeName(definition.typeName);
    assertSchema(definition.typeName, schemaProblems(definition.typeName, definition.schema.attributes));
    return {
      typeName: definition.typeName,
      schema: definition.schema,
      definition: definition as unknown as ResourceDefinition<ResourceSchema, P>,
    };
  };
}

/** `resourceFactory` for resources that do not use the provider's configured client. */
export const defineResource = resourceFactory<unknown>();

/** What `open` may report besides its result (warnings, at one of the attributes). */
export type EphemeralDiagnostics<S extends ResourceSchema> = ApplyDiagnostics<ResourcePath<S>>;

/** What `open` returns. */
export interface OpenResult<S extends ResourceSchema, T extends JsonValue | undefined> {
  /** The computed attributes (configured ones are echoed by the framework). */
  readonly result: PartialModel<S>;
  /** When Terraform should call `renew`, if the run is still going then. */
  readonly renewAt?: Date;
  /** What `renew` and `close` need to find the object again (an id, a lease): JSON, opaque to Terraform. */
  readonly private?: T;
}

/** What `renew` returns. */
export interface RenewResult<T extends JsonValue | undefined> {
  /** The next renewal; without it Terraform renews no more. */
  readonly renewAt?: Date;
  /** Replaces the private data the next `renew` receives (not `close`: see `close`). */
  readonly private?: T;
}

/**
 * An ephemeral resource type (Terraform 1.10+ `ephemeral` blocks): a value Terraform opens
 * when it needs it, keeps alive with `renew` while the run lasts and closes at the end of
 * the run. Nothing of it is stored in plan or state. Terraform opens it during plan too
 * (unless its configuration is still unknown): `open` runs on every plan and apply, and
 * `close` follows in the same run.
 */
export interface EphemeralResourceDefinition<S extends ResourceSchema, P, T extends JsonValue | undefined> {
  /** The type name, prefixed with the provider's name: `adaptive_credential`. */
  readonly typeName: string;
  readonly schema: S;

  /** Cross-attribute checks at validate time. Any value may be unknown; check only known ones. */
  validateConfig?(request: { readonly config: ConfigOf<S> }): ValidatorResult | Promise<ValidatorResult>;

  /**
   * Opens the object: called with a wholly known configuration, during plan and apply. Returns
   * the computed attributes (`result`), optionally when to renew and private data for
   * `renew` and `close`. Values of sensitive attributes are kept out of logs.
   */
  open(request: { readonly config: ModelOf<S>; readonly ctx: ResourceContext<P>; readonly diagnostics: EphemeralDiagnostics<S> }): OpenResult<S, T> | Promise<OpenResult<S, T>>;

  /**
   * Extends the object's life once `renewAt` has passed, while the run still uses it.
   * Receives the latest private data (from `open`, or the previous `renew`).
   */
  renew?(request: { readonly private: T; readonly ctx: ResourceContext<P>; readonly diagnostics: ApplyDiagnostics }): RenewResult<T> | Promise<RenewResult<T>>;

  /**
   * Ends the object when Terraform no longer needs it (end of the run, plan included).
   * Receives the private data `open` returned: Terraform does not hand `renew`'s private
   * data to close, so keep in `open`'s what closing needs.
   */
  close?(request: { readonly private: T; readonly ctx: ResourceContext<P>; readonly diagnostics: ApplyDiagnostics }): void | Promise<void>;
}

/** An ephemeral resource definition with its types erased, ready to serve. */
export interface EphemeralResource<P> {
  readonly typeName: string;
  readonly schema: ResourceSchema;
  /** @internal the untyped definition the engine calls. */
  readonly definition: EphemeralResourceDefinition<ResourceSchema, P, JsonValue | undefined>;
}

/**
 * Returns `defineEphemeralResource` bound to the provider's configured client type `P`
 * (as `resourceFactory` does for resources).
 */
export function ephemeralResourceFactory<P>(): <const S extends ResourceSchema, T extends JsonValue | undefined = undefined>(
  definition: EphemeralResourceDefinition<S, P, T>,
) => EphemeralResource<P> {
  return (definition) => {
    assertTypeName(definition.typeName);
    if (definition.schema.version) throw new Error(`Ephemeral resource ${definition.typeName} has no stored state: its schema takes no version`);
    assertSchema(definition.typeName, schemaProblems(definition.typeName, definition.schema.attributes, 'other'));
    return {
      typeName: definition.typeName,
      schema: definition.schema,
      definition,
    };
  };
}

/** `ephemeralResourceFactory` for ephemeral resources that do not use the provider's configured client. */
export const defineEphemeralResource = ephemeralResourceFactory<unknown>();

/** What `configure` receives. */
export interface ConfigureRequest<S extends ProviderSchema> {
  /** The provider block's values (unknown parts possible when they depend on resources). */
  readonly config: ConfigOf<S>;
  readonly terraformVersion: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  redact(secret: string): void;
}

/** A provider: configuration schema, `configure`, and its resource types. */
export interface ProviderDefinition<S extends ProviderSchema, P> {
  /** The provider's local name and resource prefix: `adaptive`. */
  readonly typeName: string;
  /** The provider's version (shown in logs). */
  readonly version: string;
  readonly schema: S;
  /** Cross-attribute checks of the provider block at validate time. */
  validateConfig?(request: { readonly config: ConfigOf<S> }): ValidatorResult | Promise<ValidatorResult>;
  /** Turns the provider block into the client resources use (`ctx.provider`). */
  configure(request: ConfigureRequest<S>): P | Promise<P>;
  /**
   * Connects a source of secrets known only at run time (a password read from a secret
   * store, a generated credential) to the redactor that keeps them out of logs and
   * diagnostics. Called once, when the plugin starts serving; `add` may be called at any
   * time after, and must be called before the secret is used.
   */
  secrets?(add: (secret: string) => void): void;
  readonly resources: readonly Resource<P>[];
  /** Its ephemeral resource types (`ephemeral "x_y" {}` blocks), if any. */
  readonly ephemeralResources?: readonly EphemeralResource<P>[];
}

/** A provider ready to serve. */
export interface Provider {
  readonly typeName: string;
  readonly version: string;
  readonly schema: ProviderSchema;
  /** @internal */
  readonly definition: ProviderDefinition<ProviderSchema, unknown>;
  readonly resources: ReadonlyMap<string, Resource<unknown>>;
  readonly ephemeralResources: ReadonlyMap<string, EphemeralResource<unknown>>;
}

/** Declares a provider. Checks its schema and resource names up front. */
export function defineProvider<const S extends ProviderSchema, P>(definition: ProviderDefinition<S, P>): Provider {
  assertSchema(`provider ${definition.typeName}`, schemaProblems(`provider.${definition.typeName}`, definition.schema.attributes, 'other'));
  const byName = <R extends { readonly typeName: string }>(kind: string, list: readonly R[]): Map<string, R> => {
    const out = new Map<string, R>();
    for (const item of list) {
      if (!item.typeName.startsWith(definition.typeName + '_')) {
        throw new Error(`${kind} type "${item.typeName}" must start with the provider name "${definition.typeName}_"`);
      }
      if (out.has(item.typeName)) throw new Error(`${kind} type "${item.typeName}" is declared twice`);
      out.set(item.typeName, item);
    }
    return out;
  };
  return {
    typeName: definition.typeName,
    version: definition.version,
    schema: definition.schema,
    definition,
    resources: byName('Resource', definition.resources),
    ephemeralResources: byName('Ephemeral resource', definition.ephemeralResources ?? []),
  };
}

/** Re-exported for resource authors writing paths in diagnostics. */
export type { AttributePath };
