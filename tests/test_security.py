"""Rate limits, bans, client addresses, CORS, security headers, production start-up refusal,
and the admin's security checklist.

Time is moved, never slept: the Shield takes a clock, and a test that needs a
sliding window swaps in `Shield(server.config, clock=FakeClock())`.
"""
import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm import config as crm_config
from crm.security.shield import Shield

ROOT = Path(__file__).resolve().parents[1]
JSON = {"Content-Type": "application/json"}
INCOMPLETE_LOGIN = {"username": "nobody"}  # a 422 without the cost of a password hash


class FakeClock:
    def __init__(self, start=10_000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def with_fake_clock(server) -> FakeClock:
    clock = FakeClock()
    server.app.shield = Shield(server.config, clock=clock)
    return clock


def retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert value >= 1
    return value


# --- rate limits ---------------------------------------------------------

def test_login_rate_limit_refuses_even_correct_credentials(make_server):
    server = make_server(login_rate_limit=3)
    admin = server.register_admin()          # 1: register is a sign-in path too
    client = server.client()
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 422   # 2
    good = {"username": "admin", "password": "correct horse battery"}
    assert client.post("/api/auth/login", good).status_code == 200              # 3
    r = client.post("/api/auth/login", good)                                     # 4
    assert r.status_code == 429
    assert 1 <= retry_after(r) <= 61
    assert "sign-in" in r.json()["error"]
    # Other buckets are separate: reads and writes still pass.
    assert admin.get("/api/auth/me").status_code == 200
    assert admin.post("/api/tags", {"name": "t"}).status_code == 201


def test_get_rate_limit(make_server):
    server = make_server(get_rate_limit=5)
    client = server.client()
    for i in range(5):
        assert client.get("/api/health").status_code == 200, i
    r = client.get("/api/health")
    assert r.status_code == 429
    assert 1 <= retry_after(r) <= 61
    assert client.request("HEAD", "/api/health").status_code == 429  # HEAD counts as a read
    assert client.get("/api/bootstrap/status").status_code == 429   # per address, not per path
    # Writes have their own bucket; static files are not rate limited.
    assert client.post("/api/auth/logout").status_code == 401
    assert client.get("/").status_code == 200


def test_write_rate_limit(make_server):
    server = make_server(write_rate_limit=3)
    client = server.client()
    for method, path in [("POST", "/api/tags"), ("PATCH", "/api/contacts/x"), ("DELETE", "/api/tags/x")]:
        assert client.request(method, path).status_code == 401
    r = client.request("PUT", "/api/contacts/x")
    assert r.status_code == 429
    assert 1 <= retry_after(r) <= 61
    assert "write" in r.json()["error"]
    assert client.get("/api/health").status_code == 200
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 422  # the login bucket is separate


def test_rate_limit_window_slides(make_server):
    server = make_server(get_rate_limit=3)
    clock = with_fake_clock(server)
    client = server.client()

    assert client.get("/api/health").status_code == 200       # t=0
    clock.advance(30)
    assert client.get("/api/health").status_code == 200       # t=30
    assert client.get("/api/health").status_code == 200       # t=30
    r = client.get("/api/health")
    assert r.status_code == 429
    assert retry_after(r) == 31                                # the t=0 request leaves the window at t=60

    clock.advance(31)                                          # t=61: only the t=0 request has aged out
    assert client.get("/api/health").status_code == 200
    r = client.get("/api/health")
    assert r.status_code == 429                                # a fixed window would have reset here
    assert retry_after(r) == 30

    clock.advance(30)                                          # t=91: the t=30 pair has aged out
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health").status_code == 200


def test_login_rate_limit_window_slides(make_server):
    server = make_server(login_rate_limit=3)
    clock = with_fake_clock(server)
    client = server.client()
    for _ in range(3):
        assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 422
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 429
    clock.advance(59)
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 429
    clock.advance(2)
    for _ in range(3):
        assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 422
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 429


def test_a_refused_request_with_a_body_does_not_poison_the_connection(make_server):
    server = make_server(login_rate_limit=1)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    for expected in (422, 429):
        conn.request("POST", "/api/auth/login", body=b'{"username": "x"}', headers=JSON)
        r = conn.getresponse()
        r.read()
        assert r.status == expected
    conn.request("GET", "/api/health")
    follow = conn.getresponse()
    assert follow.status == 200 and follow.read() == b'{"data":{"status":"ok"}}'
    conn.close()


# --- per-username failed sign-ins ----------------------------------------------------------

def test_failed_logins_throttle_that_username_only(make_server):
    server = make_server(login_failures_per_user=3)
    clock = with_fake_clock(server)
    admin = server.register_admin()
    server.add_user(admin, "maria", password="maria password 1")
    client = server.client()
    for _ in range(3):
        r = client.post("/api/auth/login", {"username": "admin", "password": "wrong password"})
        assert r.status_code == 401
    right = {"username": "admin", "password": "correct horse battery"}
    r = client.post("/api/auth/login", right)
    assert r.status_code == 429
    assert 1 <= retry_after(r) <= 15 * 60 + 1
    assert "account" in r.json()["error"]
    # The username is matched case-insensitively.
    assert client.post("/api/auth/login", {"username": "ADMIN", "password": "correct horse battery"}).status_code == 429
    # Another account from the same address is unaffected.
    assert client.post("/api/auth/login", {"username": "maria", "password": "maria password 1"}).status_code == 200
    # The throttle lifts when the failures leave the 15-minute window.
    clock.advance(15 * 60 + 1)
    assert client.post("/api/auth/login", right).status_code == 200


# --- 404 bursts ---------------------------------------------------------------------------

BAN = dict(abuse_404_threshold=5, abuse_404_window_sec=60, abuse_ban_sec=600)


def test_a_burst_of_404s_bans_the_address(make_server):
    server = make_server(**BAN)
    clock = with_fake_clock(server)
    client = server.client()
    for i in range(4):
        assert client.get(f"/api/probe-{i}").status_code == 404
    assert client.get("/api/health").status_code == 200        # four is under the threshold
    assert client.get("/wp-login.php").status_code == 404       # static 404s count too: five
    r = client.get("/api/health")
    assert r.status_code == 403 and "blocked" in r.json()["error"]
    assert client.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 403
    # The app's public files still load: the address may be a whole team's proxy.
    assert client.get("/").status_code == 200 and client.get("/app.js").status_code == 200

    clock.advance(599)
    assert client.get("/api/health").status_code == 403
    clock.advance(2)
    assert client.get("/api/health").status_code == 200


def test_404s_spread_beyond_the_window_do_not_ban(make_server):
    server = make_server(**BAN)
    clock = with_fake_clock(server)
    client = server.client()
    for round_ in range(3):
        for i in range(4):
            assert client.get(f"/api/probe-{round_}-{i}").status_code == 404
        clock.advance(61)
    assert client.get("/api/health").status_code == 200


# --- client address: X-Forwarded-For --------------------------------------------------------

def earn_ban(client, forwarded_for):
    for i in range(5):
        assert client.get(f"/api/probe-{i}", headers={"X-Forwarded-For": forwarded_for(i)}).status_code == 404


def test_x_forwarded_for_is_ignored_by_default(make_server):
    server = make_server(**BAN)
    client = server.client()
    earn_ban(client, lambda i: "1.2.3.4")
    # The ban landed on the socket address, 127.0.0.1, whatever the header says.
    assert client.get("/api/health").status_code == 403
    assert client.get("/api/health", headers={"X-Forwarded-For": "5.6.7.8"}).status_code == 403


def test_x_forwarded_for_is_honoured_behind_a_trusted_proxy(make_server):
    server = make_server(trust_proxy=True, **BAN)
    client = server.client()
    earn_ban(client, lambda i: "1.2.3.4")
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health", headers={"X-Forwarded-For": "5.6.7.8"}).status_code == 200
    assert client.get("/api/health", headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 403


def test_a_trusted_proxy_chain_is_keyed_on_the_hop_the_proxy_added(make_server):
    server = make_server(trust_proxy=True, **BAN)
    client = server.client()
    # The client forges a fresh left-hand address each time; our proxy appends the real one.
    earn_ban(client, lambda i: f"10.0.0.{i}, 1.2.3.4")
    assert client.get("/api/health", headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 403
    assert client.get("/api/health", headers={"X-Forwarded-For": "99.9.9.9, 1.2.3.4"}).status_code == 403
    assert client.get("/api/health", headers={"X-Forwarded-For": "1.2.3.4, 5.6.7.8"}).status_code == 200


def test_rate_limits_are_per_client_address(make_server):
    server = make_server(trust_proxy=True, get_rate_limit=2)
    client = server.client()
    alice, bob = {"X-Forwarded-For": "1.1.1.1"}, {"X-Forwarded-For": "2.2.2.2"}
    assert [client.get("/api/health", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/health", headers=bob).status_code == 200


# --- behind one proxy: signed-in callers are keyed by user --------------------------------

def team_behind_one_proxy(make_server, **limits):
    """Two partners and an anonymous client, all arriving from the proxy's one address."""
    server = make_server(trust_proxy=True, proxy_addresses=("127.0.0.1",), **limits)
    admin = server.register_admin()
    maria = server.add_user(admin, "maria")
    for client in (admin, maria):
        client.session.headers["X-Forwarded-For"] = "10.0.3.1"
    anonymous = server.client()
    anonymous.session.headers["X-Forwarded-For"] = "10.0.3.1"
    return server, admin, maria, anonymous


def test_one_users_burst_of_reads_never_throttles_a_teammate_behind_the_same_address(make_server):
    server, admin, maria, anonymous = team_behind_one_proxy(make_server, get_rate_limit=5)
    for _ in range(5):
        assert maria.get("/api/contacts").status_code == 200
    r = maria.get("/api/contacts")
    assert r.status_code == 429 and "your account" in r.json()["error"]
    assert admin.get("/api/contacts").status_code == 200     # same address, own budget
    assert anonymous.get("/api/health").status_code == 200  # and the address's budget is untouched
    # Anonymous requests still share the address's budget.
    for _ in range(4):
        assert anonymous.get("/api/health").status_code == 200
    r = anonymous.get("/api/health")
    assert r.status_code == 429 and "this address" in r.json()["error"]
    assert admin.get("/api/health").status_code == 200


def test_one_users_writes_never_throttle_a_teammate(make_server):
    server, admin, maria, anonymous = team_behind_one_proxy(make_server, write_rate_limit=3)
    for i in range(3):
        assert maria.post("/api/tags", {"name": f"m{i}"}).status_code == 201
    assert maria.post("/api/tags", {"name": "m3"}).status_code == 429
    assert admin.post("/api/tags", {"name": "a0"}).status_code == 201


def test_a_users_burst_of_404s_bans_that_user_only(make_server):
    server, admin, maria, anonymous = team_behind_one_proxy(make_server, **BAN)
    for i in range(5):
        assert maria.get(f"/api/probe-{i}").status_code == 404
    r = maria.get("/api/contacts")
    assert r.status_code == 403 and "your account" in r.json()["error"]
    assert admin.get("/api/contacts").status_code == 200
    assert anonymous.get("/api/health").status_code == 200 and anonymous.get("/").status_code == 200
    assert admin.get("/api/security/status").json()["data"]["banned_users"] == 1
    assert admin.get("/api/security/status").json()["data"]["banned_addresses"] == 0
    # Signing in again does not lift it: the ban is on the account, not the token.
    fresh = server.client()
    fresh.session.headers["X-Forwarded-For"] = "10.0.3.1"
    token = fresh.post("/api/auth/login", {"username": "maria", "password": "member password 1"}).json()["data"]["token"]
    fresh.token = token
    assert fresh.get("/api/contacts").status_code == 403


def test_an_anonymous_burst_of_404s_bans_the_address_but_not_signed_in_users(make_server):
    server, admin, maria, anonymous = team_behind_one_proxy(make_server, **BAN)
    for i in range(5):
        assert anonymous.get(f"/api/probe-{i}").status_code == 404
    assert anonymous.get("/api/health").status_code == 403
    assert anonymous.post("/api/auth/login", INCOMPLETE_LOGIN).status_code == 403
    assert maria.get("/api/contacts").status_code == 200
    assert admin.get("/api/security/status").json()["data"]["banned_addresses"] == 1


def test_a_forged_or_expired_token_is_keyed_by_address(make_server):
    # Only a validly signed token earns a key of its own; anything else cannot pick fresh keys.
    server, admin, maria, anonymous = team_behind_one_proxy(make_server, get_rate_limit=3)
    forged = [f"Bearer not-a-token-{i}" for i in range(4)]
    codes = [anonymous.get("/api/contacts", headers={"Authorization": h}).status_code for h in forged]
    assert codes == [401, 401, 401, 429]
    assert maria.get("/api/contacts").status_code == 200


def test_x_forwarded_for_is_believed_only_from_the_configured_proxy(make_server):
    server = make_server(trust_proxy=True, proxy_addresses=("10.0.3.1",), **BAN)
    client = server.client()
    # This connection comes from 127.0.0.1, not the proxy: its header is the client's own word.
    earn_ban(client, lambda i: f"9.9.9.{i}")
    assert client.get("/api/health", headers={"X-Forwarded-For": "8.8.8.8"}).status_code == 403


# --- CORS ---------------------------------------------------------------------------------------

ALLOWED = "https://crm.fund.example"


def test_no_cors_by_default(server):
    client = server.client()
    r = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    pre = client.request("OPTIONS", "/api/contacts", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in pre.headers
    assert "Access-Control-Allow-Methods" not in pre.headers


def test_cors_for_a_configured_origin_only(make_server):
    server = make_server(cors_origins=(ALLOWED,))
    client = server.client()
    r = client.get("/api/health", headers={"Origin": ALLOWED})
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in r.headers["Vary"]
    assert "*" not in r.headers["Access-Control-Allow-Origin"]
    err = client.get("/api/auth/me", headers={"Origin": ALLOWED})
    assert err.status_code == 401 and err.headers["Access-Control-Allow-Origin"] == ALLOWED

    for other in ("https://evil.example", "https://crm.fund.example.evil.example", "http://crm.fund.example", "null"):
        r = client.get("/api/health", headers={"Origin": other})
        assert "Access-Control-Allow-Origin" not in r.headers, other


def test_cors_preflight_lists_methods(make_server):
    server = make_server(cors_origins=(ALLOWED,))
    client = server.client()
    ask = {"Origin": ALLOWED, "Access-Control-Request-Method": "PATCH",
           "Access-Control-Request-Headers": "authorization, content-type"}
    r = client.request("OPTIONS", "/api/contacts/0b0e9c1e-0000-4000-8000-000000000000", headers=ask)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert {m.strip() for m in r.headers["Allow"].split(",")} == methods
    allowed_headers = r.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert int(r.headers["Access-Control-Max-Age"]) > 0
    assert r.content == b""

    refused = client.request("OPTIONS", "/api/contacts", headers={**ask, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Methods" not in refused.headers
    assert client.request("OPTIONS", "/api/no-such-route", headers=ask).status_code == 404


# --- security headers -------------------------------------------------------------------------------

def assert_security_headers(r, hsts: bool):
    csp = [part.strip() for part in r.headers["Content-Security-Policy"].split(";")]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert not any("unsafe-inline" in part or "unsafe-eval" in part for part in csp)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Frame-Options"] == "DENY"
    if hsts:
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        assert int(r.headers["Strict-Transport-Security"].split(";")[0].split("=")[1]) >= 15_552_000
    else:
        assert "Strict-Transport-Security" not in r.headers


def sample_responses(server):
    client = server.client()
    return {
        "api": client.get("/api/health"),
        "api error": client.get("/api/nope"),
        "static": client.get("/"),
        "static 404": client.get("/missing.js"),
        "preflight": client.request("OPTIONS", "/api/health"),
    }


def test_security_headers_everywhere_without_hsts_in_development(server):
    for what, r in sample_responses(server).items():
        assert r.status_code in (200, 404), what
        assert_security_headers(r, hsts=False)


def test_hsts_in_production(make_server):
    server = make_server(env="production", secret_key="x" * 40)
    for what, r in sample_responses(server).items():
        assert r.status_code in (200, 404), what
        assert_security_headers(r, hsts=True)


# --- production start-up refusal ---------------------------------------------------------------------

@pytest.mark.parametrize("environ, message", [
    ({"CRM_ENV": "production"}, "CRM_SECRET_KEY"),
    ({"CRM_ENV": "production", "CRM_SECRET_KEY": "x" * 31}, "at least 32"),
    ({"CRM_ENV": "production", "CRM_SECRET_KEY": "x" * 40, "CRM_SEED_DEMO_DATA": "1"}, "CRM_SEED_DEMO_DATA"),
    ({"CRM_ENV": "staging"}, "CRM_ENV"),
    ({"CRM_GET_RATE_LIMIT_PER_MIN": "0"}, "CRM_GET_RATE_LIMIT_PER_MIN"),
    ({"CRM_ABUSE_404_THRESHOLD": "0"}, "CRM_ABUSE_404_THRESHOLD"),
    ({"CRM_TRUST_PROXY": "maybe"}, "CRM_TRUST_PROXY"),
    ({"CRM_PROXY_ADDRESSES": "10.0.3.1, proxy.lan"}, "CRM_PROXY_ADDRESSES"),
], ids=["no-secret", "short-secret", "demo-data", "bad-env", "zero-get-limit", "zero-404-threshold", "bad-bool",
        "bad-proxy-address"])
def test_config_refuses_unsafe_settings(tmp_path, environ, message):
    with pytest.raises(crm_config.ConfigError) as caught:
        crm_config.load(environ={"CRM_DATA_DIR": str(tmp_path), **environ})
    assert message in str(caught.value)
    assert not (tmp_path / ".crm-secret").exists()


def test_config_accepts_a_long_enough_production_secret(tmp_path):
    config = crm_config.load(environ={"CRM_DATA_DIR": str(tmp_path), "CRM_ENV": "production",
                                      "CRM_SECRET_KEY": "k" * 32})
    assert config.production and config.secret_key == "k" * 32 and config.secret_from_env
    assert not (tmp_path / ".crm-secret").exists()  # no generated key in production


def run_server(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    clean.update({"CRM_DATA_DIR": str(tmp_path), "CRM_PORT": "0", **env})
    return subprocess.run([sys.executable, str(ROOT / "backend" / "server.py")], env=clean, cwd=ROOT,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("env, message", [
    ({"CRM_ENV": "production"}, "CRM_SECRET_KEY"),
    ({"CRM_ENV": "production", "CRM_SECRET_KEY": "s" * 40, "CRM_SEED_DEMO_DATA": "1"}, "CRM_SEED_DEMO_DATA is refused in production"),
], ids=["no-secret", "demo-data"])
def test_server_refuses_to_start_in_unsafe_production(tmp_path, env, message):
    result = run_server(tmp_path, **env)
    assert result.returncode != 0
    assert "configuration error" in result.stderr and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "crm.db").exists()  # refused before touching the data


# --- the admin's security checklist ----------------------------------------------------------------------

CHECKS = {"secret_key", "cors", "proxy_trust", "rate_limits", "bootstrap_closed", "admin_count", "last_backup"}


def test_security_status_for_admins_only(server, admin):
    r = admin.get("/api/security/status")
    assert r.status_code == 200
    data = r.json()["data"]
    checks = {c["name"]: c for c in data["checks"]}
    assert CHECKS <= set(checks)
    for check in checks.values():
        assert isinstance(check["ok"], bool) and isinstance(check["detail"], str) and check["detail"]
    assert data["env"] == "development" and data["hsts"] is False
    assert checks["secret_key"]["ok"] is False           # a generated development key
    assert checks["bootstrap_closed"]["ok"] is True      # the admin exists
    assert checks["admin_count"]["ok"] is True and checks["admin_count"]["detail"].startswith("1 ")
    assert "ignored" in checks["proxy_trust"]["detail"]
    assert "same origin" in checks["cors"]["detail"]
    assert data["ok"] is False and data["ok"] == all(c["ok"] for c in checks.values())

    maria = server.add_user(admin, "maria")
    assert maria.get("/api/security/status").status_code == 403
    assert server.client().get("/api/security/status").status_code == 401


def test_security_status_reflects_the_configuration(make_server):
    server = make_server(env="production", secret_key="z" * 40, trust_proxy=True, cors_origins=(ALLOWED,))
    admin = server.register_admin()
    data = admin.get("/api/security/status").json()["data"]
    checks = {c["name"]: c for c in data["checks"]}
    assert data["env"] == "production" and data["hsts"] is True
    assert checks["secret_key"]["ok"] is True
    assert "trusted" in checks["proxy_trust"]["detail"]
    assert ALLOWED in checks["cors"]["detail"]
