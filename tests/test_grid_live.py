"""The live grid snapshot (fundraising/live.py) always equals the grid as stored.

After every kind of write, the state the server answers with (from its
snapshot, advanced from the op log or rebuilt) is compared with a snapshot
built from scratch over a separate connection to the same database. The
counters prove which path served it: row edits advance the snapshot, column
changes and restores rebuild it.
"""
import json

from test_grid_ops import apply_ok, cid, get_state, keys, send, typed_columns_ops

from crm.db import connect
from crm.fundraising import store
from crm.fundraising.live import Snapshot

ROWS = "/api/fundraising/rows"


def from_scratch(server) -> dict:
    conn = connect(server.config.db_path)
    try:
        conn.execute("BEGIN")
        snap = Snapshot.build(conn, store.version(conn))
        conn.execute("COMMIT")
        return json.loads(snap.grid_json())
    finally:
        conn.close()


def check(server, client, expect: str) -> dict:
    """GET state, assert it equals the stored grid, and that the snapshot was made the `expect` way."""
    counts = dict(server.app.grid.counts)
    state = get_state(client)
    assert state["grid"] == from_scratch(server)
    made = {how: server.app.grid.counts[how] - counts[how] for how in counts}
    assert made == {"built": int(expect == "built"), "advanced": int(expect == "advanced")}, made
    return state


def test_every_kind_of_write_keeps_the_live_snapshot_exact(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *typed_columns_ops(),
             *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}", cid("number"): n}} for n in range(5)))
    check(server, admin, "built")  # columns were added: built whole
    check(server, admin, "none")   # same version: the cached snapshot

    apply_ok(admin, {"op": "set_cell", "row_id": "r1", "column_id": cid("number"), "value": 50})  # the formula follows
    state = check(server, admin, "advanced")
    assert next(r for r in state["grid"]["rows"] if r["id"] == "r1")["cells"][cid("formula")] == 100

    apply_ok(admin, {"op": "set_cell", "row_id": "r2", "column_id": cid("contacts"),
                     "value": [{"name": "Ann Lee", "email": "ann@lp.example"}]},
             {"op": "set_cell", "row_id": "r2", "column_id": cid("fund"), "value": 250_000})
    check(server, admin, "advanced")

    apply_ok(admin, {"op": "add_row", "row_id": "first", "after_row_id": "", "cells": {k["name"]: "First"}})
    assert [r["id"] for r in check(server, admin, "advanced")["grid"]["rows"]][0] == "first"

    apply_ok(admin, {"op": "archive_row", "row_id": "r3"})
    assert "r3" not in [r["id"] for r in check(server, admin, "advanced")["grid"]["rows"]]
    apply_ok(admin, {"op": "move_row", "row_id": "r4", "after_row_id": "first"},
             {"op": "restore_row", "row_id": "r3"})
    rows = [r["id"] for r in check(server, admin, "advanced")["grid"]["rows"]]
    assert rows[:2] == ["first", "r4"] and "r3" in rows

    # Several versions between two reads, one of them from a rule (graveyard flag → list) and a PUT.
    apply_ok(admin, {"op": "set_cell", "row_id": "r0", "column_id": k["graveyard"], "value": True})
    apply_ok(admin, {"op": "set_cell", "row_id": "r0", "column_id": cid("text"), "value": "two versions"})
    state = get_state(admin)
    row = next(r for r in state["grid"]["rows"] if r["id"] == "r1")
    row["cells"][cid("text")] = "saved whole"
    r = admin.put("/api/fundraising/state", {"grid": state["grid"], "expected_version": state["version"]})
    assert r.status_code == 200 and r.json()["data"]["applied"] == 1, r.text
    check(server, admin, "advanced")

    # A refused request changes nothing, and the cached snapshot still answers.
    version = get_state(admin)["version"]
    assert send(admin, version, {"op": "set_cell", "row_id": "r1", "column_id": cid("number"), "value": "many"}).status_code == 422
    check(server, admin, "none")

    # Column changes rebuild.
    apply_ok(admin, {"op": "update_column", "column_id": cid("formula"), "formula": "{Number} * 3"})
    assert next(r for r in check(server, admin, "built")["grid"]["rows"] if r["id"] == "r1")["cells"][cid("formula")] == 150


def test_a_grid_restore_rebuilds_the_snapshot(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(3)))
    check(server, admin, "advanced")
    r = admin.post("/api/fundraising/backup", {"kind": "grid"})
    assert r.status_code == 201, r.text
    apply_ok(admin, {"op": "set_cell", "row_id": "r0", "column_id": k["name"], "value": "Renamed"})
    check(server, admin, "advanced")
    assert admin.post("/api/fundraising/restore", {"backup_id": r.json()["data"]["id"]}).status_code == 200
    state = check(server, admin, "built")  # a version without row ops: rebuilt, not advanced
    assert [r["cells"][k["name"]] for r in state["grid"]["rows"]] == ["LP 0", "LP 1", "LP 2"]


def test_the_rows_endpoint_reads_the_same_snapshot(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(3)))
    apply_ok(admin, {"op": "set_cell", "row_id": "r2", "column_id": k["name"], "value": "Zed"})
    page = admin.get(ROWS, params={"q": "zed"}).json()
    assert [r["id"] for r in page["data"]] == ["r2"] and page["total"] == 1
    assert page["data"][0] == next(r for r in from_scratch(server)["rows"] if r["id"] == "r2")
    apply_ok(admin, {"op": "archive_row", "row_id": "r2"})
    archived = admin.get(ROWS, params={"archived": "1"}).json()["data"]
    assert [r["id"] for r in archived] == ["r2"] and archived[0]["archived"] is True
    assert archived[0]["archived_by"] == "admin" and archived[0]["archived_at"].startswith("20")  # who and when, for the list
    assert [r["id"] for r in admin.get(ROWS).json()["data"]] == ["r0", "r1"]


def test_state_without_rows_has_everything_else(admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(3)))
    whole = get_state(admin)
    r = admin.get("/api/fundraising/state", params={"rows": "0"})
    assert r.status_code == 200, r.text
    lean = r.json()["data"]
    assert "rows" not in lean["grid"] and lean["grid"]["columns"] == whole["grid"]["columns"]
    assert {key: lean[key] for key in ("views", "version", "updated_at", "updated_by")} == \
        {key: whole[key] for key in ("views", "version", "updated_at", "updated_by")}
    assert len(admin.get("/api/fundraising/state", params={"rows": "1"}).json()["data"]["grid"]["rows"]) == 3
    r = admin.get("/api/fundraising/state", params={"rows": "none"})
    assert r.status_code == 422 and "rows" in r.json()["fields"]


def test_pages_pinned_to_the_first_pages_version_fit_together(server, admin):
    """Rows sorted by name: a rename between two page requests moves a row across the page boundary.
    Pages asked for at the first page's version still list every row once; unpinned ones would not."""
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(4)))
    view = admin.post("/api/fundraising/views", {"name": "By name", "config": {"sorts": [{"column_id": k["name"], "dir": "asc"}]}})
    assert view.status_code == 201, view.text
    params = {"view_id": view.json()["data"]["id"], "limit": "2"}
    first = admin.get(ROWS, params=params).json()
    assert [r["id"] for r in first["data"]] == ["r0", "r1"]
    apply_ok(admin, {"op": "set_cell", "row_id": "r3", "column_id": k["name"], "value": "AAA first now"})
    pinned = admin.get(ROWS, params={**params, "offset": "2", "version": str(first["version"])}).json()
    assert pinned["version"] == first["version"]
    assert [r["id"] for r in first["data"] + pinned["data"]] == ["r0", "r1", "r2", "r3"]
    unpinned = admin.get(ROWS, params={**params, "offset": "2"}).json()
    assert [r["id"] for r in unpinned["data"]] == ["r1", "r2"]  # r3 moved to the first page: r1 twice, r3 never


def test_a_version_no_longer_held_is_a_409_and_a_bad_one_a_422(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, {"op": "add_row", "row_id": "r0", "cells": {k["name"]: "LP 0"}})
    old = admin.get(ROWS).json()["version"]
    for n in range(6):  # more versions than the server keeps snapshots of, each one read
        apply_ok(admin, {"op": "set_cell", "row_id": "r0", "column_id": k["name"], "value": f"LP {n}"})
        admin.get(ROWS)
    r = admin.get(ROWS, params={"version": str(old)})
    assert r.status_code == 409, r.text
    assert "first page" in r.json()["error"] and r.json()["version"] == get_state(admin)["version"]
    r = admin.get(ROWS, params={"version": "latest"})
    assert r.status_code == 422 and "version" in r.json()["fields"]
    current = get_state(admin)["version"]
    assert admin.get(ROWS, params={"version": str(current), "archived": "1"}).status_code == 200
    apply_ok(admin, {"op": "archive_row", "row_id": "r0"})
    r = admin.get(ROWS, params={"version": str(current), "archived": "1"})  # archived rows are only read as they are now
    assert r.status_code == 409, r.text


def test_the_pages_of_one_listing_filter_and_sort_once(server, admin, monkeypatch):
    from crm.fundraising import filters
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(5)))
    calls = []
    real = filters.sort_rows
    monkeypatch.setattr(filters, "sort_rows", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    pages = [admin.get(ROWS, params={"limit": "2", "offset": str(o), "q": "LP"}).json() for o in (0, 2, 4)]
    assert [r["id"] for p in pages for r in p["data"]] == [f"r{n}" for n in range(5)]
    assert len(calls) == 1
    admin.get(ROWS, params={"limit": "2", "q": "LP 1"})  # another search: worked out anew
    assert len(calls) == 2
    apply_ok(admin, {"op": "set_cell", "row_id": "r0", "column_id": k["name"], "value": "LP zero"})
    after = admin.get(ROWS, params={"q": "LP"}).json()
    assert [r["id"] for r in after["data"]][0] == "r0"
    # A new version: derived from the last one's answer (view_plan.py), not sorted whole again.
    assert len(calls) == 2 and server.app.grid.held(after["version"]).view_counts == {"computed": 0, "derived": 1}


def test_a_view_on_today_shows_other_rows_the_next_day_without_any_edit(server, admin, monkeypatch):
    """What a view shows is remembered per snapshot; a filter on "today" must not be remembered past its day."""
    from crm.fundraising import filters
    k = keys(get_state(admin))
    apply_ok(admin, {"op": "add_column", "column_id": "close", "name": "Close", "type": "date"},
             {"op": "add_row", "row_id": "jan10", "cells": {k["name"]: "A"}},
             {"op": "add_row", "row_id": "jan20", "cells": {k["name"]: "B"}})
    apply_ok(admin, {"op": "set_cell", "row_id": "jan10", "column_id": "close", "value": "2026-01-10"},
             {"op": "set_cell", "row_id": "jan20", "column_id": "close", "value": "2026-01-20"})
    view = admin.post("/api/fundraising/views", {"name": "Open", "config": {"filters": {"conjunction": "and", "conditions": [
        {"column_id": "close", "operator": "is_on_or_after", "value": "today"}]}}})
    assert view.status_code == 201, view.text
    shown = lambda: [r["id"] for r in admin.get(ROWS, params={"view_id": view.json()["data"]["id"]}).json()["data"]]  # noqa: E731
    monkeypatch.setattr(filters, "today", lambda: "2026-01-15")
    version = get_state(admin)["version"]
    assert shown() == ["jan20"]
    monkeypatch.setattr(filters, "today", lambda: "2026-01-05")
    assert shown() == ["jan10", "jan20"]
    monkeypatch.setattr(filters, "today", lambda: "2026-01-25")
    assert shown() == []
    assert get_state(admin)["version"] == version  # the same snapshot all along


def test_a_column_op_that_leaves_rows_alone_advances_and_a_rebuild_shares_unchanged_rows(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{n}", "cells": {k["name"]: f"LP {n}"}} for n in range(4)))
    check(server, admin, "advanced")
    apply_ok(admin, {"op": "add_column", "column_id": "plain", "name": "Plain", "type": "text"},
             {"op": "set_cell", "row_id": "r1", "column_id": "plain", "value": "now"})
    assert next(c for c in check(server, admin, "advanced")["grid"]["columns"] if c["id"] == "plain")["name"] == "Plain"
    apply_ok(admin, {"op": "move_column", "column_id": "plain", "after_column_id": ""})
    assert check(server, admin, "advanced")["grid"]["columns"][0]["id"] == "plain"
    before = server.app.grid.held(get_state(admin)["version"])
    apply_ok(admin, {"op": "add_column", "column_id": "stamp", "name": "Created", "type": "created_time"})
    after = server.app.grid.held(check(server, admin, "built")["version"])  # every row gains a cell: read whole
    assert all(new is not old for new, old in zip(after.rows, before.rows))
    apply_ok(admin, {"op": "delete_column", "column_id": "stamp"})
    rebuilt = server.app.grid.held(check(server, admin, "built")["version"])
    assert all(new is old for new, old in zip(rebuilt.rows, before.rows))  # equal rows: the kept objects, one copy
