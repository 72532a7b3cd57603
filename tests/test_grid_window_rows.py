"""What the SPA's window of rows asks of GET /api/fundraising/rows (frontend/widgets/rowwindow.js).

`shape=ids`: a listing's ids only, through the view and search, in the view's order, far past the
1,000 rows of a page (and the grouped column's values when the view groups); `ids=a,b,...`: those
rows in that order, in either shape, whatever the view; bad values are 422s naming the parameter.
"""
from test_grid_ops import apply_ok, get_state, keys

from crm.fundraising import compact, grid

ROWS = "/api/fundraising/rows"


def seed(admin, n=12):
    k = keys(get_state(admin))
    apply_ok(admin, *({"op": "add_row", "row_id": f"r{i}", "cells": {k["name"]: f"LP {i:02d}", k["status"]: ["Meeting", "Contacted"][i % 2]}}
                      for i in range(n)))
    return k


def test_the_ids_of_a_listing_through_a_view_and_search(admin):
    k = seed(admin)
    everything = admin.get(ROWS, params={"shape": "ids"}).json()
    assert everything["shape"] == "ids" and everything["total"] == 12 + len(get_state(admin)["grid"]["rows"]) - 12
    assert [i for i in everything["data"] if i.startswith("r")] == [f"r{i}" for i in range(12)]
    assert everything["limit"] == grid.MAX_IDS_PAGE and "group_by" not in everything
    view = admin.post("/api/fundraising/views", {"name": "Desc", "config": {
        "sorts": [{"column_id": k["name"], "direction": "desc"}], "group_by": k["status"]}}).json()["data"]
    page = admin.get(ROWS, params={"shape": "ids", "view_id": view["id"], "q": "LP"}).json()
    assert page["data"] == [f"r{i}" for i in reversed(range(12))]
    assert page["group_by"] == k["status"] and page["group_values"] == [["Meeting", "Contacted"][i % 2] for i in reversed(range(12))]
    assert len(page["groups"]) == 2
    # The same listing as pages of full rows gives the same ids in the same order.
    full = admin.get(ROWS, params={"view_id": view["id"], "q": "LP", "shape": "compact"}).json()
    assert [r["id"] for r in compact.expand(full)] == page["data"]
    part = admin.get(ROWS, params={"shape": "ids", "view_id": view["id"], "q": "LP", "offset": "3", "limit": "2",
                                   "version": str(page["version"])}).json()
    assert part["data"] == ["r8", "r7"] and part["total"] == 12


def test_rows_asked_for_by_id_in_both_shapes(admin):
    k = seed(admin)
    apply_ok(admin, {"op": "archive_row", "row_id": "r4"})
    asked = "r5,r1,r4,nobody,r1"
    small = admin.get(ROWS, params={"ids": asked, "shape": "compact"}).json()
    full = admin.get(ROWS, params={"ids": asked}).json()
    assert [r["id"] for r in full["data"]] == ["r5", "r1", "r1"]  # archived and unknown ids left out
    assert compact.expand(small) == full["data"] and small["total"] == 3 and small["offset"] == 0
    assert full["data"][0]["cells"][k["name"]] == "LP 05"
    # A view and a search do not narrow rows asked for by id.
    view = admin.post("/api/fundraising/views", {"name": "None", "config": {
        "filters": {"conjunction": "and", "conditions": [{"column_id": k["name"], "operator": "contains", "value": "zzz"}]}}}).json()["data"]
    assert [r["id"] for r in admin.get(ROWS, params={"ids": "r2", "view_id": view["id"], "q": "zzz"}).json()["data"]] == ["r2"]
    # The current values, and a pinned version's when asked.
    before = small["version"]
    apply_ok(admin, {"op": "set_cell", "row_id": "r5", "column_id": k["name"], "value": "Renamed"})
    assert admin.get(ROWS, params={"ids": "r5"}).json()["data"][0]["cells"][k["name"]] == "Renamed"
    pinned = admin.get(ROWS, params={"ids": "r5", "version": str(before)}).json()
    assert pinned["version"] == before and pinned["data"][0]["cells"][k["name"]] == "LP 05"


def test_bad_values_are_422s_naming_them(admin):
    seed(admin, 2)
    for params, field in (({"ids": ""}, "ids"), ({"ids": "r1,,r2"}, "ids"), ({"ids": "x" * 65}, "ids"),
                          ({"ids": ",".join(["r1"] * (grid.MAX_ASKED_IDS + 1))}, "ids"),
                          ({"ids": "r1", "archived": "1"}, "ids"), ({"shape": "idz"}, "shape"),
                          ({"shape": "ids", "limit": str(grid.MAX_IDS_PAGE + 1)}, "limit"),
                          ({"shape": "compact", "limit": "1001"}, "limit"), ({"shape": "ids", "limit": "0"}, "limit")):
        r = admin.get(ROWS, params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.json()["fields"], (params, r.text)
