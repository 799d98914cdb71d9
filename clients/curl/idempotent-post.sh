#!/usr/bin/env bash
# A POST made safe to retry: sends JSON to PATH with the vendor key and an
# Idempotency-Key (a new UUID unless given), printing the key on stderr and
# the answer's headers and body. Run it again with the same key and body to
# get the first answer back (Idempotent-Replayed: true) without it being
# done twice. Usage:
#   LICD_VENDOR_KEY=lv_... clients/curl/idempotent-post.sh PATH JSON [KEY]
set -euo pipefail
. "$(dirname "$0")/common.sh"
path=${1:?usage: $0 PATH JSON [IDEMPOTENCY_KEY]}
body=${2:?usage: $0 PATH JSON [IDEMPOTENCY_KEY]}
key=${3:-$(cat /proc/sys/kernel/random/uuid)}
echo "Idempotency-Key: $key" >&2
curl -sS -i -X POST -H "Authorization: Bearer $(vendor_key)" -H "Idempotency-Key: $key" \
  -H 'Content-Type: application/json' --data-binary "$body" "$licd_url$path"
echo
