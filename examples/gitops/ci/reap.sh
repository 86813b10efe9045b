#!/usr/bin/env bash
# One reaper pass over every target in the catalog: ends expired grants' sessions and
# drops their roles. Prints the JSON report on stdout and a short summary on the run's page.
#
# Environment: ADAPTIVE_CATALOG_URL, ADAPTIVE_CATALOG_KEY (the reaper reaches the targets
# with the admin passwords the catalog stores encrypted under it), ADAPTIVE_ACCESS_CLI.
# Exit: the CLI's: 0 all expired roles reaped (or none due); 1 a target could not be
# reached or a role could not be dropped (fail the job: alert); 2 a setting is wrong.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env ADAPTIVE_CATALOG_URL "the catalog database (a CI secret)"
require_env ADAPTIVE_CATALOG_KEY "it decrypts the targets' admin passwords stored in the catalog (a CI secret)"
resolve_cli

status=0
report="$("${ADAPTIVE_ACCESS[@]}" reap --json)" || status=$?
if [[ -n "$report" ]]; then printf '%s\n' "$report"; fi

line="$(node -e '
  let r; try { r = JSON.parse(require("fs").readFileSync(0, "utf8")); } catch { process.exit(0); }
  const n = (x) => (Array.isArray(x) ? x.length : Number(x) || 0);
  process.stdout.write(`targets: ${n(r.targets)}, reaped: ${n(r.reaped)}, failed: ${n(r.failed)}, errors: ${n(r.errors)}`);
' <<<"$report")"
printf '## adaptive-access reap\n\n%s (exit %s)\n' "${line:-no report}" "$status" | summary

case "$status" in
  0) log "done: ${line:-ok}" ;;
  1) die "some expired access could not be reaped (${line:-see above}); it is refused already and retried on the next run" 1 ;;
  *) die "adaptive-access reap exited $status" "$status" ;;
esac
