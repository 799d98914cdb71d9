#!/usr/bin/env bash
# Asks a licd node whether it is alive (GET /healthz) and ready, i.e. its
# database is reachable and writable (GET /readyz). Exits non-zero when not.
# Usage: LICD_URL=http://127.0.0.1:8080 clients/curl/health.sh
set -euo pipefail
url=${LICD_URL:-http://127.0.0.1:8080}
url=${url%/}

curl -fsS "$url/healthz"
echo
curl -fsS "$url/readyz"
echo
