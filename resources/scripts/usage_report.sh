#!/usr/bin/env bash
# Prints requests, tokens and cost from the admin API, summed per key, user, group, model or
# provider. GATEWAY_ADMIN_KEY is required. Optional: GROUP_BY (default key), FROM and TO (ISO 8601
# such as 2026-12-01 or 2026-12-03T12:00:00Z, or epoch milliseconds; default the last 30 days),
# GATEWAY_URL. Exits non-zero when the gateway refuses.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
: "${GATEWAY_ADMIN_KEY:?set GATEWAY_ADMIN_KEY to an admin key (auth.admin_keys)}"

set -- -G --data-urlencode "group_by=${GROUP_BY:-key}"
if [ -n "${FROM:-}" ]; then set -- "$@" --data-urlencode "from=$FROM"; fi
if [ -n "${TO:-}" ]; then set -- "$@" --data-urlencode "to=$TO"; fi
GATEWAY_API_KEY=$GATEWAY_ADMIN_KEY gateway_curl /admin/usage "$@"
