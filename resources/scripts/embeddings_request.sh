#!/usr/bin/env bash
# Embeddings through the gateway; exits non-zero on an HTTP error.
# GATEWAY_URL (default http://127.0.0.1:8080), MODEL (default openai/text-embedding-3-small),
# PROMPT (the text to embed) and GATEWAY_API_KEY may be set.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
MODEL="${MODEL:-openai/text-embedding-3-small}"
PROMPT="${PROMPT:-The quick brown fox}"

gateway_curl /v1/embeddings -H "Content-Type: application/json" --data-binary \
  "{\"model\": $(json_string "$MODEL"), \"input\": $(json_string "$PROMPT")}"
