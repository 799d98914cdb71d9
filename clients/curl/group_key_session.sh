#!/usr/bin/env bash
# The worked session of the README ("Group keys, update passwords and usage"):
# a customer, a product, a group key; two applications activate on a node of
# quota 2 and a third is refused; the first comes back with its password; a
# copy of the first on another node presents its old update password and is
# flagged; the vendor blocks the copy; an exact copy (same app, same node)
# gets a licence of its own and is blocked while the original keeps working;
# the original reports usage (JSON and gzip) and is refused while over its
# limit; the vendor reads the key back, changes it and revokes it.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/group_key_session.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
vkey=$(vendor_key)
tag=$(date +%s)
product="mail-$tag"
short() { sed -E 's/"license":"[^"]*"/"license":"…"/'; }
activate() { "$here/group_key_activate.sh" "$key" hosting "$product" "$@"; }
# refused CODE APP NODE [PASSWORD]: the activation must be refused with CODE.
refused() {
  local code=$1 out
  shift
  out=$(activate "$@" || true)
  echo "$out"
  expect "\"code\":\"$code\"" "$out"
}

step "POST /v1/customers and /v1/products"
customer_id=$(licd_call POST /v1/customers "$vkey" "{\"name\":\"Container Host $tag\"}" | json_field customer_id)
licd_call POST /v1/products "$vkey" "{\"code\":\"$product\",\"name\":\"Mail\",\"version\":\"3\"}"

step "POST /v1/group-keys: 2 instances per node, an empty IP link (binds to this host), a mailbox limit"
gk=$(licd_call POST /v1/group-keys "$vkey" \
  "{\"customer_id\":\"$customer_id\",\"scheme\":\"hosting\",\"products\":[\"$product\"],\"quota_per_node\":{\"$product\":2},\"link\":{\"type\":\"ip_range\"},\"limits\":{\"$product\":{\"mailboxes\":100}}}")
echo "$gk"
key=$(json_field group_key <<<"$gk")
prefix=$(json_field group_key_prefix <<<"$gk")

step "get_key with the group key: shop and web on n1; a third app is refused (403 quota_exceeded)"
first=$(activate shop n1)
echo "$first" | short
jwt=$(json_field license <<<"$first")
original=$(json_field license_id <<<"$first")
p1=$(json_field update_password <<<"$first")
activate web n1 | short
refused quota_exceeded third n1

step "shop comes back with its update password: the same licence, a new password"
again=$(activate shop n1 "$p1")
echo "$again" | short
expect "\"license_id\":\"$original\"" "$again"
p2=$(json_field update_password <<<"$again")

step "a copy of shop on n2 presents the old update password: still answered, but flagged"
activate shop n2 "$p1" | short
queue=$("$here/group_key_clones.sh")
echo "$queue"
id=$(json_field id <<<"$queue")

step "block the copy: its next get_key is refused (403 license_blocked), the original's is not"
"$here/group_key_resolve.sh" "$id" block
refused license_blocked shop n2
activate shop n1 | short

step "shop presents p2; an exact copy of it (same app, same node) presents p2 again: a licence of its own"
next=$(activate shop n1 "$p2")
echo "$next" | short
p3=$(json_field update_password <<<"$next")
copy=$(activate shop n1 "$p2")
echo "$copy" | short
copy_id=$(json_field license_id <<<"$copy")
[ "$copy_id" != "$original" ] || { echo "the exact copy got the original's licence" >&2; exit 1; }
copy_pw=$(json_field update_password <<<"$copy")
id=$("$here/group_key_clones.sh" | json_field id)

step "block it: the copy stays blocked on n1, with either password; the original's chain goes on"
"$here/group_key_resolve.sh" "$id" block
refused license_blocked shop n1 "$copy_pw"
refused license_blocked shop n1 "$p2"
next=$(activate shop n1 "$p3")
echo "$next" | short
expect "\"license_id\":\"$original\"" "$next"

step "usage under the original's activation key: JSON over the limit, then its next get_key is refused"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"records":[{"metric":"mailboxes","value":120},{"metric":"disk_gb","value":3.5}]}' >"$tmp/r.json"
"$here/usage_report.sh" "$jwt" "$tmp/r.json"
refused over_limit shop n1

step "a gzip of JSON lines back within the limit: the licence is issued again"
printf '{"metric":"mailboxes","value":90}\nnot a record\n' | gzip >"$tmp/r.gz"
"$here/usage_report.sh" "$jwt" "$tmp/r.gz"
activate shop n1 | short
"$here/usage_show.sh" "$original"

step "the vendor's keys: the customer's list, one key by its prefix, a change"
"$here/group_key_list.sh" "$customer_id"
"$here/group_key_show.sh" "$prefix"
"$here/group_key_update.sh" "$prefix" "{\"quota_per_node\":{\"$product\":3},\"on_over_limit\":\"report\"}"

step "revoke it: every later activation is refused (403 group_key_revoked)"
"$here/group_key_revoke.sh" "$prefix"
refused group_key_revoked shop n1
