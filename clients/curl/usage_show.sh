#!/usr/bin/env bash
# The usage reported under one of the vendor's licences, per metric (GET
# /v1/usage): count, sum, max, latest; FROM and TO (RFC 3339) narrow it.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/usage_show.sh LICENSE_ID [FROM [TO]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
license=${1:?usage: $0 LICENSE_ID [FROM [TO]]}
licd_call GET "/v1/usage?license_id=$license${2:+&from=$2}${3:+&to=$3}" "$(vendor_key)"
