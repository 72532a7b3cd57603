"""Sign-in, tokens, passwords, invites and user administration, through HTTP."""
import base64
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from crm.auth import passwords, tokens
from crm.db import connect

PASSWORD = "correct horse battery"


def user_row(server, username):
    conn = connect(server.config.db_path)
    try:
        return conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    finally:
        conn.close()


# -- first run ---------------------------------------------------------------

def test_bootstrap_then_registration_closes(server):
    client = server.client()
    assert client.get("/api/bootstrap/status").json()["data"] == {"setup_required": True}
    admin = server.register_admin()
    assert admin.user["role"] == "admin"
    assert client.get("/api/bootstrap/status").json()["data"] == {"setup_required": False}
    r = client.post("/api/auth/register", {"username": "intruder", "password": "another password"})
    assert r.status_code == 403
    assert "closed" in r.json()["error"]
    assert user_row(server, "intruder") is None


def test_register_validates_every_field(server):
    r = server.client().post("/api/auth/register", {"username": "", "password": "short", "email": "nope", "extra": 1})
    assert r.status_code == 422
    fields = r.json()["fields"]
    assert set(fields) == {"username", "email", "extra"}
    r = server.client().post("/api/auth/register", {"username": "ok", "password": "short"})
    assert r.status_code == 422 and "at least 10" in r.json()["fields"]["password"]
    assert server.client().get("/api/bootstrap/status").json()["data"]["setup_required"] is True


# -- login -------------------------------------------------------------------

def test_login_by_username_or_email(server, admin):
    for name in ("admin", "ADMIN", "admin@fund.example"):
        r = server.client().post("/api/auth/login", {"username": name, "password": PASSWORD})
        assert r.status_code == 200, name
        assert r.json()["data"]["user"]["username"] == "admin"
    r = server.client().post("/api/auth/login", {"email": "admin@fund.example", "password": PASSWORD})
    assert r.status_code == 200


@pytest.mark.parametrize("body, status", [
    ({"username": "admin", "password": "wrong password!"}, 401),
    ({"username": "nobody", "password": PASSWORD}, 401),
    ({"password": PASSWORD}, 422),
    ({"username": "admin"}, 422),
])
def test_login_failures(server, admin, body, status):
    r = server.client().post("/api/auth/login", body)
    assert r.status_code == status
    assert "token" not in r.text


def test_login_records_last_login_and_audit(server, admin):
    server.client().post("/api/auth/login", {"username": "admin", "password": PASSWORD})
    assert user_row(server, "admin")["last_login_at"] is not None
    entries = admin.get("/api/audit-log", params={"action": "login"}).json()["data"]
    assert entries and entries[0]["actor_id"] == admin.user["id"]


def test_me_never_shows_secrets(server, admin):
    data = admin.get("/api/auth/me").json()["data"]
    assert "password_hash" not in data and "token_version" not in data
    listing = admin.get("/api/users").json()["data"]
    assert all("password_hash" not in u for u in listing)
    assert "$2b$" not in admin.get("/api/users").text


# -- passwords ---------------------------------------------------------------

def test_bcrypt_cost_is_at_least_12(server, admin):
    stored = user_row(server, "admin")["password_hash"]
    assert stored.startswith("$2b$") and int(stored.split("$")[2]) >= 12


@pytest.mark.parametrize("password, message", [
    ("short", "at least 10"),
    ("é" * 37, "at most 72 bytes"),  # 37 characters, 74 bytes: must not be silently truncated
])
def test_password_policy(server, admin, password, message):
    r = admin.post("/api/auth/change-password", {"current_password": PASSWORD, "new_password": password})
    assert r.status_code == 422
    assert message in r.json()["fields"]["new_password"]
    assert server.client().post("/api/auth/login", {"username": "admin", "password": PASSWORD}).status_code == 200


def test_legacy_pbkdf2_hash_verifies_and_is_upgraded(server, admin):
    conn = connect(server.config.db_path)
    conn.execute("UPDATE users SET password_hash = ? WHERE username = 'admin'",
                 (passwords.legacy_pbkdf2_hash("legacy password 1", "somesalt"),))
    conn.close()
    assert server.client().post("/api/auth/login", {"username": "admin", "password": "wrong password"}).status_code == 401
    r = server.client().post("/api/auth/login", {"username": "admin", "password": "legacy password 1"})
    assert r.status_code == 200
    assert user_row(server, "admin")["password_hash"].startswith("$2b$12$")
    assert server.client().post("/api/auth/login", {"username": "admin", "password": "legacy password 1"}).status_code == 200


def test_change_password_ends_other_sessions(server, admin):
    other = server.client()
    other.token = other.post("/api/auth/login", {"username": "admin", "password": PASSWORD}).json()["data"]["token"]
    r = admin.post("/api/auth/change-password", {"current_password": "not it at all", "new_password": "a brand new password"})
    assert r.status_code == 422 and "current_password" in r.json()["fields"]
    r = admin.post("/api/auth/change-password", {"current_password": PASSWORD, "new_password": "a brand new password"})
    assert r.status_code == 200
    assert other.get("/api/auth/me").status_code == 401
    assert admin.get("/api/auth/me").status_code == 401  # the old token too
    admin.token = r.json()["data"]["token"]
    assert admin.get("/api/auth/me").status_code == 200
    assert server.client().post("/api/auth/login", {"username": "admin", "password": PASSWORD}).status_code == 401


# -- tokens ------------------------------------------------------------------

def _forge(server, user_id, **changes):
    claims = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": user_id, "ver": 1, "jti": "x",
              "iat": datetime.now(timezone.utc), "exp": datetime.now(timezone.utc) + timedelta(hours=1)}
    key = changes.pop("key", server.config.secret_key)
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="HS256")


def _alg_none(user_id):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    body = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": user_id, "ver": 1, "jti": "x",
            "iat": int(time.time()), "exp": int(time.time()) + 3600}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(body)}."


@pytest.mark.parametrize("make_token", [
    lambda s, uid: _alg_none(uid),
    lambda s, uid: _forge(s, uid, key="w" * 48),
    lambda s, uid: _forge(s, uid, exp=datetime.now(timezone.utc) - timedelta(seconds=5)),
    lambda s, uid: _forge(s, uid, aud="someone-else"),
    lambda s, uid: _forge(s, uid, iss="someone-else"),
    lambda s, uid: _forge(s, uid, jti=None),
    lambda s, uid: _forge(s, uid, ver=99),
    lambda s, uid: _forge(s, "not-a-user"),
    lambda s, uid: "garbage",
], ids=["alg-none", "wrong-key", "expired", "wrong-aud", "wrong-iss", "no-jti", "old-version", "unknown-user", "garbage"])
def test_bad_tokens_are_401(server, admin, make_token):
    assert _forge(server, admin.user["id"]) and server.client(_forge(server, admin.user["id"])).get("/api/auth/me").status_code == 200
    r = server.client(make_token(server, admin.user["id"])).get("/api/auth/me")
    assert r.status_code == 401
    assert r.json()["error"]


def test_logout_ends_only_that_token(server, admin):
    second = server.client()
    second.token = second.post("/api/auth/login", {"username": "admin", "password": PASSWORD}).json()["data"]["token"]
    assert admin.post("/api/auth/logout").status_code == 200
    assert admin.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 200


def test_public_route_ignores_a_stale_token(server, admin):
    admin.post("/api/auth/logout")
    r = admin.post("/api/auth/login", {"username": "admin", "password": PASSWORD})
    assert r.status_code == 200


# -- users, roles, invites ---------------------------------------------------

def test_invite_flow(server, admin):
    r = admin.post("/api/admin/users", {"username": "maria", "email": "maria@fund.example", "role": "member", "display_name": "Maria K"})
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["user"]["has_password"] is False
    link = data["invite"]
    assert "#token=" in link["url"] and link["token"] in link["url"]
    assert user_row(server, "maria")["password_hash"] is None
    # No password yet: nobody can sign in as maria.
    assert server.client().post("/api/auth/login", {"username": "maria", "password": "anything long"}).status_code == 401
    r = server.client().post("/api/auth/accept-invite", {"token": link["token"], "password": "maria's password"})
    assert r.status_code == 200
    maria = server.client(r.json()["data"]["token"])
    assert maria.get("/api/auth/me").json()["data"]["username"] == "maria"
    # Single use.
    r = server.client().post("/api/auth/accept-invite", {"token": link["token"], "password": "hijack password"})
    assert r.status_code == 404
    assert server.client().post("/api/auth/login", {"username": "maria", "password": "maria's password"}).status_code == 200


def test_invite_expires(make_server):
    server = make_server(invite_ttl_hours=0)
    admin = server.register_admin()
    token = admin.post("/api/admin/users", {"username": "late", "role": "member"}).json()["data"]["invite"]["token"]
    r = server.client().post("/api/auth/accept-invite", {"token": token, "password": "too late now!"})
    assert r.status_code == 404 and "expired" in r.json()["error"]


def test_duplicate_user_is_409(server, admin):
    admin.post("/api/admin/users", {"username": "maria", "email": "m@fund.example", "role": "member"})
    r = admin.post("/api/admin/users", {"username": "MARIA", "role": "member"})
    assert r.status_code == 409 and "username" in r.json()["fields"]
    r = admin.post("/api/admin/users", {"username": "other", "email": "M@fund.example", "role": "member"})
    assert r.status_code == 409 and "email" in r.json()["fields"]


def test_deactivation_and_role_change_take_effect_at_once(server, admin):
    maria = server.add_user(admin, "maria")
    assert maria.get("/api/audit-log").status_code == 403
    admin.patch(f"/api/admin/users/{maria.user['id']}", {"role": "admin"})
    assert maria.get("/api/audit-log").status_code == 200
    admin.patch(f"/api/admin/users/{maria.user['id']}", {"role": "member"})
    assert maria.get("/api/audit-log").status_code == 403
    r = admin.patch(f"/api/admin/users/{maria.user['id']}", {"is_active": False})
    assert r.status_code == 200 and r.json()["data"]["user"]["is_active"] is False
    assert maria.get("/api/auth/me").status_code == 401
    r = server.client().post("/api/auth/login", {"username": "maria", "password": "member password 1"})
    assert r.status_code == 403 and "deactivated" in r.json()["error"]
    # Reactivated, the old token stays void (its version was bumped) but a new sign-in works.
    admin.patch(f"/api/admin/users/{maria.user['id']}", {"is_active": True})
    assert maria.get("/api/auth/me").status_code == 401
    assert server.client().post("/api/auth/login", {"username": "maria", "password": "member password 1"}).status_code == 200


def test_password_reset_link(server, admin):
    maria = server.add_user(admin, "maria")
    r = admin.patch(f"/api/admin/users/{maria.user['id']}", {"reset_password": True})
    invite = r.json()["data"]["invite"]
    assert invite["purpose"] == "reset"
    r = server.client().post("/api/auth/accept-invite", {"token": invite["token"], "password": "maria new password"})
    assert r.status_code == 200
    assert maria.get("/api/auth/me").status_code == 401
    assert server.client().post("/api/auth/login", {"username": "maria", "password": "member password 1"}).status_code == 401
    assert server.client().post("/api/auth/login", {"username": "maria", "password": "maria new password"}).status_code == 200


def test_last_admin_is_protected(server, admin):
    me = admin.user["id"]
    for change in ({"role": "member"}, {"is_active": False}):
        r = admin.patch(f"/api/admin/users/{me}", change)
        assert r.status_code == 409 and "last active admin" in r.json()["error"]
    assert user_row(server, "admin")["role"] == "admin"
    second = server.add_user(admin, "bea", role="admin")
    assert admin.patch(f"/api/admin/users/{me}", {"role": "member"}).status_code == 200
    assert second.patch(f"/api/admin/users/{second.user['id']}", {"is_active": False}).status_code == 409


def test_update_user_errors(server, admin):
    assert admin.patch("/api/admin/users/no-such-id", {"display_name": "x"}).status_code == 404
    r = admin.patch(f"/api/admin/users/{admin.user['id']}", {"role": "emperor", "is_active": "yes"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"role", "is_active"}


def test_bot_reaches_only_its_routes(server, admin):
    bot = server.add_user(admin, "digest-bot", role="bot", password="bot password 12")
    assert bot.get("/api/auth/me").json()["data"]["role"] == "bot"
    assert bot.get("/api/users").status_code == 403
    assert bot.get("/api/audit-log").status_code == 403
    assert bot.post("/api/auth/logout").status_code == 200


def test_user_mutations_are_audited(server, admin):
    maria = server.add_user(admin, "maria")
    admin.patch(f"/api/admin/users/{maria.user['id']}", {"display_name": "Maria Kovacs"})
    entries = admin.get("/api/audit-log", params={"entity_id": maria.user["id"]}).json()["data"]
    actions = [e["action"] for e in entries]
    assert {"create", "accept_invite", "update"} <= set(actions)
    update = next(e for e in entries if e["action"] == "update")
    assert update["changes"] == {"display_name": ["maria", "Maria Kovacs"]}
    assert update["actor_id"] == admin.user["id"] and update["request_id"]
    assert "$2b$" not in json.dumps(entries)
