#!/usr/bin/env bash
# Install what the tests need and run the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup-lib.sh
ensure_venv
ensure_requirements requirements-dev.txt
ensure_npm_packages
ensure_chromium
exec "$VENV/bin/python" -m pytest "$@"
