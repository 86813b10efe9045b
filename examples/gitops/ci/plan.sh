#!/usr/bin/env bash
# terraform init + plan, saving the plan as DIR/tfplan for apply.sh, and a summary of it
# (terraform show, sensitive values hidden) on the run's page.
#
# Usage: plan.sh [DIR]   (DIR: the Terraform configuration; default TF_DIR, else ../terraform)
# Environment: TF_CLI_CONFIG_FILE (from install.sh), ADAPTIVE_CATALOG_URL,
# ADAPTIVE_CATALOG_KEY, TF_VAR_pg_password (+ TF_VAR_pg_host, ...), TF_LOCK_TIMEOUT (5m).
# Exit: 0 with or without changes (step output changes=true|false), 1 when plan fails,
# 2 when a setting is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$(tf_dir "${1:-}")"
require_terraform_env
lock_timeout="${TF_LOCK_TIMEOUT:-5m}"

log "terraform init in $dir"
terraform -chdir="$dir" init -input=false -no-color >&2 || die "terraform init failed"

log "terraform plan"
rm -f "$dir/tfplan"
status=0
terraform -chdir="$dir" plan -input=false -no-color -lock-timeout="$lock_timeout" -detailed-exitcode -out=tfplan || status=$?
case "$status" in
  0) changes=false ;;
  2) changes=true ;;
  *) die "terraform plan failed (exit $status)" ;;
esac
set_output changes "$changes"

{
  printf '## Terraform plan (%s)\n\n' "$(basename "$dir")"
  printf '```text\n'
  terraform -chdir="$dir" show -no-color tfplan
  printf '```\n'
} | summary
log "plan saved as $dir/tfplan (changes: $changes)"
