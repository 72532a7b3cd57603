#!/bin/sh
# Container entrypoint: prepare /data, keep one signing key, start the server.
# What exists today: data directories, the persisted secret, production mode.
# The StartOS packaging issue adds SMTP and Gmail wiring from the package store.
set -eu

DATA_DIR="${CRM_DATA_DIR:-/data}"
APP_DIR="${CRM_APP_DIR:-/app}"
SECRET_FILE="${CRM_SECRET_FILE:-$DATA_DIR/.crm-secret}"

fail() { echo "docker_entrypoint: $*" >&2; exit 1; }

umask 077
mkdir -p "$DATA_DIR" "$DATA_DIR/backups" "$DATA_DIR/secrets" "$DATA_DIR/email_attachments" \
  || fail "cannot create directories under $DATA_DIR"
chmod 700 "$DATA_DIR/secrets"

if [ -z "${CRM_SECRET_KEY:-}" ]; then
  if [ ! -s "$SECRET_FILE" ]; then
    python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$SECRET_FILE.tmp" \
      && mv "$SECRET_FILE.tmp" "$SECRET_FILE" || fail "cannot write $SECRET_FILE"
    chmod 600 "$SECRET_FILE"
  fi
  CRM_SECRET_KEY="$(cat "$SECRET_FILE")"
fi
[ "${#CRM_SECRET_KEY}" -ge 32 ] || fail "the secret key must be at least 32 characters"

export CRM_SECRET_KEY CRM_DATA_DIR="$DATA_DIR"
export CRM_ENV="${CRM_ENV:-production}"
export CRM_HOST="${CRM_HOST:-0.0.0.0}"
export CRM_PORT="${CRM_PORT:-8080}"

exec python3 "$APP_DIR/backend/server.py"
