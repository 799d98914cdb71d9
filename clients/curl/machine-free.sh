#!/usr/bin/env bash
# Frees a user's machine slot (DELETE /v1/users/{username}/machines/{machine_id},
# 204): her next new machine is accepted, that machine's tokens never renew.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/machine-free.sh CUSTOMER_ID USERNAME MACHINE_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call DELETE "/v1/users/${2:?username}/machines/${3:?machine id}?customer_id=${1:?customer id}" \
  "$(vendor_key)"
