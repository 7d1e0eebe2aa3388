#!/usr/bin/env bash
# Non-streaming chat completion through the gateway.
# GATEWAY_URL (default http://127.0.0.1:8080) and MODEL (default openai/gpt-4o-mini) may be set.
set -euo pipefail
GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8080}"
MODEL="${MODEL:-openai/gpt-4o-mini}"
PROMPT="${PROMPT:-Say hello in one short sentence.}"
AUTH=()
[ -n "${GATEWAY_API_KEY:-}" ] && AUTH=(-H "Authorization: Bearer ${GATEWAY_API_KEY}")

curl -sS -i "${GATEWAY_URL}/v1/chat/completions" \
  -H "Content-Type: application/json" "${AUTH[@]}" \
  -d @- <<JSON
{
  "model": "${MODEL}",
  "messages": [{"role": "user", "content": "${PROMPT}"}]
}
JSON
echo
