#!/usr/bin/env bash
# Renews a session token without the password (POST /v1/tokens/renew, no key):
# works while its signature is good, the machine matches and it expired less
# than LICD_RENEW_WINDOW ago. Usage: clients/curl/token-renew.sh TOKEN MACHINE_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
token=${1:?usage: $0 TOKEN MACHINE_ID} machine=${2:?machine id}
licd_call POST /v1/tokens/renew "" "{\"token\":\"$token\",\"machine_id\":\"$machine\"}"
