# shellcheck shell=bash
# Sourced by the example scripts. Plain bash 3.2 (macOS's /bin/bash): no jq, no bash 4 features.

GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8080}"

# json_string VALUE: prints VALUE as a JSON string literal.
json_string() {
  local s=$1 code=1 oct char esc
  # Backslashes first, so that the escapes added afterwards are not doubled.
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  case $s in
    *[[:cntrl:]]*)
      while [ "$code" -lt 32 ]; do
        printf -v oct '%03o' "$code"
        printf -v char '%b' "\\0$oct"
        printf -v esc '\\u%04x' "$code"
        s=${s//"$char"/"$esc"}
        code=$((code + 1))
      done
      ;;
  esac
  printf '"%s"' "$s"
}

# json_list "A, B,C": prints the comma-separated items, blanks around them trimmed and empty ones
# dropped, as a JSON array of strings.
json_list() {
  local item out="" items=()
  IFS=, read -r -a items <<<"$1"
  for item in ${items[@]+"${items[@]}"}; do
    item=${item#"${item%%[![:space:]]*}"}
    item=${item%"${item##*[![:space:]]}"}
    if [ -n "$item" ]; then out="$out${out:+, }$(json_string "$item")"; fi
  done
  printf '[%s]' "$out"
}

# gateway_curl PATH CURL_ARGS...: calls the gateway (with GATEWAY_API_KEY when set), prints the
# answer, and returns non-zero when it is an HTTP error (curl 7.76+ for --fail-with-body).
gateway_curl() {
  local path=$1 status=0
  shift
  if [ -n "${GATEWAY_API_KEY:-}" ]; then
    set -- -H "Authorization: Bearer ${GATEWAY_API_KEY}" "$@"
  fi
  curl -sS --fail-with-body "$@" "${GATEWAY_URL}${path}" || status=$?
  echo
  return "$status"
}
