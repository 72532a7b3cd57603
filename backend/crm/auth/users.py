"""The users table and its invites: SQL only, callable without HTTP."""
import hashlib
import secrets

from ..clock import iso_in, new_id, now_iso
from ..db import change_mark

PUBLIC_COLUMNS = "id, username, email, display_name, role, is_active, digest_opt_out, last_login_at, created_at, updated_at"
ROLES = ("admin", "member", "bot")


def public(user: dict) -> dict:
    """A user as the API shows it: never the hash or the token version."""
    if user is None:
        return None
    shown = {k: user[k] for k in PUBLIC_COLUMNS.split(", ")}
    shown["is_active"] = bool(shown["is_active"])
    shown["digest_opt_out"] = bool(shown["digest_opt_out"])
    shown["has_password"] = bool(user.get("password_hash"))
    return shown


def get(conn, user_id):
    return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def by_login(conn, login: str):
    """A user by username or email (both case-insensitive)."""
    return conn.execute("SELECT * FROM users WHERE username = ? OR email = ? LIMIT 1", (login, login)).fetchone()


def list_page(conn, limit, offset) -> tuple:
    """(users ordered by username, how many there are)."""
    found = conn.execute("SELECT * FROM users ORDER BY username LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    return found, count(conn)


def count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"]


def signup_rank(conn, user_id) -> int:
    """How many people (bots aside) signed up before this user: 0 for the first. It never changes, since
    users are never deleted and later ones rank after; the grid gives colours by it."""
    row = conn.execute("SELECT created_at FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        return 0
    return conn.execute("SELECT count(*) AS n FROM users WHERE role != 'bot' AND (created_at < ? OR (created_at = ? AND id < ?))",
                        (row["created_at"], row["created_at"], user_id)).fetchone()["n"]


def active_admins(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM users WHERE role = 'admin' AND is_active = 1").fetchone()["n"]


def active_admin_addresses(conn) -> list:
    """The email addresses of active admins (lower case), the earliest to sign up first."""
    found = conn.execute("SELECT lower(email) AS email FROM users WHERE role = 'admin' AND is_active = 1"
                         " AND email IS NOT NULL AND email != '' ORDER BY created_at, id").fetchall()
    return [r["email"] for r in found]


def digest_recipients(conn) -> list:
    """Whom the evening digest goes to: the active admins' addresses, less those who opted out."""
    found = conn.execute("SELECT lower(email) AS email FROM users WHERE role = 'admin' AND is_active = 1"
                         " AND digest_opt_out = 0 AND email IS NOT NULL AND email != '' ORDER BY created_at, id").fetchall()
    return [r["email"] for r in found]


def active_people(conn) -> dict:
    """{id: display name (else username)} of the active users who are people (not bots), earliest first."""
    return {r["id"]: r["display_name"] or r["username"] for r in conn.execute(
        "SELECT id, username, display_name FROM users WHERE is_active = 1 AND role != 'bot' ORDER BY created_at, id")}


def taken(conn, username: str, email: str, except_id=None) -> dict:
    """Which of username/email already belong to another user (field → message)."""
    errors = {}
    if conn.execute("SELECT 1 FROM users WHERE username = ? AND id IS NOT ?", (username, except_id)).fetchone():
        errors["username"] = "is already taken"
    if email and conn.execute("SELECT 1 FROM users WHERE email = ? AND id IS NOT ?", (email, except_id)).fetchone():
        errors["email"] = "is already used by another user"
    return errors


def create(conn, *, username, email, display_name, role, password_hash=None, created_by=None) -> dict:
    now = now_iso()
    user_id = new_id()
    conn.execute(
        "INSERT INTO users (id, username, email, display_name, password_hash, role, created_at, created_by, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, username, email or None, display_name or username, password_hash, role, now, created_by, now, created_by),
    )
    return get(conn, user_id)


def update(conn, user_id, changes: dict, by=None) -> dict:
    allowed = {"display_name", "role", "is_active", "password_hash", "email", "last_login_at", "digest_opt_out"}
    assert set(changes) <= allowed, set(changes) - allowed
    if changes:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        conn.execute(
            f"UPDATE users SET {assignments}, updated_at = ?, updated_by = ? WHERE id = ?",
            (*changes.values(), now_iso(), by, user_id),
        )
    return get(conn, user_id)


def bump_token_version(conn, user_id) -> None:
    """Void every token issued to the user so far."""
    conn.execute("UPDATE users SET token_version = token_version + 1 WHERE id = ?", (user_id,))


def revoke(conn, jti: str, expires_at: str) -> None:
    conn.execute("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)", (jti, expires_at))
    conn.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now_iso(),))


def is_revoked(conn, jti: str) -> bool:
    return conn.execute("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)).fetchone() is not None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invite(conn, user_id, purpose: str, ttl_hours: int, created_by=None) -> dict:
    """A single-use link token; earlier unused links of the user stop working."""
    token = secrets.token_urlsafe(32)
    now = now_iso()
    conn.execute("UPDATE user_invites SET used_at = ? WHERE user_id = ? AND used_at IS NULL", (now, user_id))
    expires_at = iso_in(hours=ttl_hours)
    conn.execute(
        "INSERT INTO user_invites (id, user_id, token_hash, purpose, expires_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new_id(), user_id, _token_hash(token), purpose, expires_at, now, created_by),
    )
    return {"token": token, "expires_at": expires_at, "purpose": purpose}


def open_invite(conn, token: str):
    """The unused, unexpired invite for `token`, or None."""
    return conn.execute(
        "SELECT * FROM user_invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (_token_hash(token), now_iso()),
    ).fetchone()


def use_invite(conn, invite_id) -> None:
    conn.execute("UPDATE user_invites SET used_at = ? WHERE id = ?", (now_iso(), invite_id))


def active_in_domain(conn, domain: str) -> list:
    """Active people (not bots) whose email address is at `domain`."""
    return conn.execute("SELECT * FROM users WHERE is_active = 1 AND role != 'bot' AND email LIKE ? ORDER BY username",
                        (f"%@{domain}",)).fetchall()


# -- for redaction (crm.ingest.redact) ----------------------------------------------------------------

def every_display_name(conn) -> list:
    """The display names of every user (team members' names are names too); empty ones left out."""
    return [r["display_name"] for r in conn.execute("SELECT display_name FROM users WHERE display_name != ''")]


def names_mark(conn) -> tuple:
    """What changes whenever a row of users is added, edited or removed (db.change_mark)."""
    return change_mark(conn, "users")
