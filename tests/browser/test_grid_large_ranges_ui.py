"""Ranges longer than the rows drawn: a paste and a fill reach every row (drawn or not) and are saved in one
request; our own paste of more ops than the event stream sends one by one does not reload the grid, someone
else's does."""

from .browser_helpers import column_ids, eventually, numbered_cell, rows_in_order, sign_in

ROWS = 2600  # x 2 columns: 5,200 ops, over the 5,000 after which the event stream says "reset"


def seed_rows(client, k, n):
    version = client.get("/api/fundraising/state").json()["data"]["version"]
    ops = [{"op": "add_row", "cells": {k["name"]: f"Investor {i}", k["lead_source"]: "Inbound", k["owner"]: "Alex"}}
           for i in range(n)]
    r = client.post("/api/fundraising/ops", {"base_version": version, "ops": ops})
    assert r.status_code == 200, r.text


def scroll_to_end(page):
    page.evaluate("() => { const h = document.querySelector('#grid .tabulator-tableholder'); h.scrollTop = h.scrollHeight; }")


def test_a_paste_and_a_fill_longer_than_the_rows_drawn(pages, server, admin):
    k = column_ids(admin)
    seed_rows(admin, k, ROWS)
    page = pages.open("/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page)
    page.locator(".count", has_text=f"{ROWS} investors").wait_for()
    page.locator(".live[data-live='live']").wait_for()
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))

    # Paste 2,600 x 2 from row 1's Lead Source: every row, one request, no reload of the rows.
    block = "".join(f"Source {i}\tOwner {i}\r\n" for i in range(ROWS))
    page.evaluate("text => navigator.clipboard.writeText(text)", block)
    numbered_cell(page, 1, k["lead_source"]).click()
    page.keyboard.press("Control+v")
    page.locator(".save-status[data-save-status='saved']").wait_for(timeout=60_000)
    rows = rows_in_order(admin)
    assert [(r["cells"].get(k["lead_source"]), r["cells"].get(k["owner"])) for r in rows] == \
        [(f"Source {i}", f"Owner {i}") for i in range(ROWS)]
    assert sum(1 for m, u in requests if m == "POST" and "/api/fundraising/ops" in u) == 1
    page.wait_for_timeout(1000)  # the stream's "reset" for those 5,200 ops has come by now
    assert not [u for m, u in requests if "/api/fundraising/rows" in u], "our own paste reloaded the rows"
    # A row that was never drawn shows its pasted value once scrolled to.
    scroll_to_end(page)
    numbered_cell(page, ROWS, k["owner"]).filter(has_text=f"Owner {ROWS - 1}").wait_for()

    # Ctrl+D from row 1 down to the last row (Owner): every row takes row 1's value.
    page.evaluate("() => { document.querySelector('#grid .tabulator-tableholder').scrollTop = 0; }")
    numbered_cell(page, 1, k["owner"]).click()
    scroll_to_end(page)
    numbered_cell(page, ROWS, k["owner"]).click(modifiers=["Shift"])
    page.keyboard.press("Control+d")
    eventually(lambda: {r["cells"].get(k["owner"]) for r in rows_in_order(admin)} == {"Owner 0"}, timeout=60)
    numbered_cell(page, ROWS, k["owner"]).filter(has_text="Owner 0").wait_for()

    # Someone else's change of more than 5,000 ops: the grid loads its rows again and shows it.
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    ops = [{"op": "set_cell", "row_id": r["id"], "column_id": c, "value": f"Theirs {i}"}
           for i, r in enumerate(rows) for c in (k["lead_source"], k["notes"])]
    with page.expect_request(lambda req: "/api/fundraising/rows" in req.url, timeout=30_000):
        r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": ops})
        assert r.status_code == 200, r.text
    page.evaluate("() => { document.querySelector('#grid .tabulator-tableholder').scrollTop = 0; }")
    numbered_cell(page, 1, k["lead_source"]).filter(has_text="Theirs 0").wait_for(timeout=30_000)
