"""The compact page of rows (GET /api/fundraising/rows?shape=compact, fundraising/compact.py).

Every listing is asked for in both shapes and compared: the compact page, put back into full
rows by `compact.expand`, must be the full page exactly (empty, null, false, 0 and "" cells and
structured ones alike), with the same total, version and groups; through a view, a search, the
archived listing and pinned pages; after edits.
"""
import json

from test_grid_ops import EDITABLE, apply_ok, cid, get_state, keys, typed_columns_ops

from crm.fundraising import compact, store
from crm.fundraising.columns import Column

ROWS = "/api/fundraising/rows"
META = ("total", "limit", "offset", "version", "groups")


def both(client, **params) -> tuple:
    """(full page, compact page) for the same listing; asserts they hold the same rows."""
    full = client.get(ROWS, params=params)
    small = client.get(ROWS, params={**params, "shape": "compact"})
    assert full.status_code == 200 and small.status_code == 200, (full.text, small.text)
    full, small = full.json(), small.json()
    assert compact.expand(small) == full["data"]
    assert {k: small.get(k) for k in META} == {k: full.get(k) for k in META}
    assert small["shape"] == "compact" and "shape" not in full
    return full, small


def grid_of_every_type(admin) -> dict:
    """Columns of every type (a Relationship one too) and rows holding values, falsy values, and nothing."""
    k = keys(get_state(admin))
    apply_ok(admin, *typed_columns_ops(), {"op": "add_column", "column_id": "warmth", "name": "Warmth", "type": "relationship"})
    full = {cid(t): sent for t, _, sent, _ in EDITABLE}
    full[cid("contacts")] = [{"name": "Ann Lee", "email": "ann@lp.example", "title": "Partner"}]
    full[k["contacts"]] = [{"name": "Bo Chen", "phone": "+1 555 0101"}]
    full |= {k["name"]: "Full LP", k["graveyard"]: True, k["follow_up"]: "2026-03-01", k["status"]: "Meeting"}
    falsy = {k["name"]: "", cid("number"): 0, cid("currency"): 0, cid("text"): "", cid("checkbox"): False,
             cid("multi_select"): [], k["longshot"]: False, cid("fund"): 0}
    apply_ok(admin, {"op": "add_row", "row_id": "full", "cells": full}, {"op": "add_row", "row_id": "falsy", "cells": falsy},
             {"op": "add_row", "row_id": "empty", "cells": {}})
    return k


def test_every_column_type_round_trips_exactly(server, admin, monkeypatch):
    k = grid_of_every_type(admin)
    # Relationship cells come from crm.ingest's scores: one row has one, the others none (null).
    monkeypatch.setattr(store, "relationship_values", lambda conn, ids: {"full": {"level": 3, "last_contact": "2026-01-02",
                                                                                    "who": "Ann"}} if "full" in ids else {})
    apply_ok(admin, {"op": "set_cell", "row_id": "empty", "column_id": cid("text"), "value": "rebuild"},
             {"op": "add_column", "column_id": "late", "name": "Late", "type": "text"})  # a column op: rebuilt with the scores
    full, small = both(admin)
    rows = {r["id"]: r for r in full["data"]}
    assert rows["full"]["cells"]["warmth"]["level"] == 3 and rows["empty"]["cells"]["warmth"] is None
    assert rows["full"]["cells"][cid("contacts")][0]["name"] == "Ann Lee"
    falsy = rows["falsy"]["cells"]
    assert falsy[cid("number")] == 0 and falsy[k["longshot"]] is False and cid("multi_select") not in falsy
    assert rows["empty"]["cells"][k["name"]] is None and cid("number") not in rows["empty"]["cells"]  # null, and absent
    # The page names its fields and columns once and holds one array of a value per row for each.
    assert small["columns"] == [c["id"] for c in get_state(admin)["grid"]["columns"]]
    assert small["fields"] == list(compact.FIELDS)
    assert len(small["data"]) == len(small["fields"]) + len(small["columns"]) and all(len(a) == 3 for a in small["data"])
    assert small["data"][0] == ["full", "falsy", "empty"] and small["odd"] == []
    assert len(small["nulls"]) < len(small["columns"])  # most columns' null means "no cell"


def test_a_null_where_the_column_leaves_cells_out_and_a_missing_cell_where_it_keeps_them():
    """Rows the store does not make today, and the format must still carry: those cells are `odd`."""
    columns = [Column("name", "Investor", "text", "name", 1, [], None, {}), Column("note", "Note", "text", None, 2, [], None, {}),
               Column("score", "Score", "formula", None, 3, [], "1", {})]
    layout = compact.Layout(columns)
    assert layout.nulls == [0]
    stamps = {"position": 1.0, "created_at": "t", "updated_at": "t", "updated_by": None, "archived": False}
    rows = [{"id": "a", **stamps, "cells": {"note": None, "score": 0}},          # name missing, note null
            {"id": "b", **stamps, "cells": {"name": None, "score": None}},       # as the store makes them but the score
            {"id": "c", **stamps, "cells": {"name": "", "note": "", "score": False}}]
    data, head = layout.page_json(rows)
    assert head["odd"] == [[0, 0], [0, 1], [1, 2]]
    page = {**head, "data": json.loads(data)}
    assert page["data"][len(compact.FIELDS):] == [[None, None, ""], [None, None, ""], [0, None, False]]  # one array per column
    assert compact.expand(page) == rows
    assert compact.expand({**head, "odd": [], "data": [[] for _ in page["data"]]}) == []


def test_views_search_and_archived_rows_in_both_shapes(admin):
    k = grid_of_every_type(admin)
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}", cid("number"): n % 3,
                                                                       k["status"]: ["Meeting", "Contacted"][n % 2]}}
                      for n in range(12)))
    view = admin.post("/api/fundraising/views", {"name": "Some", "config": {
        "filters": {"conjunction": "and", "conditions": [{"column_id": k["name"], "operator": "contains", "value": "LP"}]},
        "sorts": [{"column_id": cid("number"), "direction": "desc"}, {"column_id": k["name"], "direction": "asc"}],
        "group_by": k["status"]}})
    assert view.status_code == 201, view.text
    full, small = both(admin, view_id=view.json()["data"]["id"])
    assert full["total"] == 13 and len(full["groups"]) == 2
    assert [r["id"] for r in full["data"][:4]] == ["full", "r11", "r2", "r5"]  # 42.5, then the 2s by name (text: "LP 11" first)
    full, _ = both(admin, q="full lp")
    assert [r["id"] for r in full["data"]] == ["full"]
    full, _ = both(admin, q="LP", limit="5", offset="10")
    assert [r["id"] for r in full["data"]] == ["r9", "r10", "r11"] and full["total"] == 13
    apply_ok(admin, {"op": "archive_row", "row_id": "full"}, {"op": "archive_row", "row_id": "r3"})
    full, small = both(admin, archived="1")
    assert sorted(r["id"] for r in full["data"]) == ["full", "r3"] and full["data"][0]["archived_by"] == "admin"
    assert small["fields"] == list(compact.ARCHIVED_FIELDS)
    both(admin, archived="1", q="Full")
    assert "full" not in [r["id"] for r in both(admin, limit="50")[0]["data"]]


def test_compact_pages_pinned_to_the_first_pages_version_fit_together(admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(4)))
    view = admin.post("/api/fundraising/views", {"name": "By name", "config": {"sorts": [{"column_id": k["name"], "dir": "asc"}]}})
    params = {"view_id": view.json()["data"]["id"], "limit": "2", "shape": "compact"}
    first = admin.get(ROWS, params=params).json()
    apply_ok(admin, {"op": "set_cell", "row_id": "r3", "column_id": k["name"], "value": "AAA first now"})
    pinned = admin.get(ROWS, params={**params, "offset": "2", "version": str(first["version"])}).json()
    assert pinned["version"] == first["version"] and pinned["columns"] == first["columns"]
    assert [r["id"] for r in compact.expand(first) + compact.expand(pinned)] == ["r0", "r1", "r2", "r3"]
    assert compact.expand(pinned)[1]["cells"][k["name"]] == "LP 3"  # as it was at that version
    now = admin.get(ROWS, params={**params, "offset": "0"}).json()
    assert compact.expand(now)[0]["cells"][k["name"]] == "AAA first now"


def test_compact_pages_follow_edits(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(3)))
    both(admin)
    apply_ok(admin, {"op": "set_cell", "row_id": "r1", "column_id": k["name"], "value": "Renamed"},
             {"op": "add_row", "row_id": "r9", "cells": {k["name"]: None}})
    full, _ = both(admin)
    assert full["data"][1]["cells"][k["name"]] == "Renamed" and full["data"][3]["id"] == "r9"
    apply_ok(admin, {"op": "archive_row", "row_id": "r2"}, {"op": "add_column", "column_id": "late", "name": "Late", "type": "text"})
    full, small = both(admin)
    assert [r["id"] for r in full["data"]] == ["r0", "r1", "r9"] and small["columns"][-1] == "late"
    _, small = both(admin, q="nothing matches this")
    assert small["data"] == [[] for _ in small["fields"] + small["columns"]]


def test_an_unknown_shape_is_a_422_naming_it(admin):
    for bad in ("columns", "COMPACT", "compact "):
        r = admin.get(ROWS, params={"shape": bad})
        assert r.status_code == 422, r.text
        assert "shape" in r.json()["fields"] and "compact" in r.json()["fields"]["shape"]
    assert admin.get(ROWS, params={"shape": ""}).json()["data"] == []  # blank: the default, like other parameters
    assert admin.get(ROWS, params={"shape": "full"}).status_code == 200


def test_the_api_document_describes_every_shape(admin):
    operation = admin.get("/api/openapi.json").json()["paths"][ROWS]["get"]
    [shape] = [p for p in operation["parameters"] if p["name"] == "shape"]
    assert shape["schema"]["enum"] == ["full", "compact", "ids"]
    pages = operation["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert pages[0]["properties"]["data"]["items"]["required"] == ["id", "cells"]
    assert pages[1]["properties"]["data"]["items"] == {"type": "array", "items": {}}
    assert {"columns", "fields", "nulls", "odd", "shape"} <= set(pages[1]["required"])
    assert pages[2]["properties"]["data"]["items"] == {"type": "string"} and "shape" in pages[2]["required"]
    assert "group_values" in pages[2]["properties"] and "group_values" not in pages[2]["required"]
    assert "ids" in {p["name"] for p in operation["parameters"]}
