/**
 * Ready-made plan modifiers, the same three terraform-plugin-framework users reach for most.
 */
import type { PlanModifier } from './schema';
import type { MaybeUnknown } from './values';
import { isUnknown, isWhollyKnown, valuesEqual } from './values';

/**
 * A change to this attribute replaces the resource (destroy, then create) instead of
 * updating it in place. An unknown planned value counts as a change, since it may be one.
 */
export function requiresReplace<V>(): PlanModifier<V> {
  return requiresReplaceIf('A change requires replacement', () => true);
}

/** Like `requiresReplace`, but only when `predicate(state, plan)` says so. */
export function requiresReplaceIf<V>(description: string, predicate: (state: V | null, plan: unknown) => boolean): PlanModifier<V> {
  return {
    description,
    modify({ type, state, plan, creating }) {
      if (creating || state === undefined) return undefined;
      const changed = !isWhollyKnown(plan) || !valuesEqual(type, state, plan);
      return changed && predicate(state, plan) ? { requiresReplace: true } : undefined;
    },
  };
}

/**
 * Keeps the prior state's value instead of "(known after apply)" for a computed attribute
 * that never changes once set (an id, a creation time), so updates plan quietly.
 */
export function useStateForUnknown<V>(): PlanModifier<V> {
  return {
    description: 'Once set, the value does not change unless the resource is replaced',
    modify({ state, plan, config, creating }) {
      if (creating || state === undefined || state === null) return undefined;
      // Only fill in what the framework made unknown; a configured unknown stays unknown.
      if (!isUnknown(plan) || (config !== null && isUnknown(config))) return undefined;
      return { plan: state as MaybeUnknown<V> };
    },
  };
}
