"""In-thread drafts (issue 17, Tier B): `POST /api/email/drafts` makes a reply-all Gmail draft in
the requesting user's own mailbox, in the thread it answers, and never sends it. Checked against
the stand-in Google, whose recorded drafts are parsed with the stdlib as Gmail would read them."""
import email
from datetime import datetime, timedelta, timezone
from email import policy

import pytest

from email_helpers import DOMAIN, capture_config, mail
from fakes.google import COMPOSE, READONLY
from test_email_capture import add_investor, enroll, sync

ADMIN, MEMBER = f"admin@{DOMAIN}", f"maria@{DOMAIN}"
LP = "jane@acme.example"  # a grid contact of the investor "Acme LP"
NOW = datetime.now(timezone.utc)
BODY = "Thanks Jane, the side letter is attached.\n\nBest, Ada"


@pytest.fixture
def team(make_server, google, tmp_path):
    """(server, admin, maria): capture on against the stand-in, both mailboxes enrolled and allowed
    to read and compose, the investor Acme LP with its contact Jane Doe."""
    key = tmp_path / "service-account.json"
    google.write_key_file(key)
    server = make_server(**capture_config(google, key))
    server.app.email.backoff_base = 0.01
    admin = server.register_admin()
    maria = server.add_user(admin, "maria")
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    for user in (ADMIN, MEMBER):
        google.grant(user, [READONLY, COMPOSE])
    server.accounts = enroll(admin, ADMIN, MEMBER)
    return server, admin, maria


def close_thread(server, google) -> dict:
    """Jane writes to Ada (admin) and Maria, Cc Bob; Maria answers everyone from her mailbox, adding
    Ken and Dan. Both messages are in both mailboxes, each mailbox with its own Gmail thread.
    Returns {mailbox: the Gmail ids of the two, the first being the Gmail thread id}."""
    first = mail(f"Jane Doe <{LP}>", [ADMIN, MEMBER], "Fund II close", cc=["Bob Stone <bob@other.example>"],
                 message_id="<close-1@acme.example>", date=NOW - timedelta(hours=2))
    reply = mail(f"Maria <{MEMBER}>", ["Ken Ito <ken@partner.example>", f"Jane Doe <{LP}>", ADMIN],
                 "Re: Fund II close", cc=["Bob Stone <bob@other.example>", f"Dan Roe <dan@{DOMAIN}>"],
                 message_id="<close-2@fund.example>", in_reply_to="<close-1@acme.example>",
                 date=NOW - timedelta(hours=1))
    ids = {}
    for user in (ADMIN, MEMBER):
        ids[user] = [google.add_message(user, first)]
        ids[user].append(google.add_message(user, reply, thread_id=ids[user][0],
                                            label_ids=("SENT",) if user == MEMBER else ("INBOX",)))
    for account in server.accounts.values():
        assert sync(server, account)["status"] == "ok"
    return ids


def the_thread(admin) -> dict:
    [found] = admin.get("/api/email/threads").json()["data"]
    return admin.get(f"/api/email/threads/{found['id']}").json()["data"]


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def addresses(header) -> list:
    return [a.addr_spec for a in header.addresses] if header else []


def drafts_listed(client, **query) -> dict:
    r = client.get("/api/email/drafts", params=query)
    assert r.status_code == 200, r.text
    return r.json()


# -- the draft -------------------------------------------------------------------------------------

def test_a_thread_draft_replies_to_all_on_its_newest_message_in_the_users_own_thread_and_is_never_sent(
        team, google, caplog):
    server, admin, _ = team
    gmail_threads = {user: ids[0] for user, ids in close_thread(server, google).items()}
    thread = the_thread(admin)
    newest = thread["messages"][-1]
    r = admin.post("/api/email/drafts", {"thread_id": thread["id"], "body": BODY})
    assert r.status_code == 201, r.text
    answer = r.json()["data"]
    [draft] = google.drafts
    assert draft["user"] == ADMIN and draft["thread_id"] == gmail_threads[ADMIN]
    message = parsed(draft["raw"])
    # Reply-all on Maria's message: our own mailboxes (Ada, Maria) left out, the LP first in To.
    assert addresses(message["To"]) == [LP, "ken@partner.example"]
    assert addresses(message["Cc"]) == ["bob@other.example", f"dan@{DOMAIN}"]  # not a mailbox of ours: kept
    assert addresses(message["From"]) == [ADMIN]
    assert message["Subject"] == "Re: Fund II close"  # not "Re: Re:"
    assert message["In-Reply-To"] == "<close-2@fund.example>"
    assert message["References"].split() == ["<close-1@acme.example>", "<close-2@fund.example>"]
    assert message.get_content().strip() == BODY
    assert message["Bcc"] is None
    # Drafted, never sent.
    assert google.sent == [] and google.calls["messages.send"] == 0 and google.calls["drafts.create"] == 1
    assert answer["email_id"] == newest["id"] and answer["thread_id"] == thread["id"]
    assert (answer["gmail_draft_id"], answer["gmail_message_id"], answer["gmail_thread_id"]) == \
        (draft["id"], draft["message_id"], gmail_threads[ADMIN])
    assert answer["open_url"] == f"https://mail.google.com/mail/u/{ADMIN}/#drafts?compose={draft['message_id']}"
    assert [p["email"] for p in answer["to"]] == [LP, "ken@partner.example"]
    assert answer["to"][0]["name"] == "Jane Doe" and answer["mailbox"] == ADMIN
    assert answer["account_id"] == server.accounts[ADMIN] and answer["subject"] == "Re: Fund II close"
    # Recorded, and audited without the text.
    [entry] = admin.get("/api/audit-log", params={"entity_type": "email_draft"}).json()["data"]
    assert entry["entity_id"] == answer["id"] and entry["action"] == "create"
    assert entry["changes"]["to"] == [None, [LP, "ken@partner.example"]]
    assert "side letter" not in str(entry) and "side letter" not in caplog.text


def test_an_email_draft_answers_that_message_from_the_members_own_mailbox(team, google):
    server, admin, maria = team
    gmail_threads = {user: ids[0] for user, ids in close_thread(server, google).items()}
    first = the_thread(admin)["messages"][0]
    r = maria.post("/api/email/drafts", {"email_id": first["id"], "body": "Received, thank you."})
    assert r.status_code == 201, r.text
    [draft] = google.drafts
    assert draft["user"] == MEMBER and draft["thread_id"] == gmail_threads[MEMBER]
    message = parsed(draft["raw"])
    assert addresses(message["To"]) == [LP] and addresses(message["Cc"]) == ["bob@other.example"]
    assert addresses(message["From"]) == [MEMBER]
    assert message["Subject"] == "Re: Fund II close"
    assert message["In-Reply-To"] == "<close-1@acme.example>"
    assert message["References"] == "<close-1@acme.example>"
    assert r.json()["data"]["open_url"].startswith(f"https://mail.google.com/mail/u/{MEMBER}/#drafts?compose=")
    assert google.sent == []


def test_a_reply_to_our_own_message_goes_to_its_recipients_with_the_lp_first(team, google):
    """Ada wrote to Ken with Jane in Cc: the reply goes To Jane, then Ken."""
    server, admin, _ = team
    google.add_message(ADMIN, mail(ADMIN, ["Ken Ito <ken@partner.example>"], "RE: Allocation", cc=[LP],
                                   message_id="<alloc-1@fund.example>"), label_ids=("SENT",))
    assert sync(server, server.accounts[ADMIN])["status"] == "ok"
    thread = the_thread(admin)
    r = admin.post("/api/email/drafts", {"thread_id": thread["id"], "body": "Following up."})
    assert r.status_code == 201, r.text
    message = parsed(google.drafts[0]["raw"])
    assert addresses(message["To"]) == [LP, "ken@partner.example"] and message["Cc"] is None
    assert message["Subject"] == "RE: Allocation"


# -- the lists -------------------------------------------------------------------------------------

def test_each_user_lists_their_own_drafts_and_an_admin_everyones(team, google):
    server, admin, maria = team
    close_thread(server, google)
    thread = the_thread(admin)
    for client in (admin, maria, admin):
        assert client.post("/api/email/drafts", {"thread_id": thread["id"], "body": "Noted."}).status_code == 201
    mine = drafts_listed(admin)
    assert mine["total"] == 2 and {d["user_id"] for d in mine["data"]} == {admin.user["id"]}
    assert mine["data"][0]["created_at"] >= mine["data"][1]["created_at"]  # newest first
    assert [d["mailbox"] for d in drafts_listed(maria)["data"]] == [MEMBER]
    everyone = drafts_listed(admin, all=1)
    assert everyone["total"] == 3
    assert {d["open_url"] for d in everyone["data"]} == {
        f"https://mail.google.com/mail/u/{d['user']}/#drafts?compose={d['message_id']}" for d in google.drafts}
    page = drafts_listed(admin, all=1, limit=2, offset=2)
    assert (page["total"], len(page["data"]), page["limit"], page["offset"]) == (3, 1, 2, 2)
    r = maria.get("/api/email/drafts", params={"all": 1})
    assert r.status_code == 403 and "admin" in r.json()["error"]
    assert maria.get("/api/email/drafts", params={"all": "yes"}).status_code == 422


# -- refusals --------------------------------------------------------------------------------------

def test_without_the_compose_grant_the_answer_says_so_in_words(make_server, google, tmp_path):
    key = tmp_path / "service-account.json"
    google.write_key_file(key)
    server = make_server(**capture_config(google, key))
    admin = server.register_admin()
    add_investor(admin, "Acme LP", ("Jane Doe", LP))
    google.grant(ADMIN, [READONLY])  # capture works; drafting does not
    account = enroll(admin, ADMIN)[ADMIN]
    google.add_message(ADMIN, mail(f"Jane Doe <{LP}>", ADMIN, "Fund II close"))
    assert sync(server, account)["status"] == "ok"
    thread = the_thread(admin)
    r = admin.post("/api/email/drafts", {"thread_id": thread["id"], "body": BODY})
    assert r.status_code == 403, r.text
    assert "delegation not granted for scope gmail.compose" in r.json()["error"]
    assert google.drafts == [] and google.sent == []
    assert drafts_listed(admin)["total"] == 0
    assert admin.get("/api/audit-log", params={"entity_type": "email_draft"}).json()["total"] == 0


def test_refusals_name_what_is_wrong_and_change_nothing(team, google):
    server, admin, maria = team
    close_thread(server, google)
    thread = the_thread(admin)
    newest = thread["messages"][-1]["id"]
    omar = server.add_user(admin, "omar")  # a user whose mailbox is not captured
    # A thread only Ada's mailbox holds, and one Gmail removed from every mailbox.
    google.add_message(ADMIN, mail(f"Jane Doe <{LP}>", ADMIN, "Only Ada", message_id="<ada-only@acme.example>"))
    gone = google.add_message(ADMIN, mail(f"Jane Doe <{LP}>", ADMIN, "Deleted", message_id="<gone@acme.example>"))
    assert sync(server, server.accounts[ADMIN])["status"] == "ok"
    by_subject = {t["subject"]: t for t in admin.get("/api/email/threads").json()["data"]}
    only_ada = by_subject["Only Ada"]["id"]
    deleted = admin.get(f"/api/email/threads/{by_subject['Deleted']['id']}").json()["data"]["messages"][0]["id"]
    google.delete_message(ADMIN, gone)
    assert sync(server, server.accounts[ADMIN])["status"] == "ok"
    cases = [
        (admin, {"thread_id": thread["id"], "body": "   "}, 422, "body"),
        (admin, {"thread_id": thread["id"]}, 422, "body"),
        (admin, {"thread_id": thread["id"], "body": "x" * 100_001}, 422, "body"),
        (admin, {"body": "Hi"}, 422, "email_id"),
        (admin, {"email_id": newest, "thread_id": thread["id"], "body": "Hi"}, 422, "email_id"),
        (admin, {"thread_id": thread["id"], "body": "Hi", "send": True}, 422, "send"),
        (admin, {"email_id": "no-such-email", "body": "Hi"}, 404, "no captured email"),
        (admin, {"thread_id": "no-such-thread", "body": "Hi"}, 404, "no captured thread"),
        (admin, {"email_id": deleted, "body": "Hi"}, 404, "no captured email"),
        (omar, {"thread_id": thread["id"], "body": "Hi"}, 409, "no captured mailbox"),
        (maria, {"thread_id": only_ada, "body": "Hi"}, 409, "does not hold this thread"),
    ]
    for client, body, status, words in cases:
        r = client.post("/api/email/drafts", body)
        assert r.status_code == status, (body, r.text)
        found = r.json()
        assert words in found["error"] or words in (found.get("fields") or {}), (body, found)
    assert google.drafts == [] and google.sent == []
    assert drafts_listed(admin, all=1)["total"] == 0


def test_a_mailbox_whose_own_copy_was_deleted_cannot_take_the_draft_while_another_still_holds_it(team, google):
    server, admin, maria = team
    gmail_ids = close_thread(server, google)
    thread = the_thread(admin)
    for gmail_id in gmail_ids[MEMBER]:
        google.delete_message(MEMBER, gmail_id)
    assert sync(server, server.accounts[MEMBER])["status"] == "ok"
    r = maria.post("/api/email/drafts", {"thread_id": thread["id"], "body": "Hi"})
    assert r.status_code == 409 and "does not hold this thread" in r.json()["error"]
    assert admin.post("/api/email/drafts", {"thread_id": thread["id"], "body": "Hi"}).status_code == 201
    assert [d["user"] for d in google.drafts] == [ADMIN]


def test_reset_all_data_takes_the_records_of_drafts_with_the_email_they_answer(team, google):
    server, admin, _ = team
    close_thread(server, google)
    assert admin.post("/api/email/drafts", {"thread_id": the_thread(admin)["id"], "body": "Noted."}).status_code == 201
    r = admin.post("/api/admin/reset-all-data", {"confirm": "RESET ALL DATA"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["deleted"]["email_drafts"] == 1
    assert drafts_listed(admin, all=1)["total"] == 0
    assert len(google.drafts) == 1  # the draft itself stays in Gmail, where its owner may still send it
