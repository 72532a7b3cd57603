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
