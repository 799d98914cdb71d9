#!/usr/bin/env bash
# Holds a floating seat: checks a lease out (POST /v1/leases), sends a
# heartbeat every heartbeat_interval_s, and releases it on Ctrl-C.
# Usage: LICD_CUSTOMER_KEY=lc_... clients/curl/lease.sh PRODUCT CLIENT_ID [HEARTBEATS]
set -euo pipefail
. "$(dirname "$0")/common.sh"
product=${1:?usage: $0 PRODUCT CLIENT_ID [HEARTBEATS]} client=${2:?client id} beats=${3:-0}
key=$(customer_key)
body="{\"product\":\"$product\",\"client_id\":\"$client\"}"
lease=$(licd_call POST /v1/leases "$key" "$body")
echo "$lease"
id=$(json_field lease_id <<<"$lease")
interval=$(sed -nE 's/.*"heartbeat_interval_s":([0-9]+).*/\1/p' <<<"$lease")
released=""
release() {
  [ -n "$released" ] && return
  released=1
  licd_call DELETE "/v1/leases/$id" "$key" >/dev/null && echo "released $id"
}
trap 'release; exit 0' INT TERM
trap release EXIT
n=0
while [ "$beats" -eq 0 ] || [ "$n" -lt "$beats" ]; do
  sleep "$interval"
  # A lapsed or unknown lease comes back as a new checkout (201, new lease_id).
  answer=$(licd_call POST "/v1/leases/$id/heartbeat" "$key" "$body")
  echo "$answer"
  id=$(json_field lease_id <<<"$answer")
  n=$((n + 1))
done
