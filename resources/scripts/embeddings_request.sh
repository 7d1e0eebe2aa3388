#!/usr/bin/env bash
# Embeddings through the gateway. MODEL defaults to openai/text-embedding-3-small.
set -euo pipefail
GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8080}"
MODEL="${MODEL:-openai/text-embedding-3-small}"
AUTH=()
[ -n "${GATEWAY_API_KEY:-}" ] && AUTH=(-H "Authorization: Bearer ${GATEWAY_API_KEY}")
curl -sS "${GATEWAY_URL}/v1/embeddings" \
  -H "Content-Type: application/json" "${AUTH[@]}" \
  -d "{\"model\": \"${MODEL}\", \"input\": \"The quick brown fox\"}"
echo
