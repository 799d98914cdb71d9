#!/usr/bin/env bash
# The worked session of the README ("Group keys, update passwords and usage"):
# a customer, a product, a group key; two applications activate on a node of
# quota 2 and a third is refused; the first comes back with its password; a copy of the first on another node presents
# its old update password and is flagged; the vendor blocks the copy; the
# original reports usage (JSON and gzip) and the vendor reads it back.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/group_key_session.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
vkey=$(vendor_key)
tag=$(date +%s)
product="mail-$tag"
short() { sed -E 's/"license":"[^"]*"/"license":"…"/'; }

step "POST /v1/customers and /v1/products"
customer_id=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Container Host $tag\"}" | json_field customer_id)
licd_call POST /v1/products "$vkey" "{\"code\":\"$product\",\"name\":\"Mail\",\"version\":\"3\"}"

step "POST /v1/group-keys: 2 instances per node, an empty IP link (binds to this host), a mailbox limit"
gk=$(licd_call POST /v1/group-keys "$vkey" \
  "{\"customer_id\":\"$customer_id\",\"scheme\":\"hosting\",\"products\":[\"$product\"],\"quota_per_node\":{\"$product\":2},\"link\":{\"type\":\"ip_range\"},\"limits\":{\"$product\":{\"mailboxes\":100}}}")
echo "$gk"
key=$(json_field group_key <<<"$gk")

step "get_key with the group key: shop and web on n1; a third app is refused (403 quota_exceeded)"
first=$("$here/group_key_activate.sh" "$key" hosting "$product" shop n1)
echo "$first" | short
jwt=$(json_field license <<<"$first")
p1=$(json_field update_password <<<"$first")
"$here/group_key_activate.sh" "$key" hosting "$product" web n1 | short
"$here/group_key_activate.sh" "$key" hosting "$product" third n1 || true

step "shop comes back with its update password: the same licence, a new password"
"$here/group_key_activate.sh" "$key" hosting "$product" shop n1 "$p1" | short

step "a copy of shop on n2 presents the old update password: still answered, but flagged"
"$here/group_key_activate.sh" "$key" hosting "$product" shop n2 "$p1" | short
queue=$("$here/group_key_clones.sh")
echo "$queue"
id=$(json_field id <<<"$queue")

step "block the copy: its next get_key is refused (403 license_blocked), the original's is not"
"$here/group_key_resolve.sh" "$id" block
"$here/group_key_activate.sh" "$key" hosting "$product" shop n2 || true
"$here/group_key_activate.sh" "$key" hosting "$product" shop n1 | short

step "usage under the original's activation key: JSON, then gzip of JSON lines"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"records":[{"metric":"mailboxes","value":120},{"metric":"disk_gb","value":3.5}]}' >"$tmp/r.json"
"$here/usage_report.sh" "$jwt" "$tmp/r.json"
printf '{"metric":"mailboxes","value":90}\nnot a record\n' | gzip >"$tmp/r.gz"
"$here/usage_report.sh" "$jwt" "$tmp/r.gz"
"$here/usage_show.sh" "$(json_field license_id <<<"$first")"
