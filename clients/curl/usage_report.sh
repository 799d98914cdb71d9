#!/usr/bin/env bash
# Reports usage under a licence or activation key (POST /v1/report_usage,
# Authorization: License <jwt>): FILE is JSON {"records":[...]}, or, when it
# ends in .gz, a gzip of JSON lines (one {"metric","value","at"?} a line).
# Usage: clients/curl/usage_report.sh LICENSE_JWT FILE
set -euo pipefail
. "$(dirname "$0")/common.sh"
jwt=${1:?usage: $0 LICENSE_JWT FILE} file=${2:?file}
case $file in *.gz) type=application/gzip ;; *) type=application/json ;; esac
curl -sS --fail-with-body -H "Authorization: License $jwt" -H "Content-Type: $type" \
  --data-binary "@$file" "$licd_url/v1/report_usage"
echo
