"""The Gmail transport against the fake Google: tokens (DWD and OAuth), sealing, quota pacing, the client's calls and retries.

The token and client tests talk HTTP to tests/fakes/google.py on 127.0.0.1.
Waits are injected (recorded sleeps, a shared fake clock), so nothing sleeps
for real except the one timeout test (a fraction of a second).
"""
import base64
import json
import logging
import random
import socket
import sys
import threading
import time
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crm.email import crypto
from crm.email.client import GmailClient
from crm.email.credentials import (COMPOSE, READONLY, DelegatedTokens, OAuthFlow, OAuthTokens, ServiceAccount)
from crm.email.errors import BadRequest, NotFound, PermissionDenied, Transient, classify
from crm.email.quota import COSTS, TokenBucket
from fakes.google import KEY_ID, PRIVATE_KEY, SERVICE_ACCOUNT_EMAIL, UNITS, FakeGoogle

ANN = "ann@fund.example"
BOB = "bob@fund.example"
DAY_MS = 86_400_000
JAN_1_2024_MS = 1_704_067_200_000


class FakeClock:
    """Seconds since the epoch that move only when something sleeps; shared by the bucket, the tokens and the fake."""

    def __init__(self, start=1_750_000_000.0):
        self.now = start
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def session():
    with requests.Session() as shared:
        yield shared


@pytest.fixture
def key_file(google, tmp_path):
    path = tmp_path / "service-account.json"
    google.write_key_file(path)
    return path


def delegated(google, key_file, session, clock=None):
    return DelegatedTokens(ServiceAccount.from_file(key_file), google.token_url, session,
                           **({"clock": clock} if clock else {}))


def connect(google, key_file, session, user=ANN, scopes=(READONLY,), **options):
    """A client for `user` by DWD (granted `scopes`), waits recorded in the returned list."""
    google.grant(user, scopes)
    sleeps = []
    options.setdefault("sleep", sleeps.append)
    options.setdefault("random", lambda: 0.5)
    tokens = delegated(google, key_file, session)
    client = GmailClient(google.url, tokens.for_user(user), TokenBucket(1_000_000), session, **options)
    return client, sleeps


def mail(n=0, sender="Bob <bob@startup.example>", to=ANN, cc=None, subject=None, attachment=None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject or f"message {n}"
    message["Message-ID"] = f"<m{n}@startup.example>"
    message.set_content(f"body of message {n}\n")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="deck.pdf")
    return message.as_bytes()


def other_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# --- domain-wide delegation --------------------------------------------------------------------

def test_a_delegated_token_is_minted_from_a_signed_assertion_the_fake_checks(google, key_file, session):
    tokens = delegated(google, key_file, session)
    assertion = tokens.assertion(ANN, READONLY)
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, PRIVATE_KEY.public_key(), algorithms=["RS256"], audience=google.token_url)
    assert header["alg"] == "RS256" and header["kid"] == KEY_ID
    assert (claims["iss"], claims["sub"], claims["scope"], claims["aud"]) == (SERVICE_ACCOUNT_EMAIL, ANN, READONLY,
                                                                             google.token_url)
    assert claims["exp"] - claims["iat"] == 3600

    google.grant(ANN, [READONLY])
    google.add_message(ANN, mail())
    client = GmailClient(google.url, tokens.for_user(ANN), TokenBucket(1000), session)
    assert client.get_profile()["emailAddress"] == ANN
    assert google.token_requests == [{"grant_type": "jwt", "sub": ANN, "scope": READONLY}]


def test_an_assertion_signed_by_another_key_is_refused(google, key_file, session, tmp_path):
    google.grant(ANN, [READONLY])
    forged = tmp_path / "forged.json"
    google.write_key_file(forged, other_pem())
    tokens = DelegatedTokens(ServiceAccount.from_file(forged), google.token_url, session)
    with pytest.raises(PermissionDenied) as refused:
        tokens.token(ANN, READONLY)
    assert refused.value.status == 400 and refused.value.reason == "invalid_grant"
    assert "assertion was refused" in str(refused.value)
    assert google.token_requests == []


def test_an_assertion_for_another_audience_is_refused(google, key_file, session):
    google.grant(ANN, [READONLY])
    tokens = DelegatedTokens(ServiceAccount.from_file(key_file), google.token_url + "?elsewhere", session)
    with pytest.raises(PermissionDenied, match="assertion was refused"):
        tokens.token(ANN, READONLY)


def test_tokens_are_cached_per_user_and_scope(google, key_file, session):
    google.grant(ANN, [READONLY, COMPOSE])
    google.grant(BOB, [READONLY])
    tokens = delegated(google, key_file, session)
    first = tokens.token(ANN, READONLY)
    assert all(tokens.token(ANN, READONLY) == first for _ in range(20))
    assert tokens.token("Ann@Fund.example", READONLY) == first
    assert len(google.token_requests) == 1
    assert tokens.token(BOB, READONLY) != first
    assert tokens.token(ANN, COMPOSE) != first
    assert [(r["sub"], r["scope"]) for r in google.token_requests] == [(ANN, READONLY), (BOB, READONLY), (ANN, COMPOSE)]
    tokens.invalidate(ANN, READONLY)
    assert tokens.token(ANN, READONLY) != first
    assert len(google.token_requests) == 4


def test_many_threads_wanting_one_token_cause_one_token_call(google, key_file, session):
    google.grant(ANN, [READONLY])
    tokens = delegated(google, key_file, session)
    got, start = [], threading.Barrier(8)

    def want():
        start.wait()
        got.append(tokens.token(ANN, READONLY))

    threads = [threading.Thread(target=want) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(got)) == 1 and len(got) == 8
    assert len(google.token_requests) == 1


def test_a_token_is_replaced_a_minute_before_it_expires(key_file, session):
    clock = FakeClock()
    with FakeGoogle(clock=clock) as google:
        google.write_key_file(key_file)
        google.grant(ANN, [READONLY])
        tokens = delegated(google, key_file, session, clock=clock)
        first = tokens.token(ANN, READONLY)  # the fake gives 3599 s
        clock.now += 3599 - 61
        assert tokens.token(ANN, READONLY) == first
        clock.now += 2
        second = tokens.token(ANN, READONLY)
        assert second != first and len(google.token_requests) == 2
        client = GmailClient(google.url, tokens.for_user(ANN), TokenBucket(1000), session)
        assert client.get_profile()["emailAddress"] == ANN  # the fake takes the new one at the new time


def test_an_ungranted_scope_is_permission_denied_in_plain_words(google, key_file, session):
    google.grant(ANN, [READONLY])
    tokens = delegated(google, key_file, session)
    granted = tokens.token(ANN, READONLY)
    with pytest.raises(PermissionDenied) as refused:
        tokens.token(ANN, COMPOSE)
    error = refused.value
    assert error.status == 401 and error.reason == "unauthorized_client"
    assert str(error).startswith("delegation not granted for scope gmail.compose: a Workspace admin must allow")
    assert granted not in str(error) and "ya29" not in str(error) and "eyJ" not in str(error)
    with pytest.raises(PermissionDenied, match="delegation not granted for scope gmail.readonly"):
        tokens.token(BOB, READONLY)


@pytest.mark.parametrize("content, words", [
    (None, "cannot be read"),
    ("{not json", "not a JSON key file"),
    (json.dumps({"client_email": "x@y", "private_key_id": "k"}), "missing private_key"),
    (json.dumps({"client_email": "x@y", "private_key": "-----BEGIN PRIVATE KEY-----\nSECRETBITS\n-----END PRIVATE KEY-----\n",
                 "private_key_id": "k"}), "private_key is not a readable PEM key"),
])
def test_an_unusable_key_file_is_named_without_its_content(tmp_path, content, words):
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError) as refused:
        ServiceAccount.from_file(path)
    assert str(refused.value).startswith(f"service account key file {path}: {words}")
    assert "SECRETBITS" not in str(refused.value)


def test_a_service_account_repr_hides_the_key(key_file):
    account = ServiceAccount.from_file(key_file)
    assert repr(account) == f"ServiceAccount({SERVICE_ACCOUNT_EMAIL!r})"


# --- OAuth ---------------------------------------------------------------------------------------

def oauth(google, session):
    google.oauth_client("client-1.apps", "s3cret-value")
    return OAuthFlow("client-1.apps", "s3cret-value", "https://crm.fund.example/api/email/oauth/callback",
                     google.auth_url, google.token_url, session)


def test_the_consent_url_asks_for_offline_access_and_consent(google, session):
    url = oauth(google, session).consent_url("state-123", login_hint=ANN, scopes=(READONLY, COMPOSE))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == google.auth_url
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": "client-1.apps", "redirect_uri": "https://crm.fund.example/api/email/oauth/callback",
        "response_type": "code", "scope": f"{READONLY} {COMPOSE}", "access_type": "offline", "prompt": "consent",
        "include_granted_scopes": "true", "state": "state-123", "login_hint": ANN}


def test_oauth_exchange_then_refresh_gives_working_tokens(google, session):
    flow = oauth(google, session)
    code = google.issue_code(ANN, [READONLY], client_id="client-1.apps", redirect_uri=flow.redirect_uri)
    granted = flow.exchange(code)
    assert set(granted) == {"access_token", "refresh_token", "expires_in", "scope"}
    assert granted["expires_in"] == 3599 and granted["scope"] == READONLY
    with pytest.raises(PermissionDenied, match="authorisation code is invalid, used or expired"):
        flow.exchange(code)  # single use
    refreshed = flow.refresh(granted["refresh_token"])
    assert set(refreshed) == {"access_token", "expires_in"} and refreshed["access_token"] != granted["access_token"]

    loads = []
    tokens = OAuthTokens(flow, lambda user: loads.append(user) or granted["refresh_token"])
    client = GmailClient(google.url, tokens.for_user(ANN), TokenBucket(1000), session)
    assert client.get_profile()["emailAddress"] == ANN
    client.list_labels()
    assert loads == [ANN]  # cached after the first refresh
    assert [r["grant_type"] for r in google.token_requests] == ["authorization_code", "refresh_token", "refresh_token"]


def test_a_revoked_refresh_token_is_permission_denied(google, session):
    flow = oauth(google, session)
    granted = flow.exchange(google.issue_code(ANN, [READONLY]))
    google.revoke(granted["refresh_token"])
    tokens = OAuthTokens(flow, lambda user: granted["refresh_token"])
    with pytest.raises(PermissionDenied) as refused:
        tokens.token(ANN, READONLY)
    assert str(refused.value) == "the refresh token was revoked or has expired: the user must connect Gmail again"
    assert granted["refresh_token"] not in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_wrong_client_secret_is_refused(google, session):
    oauth(google, session)
    flow = OAuthFlow("client-1.apps", "wrong", "https://crm.fund.example/cb", google.auth_url, google.token_url, session)
    with pytest.raises(PermissionDenied, match="OAuth client id or secret was refused"):
        flow.exchange(google.issue_code(ANN))


# --- sealing refresh tokens ---------------------------------------------------------------------

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()


def test_seal_and_open_round_trip_with_a_fresh_nonce():
    key = crypto.load_key(KEY_TEXT)
    sealed = crypto.seal(key, "1//refresh-token-é")
    assert sealed.startswith("v1:") and "refresh" not in sealed
    assert crypto.seal(key, "1//refresh-token-é") != sealed
    assert crypto.open_sealed(key, sealed) == "1//refresh-token-é"


def test_a_tampered_or_foreign_sealed_value_is_refused():
    key = crypto.load_key(KEY_TEXT)
    sealed = crypto.seal(key, "1//refresh-token")
    data = bytearray(base64.b64decode(sealed[3:]))
    data[-1] ^= 1
    with pytest.raises(ValueError, match="failed authentication"):
        crypto.open_sealed(key, "v1:" + base64.b64encode(bytes(data)).decode())
    with pytest.raises(ValueError, match="failed authentication"):
        crypto.open_sealed(bytes(32), sealed)
    with pytest.raises(ValueError, match="known version"):
        crypto.open_sealed(key, "v2:" + sealed[3:])


@pytest.mark.parametrize("text, words", [
    (base64.b64encode(b"k" * 16).decode(), "exactly 32 bytes, not 16"),
    (base64.b64encode(b"k" * 33).decode(), "exactly 32 bytes, not 33"),
    ("not base64 at all!", "not valid base64"),
    ("", "exactly 32 bytes, not 0"),
])
def test_a_key_of_the_wrong_size_is_refused_without_echoing_it(text, words):
    with pytest.raises(ValueError) as refused:
        crypto.load_key(text)
    assert "CRM_GMAIL_SECRET_KEY" in str(refused.value) and words in str(refused.value)
    assert not text or text not in str(refused.value)


def test_a_url_safe_key_is_accepted():
    raw = bytes([251] * 32)  # encodes with '+' and '/', so the URL-safe form differs
    assert crypto.load_key(base64.urlsafe_b64encode(raw).decode()) == raw


# --- the token bucket ------------------------------------------------------------------------------

def test_the_bucket_never_hands_out_more_than_rate_times_elapsed_plus_capacity():
    clock = FakeClock(start=0.0)
    bucket = TokenBucket(150, clock=clock, sleep=clock.sleep)
    draw = random.Random(7)
    taken = 0
    for _ in range(400):
        units = draw.choice([1, 2, 5, 5, 5, 100, 250])  # 250 > capacity: waits for the deficit
        bucket.take(units)
        taken += units
        assert taken <= 150 * clock.now + 150 + 1e-9
        clock.now += draw.choice([0, 0, 0.01, 0.5])  # the caller's own work between calls
    # and it is not slower than it must be: idle time refilled at most to capacity
    busy = clock.now - sum(clock.slept)
    assert sum(clock.slept) <= (taken - 150) / 150 + 1e-6 and busy >= 0


def test_the_bucket_holds_its_rate_when_threads_share_it():
    lock, state, read, woke, returns = threading.Lock(), {"now": 0.0}, {}, {}, []

    def now():
        time.sleep(0)  # a point where another thread may run, inside the bucket's critical section
        read[threading.get_ident()] = state["now"]
        return read[threading.get_ident()]

    def sleep(seconds):  # sleeps overlap, as real ones do: time moves to the latest wake-up the bucket asked for
        me = threading.get_ident()
        with lock:
            woke[me] = read[me] + seconds
            state["now"] = max(state["now"], woke[me])

    bucket = TokenBucket(100, capacity=10, clock=now, sleep=sleep)

    def work():
        me = threading.get_ident()
        for _ in range(50):
            woke[me] = None
            bucket.take(3)
            returns.append((woke[me] if woke[me] is not None else read[me], 3))

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that takes interleave
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    taken = 0
    for at, units in sorted(returns):
        taken += units
        assert taken <= 100 * at + 10 + 1e-9
    assert taken == 8 * 50 * 3


def test_the_quota_table_matches_googles():
    assert COSTS == UNITS


def test_a_mailbox_paced_at_150_units_a_second_never_exceeds_googles_limit(key_file, session):
    clock = FakeClock()
    # Google's 15,000 units a minute (250 a second), over a 6 s window so that the test stays short.
    with FakeGoogle(clock=clock, quota_per_minute=15_000, quota_window=6.0) as google:
        google.write_key_file(key_file)
        google.grant(ANN, [READONLY])
        ids = [google.add_message(ANN, mail(n)) for n in range(600)]
        tokens = delegated(google, key_file, session, clock=clock)

        def run(rate):
            client = GmailClient(google.url, tokens.for_user(ANN), TokenBucket(rate, clock=clock, sleep=clock.sleep),
                                 session, sleep=clock.sleep, random=lambda: 0.0)
            page = client.list_messages(max_results=500)
            results = client.batch_get(ids)
            return client, page, results

        client, page, results = run(150)
        assert google.quota_violations == {}
        assert len(page["messages"]) == 500 and all(results[i]["id"] == i for i in ids)
        assert google.units_used(ANN) == client.stats["units"] == 5 + 600 * 5
        assert client.stats["retries"] == 0

        run(1000)  # the control: too fast a bucket does trip the fake's limit
        assert google.quota_violations[ANN] > 0


# --- the client: reads -------------------------------------------------------------------------------

def test_list_messages_pages_newest_first(google, key_file, session):
    client, _ = connect(google, key_file, session)
    ids = [google.add_message(ANN, mail(n), internal_date_ms=JAN_1_2024_MS + n * 1000) for n in range(120)]
    pages, token = [], None
    while True:
        page = client.list_messages(page_token=token, max_results=50)
        pages.append(page)
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [len(p["messages"]) for p in pages] == [50, 50, 20]
    assert [m["id"] for p in pages for m in p["messages"]] == list(reversed(ids))
    assert all(m["threadId"] == m["id"] for m in pages[0]["messages"])
    assert pages[0]["resultSizeEstimate"] == 120
    assert client.stats == {"calls": 3, "requests": 3, "units": 15, "retries": 0}


def test_get_message_in_full_metadata_and_raw(google, key_file, session):
    client, _ = connect(google, key_file, session)
    raw = mail(1, subject="Term sheet")
    message_id = google.add_message(ANN, raw, label_ids=("INBOX", "UNREAD"), internal_date_ms=JAN_1_2024_MS)
    full = client.get_message(message_id)
    assert full["id"] == message_id and full["labelIds"] == ["INBOX", "UNREAD"]
    assert full["internalDate"] == str(JAN_1_2024_MS)
    assert {"name": "Subject", "value": "Term sheet"} in full["payload"]["headers"]
    metadata = client.get_message(message_id, format="metadata", metadata_headers=["Subject", "From"])
    assert metadata["payload"]["headers"] == [{"name": "From", "value": "Bob <bob@startup.example>"},
                                              {"name": "Subject", "value": "Term sheet"}]
    as_raw = client.get_message(message_id, format="raw")
    assert base64.urlsafe_b64decode(as_raw["raw"]) == raw and "payload" not in as_raw
    with pytest.raises(NotFound):
        client.get_message("0000000000000000")


def test_batch_get_sends_batches_of_50_and_answers_per_id(google, key_file, session):
    client, _ = connect(google, key_file, session)
    ids = [google.add_message(ANN, mail(n)) for n in range(119)]
    missing = "00000000000000ff"
    results = client.batch_get(ids[:60] + [missing] + ids[60:], metadata_headers=["Subject"])
    assert google.calls["batch"] == 3 and google.batch_sizes == [50, 50, 20]
    assert set(results) == set(ids) | {missing}
    for n, message_id in enumerate(ids):
        assert results[message_id]["id"] == message_id
        assert results[message_id]["payload"]["headers"] == [{"name": "Subject", "value": f"message {n}"}]
    assert isinstance(results[missing], NotFound) and results[missing].status == 404
    assert client.stats == {"calls": 120, "requests": 3, "units": 600, "retries": 0}
    assert google.units_used(ANN) == 600  # a call answered 404 is charged too


def test_batch_inner_rate_limits_are_retried_with_backoff(google, key_file, session):
    client, sleeps = connect(google, key_file, session, retry_max=3)
    ids = [google.add_message(ANN, mail(n)) for n in range(5)]
    google.fail(f"/messages/{ids[1]}", 429, times=2)
    google.fail(f"/messages/{ids[3]}", 503, times=None)
    results = client.batch_get(ids)
    assert results[ids[1]]["id"] == ids[1]
    assert isinstance(results[ids[3]], Transient) and results[ids[3]].status == 503
    assert [results[i]["id"] for i in (ids[0], ids[2], ids[4])] == [ids[0], ids[2], ids[4]]
    assert google.batch_sizes == [5, 2, 2, 1]  # only the failed calls go again
    assert sleeps == [1.5, 2.5, 4.5]
    assert client.stats["retries"] == 5 and client.stats["calls"] == 10


def test_history_pages_and_an_expired_start_is_not_found(google, key_file, session):
    client, _ = connect(google, key_file, session)
    start = google.history_id(ANN)
    first = google.add_message(ANN, mail(1))
    second = google.add_message(ANN, mail(2))
    label = google.add_label(ANN, "Portfolio")
    google.label_message(ANN, first, label)
    google.unlabel_message(ANN, first, label)
    google.delete_message(ANN, second)
    records, token = [], None
    while True:
        page = client.list_history(start, page_token=token, max_results=2)
        records += page.get("history", [])
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [next(k for k in r if k not in ("id", "messages")) for r in records] == [
        "messagesAdded", "messagesAdded", "labelsAdded", "labelsRemoved", "messagesDeleted"]
    assert [int(r["id"]) for r in records] == list(range(int(start) + 1, int(start) + 6))
    assert records[2]["labelsAdded"] == [{"message": {"id": first, "threadId": first, "labelIds": ["INBOX", label]},
                                          "labelIds": [label]}]
    assert page["historyId"] == google.history_id(ANN)
    added_only = client.list_history(start, history_types=["messageAdded"])
    assert [r["messagesAdded"][0]["message"]["id"] for r in added_only["history"]] == [first, second]
    assert "history" not in client.list_history(google.history_id(ANN))

    google.expire_history(ANN)
    with pytest.raises(NotFound) as gone:
        client.list_history(start)
    assert str(gone.value) == f"history id {start} is too old for Google: a full sync is needed"
    assert client.list_history(int(google.history_id(ANN)) + 1)["historyId"] == google.history_id(ANN)


def test_an_attachment_comes_back_as_its_bytes(google, key_file, session):
    client, _ = connect(google, key_file, session)
    deck = bytes(range(256)) * 40
    message_id = google.add_message(ANN, mail(1, attachment=deck))
    parts = client.get_message(message_id)["payload"]["parts"]
    attachment = next(p for p in parts if p["filename"] == "deck.pdf")
    assert client.get_attachment(message_id, attachment["body"]["attachmentId"]) == deck


def test_profile_and_labels(google, key_file, session):
    client, _ = connect(google, key_file, session)
    google.add_message(ANN, mail(1))
    label = google.add_label(ANN, "Deals")
    assert client.get_profile() == {"emailAddress": ANN, "messagesTotal": 1, "threadsTotal": 1,
                                    "historyId": google.history_id(ANN)}
    assert {"id": label, "name": "Deals", "type": "user"} in client.list_labels()["labels"]
    assert client.stats["units"] == 2


# --- the client: retries ----------------------------------------------------------------------------

def test_retry_after_is_honoured(google, key_file, session):
    client, sleeps = connect(google, key_file, session)
    google.fail("/profile", 429, times=2, retry_after=7)
    assert client.get_profile()["emailAddress"] == ANN
    assert sleeps == [7.0, 7.0]
    assert google.calls["getProfile"] == 3 and client.stats["retries"] == 2 and client.stats["units"] == 3


def test_backoff_grows_to_its_cap_then_gives_up(google, key_file, session):
    client, sleeps = connect(google, key_file, session, retry_max=5, backoff_cap=6.0)
    google.fail("/labels", 503, times=None)
    with pytest.raises(Transient) as failed:
        client.list_labels()
    assert failed.value.status == 503
    assert sleeps == [1.5, 2.5, 4.5, 6.5, 6.5]  # min(cap, 2**attempt) + 0.5 of jitter
    assert google.calls["labels.list"] == 6 and client.stats["retries"] == 5


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_a_rate_limit_403_is_retried(google, key_file, session, reason):
    client, sleeps = connect(google, key_file, session)
    google.fail("/messages", 403, reason=reason)
    assert client.list_messages() == {"resultSizeEstimate": 0}
    assert sleeps == [1.5]


def test_a_permission_403_is_not_retried(google, key_file, session):
    client, sleeps = connect(google, key_file, session)
    google.fail("/messages", 403, reason="insufficientPermissions")
    with pytest.raises(PermissionDenied, match="lacks the Gmail scope"):
        client.list_messages()
    assert sleeps == [] and google.calls["messages.list"] == 1


def test_a_refused_connection_is_transient(session):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = []
    client = GmailClient(f"http://127.0.0.1:{port}", lambda scope, fresh=False: "token", TokenBucket(1000), session,
                         retry_max=2, sleep=sleeps.append, random=lambda: 0.0)
    with pytest.raises(Transient) as failed:
        client.get_profile()
    assert failed.value.status is None and str(failed.value) == "could not reach Google (ConnectionError): will retry"
    assert sleeps == [1.0, 2.0]


def test_a_timeout_is_transient(google, key_file, session):
    client, _ = connect(google, key_file, session, retry_max=0, timeout=0.05)
    google.delay("/profile", 0.3)
    with pytest.raises(Transient, match="could not reach Google"):
        client.get_profile()


def test_a_401_gets_one_new_token_then_succeeds(google, key_file, session):
    client, sleeps = connect(google, key_file, session)
    assert client.get_profile()["emailAddress"] == ANN
    google.expire_access_tokens(ANN)
    assert client.get_profile()["emailAddress"] == ANN
    assert len(google.token_requests) == 2 and sleeps == []
    assert client.stats["retries"] == 1


def test_a_second_401_is_permission_denied(google, session):
    asked = []

    def tokens(scope, fresh=False):
        asked.append(fresh)
        return "ya29.not-a-token-the-fake-issued"

    client = GmailClient(google.url, tokens, TokenBucket(1000), session, sleep=lambda s: None)
    with pytest.raises(PermissionDenied) as refused:
        client.get_profile()
    assert refused.value.status == 401 and asked == [False, True]
    assert "ya29" not in str(refused.value)


def test_retry_log_lines_carry_no_token(google, key_file, session, caplog):
    client, _ = connect(google, key_file, session)
    google.fail("/profile", 500)
    with caplog.at_level(logging.INFO, logger="crm.email"):
        client.get_profile()
    assert "retry 1 of 5" in caplog.text
    assert "ya29" not in caplog.text and "Bearer" not in caplog.text


# --- the client: writes --------------------------------------------------------------------------------

def test_drafts_and_sending_use_the_compose_scope(google, key_file, session):
    client, _ = connect(google, key_file, session, scopes=(READONLY, COMPOSE))
    thread = google.add_message(ANN, mail(1))
    reply = mail(2, sender=ANN, to="bob@startup.example", subject="Re: message 1")
    draft = client.create_draft(reply, thread_id=thread)
    assert draft["message"]["threadId"] == thread and draft["message"]["labelIds"] == ["DRAFT"]
    assert google.drafts == [{"user": ANN, "id": draft["id"], "message_id": draft["message"]["id"],
                              "thread_id": thread, "raw": reply}]
    sent = client.send_message(reply)
    assert google.sent == [{"user": ANN, "id": sent["id"], "thread_id": sent["threadId"], "raw": reply}]
    assert [(r["sub"], r["scope"]) for r in google.token_requests] == [(ANN, COMPOSE)]
    assert client.stats["units"] == 110


def test_drafts_are_refused_with_readonly_only(google, key_file, session):
    client, _ = connect(google, key_file, session, scopes=(READONLY,))
    with pytest.raises(PermissionDenied, match="delegation not granted for scope gmail.compose"):
        client.create_draft(mail(1))
    flow = oauth(google, session)  # a user who consented to reading only
    granted = flow.exchange(google.issue_code(ANN, [READONLY]))
    tokens = OAuthTokens(flow, lambda user: granted["refresh_token"])
    client = GmailClient(google.url, tokens.for_user(ANN), TokenBucket(1000), session)
    with pytest.raises(PermissionDenied) as refused:
        client.send_message(mail(1))
    assert refused.value.status == 403 and refused.value.reason == "insufficientPermissions"
    assert google.drafts == [] and google.sent == []


# --- the fake's search syntax ---------------------------------------------------------------------------

def test_the_fake_understands_the_search_terms_the_sync_uses(google, key_file, session):
    client, _ = connect(google, key_file, session)
    now_ms = int(google.clock() * 1000)
    deals = google.add_label(ANN, "Deals")
    ids = {
        "founder": google.add_message(ANN, mail(1, sender="Cy <cy@startup.example>"), internal_date_ms=JAN_1_2024_MS),
        "lp": google.add_message(ANN, mail(2, sender="lp@family-office.example", cc="ann@fund.example"),
                                 internal_date_ms=JAN_1_2024_MS + 10 * DAY_MS),
        "internal": google.add_message(ANN, mail(3, sender=BOB, to=ANN), internal_date_ms=now_ms - 2 * DAY_MS),
        "spam": google.add_message(ANN, mail(4, sender="x@spam.example"), label_ids=("SPAM",),
                                   internal_date_ms=now_ms - DAY_MS),
        "sent": google.add_message(ANN, mail(5, sender=ANN, to="cy@startup.example"), label_ids=("SENT",),
                                   internal_date_ms=now_ms),
    }
    google.label_message(ANN, ids["lp"], deals)

    def found(q):
        return {name for name, i in ids.items()
                if i in {m["id"] for m in client.list_messages(q=q).get("messages", [])}}

    assert found("") == {"founder", "lp", "internal", "sent"}
    assert found("in:anywhere") == set(ids)
    assert found("from:@startup.example") == {"founder"}
    assert found("from:cy@startup.example") == {"founder"}
    assert found("-from:@fund.example") == {"founder", "lp"}
    assert found("to:cy@startup.example") == {"sent"}
    assert found("cc:ann@fund.example") == {"lp"}
    assert found("-cc:@fund.example -to:@fund.example") == {"sent"}
    assert found("{from:@startup.example from:@family-office.example}") == {"founder", "lp"}
    assert found("-{from:@startup.example from:@family-office.example}") == {"internal", "sent"}
    assert found("label:deals") == {"lp"} and found("-label:deals") == {"founder", "internal", "sent"}
    assert found("label:sent") == {"sent"}
    assert found("after:2024/01/05 before:2024/01/20") == {"lp"}
    assert found("newer_than:3d") == {"internal", "sent"}
    assert found("newer_than:3d in:anywhere -label:sent") == {"internal", "spam"}
    for typo in ("frm:bob@fund.example", "hello", "{from:a@b.example", "after:2024/13/01", "newer_than:3w",
                 "-in:anywhere"):
        with pytest.raises(BadRequest):
            client.list_messages(q=typo)


# --- classification --------------------------------------------------------------------------------------

def gmail_error(code, reason, status="X"):
    return {"error": {"code": code, "message": "m", "errors": [{"reason": reason}], "status": status}}


@pytest.mark.parametrize("status, body, headers, kind, retry_after", [
    (429, gmail_error(429, "rateLimitExceeded"), {"Retry-After": "12"}, Transient, 12.0),
    (500, b"<html>oops</html>", {}, Transient, None),
    (503, None, {}, Transient, None),
    (403, gmail_error(403, "userRateLimitExceeded"), {}, Transient, None),
    (403, gmail_error(403, "insufficientPermissions"), {}, PermissionDenied, None),
    (403, gmail_error(403, "forbidden"), {}, PermissionDenied, None),
    (401, gmail_error(401, "authError"), {}, PermissionDenied, None),
    (404, json.dumps(gmail_error(404, "notFound")).encode(), {}, NotFound, None),
    (400, gmail_error(400, "invalidArgument"), {}, BadRequest, None),
    (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, {}, PermissionDenied, None),
    (401, {"error": "unauthorized_client", "error_description": "..."}, {}, PermissionDenied, None),
    (400, {"error": "unsupported_grant_type", "error_description": "..."}, {}, BadRequest, None),
    (503, {"error": "temporarily_unavailable"}, {}, Transient, None),
])
def test_classify(status, body, headers, kind, retry_after):
    error = classify(status, body, headers)
    assert type(error) is kind and error.status == status
    assert getattr(error, "retry_after", None) == retry_after
    assert "oops" not in error.message and "expired or revoked" not in error.message
