/**
 * Schemas: what a provider or resource accepts and stores. Attributes are declared with
 * `attr.*` builders that keep their options' literal types, so `ModelOf<typeof schema>`
 * gives the resource a typed view of its configuration and state.
 */
import type { DiagnosticInput } from './diagnostics';
import type { AttributePath, Known, MaybeUnknown, TfType, UnknownValue } from './values';
import { valuesEqual } from './values';

/** What a validator returns: nothing (valid), an error detail, or diagnostics (paths relative to the attribute). */
export type ValidatorResult = undefined | void | string | DiagnosticInput | readonly DiagnosticInput[];

/** Context a validator sees besides the value. */
export interface ValidatorContext {
  /** The attribute's path (for messages). */
  readonly path: AttributePath;
  /** The attribute's name. */
  readonly attribute: string;
  /** The whole configuration object (any part may be unknown). */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * Checks a configured value. Runs at validate time, only when the value is non-null and
 * wholly known (an unknown value is checked again once known, at apply).
 */
export type Validator<V> = (value: V, context: ValidatorContext) => ValidatorResult;

/** What a plan modifier sees for one attribute. */
export interface PlanModifierRequest<V> {
  /** The attribute's name. */
  readonly attribute: string;
  /** The attribute's type (for comparisons that must treat sets as unordered). */
  readonly type: TfType;
  /** The configured value (null when unset). */
  readonly config: MaybeUnknown<V> | null;
  /** The value in prior state; undefined when the resource is being created. */
  readonly state: V | null | undefined;
  /** The value planned so far. */
  readonly plan: MaybeUnknown<V> | null;
  /** Whether the resource is being created (there is no prior state). */
  readonly creating: boolean;
}

/** What a plan modifier may change. */
export interface PlanModifierResult<V> {
  /** A new planned value. */
  readonly plan?: MaybeUnknown<V> | null;
  /** Whether a change to this attribute requires replacing the resource. */
  readonly requiresReplace?: boolean;
  /** Diagnostics, with paths relative to the attribute. */
  readonly diagnostics?: readonly DiagnosticInput[];
}

/** Adjusts one attribute's planned value (requires-replace, use-state-for-unknown, ...). */
export interface PlanModifier<V> {
  /** For documentation and logs. */
  readonly description: string;
  modify(request: PlanModifierRequest<V>): PlanModifierResult<V> | undefined | void;
}

/** Options every attribute takes. Exactly one of required / optional / computed (or optional + computed). */
export interface AttributeOptions<V> {
  /** Shown in documentation and generated bindings. Required: every attribute is documented. */
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  /** Terraform hides the value in plans and output; the plugin keeps it out of logs. */
  readonly sensitive?: boolean;
  /**
   * For a sensitive attribute that holds objects: the fields that are secrets, masked in
   * logs and diagnostics wherever they appear. Without it every string in the value is;
   * with it the other fields (a member's email, a host) stay readable in messages.
   */
  readonly secretFields?: readonly string[];
  /** A deprecation message; the attribute still works. */
  readonly deprecated?: string;
  /**
   * Write-only (Terraform 1.11+, managed resources only): the configured value reaches
   * `create` and `update` (`writeOnly`, `config`) but is never planned nor stored: plan and
   * state always hold null, and a change to it alone plans nothing. Pair it with a
   * `*_version` attribute the user bumps to apply a new value. Never computed, no default.
   * Its value is kept out of logs like a sensitive one's.
   */
  readonly writeOnly?: boolean;
  readonly validators?: readonly Validator<V>[];
  readonly planModifiers?: readonly PlanModifier<V>[];
  /** Value planned when the configuration leaves the attribute unset (needs optional + computed). */
  readonly default?: V;
}

/** A declared attribute: its type and options. */
export interface Attribute<T extends TfType = TfType, O extends AttributeOptions<Known<T>> = AttributeOptions<Known<T>>> {
  readonly type: T;
  readonly options: O;
}

/** A plan modifier with its value type erased. */
export interface AnyPlanModifier {
  readonly description: string;
  modify(request: PlanModifierRequest<never>): PlanModifierResult<unknown> | undefined | void;
}

/** Attribute options with the value type erased. */
export interface AnyAttributeOptions {
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  readonly secretFields?: readonly string[];
  readonly deprecated?: string;
  readonly writeOnly?: boolean;
  readonly validators?: readonly Validator<never>[];
  readonly planModifiers?: readonly AnyPlanModifier[];
  readonly default?: unknown;
}

/** An attribute with its value type erased (what the framework iterates over). */
export interface AnyAttribute {
  readonly type: TfType;
  readonly options: AnyAttributeOptions;
}

/** A block's attributes by name. */
export type Attributes = Readonly<Record<string, AnyAttribute>>;

/** A resource's schema. Bump `version` and implement `upgradeState` when stored state changes shape. */
export interface ResourceSchema {
  readonly version?: number;
  readonly description: string;
  readonly deprecated?: string;
  readonly attributes: Attributes;
}

/** A provider configuration schema (the `provider "x" {}` block). */
export interface ProviderSchema {
  readonly description: string;
  readonly attributes: Attributes;
}

function build<T extends TfType>(type: T) {
  return <const O extends AttributeOptions<Known<T>>>(options: O): Attribute<T, O> => ({ type, options });
}

/** Attribute builders. `attr.string({ required: true, description: '...' })`. */
export const attr = {
  string: build('string'),
  number: build('number'),
  bool: build('bool'),
  list: <const E extends TfType, const O extends AttributeOptions<Known<readonly ['list', E]>>>(element: E, options: O): Attribute<readonly ['list', E], O> => ({
    type: ['list', element],
    options,
  }),
  set: <const E extends TfType, const O extends AttributeOptions<Known<readonly ['set', E]>>>(element: E, options: O): Attribute<readonly ['set', E], O> => ({
    type: ['set', element],
    options,
  }),
  map: <const E extends TfType, const O extends AttributeOptions<Known<readonly ['map', E]>>>(element: E, options: O): Attribute<readonly ['map', E], O> => ({
    type: ['map', element],
    options,
  }),
  object: <const A extends { readonly [name: string]: TfType }, const O extends AttributeOptions<Known<readonly ['object', A]>>>(
    attributes: A,
    options: O,
  ): Attribute<readonly ['object', A], O> => ({ type: ['object', attributes], options }),
};

type ValueOf<A> = A extends Attribute<infer T, infer O> ? (O extends { required: true } ? Known<T> : Known<T> | null) : never;
type IsWriteOnly<A> = A extends Attribute<TfType, infer O> ? (O extends { writeOnly: true } ? true : false) : false;
type IsComputed<A> = A extends Attribute<TfType, infer O> ? (O extends { computed: true } ? true : false) : false;

/** The typed model of a schema: one property per attribute; optional and computed ones may be null. */
export type ModelOf<S extends { readonly attributes: Attributes }> = {
  -readonly [K in keyof S['attributes']]: ValueOf<S['attributes'][K]>;
};

/** The configuration as validation and planning see it: any part may be unknown. */
export type ConfigOf<S extends { readonly attributes: Attributes }> = {
  -readonly [K in keyof S['attributes']]: MaybeUnknown<ValueOf<S['attributes'][K]>>;
};

/**
 * The planned state as `create` and `update` see it: configured attributes are known at
 * apply time; computed ones may still be unknown, for the resource to decide.
 */
export type PlannedOf<S extends { readonly attributes: Attributes }> = {
  -readonly [K in keyof S['attributes']]: IsComputed<S['attributes'][K]> extends true
    ? ValueOf<S['attributes'][K]> | UnknownValue
    : ValueOf<S['attributes'][K]>;
};

/** The names of a schema's write-only attributes. */
export type WriteOnlyNames<S extends { readonly attributes: Attributes }> = {
  [K in keyof S['attributes']]: IsWriteOnly<S['attributes'][K]> extends true ? K : never;
}[keyof S['attributes']];

/**
 * The configured values of a schema's write-only attributes, as `create` and `update`
 * receive them (`writeOnly.password_wo`): the only place they exist, since plan and state
 * hold null for them.
 */
export type WriteOnlyOf<S extends { readonly attributes: Attributes }> = {
  -readonly [K in WriteOnlyNames<S>]: ValueOf<S['attributes'][K]>;
};

/**
 * Checks a schema declaration for mistakes Terraform would reject late or confusingly, and
 * returns them as messages (empty when sound). The framework refuses to serve otherwise.
 */
export function schemaProblems(owner: string, attributes: Attributes, kind: 'managed' | 'other' = 'managed'): string[] {
  const problems: string[] = [];
  for (const [name, attribute] of Object.entries(attributes)) {
    const o = attribute.options;
    const where = `${owner}.${name}`;
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) problems.push(`${where}: attribute names are lower case letters, digits and underscores`);
    if (name === 'count' || name === 'for_each' || name === 'depends_on' || name === 'lifecycle' || name === 'provider') {
      problems.push(`${where}: "${name}" is reserved by Terraform`);
    }
    if (!o.description || !o.description.trim()) problems.push(`${where}: every attribute needs a description`);
    if (!o.required && !o.optional && !o.computed) problems.push(`${where}: must be required, optional or computed`);
    if (o.required && (o.optional || o.computed)) problems.push(`${where}: required cannot be combined with optional or computed`);
    if (o.default !== undefined) {
      if (!o.optional || !o.computed) problems.push(`${where}: a default needs optional and computed`);
      else if (valuesEqual(attribute.type, o.default, null)) problems.push(`${where}: a default cannot be null`);
    }
    if (!o.required && !o.optional && o.validators?.length) problems.push(`${where}: validators on a computed-only attribute never run`);
    if (o.secretFields && !o.sensitive) problems.push(`${where}: secretFields only apply to a sensitive attribute`);
    if (o.writeOnly && kind !== 'managed') problems.push(`${where}: write-only attributes exist only in managed resources`);
    if (o.writeOnly) {
      // Terraform requires a write-only attribute to be null in every plan and state, which
      // a computed value or a default would contradict.
      if (o.computed) problems.push(`${where}: a write-only attribute cannot be computed (Terraform keeps it null in plan and state)`);
      if (o.default !== undefined) problems.push(`${where}: a write-only attribute cannot have a default`);
      if (o.planModifiers?.length) problems.push(`${where}: plan modifiers on a write-only attribute never apply (it is never planned)`);
    }
  }
  return problems;
}
