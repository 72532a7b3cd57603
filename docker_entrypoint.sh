#!/bin/sh
# Container entrypoint: prepare /data, keep one signing key, wire SMTP and Gmail, start the server.
#
# Every path can be moved by the environment (tests run this against a temporary
# directory): CRM_DATA_DIR (/data), CRM_APP_DIR (/app), CRM_SECRET_FILE
# (CRM_DATA_DIR/.crm-secret), CRM_SMTP_DIR (CRM_DATA_DIR/secrets/smtp),
# CRM_GMAIL_SA_KEY_PATH (CRM_DATA_DIR/secrets/gmail-service-account.json) and
# CRM_PYTHON (python3). A bad configuration stops here with one clear line.
# docs/DEPLOY.md lists every variable this script reads or sets.
set -eu

fail() { echo "docker_entrypoint: $*" >&2; exit 78; }  # 78: EX_CONFIG
note() { echo "docker_entrypoint: $*" >&2; }

DATA_DIR="${CRM_DATA_DIR:-/data}"
APP_DIR="${CRM_APP_DIR:-/app}"
PYTHON="${CRM_PYTHON:-python3}"
SECRET_FILE="${CRM_SECRET_FILE:-$DATA_DIR/.crm-secret}"
SMTP_DIR="${CRM_SMTP_DIR:-$DATA_DIR/secrets/smtp}"
GMAIL_KEY="${CRM_GMAIL_SA_KEY_PATH:-$DATA_DIR/secrets/gmail-service-account.json}"

command -v "$PYTHON" >/dev/null 2>&1 || fail "no Python interpreter at '$PYTHON' (set CRM_PYTHON)"
[ -f "$APP_DIR/backend/server.py" ] || fail "no $APP_DIR/backend/server.py (set CRM_APP_DIR to the application folder)"

# --- data directories: private to the service user --------------------------
umask 077
for dir in "$DATA_DIR" "$DATA_DIR/backups" "$DATA_DIR/secrets" "$DATA_DIR/email_attachments"; do
  mkdir -p "$dir" 2>/dev/null || fail "cannot create $dir (is the volume mounted and writable?)"
done
for dir in "$DATA_DIR/backups" "$DATA_DIR/secrets" "$DATA_DIR/email_attachments"; do
  chmod 700 "$dir" 2>/dev/null || fail "cannot set mode 700 on $dir (is it owned by $(id -un)?)"
done
[ -w "$DATA_DIR" ] || fail "$DATA_DIR is not writable by $(id -un)"

# --- the JWT signing key: generated once, then reused -----------------------
if [ -z "${CRM_SECRET_KEY:-}" ]; then
  if [ ! -s "$SECRET_FILE" ]; then
    "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$SECRET_FILE.tmp" \
      && mv "$SECRET_FILE.tmp" "$SECRET_FILE" || fail "cannot write $SECRET_FILE"
    note "generated a new signing key in $SECRET_FILE"
  fi
  chmod 600 "$SECRET_FILE" 2>/dev/null || fail "cannot set mode 600 on $SECRET_FILE"
  [ -r "$SECRET_FILE" ] || fail "cannot read $SECRET_FILE"
  CRM_SECRET_KEY="$(cat "$SECRET_FILE")"
fi
[ "${#CRM_SECRET_KEY}" -ge 32 ] || fail "the signing key must be at least 32 characters (CRM_SECRET_KEY or $SECRET_FILE)"
export CRM_SECRET_KEY

# --- digest SMTP --------------------------------------------------------------
# The StartOS package passes SMTP_* built from its store (SMTP_SELECTION says
# which choice the operator made). Without them, files under CRM_SMTP_DIR
# (host, port, username, password, from, security) configure it; "disabled"
# in the package wins over any files.
if [ "${SMTP_SELECTION:-}" = "disabled" ]; then
  unset SMTP_HOST SMTP_PORT SMTP_USER SMTP_PASS SMTP_FROM SMTP_SECURITY
elif [ -z "${SMTP_HOST:-}" ] && [ -f "$SMTP_DIR/host" ]; then
  read_smtp() { [ -f "$SMTP_DIR/$1" ] && tr -d '\r\n' < "$SMTP_DIR/$1" || true; }
  SMTP_HOST="$(read_smtp host)"
  SMTP_PORT="$(read_smtp port)"
  SMTP_USER="$(read_smtp username)"
  SMTP_PASS="$(read_smtp password)"
  SMTP_FROM="$(read_smtp from)"
  SMTP_SECURITY="$(read_smtp security)"
  SMTP_SELECTION="files"
fi
if [ -n "${SMTP_HOST:-}" ]; then
  SMTP_SECURITY="${SMTP_SECURITY:-starttls}"
  case "$SMTP_SECURITY" in
    tls) SMTP_PORT="${SMTP_PORT:-465}" ;;
    starttls) SMTP_PORT="${SMTP_PORT:-587}" ;;
    none)  # a relay on a trusted network: never with a password in the clear
      SMTP_PORT="${SMTP_PORT:-25}"
      [ -z "${SMTP_USER:-}" ] || fail "SMTP_SECURITY=none would send SMTP_PASS unencrypted: use starttls or tls to sign in" ;;
    *) fail "SMTP_SECURITY must be tls, starttls or none, not '$SMTP_SECURITY'" ;;
  esac
  case "$SMTP_PORT" in
    ''|*[!0-9]*) fail "SMTP_PORT must be a port number, not '$SMTP_PORT'" ;;
  esac
  { [ "$SMTP_PORT" -ge 1 ] && [ "$SMTP_PORT" -le 65535 ]; } || fail "SMTP_PORT must be between 1 and 65535, not $SMTP_PORT"
  case "${SMTP_FROM:-}" in
    *@*) ;;
    *) fail "SMTP_FROM must be a sender address (Name <digest@fund.example>) when SMTP_HOST is set" ;;
  esac
  export SMTP_HOST SMTP_PORT SMTP_SECURITY SMTP_FROM SMTP_USER="${SMTP_USER:-}" SMTP_PASS="${SMTP_PASS:-}"
  export SMTP_SELECTION="${SMTP_SELECTION:-env}"
  note "digest SMTP: $SMTP_HOST:$SMTP_PORT ($SMTP_SECURITY)"
else
  unset SMTP_HOST SMTP_PORT SMTP_USER SMTP_PASS SMTP_FROM SMTP_SECURITY
  export SMTP_SELECTION="${SMTP_SELECTION:-disabled}"
fi

case "${CRM_DIGEST_SENDER:-}" in
  ''|*@*) ;;
  *) fail "CRM_DIGEST_SENDER must be an email address, not '$CRM_DIGEST_SENDER'" ;;
esac

# --- Gmail capture: on only when the service-account key is there ----------
if [ -e "$GMAIL_KEY" ]; then
  [ -r "$GMAIL_KEY" ] || fail "cannot read the Gmail key $GMAIL_KEY"
  chmod 600 "$GMAIL_KEY" 2>/dev/null || fail "cannot set mode 600 on $GMAIL_KEY"
  problem="$("$PYTHON" - "$GMAIL_KEY" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        key = json.load(f)
except (OSError, ValueError) as exc:
    print(f"is not readable JSON ({type(exc).__name__})")
    sys.exit()
if not isinstance(key, dict) or key.get("type") != "service_account":
    print('is not a service-account key (its "type" must be "service_account")')
elif "@" not in str(key.get("client_email", "")):
    print("has no client_email")
elif "PRIVATE KEY" not in str(key.get("private_key", "")):
    print("has no private_key")
PY
)" || fail "cannot check the Gmail key $GMAIL_KEY"
  [ -z "$problem" ] || fail "the Gmail key $GMAIL_KEY $problem; run the package's Gmail action again or remove the file"
  [ -n "${CRM_GMAIL_WORKSPACE_DOMAIN:-}" ] || fail "a Gmail key is present but CRM_GMAIL_WORKSPACE_DOMAIN is not set"
  case "$CRM_GMAIL_WORKSPACE_DOMAIN" in
    *.*) ;;
    *) fail "CRM_GMAIL_WORKSPACE_DOMAIN must be a domain such as fund.example, not '$CRM_GMAIL_WORKSPACE_DOMAIN'" ;;
  esac
  CRM_GMAIL_SYNC_INTERVAL_MIN="${CRM_GMAIL_SYNC_INTERVAL_MIN:-180}"
  case "$CRM_GMAIL_SYNC_INTERVAL_MIN" in
    ''|0|*[!0-9]*) fail "CRM_GMAIL_SYNC_INTERVAL_MIN must be a whole number of minutes, at least 1" ;;
  esac
  export CRM_GMAIL_INTEGRATION_ENABLED=1 CRM_GMAIL_AUTH_METHOD=dwd CRM_GMAIL_SA_KEY_PATH="$GMAIL_KEY"
  export CRM_GMAIL_WORKSPACE_DOMAIN CRM_GMAIL_SYNC_INTERVAL_MIN
  note "Gmail capture on: $CRM_GMAIL_WORKSPACE_DOMAIN, every $CRM_GMAIL_SYNC_INTERVAL_MIN min"
else
  export CRM_GMAIL_INTEGRATION_ENABLED=0
  unset CRM_GMAIL_AUTH_METHOD CRM_GMAIL_SA_KEY_PATH CRM_GMAIL_SYNC_INTERVAL_MIN
fi

# --- the local model server (Spark) -------------------------------------------
case "${CRM_SPARK_BASE_URL:-}" in
  ''|http://?*|https://?*) ;;
  *) fail "CRM_SPARK_BASE_URL must start with http:// or https://, not '$CRM_SPARK_BASE_URL'" ;;
esac

# --- the server ---------------------------------------------------------------
export CRM_DATA_DIR="$DATA_DIR"
export CRM_ENV=production
export CRM_HOST="${CRM_HOST:-0.0.0.0}"
export CRM_PORT="${CRM_PORT:-8080}"
export CRM_FRONTEND_DIR="${CRM_FRONTEND_DIR:-$APP_DIR/frontend}"
cd "$APP_DIR"
# exec: the server becomes this process, so SIGTERM from StartOS or `docker stop` reaches it.
exec "$PYTHON" "$APP_DIR/backend/server.py"
