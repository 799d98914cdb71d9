#!/usr/bin/env bash
# Events and webhooks, end to end: the example receiver
# (clients/webhooks/receiver.sh) listens on a local port, a webhook points at
# it, a grant from a pack of one seat emits license.granted and pack.low,
# the receiver verifies both signatures and logs the events; a forged and a
# stale delivery are refused; the event list, the webhook's status, and its
# deletion. licd must allow http to 127.0.0.1: LICD_WEBHOOK_ALLOW_PRIVATE=1.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/webhook-session.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
vkey=$(vendor_key)
tag=$(date +%s)
product="hooked-$tag" pack="PH-$tag"
tmp=$(mktemp -d)
receiver=""
# The receiver (and its listener) stop with the session, whatever happens.
trap '[ -n "$receiver" ] && kill "$receiver" 2>/dev/null && wait "$receiver"; rm -rf "$tmp"' EXIT

# A free local port for the receiver.
for _ in $(seq 1 50); do
  port=$((10000 + RANDOM % 22000)) # below the ephemeral ports (32768-)
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done

step "POST /v1/webhooks: http://127.0.0.1:$port/licd for license.granted and pack.low (the secret is shown once)"
hook=$(licd_call POST /v1/webhooks "$vkey" \
  "{\"url\":\"http://127.0.0.1:$port/licd\",\"events\":[\"license.granted\",\"pack.low\"]}")
echo "$hook"
secret=$(json_field secret <<<"$hook")
webhook_id=$(json_field webhook_id <<<"$hook")

step "clients/webhooks/receiver.sh $port: verifies each signature, logs each new event"
WEBHOOK_SECRET=$secret "$here/../webhooks/receiver.sh" "$port" "$tmp/events.log" &
receiver=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

step "A customer, a product and a pack of 1 seat; host-1's get_key takes it"
customer=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Hooked $tag\"}")
customer_id=$(json_field customer_id <<<"$customer")
ckey=$(json_field customer_key <<<"$customer")
licd_call POST /v1/products "$vkey" "{\"code\":\"$product\",\"name\":\"Hooked\",\"version\":\"1\"}" >/dev/null
licd_call POST /v1/packs "$vkey" "{\"pack_id\":\"$pack\",\"customer_id\":\"$customer_id\",\"product\":\"$product\",\"version\":\"1\",\"type\":\"per_device\",\"quantity\":1}" >/dev/null
licd_call POST /v1/get_key "$ckey" "{\"product\":\"$product\",\"client_id\":\"host-1\"}" |
  sed -E 's/"license":"[^"]*"/"license":"…"/'

step "The receiver got license.granted and pack.low (the pack is full), both signed"
for _ in $(seq 1 100); do
  [ "$(wc -l <"$tmp/events.log" 2>/dev/null || echo 0)" -ge 2 ] && break
  sleep 0.2
done
cat "$tmp/events.log"
expect '"type":"license.granted"' "$(cat "$tmp/events.log")"
expect '"type":"pack.low"' "$(cat "$tmp/events.log")"

step "A forged delivery (wrong signature) is refused 401, a stale one (t 10 minutes old) 400"
forged='{"event_id":999999,"type":"pack.low","created_at":"2026-01-31T12:00:00Z","data":{}}'
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Licd-Signature: t=$(date +%s),v1=$(printf '%064d' 0)" \
  --data-binary "$forged" "http://127.0.0.1:$port/licd")
echo "forged: $status"
[ "$status" = 401 ]
old=$(($(date +%s) - 600))
mac=$(printf '%s.%s' "$old" "$forged" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Licd-Signature: t=$old,v1=$mac" \
  --data-binary "$forged" "http://127.0.0.1:$port/licd")
echo "stale: $status"
[ "$status" = 400 ]

step "GET /v1/events?after=0: the vendor's events, oldest first"
events=$(licd_call GET "/v1/events?after=0&limit=500" "$vkey")
sed -E 's/\},\{"event_id"/},\n{"event_id"/g' <<<"$events" | tail -n 3
expect "\"pack_id\":\"$pack\"" "$events"

step "GET /v1/webhooks: last_status 200, no failures"
hooks=$(licd_call GET /v1/webhooks?limit=500 "$vkey")
echo "$hooks"
expect "\"webhook_id\":\"$webhook_id\"" "$hooks"
expect "\"last_status\":200" "$hooks"

step "DELETE /v1/webhooks/$webhook_id (204)"
licd_call DELETE "/v1/webhooks/$webhook_id" "$vkey"
