# Shared by start.sh and test.sh: make the virtualenv and install what a
# requirements file lists, only when that file changed since the last install.
# Sourced, not run.

VENV="${VENV:-.venv}"

ensure_venv() {
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Venture CRM needs Python 3.11 or newer (found $(python3 --version 2>&1))." >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    python3 -m venv "$VENV"
  fi
}

# ensure_requirements FILE: pip install -r FILE unless FILE (and what it includes) is unchanged.
ensure_requirements() {
  local file="$1" stamp="$VENV/.installed-$(basename "$1").sha256" want
  want=$(cat "$file" requirements.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "installing Python packages from $file"
  "$VENV/bin/pip" install --disable-pip-version-check --quiet -r "$file"
  echo "$want" > "$stamp"
}

# ensure_npm_packages: npm ci in frontend/ unless package-lock.json is unchanged
# since the last install (and node_modules is still there). The SPA imports its
# packages straight from frontend/node_modules/, so there is no build step.
ensure_npm_packages() {
  local dir=frontend stamp="frontend/node_modules/.installed-lock.sha256" want
  if ! command -v npm >/dev/null 2>&1; then
    echo "Venture CRM needs npm (Node.js) to install its front-end packages." >&2
    exit 1
  fi
  want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ -d "$dir/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "installing front-end packages from $dir/package-lock.json"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

# ensure_chromium: the browser tests drive Debian's Chromium at /usr/bin/chromium
# (Playwright never downloads a browser of its own here).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  echo "installing Debian's chromium for the browser tests"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
