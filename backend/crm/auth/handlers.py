"""Sign-in, first-run registration, invites and user administration."""
from datetime import datetime, timezone

from .. import audit
from ..clock import iso, now_iso
from ..db import transaction
from ..errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from ..results import Created, Page
from ..shapes import BOOLEAN, STRING, maybe, obj
from ..validation import Body, Field, page_params
from . import passwords, tokens, users

USERNAME = Field("username", required=True, max_length=64, doc="letters, digits, dot, dash, underscore")
PASSWORD_DOC = f"{passwords.MIN_LENGTH} characters to {passwords.MAX_BYTES} bytes"

REGISTER = Body(
    USERNAME,
    Field("email", "email", max_length=254),
    Field("display_name", max_length=120),
    Field("password", required=True, max_length=1024, doc=PASSWORD_DOC),
)
LOGIN = Body(
    Field("username", max_length=254, doc="username or email"),
    Field("email", "email", max_length=254, doc="alternative to username"),
    Field("password", required=True, max_length=1024),
)
CHANGE_PASSWORD = Body(
    Field("current_password", required=True, max_length=1024),
    Field("new_password", required=True, max_length=1024, doc=PASSWORD_DOC),
)
ACCEPT_INVITE = Body(
    Field("token", required=True, max_length=200),
    Field("password", required=True, max_length=1024, doc=PASSWORD_DOC),
)
CREATE_USER = Body(
    USERNAME,
    Field("email", "email", max_length=254),
    Field("display_name", max_length=120),
    Field("role", "enum", required=True, choices=users.ROLES),
)
UPDATE_USER = Body(
    Field("display_name", max_length=120),
    Field("email", "email", max_length=254, nullable=True),
    Field("role", "enum", choices=users.ROLES),
    Field("is_active", "boolean"),
    Field("reset_password", "boolean", doc="true: issue a one-time password-reset link"),
)
UPDATE_ME = Body(
    Field("display_name", max_length=120),
    Field("digest_opt_out", "boolean", doc="true: do not send me the evening digest (admins receive it)"),
)

# What these routes answer (the OpenAPI document shows it).
USER = obj(id=STRING, username=STRING, email=maybe(STRING), display_name=maybe(STRING), role=STRING, is_active=BOOLEAN,
           digest_opt_out=BOOLEAN, last_login_at=maybe(STRING), created_at=STRING, updated_at=maybe(STRING), has_password=BOOLEAN)
SESSION = obj(token=STRING, user=USER)
INVITE = obj(url=STRING, token=STRING, expires_at=STRING, purpose=STRING)
SETUP = obj(setup_required=BOOLEAN)
SIGNED_OUT = obj(signed_out=BOOLEAN)
NEW_USER = obj(user=USER, invite=INVITE)
CHANGED_USER = obj(user=USER, invite=INVITE, optional=("invite",))


def _check_username(name: str) -> None:
    if not name or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise Invalid({"username": "may contain only letters, digits, dot, dash and underscore"})


def _session(req, user) -> dict:
    token = tokens.issue(req.config.secret_key, user, req.config.token_ttl_hours)
    return {"token": token, "user": users.public(user)}


def _invite_link(req, invite: dict) -> dict:
    base = req.config.public_url or f"http://{req.headers.get('Host', '127.0.0.1')}"
    # The token travels in the fragment, so it never reaches a server log.
    return {
        "url": f"{base.rstrip('/')}/accept-invite#token={invite['token']}",
        "token": invite["token"],
        "expires_at": invite["expires_at"],
        "purpose": invite["purpose"],
    }


def bootstrap_status(req):
    """Whether the first admin still has to be created."""
    return {"setup_required": users.count(req.db) == 0}


def register(req):
    """Create the first user, as admin. Refused once any user exists."""
    data = req.validated()
    _check_username(data["username"])
    password_hash = passwords.hash_password(data["password"])  # slow: outside the write lock
    with transaction(req.db):
        if users.count(req.db) > 0:
            raise Forbidden("registration is closed; ask an admin for an invite")
        user = users.create(
            req.db, username=data["username"], email=data.get("email"),
            display_name=data.get("display_name"), role="admin", password_hash=password_hash,
        )
        audit.record(req.db, req, "user", user["id"], "register", {"username": [None, user["username"]], "role": [None, "admin"]},
                     actor={"id": user["id"], "kind": "user"})
    return Created(_session(req, user))


def login(req):
    """Exchange a username (or email) and password for a token."""
    data = req.validated()
    name = data.get("username") or data.get("email")
    if not name:
        raise Invalid({"username": "give a username or an email"})
    user = users.by_login(req.db, name)
    # One failure budget per account, whether it is named by username or by email.
    account = user["username"] if user else name
    req.app.shield.check_username(account)
    if user is None or not user["password_hash"]:
        passwords.burn_time()
        req.app.shield.login_failed(account)
        raise Unauthorized("wrong username or password")
    if not passwords.verify_password(data["password"], user["password_hash"]):
        req.app.shield.login_failed(account)
        raise Unauthorized("wrong username or password")
    if not user["is_active"]:
        raise Forbidden("this account is deactivated; ask an admin")
    req.app.shield.login_succeeded(account)
    changes = {"last_login_at": now_iso()}
    if passwords.needs_rehash(user["password_hash"]):
        changes["password_hash"] = passwords.hash_password(data["password"])
    with transaction(req.db):
        user = users.update(req.db, user["id"], changes, by=user["id"])
        audit.record(req.db, req, "user", user["id"], "login", audit.diff({}, changes, ["password_hash"]),
                     actor={"id": user["id"], "kind": "bot" if user["role"] == "bot" else "user"})
    return _session(req, user)


def me(req):
    """The signed-in user."""
    return users.public(req.user)


def update_me(req):
    """Change your own display name or whether the evening digest is sent to you."""
    data = req.validated(partial=True)
    if "display_name" in data and not (data["display_name"] or "").strip():
        raise Invalid({"display_name": "must not be blank"})
    if "digest_opt_out" in data:
        data["digest_opt_out"] = int(data["digest_opt_out"])
    with transaction(req.db):
        before = users.get(req.db, req.user["id"])
        user = users.update(req.db, before["id"], data, by=before["id"])
        audit.record(req.db, req, "user", user["id"], "update",
                     audit.diff(users.public(before), users.public(user), ["display_name", "digest_opt_out"]))
    return users.public(user)


def logout(req):
    """End this token's session (other devices stay signed in)."""
    expires = iso(datetime.fromtimestamp(req.token_claims["exp"], timezone.utc))
    with transaction(req.db):
        users.revoke(req.db, req.token_claims["jti"], expires)
        audit.record(req.db, req, "user", req.user["id"], "logout")
    return {"signed_out": True}


def change_password(req):
    """Change one's own password; every other session ends and a fresh token is returned."""
    data = req.validated()
    if not passwords.verify_password(data["current_password"], req.user["password_hash"]):
        raise Invalid({"current_password": "is not your current password"})
    password_hash = passwords.hash_password(data["new_password"], "new_password")
    with transaction(req.db):
        users.bump_token_version(req.db, req.user["id"])
        user = users.update(req.db, req.user["id"], {"password_hash": password_hash}, by=req.user["id"])
        audit.record(req.db, req, "user", user["id"], "change_password", {"password_hash": [audit.REDACTED, audit.REDACTED]})
    return _session(req, user)


def accept_invite(req):
    """Set a password from a one-time invite or reset link, and sign in."""
    data = req.validated()
    password_hash = passwords.hash_password(data["password"])
    with transaction(req.db):
        invite = users.open_invite(req.db, data["token"])
        if invite is None:
            raise NotFound("this link is invalid, used or expired; ask an admin for a new one")
        user = users.get(req.db, invite["user_id"])
        if not user["is_active"]:
            raise Forbidden("this account is deactivated; ask an admin")
        users.use_invite(req.db, invite["id"])
        users.bump_token_version(req.db, user["id"])
        user = users.update(req.db, user["id"], {"password_hash": password_hash}, by=user["id"])
        audit.record(req.db, req, "user", user["id"], "accept_" + invite["purpose"], {"password_hash": [audit.REDACTED, audit.REDACTED]},
                     actor={"id": user["id"], "kind": "bot" if user["role"] == "bot" else "user"})
    return _session(req, user)


def list_users(req):
    """Everyone with an account (no password hashes), by username; a page of up to 1000 (the default)."""
    limit, offset = page_params(req.query, default_limit=1000)
    found, total = users.list_page(req.db, limit, offset)
    return Page([users.public(u) for u in found], total, limit, offset)


def create_user(req):
    """Create a user and return a one-time invite link that sets their password."""
    data = req.validated()
    _check_username(data["username"])
    with transaction(req.db):
        clash = users.taken(req.db, data["username"], data.get("email"))
        if clash:
            raise Conflict("a user with that name or email exists", fields=clash)
        user = users.create(
            req.db, username=data["username"], email=data.get("email"), display_name=data.get("display_name"),
            role=data["role"], created_by=req.user["id"],
        )
        invite = users.create_invite(req.db, user["id"], "invite", req.config.invite_ttl_hours, req.user["id"])
        audit.record(req.db, req, "user", user["id"], "create", audit.diff({}, users.public(user), ["username", "email", "display_name", "role"]))
    return Created({"user": users.public(user), "invite": _invite_link(req, invite)})


def update_user(req):
    """Change role, active flag, name or email, or issue a password-reset link."""
    data = req.validated(partial=True)
    reset = data.pop("reset_password", False)
    with transaction(req.db):
        before = users.get(req.db, req.params["id"])
        if before is None:
            raise NotFound("no such user")
        if "email" in data and data["email"]:
            clash = users.taken(req.db, before["username"], data["email"], except_id=before["id"])
            if "email" in clash:
                raise Conflict("that email belongs to another user", fields={"email": clash["email"]})
        if "is_active" in data:
            data["is_active"] = int(data["is_active"])
        demoting = before["role"] == "admin" and before["is_active"] and (
            data.get("role", "admin") != "admin" or data.get("is_active", 1) == 0)
        if demoting and users.active_admins(req.db) <= 1:
            raise Conflict("this is the last active admin; promote another admin first")
        user = users.update(req.db, before["id"], data, by=req.user["id"])
        if data.get("is_active") == 0 and before["is_active"]:
            users.bump_token_version(req.db, user["id"])
        result = {"user": users.public(user)}
        changes = audit.diff(users.public(before), users.public(user), ["display_name", "email", "role", "is_active"])
        if reset:
            invite = users.create_invite(req.db, user["id"], "reset", req.config.invite_ttl_hours, req.user["id"])
            result["invite"] = _invite_link(req, invite)
            changes["password_reset_issued"] = [None, invite["expires_at"]]
        audit.record(req.db, req, "user", user["id"], "update", changes)
    return result
