#!/usr/bin/env bash
# Applies the plan plan.sh saved in this run (DIR/tfplan): exactly what was shown, or
# nothing when state moved on since (Terraform refuses a stale plan).
#
# Usage: apply.sh [DIR]   Environment: as plan.sh.
# Exit: 0 applied, 1 apply failed, 2 no saved plan or a setting missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$(tf_dir "${1:-}")"
require_terraform_env
[[ -f "$dir/tfplan" ]] || usage_error "no saved plan $dir/tfplan: run plan.sh in the same job first"

log "terraform apply tfplan in $dir"
terraform -chdir="$dir" apply -input=false -no-color -lock-timeout="${TF_LOCK_TIMEOUT:-5m}" tfplan || die "terraform apply failed"
rm -f "$dir/tfplan"

{
  printf '## Applied (%s)\n\n' "$(basename "$dir")"
  printf 'Outputs (values are sensitive and not shown here):\n\n```text\n'
  terraform -chdir="$dir" output -no-color
  printf '```\n'
} | summary
