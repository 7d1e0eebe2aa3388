#!/usr/bin/env bash
# Streaming chat completion through the gateway; chunks print as they arrive (curl -N), and it
# exits non-zero on an HTTP error.
# GATEWAY_URL (default http://127.0.0.1:8080), MODEL (default openai/gpt-4o-mini), PROMPT and
# GATEWAY_API_KEY may be set.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
MODEL="${MODEL:-openai/gpt-4o-mini}"
PROMPT="${PROMPT:-Count from one to five.}"

gateway_curl /v1/chat/completions -N -H "Content-Type: application/json" --data-binary "{
  \"model\": $(json_string "$MODEL"),
  \"stream\": true,
  \"stream_options\": {\"include_usage\": true},
  \"messages\": [{\"role\": \"user\", \"content\": $(json_string "$PROMPT")}]
}"
