#!/usr/bin/env bash
# Lists every model the gateway serves (prefixed provider/model, plus strategies); exits non-zero
# on an HTTP error. GATEWAY_URL (default http://127.0.0.1:8080) and GATEWAY_API_KEY may be set.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"

gateway_curl /v1/models -H "Accept: application/json"
