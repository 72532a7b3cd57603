#!/usr/bin/env bash
# Serve Venture CRM at http://127.0.0.1:8080 with data under ./data/.
# CRM_HOST, CRM_PORT, CRM_DATA_DIR (and every other CRM_* variable) override.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup-lib.sh
ensure_venv
ensure_requirements requirements.txt
ensure_npm_packages
export CRM_DATA_DIR="${CRM_DATA_DIR:-$PWD/data}"
exec "$VENV/bin/python" backend/server.py
