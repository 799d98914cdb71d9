#!/usr/bin/env bash
# The worked session of the README ("Packs and licences"), from pack to
# licence: a customer, a product, a pack (posted twice), a client's licence,
# the pack's count, the listing, a block and an unblock, the pack raised,
# the licence deactivated and the seat taken anew, the audit trail.
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

step "POST /v1/packs: the same pack id with another quantity is refused (409 conflict)"
licd_call POST /v1/packs "$vkey" "${body/\"quantity\":2/\"quantity\":5}" 2>/dev/null || true

step "GET /v1/products and GET /v1/packs?customer_id=...: the vendor's products, the customer's packs"
expect "\"code\":\"$product\"" "$(licd_call GET /v1/products?limit=500 "$vkey")"
packs=$(licd_call GET "/v1/packs?customer_id=$customer_id" "$vkey")
echo "$packs"
expect "\"pack_id\":\"$pack\"" "$packs"

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

step "PATCH /v1/packs/$pack: 3 licences instead of 2"
patched=$(licd_call PATCH "/v1/packs/$pack" "$vkey" '{"quantity":3}')
echo "$patched"
expect '"quantity":3' "$patched"

step "DELETE /v1/licenses/$license_id (204): the seat is back, 0 of 3 assigned"
licd_call DELETE "/v1/licenses/$license_id" "$vkey"
shown=$(licd_call GET "/v1/packs/$pack" "$vkey")
echo "$shown"
expect '"assigned":0' "$shown"

step "POST /v1/get_key: host-1 takes a seat anew, under a new licence id (201)"
grant=$(licd_call POST /v1/get_key "$ckey" "{\"product\":\"$product\",\"client_id\":\"host-1\"}")
sed -E 's/"license":"[^"]*"/"license":"…"/' <<<"$grant"
[ "$(json_field license_id <<<"$grant")" != "$license_id" ] || { echo "the old licence came back" >&2; exit 1; }

step "GET /v1/audit: who did what, in which request"
licd_call GET "/v1/audit?limit=500" "$vkey" | sed -E 's/\},\{/},\n{/g' | tail -n 6
