#!/usr/bin/env bash
# Lists every model the gateway serves (prefixed provider/model, plus strategies).
set -euo pipefail
GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8080}"
AUTH=()
[ -n "${GATEWAY_API_KEY:-}" ] && AUTH=(-H "Authorization: Bearer ${GATEWAY_API_KEY}")
curl -sS "${GATEWAY_URL}/v1/models" "${AUTH[@]}"
echo
