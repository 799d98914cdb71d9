#!/usr/bin/env bash
# The worked session of the README ("Packs and licences"), from pack to
# licence: a customer, a product, a pack (posted twice), a client's licence,
# the pack's count, the listing, a block and an unblock, the audit trail.
# Names carry the time, so the script can run again against the same vendor.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/pack-session.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
vkey=$(vendor_key)
tag=$(date +%s)
product="demo-$tag" pack="PO-$tag"

step "POST /v1/customers: a customer; its key is shown this once"
customer=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Example Hosting $tag\"}")
echo "$customer"
customer_id=$(json_field customer_id <<<"$customer")
ckey=$(json_field customer_key <<<"$customer")

step "POST /v1/products: a product"
licd_call POST /v1/products "$vkey" \
  "{\"code\":\"$product\",\"name\":\"Demo\",\"version\":\"1.0\",\"features\":[\"export\"]}"

step "POST /v1/packs: 2 licences for the customer (201), then the same pack again (200, no seats added)"
body="{\"pack_id\":\"$pack\",\"customer_id\":\"$customer_id\",\"product\":\"$product\",\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":2}"
licd_call POST /v1/packs "$vkey" "$body"
licd_call POST /v1/packs "$vkey" "$body"

step "POST /v1/get_key with the customer key: host-1's licence (a signed JWT)"
grant=$(licd_call POST /v1/get_key "$ckey" "{\"product\":\"$product\",\"client_id\":\"host-1\"}")
echo "$grant"
license_id=$(json_field license_id <<<"$grant")

step "GET /v1/packs/$pack: 1 of 2 assigned"
licd_call GET "/v1/packs/$pack" "$vkey"

step "GET /v1/assignments?pack_id=$pack"
licd_call GET "/v1/assignments?pack_id=$pack" "$vkey"

step "POST /v1/licenses/$license_id/block, then get_key refuses host-1 (403 license_blocked)"
licd_call POST "/v1/licenses/$license_id/block" "$vkey"
licd_call POST /v1/get_key "$ckey" "{\"product\":\"$product\",\"client_id\":\"host-1\"}" 2>/dev/null || true

step "POST /v1/licenses/$license_id/unblock, then get_key answers the same licence (200)"
licd_call POST "/v1/licenses/$license_id/unblock" "$vkey"
licd_call POST /v1/get_key "$ckey" "{\"product\":\"$product\",\"client_id\":\"host-1\"}" |
  sed -E 's/"license":"[^"]*"/"license":"…"/'

step "GET /v1/audit: who did what, in which request"
licd_call GET "/v1/audit?limit=500" "$vkey" | sed -E 's/\},\{/},\n{/g' | tail -n 6
