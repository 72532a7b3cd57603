"""Proposed notes (propose → approve), drafting by the local model, the Matrix review bridge and the
bot role, end to end: the real server, its sync against the stand-in Google (tests/fakes/google.py)
and the stand-in model server (tests/fakes/spark.py) (issue 17)."""
import threading
from datetime import datetime, timedelta, timezone
from email.utils import make_msgid

import pytest

from crm.email.handlers import DECIDED, PROPOSAL, WORK_LISTS
from crm.email.proposals import first_meaningful_line
from crm.http.routes import ROUTES
from email_helpers import DOMAIN, add_investor, capture_config, grant, mail
from fakes.spark import FakeSpark

ADMIN, MEMBER = f"admin@{DOMAIN}", f"maria@{DOMAIN}"
JANE = "Jane Doe <jane@acme.example>"  # a grid contact of the investor "Acme LP"
ROOM = "!review:fund.example"
NO_MODEL = "no local model is configured (CRM_SPARK_BASE_URL): the deterministic draft is used"
BODY = ("Hi Sam,\n\nThe signed subscription documents are attached.\nTalk Thursday.\n\nBest,\nJane\n\n"
        "On Mon, Jun 1, 2026 at 9:00 AM Sam <admin@fund.example> wrote:\n> Could you send the documents?\n")


def days_ago(n: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


@pytest.fixture
def spark():
    with FakeSpark(reply='"**The LP sent the signed subscription documents.**"\nAnything else?') as fake:
        yield fake


@pytest.fixture
def start(make_server, google, tmp_path):
    """start(**config) → (server, admin, account): capture on against the stand-in, the investor
    "Acme LP" with its contact Jane Doe, and the admin's mailbox granted and enrolled."""
    key = tmp_path / "service-account.json"
    google.write_key_file(key)

    def started(**overrides):
        server = make_server(**capture_config(google, key, **overrides))
        server.app.email.backoff_base = 0.01
        admin = server.register_admin()
        admin.acme = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
        grant(google, ADMIN)
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        return server, admin, account_of(admin, ADMIN)
    return started




def account_of(admin, email) -> str:
    return next(a["id"] for a in admin.get("/api/email/accounts").json()["data"] if a["email"] == email)


def sync(server, account_id) -> dict:
    run = server.app.email.sync(account_id)
    assert run is not None and run["status"] == "ok", run
    return run


def proposals(client, **query) -> list:
    r = client.get("/api/email/proposals", params=query)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def work(client) -> dict:
    r = client.get("/api/intake/email-proposals")
    assert r.status_code == 200, r.text
    return {which: [p["id"] for p in items] for which, items in r.json()["data"].items()}


def notes(admin, row_id):
    state = admin.get("/api/fundraising/state").json()["data"]
    column = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "notes")
    return admin.get(f"/api/fundraising/rows/{row_id}").json()["data"]["cells"].get(column)


def version(admin) -> int:
    return admin.get("/api/fundraising/state", params={"rows": "0"}).json()["data"]["version"]


def decide(client, proposal_id, **body):
    return client.post(f"/api/email/proposals/{proposal_id}/decide", body)


def holds(shape: dict, value) -> bool:
    """Whether `value` has every field its documented shape (crm.shapes) requires, all the way down."""
    if "anyOf" in shape:
        return value is None or holds(shape["anyOf"][0], value)
    if shape.get("type") == "object":
        return isinstance(value, dict) and all(name in value and holds(shape["properties"][name], value[name])
                                               for name in shape.get("required", ()))
    if shape.get("type") == "array":
        return isinstance(value, list) and all(holds(shape["items"], item) for item in value)
    kinds = {"string": str, "integer": int, "boolean": bool}
    return shape.get("type") not in kinds or isinstance(value, kinds[shape["type"]])


# -- the deterministic draft ---------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    (BODY, "The signed subscription documents are attached."),
    ("Hi Jane, thanks for the update on the close.", "thanks for the update on the close."),
    ("Dear all,\n\n> quoted first\nOn Tue, 2 Jun 2026, Jane Doe <jane@acme.example>\nwrote:\n\nWe are in for 2m.", "We are in for 2m."),
    ("Hello\n-- \nJane Doe | Acme LP", ""),
    ("Thanks,\nJane", ""),
    ("See below.\n-----Original Message-----\nFrom: Sam", "See below."),
    ("Sent from my iPhone", ""),
    ("Jane,\nAttached are the documents.", "Attached are the documents."),
    ("word " * 60, ("word " * 31).strip() + "…"),
])
def test_the_first_meaningful_line_skips_greetings_quotes_and_signatures(text, line):
    assert first_meaningful_line(text) == line
    assert len(first_meaningful_line(text)) <= 160


# -- proposing -----------------------------------------------------------------------------------

def test_a_newly_matched_email_is_proposed_and_nothing_touches_the_record_before_approval(start, google):
    server, admin, account = start()
    sent = days_ago(1)
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", BODY, date=sent))
    google.add_message(ADMIN, mail("Someone <who@nowhere.example>", ADMIN, "Unknown sender", date=sent))
    before = version(admin)
    sync(server, account)
    [proposal] = proposals(admin)
    assert proposal["draft"] == f"{day(sent)} — Email from Jane Doe (Acme LP): Re: Fund II close — " \
                                "The signed subscription documents are attached."
    assert (proposal["status"], proposal["drafted_by"], proposal["draft_note"]) == ("proposed", "template", NO_MODEL)
    assert proposal["investor"] == {"id": admin.acme, "name": "Acme LP"} and proposal["email_count"] == 1
    assert proposal["email"]["from"] == {"name": "Jane Doe", "email": "jane@acme.example"}
    assert proposal["email"]["direction"] == "inbound" and proposal["email"]["subject"] == "Re: Fund II close"
    assert "body_text" not in proposal and proposal["snippet"] and holds(PROPOSAL, proposal)
    # Nothing lands on a record without a human: no grid op, no note, no communication.
    assert version(admin) == before and notes(admin, admin.acme) in (None, "")
    assert admin.get("/api/communications").json()["total"] == 0
    assert proposals(admin, status="all") == [proposal]
    r = admin.get("/api/email/proposals", params={"status": "maybe"})
    assert r.status_code == 422 and "status" in r.json()["fields"]


def test_approving_appends_the_note_as_a_grid_op_records_a_communication_and_twice_is_a_conflict(start, google):
    server, admin, account = start()
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", BODY, date=days_ago(1)))
    sync(server, account)
    [proposal] = proposals(admin)
    before = version(admin)
    r = decide(admin, proposal["id"], action="approve")
    assert r.status_code == 200, r.text
    answer = r.json()["data"]
    assert holds(DECIDED, answer) and answer["version"] == before + 1 and answer["communication_reason"] is None
    assert notes(admin, admin.acme) == proposal["draft"]
    # The note is a grid op: in the row's history and in the changes feed every open grid follows.
    history = admin.get(f"/api/fundraising/rows/{admin.acme}/history").json()["data"]
    assert history[0]["column"] == "Notes" and history[0]["after"] == proposal["draft"] and history[0]["actor"] == "admin"
    feed = admin.get("/api/fundraising/changes", params={"since": before}).json()["data"]["ops"]
    assert [(op["kind"], op["row_id"], op["after"]) for op in feed] == [("set_cell", admin.acme, proposal["draft"])]
    # ... and a classic communication against Jane's CRM contact.
    jane = admin.get("/api/contacts", params={"q": "jane@acme.example"}).json()["data"][0]
    communication = answer["communication"]
    assert communication["contact_id"] == jane["id"] and communication["type"] == "email"
    assert communication["body"] == proposal["draft"] and communication["subject"] == "Re: Fund II close"
    assert "jane@acme.example" in communication["attendees"]
    decided = answer["proposal"]
    assert (decided["status"], decided["final_text"], decided["decided_via"]) == ("approved", proposal["draft"], "web")
    assert decided["decided_by"]["username"] == "admin" and decided["decided_at"]
    audit = admin.get("/api/audit-log", params={"entity_type": "email_proposal", "entity_id": proposal["id"]}).json()["data"]
    assert [a["action"] for a in audit] == ["approve"]
    # Deciding again is refused, naming who decided first; nothing more is written.
    for action in ("approve", "reject"):
        r = decide(admin, proposal["id"], action=action)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == f"already approved by admin at {decided['decided_at']}"
    assert version(admin) == before + 1 and admin.get("/api/communications").json()["total"] == 1
    assert proposals(admin) == [] and [p["id"] for p in proposals(admin, status="approved")] == [proposal["id"]]


def test_edit_approves_the_edited_line_reject_writes_nothing_and_bad_decisions_name_the_field(start, google):
    server, admin, account = start()
    beta = add_investor(admin, "Beta Capital", ("Bob Roe", "bob@beta.example"))
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", date=days_ago(2)))
    google.add_message(ADMIN, mail("Bob Roe <bob@beta.example>", ADMIN, "Not now", date=days_ago(1)))
    sync(server, account)
    by_investor = {p["investor"]["name"]: p for p in proposals(admin)}
    acme, bob = by_investor["Acme LP"], by_investor["Beta Capital"]
    before = version(admin)
    for body, field in [({"action": "maybe"}, "action"), ({"action": "edit"}, "text"), ({"action": "edit", "text": " "}, "text"),
                        ({"action": "approve", "text": "other words"}, "text"), ({}, "action"),
                        ({"action": "approve", "via": "matrix"}, "via"), ({"action": "edit", "text": "two\nlines"}, "text")]:
        r = decide(admin, acme["id"], **body)
        assert r.status_code == 422 and field in r.json()["fields"], (body, r.text)
    assert decide(admin, "no-such-proposal", action="approve").status_code == 404
    assert version(admin) == before and proposals(admin, status="proposed") == proposals(admin, status="all")
    r = decide(admin, bob["id"], action="reject")
    assert r.status_code == 200 and r.json()["data"]["version"] is None and r.json()["data"]["communication"] is None
    assert r.json()["data"]["proposal"]["status"] == "rejected" and r.json()["data"]["proposal"]["final_text"] is None
    assert version(admin) == before and notes(admin, beta) in (None, "")
    assert admin.post("/api/fundraising/ops", {"base_version": before, "ops": [{"op": "archive_row", "row_id": admin.acme}]}) \
        .status_code == 200
    r = decide(admin, acme["id"], action="approve")
    assert r.status_code == 409 and r.json()["error"].startswith("Acme LP is archived")
    assert admin.post("/api/fundraising/ops", {"base_version": before + 1, "ops": [{"op": "restore_row", "row_id": admin.acme}]}) \
        .status_code == 200
    line = f"{day(days_ago(2))} — Jane: Fund II close is on for June; docs to follow"
    r = decide(admin, acme["id"], action="edit", text=line)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["proposal"]["final_text"] == line and notes(admin, admin.acme) == line
    assert admin.get("/api/communications").json()["total"] == 1


def test_outbound_mail_is_drafted_as_email_to_the_lp(start, google):
    server, admin, account = start()
    sent = days_ago(1)
    google.add_message(ADMIN, mail(ADMIN, JANE, "Fund II docs", "Jane,\nAttached are the Fund II documents.", date=sent),
                       label_ids=("SENT",))
    sync(server, account)
    [proposal] = proposals(admin)
    assert proposal["email"]["direction"] == "outbound"
    assert proposal["draft"] == f"{day(sent)} — Email to Jane Doe (Acme LP): Fund II docs — Attached are the Fund II documents."


def test_without_a_classic_contact_no_communication_is_recorded_and_the_answer_says_why(start, google):
    server, admin, account = start()
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", date=days_ago(1)))
    sync(server, account)
    jane = admin.get("/api/contacts", params={"q": "jane@acme.example"}).json()["data"][0]
    assert admin.delete(f"/api/contacts/{jane['id']}").status_code == 200
    [proposal] = proposals(admin)
    answer = decide(admin, proposal["id"], action="approve").json()["data"]
    assert answer["communication"] is None
    assert answer["communication_reason"] == "no classic contact is linked to Acme LP: no communication was recorded"
    assert notes(admin, admin.acme) == proposal["draft"]


def test_mail_excluded_after_it_was_proposed_is_no_longer_shown_or_decided(start, google):
    server, admin, account = start()
    google.add_message(ADMIN, mail(JANE, ADMIN, "Side letter", date=days_ago(1)))
    sync(server, account)
    [proposal] = proposals(admin)
    assert admin.post("/api/email/blocklist", {"pattern": "@acme.example", "scope": "all"}).status_code == 201
    assert proposals(admin) == [] and work(admin)["to_post"] == []
    r = decide(admin, proposal["id"], action="approve")
    assert r.status_code == 409 and "excluded" in r.json()["error"]
    assert notes(admin, admin.acme) in (None, "")


# -- the backfill window and bursts ----------------------------------------------------------------

def test_only_recent_mail_is_proposed_and_a_burst_on_one_thread_is_one_proposal(start, google, make_server):
    server, admin, account = start()
    maria = server.add_user(admin, "maria")
    grant(google, MEMBER)
    assert admin.post("/api/email/accounts/enroll-all").status_code == 200
    first = make_msgid(domain="acme.example")
    google.add_message(ADMIN, mail(JANE, ADMIN, "Old news", date=days_ago(20)))
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", "The first one.", message_id=first, date=days_ago(3)))
    previous = first
    for n in range(2, 5):
        reply = make_msgid(domain="acme.example")
        google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", f"Reply number {n}.", message_id=reply,
                                       in_reply_to=previous, date=days_ago(3) + timedelta(hours=n)))
        previous = reply
    google.add_message(ADMIN, mail(JANE, ADMIN, "Another topic", "Separate thread.", date=days_ago(2)))
    sync(server, account)
    found = {p["email"]["subject"]: p for p in proposals(admin)}
    assert sorted(found) == ["Another topic", "Re: Fund II close"]  # nothing for mail older than 14 days
    burst = found["Re: Fund II close"]
    assert burst["email_count"] == 4 and burst["draft"].endswith("— Reply number 4.")
    # The same email in a teammate's mailbox is the same email: no second proposal, no recount.
    google.add_message(MEMBER, mail(JANE, [ADMIN, MEMBER], "Re: Fund II close", "Reply number 4.", message_id=previous,
                                    in_reply_to=first, date=days_ago(3) + timedelta(hours=4)))
    sync(server, account_of(admin, MEMBER))
    assert {p["id"]: p["email_count"] for p in proposals(admin)} == {p["id"]: p["email_count"] for p in found.values()}
    # A later reply joins the open proposal; once that is decided, the next reply opens a new one.
    latest = make_msgid(domain="acme.example")
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", "Reply number 5.", message_id=latest, in_reply_to=previous))
    sync(server, account)
    updated = next(p for p in proposals(admin) if p["id"] == burst["id"])
    assert updated["email_count"] == 5 and updated["draft"].endswith("— Reply number 5.")
    assert decide(admin, burst["id"], action="approve").status_code == 200
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", "Reply number 6.", in_reply_to=latest))
    sync(server, account)
    fresh = [p for p in proposals(admin) if p["thread_id"] == burst["thread_id"]]
    assert len(fresh) == 1 and fresh[0]["id"] != burst["id"] and fresh[0]["email_count"] == 1
    assert maria.get("/api/email/proposals").status_code == 403  # the review surface is an admin's


def test_a_window_set_by_configuration_and_rematch_propose_the_same_way(start, google):
    server, admin, account = start(email_propose_backfill_days=5)
    google.add_message(ADMIN, mail("Bob Roe <bob@beta.example>", ADMIN, "Intro", date=days_ago(2)))
    google.add_message(ADMIN, mail("Bob Roe <bob@beta.example>", ADMIN, "Last week", date=days_ago(7)))
    google.add_message(ADMIN, mail(JANE, ADMIN, "Eight days ago", date=days_ago(8)))
    sync(server, account)
    assert proposals(admin) == []  # Bob is nobody yet; Jane's mail is outside the five days
    add_investor(admin, "Beta Capital", ("Bob Roe", "bob@beta.example"))
    r = admin.post("/api/email/rematch")
    assert r.status_code == 200 and r.json()["data"]["newly_matched"] == 2
    [proposal] = proposals(admin)
    assert proposal["email"]["subject"] == "Intro" and proposal["investor"]["name"] == "Beta Capital"
    assert admin.post("/api/email/rematch").status_code == 200 and len(proposals(admin, status="all")) == 1


# -- drafting by the local model -------------------------------------------------------------------

def test_the_local_model_drafts_the_line_from_the_emails_own_text(start, google, spark):
    server, admin, account = start(spark_base_url=spark.base_url, spark_chat_model="qwen-test")
    sent = days_ago(1)
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", BODY, date=sent))
    sync(server, account)
    [proposal] = proposals(admin)
    assert (proposal["drafted_by"], proposal["draft_note"]) == ("model", None)
    assert proposal["draft"] == f"{day(sent)} — Email from Jane Doe (Acme LP): Re: Fund II close — " \
                                "The LP sent the signed subscription documents."
    [request] = spark.requests
    assert request["model"] == "qwen-test" and [m["role"] for m in request["messages"]] == ["system", "user"]
    question = request["messages"][1]["content"]
    assert "Investor: Acme LP" in question and "Subject: Re: Fund II close" in question
    assert "The signed subscription documents are attached." in question
    assert "Could you send the documents?" not in question  # quoted text stays out


@pytest.mark.parametrize("mode, note", [
    ("down", "answered HTTP 503"),
    ("closed", "could not be reached"),
    ("slow", "did not answer within 1 s"),
    ("garbage", "without choices[0].message.content"),
    ("empty", "gave an empty answer"),
])
def test_when_the_model_is_down_slow_or_answers_garbage_the_template_is_used_and_says_so(start, google, spark, mode, note,
                                                                                        caplog):
    base = spark.closed_url if mode == "closed" else spark.base_url
    spark.mode = "answer" if mode == "closed" else mode
    server, admin, account = start(spark_base_url=base, spark_timeout_sec=1)
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", "The secret side letter says 2.5% carry.", date=days_ago(1)))
    google.add_message(ADMIN, mail(JANE, ADMIN, "Another thread", "Second one.", date=days_ago(1)))
    sync(server, account)
    found = proposals(admin)
    assert len(found) == 2 and {p["drafted_by"] for p in found} == {"template"}
    for proposal in found:
        assert note in proposal["draft_note"] and proposal["draft_note"].endswith("the deterministic draft is used")
    # A model that did not answer at all is not asked again in the same step (each ask would wait).
    asked = len(spark.requests)
    assert asked == ({"down": 2, "closed": 0, "slow": 1, "garbage": 2, "empty": 2}[mode])
    assert not any("side letter" in r.getMessage() for r in caplog.records)


# -- the Matrix review bridge ----------------------------------------------------------------------

@pytest.fixture
def bridged(start, google):
    """(server, admin, bot, (Acme's proposal id, Beta's)): two open proposals and the intake bot."""
    server, admin, account = start()
    beta = add_investor(admin, "Beta Capital", ("Bob Roe", "bob@beta.example"))
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", "We are in for two million.", date=days_ago(2)))
    google.add_message(ADMIN, mail("Bob Roe <bob@beta.example>", ADMIN, "Fund II", "Send the deck please.", date=days_ago(1)))
    sync(server, account)
    bot = server.add_user(admin, "spark-bot", role="bot", password="bot password 12")
    by_investor = {p["investor"]["name"]: p["id"] for p in proposals(admin)}
    admin.beta = beta
    return server, admin, bot, (by_investor["Acme LP"], by_investor["Beta Capital"])


def test_web_and_matrix_decisions_stay_in_step_both_ways_across_a_bot_restart(bridged):
    server, admin, bot, (p1, p2) = bridged
    lists = bot.get("/api/intake/email-proposals").json()["data"]
    assert {p["id"] for p in lists["to_post"]} == {p1, p2} and lists["open"] == lists["to_close"] == []
    card = next(p for p in lists["to_post"] if p["id"] == p1)  # what a card shows: investor, email, snippet, draft
    assert card["investor"]["name"] == "Acme LP" and card["email"]["from"]["email"] == "jane@acme.example"
    assert card["email"]["to"] and card["email"]["sent_at"] and card["email"]["subject"] == "Fund II close"
    assert card["snippet"] and card["draft"].endswith("We are in for two million.") and card["matrix"] is None
    for proposal_id, event in ((p1, "$card1"), (p2, "$card2")):
        r = bot.post(f"/api/intake/email-proposals/{proposal_id}/posted", {"room_id": ROOM, "event_id": event})
        assert r.status_code == 200 and r.json()["data"]["matrix"]["event_id"] == event
    # The bot restarts: it remembers nothing, signs in again, and the CRM still knows every card.
    bot = server.client()
    r = bot.post("/api/auth/login", {"username": "spark-bot", "password": "bot password 12"})
    bot.token = r.json()["data"]["token"]
    lists = bot.get("/api/intake/email-proposals").json()["data"]
    assert holds(WORK_LISTS, lists) and lists["to_post"] == []
    assert {(p["id"], p["matrix"]["event_id"], p["matrix"]["room_id"]) for p in lists["open"]} \
        == {(p1, "$card1", ROOM), (p2, "$card2", ROOM)}
    # Web → Matrix: a decision on the web moves the card to to_close, until the bot says it closed it.
    assert decide(admin, p1, action="approve").status_code == 200
    lists = bot.get("/api/intake/email-proposals").json()["data"]
    assert [p["id"] for p in lists["open"]] == [p2] and [p["id"] for p in lists["to_close"]] == [p1]
    closing = lists["to_close"][0]
    assert (closing["status"], closing["decided_via"], closing["decided_by"]["username"]) == ("approved", "web", "admin")
    r = bot.post(f"/api/intake/email-proposals/{p1}/decide", {"answer": "no"})
    assert r.status_code == 409 and r.json()["error"].startswith("already approved by admin at ")
    for _ in range(2):  # closing twice is one close (a retry after a lost answer)
        r = bot.post(f"/api/intake/email-proposals/{p1}/closed")
        assert r.status_code == 200 and r.json()["data"]["matrix"]["closed_at"]
    assert work(bot) == {"to_post": [], "open": [p2], "to_close": []}
    # Matrix → web: the answer in the room is relayed; the web list no longer shows it.
    line = "Bob wants the Fund II deck"
    r = bot.post(f"/api/intake/email-proposals/{p2}/decide",
                 {"answer": "edit", "text": line, "matrix_user": "@maria:fund.example"})
    assert r.status_code == 200, r.text
    assert proposals(admin) == []
    [decided] = [p for p in proposals(admin, status="approved") if p["id"] == p2]
    assert (decided["decided_via"], decided["matrix_user"], decided["decided_by"]["username"], decided["final_text"]) \
        == ("matrix", "@maria:fund.example", "spark-bot", line)
    assert notes(admin, admin.beta) == line
    r = decide(admin, p2, action="reject")
    assert r.status_code == 409
    assert r.json()["error"] == f"already approved by @maria:fund.example in Matrix (relayed by spark-bot) at {decided['decided_at']}"
    assert work(bot) == {"to_post": [], "open": [], "to_close": [p2]}  # the bot closes its own card too
    assert bot.post(f"/api/intake/email-proposals/{p2}/closed").status_code == 200
    assert work(bot) == {"to_post": [], "open": [], "to_close": []}
    audit = admin.get("/api/audit-log", params={"entity_type": "email_proposal", "entity_id": p2}).json()["data"]
    assert sorted(a["action"] for a in audit) == ["approve", "card_closed", "card_posted"]
    assert {a["actor_kind"] for a in audit} == {"bot"}


def test_card_states_refuse_what_does_not_follow(bridged):
    server, admin, bot, (p1, p2) = bridged
    posted = f"/api/intake/email-proposals/{p1}/posted"
    assert bot.post(f"/api/intake/email-proposals/{p1}/closed").status_code == 409  # never posted
    assert bot.post(posted, {"room_id": ROOM, "event_id": "$a"}).status_code == 200
    assert bot.post(posted, {"room_id": ROOM, "event_id": "$a"}).status_code == 200  # a retry
    r = bot.post(posted, {"room_id": ROOM, "event_id": "$b"})
    assert r.status_code == 409 and "$a" in r.json()["error"]
    r = bot.post(f"/api/intake/email-proposals/{p1}/closed")
    assert r.status_code == 409 and "still open" in r.json()["error"]
    assert bot.post(posted, {"room_id": ROOM}).json()["fields"] == {"event_id": "is required"}
    for body, field in [({"answer": "maybe"}, "answer"), ({"answer": "edit"}, "text"), ({"answer": "yes", "text": "x"}, "text")]:
        r = bot.post(f"/api/intake/email-proposals/{p1}/decide", body)
        assert r.status_code == 422 and field in r.json()["fields"]
    assert bot.post("/api/intake/email-proposals/nope/posted", {"room_id": ROOM, "event_id": "$c"}).status_code == 404
    # Decided on the web before its card was posted: the card, once posted, is there to be closed.
    assert decide(admin, p2, action="reject").status_code == 200
    assert p2 not in work(bot)["to_post"]
    assert bot.post(f"/api/intake/email-proposals/{p2}/posted", {"room_id": ROOM, "event_id": "$late"}).status_code == 200
    assert work(bot) == {"to_post": [], "open": [p1], "to_close": [p2]}


def test_a_web_and_a_matrix_decision_at_the_same_moment_make_one_decision(bridged):
    server, admin, bot, (p1, _) = bridged
    answers = {}

    def web():
        answers["web"] = decide(admin, p1, action="approve")

    def matrix():
        answers["matrix"] = bot.post(f"/api/intake/email-proposals/{p1}/decide", {"answer": "no", "matrix_user": "@ann:fund.example"})

    both = [threading.Thread(target=web), threading.Thread(target=matrix)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert sorted(r.status_code for r in answers.values()) == [200, 409]
    winner = next(via for via, r in answers.items() if r.status_code == 200)
    [decided] = [p for p in proposals(admin, status="all") if p["id"] == p1]
    assert decided["decided_via"] == winner and decided["status"] == ("approved" if winner == "web" else "rejected")
    assert (notes(admin, admin.acme) == decided["draft"]) is (winner == "web")


# -- the bot role ----------------------------------------------------------------------------------

def test_an_admin_turns_a_user_into_a_bot_that_reaches_the_intake_routes_and_nothing_else(start):
    server, admin, account = start()
    member = server.add_user(admin, "relay")
    assert member.get("/api/intake/email-proposals").status_code == 403
    r = admin.patch(f"/api/admin/users/{member.user['id']}", {"role": "bot"})
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "bot"
    assert member.get("/api/intake/email-proposals").status_code == 200  # the same token, now a bot's
    assert member.get("/api/auth/me").json()["data"]["role"] == "bot"
    refused = []
    for route in ROUTES:
        if route.auth in ("user", "admin"):
            path = route.path.replace("{id}", "x").replace("{comment_id}", "x").replace("{name}", "x")
            status = member.request(route.method, path, {} if route.method in ("POST", "PUT", "PATCH") else None).status_code
            if status != 403:
                refused.append(f"{route.method} {route.path}: {status}")
    assert refused == []


def test_with_capture_off_the_intake_routes_answer_503(server, admin):
    for method, path in (("GET", "/api/intake/email-proposals"), ("POST", "/api/intake/email-proposals/x/closed")):
        r = admin.request(method, path)
        assert r.status_code == 503 and "CRM_GMAIL_INTEGRATION_ENABLED" in r.json()["error"]
