#!/usr/bin/env bash
# Creates a virtual key through the admin API and prints it, its secret ("key") shown this once.
# GATEWAY_ADMIN_KEY (one of auth.admin_keys) and NAME are required. Optional: BUDGET_USD with
# BUDGET_PERIOD (1d, 7d, 30d or month, the default); KEY_GROUPS and KEY_MODELS, comma-separated
# (bash keeps GROUPS for itself); GATEWAY_URL (default http://127.0.0.1:8080). Exits non-zero when
# the gateway refuses.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
: "${GATEWAY_ADMIN_KEY:?set GATEWAY_ADMIN_KEY to an admin key (auth.admin_keys)}"
: "${NAME:?set NAME to the name of the new key}"

body="\"name\": $(json_string "$NAME")"
if [ -n "${KEY_GROUPS:-}" ]; then body="$body, \"groups\": $(json_list "$KEY_GROUPS")"; fi
if [ -n "${KEY_MODELS:-}" ]; then body="$body, \"models\": $(json_list "$KEY_MODELS")"; fi
if [ -n "${BUDGET_USD:-}" ]; then
  number='^(0|[1-9][0-9]*)([.][0-9]+)?$'
  if ! [[ $BUDGET_USD =~ $number ]]; then
    echo "BUDGET_USD must be a number of dollars such as 25 or 2.50, not \"$BUDGET_USD\"" >&2
    exit 2
  fi
  period=$(json_string "${BUDGET_PERIOD:-month}")
  body="$body, \"budget\": {\"usd\": $BUDGET_USD, \"period\": $period}"
fi

GATEWAY_API_KEY=$GATEWAY_ADMIN_KEY gateway_curl /admin/keys -H "Content-Type: application/json" \
  --data-binary "{$body}"
