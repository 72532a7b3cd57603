"""Gmail capture end to end: the real server, its sync, and a stand-in Google (tests/fakes/google.py)
that checks the delegation assertion, serves the mailboxes and injects faults (issue 16)."""
import json
import sqlite3
import threading
import time

import pytest

from crm.http.routes import ROUTES
from email_helpers import DOMAIN, add_investor, capture_config, eventually, grant, mail

ADMIN, MEMBER = f"admin@{DOMAIN}", f"maria@{DOMAIN}"
LP = "jane@acme.example"  # a grid contact of the investor "Acme LP"


@pytest.fixture
def start(make_server, google, tmp_path):
    """start(**config) → (server, admin client) with capture on against the fake."""
    key = tmp_path / "service-account.json"
    google.write_key_file(key)

    def started(**overrides):
        server = make_server(**capture_config(google, key, **overrides))
        server.app.email.backoff_base = 0.01  # retries wait milliseconds, not seconds
        return server, server.register_admin()
    return started


@pytest.fixture
def with_acme(start, google):
    """with_acme(**config) → (server, admin, account): capture on, the investor "Acme LP" with its
    contact Jane Doe (LP), and the admin's mailbox granted and enrolled."""
    def ready(**overrides):
        server, admin = start(**overrides)
        add_investor(admin, "Acme LP", ("Jane Doe", LP))
        grant(google, ADMIN)
        return server, admin, enroll(admin, ADMIN)[ADMIN]
    return ready




def enroll(admin, *emails) -> dict:
    r = admin.post("/api/email/accounts/enroll-all")
    assert r.status_code == 200, r.text
    return {a["email"]: a["id"] for a in admin.get("/api/email/accounts").json()["data"] if a["email"] in emails}


def sync(server, account_id) -> dict:
    run = server.app.email.sync(account_id)  # what the scheduler and run-now call
    assert run is not None
    return run


def db(server):
    conn = sqlite3.connect(server.config.db_path)
    conn.row_factory = sqlite3.Row
    return conn


class _conn:
    """A pooled connection of the server's, for calling the capture's own functions."""

    def __init__(self, server):
        self.pool = server.app.pool

    def __enter__(self):
        self.conn = self.pool.acquire()
        return self.conn

    def __exit__(self, *exc):
        self.pool.release(self.conn)


def emails(server) -> dict:
    """subject -> stored email row."""
    with db(server) as conn:
        return {r["subject"]: dict(r) for r in conn.execute("SELECT * FROM emails")}


def threads(admin, **query) -> list:
    r = admin.get("/api/email/threads", params=query)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# -- off unless configured -----------------------------------------------------------------------

def test_with_capture_off_every_email_route_answers_503_and_no_sync_thread_starts(server, admin):
    assert server.app.email is None
    for route in ROUTES:
        if route.path.startswith("/api/email/"):
            r = admin.request(route.method, route.path.replace("{id}", "x"), {} if route.method == "POST" else None)
            assert r.status_code == 503, (route.method, route.path, r.status_code)
            assert "CRM_GMAIL_INTEGRATION_ENABLED" in r.json()["error"]
    assert not [t for t in threading.enumerate() if t.name.startswith("gmail")]


# -- enrollment ----------------------------------------------------------------------------------

def test_enroll_all_takes_every_active_user_in_the_workspace_domain(start):
    server, admin = start()
    server.add_user(admin, "maria")
    r = admin.post("/api/admin/users", {"username": "outsider", "role": "member", "email": "out@elsewhere.example"})
    assert r.status_code == 201
    r = admin.post("/api/email/accounts/enroll-all")
    assert r.status_code == 200, r.text
    body = r.json()["data"]
    assert sorted(a["email"] for a in body["enrolled"]) == [ADMIN, MEMBER]
    assert [s["username"] for s in body["skipped"]] == ["outsider"]
    again = admin.post("/api/email/accounts/enroll-all").json()["data"]
    assert again["enrolled"] == [] and sorted(again["already"]) == [ADMIN, MEMBER]
    r = admin.post("/api/email/accounts/enroll", {"email": "out@elsewhere.example"})
    assert r.status_code == 422 and "not at fund.example" in r.json()["fields"]["email"]
    r = admin.post("/api/email/accounts/enroll", {"email": MEMBER})
    assert r.status_code == 409


# -- backfill, matching, minimal capture ---------------------------------------------------------

def test_backfill_keeps_bodies_of_matched_mail_only_and_links_each_match(start, google):
    server, admin = start()
    investor = add_investor(admin, "Acme LP", ("Jane Doe", LP))
    add_investor(admin, "Solo Angel", ("Sam Solo", "sam.solo@gmail.com"))
    r = admin.post("/api/contacts", {"first_name": "Omar", "last_name": "Classic", "email": "omar@classic.example"})
    assert r.status_code == 201
    classic_id = r.json()["data"]["id"]
    grant(google, ADMIN)
    account = enroll(admin, ADMIN)[ADMIN]
    google.add_message(ADMIN, mail(f"Jane Doe <{LP}>", ADMIN, "Exact", html="<p>Hi<script>alert(1)</script></p>"))
    google.add_message(ADMIN, mail("Bob <bob@acme.example>", ADMIN, "Same domain"))
    google.add_message(ADMIN, mail(ADMIN, "omar@classic.example", "Classic contact"), label_ids=("SENT",))
    google.add_message(ADMIN, mail("stranger@unknown.example", ADMIN, "Unknown sender"))
    google.add_message(ADMIN, mail("pal@gmail.com", ADMIN, "Free mail"))  # a grid contact uses gmail.com too
    google.add_message(ADMIN, mail(f"Maria <maria@{DOMAIN}>", [ADMIN, "ghost@nowhere.example"], "Our domain"))
    run = sync(server, account)
    assert run["status"] == "ok", run
    assert (run["listed"], run["stored"], run["matched"], run["fetched"]) == (6, 6, 3, 3)
    # Headers for everything, bodies only for what matched, all through the batch endpoint.
    assert (google.calls["messages.get:metadata"], google.calls["messages.get:full"]) == (6, 3)
    assert google.calls["batch"] == 2 and google.calls["messages.get:raw"] == 0
    found = emails(server)
    assert {s for s, e in found.items() if e["has_body"]} == {"Exact", "Same domain", "Classic contact"}
    assert found["Unknown sender"]["body_text"] is None and found["Free mail"]["is_matched"] == 0
    assert found["Our domain"]["is_matched"] == 0  # our own domain never matches by domain
    with db(server) as conn:
        links = {(r["subject"], r["match_kind"], r["confidence"], r["fundraising_investor_id"], r["contact_id"])
                 for r in conn.execute("SELECT e.subject, l.* FROM email_investor_links l JOIN emails e ON e.id = l.email_id")}
    assert ("Exact", "exact_email", 1.0, investor, None) in {(s, k, c, i, None) for s, k, c, i, _ in links if s == "Exact"}
    assert ("Same domain", "domain_match", 0.6, investor, None) in {(s, k, c, i, None) for s, k, c, i, _ in links}
    assert any(s == "Classic contact" and k == "exact_email" and cid == classic_id for s, k, _, _, cid in links)
    listed = threads(admin)
    assert sorted(t["subject"] for t in listed) == ["Classic contact", "Exact", "Same domain"]
    assert [t["subject"] for t in threads(admin, investor_id=investor)] != []
    exact = next(t for t in listed if t["subject"] == "Exact")
    detail = admin.get(f"/api/email/threads/{exact['id']}").json()["data"]
    message = detail["messages"][0]
    assert message["from"] == {"name": "Jane Doe", "email": LP}
    assert "<script" not in message["body_html"] and "Hi" in message["body_html"]
    assert message["body_text"].startswith("Looking forward")
    sent = next(t for t in listed if t["subject"] == "Classic contact")
    assert admin.get(f"/api/email/threads/{sent['id']}").json()["data"]["messages"][0]["mailboxes"] == \
        [{"account_id": account, "is_sent": True}]


def test_never_captured_bulk_internal_role_blocklisted_and_private_threads(with_acme, google):
    server, admin, account = with_acme()
    assert admin.post("/api/email/blocklist", {"pattern": "@blocked.example", "scope": "all"}).status_code == 201
    private = google.add_label(ADMIN, "CRM-Private")
    google.add_message(ADMIN, mail(LP, ADMIN, "Newsletter", headers={"List-Unsubscribe": "<mailto:u@acme.example>"}))
    google.add_message(ADMIN, mail(LP, ADMIN, "Auto", headers={"Auto-Submitted": "auto-replied"}))
    google.add_message(ADMIN, mail(f"maria@{DOMAIN}", ADMIN, "Internal"))
    google.add_message(ADMIN, mail("noreply@acme.example", ADMIN, "Role"))
    google.add_message(ADMIN, mail("x@blocked.example", [ADMIN], "Blocked", cc=[LP]))
    google.add_message(ADMIN, mail(LP, ADMIN, "Private"), label_ids=("INBOX", private))
    google.add_message(ADMIN, mail(LP, ADMIN, "Kept"))
    run = sync(server, account)
    assert run["status"] == "ok", run
    assert run["listed"] == 5  # the blocklisted and the private message are left out by the Gmail query
    assert run["skipped"] == {"bulk": 2, "internal": 1, "role_address": 1}
    assert set(emails(server)) == {"Kept"}


def test_a_message_that_cannot_be_parsed_is_recorded_with_its_reason_and_the_sync_goes_on(with_acme, google):
    server, admin, account = with_acme()
    google.broken.add(google.add_message(ADMIN, mail(LP, ADMIN, "Garbled")))
    google.add_message(ADMIN, mail(LP, ADMIN, "Fine"))
    run = sync(server, account)
    assert run["status"] == "ok" and run["skipped"] == {"unparseable": 1} and run["stored"] == 1, run
    assert set(emails(server)) == {"Fine"}
    with db(server) as conn:
        skipped = conn.execute("SELECT reason, detail FROM email_skipped").fetchall()
    assert [(r["reason"], bool(r["detail"])) for r in skipped] == [("unparseable", True)]
    fetched = google.calls["messages.get:metadata"]
    google.add_message(ADMIN, mail(LP, ADMIN, "Later"))
    google.expire_history(ADMIN)  # a re-scan lists all three ...
    run = sync(server, account)
    assert run["kind"] == "rescan" and run["listed"] == 3
    assert google.calls["messages.get:metadata"] == fetched + 1  # ... and fetches only the new one


def test_a_private_label_or_a_blocklist_entry_added_later_removes_what_was_captured(start, google):
    server, admin = start()
    add_investor(admin, "Acme LP", ("Jane Doe", LP), ("Ravi", "ravi@beta.example"))
    grant(google, ADMIN)
    account = enroll(admin, ADMIN)[ADMIN]
    first = google.add_message(ADMIN, mail(LP, ADMIN, "Sensitive"))
    google.add_message(ADMIN, mail("ravi@beta.example", ADMIN, "From Beta"))
    google.add_message(ADMIN, mail(LP, ADMIN, "Ordinary"))
    sync(server, account)
    assert {t["subject"] for t in threads(admin)} == {"Sensitive", "From Beta", "Ordinary"}
    google.label_message(ADMIN, first, google.add_label(ADMIN, "CRM-Private"))
    run = sync(server, account)
    assert run["kind"] == "incremental" and run["status"] == "ok", run
    r = admin.post("/api/email/blocklist", {"pattern": "@BETA.example", "scope": "all", "note": "their counsel"})
    assert r.status_code == 201 and r.json()["data"]["bodies_removed"] == 1
    assert {t["subject"] for t in threads(admin)} == {"Ordinary"}
    found = emails(server)
    assert found["Sensitive"]["body_text"] is None and found["Sensitive"]["excluded_reason"] == "private"
    assert found["From Beta"]["body_text"] is None and found["From Beta"]["excluded_reason"] == "blocklisted"
    google.add_message(ADMIN, mail(LP, ADMIN, "Re: Sensitive"), thread_id=google_thread(google, ADMIN, first))
    sync(server, account)
    assert "Re: Sensitive" not in emails(server)  # the thread stays out


def google_thread(google, user, message_id) -> str:
    return google._mailbox(user).messages[message_id].thread_id


def test_blocklist_rules_and_refusals(start):
    server, admin = start()
    member = server.add_user(admin, "maria")
    assert member.post("/api/email/blocklist", {"pattern": "@x.example", "scope": "all"}).status_code == 403
    r = member.post("/api/email/blocklist", {"pattern": "me@x.example"})
    assert r.status_code == 201 and r.json()["data"]["scope"] == "mine"
    own = r.json()["data"]["id"]
    assert member.post("/api/email/blocklist", {"pattern": "ME@x.example"}).status_code == 409
    for bad in ("x.example", "a@b", "two@@x.example", ""):
        r = member.post("/api/email/blocklist", {"pattern": bad})
        assert r.status_code == 422 and "pattern" in r.json()["fields"], bad
    admin_entry = admin.post("/api/email/blocklist", {"pattern": "@all.example", "scope": "all"}).json()["data"]["id"]
    assert {e["pattern"] for e in member.get("/api/email/blocklist").json()["data"]} == {"me@x.example", "@all.example"}
    assert {e["pattern"] for e in admin.get("/api/email/blocklist").json()["data"]} == {"@all.example"}  # private to maria
    assert member.delete(f"/api/email/blocklist/{admin_entry}").status_code == 403
    assert admin.delete(f"/api/email/blocklist/{own}").status_code == 404
    assert member.delete(f"/api/email/blocklist/{own}").status_code == 200
    assert member.get("/api/email/blocklist").json()["total"] == 1


def test_labelled_mode_captures_only_threads_carrying_the_label(with_acme, google):
    server, admin, account = with_acme(gmail_capture_mode="labelled", gmail_capture_label="CRM")
    label = google.add_label(ADMIN, "CRM")
    chosen = google.add_message(ADMIN, mail(LP, ADMIN, "Chosen"), label_ids=("INBOX", label))
    google.add_message(ADMIN, mail(LP, ADMIN, "Not chosen"))
    sync(server, account)
    assert set(emails(server)) == {"Chosen"}
    google.add_message(ADMIN, mail(ADMIN, LP, "Re: Chosen"), label_ids=("SENT",), thread_id=google_thread(google, ADMIN, chosen))
    google.add_message(ADMIN, mail(LP, ADMIN, "Another"))
    sync(server, account)
    assert set(emails(server)) == {"Chosen", "Re: Chosen"}


# -- resumable, incremental, expired history, deletions ------------------------------------------

def test_a_backfill_that_fails_mid_way_resumes_from_its_cursor_without_duplicates(with_acme, google):
    server, admin, account = with_acme(gmail_backfill_page_size=2)
    for n in range(5):
        google.add_message(ADMIN, mail(LP, ADMIN, f"Message {n}"), internal_date_ms=1_700_000_000_000 + n * 1000)
    google.fail("pageToken", 500, times=3)  # the second page fails past every retry
    run = sync(server, account)
    assert run["status"] == "error" and "500" in run["error"] or "server" in run["error"].lower(), run
    assert set(emails(server)) == {"Message 4", "Message 3"}  # newest first, the first page kept
    status = admin.get("/api/email/status").json()["data"]["accounts"][0]
    assert status["backlog"]["backfill_done"] is False and status["failures"] == 1 and status["last_error"]
    run = sync(server, account)
    assert run["status"] == "ok" and run["kind"] == "backfill", run
    assert set(emails(server)) == {f"Message {n}" for n in range(5)}
    with db(server) as conn:
        assert conn.execute("SELECT count(*) FROM emails").fetchone()[0] == 5
        assert conn.execute("SELECT count(*) FROM email_account_messages").fetchone()[0] == 5
    status = admin.get("/api/email/status").json()["data"]["accounts"][0]
    assert status["backlog"]["backfill_done"] and status["failures"] == 0 and status["last_error"] is None


def test_after_a_crash_the_next_start_closes_the_interrupted_run_and_the_backfill_resumes(with_acme, google, make_server):
    server, admin, account = with_acme(gmail_backfill_page_size=2)
    for n in range(5):
        google.add_message(ADMIN, mail(LP, ADMIN, f"Message {n}"), internal_date_ms=1_700_000_000_000 + n * 1000)
    google.fail("pageToken", 500, times=3)
    sync(server, account)
    with db(server) as conn:  # as a process killed in the middle of its run leaves it
        conn.execute("UPDATE email_sync_runs SET status = 'running', finished_at = NULL")
    restarted = make_server(**{**capture_config(google, server.config.gmail_sa_key_path, gmail_backfill_page_size=2),
                               "data_dir": server.config.data_dir})
    with db(restarted) as conn:
        assert [tuple(r) for r in conn.execute("SELECT status, error FROM email_sync_runs")] == \
            [("error", "interrupted (the server stopped)")]
    run = restarted.app.email.sync(account)
    assert run["status"] == "ok" and run["stored"] == 3, run
    assert set(emails(restarted)) == {f"Message {n}" for n in range(5)}


def test_incremental_sync_adds_new_mail_and_soft_deletes_what_gmail_removed(with_acme, google):
    server, admin, account = with_acme()
    doomed = google.add_message(ADMIN, mail(LP, ADMIN, "Will be deleted"))
    sync(server, account)
    google.add_message(ADMIN, mail(LP, ADMIN, "New today"))
    google.delete_message(ADMIN, doomed)
    lists_before = google.calls["messages.list"]
    run = sync(server, account)
    assert run["kind"] == "incremental" and run["status"] == "ok", run
    assert (run["stored"], run["deleted"]) == (1, 1)
    assert google.calls["messages.list"] == lists_before  # history, not a new listing
    assert {t["subject"] for t in threads(admin)} == {"New today"}
    with db(server) as conn:
        assert conn.execute("SELECT deleted_at FROM email_account_messages m JOIN emails e ON e.id = m.email_id"
                            " WHERE e.subject = 'Will be deleted'").fetchone()[0] is not None


def test_an_expired_history_id_falls_back_to_a_bounded_rescan_without_duplicates(with_acme, google):
    server, admin, account = with_acme()
    google.add_message(ADMIN, mail(LP, ADMIN, "Old"))
    sync(server, account)
    google.add_message(ADMIN, mail(LP, ADMIN, "While away"))
    google.expire_history(ADMIN)
    run = sync(server, account)
    assert run["kind"] == "rescan" and run["status"] == "ok", run
    assert run["stored"] == 1
    assert set(emails(server)) == {"Old", "While away"}
    google.add_message(ADMIN, mail(LP, ADMIN, "After"))
    run = sync(server, account)
    assert run["kind"] == "incremental" and run["stored"] == 1  # history works again from the new id


# -- two mailboxes, threads -----------------------------------------------------------------------

def test_one_email_in_two_mailboxes_is_stored_once_and_a_reply_joins_its_thread(start, google):
    server, admin = start()
    server.add_user(admin, "maria")
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    grant(google, ADMIN, MEMBER)
    accounts = enroll(admin, ADMIN, MEMBER)
    original = mail(LP, [ADMIN, MEMBER], "Fund II close", message_id="<close-1@acme.example>")
    google.add_message(ADMIN, original)
    google.add_message(MEMBER, original)
    google.add_message(MEMBER, mail(MEMBER, LP, "Re: Fund II close", in_reply_to="<close-1@acme.example>"),
                       label_ids=("SENT",))
    for account in accounts.values():
        assert sync(server, account)["status"] == "ok"
    with db(server) as conn:
        assert conn.execute("SELECT count(*) FROM emails").fetchone()[0] == 2
        sightings = conn.execute("SELECT count(*) FROM email_account_messages m JOIN emails e ON e.id = m.email_id"
                                 " WHERE e.message_id = 'close-1@acme.example'").fetchone()[0]
    assert sightings == 2
    listed = threads(admin)
    assert len(listed) == 1 and listed[0]["message_count"] == 2


# -- re-match -------------------------------------------------------------------------------------

def test_rematch_links_last_months_mail_to_an_investor_added_today_and_fetches_its_body(start, google):
    server, admin = start()
    grant(google, ADMIN)
    account = enroll(admin, ADMIN)[ADMIN]
    google.add_message(ADMIN, mail("li@newfund.example", ADMIN, "Intro", body="We should talk about Fund III."))
    sync(server, account)
    assert emails(server)["Intro"]["has_body"] == 0 and threads(admin) == []
    investor = add_investor(admin, "New Fund", ("Li Wei", "li@newfund.example"))
    r = admin.post("/api/email/rematch")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"checked": 1, "matched": 1, "newly_matched": 1, "unmatched": 0, "bodies_fetched": 1}
    assert emails(server)["Intro"]["body_text"].startswith("We should talk")
    assert [t["subject"] for t in threads(admin, investor_id=investor)] == ["Intro"]


# -- attachments ----------------------------------------------------------------------------------

def test_attachments_of_matched_mail_are_stored_once_by_content_and_capped_in_size(with_acme, google):
    server, admin, account = with_acme(gmail_max_attachment_mb=1)
    deck = b"%PDF-1.7 the deck" * 100
    google.add_message(ADMIN, mail(LP, ADMIN, "Deck", attachments=[("deck.pdf", deck, "application/pdf")]))
    google.add_message(ADMIN, mail(LP, ADMIN, "Deck again", attachments=[
        ("deck-copy.pdf", deck, "application/pdf"), ("huge.bin", b"\0" * (1024 * 1024 + 10), "application/octet-stream")]))
    google.add_message(ADMIN, mail("stranger@unknown.example", ADMIN, "Unmatched",
                                   attachments=[("x.pdf", b"secret", "application/pdf")]))
    sync(server, account)
    with db(server) as conn:
        found = {r["filename"]: dict(r) for r in conn.execute("SELECT * FROM email_attachments")}
    assert set(found) == {"deck.pdf", "deck-copy.pdf", "huge.bin"}  # none for unmatched mail
    assert found["deck.pdf"]["status"] == found["deck-copy.pdf"]["status"] == "stored"
    assert found["deck.pdf"]["storage_path"] == found["deck-copy.pdf"]["storage_path"]
    assert (server.config.data_dir / "email_attachments" / found["deck.pdf"]["storage_path"]).read_bytes() == deck
    assert found["huge.bin"]["status"] == "too_large" and found["huge.bin"]["storage_path"] is None
    assert google.calls["messages.attachments.get"] == 2


# -- faults, quota, permissions -------------------------------------------------------------------

def test_a_body_whose_fetch_failed_is_fetched_by_the_next_run(with_acme, google):
    server, admin, account = with_acme()
    google.add_message(ADMIN, mail(LP, ADMIN, "Body later", body="The terms, at last."))
    google.fail("format=full", 503, times=6)  # every attempt of this run (fetch, retries, the run's second try)
    run = sync(server, account)
    assert run["status"] == "ok" and run["matched"] == 1 and run["fetched"] == 0, run
    assert emails(server)["Body later"]["body_text"] is None
    assert admin.get("/api/email/status").json()["data"]["accounts"][0]["backlog"]["bodies_pending"] == 1
    run = sync(server, account)
    assert run["fetched"] == 1 and emails(server)["Body later"]["body_text"].startswith("The terms")
    assert admin.get("/api/email/status").json()["data"]["accounts"][0]["backlog"]["bodies_pending"] == 0


def test_a_missing_delegation_stops_retrying_until_an_admin_runs_it_again(start, google):
    server, admin = start()
    account = enroll(admin, ADMIN)[ADMIN]  # no grant for this mailbox yet
    run = sync(server, account)
    assert run["status"] == "error" and "delegation" in run["error"] and "gmail.readonly" in run["error"]
    status = admin.get("/api/email/status").json()["data"]["accounts"][0]
    assert status["status"] == "needs_attention" and "delegation" in status["last_error"]
    with _conn(server) as conn:
        assert server.app.email.due(conn) == []  # the scheduler leaves it alone
    grant(google, ADMIN)
    r = admin.post("/api/email/sync/run-now", {"account_id": account})
    assert r.status_code == 202 and r.json()["data"] == {"started": [account]}
    eventually(lambda: admin.get("/api/email/status").json()["data"]["accounts"][0]["status"] == "active"
               and admin.get("/api/email/status").json()["data"]["accounts"][0]["last_success_at"])


def test_temporary_errors_are_retried_then_backed_off_and_nothing_is_lost(with_acme, google):
    server, admin, account = with_acme()
    for n in range(3):
        google.add_message(ADMIN, mail(LP, ADMIN, f"M{n}"))
    google.fail("batch", 429, times=1, retry_after=0)
    google.fail("format=full", 503, times=2)
    run = sync(server, account)
    assert run["status"] == "ok" and run["matched"] == 3, run
    assert all(e["has_body"] for e in emails(server).values())
    google.fail("/messages", 500, times=None)
    google.add_message(ADMIN, mail(LP, ADMIN, "Later"))
    google.expire_history(ADMIN)  # forces a listing, which keeps failing
    run = sync(server, account)
    assert run["status"] == "error", run
    status = admin.get("/api/email/status").json()["data"]["accounts"][0]
    assert status["status"] == "active" and status["failures"] == 1 and status["next_attempt_at"] > status["last_run_at"]
    with _conn(server) as conn:
        assert server.app.email.due(conn) == []  # backing off


def test_the_quota_bucket_keeps_the_mailbox_under_googles_per_user_limit(with_acme, google):
    # Scaled down to be quick: the fake allows 1,000 units a second (Google: 15,000 a minute). The
    # mailbox's bucket gives 500 a second and a batch takes its 50 calls' units at once (250), so any
    # second sees at most 500 + 250. Unthrottled, the ~1,350 units this sync needs go in well under a second.
    google.quota_units, google.quota_window = 1000, 1.0
    server, admin, account = with_acme(gmail_rate_units_sec=500)
    for n in range(200):
        google.add_message(ADMIN, mail(LP if n % 3 == 0 else f"p{n}@other.example", ADMIN, f"Q{n}"))
    run = sync(server, account)
    assert run["status"] == "ok" and run["stored"] == 200, run
    assert google.quota_violations[ADMIN] == 0
    assert run["units"] == google.units_used(ADMIN) >= 1300


def test_one_sync_per_mailbox_at_a_time(start, google):
    server, admin = start()
    grant(google, ADMIN)
    account = enroll(admin, ADMIN)[ADMIN]
    google.delay("/labels", 0.5)
    results = []
    workers = [threading.Thread(target=lambda: results.append(server.app.email.sync(account))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(r is None for r in results) == [False, True]


def test_no_token_key_or_body_reaches_a_log_line_or_an_answer(with_acme, google, caplog):
    server, admin, account = with_acme()
    google.add_message(ADMIN, mail(LP, ADMIN, "Terms", body="The secret side letter says 2.5% carry."))
    google.fail("format=full", 500, times=None)
    with caplog.at_level("DEBUG"):
        sync(server, account)
    tokens = list(google._access)
    assert tokens
    status = admin.get("/api/email/status").text
    for text in [r.getMessage() for r in caplog.records] + [status]:
        assert "side letter" not in text
        assert not any(t in text for t in tokens)
        assert "PRIVATE KEY" not in text


def test_the_scheduler_syncs_due_mailboxes(start, google):
    server, admin = start()
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    grant(google, ADMIN)
    enroll(admin, ADMIN)
    google.add_message(ADMIN, mail(LP, ADMIN, "Scheduled"))
    server.app.email.step()  # the gmail-sync loop's step
    assert set(emails(server)) == {"Scheduled"}
    with _conn(server) as conn:
        assert server.app.email.due(conn) == []  # not again before CRM_GMAIL_SYNC_INTERVAL_MIN


def test_reset_all_data_takes_captured_mail_and_the_mailboxes_backfill_again(with_acme, google):
    server, admin, account = with_acme()
    google.add_message(ADMIN, mail(LP, ADMIN, "Before the reset"))
    sync(server, account)
    assert len(threads(admin)) == 1
    r = admin.post("/api/admin/reset-all-data", {"confirm": "RESET ALL DATA"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["deleted"]["emails"] == 1
    assert emails(server) == {} and threads(admin) == []
    assert [a["email"] for a in admin.get("/api/email/accounts").json()["data"]] == [ADMIN]
    run = sync(server, account)
    assert run["kind"] == "backfill" and run["stored"] == 1 and run["matched"] == 0  # nobody is known any more
