"""Grid views through HTTP: every filter operator class, nested groups, multi-sort, search, grouping,
pagination and its 1,000 cap, personal/shared visibility, locking, and config validation.

Every test builds its own small grid with POST /api/fundraising/ops on a fresh server.
"""
from datetime import datetime, timedelta, timezone

import pytest

TODAY = datetime.now(timezone.utc).date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


# -- helpers ------------------------------------------------------------------------

def state(client) -> dict:
    r = client.get("/api/fundraising/state")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def column_ids(client) -> dict:
    return {c["name"]: c["id"] for c in state(client)["grid"]["columns"]}


def apply(client, *ops) -> dict:
    r = client.post("/api/fundraising/ops", {"base_version": state(client)["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def make_view(client, config, name="v", **flags):
    r = client.post("/api/fundraising/views", {"name": name, "config": config, **flags})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def rows(client, view_id=None, **params):
    if view_id:
        params["view_id"] = view_id
    r = client.get("/api/fundraising/rows", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def names(client, view_id=None, **params) -> list:
    investor = column_ids(client)["Investor"]
    return [row["cells"].get(investor) for row in rows(client, view_id, **params)["data"]]


def views_snapshot(client) -> list:
    r = client.get("/api/fundraising/views")
    assert r.status_code == 200, r.text
    return r.json()["data"]


ALPHA, BETA, GAMMA, DELTA, EPSILON = "Alpha Ventures", "Beta Partners", "Gamma Capital", "delta fund", "Epsilon LP"
EVERYONE = {ALPHA, BETA, GAMMA, DELTA, EPSILON}


def build_grid(client) -> dict:
    """Five investors over every kind of column; returns {column name: id}."""
    apply(client,
          {"op": "add_column", "name": "Amount", "type": "number"},
          {"op": "add_column", "name": "Close", "type": "date"},
          {"op": "add_column", "name": "Stage", "type": "single_select", "options": ["Lead", "Pitch", "Term sheet"]},
          {"op": "add_column", "name": "Tags", "type": "multi_select", "options": ["climate", "fintech", "health"]},
          {"op": "add_column", "name": "Fund I", "type": "fund"},
          {"op": "add_column", "name": "Fund II", "type": "fund"})
    apply(client,
          {"op": "add_column", "name": "Double", "type": "formula", "formula": "{Amount} * 2"},
          {"op": "add_column", "name": "Label", "type": "formula", "formula": "UPPER({Investor})"},
          {"op": "add_column", "name": "Big", "type": "formula", "formula": "{Amount} > 100"},
          {"op": "add_column", "name": "Due", "type": "formula", "formula": "DATEADD({Close}, 7, 'days')"})
    c = column_ids(client)
    people = {
        ALPHA: {"Organization": "Acme", "Amount": 500, "Close": day(-30), "Stage": "Lead", "Tags": ["climate", "fintech"],
                "Contacts": [{"name": "Jane Roe", "email": "jane@alpha.example"}], "Fund I": 1000, "Fund II": 50},
        BETA: {"Organization": "Beta Group", "Amount": 50, "Close": day(30), "Stage": "Pitch", "Tags": ["fintech"],
               "Graveyard": True, "Contacts": [{"name": "Bob Stone", "title": "Partner"}], "Fund I": 200},
        GAMMA: {"Amount": 1500, "Close": day(0), "Stage": "Lead", "Tags": ["health"], "Fund II": 300},
        DELTA: {"Fund I": 5},
        EPSILON: {"Organization": "Acme", "Amount": 100, "Close": day(-400), "Stage": "Term sheet", "Tags": ["climate", "health"]},
    }
    apply(client, *({"op": "add_row", "cells": {c["Investor"]: name, **{c[k]: v for k, v in cells.items()}}}
                    for name, cells in people.items()))
    return c


def cond(column_id, operator, value=None):
    item = {"column_id": column_id, "operator": operator}
    if value is not None:
        item["value"] = value
    return item


# -- operators, one table per value class ---------------------------------------------

# (column, operator, value) -> the investors that match
OPERATOR_CASES = {
    "text": [
        ("Investor", "is", "alpha ventures", {ALPHA}),
        ("Investor", "is_not", "Alpha Ventures", EVERYONE - {ALPHA}),
        ("Investor", "contains", "AL", {ALPHA, GAMMA}),
        ("Investor", "does_not_contain", "a", {EPSILON}),
        ("Investor", "starts_with", "DEL", {DELTA}),
        ("Organization", "is_empty", None, {GAMMA, DELTA}),
        ("Organization", "is_not_empty", None, {ALPHA, BETA, EPSILON}),
    ],
    "number": [
        ("Amount", "=", 500, {ALPHA}),
        ("Amount", "!=", 500, EVERYONE - {ALPHA}),
        ("Amount", ">", 100, {ALPHA, GAMMA}),
        ("Amount", "<", 100, {BETA}),
        ("Amount", ">=", 100, {ALPHA, GAMMA, EPSILON}),
        ("Amount", "<=", 100, {BETA, EPSILON}),
        ("Amount", "between", [50, 500], {ALPHA, BETA, EPSILON}),
        ("Amount", "between", [100.5, 1500], {ALPHA, GAMMA}),
        ("Amount", "is_empty", None, {DELTA}),
        ("Amount", "is_not_empty", None, EVERYONE - {DELTA}),
        ("Fund I", ">", 100, {ALPHA, BETA}),
        ("Fund I", "is_empty", None, {GAMMA, EPSILON}),
    ],
    "date": [
        ("Close", "is", day(-30), {ALPHA}),
        ("Close", "is", "today", {GAMMA}),
        ("Close", "is_before", "today", {ALPHA, EPSILON}),
        ("Close", "is_after", "today", {BETA}),
        ("Close", "is_before", day(-100), {EPSILON}),
        ("Close", "is_after", day(-100), {ALPHA, BETA, GAMMA}),
        ("Close", "is_on_or_before", "today", {ALPHA, GAMMA, EPSILON}),
        ("Close", "is_on_or_after", "today", {GAMMA, BETA}),
        ("Close", "between", [day(-60), "today"], {ALPHA, GAMMA}),
        ("Close", "is_empty", None, {DELTA}),
        ("Close", "is_not_empty", None, EVERYONE - {DELTA}),
    ],
    "checkbox": [
        ("Graveyard", "is", True, {BETA}),
        ("Graveyard", "is", False, EVERYONE - {BETA}),
        ("Graveyard", "is_empty", None, EVERYONE - {BETA}),
        ("Graveyard", "is_not_empty", None, {BETA}),
    ],
    "single_select": [
        ("Stage", "is", "lead", {ALPHA, GAMMA}),
        ("Stage", "is_not", "Lead", {BETA, DELTA, EPSILON}),
        ("Stage", "is_any_of", ["Pitch", "term sheet"], {BETA, EPSILON}),
        ("Stage", "is_none_of", ["Lead"], {BETA, DELTA, EPSILON}),
        ("Stage", "is_empty", None, {DELTA}),
        ("Stage", "is_not_empty", None, EVERYONE - {DELTA}),
    ],
    "multi_select": [
        ("Tags", "has_any_of", ["climate"], {ALPHA, EPSILON}),
        ("Tags", "has_any_of", ["fintech", "HEALTH"], EVERYONE - {DELTA}),
        ("Tags", "has_all_of", ["climate", "health"], {EPSILON}),
        ("Tags", "has_none_of", ["climate"], {BETA, GAMMA, DELTA}),
        ("Tags", "is_empty", None, {DELTA}),
        ("Tags", "is_not_empty", None, EVERYONE - {DELTA}),
    ],
    "contacts": [
        ("Contacts", "contains", "jane", {ALPHA}),
        ("Contacts", "contains", "@ALPHA.example", {ALPHA}),
        ("Contacts", "contains", "partner", {BETA}),
        ("Contacts", "does_not_contain", "jane", EVERYONE - {ALPHA}),
        ("Contacts", "is_empty", None, {GAMMA, DELTA, EPSILON}),
        ("Contacts", "is_not_empty", None, {ALPHA, BETA}),
    ],
    "formula": [
        # number result: blank Amount counts as 0, so delta's Double is 0 (not empty)
        ("Double", ">", 200, {ALPHA, GAMMA}),
        ("Double", "<", 150, {BETA, DELTA}),
        ("Double", "between", [100, 1000], {ALPHA, BETA, EPSILON}),
        ("Double", "is_empty", None, set()),
        # text result
        ("Label", "contains", "alpha", {ALPHA}),
        ("Label", "is", "DELTA FUND", {DELTA}),
        # boolean result
        ("Big", "is", True, {ALPHA, GAMMA}),
        # date result: Close + 7 days
        ("Due", "is_after", "today", {BETA, GAMMA}),
        ("Due", "is", day(-23), {ALPHA}),
    ],
}


@pytest.mark.parametrize("kind", list(OPERATOR_CASES))
def test_every_operator_of_a_value_class_filters_rows(server, admin, kind):
    c = build_grid(admin)
    view = make_view(admin, {})
    for column, operator, value, expected in OPERATOR_CASES[kind]:
        config = {"filters": {"conjunction": "and", "conditions": [cond(c[column], operator, value)]}}
        r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": config})
        assert r.status_code == 200, (column, operator, value, r.text)
        found = names(admin, view["id"])
        assert set(found) == expected, (column, operator, value, found)
        assert len(found) == len(expected)


def test_formula_columns_are_filtered_by_their_result_type(server, admin):
    c = build_grid(admin)
    by_id = {col["id"]: col for col in state(admin)["grid"]["columns"]}
    assert by_id[c["Double"]]["type"] == "formula"
    # a number-only operator on a text formula, and a text operator on a number formula, are refused
    for column, operator, value in (("Label", ">", 3), ("Double", "contains", "1"), ("Big", ">", 1), ("Due", "contains", "x")):
        r = admin.post("/api/fundraising/views", {"name": "bad", "config": {
            "filters": {"conjunction": "and", "conditions": [cond(c[column], operator, value)]}}})
        assert r.status_code == 422, (column, r.text)
        assert "config.filters.conditions[0].operator" in r.json()["fields"]


# -- groups, sorting, search ------------------------------------------------------------

def test_nested_and_or_groups(server, admin):
    c = build_grid(admin)
    cases = [
        # (Lead OR tagged health) AND Amount > 200
        ({"conjunction": "and", "conditions": [
            {"conjunction": "or", "conditions": [cond(c["Stage"], "is", "Lead"), cond(c["Tags"], "has_any_of", ["health"])]},
            cond(c["Amount"], ">", 200)]}, {ALPHA, GAMMA}),
        # (Amount > 1000 AND Lead) OR graveyard
        ({"conjunction": "or", "conditions": [
            {"conjunction": "and", "conditions": [cond(c["Amount"], ">", 1000), cond(c["Stage"], "is", "Lead")]},
            cond(c["Graveyard"], "is", True)]}, {GAMMA, BETA}),
        # three levels: Acme AND (climate AND (Amount < 200 OR Amount is empty))
        ({"conjunction": "and", "conditions": [
            cond(c["Organization"], "is", "acme"),
            {"conjunction": "and", "conditions": [
                cond(c["Tags"], "has_any_of", ["climate"]),
                {"conjunction": "or", "conditions": [cond(c["Amount"], "<", 200), cond(c["Amount"], "is_empty")]}]}]},
         {EPSILON}),
        # an empty OR group matches everything; an empty filter too
        ({"conjunction": "or", "conditions": []}, EVERYONE),
        ({}, EVERYONE),
    ]
    for filters, expected in cases:
        view = make_view(admin, {"filters": filters})
        assert set(names(admin, view["id"])) == expected, filters


def test_multi_column_sort_puts_blanks_last_in_both_directions(server, admin):
    c = build_grid(admin)
    cases = [
        ([{"column_id": c["Amount"], "direction": "asc"}], [BETA, EPSILON, ALPHA, GAMMA, DELTA]),
        ([{"column_id": c["Amount"], "direction": "desc"}], [GAMMA, ALPHA, EPSILON, BETA, DELTA]),
        ([{"column_id": c["Stage"], "direction": "asc"}, {"column_id": c["Amount"], "direction": "desc"}],
         [GAMMA, ALPHA, BETA, EPSILON, DELTA]),
        ([{"column_id": c["Stage"], "direction": "desc"}, {"column_id": c["Amount"], "direction": "asc"}],
         [EPSILON, BETA, ALPHA, GAMMA, DELTA]),
        # ties keep grid order; blank organizations last
        ([{"column_id": c["Organization"], "direction": "asc"}], [ALPHA, EPSILON, BETA, GAMMA, DELTA]),
        ([{"column_id": c["Close"], "direction": "desc"}], [BETA, GAMMA, ALPHA, EPSILON, DELTA]),
        # text sorts ignore case: "delta fund" sits between Beta and Epsilon
        ([{"column_id": c["Investor"], "direction": "asc"}], [ALPHA, BETA, DELTA, EPSILON, GAMMA]),
    ]
    for sorts, expected in cases:
        view = make_view(admin, {"sorts": sorts})
        assert names(admin, view["id"]) == expected, sorts


def test_q_searches_every_cell_and_combines_with_the_view(server, admin):
    c = build_grid(admin)
    assert set(names(admin, q="acme")) == {ALPHA, EPSILON}
    assert names(admin, q="JANE") == [ALPHA]                   # a contact's name
    assert names(admin, q="alpha.example") == [ALPHA]          # a contact's email
    assert set(names(admin, q="climate")) == {ALPHA, EPSILON}  # a multi-select item
    assert names(admin, q="acme climate 500") == [ALPHA]       # every word must match somewhere
    empty = rows(admin, q="no-such-words")
    assert empty["data"] == [] and empty["total"] == 0
    view = make_view(admin, {"filters": {"conjunction": "and", "conditions": [cond(c["Amount"], "<", 200)]},
                             "sorts": [{"column_id": c["Amount"], "direction": "desc"}]})
    assert names(admin, view["id"], q="acme") == [EPSILON]
    assert names(admin, view["id"]) == [EPSILON, BETA]


def test_group_by_answers_groups_with_counts_and_fund_sums(server, admin):
    c = build_grid(admin)
    view = make_view(admin, {"group_by": c["Stage"], "sorts": [{"column_id": c["Amount"], "direction": "desc"}]})
    answer = rows(admin, view["id"])
    assert answer["total"] == 5
    groups = {g["key"]: g for g in answer["groups"]}
    assert [g["key"] for g in answer["groups"]] == ["Lead", "Term sheet", "Pitch", ""]  # order of the sorted rows
    assert {k: g["count"] for k, g in groups.items()} == {"Lead": 2, "Term sheet": 1, "Pitch": 1, "": 1}
    assert groups["Lead"]["sums"][c["Fund I"]] == 1000 and groups["Lead"]["sums"][c["Fund II"]] == 350
    assert groups["Pitch"]["sums"][c["Fund I"]] == 200 and groups["Pitch"]["sums"][c["Fund II"]] == 0
    assert groups["Term sheet"]["sums"][c["Fund I"]] == 0
    assert groups[""]["sums"][c["Fund I"]] == 5
    # groups describe every matching row even when the page is smaller
    paged = rows(admin, view["id"], limit=1)
    assert len(paged["data"]) == 1 and sum(g["count"] for g in paged["groups"]) == 5
    # with a filter, groups only count what matches
    filtered = make_view(admin, {"group_by": c["Stage"], "filters": {"conjunction": "and", "conditions": [
        cond(c["Graveyard"], "is", False)]}})
    keys = {g["key"]: g["count"] for g in rows(admin, filtered["id"])["groups"]}
    assert keys == {"Lead": 2, "Term sheet": 1, "": 1}
    # without group_by there are no groups
    assert "groups" not in rows(admin)


def test_pagination_and_the_1000_row_cap(server, admin):
    c = build_grid(admin)
    view = make_view(admin, {"sorts": [{"column_id": c["Amount"], "direction": "asc"}]})
    pages = [rows(admin, view["id"], limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [[r["cells"][c["Investor"]] for r in p["data"]] for p in pages] == [[BETA, EPSILON], [ALPHA, GAMMA], [DELTA], []]
    assert {p["total"] for p in pages} == {5}
    assert (pages[1]["limit"], pages[1]["offset"]) == (2, 2)
    apply(admin, *({"op": "add_row", "cells": {c["Investor"]: f"Bulk {i:04d}", c["Amount"]: i}} for i in range(1000)))
    first = rows(admin)
    assert first["total"] == 1005 and len(first["data"]) == 1000 and first["limit"] == 1000
    rest = rows(admin, limit=1000, offset=1000)
    assert rest["total"] == 1005 and len(rest["data"]) == 5
    seen = [r["id"] for r in first["data"] + rest["data"]]
    assert len(set(seen)) == 1005


@pytest.mark.parametrize("params, field", [
    ({"limit": "1001"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "x"}, "offset"),
])
def test_bad_page_parameters_are_422(server, admin, params, field):
    r = admin.get("/api/fundraising/rows", params=params)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]


def test_unknown_view_is_404(server, admin):
    build_grid(admin)
    assert admin.get("/api/fundraising/rows", params={"view_id": "no-such-view"}).status_code == 404


def test_view_settings_round_trip(server, admin):
    c = build_grid(admin)
    config = {"filters": {"conjunction": "and", "conditions": [cond(c["Amount"], ">", 0)]},
              "sorts": [{"column_id": c["Amount"], "direction": "desc"}, {"column_id": c["Investor"], "direction": "asc"}],
              "hidden": [c["Notes"], c["Owner"]], "order": [c["Amount"], c["Investor"]],
              "widths": {c["Investor"]: 240, c["Amount"]: 90}, "frozen": 2, "group_by": c["Stage"], "row_height": "tall"}
    view = make_view(admin, config, name="Pipeline")
    assert view["config"] == config and view["shared"] is False and view["locked"] is False
    listed = {v["id"]: v for v in views_snapshot(admin)}
    assert listed[view["id"]]["config"] == config
    assert any(v["id"] == view["id"] for v in state(admin)["views"])
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"name": "Renamed", "config": {**config, "frozen": 0}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "Renamed" and r.json()["data"]["config"]["frozen"] == 0
    r = admin.delete(f"/api/fundraising/views/{view['id']}")
    assert r.status_code == 200 and view["id"] not in {v["id"] for v in views_snapshot(admin)}
    assert admin.get("/api/fundraising/rows", params={"view_id": view["id"]}).status_code == 404


def test_rows_api_and_export_use_the_same_engine(server, admin):
    c = build_grid(admin)
    view = make_view(admin, {"filters": {"conjunction": "or", "conditions": [
        cond(c["Tags"], "has_any_of", ["climate"]), cond(c["Graveyard"], "is", True)]},
        "sorts": [{"column_id": c["Amount"], "direction": "asc"}]})
    api = [r["id"] for r in rows(admin, view["id"])["data"]]
    r = admin.get("/api/fundraising/export", params={"view_id": view["id"], "format": "json"})
    assert r.status_code == 200, r.text
    assert [row["id"] for row in r.json()["data"]["rows"]] == api
    assert names(admin, view["id"]) == [BETA, EPSILON, ALPHA]


# -- who sees and changes which view ---------------------------------------------------

def test_personal_views_are_invisible_to_others_and_shared_ones_visible(server, admin):
    c = build_grid(admin)
    maria = server.add_user(admin, "maria")
    personal = make_view(maria, {"filters": {"conjunction": "and", "conditions": [cond(c["Stage"], "is", "Lead")]}}, name="Mine")
    shared = make_view(maria, {"sorts": [{"column_id": c["Amount"], "direction": "asc"}]}, name="Team", shared=True)
    assert set(names(maria, personal["id"])) == {ALPHA, GAMMA}
    mine = {v["id"] for v in views_snapshot(maria)}
    assert {personal["id"], shared["id"]} <= mine
    admin_sees = {v["id"] for v in views_snapshot(admin)}
    assert shared["id"] in admin_sees and personal["id"] not in admin_sees
    assert personal["id"] not in {v["id"] for v in state(admin)["views"]}
    before = views_snapshot(maria)
    assert admin.get("/api/fundraising/rows", params={"view_id": personal["id"]}).status_code == 404
    assert admin.patch(f"/api/fundraising/views/{personal['id']}", {"name": "taken"}).status_code == 404
    assert admin.delete(f"/api/fundraising/views/{personal['id']}").status_code == 404
    assert admin.get("/api/fundraising/export", params={"view_id": personal["id"]}).status_code == 404
    assert views_snapshot(maria) == before
    assert names(admin, shared["id"]) == [BETA, EPSILON, ALPHA, GAMMA, DELTA]


def test_locked_shared_view_changes_only_by_owner_or_admin(server, admin):
    c = build_grid(admin)
    maria = server.add_user(admin, "maria")
    bob = server.add_user(admin, "bob")
    view = make_view(maria, {"frozen": 1}, name="Board", shared=True, locked=True)
    before = views_snapshot(maria)
    for attempt in (lambda: bob.patch(f"/api/fundraising/views/{view['id']}", {"config": {"frozen": 3}}),
                    lambda: bob.patch(f"/api/fundraising/views/{view['id']}", {"name": "Mine now"}),
                    lambda: bob.patch(f"/api/fundraising/views/{view['id']}", {"locked": False}),
                    lambda: bob.delete(f"/api/fundraising/views/{view['id']}")):
        r = attempt()
        assert r.status_code == 403, r.text
    assert views_snapshot(maria) == before
    r = maria.patch(f"/api/fundraising/views/{view['id']}", {"config": {"frozen": 2}})
    assert r.status_code == 200 and r.json()["data"]["config"]["frozen"] == 2
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": {"frozen": 3, "group_by": c["Stage"]}})
    assert r.status_code == 200 and r.json()["data"]["config"]["frozen"] == 3
    # unlocked, a shared view may be edited by anyone, but only its owner or an admin may lock or delete it
    assert maria.patch(f"/api/fundraising/views/{view['id']}", {"locked": False}).status_code == 200
    r = bob.patch(f"/api/fundraising/views/{view['id']}", {"config": {"frozen": 4}})
    assert r.status_code == 200 and r.json()["data"]["config"]["frozen"] == 4
    assert bob.patch(f"/api/fundraising/views/{view['id']}", {"locked": True}).status_code == 403
    assert bob.delete(f"/api/fundraising/views/{view['id']}").status_code == 403
    assert admin.delete(f"/api/fundraising/views/{view['id']}").status_code == 200
    assert view["id"] not in {v["id"] for v in views_snapshot(bob)}


# -- validation -----------------------------------------------------------------------------

def _bad_configs(c):
    ok = cond(c["Amount"], ">", 1)
    return [
        ({"filters": ["not", "a", "group"]}, "config.filters"),
        ({"filters": {"conjunction": "xor", "conditions": [ok]}}, "config.filters.conjunction"),
        ({"filters": {"conjunction": "and", "conditions": [cond("nope", "is", "x")]}}, "config.filters.conditions[0].column_id"),
        ({"filters": {"conjunction": "and", "conditions": [ok, cond(c["Investor"], ">", 3)]}}, "config.filters.conditions[1].operator"),
        ({"filters": {"conjunction": "and", "conditions": [ok, {"conjunction": "or", "conditions": [
            cond(c["Amount"], "between", [1])]}]}}, "config.filters.conditions[1].conditions[0].value"),
        ({"filters": {"conjunction": "and", "conditions": [cond(c["Amount"], ">", "ten")]}}, "config.filters.conditions[0].value"),
        ({"filters": {"conjunction": "and", "conditions": [cond(c["Close"], "is_before", "soon")]}}, "config.filters.conditions[0].value"),
        ({"filters": {"conjunction": "and", "conditions": [cond(c["Graveyard"], "is", "yes")]}}, "config.filters.conditions[0].value"),
        ({"filters": {"conjunction": "and", "conditions": [cond(c["Tags"], "has_any_of", "climate")]}},
         "config.filters.conditions[0].value"),
        ({"filters": {"conjunction": "and", "conditions": ["Amount > 1"]}}, "config.filters.conditions[0]"),
        ({"filters": {"conjunction": "and", "conditions": [{"conditions": [{"conditions": [{"conditions": [
            {"conditions": [{"conditions": [ok]}]}]}]}]}]}}, "config.filters.conditions[0].conditions[0].conditions[0].conditions[0].conditions[0]"),
        ({"sorts": [{"column_id": "nope"}]}, "config.sorts[0].column_id"),
        ({"sorts": [{"column_id": c["Amount"], "direction": "up"}]}, "config.sorts[0].direction"),
        ({"hidden": ["nope"]}, "config.hidden"),
        ({"order": "Amount"}, "config.order"),
        ({"widths": {c["Amount"]: 10}}, "config.widths"),
        ({"frozen": 11}, "config.frozen"),
        ({"frozen": True}, "config.frozen"),
        ({"group_by": "nope"}, "config.group_by"),
        ({"row_height": "huge"}, "config.row_height"),
        ({"colour": "red"}, "config.colour"),
    ]


def test_bad_view_configs_are_422_naming_the_path_and_change_nothing(server, admin):
    c = build_grid(admin)
    existing = make_view(admin, {"frozen": 1}, name="Keep")
    before = views_snapshot(admin)
    for config, path in _bad_configs(c):
        r = admin.post("/api/fundraising/views", {"name": "bad", "config": config})
        assert r.status_code == 422, (config, r.text)
        assert path in r.json()["fields"], (path, r.json())
        r = admin.patch(f"/api/fundraising/views/{existing['id']}", {"config": config})
        assert r.status_code == 422, (config, r.text)
        assert path in r.json()["fields"], (path, r.json())
    assert views_snapshot(admin) == before


@pytest.mark.parametrize("body, field", [
    ({"config": {}}, "name"),
    ({"name": "", "config": {}}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": "v", "shared": "yes"}, "shared"),
    ({"name": "v", "config": []}, "config"),
    ({"name": "v", "owner_id": "someone"}, "owner_id"),
])
def test_bad_view_bodies_are_422_and_change_nothing(server, admin, body, field):
    before = views_snapshot(admin)
    r = admin.post("/api/fundraising/views", body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert views_snapshot(admin) == before


def test_single_selects_sort_in_their_options_order_not_alphabetically(server, admin):
    apply(admin, {"op": "add_column", "name": "Stage", "type": "single_select", "options": ["Prospect", "Meeting", "Committed"]})
    c = column_ids(admin)
    apply(admin, *({"op": "add_row", "cells": {c["Investor"]: name, c["Stage"]: stage}}
                   for name, stage in [("A", "Committed"), ("B", None), ("C", "Prospect"), ("D", "Meeting")]))
    view = make_view(admin, {"sorts": [{"column_id": c["Stage"], "direction": "asc"}]})
    assert names(admin, view["id"]) == ["C", "D", "A", "B"]  # pipeline order, blanks last
    view = make_view(admin, {"sorts": [{"column_id": c["Stage"], "direction": "desc"}]})
    assert names(admin, view["id"]) == ["A", "D", "C", "B"]


def test_a_view_saved_with_ids_of_since_deleted_columns_drops_them_but_unknown_ids_are_refused(server, admin):
    apply(admin, {"op": "add_column", "column_id": "gone", "name": "Gone", "type": "number"},
          {"op": "add_column", "column_id": "kept", "name": "Kept", "type": "number"})
    config = {"hidden": ["gone", "kept"], "order": ["kept", "gone"], "widths": {"gone": 120, "kept": 90},
              "sorts": [{"column_id": "gone", "direction": "asc"}, {"column_id": "kept", "direction": "desc"}],
              "group_by": "gone",
              "filters": {"conjunction": "and", "conditions": [{"column_id": "gone", "operator": ">", "value": 1},
                                                               {"column_id": "kept", "operator": ">", "value": 2}]}}
    view = make_view(admin, config)
    apply(admin, {"op": "delete_column", "column_id": "gone"})
    # The client still holds the old config and saves a change to it.
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": {**config, "frozen": 2}})
    assert r.status_code == 200, r.text
    saved = r.json()["data"]["config"]
    assert saved == {"hidden": ["kept"], "order": ["kept"], "widths": {"kept": 90}, "frozen": 2, "group_by": None,
                     "sorts": [{"column_id": "kept", "direction": "desc"}],
                     "filters": {"conjunction": "and", "conditions": [{"column_id": "kept", "operator": ">", "value": 2}]}}
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": {**config, "hidden": ["never-was"]}})
    assert r.status_code == 422 and "config.hidden" in r.json()["fields"]
