#!/usr/bin/env bash
# The README's "Floating seats" as one session: a customer, a product, a
# concurrent pack of one seat; workstation-1 checks the seat out as a lease
# and keeps it with a heartbeat; workstation-2 is refused (403
# no_seats_available) until the lease is released, then gets the seat;
# /metrics shows the pack's seat in use and the refusal. Then the pack allows
# borrowing: laptop-1 borrows the seat for an hour (a licence to check
# offline, no heartbeats) and returns it early.
# Names carry the time, so the script can run again against the same vendor.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/lease-session.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
vkey=$(vendor_key)
export LICD_VENDOR_KEY=$vkey
tag=$(date +%s)
product="cad-$tag" pack="FLOAT-$tag"

step "POST /v1/customers: a customer; its key is shown this once"
customer=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Design Office $tag\"}")
echo "$customer"
customer_id=$(json_field customer_id <<<"$customer")
ckey=$(json_field customer_key <<<"$customer")

step "POST /v1/products and POST /v1/packs: $product, a concurrent pack of 1 seat"
"$here/product-create.sh" "$product" CAD 2026.1 '["render"]'
"$here/pack-create.sh" "$pack" "$customer_id" "$product" 2026.1 concurrent 1

step "POST /v1/leases: workstation-1 checks the seat out"
lease=$(licd_call POST /v1/leases "$ckey" "{\"product\":\"$product\",\"client_id\":\"workstation-1\"}")
echo "$lease"
lease_id=$(json_field lease_id <<<"$lease")
expect '"heartbeat_interval_s":' "$lease"

step "GET /v1/leases?pack_id=$pack and GET /v1/packs/$pack: the live lease, one seat in use"
live=$("$here/leases.sh" "pack_id=$pack")
echo "$live"
expect '"client_id":"workstation-1"' "$live"
expect '"assigned":1' "$("$here/pack-show.sh" "$pack")"

step "POST /v1/leases/$lease_id/heartbeat: the lease is extended (200)"
beat=$(licd_call POST "/v1/leases/$lease_id/heartbeat" "$ckey" "{\"product\":\"$product\",\"client_id\":\"workstation-1\"}")
echo "$beat"
expect '"expires_at":"' "$beat"

step "POST /v1/leases: workstation-2 is refused while the seat is held (403 no_seats_available)"
if refused=$(licd_call POST /v1/leases "$ckey" "{\"product\":\"$product\",\"client_id\":\"workstation-2\"}"); then
  echo "a second lease was granted on a pack of one seat: $refused" >&2
  exit 1
fi
echo "$refused"
expect '"code":"no_seats_available"' "$refused"

step "GET /metrics: the pack's seats in use, its peak and the refusal (within a second)"
for _ in $(seq 1 50); do
  figures=$("$here/pack-metrics.sh" "$pack")
  grep -qE '^licd_pack_denials_total\{.*\} 1$' <<<"$figures" && break
  sleep 0.1
done
echo "$figures"
expect "pack_id=\"$pack\"} 1" "$(grep '^licd_pack_seats_in_use' <<<"$figures")"
expect "pack_id=\"$pack\"} 1" "$(grep '^licd_pack_denials_total' <<<"$figures")"
expect "pack_id=\"$pack\"} 1" "$(grep '^licd_pack_peak_in_use' <<<"$figures")"

step "DELETE /v1/leases/$lease_id: workstation-1 releases the seat (204)"
licd_call DELETE "/v1/leases/$lease_id" "$ckey"

step "POST /v1/leases: now workstation-2 gets the seat, and releases it"
lease=$(licd_call POST /v1/leases "$ckey" "{\"product\":\"$product\",\"client_id\":\"workstation-2\"}")
echo "$lease"
licd_call DELETE "/v1/leases/$(json_field lease_id <<<"$lease")" "$ckey"

step "PATCH /v1/packs/$pack: seats may be borrowed for up to 8 hours"
expect '"max_borrow_s":28800' "$("$here/pack-update.sh" "$pack" '{"max_borrow_s":28800}')"

step "POST /v1/leases with borrow_s: laptop-1 borrows the seat for an hour"
borrow=$(LICD_CUSTOMER_KEY=$ckey "$here/borrow.sh" "$product" laptop-1 3600)
echo "$borrow"
expect '"borrowed":true' "$borrow"
expect '"license":"' "$borrow"

step "DELETE /v1/leases/...: laptop-1 returns the borrowed seat early (204)"
licd_call DELETE "/v1/leases/$(json_field lease_id <<<"$borrow")" "$ckey"
expect '"assigned":0' "$("$here/pack-show.sh" "$pack")"
