"""The interaction log (crm.interactions, core migration 0008): every human, agent, bot and system
touch of a person- or organization-bearing record, appended in the mutation's own transaction,
read by entity through entity_links at read time, append-only; GET/POST /api/interactions (issue 20)."""
import sqlite3

import pytest

from crm.admin.interactions import INTERACTION
from crm.db import connect
from email_helpers import add_investor

AGENT = {"X-CRM-Actor": "agent"}


def created(client, path, body) -> dict:
    r = client.post(path, body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def entries(admin, **query) -> list:
    r = admin.get("/api/interactions", params={"limit": 1000, **query})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def count(server) -> tuple:
    conn = connect(server.config.db_path)
    try:
        return tuple(conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in ("interaction_log", "interaction_refs"))
    finally:
        conn.close()


def make_bot(server, admin, name="relay"):
    bot = server.add_user(admin, name)
    r = admin.patch(f"/api/admin/users/{bot.user['id']}", {"role": "bot"})
    assert r.status_code == 200, r.text
    return bot


def refs_of(entry) -> set:
    return {(r["type"], r["id"]) for r in entry["refs"]}


def holds(shape: dict, value) -> bool:
    if shape.get("type") == "object":
        return isinstance(value, dict) and all(name in value for name in shape.get("required", ()))
    return True


# -- human touches through the audit path ------------------------------------------------------------

def test_classic_mutations_append_human_entries_naming_the_record_and_what_it_touches(server, admin):
    org = created(admin, "/api/organizations", {"name": "Acme Capital"})
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe", "organization_id": org["id"]})
    opp = created(admin, "/api/opportunities", {"contact_id": jane["id"], "fund_name": "Fund II"})
    call = created(admin, "/api/communications", {"contact_id": jane["id"], "type": "call", "subject": "Wire timing",
                                                   "communication_date": "2026-03-02T15:30:00Z"})
    profile = created(admin, "/api/lp-profiles", {"contact_id": jane["id"], "notes": "Accredited."})
    assert admin.patch(f"/api/contacts/{jane['id']}", {"notes": "Prefers calls"}).status_code == 200
    assert admin.patch(f"/api/opportunities/{opp['id']}/stage", {"stage": "meeting"}).status_code == 200
    found = entries(admin, ref_type="contacts", ref_id=jane["id"])
    # (an LP profile makes its contact an investor: that is a contact.update of its own)
    assert [e["action"] for e in found] == ["opportunity.stage", "contact.update", "contact.update", "lp_profile.create",
                                            "communication.create", "opportunity.create", "contact.create"]
    assert {e["actor_kind"] for e in found} == {"human"} and {e["actor_id"] for e in found} == {admin.user["id"]}
    by_action = {e["action"]: e for e in found}
    assert refs_of(by_action["contact.create"]) == {("contacts", jane["id"]), ("organizations", org["id"])}
    assert {("opportunities", opp["id"]), ("contacts", jane["id"])} <= refs_of(by_action["opportunity.create"])
    assert refs_of(by_action["communication.create"]) == {("communications", call["id"]), ("contacts", jane["id"])}
    assert refs_of(by_action["lp_profile.create"]) == {("lp_profiles", profile["id"]), ("contacts", jane["id"])}
    # The values stay in the audit log; the entry names the fields and the audit entry.
    update = found[1]
    assert update["payload"]["fields"] == ["notes"] and "Prefers calls" not in str(update["payload"])
    audit = admin.get("/api/audit-log", params={"entity_type": "contact", "entity_id": jane["id"], "action": "update"}).json()["data"]
    assert update["payload"]["audit_id"] == audit[0]["id"]
    assert all(holds(INTERACTION, e) for e in found)
    # The organization's own entries: its creation, and its contact's (which names it).
    assert [e["action"] for e in entries(admin, ref_type="organizations", ref_id=org["id"])][-2:] == ["contact.create", "organization.create"]


def test_a_delete_and_its_restore_are_logged_and_a_refused_write_logs_nothing(server, admin):
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe"})
    created(admin, "/api/opportunities", {"contact_id": jane["id"], "fund_name": "Fund II"})
    before = count(server)
    r = admin.patch(f"/api/contacts/{jane['id']}", {"organization_id": "no-such-org"})
    assert r.status_code == 422 and count(server) == before  # rolled back with the write
    assert admin.delete(f"/api/contacts/{jane['id']}").status_code == 200
    assert admin.post(f"/api/contacts/{jane['id']}/restore").status_code == 200
    actions = [e["action"] for e in entries(admin, ref_type="contacts", ref_id=jane["id"])]
    assert actions[:4] == ["opportunity.restore", "contact.restore", "opportunity.delete", "contact.delete"]
    # Records that bear no one (a tag, a user) add nothing.
    before = count(server)
    assert admin.post("/api/tags", {"name": "warm"}).status_code == 201
    assert count(server) == before


def test_imports_log_one_entry_per_record(server, admin):
    rows = [{"first_name": f"P{n}", "last_name": "Roe", "email": f"p{n}@lp.example"} for n in range(25)]
    r = admin.post("/api/import/csv", {"rows": rows})
    assert r.status_code == 200, r.text
    imported = entries(admin, action="contact.import")
    assert len(imported) == 25 and all(e["actor_kind"] == "human" for e in imported)
    assert len({next(i for t, i in refs_of(e) if t == "contacts") for e in imported}) == 25
    # The bulk path (records.insert_many → audit.record_many): grid contacts get classic contacts in one go.
    add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"), ("Bob Roe", "bob@acme.example"))
    bulk = entries(admin, action="contact.create_from_grid")
    assert len(bulk) == 2 and all(len(e["refs"]) == 1 and e["refs"][0]["type"] == "contacts" for e in bulk)


def test_grid_edits_log_one_entry_per_request_and_column_changes_none(server, admin):
    acme = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
    state = admin.get("/api/fundraising/state").json()["data"]
    notes = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "notes")
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "set_cell", "row_id": acme, "column_id": notes, "value": "2026-05-01 — Call with Jane"},
        {"op": "add_row", "cells": {}}]})
    assert r.status_code == 200, r.text
    found = entries(admin, action="grid.edit")
    assert len(found) == 2  # the add_row of add_investor, then this request
    latest = found[0]
    assert ("fundraising_investors", acme) in refs_of(latest) and len(latest["refs"]) == 2
    assert latest["payload"]["version"] == r.json()["data"]["version"] and "Notes" in latest["payload"]["columns"]
    before = count(server)
    r = admin.post("/api/fundraising/ops", {"base_version": r.json()["data"]["version"], "ops": [
        {"op": "add_column", "column_id": "col-warmth", "name": "Warmth", "type": "text"}]})
    assert r.status_code == 200, r.text
    assert count(server) == before


# -- agents and bots -------------------------------------------------------------------------------------

def test_a_bot_logs_a_touch_as_an_agent_only_with_the_header(server, admin):
    bot = make_bot(server, admin)
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe"})
    body = {"action": "agent.call", "refs": [{"type": "contacts", "id": jane["id"]}], "payload": {"note": "left a message"}}
    r = bot.post("/api/interactions", body, headers=AGENT)
    assert r.status_code == 201, r.text
    entry = r.json()["data"]
    assert (entry["actor_kind"], entry["actor_id"], entry["action"]) == ("agent", bot.user["id"], "agent.call")
    assert entry["refs"] == body["refs"] and entry["payload"] == {"note": "left a message"} and holds(INTERACTION, entry)
    assert bot.post("/api/interactions", body).json()["data"]["actor_kind"] == "bot"
    assert admin.post("/api/interactions", body, headers=AGENT).json()["data"]["actor_kind"] == "human"  # not a bot's
    member = server.add_user(admin, "maria")
    assert member.post("/api/interactions", body, headers=AGENT).status_code == 403
    assert member.get("/api/interactions").status_code == 403 and bot.get("/api/interactions").status_code == 403
    assert [e["actor_kind"] for e in entries(admin, action="agent.call")] == ["human", "bot", "agent"]
    assert [e["actor_kind"] for e in entries(admin, actor_kind="agent")] == ["agent"]
    assert {e["actor_id"] for e in entries(admin, actor=bot.user["id"])} == {bot.user["id"]}


@pytest.mark.parametrize("body, field", [
    ({}, "action"),
    ({"action": "Agent Call"}, "action"),
    ({"action": "agent.call", "refs": "contacts"}, "refs"),
    ({"action": "agent.call", "refs": [{"type": "planets", "id": "x"}]}, "refs"),
    ({"action": "agent.call", "refs": [{"type": "contacts"}]}, "refs"),
    ({"action": "agent.call", "refs": [{"type": "contacts", "id": " "}]}, "refs"),
    ({"action": "agent.call", "refs": [{"type": "entity", "id": "no-such-entity"}]}, "refs"),
    ({"action": "agent.call", "refs": [{"type": "contacts", "id": str(n)} for n in range(51)]}, "refs"),
    ({"action": "agent.call", "payload": ["not", "an", "object"]}, "payload"),
    ({"action": "agent.call", "payload": {"text": "x" * 20_000}}, "payload"),
    ({"action": "agent.call", "actor_kind": "human"}, "actor_kind"),
])
def test_bad_entries_are_422s_naming_the_field_and_nothing_is_written(server, admin, body, field):
    before = count(server)
    r = admin.post("/api/interactions", body)
    assert r.status_code == 422 and field in r.json()["fields"], r.text
    assert count(server) == before


@pytest.mark.parametrize("query, field", [
    ({"since": "yesterday"}, "since"), ({"until": "2026-13-45"}, "until"), ({"ref_type": "contacts"}, "ref_id"),
    ({"ref_id": "x"}, "ref_type"), ({"ref_type": "planets", "ref_id": "x"}, "ref_type"),
    ({"actor_kind": "robot"}, "actor_kind"), ({"limit": "0"}, "limit"),
])
def test_bad_filters_are_422s_naming_the_parameter(server, admin, query, field):
    r = admin.get("/api/interactions", params=query)
    assert r.status_code == 422 and field in r.json()["fields"], r.text


# -- by entity, read through entity_links ------------------------------------------------------------------

def test_an_entitys_entries_are_read_through_its_links_even_ones_written_before_it_was_linked(server, admin):
    org = created(admin, "/api/organizations", {"name": "Acme Capital", "website": "https://acme.example"})
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe", "email": "jane@acme.example",
                                            "organization_id": org["id"]})
    row = add_investor(admin, "Acme Capital", ("Jane Doe", "jane@acme.example"))
    assert admin.patch(f"/api/contacts/{jane['id']}", {"notes": "Prefers calls"}).status_code == 200
    assert admin.post("/api/admin/entities/resolve").status_code == 200  # links come after the touches
    person = admin.get("/api/entities", params={"q": "jane@acme.example", "kind": "person"}).json()["data"][0]
    found = entries(admin, entity=person["id"])
    actions = [e["action"] for e in found]
    assert "contact.update" in actions and "contact.create" in actions
    assert all(person["id"] in e["entities"] for e in found)
    # The organization and the grid row are one entity: its entries hold both the classic and the grid touches.
    firm = admin.get("/api/entities", params={"q": "Acme Capital", "kind": "organization"}).json()["data"][0]
    firm_refs = set().union(*(refs_of(e) for e in entries(admin, entity=firm["id"])))
    assert {("organizations", org["id"]), ("fundraising_investors", row)} <= firm_refs
    # An agent's touch of the entity itself, and a hand merge: the survivor's entries include the merged one's.
    bot = make_bot(server, admin)
    other = created(admin, "/api/contacts", {"first_name": "J.", "last_name": "Doe", "email": "jd@elsewhere.example"})
    assert admin.post("/api/admin/entities/resolve").status_code == 200
    twin = admin.get("/api/entities", params={"q": "jd@elsewhere.example"}).json()["data"][0]
    assert bot.post("/api/interactions", {"action": "agent.research", "refs": [{"type": "entity", "id": twin["id"]}]},
                    headers=AGENT).status_code == 201
    assert not any(e["action"] == "agent.research" for e in entries(admin, entity=person["id"]))
    r = admin.post(f"/api/admin/entities/{twin['id']}/merge", {"into": person["id"]})
    assert r.status_code == 200, r.text
    merged = entries(admin, entity=person["id"])
    research = next(e for e in merged if e["action"] == "agent.research")
    assert research["entities"] == [person["id"]]  # the merged id leads to the survivor now
    assert any(("contacts", other["id"]) in refs_of(e) for e in merged)
    assert merged[0]["action"] == "entity.merge" and ("entity", person["id"]) in refs_of(merged[0])
    assert entries(admin, entity=twin["id"]) == merged  # asking by the merged id answers the survivor
    assert entries(admin, entity="no-such-entity") == []


# -- append-only, and kept by reset-all-data ----------------------------------------------------------------

def test_the_log_refuses_update_and_delete(server, admin):
    created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe"})
    conn = connect(server.config.db_path)
    try:
        for sql in ("UPDATE interaction_log SET action = 'x'", "DELETE FROM interaction_log",
                    "UPDATE interaction_refs SET ref_id = 'x'", "DELETE FROM interaction_refs"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT count(*) AS n FROM interaction_log").fetchone()["n"] == 1
    finally:
        conn.close()


def test_reset_all_data_keeps_the_log(server, admin):
    jane = created(admin, "/api/contacts", {"first_name": "Jane", "last_name": "Doe"})
    add_investor(admin, "Acme LP")
    before = entries(admin)
    r = admin.post("/api/admin/reset-all-data", {"confirm": "RESET ALL DATA"})
    assert r.status_code == 200, r.text
    assert admin.get(f"/api/contacts/{jane['id']}").status_code == 404
    after = entries(admin)
    assert after[-len(before):] == before  # every entry is still there, unchanged
