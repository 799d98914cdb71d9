#!/usr/bin/env bash
# Rate limits and safe retries (README "Rate limits", "Retrying a POST"):
# the RateLimit headers of a keyed answer and their absence on /healthz; a
# burst that, when the node's LICD_RATE_LIMIT is low enough to outrun from
# here (RateLimit-Limit of 50 or less), ends in 429 rate_limited with
# Retry-After; then a customer created with an Idempotency-Key, the same
# POST again (the first answer replayed, one customer made), the same key
# with another body (409 idempotency_key_reused) and a refusal replayed.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/limits-session.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
vkey=$(vendor_key)
tag=$(date +%s)-$$

# headers METHOD PATH [IDEMPOTENCY_KEY [JSON]]: the status line and headers
# of the answer, then its body.
headers() {
  local args=(-sS -i -X "$1" -H "Authorization: Bearer $vkey")
  [ -n "${3-}" ] && args+=(-H "Idempotency-Key: $3")
  [ -n "${4-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${args[@]}" "$licd_url$2" | tr -d '\r'
}

step "GET /v1/vendor: every answer to a keyed request carries RateLimit-Limit, -Remaining, -Reset"
answer=$(headers GET /v1/vendor)
grep -i '^ratelimit-' <<<"$answer"
expect "RateLimit-Limit:" "$answer"
limit=$(sed -nE 's/^RateLimit-Limit: ([0-9]+)$/\1/Ip' <<<"$answer")

step "GET /healthz: never limited, no RateLimit headers"
health=$(curl -sS -i "$licd_url/healthz" | tr -d '\r')
if grep -qi '^ratelimit-' <<<"$health"; then echo "/healthz carries RateLimit headers" >&2; exit 1; fi
echo "$health" | head -n 1

step "a burst of requests with one key"
if [ "$limit" -le 50 ]; then
  # Over the bucket (2 x the limit) at once: the last ones are refused.
  n=$((2 * limit + 10))
  codes=$(for _ in $(seq 1 "$n"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$licd_url/v1/vendor"; done |
    curl -sS --no-progress-meter --parallel --parallel-max 20 -K - \
      -H "Authorization: Bearer $vkey" -w '%{http_code}\n' | sort | uniq -c)
  echo "$codes"
  expect " 429" "$codes"
  refused=$(headers GET /v1/vendor)
  grep -iE '^(HTTP|retry-after|ratelimit-)' <<<"$refused"
  expect '"code":"rate_limited"' "$refused"
  expect "Retry-After:" "$refused"
  sleep 2
else
  echo "RateLimit-Limit is $limit a second (bursts of $((2 * limit))): more than a shell loop sends;"
  echo "start licd with LICD_RATE_LIMIT=5 to see 429 rate_limited with Retry-After here"
fi

ik="customer-$tag"
body="{\"name\":\"Retried Hosting $tag\"}"
step "POST /v1/customers with Idempotency-Key: $ik (201, a new customer)"
first=$(headers POST /v1/customers "$ik" "$body")
echo "$first" | grep -vi '^date:'
customer_id=$(json_field customer_id <<<"$first")

step "the same POST again, as after a lost answer: the first answer, Idempotent-Replayed: true"
again=$(headers POST /v1/customers "$ik" "$body")
echo "$again" | grep -vi '^date:'
expect "Idempotent-Replayed: true" "$again"
expect "\"customer_id\":\"$customer_id\"" "$again"

step "GET /v1/customers: one customer of that name"
count=$(licd_call GET "/v1/customers?limit=500" "$vkey" | grep -o "\"name\":\"Retried Hosting $tag\"" | wc -l)
echo "$count"
[ "$count" -eq 1 ] || { echo "expected one customer, found $count" >&2; exit 1; }

step "the same key with another body: 409 idempotency_key_reused, nothing made"
reused=$(headers POST /v1/customers "$ik" "{\"name\":\"Someone else $tag\"}")
echo "$reused" | tail -n 1
expect '"code":"idempotency_key_reused"' "$reused"

step "a refusal is the first answer too: 400 invalid_field, replayed"
bad="bad-$tag"
headers POST /v1/customers "$bad" '{"name":5}' | tail -n 1; echo
replayed=$(headers POST /v1/customers "$bad" '{"name":5}')
echo "$replayed" | grep -iE '^(HTTP|idempotent-replayed)'
expect '"code":"invalid_field"' "$replayed"
expect "Idempotent-Replayed: true" "$replayed"
