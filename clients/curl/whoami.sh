#!/usr/bin/env bash
# Shows which vendor a vendor API key belongs to (GET /v1/vendor).
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=http://127.0.0.1:8080] clients/curl/whoami.sh
set -euo pipefail
url=${LICD_URL:-http://127.0.0.1:8080}
url=${url%/}
key=${LICD_VENDOR_KEY:?set LICD_VENDOR_KEY to a vendor API key (lv_ followed by 64 hex digits)}

curl -fsS -H "Authorization: Bearer $key" "$url/v1/vendor"
echo
