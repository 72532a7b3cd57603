"""Two people in the grid at once, in two browser contexts: live edits, presence, conflicts, locks;
and the grid's accessibility (roles, focus) and its layout at 1280x800."""
import re
import time

import pytest
from playwright.sync_api import expect

from .browser_helpers import OUTPUT, eventually, seed_grid, sign_in

MAYA_PASSWORD = "maya password 12"


def columns_by_key(client):
    state = client.get("/api/fundraising/state").json()["data"]
    return {c["key"] or c["name"]: c["id"] for c in state["grid"]["columns"]}


def cell(page, row_number, column_id):
    """The cell of the row at a 1-based position (all rows are rendered in these small grids)."""
    return page.locator(f"#grid .tabulator-table > .tabulator-row:nth-child({row_number}) "
                        f".tabulator-cell[tabulator-field='{column_id}']")


def row_ids(client):
    """Row ids in the order the default view shows them."""
    view = client.get("/api/fundraising/views").json()["data"][0]
    return [r["id"] for r in client.get("/api/fundraising/rows", params={"view_id": view["id"], "limit": 1000}).json()["data"]]


def server_cell(client, row_id, column_id):
    state = client.get("/api/fundraising/state").json()["data"]
    return next(r for r in state["grid"]["rows"] if r["id"] == row_id)["cells"].get(column_id)


def open_grid(pages, user="admin", password="correct horse battery", viewport=(1440, 900)):
    page = pages.open("/", viewport=viewport)
    sign_in(page, user, password)
    page.locator(".live[data-live='live']").wait_for()  # the event stream is open
    return page


@pytest.fixture
def two(pages, server, admin):
    """Admin (A) and Maya (B), each signed in in their own browser context, over a 12-row grid."""
    seed_grid(admin, rows=12)
    server.add_user(admin, "maya", password=MAYA_PASSWORD)
    a = open_grid(pages)
    b = open_grid(pages, "maya", MAYA_PASSWORD)
    return a, b, columns_by_key(admin), row_ids(admin)


def expect_noise(pages, *texts):
    """Console errors these tests cause on purpose (offline requests, a 409 answer) are not failures."""
    pages.problems[:] = [p for p in pages.problems if not any(t in p for t in texts)]


OFFLINE_NOISE = ("net::ERR_INTERNET_DISCONNECTED", "status of 409")


def type_into(page, locator, text):
    """Open the cell's editor, replace its text, commit with Enter."""
    locator.dblclick()
    editor = page.locator("#grid .cell-editor")
    editor.wait_for()
    editor.fill(text)
    editor.press("Enter")


def wait_for_text(page, locator_css, text, timeout=5000):
    """Waits, checking every frame, until the element's text is `text`; returns the seconds waited."""
    started = time.monotonic()
    page.wait_for_function("([css, text]) => document.querySelector(css)?.textContent === text",
                           arg=[locator_css, text], polling="raf", timeout=timeout)
    return time.monotonic() - started


def test_an_edit_appears_in_the_other_browser_within_a_second(two):
    a, b, cols, ids = two
    owner = cols["owner"]
    css = f"#grid .tabulator-table > .tabulator-row:nth-child(2) .tabulator-cell[tabulator-field='{owner}']"
    cell(a, 2, owner).dblclick()
    editor = a.locator("#grid .cell-editor")
    editor.fill("Casey Live")
    started = time.monotonic()
    editor.press("Enter")  # saved after the 250 ms debounce, then sent to B on the event stream
    wait_for_text(b, css, "Casey Live")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"B saw A's edit after {elapsed:.2f} s"
    expect(cell(b, 2, owner)).to_have_class(re.compile(r"\bflash\b"))  # and it is pointed out
    a.locator("[data-save-status='saved']").wait_for()


def test_presence_shows_the_other_person_and_outlines_their_cell(two):
    a, b, cols, ids = two
    expect(a.locator(".topbar .presence .avatar[title^='maya']")).to_be_visible()
    expect(b.locator(".topbar .presence .avatar[title^='admin']")).to_be_visible()
    expect(a.locator(".topbar .presence .avatar")).to_have_count(1)  # others only, not yourself

    cell(b, 3, cols["status"]).click()
    outlined = cell(a, 3, cols["status"])
    expect(outlined).to_have_class(re.compile(r"\bpeer-cell\b"))
    assert outlined.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    # B moves on: the outline follows.
    cell(b, 5, cols["owner"]).click()
    expect(cell(a, 5, cols["owner"])).to_have_class(re.compile(r"\bpeer-cell\b"))
    expect(outlined).not_to_have_class(re.compile(r"\bpeer-cell\b"))
    expect(a.locator("#grid .peer-cell")).to_have_count(1)


@pytest.mark.parametrize("choice", ["theirs", "mine"])
def test_the_same_cell_changed_by_both_asks_whose_value_stays(two, pages, admin, choice):
    a, b, cols, ids = two
    owner, notes = cols["owner"], cols["notes"]
    # B's edits are held (offline) while A saves the same cell: B's save then carries an older base_version.
    b.context.set_offline(True)
    type_into(b, cell(b, 2, owner), "Mine from B")
    type_into(b, cell(b, 4, notes), "B's note")  # another cell: merges without a question
    b.locator("[data-save-status='offline']").wait_for()
    type_into(a, cell(a, 2, owner), "Theirs from A")
    a.locator("[data-save-status='saved']").wait_for()
    assert server_cell(admin, ids[1], owner) == "Theirs from A"

    b.context.set_offline(False)  # the queue sends at once on "online"
    dialog = b.locator("dialog[data-conflict]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("tbody tr")).to_have_count(1)  # only the cell both changed
    row = dialog.locator("tbody tr").first
    expect(row.locator("th")).to_have_text("Owner")
    expect(row.locator("td").nth(0)).to_have_text("Theirs from A")
    expect(row.locator("td").nth(1)).to_have_text("admin")
    expect(row.locator("td").nth(2)).to_have_text("Mine from B")

    if choice == "theirs":
        dialog.get_by_role("button", name="Keep theirs").click()
        expected = "Theirs from A"
    else:
        dialog.get_by_role("button", name="Use mine").click()
        expected = "Mine from B"
    expect(dialog).to_have_count(0)
    b.locator("[data-save-status='saved']").wait_for()
    deadline = time.monotonic() + 10
    while server_cell(admin, ids[1], owner) != expected or server_cell(admin, ids[3], notes) != "B's note":
        assert time.monotonic() < deadline, "the server never got the chosen values"
        time.sleep(0.1)
    expect(cell(b, 2, owner)).to_have_text(expected)
    expect(cell(a, 2, owner)).to_have_text(expected)
    expect(cell(a, 4, notes)).to_have_text("B's note")  # the other cell merged into A's grid too
    expect(b.locator("dialog")).to_have_count(0)
    expect_noise(pages, *OFFLINE_NOISE)


def test_edits_to_different_cells_merge_without_a_dialog(two, pages, admin):
    a, b, cols, ids = two
    owner, status_col, notes = cols["owner"], cols["status"], cols["notes"]
    b.context.set_offline(True)
    type_into(b, cell(b, 6, notes), "Only B touched this")
    b.locator("[data-save-status='offline']").wait_for()
    type_into(a, cell(a, 6, owner), "Only A touched this")
    a.locator("[data-save-status='saved']").wait_for()
    b.context.set_offline(False)
    b.locator("[data-save-status='saved']").wait_for()
    expect(b.locator("dialog[data-conflict]")).to_have_count(0)
    expect(cell(a, 6, notes)).to_have_text("Only B touched this")
    expect(cell(b, 6, owner)).to_have_text("Only A touched this")  # delivered when B's stream reconnects
    assert server_cell(admin, ids[5], owner) == "Only A touched this"
    assert server_cell(admin, ids[5], notes) == "Only B touched this"
    assert server_cell(admin, ids[5], status_col) is not None
    expect_noise(pages, *OFFLINE_NOISE)


def test_a_cell_someone_is_editing_shows_their_name_and_cannot_be_edited(two, admin):
    a, b, cols, ids = two
    owner = cols["owner"]
    cell(b, 4, owner).dblclick()  # B opens the editor and keeps it open
    expect(b.locator("#grid .cell-editor")).to_be_visible()

    locked = cell(a, 4, owner)
    expect(locked).to_have_attribute("data-peer", "maya")
    assert "maya" in locked.evaluate("el => getComputedStyle(el, '::after').content")  # the name is drawn on the cell
    locked.dblclick()
    expect(a.locator("#grid .cell-editor")).to_have_count(0)
    locked.click()
    a.keyboard.type("x")  # typing on a selected cell would start editing it
    expect(a.locator("#grid .cell-editor")).to_have_count(0)
    locked.press("Enter")
    expect(a.locator("#grid .cell-editor")).to_have_count(0)
    # The server refuses it too.
    version = admin.get("/api/fundraising/rows", params={"limit": 1}).json()["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": ids[3], "column_id": owner, "value": "Sneaky"}]})
    assert r.status_code == 423, r.text

    b.locator("#grid .cell-editor").press("Escape")  # B is done: the cell is free again
    expect(locked).not_to_have_attribute("data-peer", re.compile(".*"))
    locked.dblclick()
    expect(a.locator("#grid .cell-editor")).to_be_visible()
    a.locator("#grid .cell-editor").press("Escape")


def test_grid_roles_and_a_visible_focus_on_the_active_cell(pages, server, admin):
    seed_grid(admin, rows=20)
    page = open_grid(pages)
    expect(page.get_by_role("grid", name="Fundraising grid")).to_be_visible()
    expect(page.get_by_role("toolbar", name="Grid tools")).to_be_visible()
    expect(page.locator(".save-status")).to_have_attribute("role", "status")
    expect(page.get_by_role("status").filter(has_text="All changes saved")).to_have_count(1)
    roles = page.evaluate("""() => {
      const grid = document.querySelector('#grid');
      const rows = [...grid.querySelectorAll('.tabulator-table > .tabulator-row')];
      const cells = rows.flatMap((r) => [...r.querySelectorAll(':scope > .tabulator-cell')]);
      const heads = [...grid.querySelectorAll('.tabulator-header .tabulator-col')];
      const count = (list, role) => list.filter((e) => e.getAttribute('role') === role).length;
      return { grid: grid.getAttribute('role'), rows: rows.length, rowRoles: count(rows, 'row'),
               cells: cells.length, cellRoles: count(cells, 'gridcell'),
               heads: heads.length, headRoles: count(heads, 'columnheader'),
               headerRow: grid.querySelector('.tabulator-headers').getAttribute('role') };
    }""")
    assert roles["grid"] == "grid"
    assert roles["rows"] >= 10 and roles["rowRoles"] == roles["rows"], roles
    assert roles["cells"] > 100 and roles["cellRoles"] == roles["cells"], roles
    assert roles["heads"] >= 13 and roles["headRoles"] == roles["heads"], roles
    assert roles["headerRow"] == "row"
    expect(page.get_by_role("row").filter(has=page.get_by_role("gridcell", name="Cambridge Associates"))).to_have_count(1)
    expect(page.get_by_role("columnheader", name=re.compile("Investor"))).to_have_count(1)

    # The active cell: an accent border over it, which arrow keys move.
    target = cell(page, 3, columns_by_key(admin)["organization"])
    target.click()
    assert page.evaluate("document.querySelector('#grid').contains(document.activeElement)")
    marker = page.locator("#grid .tabulator-range-cell-active")

    def marked(locator):
        box, mark = locator.bounding_box(), marker.bounding_box()
        return all(abs(box[k] - mark[k]) <= 2 for k in ("x", "y", "width", "height"))

    expect(marker).to_be_visible()
    assert marked(target)
    style = marker.evaluate("el => { const s = getComputedStyle(el); return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor]; }")
    assert float(style[0].rstrip("px")) >= 2 and style[1] == "solid", style
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent == "#2f6fde" and style[2] == "rgb(47, 111, 222)", style
    before = marker.bounding_box()["x"]
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(x) => document.querySelector('#grid .tabulator-range-cell-active').getBoundingClientRect().x > x",
                           arg=before + 10)
    assert marked(cell(page, 3, columns_by_key(admin)["contacts"]))


def test_toolbar_fits_at_1280_and_a_screenshot_of_a_realistic_grid(pages, server, admin):
    seed_grid(admin, rows=80)
    page = open_grid(pages, viewport=(1280, 800))
    expect(page.locator(".count")).to_have_text("80 investors")
    toolbar = page.get_by_role("toolbar", name="Grid tools")
    fits = toolbar.evaluate("""(bar) => {
      const box = bar.getBoundingClientRect();
      const items = [...bar.querySelectorAll('button, input, select, .count, .save-status, .live')]
        .filter((el) => el.getClientRects().length);  // laid out (not hidden)
      const outside = items.filter((el) => {
        const r = el.getBoundingClientRect();
        return r.left < box.left || r.right > box.right + 0.5 || r.top < box.top || r.bottom > box.bottom + 0.5
          || r.left < 0 || r.right > window.innerWidth;
      }).map((el) => el.outerHTML.slice(0, 80));
      return { outside, items: items.length, scroll: bar.scrollWidth - bar.clientWidth,
               page: document.documentElement.scrollWidth - window.innerWidth, right: box.right };
    }""")
    assert fits["items"] >= 8, fits
    assert fits["outside"] == [], fits
    assert fits["scroll"] <= 0 and fits["page"] <= 0 and fits["right"] <= 1280, fits
    for name in ("+ Add investor", "More actions"):
        expect(page.get_by_role("button", name=name)).to_be_in_viewport()
    expect(page.locator(".save-status[role='status']")).to_be_in_viewport()
    OUTPUT.mkdir(exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(OUTPUT / "grid-1280.png"))


def add_partners(client, n) -> str:
    """n rows named "Limited Partner 0001"...; returns the name column's id."""
    state = client.get("/api/fundraising/state").json()["data"]
    name = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "name")
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "add_row", "cells": {name: f"Limited Partner {i + 1:04d}"}} for i in range(n)]})
    assert r.status_code == 200, r.text
    return name


def later_page(url: str) -> bool:
    """A request for a page of rows after the first (those name the first page's version)."""
    return "/api/fundraising/rows?" in url and "version=" in url


def test_a_grid_of_several_pages_is_complete_and_scrolls_to_its_end(pages, server, admin):
    """2,300 rows: a first page of 100, then pages of 1,000; the grid is aria-busy until all are drawn."""
    add_partners(admin, 2300)
    page = pages.open("/")
    sign_in(page)
    expect(page.locator(".count")).to_have_text("2300 investors")
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")
    page.locator("#grid .tabulator-tableholder").hover()
    page.mouse.wheel(0, 12_000)
    expect(page.locator("#grid .tabulator-row", has_text="Limited Partner 0")).not_to_have_count(0)
    holder = page.locator("#grid .tabulator-tableholder")
    holder.evaluate("(h) => { h.scrollTop = h.scrollHeight; }")
    expect(page.locator("#grid .tabulator-row", has_text="Limited Partner 2300")).to_be_visible()
    expect(page.locator("#grid .tabulator-row .row-number", has_text=re.compile("^2300$"))).to_be_visible()
    holder.evaluate("(h) => { h.scrollTop = 0; }")
    expect(page.locator("#grid .tabulator-row", has_text="Limited Partner 0001")).to_be_visible()


def test_the_first_rows_are_usable_while_the_others_load_and_changes_meanwhile_arrive(pages, server, admin):
    """The later pages are held back: the first rows are drawn and editable, the toolbar already counts
    every row. Someone renames a row of a later page meanwhile; the page still comes from the first
    page's version, and the event stream then brings the rename: nothing is missed."""
    name = add_partners(admin, 2300)
    late_row = next(r["id"] for r in admin.get("/api/fundraising/rows", params={"q": "Limited Partner 2000"}).json()["data"])
    page = pages.open("/")
    held, versions, released = [], [], []
    page.route(later_page, lambda route: route.continue_() if released else held.append(route))
    page.on("response", lambda r: "/api/fundraising/rows?" in r.url and "offset=0" in r.url and versions.append(r.json()["version"]))
    sign_in(page)
    expect(page.locator(".count")).to_have_text("2300 investors")
    expect(page.locator("#grid")).to_have_attribute("aria-busy", "true")
    first = page.locator("#grid .tabulator-row", has_text="Limited Partner 0001").locator(f".tabulator-cell[tabulator-field='{name}']")
    first.dblclick()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Edited before the rest came")
    page.keyboard.press("Enter")
    expect(page.locator(".save-status")).to_have_text("All changes saved")
    assert eventually(lambda: server_cell(admin, row_ids(admin)[0], name) == "Edited before the rest came")
    # The three later pages asked for together (TIMING.parallelPages), each pinned to the first page's version.
    assert len(held) == 3 and all(f"version={versions[0]}" in route.request.url for route in held)

    state = admin.get("/api/fundraising/state").json()["data"]
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "set_cell", "row_id": late_row, "column_id": name, "value": "Renamed while loading"}]})
    assert r.status_code == 200, r.text
    released.append(True)
    for route in held:
        route.continue_()
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")
    page.locator("#grid .tabulator-tableholder").evaluate(
        "(h) => { h.scrollTop = 1999 * h.querySelector('.tabulator-row').offsetHeight - 100; }")
    expect(page.locator("#grid .tabulator-row .row-number", has_text=re.compile("^2000$"))).to_be_visible()
    expect(page.locator("#grid .tabulator-row", has_text="Renamed while loading")).to_be_visible()
    expect(page.locator("#grid .tabulator-row", has_text="Limited Partner 2000")).to_have_count(0)
    expect(page.locator(".count")).to_have_text("2300 investors")


def test_when_the_server_no_longer_holds_the_first_pages_version_the_rows_load_again(pages, server, admin):
    """Many edits (each read, so each has its snapshot) pass between the first page and the second:
    the server answers 409 for the old version and the grid loads again, ending whole and current."""
    name = add_partners(admin, 1500)
    rows = admin.get("/api/fundraising/rows", params={"limit": 1000}).json()["data"]
    page = pages.open("/")
    refused, asked = [], []

    def edit_meanwhile(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            for n in range(6):
                state = admin.get("/api/fundraising/state").json()["data"]
                r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
                    {"op": "set_cell", "row_id": rows[n]["id"], "column_id": name, "value": f"Moved on {n}"}]})
                assert r.status_code == 200, r.text
                admin.get("/api/fundraising/rows", params={"limit": 1})
        route.continue_()

    page.route(later_page, edit_meanwhile)
    page.on("response", lambda r: later_page(r.url) and r.status == 409 and refused.append(r.url))
    sign_in(page)
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")
    assert 1 <= len(refused) <= 2 and len(asked) >= 3  # the two later pages were asked for together
    expect(page.locator(".count")).to_have_text("1500 investors")
    expect(page.locator("#grid .tabulator-row", has_text="Moved on 5")).to_be_visible()
    expect(page.locator("#grid .tabulator-row", has_text="Limited Partner 0006")).to_have_count(0)
    pages.problems[:] = [p for p in pages.problems if "409" not in p]  # the refused page, logged by Chromium


def test_a_search_typed_while_rows_load_replaces_them_and_stops_the_old_pages(pages, server, admin):
    add_partners(admin, 2300)
    page = pages.open("/")
    held, released, asked = [], [], []

    def hold(route):
        asked.append(route.request.url)
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(later_page, hold)
    sign_in(page)
    expect(page.locator(".count")).to_have_text("2300 investors")
    matching = admin.get("/api/fundraising/rows", params={"q": "Partner 000"}).json()["total"]
    assert 1 < matching < 100  # one page
    page.locator("#grid-search").fill("Partner 000")
    expect(page.locator(".count")).to_have_text(f"{matching} investors")
    released.append(True)
    for route in held:
        route.continue_()
    expect(page.locator("#grid")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#grid .tabulator-row")).to_have_count(matching)
    page.wait_for_timeout(500)  # time enough to ask for more, were it still going
    # The old listing asked for its three later pages together, and for no more.
    assert [url for url in asked if "q=" not in url] == [route.request.url for route in held] and len(held) == 3
