#!/usr/bin/env bash
# The README's session "Session tokens on shared computers": a customer, two
# products (a suite), a user with an entitlement to each (valid for one,
# intermediate for the other), a session token for her on machine rdp-1 with
# the password given on stdin, a renewal without the password, a renewal
# from another machine refused (401 renewal_refused), and the user's activity.
# Names carry the time, so the script can run again against the same vendor.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/token-session.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
vkey=$(vendor_key)
export LICD_VENDOR_KEY=$vkey
tag=$(date +%s)
app="app-$tag" viewer="viewer-$tag" user=ann password="pw-of-ann-$tag"
short() { sed -E 's/"token":"[^"]*"/"token":"…"/'; }

step "POST /v1/customers: a customer; its key is shown this once"
customer=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Remote Desktop Host $tag\"}")
echo "$customer"
customer_id=$(json_field customer_id <<<"$customer")
ckey=$(json_field customer_key <<<"$customer")

step "POST /v1/products: $app (edit, print) and $viewer (view)"
"$here/product-create.sh" "$app" App 1.0 '["edit","print"]'
"$here/product-create.sh" "$viewer" Viewer 1.0 '["view","annotate"]'

step "POST /v1/users: $user, with a password (the server keeps its scrypt hash)"
"$here/user-create.sh" "$customer_id" "$user" "$password"

step "PUT /v1/users/$user/entitlements/...: $app valid on 2 machines, $viewer intermediate (view only)"
"$here/entitle.sh" "$customer_id" "$user" "$app" valid '[]' 2
"$here/entitle.sh" "$customer_id" "$user" "$viewer" intermediate '["view"]'

step "POST /v1/tokens (password from stdin): one token on rdp-1 for the suite, state = the weakest"
issued=$(echo "$password" | LICD_CUSTOMER_KEY=$ckey "$here/token.sh" "$user" rdp-1 "$app,$viewer")
echo "$issued" | short
expect '"license_state":"intermediate"' "$issued"
token=$(json_field token <<<"$issued")

step "POST /v1/tokens/renew: a new token without the password, same machine"
renewed=$("$here/token-renew.sh" "$token" rdp-1)
echo "$renewed" | short
expect '"token":"' "$renewed"

step "POST /v1/tokens/renew from another machine: refused (401 renewal_refused)"
if refused=$("$here/token-renew.sh" "$token" rdp-2); then
  echo "renewal on another machine was accepted: $refused" >&2
  exit 1
fi
echo "$refused"
expect '"code":"renewal_refused"' "$refused"

step "GET /v1/users/$user/activity: the machines of the last 24 hours"
licd_call GET "/v1/users/$user/activity?customer_id=$customer_id" "$vkey"

step "GET /v1/users/$user: her entitlements and machines"
shown=$("$here/user-show.sh" "$customer_id" "$user")
echo "$shown"
expect '"machine_id":"rdp-1"' "$shown"

step "DELETE /v1/users/$user/machines/rdp-1: the slot is free (204)"
"$here/machine-free.sh" "$customer_id" "$user" rdp-1
expect '"machines":[]' "$("$here/user-show.sh" "$customer_id" "$user")"

step "POST /v1/customers/$customer_id/rotate-key: a new customer key, the old one kept a day"
rotated=$("$here/customer-rotate-key.sh" "$customer_id")
echo "$rotated" | sed -E 's/"customer_key":"[^"]*"/"customer_key":"…"/'
expect '"previous_valid_until":"' "$rotated"
