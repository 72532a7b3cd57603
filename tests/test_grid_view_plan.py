"""Views after edits (fundraising/view_plan.py): derived from the previous version's answer, always
equal to filtering and sorting every row again; and one snapshot made per version however many
readers ask for it at once (fundraising/live.py).

After each kind of write, GET /rows through each saved view must list exactly the rows, in exactly
the order, that the view engine (filters.compile_filter, search_rows, sort_rows) gives over the
grid read from scratch on a separate connection; the snapshot's counters prove the answer was
derived, not worked out again.
"""
import threading

from test_grid_ops import apply_ok, cid, get_state, keys, typed_columns_ops

from crm.db import connect
from crm.fundraising import filters, store

ROWS = "/api/fundraising/rows"


def expected(server, config, q="") -> list:
    """The row ids a view shows, worked out whole over the stored grid."""
    conn = connect(server.config.db_path)
    try:
        columns = store.load_columns(conn)
        rows = store.load_rows(conn, columns)
    finally:
        conn.close()
    if config.get("filters"):
        matches = filters.compile_filter(config["filters"], columns)
        rows = [r for r in rows if matches(r["cells"])]
    rows = filters.search_rows(rows, q)
    return [r["id"] for r in filters.sort_rows(rows, config.get("sorts") or [], columns)]


def listed(client, view_id=None, q="") -> tuple:
    params = {"limit": 1000, **({"view_id": view_id} if view_id else {}), **({"q": q} if q else {})}
    r = client.get(ROWS, params=params)
    assert r.status_code == 200, r.text
    return [row["id"] for row in r.json()["data"]], r.json()["version"]


def saved_views(client, configs) -> dict:
    """{name: view id} for a view saved per (name, config)."""
    views = {}
    for name, config in configs.items():
        r = client.post("/api/fundraising/views", {"name": name, "config": config})
        assert r.status_code == 201, r.text
        views[name] = r.json()["data"]["id"]
    return views


def test_views_after_every_kind_of_edit_equal_the_whole_computation(server, admin):
    k = keys(get_state(admin))
    statuses = ["Contacted", "Meeting", "Diligence", None]
    apply_ok(admin, *typed_columns_ops(), *({"op": "add_row", "row_id": f"r{n}", "cells": {
        k["name"]: f"LP {n % 7}", k["status"]: statuses[n % 4], cid("number"): (n * 37) % 11 if n % 5 else None,
        cid("text"): f"note {n % 3}"}} for n in range(40)))
    configs = {
        "filter and two sorts": {
            "filters": {"conjunction": "and", "conditions": [
                {"column_id": k["status"], "operator": "is_any_of", "value": ["Contacted", "Meeting"]},
                {"conjunction": "or", "conditions": [
                    {"column_id": cid("number"), "operator": ">", "value": 3},
                    {"column_id": cid("text"), "operator": "is", "value": "note 1"}]}]},
            "sorts": [{"column_id": cid("number"), "direction": "desc"}, {"column_id": k["name"], "direction": "asc"}]},
        "blanks, a select's order, ties in grid order": {
            "sorts": [{"column_id": k["status"], "direction": "desc"}, {"column_id": cid("formula"), "direction": "asc"}]},
        "a filter, no sort": {"filters": {"conjunction": "and", "conditions": [
            {"column_id": cid("number"), "operator": "is_not_empty"}]}},
    }
    views = saved_views(admin, configs)

    def check_all(derived_expected=True):
        for name, config in configs.items():
            ids, version = listed(admin, views[name])
            assert ids == expected(server, config), name
        ids, version = listed(admin, q="note 1")
        assert ids == expected(server, {}, "note 1")
        counts = server.app.grid.held(version).view_counts
        if derived_expected:
            assert counts["derived"] == len(configs) + 1 and counts["computed"] == 0, counts

    check_all(derived_expected=False)  # first answers: computed whole
    edits = [
        [{"op": "set_cell", "row_id": "r1", "column_id": cid("number"), "value": 10}],         # moves up the sort
        [{"op": "set_cell", "row_id": "r2", "column_id": k["status"], "value": "Meeting"}],    # into the filter
        [{"op": "set_cell", "row_id": "r1", "column_id": k["status"], "value": None}],         # out of it, to blanks
        [{"op": "set_cell", "row_id": "r6", "column_id": cid("number"), "value": None}],       # a blank sorts last
        [{"op": "set_cell", "row_id": "r7", "column_id": cid("number"), "value": 4},           # a tie: grid order
         {"op": "set_cell", "row_id": "r8", "column_id": cid("text"), "value": "note 1"}],
        [{"op": "archive_row", "row_id": "r9"}],
        [{"op": "restore_row", "row_id": "r9"}],
        [{"op": "add_row", "row_id": "new-first", "after_row_id": "", "cells": {
            k["name"]: "LP 1", k["status"]: "Contacted", cid("number"): 4, cid("text"): "note 1"}}],
        [{"op": "move_row", "row_id": "r30", "after_row_id": ""}],
    ]
    for ops in edits:
        apply_ok(admin, *ops)
        check_all()
    # Several versions between two reads: the touched rows add up.
    apply_ok(admin, {"op": "set_cell", "row_id": "r11", "column_id": cid("number"), "value": 9})
    apply_ok(admin, {"op": "set_cell", "row_id": "r12", "column_id": k["status"], "value": "Contacted"})
    apply_ok(admin, {"op": "archive_row", "row_id": "r13"})
    check_all()
    # A new text column leaves every row as it was: the snapshot advances and its views are derived.
    counts = dict(server.app.grid.counts)
    apply_ok(admin, {"op": "add_column", "name": "Later", "type": "text"},
             {"op": "set_cell", "row_id": "r14", "column_id": cid("number"), "value": 8})
    check_all()
    assert server.app.grid.counts["built"] == counts["built"]
    # A formula column fills every row: the grid is read whole, its views worked out whole, and still agree.
    apply_ok(admin, {"op": "add_column", "name": "Doubled", "type": "formula", "formula": "{Number} * 2"})
    check_all(derived_expected=False)
    assert server.app.grid.counts["built"] == counts["built"] + 1


def test_readers_at_once_after_a_rebuild_share_one_snapshot(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "cells": {k["name"]: f"LP {n}", k["notes"]: "x" * 200}} for n in range(3000)))
    listed(admin)
    apply_ok(admin, {"op": "add_column", "name": "Rebuilt", "type": "formula", "formula": "1"})  # the next read builds the grid whole
    before = dict(server.app.grid.counts)
    clients = [server.client(admin.token) for _ in range(5)]
    start, answers = threading.Barrier(len(clients)), []

    def read(client):
        start.wait()
        answers.append(listed(client))
    threads = [threading.Thread(target=read, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(clients) and len({tuple(ids) for ids, _ in answers}) == 1
    assert server.app.grid.counts["built"] - before["built"] == 1
    assert server.app.grid.counts["advanced"] == before["advanced"]


def test_exports_say_what_the_cells_say(server, admin):
    """The JSON export is assembled from the snapshot's kept row JSON and the CSV renders cells per column:
    both must agree with the rows as read and with export.render, cell by cell, for every type."""
    import csv
    import io

    from test_grid_ops import EDITABLE

    from crm import csvio
    from crm.fundraising import export
    k = keys(get_state(admin))
    apply_ok(admin, *typed_columns_ops(),
             {"op": "add_row", "row_id": "full", "cells": {k["name"]: "=risky name", **{cid(t): value for t, _, value, _ in EDITABLE},
                                                            cid("contacts"): [{"name": "Ann, Lee", "email": "ann@lp.example"}]}},
             {"op": "add_row", "row_id": "blank", "cells": {k["name"]: "-12"}},
             {"op": "add_row", "row_id": "odd", "cells": {k["name"]: "+cmd", cid("number"): 1e-05, cid("text"): "'=quoted"}})
    state = get_state(admin)
    r = admin.get("/api/fundraising/export")
    assert r.status_code == 200, r.text
    exported = r.json()["data"]
    assert exported["rows"] == state["grid"]["rows"] and exported["version"] == state["version"]
    assert [c["id"] for c in exported["columns"]] == [c["id"] for c in state["grid"]["columns"]]
    conn = connect(server.config.db_path)
    try:
        columns = store.load_columns(conn)
    finally:
        conn.close()
    r = admin.get("/api/fundraising/export", params={"format": "csv"})
    assert r.status_code == 200, r.text
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert table[0] == [c.name for c in columns]
    for line, row in zip(table[1:], state["grid"]["rows"]):
        assert line == [csvio.guard(export.render(row["cells"].get(c.id), c)) for c in columns], row["id"]


def expected_groups(server, config, q="") -> list:
    """A grouped view's groups worked out whole over the stored grid (filters.group_rows)."""
    conn = connect(server.config.db_path)
    try:
        columns = store.load_columns(conn)
        rows = {r["id"]: r for r in store.load_rows(conn, columns)}
    finally:
        conn.close()
    return filters.group_rows([rows[i] for i in expected(server, config, q)], config["group_by"], columns)


def test_groups_after_every_kind_of_edit_equal_the_whole_computation(server, admin):
    """A grouped view's groups (counts, sums of the number, currency and fund columns, order of first
    appearance) are derived from the previous version's after an edit, and equal summing every row again."""
    k = keys(get_state(admin))
    statuses = ["Contacted", "Meeting", "Diligence", None]
    apply_ok(admin, *typed_columns_ops(), *({"op": "add_row", "row_id": f"r{n}", "cells": {
        k["name"]: f"LP {n % 7}", k["status"]: statuses[n % 4], cid("number"): (n * 37) % 11 if n % 5 else None,
        cid("currency"): n * 12.5, cid("fund"): 1000 * (n % 3) or None, cid("checkbox"): n % 2 == 0}}
        for n in range(40)))
    configs = {
        "by status, sorted by a formula": {"group_by": k["status"], "sorts": [{"column_id": cid("formula"), "direction": "desc"}]},
        "by checkbox, filtered": {"group_by": cid("checkbox"), "filters": {"conjunction": "and", "conditions": [
            {"column_id": cid("number"), "operator": "is_not_empty"}]}, "sorts": [{"column_id": cid("number"), "direction": "asc"}]},
    }
    views = saved_views(admin, configs)

    def check_all(derived_expected=True):
        for name, config in configs.items():
            r = admin.get(ROWS, params={"view_id": views[name], "limit": 5})
            assert r.status_code == 200, r.text
            assert r.json()["groups"] == expected_groups(server, config), name
            counts = server.app.grid.held(r.json()["version"]).view_counts
        if derived_expected:
            assert counts.get("groups derived") == len(configs) and not counts.get("groups computed"), counts

    check_all(derived_expected=False)
    edits = [
        [{"op": "set_cell", "row_id": "r1", "column_id": k["status"], "value": "Diligence"}],      # moves between groups
        [{"op": "set_cell", "row_id": "r2", "column_id": cid("currency"), "value": 7.25}],         # a sum changes
        [{"op": "set_cell", "row_id": "r3", "column_id": k["status"], "value": "Committed"},       # a group of its own,
         {"op": "set_cell", "row_id": "r3", "column_id": cid("number"), "value": 99}],             # first in the sort
        [{"op": "set_cell", "row_id": "r3", "column_id": k["status"], "value": "Meeting"}],        # ... and gone again
        [{"op": "set_cell", "row_id": "r4", "column_id": cid("currency"), "value": 100_000}],      # its group comes first
        [{"op": "set_cell", "row_id": "r4", "column_id": cid("currency"), "value": 0}],            # a group's first row moves:
        [{"op": "set_cell", "row_id": "r5", "column_id": k["status"], "value": "Committed"},       # its next row leads it
         {"op": "set_cell", "row_id": "r5", "column_id": cid("currency"), "value": 200_000}],      # a new group, first
        [{"op": "set_cell", "row_id": "r6", "column_id": cid("number"), "value": None}],           # out of the filter
        [{"op": "set_cell", "row_id": "r7", "column_id": cid("checkbox"), "value": True},
         {"op": "set_cell", "row_id": "r8", "column_id": cid("fund"), "value": 5000}],
        [{"op": "archive_row", "row_id": "r9"}],
        [{"op": "restore_row", "row_id": "r9"}],
        [{"op": "add_row", "row_id": "new-first", "after_row_id": "", "cells": {
            k["name"]: "LP 1", k["status"]: "Soft commit", cid("number"): 4, cid("currency"): 1.5}}],
        [{"op": "move_row", "row_id": "r30", "after_row_id": ""}],
    ]
    for ops in edits:
        apply_ok(admin, *ops)
        check_all()
    # The view's first row (its group's first) sinks to the bottom: its group's next row leads it now.
    for _ in range(2):
        top = admin.get(ROWS, params={"view_id": views["by status, sorted by a formula"], "limit": 1}).json()["data"][0]["id"]
        apply_ok(admin, {"op": "set_cell", "row_id": top, "column_id": cid("currency"), "value": -1_000_000})
        check_all()
    # Several versions between two reads: the touched rows add up.
    apply_ok(admin, {"op": "set_cell", "row_id": "r11", "column_id": k["status"], "value": "Meeting"})
    apply_ok(admin, {"op": "archive_row", "row_id": "r12"})
    check_all()
    # Another set of columns: the groups are summed whole again, and still agree.
    apply_ok(admin, {"op": "add_column", "name": "Extra amount", "type": "number"},
             {"op": "set_cell", "row_id": "r14", "column_id": cid("number"), "value": 8})
    for name, config in configs.items():
        r = admin.get(ROWS, params={"view_id": views[name], "limit": 5})
        assert r.json()["groups"] == expected_groups(server, config), name
    assert server.app.grid.held(r.json()["version"]).view_counts.get("groups computed") == len(configs)
