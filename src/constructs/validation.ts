/**
 * Synth-time validation with the runtime's own validators, so `cdktf synth` refuses what
 * `terraform plan` would refuse, with the same words.
 *
 * A value that is a token (a reference to another resource's attribute, a variable, a
 * function call) is not known at synth time, just as Terraform leaves it unknown at plan
 * time: it becomes the runtime's UNKNOWN marker and the rules that need it are skipped.
 */
import { UNKNOWN } from '../runtime/validation';
import type { ValidationIssue } from '../runtime/types';
import { Token, type IConstruct } from './cdk';

/**
 * A construct property as the runtime validators want it: tokens become UNKNOWN (lists
 * element by element, so the known members of a list are still checked), `undefined` stays
 * absent.
 */
export function forSynth(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (Token.isUnresolved(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(forSynth);
  return value;
}

/**
 * True when `value` or anything inside it (list elements, object values) is a token.
 * Structured values that the validators read whole (permissions) are skipped then.
 */
export function containsToken(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Token.isUnresolved(value)) return true;
  if (Array.isArray(value)) return value.some(containsToken);
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).some(containsToken);
  return false;
}

/**
 * One issue as a synth failure shows it: the attribute as written in HCL, then the
 * runtime's message unchanged (the detail of the diagnostic `terraform plan` gives). This
 * is the line the runtime's own `ValidationError` prints for the issue.
 */
export function issueMessage(issue: ValidationIssue): string {
  return `${issue.field}: ${issue.message}`;
}

/**
 * Registers a validation that runs when the app is synthesized (and in
 * `Testing.synth(stack, true)`): `check` returns the runtime's issues for the construct's
 * current values, read when validation runs so later changes through the L1 escape hatch
 * are checked too.
 */
export function validateWith(scope: IConstruct, check: () => readonly ValidationIssue[]): void {
  scope.node.addValidation({ validate: () => check().map(issueMessage) });
}
