"""Gmail capture in OAuth mode: consent with a single-use state, the refresh token sealed at rest
(AES-256-GCM), syncing through it, and a revoked token stopping the mailbox (issue 16)."""
import base64
import sqlite3
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from email_helpers import DOMAIN, capture_config, mail
from fakes.google import FakeGoogle

MEMBER = f"maria@{DOMAIN}"
CLIENT_ID, CLIENT_SECRET = "crm-client.apps.example", "client-secret-for-tests"


@pytest.fixture
def google():
    with FakeGoogle() as fake:
        fake.oauth_client(CLIENT_ID, CLIENT_SECRET)
        yield fake


@pytest.fixture
def oauth_server(make_server, google, tmp_path):
    server = make_server(**capture_config(
        google, tmp_path / "unused.json", gmail_auth_method="oauth", gmail_oauth_client_id=CLIENT_ID,
        gmail_oauth_client_secret=CLIENT_SECRET, gmail_oauth_redirect_uri="http://crm.example/api/email/oauth/callback",
        gmail_oauth_auth_uri=google.auth_url, gmail_secret_key=base64.b64encode(b"k" * 32).decode()))
    server.app.email.backoff_base = 0.01
    admin = server.register_admin()
    return server, admin, server.add_user(admin, "maria")


def consent(server, google, member) -> requests.Response:
    """Start consent as `member`, let the fake consent screen answer, and follow Google back."""
    r = member.get("/api/email/oauth/start")
    assert r.status_code == 200, r.text
    url = urlparse(r.json()["data"]["url"])
    query = parse_qs(url.query)
    assert url.geturl().startswith(google.auth_url)
    assert query["access_type"] == ["offline"] and query["client_id"] == [CLIENT_ID] and query["login_hint"] == [MEMBER]
    code = google.issue_code(MEMBER, client_id=CLIENT_ID, redirect_uri=query["redirect_uri"][0])
    return requests.get(server.url + "/api/email/oauth/callback", params={"state": query["state"][0], "code": code},
                        allow_redirects=False, timeout=10), query["state"][0]


def test_consent_enrolls_the_mailbox_with_its_refresh_token_sealed_and_the_state_used_once(oauth_server, google):
    server, admin, member = oauth_server
    r, state = consent(server, google, member)
    assert r.status_code == 302 and r.headers["Location"] == "/settings?gmail=connected"
    accounts = member.get("/api/email/accounts").json()["data"]
    assert [(a["email"], a["auth_method"]) for a in accounts] == [(MEMBER, "oauth")]
    refresh_tokens = list(google._refresh)
    assert refresh_tokens
    with sqlite3.connect(server.config.db_path) as conn:
        sealed = conn.execute("SELECT refresh_token_sealed FROM email_accounts").fetchone()[0]
    assert sealed.startswith("v1:") and refresh_tokens[0] not in sealed
    assert refresh_tokens[0].encode() not in server.config.db_path.read_bytes()
    again = requests.get(server.url + "/api/email/oauth/callback", params={"state": state, "code": "4/0whatever"},
                         allow_redirects=False, timeout=10)
    assert again.status_code == 400 and "already used or has expired" in again.json()["error"]
    forged = requests.get(server.url + "/api/email/oauth/callback", params={"state": "forged", "code": "x"}, timeout=10)
    assert forged.status_code == 400


def test_the_mailbox_syncs_through_its_refresh_token_and_a_revoked_one_needs_attention(oauth_server, google):
    server, admin, member = oauth_server
    consent(server, google, member)
    account = member.get("/api/email/accounts").json()["data"][0]["id"]
    google.add_message(MEMBER, mail("someone@acme.example", MEMBER, "Hello"))
    run = server.app.email.sync(account)
    assert run["status"] == "ok" and run["stored"] == 1, run
    google.revoke(next(iter(google._refresh)))
    google.expire_access_tokens(MEMBER)
    server.app.email._tokens = None  # a restart: nothing cached in memory
    run = server.app.email.sync(account)
    assert run["status"] == "error"
    status = admin.get("/api/email/status").json()["data"]["accounts"][0]
    assert status["status"] == "needs_attention" and "revoked" in status["last_error"]


def test_in_oauth_mode_admins_do_not_enroll_mailboxes_and_a_refusal_is_said_plainly(oauth_server, google):
    server, admin, member = oauth_server
    assert admin.post("/api/email/accounts/enroll-all").status_code == 409
    r = requests.get(server.url + "/api/email/oauth/callback", params={"error": "access_denied"}, timeout=10)
    assert r.status_code == 400 and "access_denied" in r.json()["error"]
    r = requests.get(server.url + "/api/email/oauth/callback", timeout=10)
    assert r.status_code == 400 and "state or code" in r.json()["error"]
