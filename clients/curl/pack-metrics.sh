#!/usr/bin/env bash
# The per-pack figures of GET /metrics (Prometheus text; no key needed) for
# the vendor whose key is given: each licd_pack_* family's HELP and TYPE,
# then the vendor's series, or only pack PACK_ID's. A node reads them from
# the database at most once a second, so a change shows within a second.
# Usage: LICD_VENDOR_KEY=lv_... [LICD_URL=...] clients/curl/pack-metrics.sh [PACK_ID]
set -euo pipefail
here=$(dirname "$0")
. "$here/common.sh"
vendor_id=$(licd_call GET /v1/vendor "$(vendor_key)" | json_field vendor_id)
[ -n "$vendor_id" ] || { echo "GET /v1/vendor gave no vendor_id" >&2; exit 1; }
labels="vendor_id=\"$vendor_id\""
[ $# -ge 1 ] && labels="$labels,pack_id=\"$1\""
curl -fsS "$licd_url/metrics" | grep -F -e '# HELP licd_pack_' -e '# TYPE licd_pack_' -e "{$labels"
