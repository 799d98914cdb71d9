#!/usr/bin/env bash
# Imports a site server's usage report (POST /v1/sites/{site_id}/reports,
# Content-Type: application/jose): REPORT_FILE is what `licd export-usage
# --out` wrote on the site. 202 when settled; 409 report_out_of_order for a
# gap or a replay, 400 invalid_report for a bad signature, an edit or an
# unknown site.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/site-report.sh SITE_ID REPORT_FILE
set -euo pipefail
. "$(dirname "$0")/common.sh"
site=${1:?usage: $0 SITE_ID REPORT_FILE} file=${2:?usage: $0 SITE_ID REPORT_FILE}
rc=0
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $(vendor_key)" \
  -H 'Content-Type: application/jose' --data-binary "@$file" "$licd_url/v1/sites/$site/reports" || rc=$?
echo
exit "$rc"
