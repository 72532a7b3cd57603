"""Grid rules through HTTP: formula columns, lists and automations (row and daily triggers), row comments
and mentions, the grid <-> classic CRM contact link, log-communication, the relational summary and the
admin activity feed.
"""
import time

import pytest

from crm.db import connect
from crm.fundraising import daily

# -- helpers ------------------------------------------------------------------------


def state(client) -> dict:
    r = client.get("/api/fundraising/state")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def column_ids(client) -> dict:
    return {c["name"]: c["id"] for c in state(client)["grid"]["columns"]}


def columns_by_name(client) -> dict:
    return {c["name"]: c for c in state(client)["grid"]["columns"]}


def post_ops(client, *ops):
    return client.post("/api/fundraising/ops", {"base_version": state(client)["version"], "ops": list(ops)})


def apply(client, *ops) -> dict:
    r = post_ops(client, *ops)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def cells(client, row_id) -> dict:
    r = client.get(f"/api/fundraising/rows/{row_id}")
    assert r.status_code == 200, r.text
    return r.json()["data"]["cells"]


def add_row(client, row_id, values: dict) -> None:
    c = column_ids(client)
    apply(client, {"op": "add_row", "row_id": row_id, "cells": {c[k]: v for k, v in values.items()}})


def set_cells(client, row_id, values: dict) -> None:
    c = column_ids(client)
    apply(client, *({"op": "set_cell", "row_id": row_id, "column_id": c[k], "value": v} for k, v in values.items()))


def members(client, name) -> set:
    r = client.get(f"/api/fundraising/lists/{name}")
    assert r.status_code == 200, r.text
    body = r.json()["data"]
    assert body["total"] == len(body["rows"])
    return {row["id"] for row in body["rows"]}


def rules(client) -> list:
    r = client.get("/api/fundraising/automations")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def runs(client, **params) -> list:
    r = client.get("/api/fundraising/automation-runs", params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def history(client, row_id) -> list:
    r = client.get(f"/api/fundraising/rows/{row_id}/history")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def classic(client, contact_id) -> dict:
    r = client.get(f"/api/contacts/{contact_id}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def classic_total(client) -> int:
    r = client.get("/api/contacts", params={"limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def cond(column_id, operator, value=None):
    item = {"column_id": column_id, "operator": operator}
    if value is not None:
        item["value"] = value
    return item


def grid_fingerprint(client):
    s = state(client)
    return s["version"], s["grid"]


# -- formulas -----------------------------------------------------------------------------

def test_formula_columns_compute_and_only_dependents_recompute(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"}, {"op": "add_column", "name": "Other", "type": "number"})
    apply(admin, {"op": "add_column", "name": "Double", "type": "formula", "formula": "{Amount} * 2"},
          {"op": "add_column", "name": "Total", "type": "formula", "formula": "{Double} + {Other}"},
          {"op": "add_column", "name": "Stamp", "type": "formula", "formula": "NOW()"})
    c = column_ids(admin)
    add_row(admin, "row-a", {"Investor": "A", "Amount": 10, "Other": 1})
    add_row(admin, "row-b", {"Investor": "B"})
    a, b = cells(admin, "row-a"), cells(admin, "row-b")
    assert (a[c["Double"]], a[c["Total"]]) == (20, 21)
    assert (b[c["Double"]], b[c["Total"]]) == (0, 0)        # blank is 0 in arithmetic
    listed = {r["id"]: r["cells"] for r in state(admin)["grid"]["rows"]}
    assert listed["row-a"][c["Total"]] == 21
    r = admin.get("/api/fundraising/rows")
    assert {row["id"]: row["cells"][c["Double"]] for row in r.json()["data"]} == {"row-a": 20, "row-b": 0}
    stamps = (a[c["Stamp"]], b[c["Stamp"]])
    assert all(isinstance(s, str) and s.startswith("20") for s in stamps)

    time.sleep(0.02)  # NOW() would give a new value if Stamp were recomputed
    result = apply(admin, {"op": "set_cell", "row_id": "row-a", "column_id": c["Amount"], "value": 7})
    assert result["rows"]["row-a"][c["Total"]] == 15
    a, b = cells(admin, "row-a"), cells(admin, "row-b")
    assert (a[c["Double"]], a[c["Total"]]) == (14, 15)
    assert (a[c["Stamp"]], b[c["Stamp"]]) == stamps
    set_cells(admin, "row-a", {"Other": 5})
    a = cells(admin, "row-a")
    assert (a[c["Double"]], a[c["Total"]], a[c["Stamp"]]) == (14, 19, stamps[0])


def test_formula_runtime_errors_are_cell_values_not_500s(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"}, {"op": "add_column", "name": "Divisor", "type": "number"})
    apply(admin, {"op": "add_column", "name": "Ratio", "type": "formula", "formula": "{Amount} / {Divisor}"})
    c = column_ids(admin)
    add_row(admin, "zero", {"Investor": "Zero", "Amount": 5})
    add_row(admin, "two", {"Investor": "Two", "Amount": 5, "Divisor": 2})
    ratio = cells(admin, "zero")[c["Ratio"]]
    assert isinstance(ratio, dict) and set(ratio) == {"error"} and "DIV/0" in ratio["error"]
    assert cells(admin, "two")[c["Ratio"]] == 2.5
    for path in ("/api/fundraising/state", "/api/fundraising/rows", "/api/fundraising/export?format=csv"):
        assert admin.get(path).status_code == 200, path
    set_cells(admin, "zero", {"Divisor": 4})
    assert cells(admin, "zero")[c["Ratio"]] == 1.25


@pytest.mark.parametrize("formula, position, problem", [
    ("2 * {Investor}", 4, "'*' needs numbers, got text"),
    ("{Amount} + ", 11, "expected a value"),
    ("{Amont} + 1", 0, "unknown field {Amont}"),
    ("SUMM({Amount})", 0, "unknown function SUMM"),
    ('IF({Amount} > 1, 1, "x")', 20, "IF branches have different types"),
    ('{Amount} > "ten"', 9, "cannot compare number with text"),
])
def test_formula_type_errors_are_422_with_position_and_change_nothing(server, admin, formula, position, problem):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"})
    apply(admin, {"op": "add_column", "name": "Good", "type": "formula", "formula": "{Amount} + 1"})
    good = column_ids(admin)["Good"]
    before = grid_fingerprint(admin)
    for op in ({"op": "add_column", "name": "Bad", "type": "formula", "formula": formula},
               {"op": "update_column", "column_id": good, "formula": formula}):
        r = post_ops(admin, op)
        assert r.status_code == 422, r.text
        message = r.json()["fields"]["ops[0].formula"]
        assert message.startswith(f"at position {position}: ") and problem in message, message
        assert grid_fingerprint(admin) == before


def test_formula_cycles_are_rejected_naming_the_cycle(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"})
    apply(admin, {"op": "add_column", "name": "A", "type": "formula", "formula": "{Amount} + 1"})
    apply(admin, {"op": "add_column", "name": "B", "type": "formula", "formula": "{A} + 1"})
    apply(admin, {"op": "add_column", "name": "C", "type": "formula", "formula": "{B} + 1"})
    c = column_ids(admin)
    before = grid_fingerprint(admin)
    for op, cycle in (
            ({"op": "add_column", "name": "Self", "type": "formula", "formula": "{Self} + 1"}, "Self → Self"),
            ({"op": "update_column", "column_id": c["A"], "formula": "{B} * 2"}, "A → B → A"),
            ({"op": "update_column", "column_id": c["A"], "formula": "{C} * 2"}, "A → C → B → A")):
        r = post_ops(admin, op)
        assert r.status_code == 422, (op, r.text)
        message = r.json()["fields"]["ops[0].formula"]
        assert "cycle" in message and cycle in message, message
        assert grid_fingerprint(admin) == before
    # the editor's check says the same before saving
    r = admin.post("/api/fundraising/formula/check", {"formula": "{C} * 2", "column_id": c["A"]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["ok"] is False and "A → C → B → A" in r.json()["data"]["error"]


def test_renaming_a_referenced_column_keeps_formulas_working(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"})
    apply(admin, {"op": "add_column", "name": "Double", "type": "formula", "formula": "{Amount} * 2"},
          {"op": "add_column", "name": "Bare", "type": "formula", "formula": "Amount + 1"},
          {"op": "add_column", "name": "Said", "type": "formula", "formula": '"Amount: " & {Amount}'})
    c = column_ids(admin)
    add_row(admin, "r", {"Investor": "R", "Amount": 3})
    apply(admin, {"op": "update_column", "column_id": c["Amount"], "name": "Commitment USD"})
    columns = columns_by_name(admin)
    assert "Amount" not in columns
    assert columns["Double"]["formula"] == "{Commitment USD} * 2"
    assert "{Commitment USD}" in columns["Bare"]["formula"]
    assert columns["Said"]["formula"] == '"Amount: " & {Commitment USD}'
    values = cells(admin, "r")
    assert (values[c["Double"]], values[c["Bare"]], values[c["Said"]]) == (6, 4, "Amount: 3")
    set_cells(admin, "r", {"Commitment USD": 10})
    values = cells(admin, "r")
    assert (values[c["Double"]], values[c["Bare"]], values[c["Said"]]) == (20, 11, "Amount: 10")


def test_formula_check_reports_parse_and_type_results(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"})
    maria = server.add_user(admin, "maria")
    cases = [
        ({"formula": "{Amount} * 2"}, {"ok": True, "type": "number", "references": ["Amount"]}),
        ({"formula": 'IF({Amount} > 1, {Investor}, "none")'}, {"ok": True, "type": "text", "references": ["Amount", "Investor"]}),
        ({"formula": "{Follow Up} < TODAY()"}, {"ok": True, "type": "boolean", "references": ["Follow Up"]}),
        ({"formula": "({Amount} + 1"}, {"ok": False, "position": 13}),
        ({"formula": "{Amount} - {Follow Up}"}, {"ok": False, "position": 11}),
    ]
    for body, expected in cases:
        r = maria.post("/api/fundraising/formula/check", body)
        assert r.status_code == 200, r.text
        got = r.json()["data"]
        assert {k: got.get(k) for k in expected} == expected, (body, got)
        assert got["ok"] or got["error"]
    for bad in ({}, {"formula": "1", "extra": 1}, {"formula": 3}):
        assert maria.post("/api/fundraising/formula/check", bad).status_code == 422, bad


# -- lists and automations ----------------------------------------------------------

def test_default_rules_keep_the_lists(server, admin):
    assert [r["name"] for r in rules(admin)] == [
        "Graveyard flag → graveyard list", "Follow-up date → follow-up list", "Longshot flag → longshot list",
        "Not graveyard or longshot → main list", "Everyone → all list"]
    add_row(admin, "plain", {"Investor": "Plain"})
    add_row(admin, "dead", {"Investor": "Dead", "Graveyard": True})
    add_row(admin, "chase", {"Investor": "Chase", "Follow Up": "2030-01-01"})
    add_row(admin, "long", {"Investor": "Long", "Longshot": True})
    assert members(admin, "all") == {"plain", "dead", "chase", "long"}
    assert members(admin, "main") == {"plain", "chase"}
    assert members(admin, "graveyard") == {"dead"}
    assert members(admin, "follow_up") == {"chase"}
    assert members(admin, "longshot") == {"long"}
    set_cells(admin, "dead", {"Graveyard": False})
    set_cells(admin, "plain", {"Follow Up": "2031-02-03"})
    set_cells(admin, "chase", {"Follow Up": None})
    assert members(admin, "main") == {"plain", "chase", "dead"}
    assert members(admin, "graveyard") == set()
    assert members(admin, "follow_up") == {"plain"}
    apply(admin, {"op": "archive_row", "row_id": "long"})
    assert members(admin, "all") == {"plain", "dead", "chase"} and members(admin, "longshot") == set()
    maria = server.add_user(admin, "maria")
    assert members(maria, "main") == {"plain", "chase", "dead"}
    assert maria.get("/api/fundraising/lists/nope").status_code == 404


def test_custom_rule_sets_cells_and_moves_list_membership_and_is_logged(server, admin):
    apply(admin, {"op": "add_column", "name": "Amount", "type": "number"})
    c = column_ids(admin)
    default_longshot = next(r for r in rules(admin) if r["name"].startswith("Longshot"))
    r = admin.patch(f"/api/fundraising/automations/{default_longshot['id']}", {"enabled": False})
    assert r.status_code == 200 and r.json()["data"]["enabled"] is False
    r = admin.post("/api/fundraising/automations", {
        "name": "Big tickets", "trigger": "row_changed",
        "condition": {"conjunction": "and", "conditions": [cond(c["Amount"], ">=", 1000)]},
        "actions": [{"type": "set_cell", "column_id": c["Status"], "value": "soft commit"},
                    {"type": "add_to_list", "list": "longshot"}]})
    assert r.status_code == 201, r.text
    big = r.json()["data"]
    assert big["enabled"] is True and big["trigger"] == "row_changed"
    r = admin.post("/api/fundraising/automations", {
        "name": "Small tickets", "trigger": "row_changed",
        "condition": {"conjunction": "and", "conditions": [cond(c["Amount"], "<", 100)]},
        "actions": [{"type": "remove_from_list", "list": "longshot"}]})
    assert r.status_code == 201, r.text
    small = r.json()["data"]
    assert [x["id"] for x in rules(admin)][-2:] == [big["id"], small["id"]]

    add_row(admin, "x", {"Investor": "X", "Amount": 500})
    add_row(admin, "y", {"Investor": "Y"})
    assert cells(admin, "x")[c["Status"]] is None and members(admin, "longshot") == set()
    set_cells(admin, "x", {"Amount": 5000})
    assert cells(admin, "x")[c["Status"]] == "Soft commit"
    assert members(admin, "longshot") == {"x"}
    logged = [run for run in runs(admin) if run["rule_id"] == big["id"]]
    assert len(logged) == 1
    assert logged[0]["rule"] == "Big tickets" and logged[0]["trigger"] == "row_changed"
    assert (logged[0]["rows_checked"], logged[0]["rows_matched"]) == (1, 1)
    assert {"row_id": "x", "set_cell": c["Status"]} in logged[0]["changes"]
    assert {"row_id": "x", "list": "longshot", "member": True} in logged[0]["changes"]
    # The rule's change is logged as the automation's, on behalf of the user whose edit triggered it.
    made = {op["column_id"]: op for op in history(admin, "x") if op["column_id"] in (c["Status"], c["Amount"])}
    assert made[c["Status"]]["after"] == "Soft commit" and made[c["Status"]]["actor_kind"] == "automation"
    assert made[c["Status"]]["actor"] == "admin" and made[c["Amount"]]["actor_kind"] == "user"

    set_cells(admin, "x", {"Amount": 50})
    assert members(admin, "longshot") == set()
    assert cells(admin, "x")[c["Status"]] == "Soft commit"   # set_cell is not undone when the condition stops holding
    assert any(run["rule_id"] == small["id"] and {"row_id": "x", "list": "longshot", "member": False} in run["changes"]
               for run in runs(admin))
    # a disabled rule does nothing
    r = admin.patch(f"/api/fundraising/automations/{big['id']}", {"enabled": False})
    assert r.status_code == 200
    set_cells(admin, "y", {"Amount": 9000})
    assert members(admin, "longshot") == set() and cells(admin, "y")[c["Status"]] is None
    # and the condition can be changed
    r = admin.patch(f"/api/fundraising/automations/{big['id']}", {"enabled": True, "condition": {
        "conjunction": "and", "conditions": [cond(c["Amount"], ">", 8000)]}})
    assert r.status_code == 200, r.text
    set_cells(admin, "y", {"Investor": "Y2"})
    assert members(admin, "longshot") == {"y"} and cells(admin, "y")[c["Status"]] == "Soft commit"


def _bad_rules(c):
    good = {"name": "r", "trigger": "row_changed", "condition": {"conjunction": "and", "conditions": []},
            "actions": [{"type": "add_to_list", "list": "main"}]}
    return [
        ({**good, "trigger": "hourly"}, "trigger"),
        ({k: v for k, v in good.items() if k != "condition"}, "condition"),
        ({**good, "condition": {"conjunction": "and", "conditions": [cond("nope", "is", "x")]}}, "condition.conditions[0].column_id"),
        ({**good, "condition": {"conjunction": "and", "conditions": [cond(c["Graveyard"], "contains", "x")]}},
         "condition.conditions[0].operator"),
        ({**good, "actions": []}, "actions"),
        ({**good, "actions": [{"type": "email_someone"}]}, "actions[0]"),
        ({**good, "actions": [{"type": "add_to_list", "list": "vip"}]}, "actions[0].list"),
        ({**good, "actions": [{"type": "set_cell", "column_id": "nope", "value": 1}]}, "actions[0].column_id"),
        ({**good, "actions": [{"type": "set_cell", "column_id": c["Status"], "value": "Maybe"}]}, "actions[0].value"),
        ({**good, "extra": True}, "extra"),
    ]


def test_bad_rules_are_422_naming_the_path_and_change_nothing(server, admin):
    c = column_ids(admin)
    before = rules(admin)
    target = before[0]
    for body, path in _bad_rules(c):
        r = admin.post("/api/fundraising/automations", body)
        assert r.status_code == 422, (body, r.text)
        assert path in r.json()["fields"], (path, r.json())
        if "condition" in body:  # a PATCH may leave the condition out
            patch = {k: v for k, v in body.items() if k in ("trigger", "condition", "actions", "extra")}
            r = admin.patch(f"/api/fundraising/automations/{target['id']}", patch)
            assert r.status_code == 422, (patch, r.text)
    assert rules(admin) == before


def test_members_may_not_read_or_change_rules_runs_or_activity(server, admin):
    maria = server.add_user(admin, "maria")
    rule = rules(admin)[0]
    before = rules(admin)
    body = {"name": "x", "trigger": "daily", "condition": {"conjunction": "and", "conditions": []},
            "actions": [{"type": "add_to_list", "list": "main"}]}
    for r in (maria.get("/api/fundraising/automations"), maria.post("/api/fundraising/automations", body),
              maria.patch(f"/api/fundraising/automations/{rule['id']}", {"enabled": False}),
              maria.get("/api/fundraising/automation-runs"), maria.get("/api/fundraising/activity")):
        assert r.status_code == 403, r.text
    assert rules(admin) == before


def test_daily_rules_run_once_per_day(server, admin):
    apply(admin, {"op": "add_column", "name": "Flag", "type": "text"})
    c = column_ids(admin)
    r = admin.post("/api/fundraising/automations", {
        "name": "Overdue", "trigger": "daily",
        "condition": {"conjunction": "and", "conditions": [cond(c["Follow Up"], "is_before", "today")]},
        "actions": [{"type": "set_cell", "column_id": c["Flag"], "value": "overdue"}]})
    assert r.status_code == 201, r.text
    rule = r.json()["data"]
    add_row(admin, "late", {"Investor": "Late", "Follow Up": "2000-01-01"})
    add_row(admin, "early", {"Investor": "Early", "Follow Up": "2999-01-01"})
    add_row(admin, "none", {"Investor": "None"})
    add_row(admin, "summer", {"Investor": "Summer", "Follow Up": "2026-06-01"})  # after the run's day, before the clock's
    assert cells(admin, "late").get(c["Flag"]) is None          # a daily rule does not run on edits
    version = state(admin)["version"]

    conn = connect(server.config.db_path)
    try:
        assert daily.run_if_due(conn, today="2026-03-01") is True
        assert cells(admin, "late")[c["Flag"]] == "overdue"
        assert cells(admin, "early").get(c["Flag"]) is None and cells(admin, "none").get(c["Flag"]) is None
        assert state(admin)["version"] == version + 1
        assert history(admin, "late")[0]["actor_kind"] == "automation"
        daily_runs = [run for run in runs(admin) if run["rule_id"] == rule["id"]]
        assert len(daily_runs) == 1
        assert (daily_runs[0]["trigger"], daily_runs[0]["rows_checked"], daily_runs[0]["rows_matched"]) == ("daily", 4, 1)
        assert cells(admin, "summer").get(c["Flag"]) is None  # "today" was the run's day, not the server's clock

        set_cells(admin, "late", {"Flag": None})
        assert daily.run_if_due(conn, today="2026-03-01") is False      # the same day: nothing
        assert cells(admin, "late").get(c["Flag"]) is None
        assert len([run for run in runs(admin) if run["rule_id"] == rule["id"]]) == 1

        assert daily.run_if_due(conn, today="2026-03-02") is True       # the next day runs again
        assert cells(admin, "late")[c["Flag"]] == "overdue"
        assert len([run for run in runs(admin) if run["rule_id"] == rule["id"]]) == 2
        assert cells(admin, "summer").get(c["Flag"]) is None
        assert daily.run_if_due(conn, today="2026-07-01") is True
        assert cells(admin, "summer")[c["Flag"]] == "overdue"
    finally:
        conn.close()


# -- comments and mentions -----------------------------------------------------------

def test_comments_with_mentions_and_author_only_changes(server, admin):
    add_row(admin, "row", {"Investor": "Row"})
    add_row(admin, "other", {"Investor": "Other"})
    maria = server.add_user(admin, "maria")
    bob = server.add_user(admin, "bob")
    r = maria.post("/api/fundraising/rows/row/comments",
                   {"body": "@admin and @Bob: call them. Not @nobody, not maria@fund.example"})
    assert r.status_code == 201, r.text
    comment = r.json()["data"]
    assert comment["author"] == "maria"
    assert {m["username"] for m in comment["mentions"]} == {"admin", "bob"}
    listed = maria.get("/api/fundraising/rows/row/comments").json()["data"]
    assert [x["id"] for x in listed] == [comment["id"]]
    assert bob.get("/api/fundraising/rows/other/comments").json()["data"] == []

    def inbox(client):
        r = client.get("/api/fundraising/mentions")
        assert r.status_code == 200, r.text
        return [(m["comment_id"], m["row_id"], m["row_name"], m["author"]) for m in r.json()["data"]]

    assert inbox(admin) == inbox(bob) == [(comment["id"], "row", "Row", "maria")]
    assert inbox(maria) == []

    path = f"/api/fundraising/rows/row/comments/{comment['id']}"
    for attempt in (lambda: admin.patch(path, {"body": "rewritten"}), lambda: bob.delete(path), lambda: admin.delete(path)):
        assert attempt().status_code == 403
    assert maria.get("/api/fundraising/rows/row/comments").json()["data"] == listed

    r = maria.patch(path, {"body": "only @bob now"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["body"] == "only @bob now"
    assert {m["username"] for m in r.json()["data"]["mentions"]} == {"bob"}
    assert inbox(admin) == [] and len(inbox(bob)) == 1

    assert maria.delete(path).status_code == 200
    assert maria.get("/api/fundraising/rows/row/comments").json()["data"] == []
    assert inbox(bob) == []
    assert maria.patch(path, {"body": "again"}).status_code == 404


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/api/fundraising/rows/ghost/comments", {"body": "hi"}, 404),
    ("GET", "/api/fundraising/rows/ghost/comments", None, 404),
    ("POST", "/api/fundraising/rows/row/comments", {}, 422),
    ("POST", "/api/fundraising/rows/row/comments", {"body": ""}, 422),
    ("POST", "/api/fundraising/rows/row/comments", {"body": "x", "pinned": True}, 422),
    ("PATCH", "/api/fundraising/rows/other/comments/{id}", {"body": "moved"}, 404),
    ("DELETE", "/api/fundraising/rows/other/comments/{id}", None, 404),
    ("PATCH", "/api/fundraising/rows/row/comments/nope", {"body": "x"}, 404),
])
def test_bad_comment_requests_change_nothing(server, admin, method, path, body, status):
    add_row(admin, "row", {"Investor": "Row"})
    add_row(admin, "other", {"Investor": "Other"})
    comment = admin.post("/api/fundraising/rows/row/comments", {"body": "keep"}).json()["data"]
    before = admin.get("/api/fundraising/rows/row/comments").json()["data"]
    r = admin.request(method, path.replace("{id}", comment["id"]), body)
    assert r.status_code == status, r.text
    assert admin.get("/api/fundraising/rows/row/comments").json()["data"] == before


# -- the grid <-> classic CRM link ---------------------------------------------------------

def grid_people(client, row_id) -> list:
    return cells(client, row_id)[column_ids(client)["Contacts"]]


def test_grid_contacts_link_by_email_then_name_and_organization_else_create(server, admin):
    jane = admin.post("/api/contacts", {"first_name": "Jane", "last_name": "Roe", "email": "jane@lp.example"}).json()["data"]
    acme = admin.post("/api/organizations", {"name": "Acme Capital"}).json()["data"]
    other = admin.post("/api/organizations", {"name": "Other Org"}).json()["data"]
    decoy = admin.post("/api/contacts", {"first_name": "Raj", "last_name": "Patel", "organization_id": other["id"]}).json()["data"]
    raj = admin.post("/api/contacts", {"first_name": "Raj", "last_name": "Patel", "organization_id": acme["id"]}).json()["data"]
    total = classic_total(admin)

    # by email (any case), whatever the name says
    add_row(admin, "by-email", {"Investor": "LP One", "Contacts": [{"name": "Jane Q. Roe", "email": "JANE@lp.example"}]})
    [person] = grid_people(admin, "by-email")
    assert person["contact_id"] == jane["id"] and person["email"] == "jane@lp.example"
    # by name and organization (contacts sent before the organization in the same row)
    add_row(admin, "by-name", {"Contacts": [{"name": "raj patel"}], "Investor": "LP Two", "Organization": "acme capital"})
    assert grid_people(admin, "by-name")[0]["contact_id"] == raj["id"] != decoy["id"]
    assert classic_total(admin) == total

    # otherwise a classic contact is created, in the row's organization
    add_row(admin, "created", {"Investor": "LP Three", "Organization": "New Org LLC",
                               "Contacts": [{"name": "Ana Maria Lima", "email": "ana@new.example", "title": "CIO", "phone": "+1 555 0100"}]})
    ana_id = grid_people(admin, "created")[0]["contact_id"]
    assert ana_id and ana_id not in (jane["id"], raj["id"], decoy["id"])
    ana = classic(admin, ana_id)
    assert (ana["first_name"], ana["last_name"], ana["email"], ana["title"], ana["phone"]) == \
        ("Ana", "Maria Lima", "ana@new.example", "CIO", "+1 555 0100")
    assert ana["organization"]["name"] == "New Org LLC" and ana["source"] == "fundraising grid"
    assert classic_total(admin) == total + 1
    # the same name in the same organization, without an email, finds the one just created
    add_row(admin, "again", {"Investor": "LP Four", "Organization": "New Org LLC", "Contacts": [{"name": "Ana Maria Lima"}]})
    assert grid_people(admin, "again")[0]["contact_id"] == ana_id
    # a name in another organization is someone else
    add_row(admin, "elsewhere", {"Investor": "LP Five", "Organization": "Third Org", "Contacts": [{"name": "Raj Patel"}]})
    assert grid_people(admin, "elsewhere")[0]["contact_id"] not in (raj["id"], decoy["id"])
    assert classic_total(admin) == total + 2


def test_edits_flow_both_ways_through_the_link(server, admin):
    jane = admin.post("/api/contacts", {"first_name": "Jane", "last_name": "Roe", "email": "jane@lp.example"}).json()["data"]
    sam = admin.post("/api/contacts", {"first_name": "Sam", "last_name": "Oak", "email": "sam@lp.example"}).json()["data"]
    add_row(admin, "row", {"Investor": "LP", "Contacts": [{"name": "Jane Roe", "email": "jane@lp.example"}]})
    c = column_ids(admin)
    [person] = grid_people(admin, "row")

    # grid -> classic: the link is by id, so a new name or title updates the same contact
    set_cells(admin, "row", {"Contacts": [{**person, "name": "Janet Roe-Smith", "title": "Partner"}]})
    updated = classic(admin, jane["id"])
    assert (updated["first_name"], updated["last_name"], updated["title"]) == ("Janet", "Roe-Smith", "Partner")
    assert grid_people(admin, "row")[0]["contact_id"] == jane["id"]
    # taking another contact's email is refused rather than re-linking
    before = grid_fingerprint(admin)
    r = post_ops(admin, {"op": "set_cell", "row_id": "row", "column_id": c["Contacts"],
                         "value": [{**person, "email": "sam@lp.example"}]})
    assert r.status_code == 409, r.text
    assert grid_fingerprint(admin) == before and classic(admin, sam["id"])["email"] == "sam@lp.example"

    # classic -> grid: the cell follows, the version moves and the row history shows it
    version = state(admin)["version"]
    r = admin.patch(f"/api/contacts/{jane['id']}", {"first_name": "Mary Ann", "last_name": "Roe", "title": "Managing Partner"})
    assert r.status_code == 200, r.text
    [person] = grid_people(admin, "row")
    assert (person["name"], person["title"], person["contact_id"]) == ("Mary Ann Roe", "Managing Partner", jane["id"])
    assert state(admin)["version"] == version + 1
    latest = history(admin, "row")[0]
    assert latest["column_id"] == c["Contacts"] and latest["after"][0]["name"] == "Mary Ann Roe"
    assert latest["before"][0]["name"] == "Janet Roe-Smith"
    # the echo back from the grid leaves the classic contact as it was written
    again = classic(admin, jane["id"])
    assert (again["first_name"], again["last_name"], again["title"]) == ("Mary Ann", "Roe", "Managing Partner")
    # a classic edit of a contact that is in no grid cell leaves the grid alone
    version = state(admin)["version"]
    assert admin.patch(f"/api/contacts/{sam['id']}", {"title": "Analyst"}).status_code == 200
    assert state(admin)["version"] == version


# -- log-communication ------------------------------------------------------------------------

def test_log_communication_writes_a_classic_record_and_a_notes_line(server, admin):
    add_row(admin, "row", {"Investor": "LP", "Notes": "met at conference",
                           "Contacts": [{"name": "Jane Roe", "email": "jane@lp.example"}, {"name": "Sam Oak", "email": "sam@lp.example"}]})
    c = column_ids(admin)
    jane, sam = grid_people(admin, "row")
    version = state(admin)["version"]
    r = admin.post("/api/fundraising/log-communication", {
        "row_id": "row", "contact_id": sam["id"], "type": "call", "subject": "Intro call",
        "communication_date": "2026-02-03T10:00:00Z", "outcome": "positive"})
    assert r.status_code == 201, r.text
    answer = r.json()["data"]
    line = "2026-02-03 Call with Sam Oak: Intro call (admin)"
    assert answer["notes_line"] == line and answer["version"] == version + 1
    assert answer["communication"]["contact_id"] == sam["contact_id"]
    logged = admin.get(f"/api/contacts/{sam['contact_id']}/communications").json()["data"]
    assert [(x["id"], x["type"], x["subject"], x["outcome"]) for x in logged] == \
        [(answer["communication"]["id"], "call", "Intro call", "positive")]
    assert admin.get(f"/api/contacts/{jane['contact_id']}/communications").json()["total"] == 0
    assert cells(admin, "row")[c["Notes"]] == f"met at conference\n{line}"
    latest = history(admin, "row")[0]
    assert (latest["kind"], latest["column_id"], latest["before"], latest["after"], latest["actor"]) == \
        ("set_cell", c["Notes"], "met at conference", f"met at conference\n{line}", "admin")
    detail = admin.get("/api/fundraising/rows/row").json()["data"]
    assert [x["id"] for x in detail["communications"]] == [answer["communication"]["id"]]
    # without contact_id the row's first contact is used
    r = admin.post("/api/fundraising/log-communication", {"row_id": "row", "type": "email", "body": "Sent the deck\nmore"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["notes_line"].endswith("Email with Jane Roe: Sent the deck (admin)")
    assert admin.get(f"/api/contacts/{jane['contact_id']}/communications").json()["total"] == 1


@pytest.mark.parametrize("body, status, field", [
    ({"row_id": "bare", "type": "call"}, 422, "row_id"),
    ({"row_id": "ghost", "type": "call"}, 422, "row_id"),
    ({"row_id": "row", "type": "fax"}, 422, "type"),
    ({"type": "call"}, 422, "row_id"),
    ({"row_id": "row", "type": "call", "contact_id": "not-a-grid-contact"}, 422, "contact_id"),
    ({"row_id": "row", "type": "call", "mood": "good"}, 422, "mood"),
])
def test_bad_log_communication_changes_nothing(server, admin, body, status, field):
    add_row(admin, "row", {"Investor": "LP", "Notes": "n", "Contacts": [{"name": "Jane Roe", "email": "jane@lp.example"}]})
    add_row(admin, "bare", {"Investor": "No contacts"})
    contact_id = grid_people(admin, "row")[0]["contact_id"]
    before = grid_fingerprint(admin)
    r = admin.post("/api/fundraising/log-communication", body)
    assert r.status_code == status, r.text
    assert field in r.json()["fields"]
    assert grid_fingerprint(admin) == before
    assert admin.get(f"/api/contacts/{contact_id}/communications").json()["total"] == 0


# -- summary and activity -------------------------------------------------------------------------

def test_relational_summary_counts(server, admin):
    apply(admin, {"op": "add_column", "name": "Fund I", "type": "fund", "fund": {"vintage": 2024, "target": 5000000}},
          {"op": "add_column", "name": "Fund II", "type": "fund"})
    add_row(admin, "a", {"Investor": "A", "Fund I": 100, "Fund II": 7, "Contacts": [{"name": "Jane Roe", "email": "j@a.example"}]})
    add_row(admin, "b", {"Investor": "B", "Fund I": 250, "Graveyard": True, "Contacts": [{"name": "Sam Oak"}, {"name": "Al Bo"}]})
    add_row(admin, "c", {"Investor": "C"})
    apply(admin, {"op": "archive_row", "row_id": "c"})
    maria = server.add_user(admin, "maria")
    assert maria.post("/api/fundraising/views", {"name": "mine", "config": {}}).status_code == 201
    r = maria.get("/api/fundraising/relational-summary")
    assert r.status_code == 200, r.text
    s = r.json()["data"]
    assert (s["investors"], s["archived_investors"], s["columns"], s["contacts"], s["linked_contacts"],
            s["commitments"], s["views"]) == (2, 1, 12, 3, 3, 3, 4)
    assert s["lists"] == {"all": 2, "main": 1, "graveyard": 1}
    funds = {f["name"]: f for f in s["funds"]}
    assert (funds["Fund I"]["commitments"], funds["Fund I"]["committed"], funds["Fund I"]["vintage"]) == (2, 350, 2024)
    assert (funds["Fund II"]["commitments"], funds["Fund II"]["committed"]) == (1, 7)
    assert s["version"] == state(admin)["version"]


def test_activity_feed_merges_audit_runs_and_ops_newest_first(server, admin):
    add_row(admin, "a", {"Investor": "A"})
    view = admin.post("/api/fundraising/views", {"name": "Recent", "config": {}}).json()["data"]
    set_cells(admin, "a", {"Graveyard": True})
    r = admin.get("/api/fundraising/activity", params={"limit": 200})
    assert r.status_code == 200, r.text
    feed = r.json()["data"]
    stamps = [entry["at"] for entry in feed]
    assert stamps == sorted(stamps, reverse=True)
    sources = {entry["source"] for entry in feed}
    assert sources == {"audit", "automation", "grid"}
    assert any(e["source"] == "audit" and e["subject"] == f"fundraising_view:{view['id']}" and e["what"] == "create" for e in feed)
    version = state(admin)["version"]
    assert feed[0]["source"] in ("grid", "automation")
    assert any(e["source"] == "grid" and e["what"] == f"version {version}" for e in feed)
    assert any(e["source"] == "automation" and {"row_id": "a", "list": "graveyard", "member": True} in e["detail"] for e in feed)
    page = admin.get("/api/fundraising/activity", params={"limit": 2, "offset": 1}).json()["data"]
    assert page == feed[1:3]
