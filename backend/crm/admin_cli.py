"""Operator commands that work on the database directly, without HTTP or a sign-in.

The StartOS package's actions run these inside the container (the web UI needs
an admin to do anything, so recovering the only admin has to happen outside
it). Every command prints one JSON object on stdout; a failure prints
`{"ok": false, "error": "..."}` and exits non-zero.

    python3 backend/crm/admin_cli.py status
    python3 backend/crm/admin_cli.py reset-admin --username ada [--email ada@fund.example]
                                                 [--deliver password|link] [--base-url https://crm.local]
    python3 backend/crm/admin_cli.py security-status

`python3 -m crm.admin_cli ...` with backend/ on PYTHONPATH does the same.
The database is found as the server finds it (CRM_DB_PATH, else
CRM_DATA_DIR/crm.db). The commands refuse a database the server has not yet
migrated: start the service once first.
"""
if __name__ == "__main__" and not __package__:
    # Run as a script: this file's folder (backend/crm) is sys.path[0], where
    # crm/http would shadow the standard library's http. Put backend/ there
    # instead and run the module as part of its package.
    import os
    import sys

    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from crm.admin_cli import main

    sys.exit(main())

import argparse
import json
import os
import secrets
import stat
import sys
from pathlib import Path

from . import audit
from . import config as config_module
from .admin import checklist
from .auth import passwords, users
from .clock import now_iso
from .db import connect, transaction
from .db import migrate

SYSTEM_ACTOR = {"id": None, "kind": "system"}
PASSWORD_BYTES = 18  # token_urlsafe(18): 24 characters, inside bcrypt's 72 bytes and above the 10-character minimum


class CliError(Exception):
    """A refusal the operator can act on; printed as {"ok": false, "error": ...}."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def _data_dir(environ) -> Path:
    raw = environ.get("CRM_DATA_DIR")
    return Path(raw).expanduser().resolve() if raw else config_module.REPO_ROOT / "data"


def _db_path(environ) -> Path:
    raw = environ.get("CRM_DB_PATH")
    return Path(raw).expanduser().resolve() if raw else _data_dir(environ) / "crm.db"


def open_database(environ):
    """A connection to the server's database, refused when it is missing or not fully migrated."""
    path = _db_path(environ)
    if not path.exists():
        raise CliError(f"no database at {path}: start the service once, then try again", code=3)
    conn = connect(path)
    try:
        waiting = [m.path.name for m in migrate.pending(conn)]
    except migrate.MigrationError as exc:
        conn.close()
        raise CliError(str(exc), code=3) from None
    if waiting:
        conn.close()
        raise CliError(f"the database has migrations pending ({', '.join(waiting)}): start the service once, then try again", code=3)
    return conn


def _check_username(name: str) -> str:
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise CliError("username may contain only letters, digits, dot, dash and underscore (at most 64)", code=2)
    return name


def _invite_ttl_hours(environ) -> int:
    raw = environ.get("CRM_INVITE_TTL_HOURS") or "72"
    try:
        hours = int(raw)
    except ValueError:
        raise CliError(f"CRM_INVITE_TTL_HOURS must be a whole number, not {raw!r}", code=2) from None
    if hours < 1:
        raise CliError("CRM_INVITE_TTL_HOURS must be at least 1", code=2)
    return hours


def status(environ) -> dict:
    """How many users and active admins exist; `setup_required` while there are none."""
    conn = open_database(environ)
    try:
        return {"ok": True, "users": users.count(conn), "active_admins": users.active_admins(conn),
                "setup_required": users.active_admins(conn) == 0}
    finally:
        conn.close()


def reset_admin(environ, username: str, email=None, deliver="password", base_url=None) -> dict:
    """Create `username` as an active admin, or make the existing user one, and hand back a way in.

    `deliver="password"` sets a new random password and returns it (shown once);
    `deliver="link"` returns a one-time link that lets the user choose their own.
    Either way the user's other sessions end and older unused links stop working.
    One audit entry records it, with the system as actor.
    """
    _check_username(username)
    if deliver not in ("password", "link"):
        raise CliError("deliver must be password or link", code=2)
    if email is not None and ("@" not in email or len(email) > 254 or any(ch.isspace() for ch in email)):
        raise CliError(f"{email!r} is not an email address", code=2)
    ttl = _invite_ttl_hours(environ)
    password = secrets.token_urlsafe(PASSWORD_BYTES) if deliver == "password" else None
    password_hash = passwords.hash_password(password) if password else None  # slow: before the write lock
    conn = open_database(environ)
    try:
        with transaction(conn):
            before = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
            if email:
                clash = users.taken(conn, username, email, except_id=before["id"] if before else None)
                if "email" in clash:
                    raise CliError(f"{email} belongs to another user", code=4)
            if before is None:
                user = users.create(conn, username=username, email=email, display_name=username, role="admin",
                                    password_hash=password_hash)
                action = "cli_create_admin"
                changes = audit.diff({}, users.public(user), ["username", "email", "role"])
            else:
                update = {"role": "admin", "is_active": 1}
                if email:
                    update["email"] = email
                if password_hash:
                    update["password_hash"] = password_hash
                users.bump_token_version(conn, before["id"])  # every session of theirs ends
                user = users.update(conn, before["id"], update)
                action = "cli_reset_admin"
                changes = audit.diff(users.public(before), users.public(user), ["email", "role", "is_active"])
            result = {"ok": True, "created": before is None, "user": users.public(user)}
            if password_hash:
                changes["password_hash"] = [audit.REDACTED, audit.REDACTED]
                # A new password voids any link still out there for this user.
                conn.execute("UPDATE user_invites SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
                             (now_iso(), user["id"]))
                result["password"] = password
            else:
                invite = users.create_invite(conn, user["id"], "invite" if before is None else "reset", ttl)
                base = (base_url or environ.get("CRM_PUBLIC_URL") or "").rstrip("/")
                # The token travels in the fragment, as the web UI's links do, so it never reaches a log.
                result["invite"] = {"url": f"{base}/accept-invite#token={invite['token']}", "token": invite["token"],
                                    "expires_at": invite["expires_at"], "purpose": invite["purpose"]}
                changes["password_reset_issued"] = [None, invite["expires_at"]]
            audit.record(conn, None, "user", user["id"], action, changes, actor=SYSTEM_ACTOR)
        return result
    finally:
        conn.close()


def _file_check(name, path: Path, mode: int, missing_ok: bool, what: str) -> dict:
    if not path.exists():
        return {"name": name, "ok": missing_ok, "detail": f"{what} not present ({path})"}
    actual = stat.S_IMODE(path.stat().st_mode)
    ok = actual & ~mode == 0  # nothing beyond the allowed bits
    return {"name": name, "ok": ok, "detail": f"{path} has mode {actual:o}" + ("" if ok else f"; expected {mode:o} or tighter")}


def _secret_environ(environ) -> dict:
    """The environment the server sees in the container: the entrypoint exports the kept secret."""
    environ = dict(environ)
    secret_file = Path(environ.get("CRM_SECRET_FILE") or _data_dir(environ) / ".crm-secret")
    if not environ.get("CRM_SECRET_KEY") and secret_file.is_file():
        environ["CRM_SECRET_KEY"] = secret_file.read_text().strip()
    return environ


def security_status(environ) -> dict:
    """The admin page's go-live checklist, plus the files the container keeps on /data.

    The checklist is the web UI's (admin/checklist.py); bans live in the
    running server's memory and are not visible from here.
    """
    environ = _secret_environ(environ)
    try:
        config = config_module.load(environ)
    except config_module.ConfigError as exc:
        raise CliError(f"configuration error: {exc}", code=2) from None
    conn = open_database(environ)
    try:
        report = checklist.report(config, conn)
    finally:
        conn.close()
    data_dir = Path(config.data_dir)
    key_path = Path(environ.get("CRM_GMAIL_SA_KEY_PATH") or data_dir / "secrets" / "gmail-service-account.json")
    files = [
        _file_check("secret_file", Path(environ.get("CRM_SECRET_FILE") or data_dir / ".crm-secret"), 0o600, True, "kept signing key"),
        _file_check("secrets_dir", data_dir / "secrets", 0o700, True, "secrets folder"),
        _file_check("gmail_key", key_path, 0o600, True, "Gmail service-account key"),
    ]
    report["checks"].extend(files)
    report["ok"] = all(item["ok"] for item in report["checks"])
    report["gmail_key_present"] = key_path.is_file()
    return {"ok": True, **report}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="admin_cli", description="Venture CRM operator commands (JSON out).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="count users and active admins")
    reset = commands.add_parser("reset-admin", help="create or reset an admin and print a one-time password or link")
    reset.add_argument("--username", required=True)
    reset.add_argument("--email")
    reset.add_argument("--deliver", choices=("password", "link"), default="password")
    reset.add_argument("--base-url", help="where the CRM is reached, for the link (default CRM_PUBLIC_URL)")
    commands.add_parser("security-status", help="the go-live checklist and the modes of kept secrets")
    return parser


def main(argv=None, environ=None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    try:
        if args.command == "status":
            result = status(environ)
        elif args.command == "reset-admin":
            result = reset_admin(environ, args.username, args.email or None, args.deliver, args.base_url)
        else:
            result = security_status(environ)
    except CliError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))
        return exc.code
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
