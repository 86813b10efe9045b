# Shared by the pipeline's scripts (sourced, not run). Bash, `set -euo pipefail` set by
# the caller. Nothing here prints a secret: no `set -x`, and values of ADAPTIVE_* and
# TF_VAR_* are only checked for presence.

GITOPS_CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The Terraform configuration the pipeline deploys, unless a script is given another.
GITOPS_DEFAULT_TF_DIR="$(cd "$GITOPS_CI_DIR/../terraform" && pwd)"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
  log "error: $*"
  # An annotation on the run's page when on GitHub Actions.
  if [[ -n "${GITHUB_ACTIONS:-}" ]]; then printf '::error title=%s::%s\n' "$(basename "$0")" "$*"; fi
  exit "${2:-1}"
}

# die with exit code 2 (a problem of set-up, not of the run)
usage_error() { die "$1" 2; }

# require_env NAME WHY: fail with a clear message when NAME is unset or empty.
require_env() {
  if [[ -z "${!1:-}" ]]; then
    usage_error "$1 is not set: $2"
  fi
}

# The adaptive-access command, as an array in ADAPTIVE_ACCESS: $ADAPTIVE_ACCESS_CLI
# (split on spaces) when set; else the bin of the adaptive-access checkout this example
# lives in; else `adaptive-access` on PATH.
resolve_cli() {
  if [[ -n "${ADAPTIVE_ACCESS_CLI:-}" ]]; then
    read -r -a ADAPTIVE_ACCESS <<<"$ADAPTIVE_ACCESS_CLI"
  elif [[ -f "$GITOPS_CI_DIR/../../../bin/adaptive-access.mjs" ]]; then
    ADAPTIVE_ACCESS=(node "$(cd "$GITOPS_CI_DIR/../../.." && pwd)/bin/adaptive-access.mjs")
  elif command -v adaptive-access >/dev/null 2>&1; then
    ADAPTIVE_ACCESS=(adaptive-access)
  else
    usage_error "the adaptive-access command was not found: set ADAPTIVE_ACCESS_CLI, or run 'npm ci' in an adaptive-access checkout and put its bin on PATH"
  fi
}

# tf_dir [DIR]: the Terraform directory (argument, else TF_DIR, else the example's).
tf_dir() {
  local dir="${1:-${TF_DIR:-$GITOPS_DEFAULT_TF_DIR}}"
  [[ -d "$dir" ]] || usage_error "no such directory: $dir"
  (cd "$dir" && pwd)
}

# The settings Terraform needs, checked before it starts.
require_terraform_env() {
  command -v terraform >/dev/null 2>&1 || usage_error "terraform is not on PATH (Terraform 1.5 or later)"
  require_env TF_CLI_CONFIG_FILE "run ci/install.sh first (it installs the provider and prints the export)"
  [[ -f "$TF_CLI_CONFIG_FILE" ]] || usage_error "TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE does not exist: run ci/install.sh"
  require_env ADAPTIVE_CATALOG_URL "the catalog database (a CI secret), postgres://user:password@host:5432/db"
  require_env ADAPTIVE_CATALOG_KEY "the key the catalog encrypts admin passwords with (a CI secret, 64 hex characters)"
  require_env TF_VAR_pg_password "the target's admin password (a CI secret)"
}

# Appends stdin to the run's summary page on GitHub Actions; elsewhere, prints it on stderr.
summary() {
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then cat >>"$GITHUB_STEP_SUMMARY"; else cat >&2; fi
}

# set_output NAME VALUE: a step output on GitHub Actions; elsewhere, nothing.
set_output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
