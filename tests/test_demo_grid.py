"""Demo data in the fundraising grid (CRM_SEED_DEMO_DATA=1): investors linked to the demo contacts,
two funds with commitments, a formula column, select values, notes and shared saved views, seeded once.
"""
from datetime import datetime, timezone

PIPELINE = ["Committed", "Soft commit", "Diligence", "Meeting", "Contacted"]  # the view's stages, most advanced first


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()["data"]


def total(client, path) -> int:
    r = client.get(path, params={"limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def view_rows(client, view_id) -> dict:
    r = client.get("/api/fundraising/rows", params={"view_id": view_id})
    assert r.status_code == 200, r.text
    return r.json()


def test_demo_data_fills_the_grid_once_linked_to_the_demo_contacts(make_server):
    demo = make_server(seed_demo_data=True)
    boss = demo.register_admin()
    state = ok(boss.get("/api/fundraising/state"))
    columns = {c["name"]: c for c in state["grid"]["columns"]}
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    rows = state["grid"]["rows"]
    assert len(rows) == 40
    cells = [r["cells"] for r in rows]

    # Two funds; commitments a mix of amounts and blanks in each.
    assert sorted(c["name"] for c in columns.values() if c["type"] == "fund") == ["Fund I", "Fund II"]
    today = datetime.now(timezone.utc).date()  # the demo's dates count from the day it is seeded: Fund II is being raised now
    assert columns["Fund I"]["fund"]["vintage"] == today.year - 4 and columns["Fund II"]["fund"]["vintage"] == today.year
    assert columns["Fund II"]["fund"]["close_date"] > today.isoformat() and columns["Fund II"]["fund"]["target"] > 0
    fund_i, fund_ii = columns["Fund I"]["id"], columns["Fund II"]["id"]
    for fund in (fund_i, fund_ii):
        amounts = [c.get(fund) for c in cells]
        assert sum(1 for a in amounts if isinstance(a, (int, float)) and a > 0) >= 5
        assert sum(1 for a in amounts if a is None) >= 5

    # The formula column holds computed totals (blank counts as 0).
    formula = columns["Total Committed"]
    assert formula["type"] == "formula" and "{Fund I}" in formula["formula"] and "{Fund II}" in formula["formula"]
    for c in cells:
        assert c[formula["id"]] == (c.get(fund_i) or 0) + (c.get(fund_ii) or 0)
    assert max(c[formula["id"]] for c in cells) > 0

    # Single selects hold their options; notes, owners and lead sources are filled in.
    status_options = [o["name"] for o in columns["Status"]["options"]]
    statuses = [c.get(key["status"]) for c in cells]
    assert set(statuses) <= set(status_options) and len(set(statuses)) >= 5
    investor_type = columns["Investor Type"]
    assert investor_type["type"] == "single_select"
    assert all(c.get(investor_type["id"]) in {o["name"] for o in investor_type["options"]} for c in cells)
    assert all(c.get(key["notes"]) for c in cells)
    assert all(c.get(key["owner"]) and c.get(key["lead_source"]) for c in cells)
    assert all(c.get(key["graveyard"]) == (c.get(key["status"]) == "Passed") for c in cells)

    # Every investor's contacts are demo contacts, linked through the bridge: no classic record was added for them.
    assert total(boss, "/api/contacts") == 600 and total(boss, "/api/organizations") == 200
    people = [(c, p) for c in cells for p in c[key["contacts"]]]
    assert len(people) >= 40
    for c, person in people[:12]:
        classic = ok(boss.get(f"/api/contacts/{person['contact_id']}"))
        assert classic["email"] == person["email"]
        assert f"{classic['first_name']} {classic['last_name']}" == person["name"]
        organization = ok(boss.get(f"/api/organizations/{classic['organization_id']}"))
        assert organization["name"] == c[key["organization"]] == c[key["name"]]
    details = [ok(boss.get(f"/api/fundraising/rows/{r['id']}")) for r in rows[:10]]
    assert any(d["communications"] for d in details)  # the demo contacts' classic history shows on the row
    # ...and a classic edit flows to the grid as for real data.
    row, person = rows[0], rows[0]["cells"][key["contacts"]][0]
    assert boss.patch(f"/api/contacts/{person['contact_id']}", {"title": "Managing Partner"}).status_code == 200
    detail = ok(boss.get(f"/api/fundraising/rows/{row['id']}"))
    assert [p["title"] for p in detail["contacts"] if p["id"] == person["id"]] == ["Managing Partner"]

    # Row rules ran: the Passed investors are in the graveyard list, the long shots in theirs.
    for flag in ("graveyard", "longshot"):
        listed = ok(boss.get(f"/api/fundraising/lists/{flag}"))
        assert {r["id"] for r in listed["rows"]} == {r["id"] for r in rows if r["cells"].get(key[flag])} != set()

    # Shared saved views, each answering rows.
    views = {v["name"]: v for v in state["views"]}
    assert {"Fund II pipeline", "By status"} <= set(views)
    assert views["Fund II pipeline"]["shared"] and views["By status"]["shared"]
    for view in state["views"]:
        assert view_rows(boss, view["id"])["total"] > 0, view["name"]

    pipeline = view_rows(boss, views["Fund II pipeline"]["id"])
    expected = [r for r in rows if r["cells"].get(key["status"]) in PIPELINE and not r["cells"].get(key["graveyard"])]
    assert {r["id"] for r in pipeline["data"]} == {r["id"] for r in expected} and pipeline["total"] == len(expected)
    order = [(PIPELINE.index(r["cells"][key["status"]]), -(r["cells"].get(fund_ii) or -1)) for r in pipeline["data"]]
    assert order == sorted(order)  # by stage, most advanced first; then the largest Fund II commitment first

    grouped = view_rows(boss, views["By status"]["id"])
    assert views["By status"]["config"]["group_by"] == key["status"]
    groups = {g["key"]: g for g in grouped["groups"]}
    assert {k: g["count"] for k, g in groups.items()} == {s: statuses.count(s) for s in set(statuses)}
    for status, group in groups.items():
        assert group["sums"][fund_ii] == sum(c.get(fund_ii) or 0 for c in cells if c.get(key["status"]) == status)

    # A restart with the flag still set adds nothing, classic or grid.
    again = make_server(seed_demo_data=True, data_dir=demo.config.data_dir)
    client = again.client(boss.token)
    after = ok(client.get("/api/fundraising/state"))
    assert after["version"] == ok(boss.get("/api/fundraising/state"))["version"]
    assert sorted(r["id"] for r in after["grid"]["rows"]) == sorted(r["id"] for r in rows)
    assert [c["id"] for c in after["grid"]["columns"]] == [c["id"] for c in state["grid"]["columns"]]
    assert [v["id"] for v in after["views"]] == [v["id"] for v in state["views"]]
    assert total(client, "/api/contacts") == 600 and total(client, "/api/organizations") == 200


def test_demo_data_is_the_same_every_time(make_server):
    def content(server):
        client = server.register_admin()
        state = ok(client.get("/api/fundraising/state"))
        names = {c["id"]: c["name"] for c in state["grid"]["columns"]}
        return [{names[k]: v for k, v in r["cells"].items() if names[k] not in ("Follow Up", "Contacts")}
                | {"people": [p["email"] for p in r["cells"][next(c for c in names if names[c] == "Contacts")]]}
                for r in state["grid"]["rows"]]

    first = content(make_server(seed_demo_data=True))
    assert len(first) == 40 and first == content(make_server(seed_demo_data=True))


def test_no_demo_investors_without_the_flag(make_server):
    server = make_server()
    admin = server.register_admin()
    assert ok(admin.get("/api/fundraising/state"))["grid"]["rows"] == []


def test_no_demo_data_over_a_grid_in_use(make_server):
    """A database with grid data of its own (here one investor, no classic contacts) gets no demo data."""
    server = make_server()
    admin = server.register_admin()
    state = ok(admin.get("/api/fundraising/state"))
    investor = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "name")
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "add_row", "cells": {investor: "Our own LP"}}]})
    assert r.status_code == 200, r.text
    again = make_server(seed_demo_data=True, data_dir=server.config.data_dir)
    client = again.client(admin.token)
    after = ok(client.get("/api/fundraising/state"))
    assert [r["cells"][investor] for r in after["grid"]["rows"]] == ["Our own LP"]
    assert [c["name"] for c in after["grid"]["columns"]] == [c["name"] for c in state["grid"]["columns"]]
    assert total(client, "/api/contacts") == 0 and total(client, "/api/organizations") == 0
