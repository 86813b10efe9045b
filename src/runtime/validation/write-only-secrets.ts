/**
 * `adaptive_resource`'s write-only admin secrets: `password_wo` and `aws_secret_access_key_wo`,
 * each an alternative to its plain attribute that Terraform never plans nor stores, with a
 * companion `_version` (Terraform's documented pattern: Terraform cannot compare a value it
 * does not keep, so bumping the version is what plans the update that applies a new one).
 *
 * Decisions:
 * - A write-only secret and its plain attribute together are refused: which one wins would
 *   be a guess, and the plain one puts in state exactly what the write-only one keeps out.
 * - Both halves of a pair are required together, as errors rather than warnings. A value
 *   without its version could never be rotated (a new value alone plans nothing, so the
 *   change would be silently ignored); a version without its value is most likely a value
 *   lost in an edit, and bumping it would then do nothing. Either way the user believes in
 *   a rotation that never happens: a plan-time error is the cheapest moment to say so.
 * - Values get the checks of their plain attribute, and messages never repeat them.
 */
import type { ValidationIssue } from '../types';
import { isAbsent, isUnknown, issue, typeName } from './common';

/** A write-only secret, the plain attribute it replaces, and what it is (for messages). */
export interface WriteOnlyPair {
  readonly writeOnly: 'password_wo' | 'aws_secret_access_key_wo';
  readonly version: 'password_wo_version' | 'aws_secret_access_key_wo_version';
  readonly plain: 'password' | 'aws_secret_access_key';
  readonly what: string;
}

export const WRITE_ONLY_PAIRS: readonly WriteOnlyPair[] = [
  { writeOnly: 'password_wo', version: 'password_wo_version', plain: 'password', what: 'the admin password' },
  { writeOnly: 'aws_secret_access_key_wo', version: 'aws_secret_access_key_wo_version', plain: 'aws_secret_access_key', what: 'the AWS secret access key' },
];

type PairInput = Readonly<Partial<Record<WriteOnlyPair['writeOnly'] | WriteOnlyPair['version'] | WriteOnlyPair['plain'], unknown>>>;

/** true / false when presence is known, undefined when the value is unknown. */
function presence(value: unknown): boolean | undefined {
  if (isUnknown(value)) return undefined;
  return !isAbsent(value);
}

/** Whether one of two attributes is set: true / false, or undefined while that depends on an unknown one. */
export function eitherPresent(a: unknown, b: unknown): boolean | undefined {
  const first = presence(a);
  const second = presence(b);
  if (first === true || second === true) return true;
  return first === false && second === false ? false : undefined;
}

function checkPair(input: PairInput, pair: WriteOnlyPair, out: ValidationIssue[]): void {
  const { writeOnly, version, plain, what } = pair;
  const value = presence(input[writeOnly]);
  const versioned = presence(input[version]);
  if (value === true && presence(input[plain]) === true) {
    out.push(
      issue(writeOnly, `${writeOnly} and ${plain} are both set: ${what} comes from one of them; remove ${plain} (kept in state) or ${writeOnly} (kept out of it)`),
    );
  }
  if (value === true && versioned === false) {
    out.push(
      issue(
        version,
        `is required with ${writeOnly}: Terraform does not compare write-only values, so a new ${writeOnly} is applied only when ${version} changes; ` +
          `set ${version} = 1 and raise it with each new value`,
      ),
    );
  }
  if (versioned === true && value === false) {
    out.push(issue(version, `is set without ${writeOnly}: the version says when to apply a new ${writeOnly}, and there is none; set ${writeOnly}, or remove ${version}`));
  }
  const given = input[version];
  if (versioned === true && !isUnknown(given) && (typeof given !== 'number' || !Number.isFinite(given))) {
    out.push(issue(version, `must be a number, got ${typeName(given)}; write 1, and raise it with each new ${writeOnly}`));
  }
}

/** Checks how each write-only secret goes with its version and its plain attribute. */
export function checkWriteOnlySecrets(input: PairInput, out: ValidationIssue[]): void {
  for (const pair of WRITE_ONLY_PAIRS) checkPair(input, pair, out);
}
