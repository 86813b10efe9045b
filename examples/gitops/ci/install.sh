#!/usr/bin/env bash
# Installs the adaptive provider into a local filesystem mirror (offline, idempotent) and
# points Terraform at it: on GitHub Actions through $GITHUB_ENV for the later steps;
# locally, run it as  eval "$(examples/gitops/ci/install.sh)".
#
# Environment: ADAPTIVE_ACCESS_DIR (where to install; default $RUNNER_TEMP/adaptive-access
# on a runner, else adaptive-access's own default), ADAPTIVE_ACCESS_CLI (the command).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

resolve_cli
args=(install --json)
dir="${ADAPTIVE_ACCESS_DIR:-}"
if [[ -z "$dir" && -n "${RUNNER_TEMP:-}" ]]; then dir="$RUNNER_TEMP/adaptive-access"; fi
if [[ -n "$dir" ]]; then args+=(--dir "$dir"); fi

report="$("${ADAPTIVE_ACCESS[@]}" "${args[@]}")" || die "adaptive-access install failed (its message is above)"
config="$(node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(r.cliConfigFile)' <<<"$report")"
version="$(node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(`${r.source} ${r.version}`)' <<<"$report")"
log "installed $version; Terraform CLI configuration: $config"

if [[ -n "${GITHUB_ENV:-}" ]]; then
  printf 'TF_CLI_CONFIG_FILE=%s\n' "$config" >>"$GITHUB_ENV"
fi
printf 'export TF_CLI_CONFIG_FILE=%q\n' "$config"
