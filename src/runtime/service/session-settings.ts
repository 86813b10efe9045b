/**
 * What only the target can say about an endpoint's session settings, asked before
 * anything is changed: whether its PostgreSQL has `idle_session_timeout` (14+), and
 * whether it knows the `timezone` (the server's zone list, not this process's).
 */
import { serverVersionNum, timezoneProblem } from '../access/session-settings';
import { ValidationError, type TargetDb, type ValidationIssue } from '../types';
import { sessionSettingsVersionIssues } from '../validation/session-settings';
import type { EndpointInput } from './model';

/** Throws a `ValidationError` naming the attribute when the target cannot apply the endpoint's settings. */
export async function checkSettingsOnTarget(target: TargetDb, spec: EndpointInput): Promise<void> {
  const settings = spec.sessionSettings;
  if (!settings) return;
  const issues: ValidationIssue[] = [];
  if (settings.idleSessionTimeoutSeconds !== undefined) {
    issues.push(...sessionSettingsVersionIssues(settings, await serverVersionNum(target.pool), spec.resource));
  }
  const zoneProblem = settings.timezone === undefined ? undefined : await timezoneProblem(target, settings.timezone);
  if (zoneProblem !== undefined) {
    issues.push({ field: 'timezone', message: `resource "${spec.resource}" does not know it: ${zoneProblem}; write a zone from pg_timezone_names, e.g. "UTC" or "Europe/Berlin"` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}
