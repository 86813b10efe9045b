/**
 * What the four resource types share: the provider's configured client (the access
 * service, opened on first use), and the translation of runtime validation issues and
 * errors into Terraform diagnostics that point at the attribute.
 */
import { isUnknown as isFrameworkUnknown, type DiagnosticInput } from '../provider';
import type { AccessService } from '../runtime/service';
import { UNKNOWN as VALIDATION_UNKNOWN } from '../runtime/validation/common';
import type { ValidationIssue } from '../runtime/types';

/** What `configure` returns: provider-wide defaults and the service, opened lazily. */
export interface AdaptiveClient {
  /** The access service (catalog + targets); opens the catalog on first use. */
  service(): Promise<AccessService>;
  /** Defaults from the provider block for Secrets-Manager-backed resources. */
  readonly awsDefaults: { readonly region?: string; readonly endpoint?: string };
}

/**
 * A configuration value as the runtime's validators want it: the framework's unknown
 * becomes theirs (deeply, for lists and sets), so rules needing it are skipped.
 */
export function forValidation(value: unknown): unknown {
  if (isFrameworkUnknown(value)) return VALIDATION_UNKNOWN;
  if (Array.isArray(value)) return value.map(forValidation);
  return value;
}

/**
 * Turns validation issues into diagnostics. A field such as `permissions.grants[1]` points
 * at its attribute (`permissions`): Terraform paths cannot enter a JSON string, so the
 * full field stays in the summary.
 */
export function issueDiagnostics(issues: readonly ValidationIssue[]): DiagnosticInput[] {
  return issues.map((issue) => {
    const attribute = /^[a-z_][a-z0-9_]*/.exec(issue.field)?.[0];
    const index = /^[a-z_][a-z0-9_]*\[(\d+)\]/.exec(issue.field)?.[1];
    const path = attribute ? (index !== undefined && !issue.field.includes('.') ? [attribute, Number(index)] : [attribute]) : [];
    return { summary: `Invalid ${issue.field}`, detail: issue.message, ...(path.length ? { path } : {}) };
  });
}

/** A value that must be known at apply time, as a plain string (null when unset). */
export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
