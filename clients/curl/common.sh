# Shared by the example scripts here (sourced, not run): where licd is, the
# keys, and one call that prints the answer and fails on an error status.
# LICD_URL (default http://127.0.0.1:8080), LICD_VENDOR_KEY, LICD_CUSTOMER_KEY.
licd_url=${LICD_URL:-http://127.0.0.1:8080}
licd_url=${licd_url%/}

# The vendor key, or a clear message and exit.
vendor_key() {
  echo "${LICD_VENDOR_KEY:?set LICD_VENDOR_KEY to a vendor API key (lv_ followed by 64 hex digits)}"
}

# The customer key, or a clear message and exit.
customer_key() {
  echo "${LICD_CUSTOMER_KEY:?set LICD_CUSTOMER_KEY to a customer key (lc_..., from POST /v1/customers)}"
}

# licd_call METHOD PATH KEY [JSON|@-]: prints the JSON answer (the
# problem+json one too) and returns non-zero on an error status. An empty KEY
# sends no Authorization header (get_key with a group key).
licd_call() {
  local method=$1 path=$2 key=$3 body=${4-} rc=0
  local args=(-sS --fail-with-body -X "$method")
  if [ -n "$key" ]; then
    args+=(-H "Authorization: Bearer $key")
  fi
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  curl "${args[@]}" "$licd_url$path" || rc=$?
  echo
  return "$rc"
}

# json_field NAME < JSON: the first string value of that field (no jq needed).
json_field() {
  sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\1/p" | head -n 1
}

# The sessions' narration: a heading per step.
step() { printf '\n== %s\n' "$*"; }

# expect TEXT ANSWER: stops a session when the answer lacks TEXT.
expect() { grep -qF -- "$1" <<<"$2" || { echo "expected $1 in the answer" >&2; exit 1; }; }
