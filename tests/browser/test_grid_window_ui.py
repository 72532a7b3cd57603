"""The window of rows (frontend/widgets/rowwindow.js): a view longer than the table holds in full keeps a
placeholder per row and fetches the cells near the view. Windowed here at 1,000 rows (the localStorage
override of config.js's WINDOW) over 3,000: the end and the middle show their real cells, a remote edit
shows, a copy over rows never fetched gives the right TSV, a paste and a fill over them are saved, and
the rows holding cells stay bounded."""
import json

from .browser_helpers import column_ids, eventually, numbered_cell, rows_in_order, sign_in

ROWS = 3000
WINDOW = {"rows": 1000, "pageRows": 100, "heldPages": 4, "margin": 50, "selectRows": 0}
HELD_BOUND = 1000  # (heldPages + the pages in view) x pageRows, with room to spare; far below ROWS

TABLE = """async () => {
  const url = document.querySelector('link[rel=modulepreload][href*="tabulator_esm"]').href;
  const { TabulatorFull } = await import(url);
  return TabulatorFull.findTable('#grid')[0];
}"""


def seed_rows(client, k, n):
    version = client.get("/api/fundraising/state").json()["data"]["version"]
    ops = [{"op": "add_row", "row_id": f"row-{i:05d}", "cells": {k["name"]: f"Investor {i}", k["owner"]: f"Owner {i}"}}
           for i in range(n)]
    r = client.post("/api/fundraising/ops", {"base_version": version, "ops": ops})
    assert r.status_code == 200, r.text


def scroll_to(page, fraction):
    page.evaluate("f => { const h = document.querySelector('#grid .tabulator-tableholder'); h.scrollTop = (h.scrollHeight - h.clientHeight) * f; }",
                  fraction)


def held_rows(page, placeholder_keys=1):
    """Rows of the table whose data holds more than the placeholder's (its id, and the grouped column's value)."""
    return page.evaluate(f"async () => {{ const t = await ({TABLE})(); return t.rowManager.rows.filter((r) => Object.keys(r.data).length > {placeholder_keys}).length; }}")


def test_a_windowed_grid_scrolls_edits_copies_pastes_and_fills(pages, server, admin):
    k = column_ids(admin)
    seed_rows(admin, k, ROWS)
    page = pages.open("/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("w => localStorage.setItem('crm.window', JSON.stringify(w))", WINDOW)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/fundraising/rows" in r.url else None)
    sign_in(page)
    page.locator(".count", has_text=f"{ROWS} investors").wait_for()
    page.wait_for_function("() => document.querySelector('#grid').getAttribute('aria-busy') !== 'true'")
    page.locator(".live[data-live='live']").wait_for()
    assert any("shape=ids" in u for u in asked), asked
    # The scrollbar is the whole listing's: every row has its place.
    height = page.evaluate("() => document.querySelector('#grid .tabulator-tableholder').scrollHeight")
    assert height >= ROWS * 30, height

    # The end, then the middle: their real cells.
    scroll_to(page, 1)
    numbered_cell(page, ROWS, k["name"]).filter(has_text=f"Investor {ROWS - 1}").wait_for(timeout=10_000)
    scroll_to(page, 0.5)
    n = page.wait_for_function("""() => {
      const shown = [...document.querySelectorAll('#grid .row-number')].map((e) => Number(e.textContent)).filter(Boolean).sort((a, b) => a - b);
      const n = shown[Math.floor(shown.length / 2)];
      return n > 1200 && n < 1800 ? n : false;  // once the rows of the middle are drawn
    }""").json_value()
    numbered_cell(page, n, k["name"]).filter(has_text=f"Investor {n - 1}").wait_for(timeout=10_000)
    assert held_rows(page) <= HELD_BOUND

    # Someone else's edit to a row in view shows; one to a row far away shows once scrolled to.
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": f"row-{n - 1:05d}", "column_id": k["owner"], "value": "Theirs here"},
        {"op": "set_cell", "row_id": "row-00010", "column_id": k["owner"], "value": "Theirs far"}]})
    assert r.status_code == 200, r.text
    numbered_cell(page, n, k["owner"]).filter(has_text="Theirs here").wait_for(timeout=10_000)
    scroll_to(page, 0)
    numbered_cell(page, 11, k["owner"]).filter(has_text="Theirs far").wait_for(timeout=10_000)

    # Copy rows 1..ROWS of Owner: most were never fetched, or were let go again.
    numbered_cell(page, 1, k["owner"]).click()
    scroll_to(page, 1)
    numbered_cell(page, ROWS, k["owner"]).click(modifiers=["Shift"])
    assert held_rows(page) <= HELD_BOUND
    page.evaluate("() => navigator.clipboard.writeText('')")
    page.keyboard.press("Control+c")
    page.locator(".notice", has_text=f"Copied {ROWS} rows").wait_for(timeout=20_000)
    text = page.evaluate("() => navigator.clipboard.readText()")
    owners = {10: "Theirs far", n - 1: "Theirs here"}
    assert text.split("\r\n") == [owners.get(i, f"Owner {i}") for i in range(ROWS)]

    # Paste over every row from row 1's Owner: saved in one request, every row.
    page.evaluate("text => navigator.clipboard.writeText(text)", "".join(f"Pasted {i}\r\n" for i in range(ROWS)))
    scroll_to(page, 0)
    numbered_cell(page, 1, k["owner"]).click()
    page.keyboard.press("Control+v")
    eventually(lambda: [r["cells"].get(k["owner"]) for r in rows_in_order(admin)] == [f"Pasted {i}" for i in range(ROWS)], timeout=60)
    page.locator(".save-status[data-save-status='saved']").wait_for(timeout=60_000)
    assert held_rows(page) <= HELD_BOUND
    scroll_to(page, 1)
    numbered_cell(page, ROWS, k["owner"]).filter(has_text=f"Pasted {ROWS - 1}").wait_for(timeout=10_000)

    # Ctrl+D from row 1 to the last row: every row takes row 1's value.
    scroll_to(page, 0)
    numbered_cell(page, 1, k["owner"]).click()
    scroll_to(page, 1)
    numbered_cell(page, ROWS, k["owner"]).click(modifiers=["Shift"])
    page.keyboard.press("Control+d")
    eventually(lambda: {r["cells"].get(k["owner"]) for r in rows_in_order(admin)} == {"Pasted 0"}, timeout=60)
    numbered_cell(page, ROWS, k["owner"]).filter(has_text="Pasted 0").wait_for(timeout=10_000)
    scroll_to(page, 0.5)
    page.wait_for_timeout(500)
    assert held_rows(page) <= HELD_BOUND
    assert json.loads(page.evaluate("() => localStorage.getItem('crm.window')")) == WINDOW


def open_windowed(pages, path="/"):
    page = pages.open(path)
    page.evaluate("w => localStorage.setItem('crm.window', JSON.stringify(w))", WINDOW)
    sign_in(page)
    page.locator(".count", has_text=f"{ROWS} investors").wait_for()
    page.wait_for_function("() => document.querySelector('#grid').getAttribute('aria-busy') !== 'true'")
    page.locator(".live[data-live='live']").wait_for()
    return page


def header_sums(page):
    """{group key: {fund column: the header's sum}} of the group headers drawn."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#grid .vt-group')].map((g) => [g.dataset.groupKey,
      Object.fromEntries([...g.querySelectorAll('.vt-group-sum')].map((s) => [s.dataset.columnId, Number(s.dataset.sum)]))]))""")


def test_a_windowed_grouped_grid_shows_the_servers_group_totals(pages, server, admin):
    k = column_ids(admin)
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "add_column", "name": name, "type": "fund", "column_id": f"fund-{n}", "fund": {"name": name, "vintage": 2024}}
        for n, name in (("iii", "Fund III"), ("iv", "Fund IV"))]})
    assert r.status_code == 200, r.text
    version = r.json()["data"]["version"]
    statuses = ["Contacted", "Meeting", "Committed"]
    ops = [{"op": "add_row", "row_id": f"row-{i:05d}", "cells": {k["name"]: f"Investor {i}", k["status"]: statuses[i % 3],
                                                                  "fund-iii": 1000 + i, "fund-iv": 7 * i}} for i in range(ROWS)]
    assert admin.post("/api/fundraising/ops", {"base_version": version, "ops": ops}).status_code == 200
    r = admin.post("/api/fundraising/views", {"name": "By status", "shared": True,
                                              "config": {"group_by": k["status"], "sorts": [{"column_id": k["status"], "direction": "asc"}]}})
    assert r.status_code == 201, r.text
    view_id = r.json()["data"]["id"]
    page = open_windowed(pages, f"/?view={view_id}")
    page.locator(f"#grid .vt-group[data-group-key='{statuses[0]}']").wait_for()

    def server_sums():
        groups = admin.get("/api/fundraising/rows", params={"view_id": view_id, "limit": 1}).json()["groups"]
        return {g["key"]: {f: g["sums"][f] for f in ("fund-iii", "fund-iv")} for g in groups}

    assert held_rows(page, 2) < ROWS / 2  # most rows are placeholders: their sums are not in the table
    want = server_sums()
    eventually(lambda: all(header_sums(page).get(key) == sums for key, sums in want.items() if key in header_sums(page)), timeout=10)
    drawn = header_sums(page)
    assert drawn and set(drawn) <= set(want), drawn

    # Someone else's edit to a row of the first group far from the view (never fetched): its header,
    # at the top, follows the server's totals.
    first = next(iter(want))
    listing = admin.get("/api/fundraising/rows", params={"view_id": view_id, "shape": "ids", "limit": ROWS}).json()
    far = [i for i, v in zip(listing["data"], listing["group_values"]) if v == first][-1]
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": far, "column_id": "fund-iii", "value": 5_000_000}]})
    assert r.status_code == 200, r.text
    want = server_sums()
    assert want[first]["fund-iii"] != drawn[first]["fund-iii"]
    eventually(lambda: header_sums(page).get(first) == want[first], timeout=10)
    assert held_rows(page, 2) < ROWS / 2


def test_dragging_the_fill_handle_over_rows_not_fetched_fills_them_and_undoes(pages, server, admin):
    k = column_ids(admin)
    seed_rows(admin, k, ROWS)
    page = open_windowed(pages)
    numbered_cell(page, 1, k["owner"]).click()
    handle = page.locator("[data-fill-handle]")
    handle.wait_for()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # Scroll to the end while dragging: the rows between were never fetched (or were let go again).
    scroll_to(page, 1)
    last = numbered_cell(page, ROWS, k["owner"])
    last.filter(has_text=f"Owner {ROWS - 1}").wait_for(timeout=10_000)
    assert held_rows(page) <= HELD_BOUND
    target = last.bounding_box()
    page.mouse.move(target["x"] + 10, target["y"] + target["height"] / 2, steps=3)
    assert page.locator("#grid .fill-target").count() > 0  # the drawn targets are marked
    page.mouse.up()
    eventually(lambda: {r["cells"].get(k["owner"]) for r in rows_in_order(admin)} == {"Owner 0"}, timeout=60)
    last.filter(has_text="Owner 0").wait_for(timeout=10_000)
    page.locator(".save-status[data-save-status='saved']").wait_for(timeout=60_000)

    # One undo step puts back every row's own value, the ones never fetched included.
    page.keyboard.press("Control+z")
    eventually(lambda: [r["cells"].get(k["owner"]) for r in rows_in_order(admin)] == [f"Owner {i}" for i in range(ROWS)], timeout=60)
    assert held_rows(page) <= HELD_BOUND
