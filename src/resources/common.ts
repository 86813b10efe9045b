/**
 * What the four resource types share: the provider's configured client (the runtime,
 * opened read-only at configure; made writable, reaping first, for a change), and the
 * translation of runtime validation issues, errors and warnings into Terraform diagnostics
 * that point at the attribute.
 */
import { isUnknown as isFrameworkUnknown, ResourceError, type ApplyDiagnostics, type AttributePath, type DiagnosticInput } from '../provider';
import { NotFoundError, type RecordKind, type Runtime, type ServiceWarning, type ServiceWarningKind, type ValidationIssue } from '../runtime';
import { UNKNOWN as VALIDATION_UNKNOWN } from '../runtime/validation/common';

/** What `configure` returns: provider-wide defaults and the runtime. */
export interface AdaptiveClient {
  /**
   * The runtime (catalog + targets) for reading, its catalog opened read-only at configure.
   * What plan, refresh and import use; it writes nothing.
   */
  runtime(): Promise<Runtime>;
  /**
   * The same runtime for create, update and delete (called by Terraform only when applying):
   * the first call makes the catalog writable and runs the reaper pass over expired grants
   * (`reap_on_run`) before the change is made.
   */
  runtimeForChange(): Promise<Runtime>;
  /**
   * The same runtime for an on-demand credential (`ephemeral "adaptive_credential"`),
   * which Terraform opens during plan as well as apply: the catalog made writable, no
   * reaper pass (a plan never reaps).
   */
  runtimeForOnDemand(): Promise<Runtime>;
  /** Defaults from the provider block for Secrets-Manager-backed resources. */
  readonly awsDefaults: { readonly region?: string; readonly endpoint?: string; readonly stsEndpoint?: string };
  /**
   * Names of the `adaptive_endpoint`s planned so far by this provider process. Terraform
   * plans an endpoint before any group that refers to it, so a group can tell an endpoint
   * this configuration is about to create from a name that exists nowhere.
   */
  readonly plannedEndpoints: Set<string>;
}

/**
 * A configuration value as the runtime's validators want it: the framework's unknown
 * becomes theirs (deeply, for lists, sets and maps), so rules needing it are skipped.
 */
export function forValidation(value: unknown): unknown {
  if (isFrameworkUnknown(value)) return VALIDATION_UNKNOWN;
  if (Array.isArray(value)) return value.map(forValidation);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, forValidation(item)]));
  }
  return value;
}

/** How {@link issueDiagnostics} places issues in a resource's configuration. */
export interface IssuePlacement {
  /**
   * Set-typed attributes. Terraform hands a set over in its own order (sorted), not the
   * order it was written in, so an element's index would point at the wrong line: issues
   * about an element point at the whole attribute instead, and their value says which.
   */
  readonly sets?: readonly string[];
  /** The configuration, to tell an attribute that is left out from one that is set. */
  readonly config?: Readonly<Record<string, unknown>>;
  /**
   * For an attribute that is required only because another one is set: the attributes
   * that can cause it, in order of preference. A left-out attribute has no line of its
   * own, so the diagnostic points at the first of these that is set.
   */
  readonly causes?: Readonly<Record<string, readonly string[]>>;
}

/** Runtime messages start with a verb about the field (`is required ...`): name it, so the detail reads as a sentence. */
const STARTS_WITH_VERB = /^(?:is|are|must|contains|has|does|needs)\b|^\(/;

function sentence(subject: string, message: string): string {
  return STARTS_WITH_VERB.test(message) ? `${subject} ${message}` : message;
}

function isSet(value: unknown): boolean {
  return value !== null && value !== undefined;
}

/**
 * Turns validation issues into diagnostics that point at the attribute. A field such as
 * `permissions.grants[1]` points at its attribute (`permissions`): Terraform paths cannot
 * enter a JSON string, so the full field stays in the summary. An element of a list points
 * at the element; an element of a set at the set (see {@link IssuePlacement.sets}); a
 * left-out attribute at the attribute that made it necessary.
 */
export function issueDiagnostics(issues: readonly ValidationIssue[], placement: IssuePlacement = {}): DiagnosticInput[] {
  return issues.map((issue) => {
    const attribute = /^[a-z_][a-z0-9_]*/.exec(issue.field)?.[0];
    if (attribute === undefined) return { summary: `Invalid ${issue.field}`, detail: issue.message };
    const { config } = placement;
    if (config !== undefined && !isSet(config[attribute])) {
      const cause = placement.causes?.[attribute]?.find((name) => isSet(config[name]));
      return { summary: `Missing ${attribute}`, detail: sentence(attribute, issue.message), path: [cause ?? attribute] };
    }
    const index = /^[a-z_][a-z0-9_]*\[(\d+)\]$/.exec(issue.field)?.[1];
    if (index !== undefined && placement.sets?.includes(attribute)) {
      return { summary: `Invalid ${attribute}`, detail: sentence(`an element of ${attribute}`, issue.message), path: [attribute] };
    }
    const path = index !== undefined ? [attribute, Number(index)] : [attribute];
    return { summary: `Invalid ${issue.field}`, detail: sentence(issue.field, issue.message), path };
  });
}

/** A value that must be known at apply time, as a plain string (null when unset). */
export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** How a resource shows one kind of runtime warning: a summary naming it, and the attribute. */
export interface WarningPlacement<P extends AttributePath> {
  readonly summary: string;
  readonly path: P;
}

/**
 * Passes every runtime warning of an apply on to Terraform: one warning per kind, the
 * runtime's texts as its detail (one per line). Terraform folds warnings that share a
 * summary into one, so each summary names the resource. A kind the resource has no
 * placement for still reaches Terraform, under `otherwise`, on the resource as a whole.
 */
export function reportWarnings<P extends AttributePath>(
  diagnostics: ApplyDiagnostics<P>,
  warnings: readonly ServiceWarning[],
  placements: Partial<Record<ServiceWarningKind, WarningPlacement<P>>>,
  otherwise: string,
): void {
  const byKind = new Map<ServiceWarningKind, string[]>();
  for (const w of warnings) byKind.set(w.kind, [...(byKind.get(w.kind) ?? []), w.message]);
  for (const [kind, messages] of byKind) {
    const placement = placements[kind];
    if (placement) diagnostics.addWarning(placement.summary, messages.join('\n'), placement.path);
    else diagnostics.addWarning(otherwise, messages.join('\n'));
  }
}

/** What each kind of record is called in a configuration, and how to refer to one so Terraform creates it first. */
const RESOURCE_TYPES: Record<RecordKind, string> = {
  resource: 'adaptive_resource',
  authorization: 'adaptive_authorization',
  endpoint: 'adaptive_endpoint',
  group: 'adaptive_group',
};

/**
 * Runs a runtime verb, wording a record it found missing in Terraform's terms: the
 * resource type to create, the reference that orders it first, and (from `paths`) the
 * attribute that names it. Anything else is rethrown as it is.
 */
export async function namingMissing<T>(paths: Partial<Record<RecordKind, AttributePath>>, verb: () => Promise<T>): Promise<T> {
  try {
    return await verb();
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    const type = RESOURCE_TYPES[err.kind];
    const path = paths[err.kind];
    throw new ResourceError(`Unknown ${err.kind} "${err.entity}"`, {
      detail:
        `No ${type} named "${err.entity}" is in the catalog. Create the ${type} with this name first (check the spelling), ` +
        `or refer to one this configuration creates as ${type}.<label>.name, so that Terraform creates it first.`,
      ...(path !== undefined ? { path } : {}),
      cause: err,
    });
  }
}

