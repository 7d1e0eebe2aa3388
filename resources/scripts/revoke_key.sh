#!/usr/bin/env bash
# Revokes a virtual key through the admin API and prints it ("status": "revoked"); requests with
# it are refused from then on. GATEWAY_ADMIN_KEY and KEY_ID (the "id" that create_key.sh printed)
# are required; GATEWAY_URL is optional. Exits non-zero when the gateway refuses.
set -euo pipefail
# shellcheck source=lib/gateway.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gateway.sh"
: "${GATEWAY_ADMIN_KEY:?set GATEWAY_ADMIN_KEY to an admin key (auth.admin_keys)}"
: "${KEY_ID:?set KEY_ID to the id of the key to revoke}"
case $KEY_ID in
  *[!A-Za-z0-9_-]*)
    echo "KEY_ID is the id the admin API gave the key (letters, digits, -, _), not \"$KEY_ID\"" >&2
    exit 2
    ;;
esac

GATEWAY_API_KEY=$GATEWAY_ADMIN_KEY gateway_curl "/admin/keys/$KEY_ID" -X DELETE
