#!/usr/bin/env bash
# Uploads the build of a client program for platform challenges
# (POST /v1/client-images; up to 64 MiB; again for the same id replaces it).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/client-image-upload.sh SOFTWARE_ID PLATFORM FILE
set -euo pipefail
. "$(dirname "$0")/common.sh"
software=${1:?usage: $0 SOFTWARE_ID PLATFORM FILE} platform=${2:?platform} file=${3:?file}
{
  printf '{"software_id":"%s","platform":"%s","image_b64":"' "$software" "$platform"
  base64 -w0 "$file"
  printf '"}'
} | licd_call POST /v1/client-images "$(vendor_key)" @-
