#!/usr/bin/env bash
# An example receiver of licd's webhooks, in bash with socat and openssl:
# it checks each delivery's Licd-Signature (the hex HMAC-SHA256 under the
# webhook's secret of "<t>.<body>", computed with `openssl dgst -sha256
# -hmac`), refuses a t more than 5 minutes away from now (a replayed
# delivery), answers a repeated event_id 200 without handling it again (licd
# delivers at least once), and appends every new verified event to LOG, one
# JSON line each. Answers: 200 handled, 400 stale or malformed, 401 bad
# signature.
# Usage: WEBHOOK_SECRET=whsec_... clients/webhooks/receiver.sh PORT [LOG]
#   listens on 127.0.0.1:PORT (LOG defaults to standard output); socat runs
#   this script again with --handle for each connection.
set -euo pipefail
export LC_ALL=C # lengths in bytes, as Content-Length counts them

reply() { # STATUS TEXT
  printf 'HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
    "$1" $((${#2} + 1)) "$2"
  exit 0
}

if [ "${1:-}" = "--handle" ]; then
  length=0 signature=""
  IFS= read -r line || exit 0 # the request line
  while IFS= read -r line; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    case ${line,,} in
      content-length:*) length=${line#*:}; length=${length// /} ;;
      licd-signature:*) signature=${line#*:}; signature=${signature// /} ;;
    esac
  done
  [[ $length =~ ^[0-9]+$ ]] && [ "$length" -le 1048576 ] || reply "400 Bad Request" "bad length"
  body=""
  [ "$length" -gt 0 ] && IFS= read -r -N "$length" body
  # Licd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>
  [[ $signature =~ ^t=([0-9]+),v1=([0-9a-f]{64})$ ]] || reply "400 Bad Request" "no signature"
  t=${BASH_REMATCH[1]} v1=${BASH_REMATCH[2]}
  now=$(date +%s)
  if [ $((now - t)) -gt 300 ] || [ $((t - now)) -gt 300 ]; then
    reply "400 Bad Request" "stale signature (t=$t, now=$now)"
  fi
  expected=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -r | cut -d' ' -f1)
  [ "$expected" = "$v1" ] || reply "401 Unauthorized" "bad signature"
  id=$(sed -nE 's/^\{"event_id":([0-9]+),.*/\1/p' <<<"$body")
  [ -n "$id" ] || reply "400 Bad Request" "no event_id"
  seen="$RECEIVER_STATE/seen"
  # One handler at a time past this point (socat forks one per connection).
  exec 9>>"$seen"
  flock 9
  if grep -qx "$id" "$seen"; then
    reply "200 OK" "event $id seen before"
  fi
  printf '%s\n' "$body" >>"$RECEIVER_LOG"
  echo "$id" >>"$seen"
  reply "200 OK" "event $id handled"
fi

port=${1:?usage: WEBHOOK_SECRET=whsec_... $0 PORT [LOG]}
: "${WEBHOOK_SECRET:?set WEBHOOK_SECRET to the secret POST /v1/webhooks answered}"
command -v socat >/dev/null || { echo "$0: needs socat (apt-get install socat)" >&2; exit 1; }
RECEIVER_LOG=${2:-/dev/stdout}
RECEIVER_STATE=$(mktemp -d)
export WEBHOOK_SECRET RECEIVER_LOG RECEIVER_STATE
socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
  "EXEC:$(cd "$(dirname "$0")" && pwd)/$(basename "$0") --handle" &
listener=$!
# Stopped (SIGTERM, Ctrl-C) or not, the listener goes with this script.
trap 'kill "$listener" 2>/dev/null; rm -rf "$RECEIVER_STATE"' EXIT
trap 'exit 0' TERM INT HUP
wait "$listener"
