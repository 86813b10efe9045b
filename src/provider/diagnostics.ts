/**
 * Diagnostics: what the provider tells Terraform went wrong (or deserves a warning). With an
 * attribute path Terraform points at the exact line of configuration.
 */
import type { AttributePath } from './values';

/** Error stops the operation; a warning is shown and the operation goes on. */
export type Severity = 'error' | 'warning';

/** A diagnostic as resources and validators write it. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly summary: string;
  readonly detail?: string;
  /** Where in the resource (or provider) configuration the problem is. */
  readonly path?: AttributePath;
}

/** A diagnostic to be completed by the framework: severity defaults to error. */
export interface DiagnosticInput {
  readonly severity?: Severity;
  readonly summary: string;
  readonly detail?: string;
  readonly path?: AttributePath;
}

/** An error diagnostic. */
export function error(summary: string, detail?: string, path?: AttributePath): Diagnostic {
  return { severity: 'error', summary, ...(detail !== undefined ? { detail } : {}), ...(path ? { path } : {}) };
}

/** A warning diagnostic. */
export function warning(summary: string, detail?: string, path?: AttributePath): Diagnostic {
  return { severity: 'warning', summary, ...(detail !== undefined ? { detail } : {}), ...(path ? { path } : {}) };
}

/** Whether any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Where `create`, `update` and `delete` report what Terraform should show even though the
 * change went through (as terraform-plugin-framework's `resp.Diagnostics`): a warning does
 * not stop the apply. `P` is the path type, rooted at one of the resource's attributes.
 */
export interface ApplyDiagnostics<P extends AttributePath = AttributePath> {
  /** A warning; with `path`, Terraform shows the configuration line of that attribute. */
  addWarning(summary: string, detail?: string, path?: P): void;
}

/** The framework's side of {@link ApplyDiagnostics}: collects what a resource reported. */
export class DiagnosticCollector implements ApplyDiagnostics {
  private readonly collected: Diagnostic[] = [];

  addWarning(summary: string, detail?: string, path?: AttributePath): void {
    this.collected.push(warning(summary, detail, path));
  }

  /** What was reported, in order. */
  get diagnostics(): readonly Diagnostic[] {
    return this.collected;
  }
}

/**
 * Throw this from resource code to report a precise diagnostic (an attribute path, a
 * warning-free summary) instead of the generic one any other thrown error becomes. From
 * `create`/`update`, `state` records what was done before the failure, so Terraform keeps
 * track of a half-created object instead of orphaning it.
 */
export class ResourceError extends Error {
  readonly detail: string | undefined;
  readonly path: AttributePath | undefined;
  readonly state: Readonly<Record<string, unknown>> | undefined;

  constructor(summary: string, options: { detail?: string; path?: AttributePath; state?: Readonly<Record<string, unknown>>; cause?: unknown } = {}) {
    super(summary, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ResourceError';
    this.detail = options.detail;
    this.path = options.path;
    this.state = options.state;
  }
}

/** Turns anything thrown into an error diagnostic. */
export function diagnosticFromError(err: unknown, summary: string): Diagnostic {
  if (err instanceof ResourceError) return error(err.message, err.detail, err.path);
  if (err instanceof Error) {
    // Errors that know how to be mended (a connection error's `fix`) say so to the user.
    const fix = (err as { fix?: unknown }).fix;
    return error(summary, typeof fix === 'string' && fix !== '' ? `${err.message}\n\nFix: ${fix}` : err.message);
  }
  return error(summary, String(err));
}
