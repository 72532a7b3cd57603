"""The CRM MCP server (crm.mcp, issue 20) through the official SDK's in-process client session against a
real running CRM (its database read-only, its API with a bot-role token), and once over stdio as
`python -m crm.mcp`: each tool, the read-only connection, every call in the interaction log, a
proposed note in the review queue and, approved through the API, in the grid's Notes; no tool or
import that could send anything."""
import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from crm.mcp import reads, server as mcp_server
from crm.mcp.settings import Settings, SettingsError, load
from email_helpers import DOMAIN, add_investor, capture_config, grant, mail

ROOT = Path(__file__).resolve().parents[1]
ADMIN = f"admin@{DOMAIN}"
JANE = "Jane Doe <jane@acme.example>"
TOOLS = {"find_entity", "entity_dossier", "list_interactions", "search", "pipeline_summary", "propose_note",
         "log_interaction"}


@pytest.fixture
def crm(make_server, google, tmp_path):
    """(server, admin, bot, mcp): capture on against the stand-in Google; the grid investor "Acme LP"
    with Jane Doe (and her classic contact, made by the grid), a captured email from Jane, an open
    opportunity, entities resolved and the search index built; the MCP server with a bot's token."""
    key = tmp_path / "service-account.json"
    google.write_key_file(key)
    server = make_server(**capture_config(google, key))
    admin = server.register_admin()
    admin.acme = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
    grant(google, ADMIN)
    assert admin.post("/api/email/accounts/enroll-all").status_code == 200
    account = next(a["id"] for a in admin.get("/api/email/accounts").json()["data"] if a["email"] == ADMIN)
    google.add_message(ADMIN, mail(JANE, ADMIN, "Subscription documents", "The signed subscription documents are attached.",
                                   date=datetime.now(timezone.utc) - timedelta(days=1)))
    assert server.app.email.sync(account)["status"] == "ok"
    jane = admin.get("/api/contacts", params={"q": "jane@acme.example"}).json()["data"][0]
    assert admin.post("/api/opportunities", {"contact_id": jane["id"], "fund_name": "Fund II", "stage": "meeting",
                                             "expected_amount": 2_000_000}).status_code == 201
    assert admin.post("/api/admin/entities/resolve").status_code == 200
    server.app.retrieval.run(False)
    bot = server.add_user(admin, "claude-agent", role="bot", password="bot password 12")
    return server, admin, bot, mcp_server.build(Settings(server.config.db_path, server.url, bot.token))



def run_async(function):
    """anyio.run on a thread of its own: Playwright's sync API (the browser tests, earlier in the
    same session) keeps an asyncio loop running on the main thread, where anyio.run refuses."""
    box = {}

    def target():
        try:
            box["value"] = anyio.run(function)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread below
            box["error"] = exc
    worker = threading.Thread(target=target, name="mcp-client")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def call(mcp, tool, **arguments):
    """(is_error, the answer parsed from its JSON text, or the error's text) of one tool call."""
    async def run():
        async with Client(mcp) as client:
            return await client.call_tool(tool, arguments)
    result = run_async(run)
    text = result.content[0].text
    return result.is_error, (text if result.is_error else json.loads(text))


def agent_log(admin, **query) -> list:
    r = admin.get("/api/interactions", params={"actor_kind": "agent", "limit": 1000, **query})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def jane_entity(mcp) -> dict:
    error, found = call(mcp, "find_entity", q="jane@acme.example", kind="person")
    assert not error, found
    return found["entities"][0]


# -- what the server offers ---------------------------------------------------------------------------

def test_the_tools_are_exactly_these_reads_and_two_that_only_propose(crm):
    server, admin, bot, mcp = crm

    async def listed():
        async with Client(mcp) as client:
            return (await client.list_tools()).tools
    tools = {tool.name: tool for tool in run_async(listed)}
    assert set(tools) == TOOLS
    assert {name for name, tool in tools.items() if tool.annotations.read_only_hint} == set(mcp_server.READS)
    assert all(tool.annotations.destructive_hint is False for name, tool in tools.items() if name in mcp_server.WRITES)
    assert "NOT written" in tools["propose_note"].description


def test_the_package_imports_nothing_that_sends_drafts_or_posts():
    code = ("import sys; import crm.mcp.server, crm.mcp.__main__, crm.mcp.crmapi, crm.mcp.reads; "
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "backend", capture_output=True, text=True, check=True)
    modules = set(loaded.stdout.split())
    assert "crm.mcp.server" in modules and "mcp.server.mcpserver" in modules
    forbidden = {m for m in modules if m.startswith(("crm.email", "crm.digest", "crm.spark")) or m in ("smtplib", "crm.app")}
    assert forbidden == set()


# -- reads ---------------------------------------------------------------------------------------------

def test_reads_answer_from_the_database_and_every_call_is_logged_as_the_agents(crm):
    server, admin, bot, mcp = crm
    jane = jane_entity(mcp)
    assert jane["display_name"] == "Jane Doe" and jane["kind"] == "person"
    error, dossier = call(mcp, "entity_dossier", entity_id=jane["id"])
    assert not error and dossier["id"] == jane["id"]
    assert {"contacts", "fundraising_contacts"} <= {r["source_table"] for r in dossier["records"]}
    assert "jane@acme.example" in dossier["emails"]
    error, touches = call(mcp, "list_interactions", entity_id=jane["id"], limit=50)
    assert not error and touches["total"] >= 3
    actions = [e["action"] for e in touches["entries"]]
    assert "opportunity.create" in actions and "contact.create_from_grid" in actions
    assert actions[:2] == ["mcp.entity_dossier", "mcp.find_entity"]  # the agent's own reads are touches too
    error, summary = call(mcp, "pipeline_summary")
    assert not error
    meeting = next(s for s in summary["stages"] if s["stage"] == "meeting")
    assert meeting["count"] == 1 and meeting["expected"] == 2_000_000 and summary["open"]["opportunities"] == 1
    assert summary["grid"]["investors"] == 1
    logged = agent_log(admin)
    assert [e["action"] for e in logged] == ["mcp.pipeline_summary", "mcp.list_interactions", "mcp.entity_dossier",
                                             "mcp.find_entity"]
    assert {e["actor_id"] for e in logged} == {bot.user["id"]}
    assert all(jane["id"] in e["entities"] for e in logged[1:])
    assert logged[3]["payload"] == {"arguments": {"q": "jane@acme.example", "kind": "person", "limit": 10},
                                    "result": {"found": 1}}


def test_search_goes_through_the_api_and_is_logged(crm):
    server, admin, bot, mcp = crm
    error, found = call(mcp, "search", q="signed subscription documents", mode="hybrid", limit=5)
    assert not error, found
    assert found["mode_used"] == "sparse" and found["degraded"]  # no embedding server here: BM25 says so
    assert found["hits"] and found["hits"][0]["type"] == "email" and "subscription" in found["hits"][0]["snippet"].lower()
    jane = jane_entity(mcp)
    error, only = call(mcp, "search", q="subscription", entity=jane["id"], type="email")
    assert not error and {h["type"] for h in only["hits"]} == {"email"}
    assert all(jane["id"] in h["entity_ids"] for h in only["hits"])
    error, refused = call(mcp, "search", q="subscription", since="last tuesday")
    assert error and "since" in refused
    logged = agent_log(admin, action="mcp.search")
    assert len(logged) == 3 and logged[-1]["payload"]["result"]["hits"] == len(found["hits"])
    assert "error" in logged[0]["payload"] and "since" in logged[0]["payload"]["error"]


def test_the_read_connection_refuses_writes(crm):
    server, admin, bot, mcp = crm
    conn = reads.connect(server.config.db_path)
    try:
        before = conn.execute("SELECT count(*) AS n FROM contacts").fetchone()["n"]
        for sql in ("INSERT INTO tags (id, name, created_at) VALUES ('t', 'x', 'now')", "DELETE FROM contacts",
                    "UPDATE fundraising_investors SET name = 'x'", "CREATE TABLE sneaky (x)"):
            with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
                conn.execute(sql)
        # ... while it reads what the server writes meanwhile (WAL).
        assert admin.post("/api/contacts", {"first_name": "Sol", "last_name": "New"}).status_code == 201
        assert conn.execute("SELECT count(*) AS n FROM contacts").fetchone()["n"] == before + 1
    finally:
        conn.close()


# -- proposals and logged touches ------------------------------------------------------------------------

def test_a_proposed_note_waits_in_the_review_queue_and_approved_through_the_api_is_in_the_notes(crm):
    server, admin, bot, mcp = crm
    firm = call(mcp, "find_entity", q="Acme LP", kind="organization")[1]["entities"][0]
    error, answer = call(mcp, "propose_note", entity_id=firm["id"], text="Jane wants the Fund II deck before the AGM")
    assert not error, answer
    proposal = answer["proposal"]
    assert proposal["status"] == "proposed" and proposal["source"] == "agent" and "only if a human" in answer["status"]
    queued = admin.get("/api/email/proposals").json()["data"]
    mine = next(p for p in queued if p["id"] == proposal["id"])
    assert mine["proposed_by"]["username"] == "claude-agent" and mine["investor"]["id"] == admin.acme
    state = admin.get("/api/fundraising/state").json()["data"]
    notes = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "notes")

    def cell():
        return admin.get(f"/api/fundraising/rows/{admin.acme}").json()["data"]["cells"].get(notes)
    assert cell() in (None, "")  # nothing written by proposing
    r = admin.post(f"/api/email/proposals/{proposal['id']}/decide", {"action": "approve"})
    assert r.status_code == 200, r.text
    assert cell() == proposal["draft"] and proposal["draft"].endswith("Jane wants the Fund II deck before the AGM")
    [logged] = agent_log(admin, action="mcp.propose_note")
    assert {"type": "email_proposals", "id": proposal["id"]} in logged["refs"] and firm["id"] in logged["entities"]
    assert [e["actor_kind"] for e in admin.get("/api/interactions", params={"action": "email_proposal.create"}).json()["data"]] \
        == ["agent"]
    error, refused = call(mcp, "propose_note", text="no target")
    assert error and "investor_id or entity_id" in refused


def test_log_interaction_records_the_agents_touch_and_refuses_an_unknown_entity(crm):
    server, admin, bot, mcp = crm
    jane = jane_entity(mcp)
    error, entry = call(mcp, "log_interaction", entity_id=jane["id"], action="call", note="Left a voicemail about the AGM")
    assert not error, entry
    assert (entry["action"], entry["actor_kind"], entry["actor_id"]) == ("agent.call", "agent", bot.user["id"])
    assert entry["refs"] == [{"type": "entity", "id": jane["id"]}] and entry["payload"]["note"].startswith("Left a voicemail")
    error, refused = call(mcp, "log_interaction", entity_id="no-such-entity", action="call")
    assert error and "no entity" in refused
    error, refused = call(mcp, "log_interaction", entity_id=jane["id"], action="Send Email!")
    assert error  # the tool's schema refuses it before it runs
    failed = agent_log(admin, action="mcp.log_interaction")
    assert len(failed) == 1 and "no entity" in failed[0]["payload"]["error"]
    assert [e["action"] for e in agent_log(admin, entity=jane["id"])][:1] == ["agent.call"]


def test_failures_are_logged_and_a_call_that_cannot_be_logged_is_not_answered(crm):
    server, admin, bot, mcp = crm
    error, refused = call(mcp, "entity_dossier", entity_id="no-such-entity")
    assert error and "no entity" in refused
    [failed] = agent_log(admin, action="mcp.entity_dossier")
    assert failed["refs"] == [] and failed["payload"]["arguments"] == {"entity_id": "no-such-entity"}
    signed_out = mcp_server.build(Settings(server.config.db_path, server.url, "not-a-token"))
    error, refused = call(signed_out, "pipeline_summary")
    assert error and "CRM_MCP_TOKEN" in refused and "not answered" in refused and "stages" not in refused
    member = server.add_user(admin, "maria")  # a member's token is no bot's: the CRM refuses its log entries
    error, refused = call(mcp_server.build(Settings(server.config.db_path, server.url, member.token)), "find_entity", q="Jane")
    assert error and "bot-role" in refused and "Jane Doe" not in refused
    unreachable = mcp_server.build(Settings(server.config.db_path, "http://127.0.0.1:9", bot.token))
    error, refused = call(unreachable, "find_entity", q="Jane")
    assert error and "did not answer" in refused and bot.token not in refused


# -- settings and stdio ------------------------------------------------------------------------------------

@pytest.mark.parametrize("environ, words", [
    ({}, "CRM_DB_PATH"),
    ({"CRM_DB_PATH": "/nowhere/crm.db", "CRM_MCP_API_URL": "http://x", "CRM_MCP_TOKEN": "t"}, "no database"),
    ({"CRM_DB_PATH": "DB", "CRM_MCP_TOKEN": "t"}, "CRM_MCP_API_URL"),
    ({"CRM_DB_PATH": "DB", "CRM_MCP_API_URL": "ftp://x", "CRM_MCP_TOKEN": "t"}, "CRM_MCP_API_URL"),
    ({"CRM_DB_PATH": "DB", "CRM_MCP_API_URL": "http://x"}, "CRM_MCP_TOKEN"),
    ({"CRM_DB_PATH": "DB", "CRM_MCP_API_URL": "http://x", "CRM_MCP_TOKEN": "t", "CRM_MCP_TIMEOUT_SEC": "soon"}, "CRM_MCP_TIMEOUT_SEC"),
])
def test_settings_name_what_is_missing(tmp_path, environ, words):
    db = tmp_path / "crm.db"
    db.write_bytes(b"")
    with pytest.raises(SettingsError, match=words):
        load({k: (str(db) if v == "DB" else v) for k, v in environ.items()})
    assert load({"CRM_DATA_DIR": str(tmp_path), "CRM_MCP_API_URL": "http://x/", "CRM_MCP_TOKEN": "t"}).api_url == "http://x"


def test_python_m_crm_mcp_serves_over_stdio(crm):
    server, admin, bot, mcp = crm
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "backend"), "CRM_DB_PATH": str(server.config.db_path),
           "CRM_MCP_API_URL": server.url, "CRM_MCP_TOKEN": bot.token}

    async def run():
        async with Client(StdioServerParameters(command=sys.executable, args=["-m", "crm.mcp"], env=env)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            return names, await client.call_tool("pipeline_summary", {})
    names, result = run_async(run)
    assert names == TOOLS and not result.is_error
    assert json.loads(result.content[0].text)["grid"]["investors"] == 1
    assert [e["action"] for e in agent_log(admin)] == ["mcp.pipeline_summary"]
    bad = subprocess.run([sys.executable, "-m", "crm.mcp"], cwd=ROOT / "backend", env={"PATH": env["PATH"]},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "CRM_DB_PATH" in bad.stderr and bad.stdout == ""
