#!/usr/bin/env bash
# Non-streaming chat completion through the gateway; exits non-zero on an HTTP error.
# GATEWAY_URL (default http://127.0.0.1:8080), MODEL (default openai/gpt-4o-mini), PROMPT and
# GATEWAY_API_KEY may be set.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
MODEL="${MODEL:-openai/gpt-4o-mini}"
PROMPT="${PROMPT:-Say hello in one short sentence.}"

gateway_curl /v1/chat/completions -i -H "Content-Type: application/json" --data-binary "{
  \"model\": $(json_string "$MODEL"),
  \"messages\": [{\"role\": \"user\", \"content\": $(json_string "$PROMPT")}]
}"
