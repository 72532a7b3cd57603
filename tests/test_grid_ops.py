"""The fundraising grid's write path: POST /api/fundraising/ops and the PUT /state compatibility save.

Every op kind, every column type and its value rules, atomicity (a bad op
anywhere applies nothing), one version per request, per-cell conflicts between
users, editing locks and their expiry, the paste cap, and the whole-grid PUT
(stale → 409, diffed into ops, ids stable, missing rows archived).
"""
import uuid

import pytest

from conftest import serving
from crm.db import connect

OPS = "/api/fundraising/ops"
STATE = "/api/fundraising/state"


# -- helpers ------------------------------------------------------------------------

def get_state(client) -> dict:
    r = client.get(STATE)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def send(client, base, *ops):
    return client.post(OPS, {"base_version": base, "ops": list(ops)})


def apply_ok(client, *ops, base=None) -> dict:
    base = get_state(client)["version"] if base is None else base
    r = send(client, base, *ops)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def keys(state) -> dict:
    return {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}


def row_of(state, row_id) -> dict:
    found = [r for r in state["grid"]["rows"] if r["id"] == row_id]
    assert found, f"row {row_id} is not in the state"
    return found[0]


def cell(client, row_id, column_id):
    return row_of(get_state(client), row_id)["cells"].get(column_id)


def row_order(state) -> list:
    return [r["id"] for r in state["grid"]["rows"]]


def column_order(state) -> list:
    return [c["id"] for c in state["grid"]["columns"]]


def changes(client, since) -> list:
    r = client.get("/api/fundraising/changes", params={"since": since})
    assert r.status_code == 200, r.text
    return r.json()["data"]["ops"]


def new_id() -> str:
    return str(uuid.uuid4())


def sql(server, query, params=()):
    conn = connect(server.config.db_path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


# One custom column of every editable type: (type, extra add_column fields, a value sent, the value then held).
EDITABLE = [
    ("text", {}, "Sequoia", "Sequoia"),
    ("long_text", {}, "first line\nsecond line", "first line\nsecond line"),
    ("number", {}, 42.5, 42.5),
    ("currency", {"config": {"currency": "USD"}}, 1_000_000, 1_000_000),
    ("percent", {}, 0.25, 0.25),
    ("date", {}, "2026-01-31", "2026-01-31"),
    ("checkbox", {}, True, True),
    ("single_select", {"options": ["Hot", "Cold"]}, "hot", "Hot"),
    ("multi_select", {"options": ["Alpha", "Beta"]}, ["beta", "Alpha", "beta"], ["Beta", "Alpha"]),
    ("email", {}, " Ann@Example.COM ", "ann@example.com"),
    ("url", {}, "https://example.com/deck", "https://example.com/deck"),
    ("phone", {}, "+1 555 0100", "+1 555 0100"),
    ("fund", {"fund": {"vintage": 2026, "target": 50_000_000, "close_date": "2026-12-31"}}, 250_000, 250_000),
]
COMPUTED = ("formula", "created_time", "last_modified_time", "last_modified_by")
ALL_TYPES = [t for t, *_ in EDITABLE] + ["contacts", *COMPUTED]


def cid(type_) -> str:
    return f"col-{type_}"


def typed_columns_ops() -> list:
    """add_column ops for one column of every type; the formula reads Number and Currency."""
    ops = [{"op": "add_column", "column_id": cid(t), "name": t.replace("_", " ").title(), "type": t, **extra}
           for t, extra, _, _ in EDITABLE]
    ops.append({"op": "add_column", "column_id": cid("contacts"), "name": "People", "type": "contacts"})
    ops.append({"op": "add_column", "column_id": cid("formula"), "name": "Formula", "type": "formula",
                "formula": "{Number} * 2 + {Currency}"})
    ops += [{"op": "add_column", "column_id": cid(t), "name": t.replace("_", " ").title(), "type": t}
            for t in COMPUTED[1:]]
    return ops


def test_add_column_of_every_type_and_set_its_cells(server, admin):
    before = get_state(admin)["version"]
    result = apply_ok(admin, *typed_columns_ops())
    assert result["version"] == before + 1
    state = get_state(admin)
    by_id = {c["id"]: c for c in state["grid"]["columns"]}
    assert {by_id[cid(t)]["type"] for t in ALL_TYPES} == set(ALL_TYPES) and len(ALL_TYPES) == 18
    assert column_order(state)[-len(ALL_TYPES):] == [cid(t) for t, *_ in EDITABLE] + [cid("contacts"), *map(cid, COMPUTED)]
    assert [o["name"] for o in by_id[cid("single_select")]["options"]] == ["Hot", "Cold"]
    assert [o["name"] for o in by_id[cid("multi_select")]["options"]] == ["Alpha", "Beta"]
    fund = by_id[cid("fund")]["fund"]
    assert (fund["name"], fund["vintage"], fund["target"], fund["close_date"]) == ("Fund", 2026, 50_000_000, "2026-12-31")
    assert by_id[cid("formula")]["formula"] == "{Number} * 2 + {Currency}"
    assert by_id[cid("currency")]["config"] == {"currency": "USD"}

    row_id = new_id()
    cells = {cid(t): sent for t, _, sent, _ in EDITABLE}
    cells[cid("contacts")] = [{"name": "Ann Lee", "email": "Ann@Example.com", "title": "Partner"}]
    apply_ok(admin, {"op": "add_row", "row_id": row_id, "cells": cells})
    row = row_of(get_state(admin), row_id)
    for type_, _, _, held in EDITABLE:
        assert row["cells"][cid(type_)] == held, type_
    [person] = row["cells"][cid("contacts")]
    assert (person["name"], person["email"], person["phone"], person["title"]) == ("Ann Lee", "ann@example.com", None, "Partner")
    assert person["id"] and person["contact_id"]  # its own stable id, and linked to a classic contact
    assert row["cells"][cid("formula")] == 42.5 * 2 + 1_000_000
    assert row["cells"][cid("created_time")] == row["created_at"]
    assert row["cells"][cid("last_modified_time")] == row["updated_at"]
    assert row["cells"][cid("last_modified_by")] == "admin"

    maria = server.add_user(admin, "maria")
    apply_ok(maria, {"op": "set_cell", "row_id": row_id, "column_id": cid("number"), "value": 1})
    row = row_of(get_state(admin), row_id)
    assert row["cells"][cid("last_modified_by")] == "maria"
    assert row["cells"][cid("formula")] == 1 * 2 + 1_000_000  # recomputed from the edit
    assert row["cells"][cid("last_modified_time")] == row["updated_at"] >= row["created_at"]


def test_set_cell_on_every_well_known_column(admin):
    state = get_state(admin)
    k = keys(state)
    row_id = new_id()
    apply_ok(admin, {"op": "add_row", "row_id": row_id})
    values = {"name": "Ada Ventures", "organization": "Ada Holdings", "lead_source": "Referral", "owner": "maria",
              "status": "Meeting", "notes": "warm intro", "graveyard": True, "follow_up": "2026-03-01", "longshot": True}
    version = get_state(admin)["version"]
    result = apply_ok(admin, *[{"op": "set_cell", "row_id": row_id, "column_id": k[key], "value": v} for key, v in values.items()])
    assert result["version"] == version + 1 and result["applied"] == len(values)
    cells = row_of(get_state(admin), row_id)["cells"]
    assert {key: cells[k[key]] for key in values} == values
    logged = changes(admin, version)
    assert {op["version"] for op in logged} == {version + 1}
    assert sorted(op["column_id"] for op in logged if op["kind"] == "set_cell") == sorted(k[key] for key in values)
    # Clearing: None (or "") empties a text cell, False a checkbox.
    apply_ok(admin, {"op": "set_cell", "row_id": row_id, "column_id": k["notes"], "value": ""},
             {"op": "set_cell", "row_id": row_id, "column_id": k["graveyard"], "value": None})
    cells = row_of(get_state(admin), row_id)["cells"]
    assert cells[k["notes"]] is None and cells[k["graveyard"]] is False


def test_add_row_places_rows_and_a_row_without_cells_gets_its_formulas(admin):
    apply_ok(admin, {"op": "add_column", "column_id": "amount", "name": "Amount", "type": "number"},
             {"op": "add_column", "column_id": "double", "name": "Double", "type": "formula", "formula": "{Amount} * 2 + 1"})
    a, b, c, d = (new_id() for _ in range(4))
    apply_ok(admin, {"op": "add_row", "row_id": a, "cells": {"amount": 5}})
    apply_ok(admin, {"op": "add_row", "row_id": b})                         # at the end
    apply_ok(admin, {"op": "add_row", "row_id": c, "after_row_id": a})      # between a and b
    apply_ok(admin, {"op": "add_row", "row_id": d, "after_row_id": ""})     # at the start
    state = get_state(admin)
    assert row_order(state) == [d, a, c, b]
    assert row_of(state, a)["cells"]["double"] == 11
    for empty in (b, c, d):  # blank is 0 in arithmetic: every new row shows its formula's value
        assert row_of(state, empty)["cells"]["double"] == 1, empty
    # A row added without cells is in the rule-maintained "all" list like any other.
    listed = admin.get("/api/fundraising/lists/all").json()["data"]
    assert {r["id"] for r in listed["rows"]} == {a, b, c, d}


def test_move_row_ordering(admin):
    a, b, c = (new_id() for _ in range(3))
    apply_ok(admin, *[{"op": "add_row", "row_id": r} for r in (a, b, c)])
    assert row_order(get_state(admin)) == [a, b, c]
    steps = [
        ({"row_id": c, "after_row_id": a}, [a, c, b]),
        ({"row_id": b, "after_row_id": ""}, [b, a, c]),
        ({"row_id": b}, [a, c, b]),                       # no anchor: to the end
        ({"row_id": a, "after_row_id": b}, [c, b, a]),
        ({"row_id": a, "after_row_id": c}, [c, a, b]),
    ]
    for move, expected in steps:
        version = get_state(admin)["version"]
        result = apply_ok(admin, {"op": "move_row", **move})
        assert result["version"] == version + 1
        assert row_order(get_state(admin)) == expected, move


def test_move_column_ordering(admin):
    apply_ok(admin, *[{"op": "add_column", "column_id": n, "name": n.upper(), "type": "text"} for n in ("x", "y", "z")])
    builtin = column_order(get_state(admin))[:-3]
    first = builtin[0]
    steps = [
        ({"column_id": "z", "after_column_id": "x"}, builtin + ["x", "z", "y"]),
        ({"column_id": "y", "after_column_id": ""}, ["y"] + builtin + ["x", "z"]),
        ({"column_id": "y"}, builtin + ["x", "z", "y"]),
        ({"column_id": first, "after_column_id": "z"}, builtin[1:] + ["x", "z", first, "y"]),
    ]
    for move, expected in steps:
        version = get_state(admin)["version"]
        assert apply_ok(admin, {"op": "move_column", **move})["version"] == version + 1
        assert column_order(get_state(admin)) == expected, move


def test_update_column_renames_reoptions_retypes_and_updates_fund(server, admin):
    row = new_id()
    apply_ok(admin,
             {"op": "add_column", "column_id": "amt", "name": "Amount", "type": "number"},
             {"op": "add_column", "column_id": "tier", "name": "Tier", "type": "single_select", "options": ["Gold", "Silver"]},
             {"op": "add_column", "column_id": "f1", "name": "Fund I", "type": "fund"},
             {"op": "add_column", "column_id": "calc", "name": "Calc", "type": "formula", "formula": "{Fund I} + 1"},
             {"op": "add_row", "row_id": row, "cells": {"amt": 12, "tier": "Gold", "f1": 100}})
    state = get_state(admin)
    gold = next(o for o in next(c for c in state["grid"]["columns"] if c["id"] == "tier")["options"] if o["name"] == "Gold")
    apply_ok(admin,
             {"op": "update_column", "column_id": "amt", "type": "text", "name": "Amount USD"},
             {"op": "update_column", "column_id": "tier", "options": [{"id": gold["id"], "name": "Platinum"}]},
             {"op": "update_column", "column_id": "f1", "name": "Fund One", "fund": {"vintage": 2024, "target": 1000}})
    state = get_state(admin)
    columns = {c["id"]: c for c in state["grid"]["columns"]}
    cells = row_of(state, row)["cells"]
    assert columns["amt"]["type"] == "text" and columns["amt"]["name"] == "Amount USD" and cells["amt"] == "12"
    assert [o["name"] for o in columns["tier"]["options"]] == ["Platinum"] and cells["tier"] == "Platinum"
    assert columns["f1"]["fund"]["vintage"] == 2024 and columns["f1"]["fund"]["target"] == 1000
    assert columns["calc"]["formula"] == "{Fund One} + 1" and cells["calc"] == 101  # the rename followed into the formula
    [fund] = sql(server, "SELECT name, vintage, target FROM fundraising_funds WHERE column_id = 'f1'")
    assert fund == {"name": "Fund One", "vintage": 2024, "target": 1000}  # a fund named after its column follows a rename


def test_a_filled_text_column_becomes_a_select_with_the_options_sent_or_one_per_value(server, admin):
    rows = [new_id() for _ in range(4)]
    apply_ok(admin, {"op": "add_column", "column_id": "stage", "name": "Stage", "type": "text"},
             {"op": "add_column", "column_id": "tags", "name": "Tags", "type": "text"},
             *({"op": "add_row", "row_id": r, "cells": {"stage": s, "tags": t}} for r, s, t in
               zip(rows, ["Lead", "pitch", None, "Lead"], ["a, b", "b", "c", None])))
    # Options sent with the retype are the ones cells are matched against (case-insensitively).
    apply_ok(admin, {"op": "update_column", "column_id": "stage", "type": "single_select",
                     "options": [{"name": "Pitch"}, {"name": "Lead"}]})
    # None sent: one option per distinct value, in order of appearance.
    apply_ok(admin, {"op": "update_column", "column_id": "tags", "type": "multi_select"})
    state = get_state(admin)
    columns = {c["id"]: c for c in state["grid"]["columns"]}
    assert [o["name"] for o in columns["stage"]["options"]] == ["Pitch", "Lead"]
    assert [o["name"] for o in columns["tags"]["options"]] == ["a", "b", "c"]
    assert [row_of(state, r)["cells"].get("stage") for r in rows] == ["Lead", "Pitch", None, "Lead"]
    assert [row_of(state, r)["cells"].get("tags") for r in rows] == [["a", "b"], ["b"], ["c"], None]
    # Options that leave a value out: refused, nothing changes.
    r = send(admin, state["version"], {"op": "update_column", "column_id": "stage", "type": "text"},
             {"op": "update_column", "column_id": "tags", "type": "single_select", "options": [{"name": "a"}]})
    assert r.status_code == 422 and "not valid as single_select" in r.text
    assert get_state(admin)["grid"] == state["grid"]


def test_delete_column_is_soft(server, admin):
    row = new_id()
    apply_ok(admin, {"op": "add_column", "column_id": "tmp", "name": "Temp", "type": "text"},
             {"op": "add_row", "row_id": row, "cells": {"tmp": "keep me"}})
    version = get_state(admin)["version"]
    assert apply_ok(admin, {"op": "delete_column", "column_id": "tmp"})["version"] == version + 1
    state = get_state(admin)
    assert "tmp" not in column_order(state) and "tmp" not in row_of(state, row)["cells"]
    [stored] = sql(server, "SELECT deleted_at, name FROM fundraising_columns WHERE id = 'tmp'")
    assert stored["deleted_at"] and stored["name"] == "Temp"
    [inv] = sql(server, "SELECT json_extract(fields, '$.tmp') AS v FROM fundraising_investors WHERE id = ?", (row,))
    assert inv["v"] == "keep me"  # the data stays; only the column is marked deleted
    # A deleted column's name is free again, and the deleted column takes no more writes.
    apply_ok(admin, {"op": "add_column", "column_id": "tmp2", "name": "Temp", "type": "number"})
    r = send(admin, get_state(admin)["version"], {"op": "set_cell", "row_id": row, "column_id": "tmp", "value": "x"})
    assert r.status_code == 422 and "ops[0].column_id" in r.json()["fields"]


def test_archive_and_restore_row_ops(admin):
    k = keys(get_state(admin))
    row = new_id()
    apply_ok(admin, {"op": "add_row", "row_id": row, "cells": {k["name"]: "Archived Capital"}})
    version = get_state(admin)["version"]
    assert apply_ok(admin, {"op": "archive_row", "row_id": row})["version"] == version + 1
    assert row not in row_order(get_state(admin))
    assert apply_ok(admin, {"op": "restore_row", "row_id": row})["version"] == version + 2
    assert cell(admin, row, k["name"]) == "Archived Capital"


# -- one version per request ---------------------------------------------------------------

def test_a_request_bumps_the_version_once_and_a_no_op_not_at_all(admin):
    k = keys(get_state(admin))
    rows = [new_id() for _ in range(3)]
    version = get_state(admin)["version"]
    result = apply_ok(admin, *[{"op": "add_row", "row_id": r, "cells": {k["name"]: f"Investor {i}"}} for i, r in enumerate(rows)],
                      {"op": "set_cell", "row_id": rows[0], "column_id": k["owner"], "value": "ana"},
                      {"op": "move_row", "row_id": rows[2], "after_row_id": ""},
                      {"op": "add_column", "column_id": "c1", "name": "C1", "type": "text"})
    assert result["version"] == version + 1
    state = get_state(admin)
    assert state["version"] == version + 1 and state["updated_by"] == admin.user["id"]
    logged = changes(admin, version)
    assert {op["version"] for op in logged} == {version + 1}
    assert [op["kind"] for op in logged].count("add_row") == 3
    # Setting cells to what they already hold changes nothing: no version, nothing logged.
    again = apply_ok(admin, {"op": "set_cell", "row_id": rows[0], "column_id": k["owner"], "value": "ana"},
                     {"op": "set_cell", "row_id": rows[1], "column_id": k["graveyard"], "value": False})
    assert again == {"version": version + 1, "applied": 0, "rows": {}}
    assert get_state(admin)["version"] == version + 1 and changes(admin, version + 1) == []


# -- error tables: nothing changes -------------------------------------------------------------

@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the error tables below: every case asserts it left the grid exactly as it was."""
    with serving(tmp_path_factory.mktemp("grid-errors")) as server:
        yield seeded(server)


def seeded(server) -> dict:
    client = server.register_admin()
    k = keys(get_state(client))
    live, archived = new_id(), new_id()
    apply_ok(client, *typed_columns_ops(),
             {"op": "add_row", "row_id": live, "cells": {k["name"]: "Live LP", cid("text"): "before", cid("number"): 7}},
             {"op": "add_row", "row_id": archived, "cells": {k["name"]: "Old LP"}})
    apply_ok(client, {"op": "archive_row", "row_id": archived})
    return {"server": server, "client": client, "live": live, "archived": archived, "keys": k}


def snapshot(ctx) -> tuple:
    """The whole grid as the API and the op log see it (archived rows included)."""
    client = ctx["client"]
    archived = client.get("/api/fundraising/rows", params={"archived": "1"}).json()["data"]
    ops_logged = sql(ctx["server"], "SELECT count(*) AS n FROM fundraising_ops")[0]["n"]
    return get_state(client), archived, ops_logged


BAD_VALUES = [
    # (column type, value, what the 422 says)
    ("text", 5, "must be text"),
    ("text", "x" * 10_001, "at most 10000 characters"),
    ("long_text", ["a"], "must be text"),
    ("long_text", "x" * 100_001, "at most 100000 characters"),
    ("number", "twelve", "'twelve' is not a number for "),
    ("number", "$1.5X", "'$1.5X' is not a number for "),
    ("number", True, "must be a number"),
    ("currency", {"amount": 1}, "must be a number"),
    ("percent", "half", "'half' is not a percentage for "),
    ("percent", "$5", "'$5' is not a percentage for "),
    ("date", "31/01/2026", "must be a date"),
    ("date", "2026-02-30", "must be a date"),
    ("date", 20260131, "must be text"),
    ("checkbox", "yes", "must be true or false"),
    ("checkbox", 1, "must be true or false"),
    ("single_select", "Lukewarm", "'Lukewarm' is not a "),
    ("single_select", ["Hot"], "must be text"),
    ("multi_select", "Alpha", "must be a list"),
    ("multi_select", ["Alpha", "Omega"], "'Omega' is not a "),
    ("email", "not-an-email", "must be an email address"),
    ("email", "ann@example", "must be an email address"),
    ("url", "ftp://example.com", "starting with http:// or https://"),
    ("url", "example.com", "starting with http:// or https://"),
    ("phone", 5550100, "must be text"),
    ("contacts", "Ann", "must be a list of contacts"),
    ("contacts", ["Ann"], "contact 1 must be an object"),
    ("contacts", [{"name": "Ann", "age": 3}], "unknown fields: age"),
    ("contacts", [{"name": "Ann"}, {"name": "Bo", "email": "nope"}], "contact 2 email is not an email address"),
    ("contacts", [{"phone": "555"}], "contact 1 needs a name or an email"),
    ("fund", -1, "a commitment cannot be negative"),
    ("fund", "lots", "'lots' is not a number for "),
    ("fund", "(1,000)", "a commitment cannot be negative"),
    ("formula", 3, "computed and cannot be edited"),
    ("created_time", "2026-01-01", "computed and cannot be edited"),
    ("last_modified_time", "2026-01-01", "computed and cannot be edited"),
    ("last_modified_by", "maria", "computed and cannot be edited"),
]


@pytest.mark.parametrize("type_, value, problem", BAD_VALUES, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD_VALUES)])
def test_bad_value_is_422_naming_the_op_and_problem(shared, type_, value, problem):
    client, row = shared["client"], shared["live"]
    before = snapshot(shared)
    version = before[0]["version"]
    good = {"op": "set_cell", "row_id": row, "column_id": cid("text"), "value": "after"}
    r = send(client, version, good, {"op": "set_cell", "row_id": row, "column_id": cid(type_), "value": value})
    assert r.status_code == 422, r.text
    fields = r.json()["fields"]
    assert list(fields) == ["ops[1].value"], fields
    assert problem in fields["ops[1].value"]
    assert snapshot(shared) == before
    assert row_of(before[0], row)["cells"][cid("text")] == "before"


ATOMIC = [
    # (case, the op that follows a good set_cell, status, field named in a 422)
    ("unknown op", lambda c: {"op": "explode"}, 422, "ops[1]"),
    ("op not an object", lambda c: "set_cell", 422, "ops[1]"),
    ("set_cell without value", lambda c: {"op": "set_cell", "row_id": c["live"], "column_id": cid("text")}, 422, "ops[1].value"),
    ("no such row", lambda c: {"op": "set_cell", "row_id": "nope", "column_id": cid("text"), "value": "x"}, 422, "ops[1].row_id"),
    ("no such column", lambda c: {"op": "set_cell", "row_id": c["live"], "column_id": "nope", "value": "x"}, 422, "ops[1].column_id"),
    ("archived row", lambda c: {"op": "set_cell", "row_id": c["archived"], "column_id": cid("text"), "value": "x"}, 409, None),
    ("add_row with a taken id", lambda c: {"op": "add_row", "row_id": c["live"]}, 409, None),
    ("add_row with a bad cell", lambda c: {"op": "add_row", "cells": {cid("number"): "many"}}, 422, f"ops[1].cells.{cid('number')}.value"),
    ("add_column of no type", lambda c: {"op": "add_column", "name": "Nope", "type": "money"}, 422, "ops[1].type"),
    ("add_column with a taken name", lambda c: {"op": "add_column", "name": "investor", "type": "text"}, 422, "ops[1].name"),
    ("add_column with a bad formula", lambda c: {"op": "add_column", "name": "F2", "type": "formula", "formula": "1 +"}, 422, "ops[1].formula"),
    ("formula that names itself", lambda c: {"op": "add_column", "name": "Loop", "type": "formula", "formula": "{Loop} + 1"}, 422, "ops[1].formula"),
    ("update_column unknown field", lambda c: {"op": "update_column", "column_id": cid("text"), "colour": "red"}, 422, "ops[1].colour"),
    ("retype a built-in column", lambda c: {"op": "update_column", "column_id": c["keys"]["name"], "type": "number"}, 422, "ops[1].type"),
    ("delete a built-in column", lambda c: {"op": "delete_column", "column_id": c["keys"]["status"]}, 422, "ops[1].column_id"),
    ("move_row after no such row", lambda c: {"op": "move_row", "row_id": c["live"], "after_row_id": "nope"}, 422, "ops[1].after_row_id"),
    ("archive_row without row_id", lambda c: {"op": "archive_row"}, 422, "ops[1].row_id"),
]


@pytest.mark.parametrize("case, bad, status, field", ATOMIC, ids=[a[0] for a in ATOMIC])
def test_a_bad_op_anywhere_applies_nothing(shared, case, bad, status, field):
    client, row = shared["client"], shared["live"]
    before = snapshot(shared)
    version = before[0]["version"]
    good = [{"op": "set_cell", "row_id": row, "column_id": cid("text"), "value": "after"}]
    for position in (1, 2):  # the bad op second, then last after more good ones
        ops = good + [bad(shared)] if position == 1 else good + [
            {"op": "add_column", "column_id": "extra", "name": "Extra", "type": "text"}, bad(shared)]
        if position == 2:
            field = field and field.replace("ops[1]", "ops[2]")
        r = send(client, version, *ops)
        assert r.status_code == status, r.text
        if field:
            assert field in r.json()["fields"], r.json()
        assert snapshot(shared) == before


def test_a_later_op_failing_undoes_earlier_deletes_and_archives(shared):
    client, row = shared["client"], shared["live"]
    before = snapshot(shared)
    r = send(client, before[0]["version"],
             {"op": "delete_column", "column_id": cid("text")},
             {"op": "archive_row", "row_id": row},
             {"op": "restore_row", "row_id": shared["archived"]},
             {"op": "move_column", "column_id": cid("number"), "after_column_id": ""},
             {"op": "set_cell", "row_id": shared["archived"], "column_id": cid("number"), "value": 8},
             {"op": "add_column", "name": "Late", "type": "money"})
    assert r.status_code == 422 and list(r.json()["fields"]) == ["ops[5].type"]
    assert snapshot(shared) == before


BAD_REQUESTS = [
    ("no base_version", {"ops": [{"op": "add_row"}]}, "base_version"),
    ("base_version text", {"base_version": "1", "ops": [{"op": "add_row"}]}, "base_version"),
    ("base_version ahead", {"base_version": 10_000, "ops": [{"op": "add_row"}]}, "base_version"),
    ("ops empty", {"base_version": 0, "ops": []}, "ops"),
    ("ops not a list", {"base_version": 0, "ops": {"op": "add_row"}}, "ops"),
    ("unknown field", {"base_version": 0, "ops": [{"op": "add_row"}], "force": True}, "force"),
]


@pytest.mark.parametrize("case, body, field", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_malformed_requests_are_422(shared, case, body, field):
    before = snapshot(shared)
    r = shared["client"].post(OPS, body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
    assert snapshot(shared) == before


def test_more_than_50000_cell_changes_is_422(shared):
    client, row = shared["client"], shared["live"]
    before = snapshot(shared)
    paste = [{"op": "set_cell", "row_id": row, "column_id": cid("text"), "value": f"v{i}"} for i in range(50_001)]
    r = send(client, before[0]["version"], *paste)
    assert r.status_code == 422 and "50000" in r.json()["fields"]["ops"]
    # Rows added with cells count their cells too.
    rows = [{"op": "add_row", "cells": {cid(t): 1 for t in ("number", "currency", "percent", "fund")}} for _ in range(12_500)]
    r = send(client, before[0]["version"], *rows, {"op": "set_cell", "row_id": row, "column_id": cid("text"), "value": "x"})
    assert r.status_code == 422 and "ops" in r.json()["fields"]
    assert snapshot(shared) == before


def test_a_paste_of_exactly_50000_cells_applies_as_one_version(admin):
    columns = [f"p{i}" for i in range(10)]
    apply_ok(admin, *[{"op": "add_column", "column_id": c, "name": c.upper(), "type": "number"} for c in columns])
    rows = [new_id() for _ in range(5_000)]
    apply_ok(admin, *[{"op": "add_row", "row_id": r} for r in rows])
    version = get_state(admin)["version"]
    paste = [{"op": "set_cell", "row_id": r, "column_id": c, "value": i * 10 + j}
             for i, r in enumerate(rows) for j, c in enumerate(columns)]
    assert len(paste) == 50_000
    result = apply_ok(admin, *paste, base=version)
    assert result["version"] == version + 1 and result["applied"] == 50_000
    state = get_state(admin)
    assert row_of(state, rows[4_321])["cells"]["p7"] == 43_217
    assert sum(sum(r["cells"][c] for c in columns) for r in state["grid"]["rows"]) == sum(range(50_000))


# -- two users ---------------------------------------------------------------------------------

@pytest.fixture
def pair(server, admin):
    maria = server.add_user(admin, "maria")
    k = keys(get_state(admin))
    row = new_id()
    apply_ok(admin, {"op": "add_row", "row_id": row, "cells": {k["name"]: "Shared LP", k["owner"]: "nobody"}})
    return {"admin": admin, "maria": maria, "row": row, "keys": k, "server": server}


def test_racing_on_the_same_cell_is_409_with_current_value_and_author(pair):
    admin, maria, row, k = pair["admin"], pair["maria"], pair["row"], pair["keys"]
    base = get_state(admin)["version"]
    apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "alice"}, base=base)
    r = send(maria, base, {"op": "set_cell", "row_id": row, "column_id": k["notes"], "value": "mine"},
             {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "maria"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["current_version"] == base + 1 and body["updated_by"] == admin.user["id"] and body["updated_at"]
    [conflict] = body["conflicts"]
    assert conflict["row_id"] == row and conflict["column_id"] == k["owner"]
    assert conflict["current_value"] == "alice" and conflict["changed_by"] == "admin"
    assert conflict["yours"] == "maria" and conflict["changed_in_version"] == base + 1
    state = get_state(admin)
    assert state["version"] == base + 1
    cells = row_of(state, row)["cells"]
    assert cells[k["owner"]] == "alice" and cells[k["notes"]] is None  # nothing of maria's request applied
    # Rebased on the current version, her edit goes through.
    assert apply_ok(maria, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "maria"}, base=base + 1)["version"] == base + 2


def test_every_conflicting_cell_is_listed(pair):
    admin, maria, row, k = pair["admin"], pair["maria"], pair["row"], pair["keys"]
    base = get_state(admin)["version"]
    apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "alice"},
             {"op": "set_cell", "row_id": row, "column_id": k["status"], "value": "Meeting"}, base=base)
    r = send(maria, base, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "maria"},
             {"op": "set_cell", "row_id": row, "column_id": k["status"], "value": "Passed"},
             {"op": "set_cell", "row_id": row, "column_id": k["lead_source"], "value": "Event"})
    assert r.status_code == 409
    listed = {c["column_id"]: (c["current_value"], c["changed_by"]) for c in r.json()["conflicts"]}
    assert listed == {k["owner"]: ("alice", "admin"), k["status"]: ("Meeting", "admin")}
    assert row_of(get_state(admin), row)["cells"][k["lead_source"]] is None


def test_a_paste_lists_every_conflicting_cell_as_one_op_would(pair):
    """60 set_cells (a paste: the others' changes since the base are read at once, ops.PREFETCH_FROM) find
    the same conflicts, the latest change of each cell, and a later change of one's own is none."""
    admin, maria, row, k = pair["admin"], pair["maria"], pair["row"], pair["keys"]
    base = get_state(admin)["version"]
    apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "alice"}, base=base)
    apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "alicia"}, base=base)
    apply_ok(maria, {"op": "set_cell", "row_id": row, "column_id": k["lead_source"], "value": "Event"}, base=base)
    paste = [{"op": "set_cell", "row_id": row, "column_id": k["notes"], "value": f"note {n}"} for n in range(58)]
    r = send(maria, base, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "maria"},
             {"op": "set_cell", "row_id": row, "column_id": k["lead_source"], "value": "Referral"}, *paste)
    assert r.status_code == 409, r.text
    listed = {c["column_id"]: (c["current_value"], c["changed_by"]) for c in r.json()["conflicts"]}
    assert listed == {k["owner"]: ("alicia", "admin")}
    assert cell(admin, row, k["notes"]) is None and cell(admin, row, k["lead_source"]) == "Event"


def test_racing_on_different_cells_both_apply(pair):
    admin, maria, row, k = pair["admin"], pair["maria"], pair["row"], pair["keys"]
    base = get_state(admin)["version"]
    assert apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "alice"}, base=base)["version"] == base + 1
    assert apply_ok(maria, {"op": "set_cell", "row_id": row, "column_id": k["notes"], "value": "call Tuesday"}, base=base)["version"] == base + 2
    cells = row_of(get_state(admin), row)["cells"]
    assert cells[k["owner"]] == "alice" and cells[k["notes"]] == "call Tuesday"


def test_the_same_user_editing_a_cell_twice_on_a_stale_base_is_no_conflict(pair):
    admin, row, k = pair["admin"], pair["row"], pair["keys"]
    base = get_state(admin)["version"]
    apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "first"}, base=base)
    assert apply_ok(admin, {"op": "set_cell", "row_id": row, "column_id": k["owner"], "value": "second"}, base=base)["version"] == base + 2
    assert cell(admin, row, k["owner"]) == "second"


def test_a_cell_open_in_another_users_editor_is_locked_until_the_lock_expires(pair):
    admin, maria, row, k, server = pair["admin"], pair["maria"], pair["row"], pair["keys"], pair["server"]
    now = [1_000.0]
    server.app.presence.clock = lambda: now[0]
    target = {"row_id": row, "column_id": k["owner"]}
    r = maria.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": target, "editing": True})
    assert r.status_code == 200, r.text

    def admin_writes(value, column=k["owner"]):
        return send(admin, get_state(admin)["version"], {"op": "set_cell", "row_id": row, "column_id": column, "value": value})

    version = get_state(admin)["version"]
    r = admin_writes("admin")
    assert r.status_code == 423, r.text
    assert r.json()["editing_by"] == "maria" and r.json()["row_id"] == row and r.json()["column_id"] == k["owner"]
    assert get_state(admin)["version"] == version and cell(admin, row, k["owner"]) == "nobody"
    assert admin_writes("fine", k["notes"]).status_code == 200          # other cells are free
    assert apply_ok(maria, {"op": "set_cell", **target, "value": "maria"}).get("applied") == 1  # the editor herself may write
    now[0] += 29.0
    assert admin_writes("admin").status_code == 423                     # still within 30 s of her heartbeat
    now[0] += 1.5
    assert admin_writes("admin").status_code == 200                     # 30.5 s without a heartbeat: the lock is gone
    assert cell(admin, row, k["owner"]) == "admin"
    present = admin.get("/api/fundraising/collab/state").json()["data"]
    assert [(p["username"], p["editing"]) for p in present] == [("maria", False)]  # still present, no longer editing
    now[0] += 29.0                                                      # 59.5 s: still present
    assert [p["username"] for p in admin.get("/api/fundraising/collab/state").json()["data"]] == ["maria"]
    now[0] += 1.0                                                       # 60.5 s: gone
    assert admin.get("/api/fundraising/collab/state").json()["data"] == []


def test_closing_the_editor_releases_the_lock(pair):
    admin, maria, row, k = pair["admin"], pair["maria"], pair["row"], pair["keys"]
    target = {"row_id": row, "column_id": k["owner"]}
    maria.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": target, "editing": True})
    assert send(admin, get_state(admin)["version"], {"op": "set_cell", **target, "value": "a"}).status_code == 423
    maria.post("/api/fundraising/collab/heartbeat", {"view_id": None, "cell": target, "editing": False})
    assert send(admin, get_state(admin)["version"], {"op": "set_cell", **target, "value": "a"}).status_code == 200


# -- PUT /state, the compatibility save ------------------------------------------------------------

@pytest.fixture
def saved(server, admin):
    """A grid with custom, fund and contacts cells on three rows."""
    k = keys(get_state(admin))
    rows = [new_id() for _ in range(3)]
    apply_ok(admin, {"op": "add_column", "column_id": "stage", "name": "Stage", "type": "text"},
             {"op": "add_column", "column_id": "f1", "name": "Fund I", "type": "fund"},
             {"op": "add_column", "column_id": "calc", "name": "Calc", "type": "formula", "formula": "{Fund I} / 2"},
             *[{"op": "add_row", "row_id": r, "cells": {
                 k["name"]: f"LP {i}", "stage": "seed", "f1": 1000 * (i + 1),
                 k["contacts"]: [{"name": f"Person {i}", "email": f"p{i}@lp.example"}, {"name": f"Second {i}"}]}}
               for i, r in enumerate(rows)])
    return {"server": server, "admin": admin, "keys": k, "rows": rows}


def ids_in_db(server) -> dict:
    return {table: sorted(r["id"] for r in sql(server, f"SELECT id FROM {table}"))
            for table in ("fundraising_investors", "fundraising_columns", "fundraising_contacts", "fundraising_commitments",
                          "fundraising_funds")}


def put_state(client, state, **extra):
    return client.put(STATE, {"grid": state["grid"], "expected_version": state["version"], **extra})


def test_put_of_the_state_as_loaded_changes_nothing(saved):
    admin, server = saved["admin"], saved["server"]
    state = get_state(admin)
    ids = ids_in_db(server)
    r = put_state(admin, state)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"version": state["version"], "applied": 0}
    assert get_state(admin) == state and ids_in_db(server) == ids


def test_put_changing_one_cell_logs_one_change_and_keeps_every_id(saved):
    admin, server, k, rows = saved["admin"], saved["server"], saved["keys"], saved["rows"]
    state = get_state(admin)
    ids = ids_in_db(server)
    contact_ids = {r["id"]: [p["id"] for p in r["cells"][k["contacts"]]] for r in state["grid"]["rows"]}
    row_of(state, rows[1])["cells"]["stage"] = "series A"
    r = put_state(admin, state)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"version": state["version"] + 1, "applied": 1}
    [op] = changes(admin, state["version"])
    assert (op["kind"], op["row_id"], op["column_id"], op["before"], op["after"]) == ("set_cell", rows[1], "stage", "seed", "series A")
    after = get_state(admin)
    assert row_of(after, rows[1])["cells"]["stage"] == "series A"
    assert ids_in_db(server) == ids  # nothing deleted and re-inserted anywhere
    assert {r["id"]: [p["id"] for p in r["cells"][k["contacts"]]] for r in after["grid"]["rows"]} == contact_ids
    assert sql(server, "SELECT count(*) AS n FROM fundraising_contacts WHERE deleted_at IS NOT NULL")[0]["n"] == 0


def test_put_editing_a_contact_updates_it_in_place(saved):
    admin, server, k, rows = saved["admin"], saved["server"], saved["keys"], saved["rows"]
    state = get_state(admin)
    ids = ids_in_db(server)
    people = row_of(state, rows[0])["cells"][k["contacts"]]
    people[0]["title"] = "Managing Partner"
    people[1]["name"] = "Second Renamed"
    r = put_state(admin, state)
    assert r.status_code == 200 and r.json()["data"]["applied"] == 1, r.text
    stored = sql(server, "SELECT id, name, title FROM fundraising_contacts WHERE investor_id = ? ORDER BY position", (rows[0],))
    assert stored == [{"id": people[0]["id"], "name": "Person 0", "title": "Managing Partner"},
                      {"id": people[1]["id"], "name": "Second Renamed", "title": None}]
    assert ids_in_db(server) == ids


def test_put_archives_rows_it_leaves_out(saved):
    admin, server, rows = saved["admin"], saved["server"], saved["rows"]
    state = get_state(admin)
    state["grid"]["rows"] = [r for r in state["grid"]["rows"] if r["id"] != rows[2]]
    r = put_state(admin, state)
    assert r.status_code == 200 and r.json()["data"]["applied"] == 1, r.text
    assert [op["kind"] for op in changes(admin, state["version"])] == ["archive_row"]
    assert row_order(get_state(admin)) == rows[:2]
    archived = admin.get("/api/fundraising/rows", params={"archived": "1"}).json()["data"]
    assert [r["id"] for r in archived] == [rows[2]] and archived[0]["cells"]["stage"] == "seed"
    [stored] = sql(server, "SELECT archived_at, archived_by FROM fundraising_investors WHERE id = ?", (rows[2],))
    assert stored["archived_at"] and stored["archived_by"] == admin.user["id"]
    assert len(sql(server, "SELECT id FROM fundraising_commitments WHERE investor_id = ?", (rows[2],))) == 1


def test_put_with_a_stale_version_is_409_and_changes_nothing(saved):
    admin, server, rows = saved["admin"], saved["server"], saved["rows"]
    maria = server.add_user(admin, "maria")
    loaded = get_state(admin)
    apply_ok(maria, {"op": "set_cell", "row_id": rows[0], "column_id": "stage", "value": "maria's"})
    current = get_state(admin)
    row_of(loaded, rows[1])["cells"]["stage"] = "admin's"
    r = put_state(admin, loaded)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["current_version"] == loaded["version"] + 1
    assert body["updated_at"] == current["updated_at"] and body["updated_by"] == maria.user["id"]
    assert get_state(admin) == current


def test_put_adds_new_rows_and_columns_with_the_ids_it_is_given(saved):
    admin, k = saved["admin"], saved["keys"]
    state = get_state(admin)
    state["grid"]["columns"].append({"id": "region", "name": "Region", "type": "single_select", "options": ["EU", "US"]})
    state["grid"]["rows"].append({"id": "row-new", "cells": {k["name"]: "Newcomer", "region": "eu", "f1": 5}})
    r = put_state(admin, state)
    assert r.status_code == 200 and r.json()["data"]["version"] == state["version"] + 1, r.text
    after = get_state(admin)
    assert column_order(after)[-1] == "region"
    cells = row_of(after, "row-new")["cells"]
    assert (cells[k["name"]], cells["region"], cells["f1"], cells["calc"]) == ("Newcomer", "EU", 5, 2.5)


BAD_PUTS = [
    ("no expected_version", lambda s: {"grid": s["grid"]}, 422),
    ("no grid", lambda s: {"expected_version": s["version"]}, 422),
    ("unknown field", lambda s: {"grid": s["grid"], "expected_version": s["version"], "merge": True}, 422),
    ("bad cell value", lambda s: {"grid": {**s["grid"], "rows": [
        {**r, "cells": {**r["cells"], "f1": "lots"}} for r in s["grid"]["rows"]]}, "expected_version": s["version"]}, 422),
    ("stale version", lambda s: {"grid": s["grid"], "expected_version": s["version"] - 1}, 409),
]


@pytest.mark.parametrize("case, body, status", BAD_PUTS, ids=[b[0] for b in BAD_PUTS])
def test_bad_puts_change_nothing(saved, case, body, status):
    admin, server = saved["admin"], saved["server"]
    state = get_state(admin)
    ids = ids_in_db(server)
    r = admin.put(STATE, body(state))
    assert r.status_code == status, r.text
    assert get_state(admin) == state and ids_in_db(server) == ids


def test_contact_rows_name_the_grid_rows_a_classic_contact_is_on(server, admin):
    from email_helpers import add_investor
    row = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
    add_investor(admin, "Beta Capital", ("Bob Stone", "bob@beta.example"))
    contact_id = admin.get(f"/api/fundraising/rows/{row}").json()["data"]["contacts"][0]["contact_id"]
    r = admin.get("/api/fundraising/contact-rows", params={"contact_id": contact_id})
    assert r.status_code == 200 and r.json()["data"] == [{"id": row, "name": "Acme LP"}], r.text
    r = admin.get("/api/fundraising/contact-rows")
    assert r.status_code == 422 and "contact_id" in r.json()["fields"]
