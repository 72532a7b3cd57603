"""Notes proposed by an agent (POST /api/email/proposals, the CRM MCP server's propose_note) in the same
propose → approve queue as captured email's: email migration 0006 rebuilds email_proposals so a
proposal may have no email; approving appends the note like an email's; the Matrix bot's work lists
carry them (issue 20). The real server, its sync against the stand-in Google (tests/fakes/google.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from crm.clock import now_iso
from crm.db import connect, migrate
from crm.email.handlers import PROPOSAL
from email_helpers import DOMAIN, add_investor, capture_config, grant, mail

ADMIN = f"admin@{DOMAIN}"
JANE = "Jane Doe <jane@acme.example>"
AGENT = {"X-CRM-Actor": "agent"}
ROOM = "!review:fund.example"
EMAIL_MIGRATIONS = dict(migrate.NAMESPACES)["email"]


@pytest.fixture
def start(make_server, google, tmp_path):
    """(server, admin, bot, account): capture on, "Acme LP" with its contact Jane Doe, the admin's
    mailbox enrolled, and a bot user (the MCP server's)."""
    key = tmp_path / "service-account.json"
    google.write_key_file(key)
    server = make_server(**capture_config(google, key))
    admin = server.register_admin()
    admin.acme = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
    grant(google, ADMIN)
    assert admin.post("/api/email/accounts/enroll-all").status_code == 200
    account = next(a["id"] for a in admin.get("/api/email/accounts").json()["data"] if a["email"] == ADMIN)
    bot = server.add_user(admin, "claude-agent", role="bot", password="bot password 12")
    return server, admin, bot, account


def propose(bot, **body):
    return bot.post("/api/email/proposals", body, headers=AGENT)


def proposals(client, **query) -> list:
    r = client.get("/api/email/proposals", params=query)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def notes(admin, row_id):
    state = admin.get("/api/fundraising/state").json()["data"]
    column = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "notes")
    return admin.get(f"/api/fundraising/rows/{row_id}").json()["data"]["cells"].get(column)


def holds(shape: dict, value) -> bool:
    if "anyOf" in shape:
        return value is None or holds(shape["anyOf"][0], value)
    if shape.get("type") == "object":
        return isinstance(value, dict) and all(name in value and holds(shape["properties"][name], value[name])
                                               for name in shape.get("required", ()))
    if shape.get("type") == "array":
        return isinstance(value, list) and all(holds(shape["items"], item) for item in value)
    return True


def email_proposal(server, google, account) -> None:
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", "We are in for two million.",
                                   date=datetime.now(timezone.utc) - timedelta(days=1)))
    run = server.app.email.sync(account)
    assert run is not None and run["status"] == "ok", run


# -- proposing and approving -------------------------------------------------------------------------

def test_an_agents_note_waits_in_the_queue_and_approving_appends_it_like_an_emails(start):
    server, admin, bot, account = start
    r = propose(bot, investor_id=admin.acme, draft="Jane asked for the Fund II deck on the call")
    assert r.status_code == 201, r.text
    proposal = r.json()["data"]
    assert holds(PROPOSAL, proposal)
    assert (proposal["source"], proposal["email"], proposal["thread_id"], proposal["drafted_by"]) == ("agent", None, None, "agent")
    assert proposal["proposed_by"] == {"id": bot.user["id"], "username": "claude-agent"}
    assert proposal["draft"] == f"{now_iso()[:10]} — Jane asked for the Fund II deck on the call"
    assert proposal["investor"] == {"id": admin.acme, "name": "Acme LP"} and proposal["status"] == "proposed"
    # Nothing lands on a record before a human decides.
    assert notes(admin, admin.acme) in (None, "") and admin.get("/api/communications").json()["total"] == 0
    assert [p["id"] for p in proposals(admin)] == [proposal["id"]]
    logged = admin.get("/api/interactions", params={"action": "email_proposal.create"}).json()["data"]
    assert [(e["actor_kind"], e["actor_id"]) for e in logged] == [("agent", bot.user["id"])]
    assert {"type": "fundraising_investors", "id": admin.acme} in logged[0]["refs"]
    r = admin.post(f"/api/email/proposals/{proposal['id']}/decide", {"action": "approve"})
    assert r.status_code == 200, r.text
    answer = r.json()["data"]
    assert notes(admin, admin.acme) == proposal["draft"] and answer["proposal"]["status"] == "approved"
    communication = answer["communication"]
    jane = admin.get("/api/contacts", params={"q": "jane@acme.example"}).json()["data"][0]
    assert (communication["contact_id"], communication["type"], communication["body"]) == (jane["id"], "note", proposal["draft"])
    assert communication["subject"] == "Note proposed by claude-agent" and communication["attendees"] == []
    history = admin.get(f"/api/fundraising/rows/{admin.acme}/history").json()["data"]
    assert history[0]["column"] == "Notes" and history[0]["actor"] == "admin"
    # A dated line is kept as it is; the agent cannot decide its own proposal.
    r = propose(bot, investor_id=admin.acme, draft="2026-06-01 — Sent the deck")
    assert r.status_code == 201 and r.json()["data"]["draft"] == "2026-06-01 — Sent the deck"
    assert bot.post(f"/api/email/proposals/{r.json()['data']['id']}/decide", {"action": "approve"}).status_code == 403


def test_an_entity_id_finds_its_grid_investor(start):
    server, admin, bot, account = start
    assert admin.post("/api/admin/entities/resolve").status_code == 200
    jane = admin.get("/api/entities", params={"q": "jane@acme.example", "kind": "person"}).json()["data"][0]
    firm = admin.get("/api/entities", params={"q": "Acme LP", "kind": "organization"}).json()["data"][0]
    for entity in (jane, firm):  # a person through the grid contact, the organization through the row
        r = propose(bot, entity_id=entity["id"], draft=f"A note about {entity['display_name']}")
        assert r.status_code == 201, r.text
        assert r.json()["data"]["investor"]["id"] == admin.acme
    lonely = admin.post("/api/contacts", {"first_name": "Sol", "last_name": "Alone", "email": "sol@nowhere.example"})
    assert lonely.status_code == 201
    assert admin.post("/api/admin/entities/resolve").status_code == 200
    sol = admin.get("/api/entities", params={"q": "sol@nowhere.example"}).json()["data"][0]
    r = propose(bot, entity_id=sol["id"], draft="No investor here")
    assert r.status_code == 422 and "no live grid investor" in r.json()["fields"]["entity_id"]


@pytest.mark.parametrize("body, field", [
    ({"draft": "no investor"}, "investor_id"),
    ({"investor_id": "x", "entity_id": "y", "draft": "both"}, "investor_id"),
    ({"investor_id": "no-such-row", "draft": "a note"}, "investor_id"),
    ({"entity_id": "no-such-entity", "draft": "a note"}, "entity_id"),
    ({"investor_id": "ACME"}, "draft"),
    ({"investor_id": "ACME", "draft": "two\nlines"}, "draft"),
    ({"investor_id": "ACME", "draft": "x" * 2001}, "draft"),
    ({"investor_id": "ACME", "draft": "a note", "source": "email"}, "source"),
])
def test_bad_proposals_are_422s_naming_the_field_and_nothing_is_queued(start, body, field):
    server, admin, bot, account = start
    body = {k: (admin.acme if v == "ACME" else v) for k, v in body.items()}
    r = propose(bot, **body)
    assert r.status_code == 422 and field in r.json()["fields"], r.text
    assert proposals(admin, status="all") == []


def test_who_may_propose_and_an_archived_investor(start, make_server):
    server, admin, bot, account = start
    member = server.add_user(admin, "maria")
    assert member.post("/api/email/proposals", {"investor_id": admin.acme, "draft": "x"}).status_code == 403
    state = admin.get("/api/fundraising/state", params={"rows": "0"}).json()["data"]
    assert admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "archive_row", "row_id": admin.acme}]}).status_code == 200
    r = propose(bot, investor_id=admin.acme, draft="too late")
    assert r.status_code == 409 and "archived" in r.json()["error"]
    assert proposals(admin, status="all") == []
    off = make_server()  # capture off: the review queue is part of Gmail capture
    r = off.register_admin().post("/api/email/proposals", {"investor_id": "x", "draft": "y"})
    assert r.status_code == 503 and "CRM_GMAIL_INTEGRATION_ENABLED" in r.json()["error"]


def test_the_matrix_bots_work_lists_carry_agent_proposals(start, google):
    server, admin, bot, account = start
    email_proposal(server, google, account)
    relay = server.add_user(admin, "spark-bot", role="bot", password="bot password 13")
    agent = propose(bot, investor_id=admin.acme, draft="Agent's note").json()["data"]
    lists = relay.get("/api/intake/email-proposals").json()["data"]
    assert sorted(p["source"] for p in lists["to_post"]) == ["agent", "email"]
    card = next(p for p in lists["to_post"] if p["id"] == agent["id"])
    assert card["email"] is None and card["proposed_by"]["username"] == "claude-agent"
    assert relay.post(f"/api/intake/email-proposals/{agent['id']}/posted", {"room_id": ROOM, "event_id": "$a"}).status_code == 200
    r = relay.post(f"/api/intake/email-proposals/{agent['id']}/decide", {"answer": "yes", "matrix_user": "@ann:fund.example"})
    assert r.status_code == 200, r.text
    assert notes(admin, admin.acme) == agent["draft"]
    assert [p["id"] for p in relay.get("/api/intake/email-proposals").json()["data"]["to_close"]] == [agent["id"]]
    assert relay.post(f"/api/intake/email-proposals/{agent['id']}/closed").status_code == 200


# -- the migration ------------------------------------------------------------------------------------------

def columns(conn, table) -> dict:
    return {c["name"]: c for c in conn.execute(f"PRAGMA table_info({table})").fetchall()}


def test_migration_0006_rebuilds_the_table_keeping_proposals_and_cards_and_its_down_script_undoes_it(start, google):
    server, admin, bot, account = start
    email_proposal(server, google, account)
    relay = server.add_user(admin, "spark-bot", role="bot", password="bot password 13")
    [mailed] = proposals(admin)
    assert relay.post(f"/api/intake/email-proposals/{mailed['id']}/posted", {"room_id": ROOM, "event_id": "$m"}).status_code == 200
    agent = propose(bot, investor_id=admin.acme, draft="Agent's note").json()["data"]
    assert relay.post(f"/api/intake/email-proposals/{agent['id']}/posted", {"room_id": ROOM, "event_id": "$g"}).status_code == 200
    conn = connect(server.config.db_path)
    try:
        kept = conn.execute("SELECT * FROM email_proposals WHERE id = ?", (mailed["id"],)).fetchone()
        assert columns(conn, "email_proposals")["email_id"]["notnull"] == 0
        assert migrate.roll_back(conn, 5, EMAIL_MIGRATIONS, "email") == [6]
        assert columns(conn, "email_proposals")["email_id"]["notnull"] == 1 and "source" not in columns(conn, "email_proposals")
        assert [r["id"] for r in conn.execute("SELECT id FROM email_proposals")] == [mailed["id"]]  # the agent's went
        assert [r["event_id"] for r in conn.execute("SELECT event_id FROM email_proposal_matrix")] == ["$m"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert migrate.apply_all(conn) == ["email/6"]
        again = conn.execute("SELECT * FROM email_proposals WHERE id = ?", (mailed["id"],)).fetchone()
        assert again == {**kept, "source": "email", "proposed_by": None}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # The cards' foreign key names the rebuilt table, and holds.
        assert "REFERENCES \"email_proposals\"" in conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'email_proposal_matrix'").fetchone()["sql"]
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conn.execute("INSERT INTO email_proposal_matrix (proposal_id, room_id, event_id, posted_at) VALUES ('nope', 'r', 'e', 't')")
        indexes = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'email_proposals'")}
        assert {"email_proposals_status", "email_proposals_open", "email_proposals_investor"} <= indexes
        with pytest.raises(Exception, match="CHECK"):  # an email's proposal still needs its email
            conn.execute("INSERT INTO email_proposals (id, fundraising_investor_id, draft, drafted_by, created_at, updated_at)"
                         " VALUES ('p', 'r', 'd', 'template', 't', 't')")
    finally:
        conn.close()
    # The server goes on over the rebuilt table: the email proposal and its card are as they were.
    [shown] = proposals(admin)
    assert shown["id"] == mailed["id"] and shown["matrix"]["event_id"] == "$m" and shown["email"]["subject"] == "Fund II close"
