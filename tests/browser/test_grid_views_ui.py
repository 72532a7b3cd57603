"""The view tools in a real browser: filter builder, sorts, grouping, hidden fields, layout, view management."""
import re

from playwright.sync_api import expect

from .browser_helpers import seed_grid, sign_in

STATUSES = ["Not contacted", "Contacted", "Meeting", "Diligence", "Soft commit", "Committed", "Passed"]


def columns_by_key(client):
    state = client.get("/api/fundraising/state").json()["data"]
    return {c["key"] or c["id"]: c for c in state["grid"]["columns"]}


def make_view(client, name, shared=False, config=None, locked=False):
    r = client.post("/api/fundraising/views", {"name": name, "shared": shared, "locked": locked, "config": config or {}})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def get_view(client, view_id):
    return next((v for v in client.get("/api/fundraising/views").json()["data"] if v["id"] == view_id), None)


def all_rows(client):
    """Every row in grid order (the order the server breaks sort ties with)."""
    return client.get("/api/fundraising/rows", params={"limit": 1000}).json()["data"]


def open_grid(pages, view_id, user="admin", password="correct horse battery"):
    page = pages.open(f"/?view={view_id}")
    sign_in(page, user, password)
    page.wait_for_url(re.compile(rf"view={view_id}"))
    return page


def investor_cells(page, name_id):
    return page.locator(f"#grid .tabulator-row:not(.tabulator-group) .tabulator-cell[tabulator-field='{name_id}']")


def tool(page, key):
    return page.locator(f"[data-view-tool='{key}']")


def panel(page, key):
    return page.locator(f"[data-view-panel='{key}']")


def layout_saved(page):
    """Waits for the next PATCH of a view (layout changes are saved a moment after they happen)."""
    return page.expect_response(lambda r: r.request.method == "PATCH" and "/api/fundraising/views/" in r.url and r.ok)


def set_condition(cond, column, operator, value=None):
    cond.get_by_label("Field").select_option(label=column)
    cond.get_by_label("Operator").select_option(label=operator)
    if value is None:
        return
    box = cond.get_by_label("Value")
    if box.evaluate("el => el.tagName") == "SELECT":
        box.select_option(label=value)
    else:
        box.fill(value)


def test_nested_filter_and_two_level_sort_are_saved_and_shown(pages, server, admin):
    seed_grid(admin, rows=60)
    cols = columns_by_key(admin)
    name_id, owner_id, status_id = cols["name"]["id"], cols["owner"]["id"], cols["status"]["id"]
    view = make_view(admin, "Pipeline")
    page = open_grid(pages, view["id"])
    expect(tool(page, "filter")).to_have_text("Filter")

    # Owner is Alex AND (Status is Committed OR Check size > 5,000,000)
    tool(page, "filter").click()
    filters = panel(page, "filter")
    expect(filters).to_be_visible()
    expect(filters).to_contain_text("No filter conditions")
    filters.locator("[data-action=add-condition]").click()
    set_condition(filters.locator(".vt-cond").nth(0), "Owner", "is", "Alex")
    filters.locator("[data-action=add-group]").first.click()
    nested = filters.locator(".vt-nested")
    expect(nested).to_have_count(1)
    set_condition(nested.locator(".vt-cond").nth(0), "Status", "is", "Committed")
    nested.locator("[data-action=add-condition]").click()
    set_condition(nested.locator(".vt-cond").nth(1), "Check size", ">", "5000000")
    nested.get_by_label(re.compile("Match all")).select_option("or")
    expect(filters.locator(".vt-root > .vt-fline > .vt-lead-cell > select.vt-conj")).to_have_value("and")
    filters.locator("[data-action=save-filter]").click()
    expect(tool(page, "filter")).to_have_text("Filter (3)")
    expect(filters).to_be_hidden()

    # Sort by Status (options order), then Check size descending.
    tool(page, "sort").click()
    sorts = panel(page, "sort")
    sorts.locator("[data-action=add-sort]").click()
    sorts.get_by_label("Sort level 1: field").select_option(label="Status")
    sorts.locator("[data-action=add-sort]").click()
    sorts.get_by_label("Sort level 2: field").select_option(label="Check size")
    sorts.get_by_label("Sort level 2: direction").select_option("desc")
    sorts.locator("[data-action=save-sort]").click()
    expect(tool(page, "sort")).to_have_text("Sort (2)")

    # The server has exactly what was built.
    saved = get_view(admin, view["id"])["config"]
    assert saved["filters"] == {"conjunction": "and", "conditions": [
        {"column_id": owner_id, "operator": "is", "value": "Alex"},
        {"conjunction": "or", "conditions": [
            {"column_id": status_id, "operator": "is", "value": "Committed"},
            {"column_id": "check-size", "operator": ">", "value": 5000000}]}]}
    assert saved["sorts"] == [{"column_id": status_id, "direction": "asc"}, {"column_id": "check-size", "direction": "desc"}]

    # The grid shows what those rules give, computed here independently of the server's engine.
    rows = [r["cells"] for r in all_rows(admin)]
    wanted = [c for c in rows if c.get(owner_id) == "Alex" and (c.get(status_id) == "Committed" or (c.get("check-size") or 0) > 5_000_000)]
    wanted.sort(key=lambda c: -(c.get("check-size") or 0))
    wanted.sort(key=lambda c: STATUSES.index(c[status_id]))
    names = [c[name_id] for c in wanted]
    assert 2 <= len(names) < 30, names
    via_api = admin.get("/api/fundraising/rows", params={"view_id": view["id"], "limit": 1000}).json()["data"]
    assert [r["cells"][name_id] for r in via_api] == names
    expect(investor_cells(page, name_id)).to_have_text(names)
    expect(page.locator(".count")).to_have_text(f"{len(names)} investors")

    # After a reload the view still filters and sorts the same way.
    page.reload()
    page.wait_for_selector("#grid .tabulator-row")
    expect(tool(page, "filter")).to_have_text("Filter (3)")
    expect(tool(page, "sort")).to_have_text("Sort (2)")
    expect(investor_cells(page, name_id)).to_have_text(names)

    # Reopening the builder shows the saved nested structure.
    tool(page, "filter").click()
    expect(filters.locator(".vt-cond")).to_have_count(3)
    expect(filters.locator(".vt-nested .vt-cond")).to_have_count(2)
    expect(filters.locator(".vt-cond").nth(0).get_by_label("Value")).to_have_value("Alex")
    expect(filters.locator(".vt-nested .vt-cond").nth(1).get_by_label("Value")).to_have_value("5000000")
    page.keyboard.press("Escape")
    expect(filters).to_be_hidden()
    expect(tool(page, "filter")).to_be_focused()


def test_group_by_a_single_select_shows_counts_and_fund_sums(pages, server, admin):
    seed_grid(admin, rows=24, seed=11)
    cols = columns_by_key(admin)
    name_id, status_id = cols["name"]["id"], cols["status"]["id"]
    view = make_view(admin, "By stage", config={"sorts": [{"column_id": status_id, "direction": "asc"}]})
    page = open_grid(pages, view["id"])

    tool(page, "group").click()
    group_panel = panel(page, "group")
    group_panel.get_by_label("Group by field").select_option(label="Status")
    expect(tool(page, "group")).to_have_text("Group: Status")
    assert get_view(admin, view["id"])["config"]["group_by"] == status_id

    rows = [r["cells"] for r in all_rows(admin)]
    expected = {}
    for c in rows:
        g = expected.setdefault(c[status_id], {"count": 0, "fund-iii": 0, "fund-iv": 0})
        g["count"] += 1
        g["fund-iii"] += c.get("fund-iii") or 0
        g["fund-iv"] += c.get("fund-iv") or 0
    order = [s for s in STATUSES if s in expected]
    assert len(order) >= 3

    # Collapse every group so that every header is on screen, then check each one.
    group_panel.get_by_role("button", name="Collapse all").click()
    headers = page.locator("#grid .tabulator-group")
    expect(headers).to_have_count(len(order))
    expect(investor_cells(page, name_id)).to_have_count(0)
    for i, status in enumerate(order):
        header = headers.nth(i)
        expect(header.locator(".pill")).to_have_text(status)
        expect(header.locator(".vt-group-count")).to_have_text(f"{expected[status]['count']} investor" + ("" if expected[status]["count"] == 1 else "s"))
        for fund in ("fund-iii", "fund-iv"):
            total = expected[status][fund]
            sum_el = header.locator(f".vt-group-sum[data-column-id='{fund}']")
            expect(sum_el).to_have_attribute("data-sum", re.compile(rf"^{int(total)}(\.0+)?$"))
            expect(sum_el).to_contain_text(f"${total:,.0f}")

    # A group opens again from the keyboard, showing its rows.
    page.keyboard.press("Escape")
    expect(group_panel).to_be_hidden()
    first = headers.nth(0).locator(".vt-group-toggle")
    expect(first).to_have_attribute("aria-expanded", "false")
    first.focus()
    page.keyboard.press("Enter")
    expect(investor_cells(page, name_id)).to_have_count(expected[order[0]]["count"])
    expect(headers.nth(0).locator(".vt-group-toggle")).to_have_attribute("aria-expanded", "true")

    # Someone else adds a commitment: the group's sum follows the live update.
    row = next(r for r in all_rows(admin) if r["cells"][status_id] == order[0])
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": row["id"], "column_id": "fund-iii", "value": (row["cells"].get("fund-iii") or 0) + 1_250_000}]})
    assert r.status_code == 200, r.text
    total = expected[order[0]]["fund-iii"] + 1_250_000
    expect(headers.nth(0).locator(".vt-group-sum[data-column-id='fund-iii']")).to_contain_text(f"${total:,.0f}")

    # Grouping is part of the saved view.
    page.reload()
    page.wait_for_selector("#grid .tabulator-group")
    expect(tool(page, "group")).to_have_text("Group: Status")
    expect(page.locator("#grid .tabulator-group").first.locator(".pill")).to_have_text(order[0])


def test_hidden_fields_frozen_columns_row_height_widths_and_order_persist(pages, server, admin):
    seed_grid(admin, rows=20)
    cols = columns_by_key(admin)
    name_id, org_id, notes_id = cols["name"]["id"], cols["organization"]["id"], cols["notes"]["id"]
    view = make_view(admin, "Layout")
    page = open_grid(pages, view["id"])
    notes_header = page.locator(f"#grid .tabulator-col[tabulator-field='{notes_id}']")
    expect(notes_header).to_be_visible()

    # Hide Notes: the column goes at once (no reload), the view saves it a moment later.
    tool(page, "hide").click()
    with layout_saved(page):
        panel(page, "hide").get_by_label("Notes").uncheck()
    expect(notes_header).to_be_hidden()
    expect(tool(page, "hide")).to_have_text("Hide fields (1)")
    assert get_view(admin, view["id"])["config"]["hidden"] == [notes_id]
    page.keyboard.press("Escape")

    # Freeze two columns; row height tall.
    tool(page, "layout").click()
    layout = panel(page, "layout")
    layout.get_by_label("Frozen columns").select_option("2")
    frozen = page.locator("#grid .tabulator-header .tabulator-col.tabulator-frozen[tabulator-field]:not([tabulator-field=''])")
    expect(frozen).to_have_count(2)
    assert get_view(admin, view["id"])["config"]["frozen"] == 2
    with layout_saved(page):
        layout.get_by_label("Tall", exact=True).check()
    first_row = page.locator("#grid .tabulator-row:not(.tabulator-group)").first
    page.wait_for_function("() => document.querySelector('#grid .tabulator-row .tabulator-cell').offsetHeight >= 80")
    assert get_view(admin, view["id"])["config"]["row_height"] == "tall"
    expect(layout.get_by_label("Tall", exact=True)).to_be_focused()  # the redraw left the focus where it was
    page.keyboard.press("Escape")
    expect(layout).to_be_hidden()

    # Resize the Investor column by dragging its edge; move Organization to the end (Tabulator's own move).
    header = page.locator(f"#grid .tabulator-col[tabulator-field='{name_id}']")
    before = header.bounding_box()["width"]
    handle = header.locator("xpath=following-sibling::*[contains(@class, 'tabulator-col-resize-handle')][1]")
    box = handle.bounding_box()
    with layout_saved(page):
        # The handle's left part: the next (frozen) header overlaps its right half.
        page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 91, box["y"] + box["height"] / 2, steps=6)
        page.mouse.up()
    width = get_view(admin, view["id"])["config"]["widths"][name_id]
    assert abs(width - (before + 90)) <= 6, (before, width)
    with layout_saved(page):
        page.evaluate("""async (field) => {
            // The page's own module instance: its URL carries the server's ?v= version.
            const url = document.querySelector('link[rel=modulepreload][href*="tabulator_esm"]').href;
            const { TabulatorFull } = await import(url);
            const table = TabulatorFull.findTable('#grid')[0];
            const fields = table.getColumns().map((c) => c.getField()).filter(Boolean);
            table.moveColumn(field, fields[fields.length - 1], true);
        }""", org_id)
    order = get_view(admin, view["id"])["config"]["order"]
    assert order[-1] == org_id and order[0] == name_id
    saved = get_view(admin, view["id"])["config"]
    assert saved["hidden"] == [notes_id] and saved["frozen"] == 2 and saved["row_height"] == "tall"  # nothing lost on the way

    # All of it after a reload.
    page.reload()
    page.wait_for_selector("#grid .tabulator-row")
    expect(tool(page, "hide")).to_have_text("Hide fields (1)")
    expect(notes_header).to_be_hidden()
    expect(frozen).to_have_count(2)
    fields = page.locator("#grid .tabulator-header .tabulator-col[tabulator-field]").evaluate_all(
        "els => els.map((e) => e.getAttribute('tabulator-field')).filter(Boolean)")
    assert fields[0] == name_id and fields[-1] == org_id, fields
    assert abs(page.locator(f"#grid .tabulator-col[tabulator-field='{name_id}']").bounding_box()["width"] - width) <= 2
    assert first_row.locator(".tabulator-cell").first.evaluate("el => el.offsetHeight") >= 80

    # Frozen 0 is honoured, and showing the field again saves.
    tool(page, "layout").click()
    panel(page, "layout").get_by_label("Frozen columns").select_option("0")
    expect(frozen).to_have_count(0)
    page.keyboard.press("Escape")
    tool(page, "hide").click()
    with layout_saved(page):
        panel(page, "hide").get_by_label("Notes").check()
    expect(notes_header).to_be_visible()
    assert get_view(admin, view["id"])["config"]["hidden"] == []
    expect(tool(page, "hide")).to_have_text("Hide fields")

    # "Hide all" keeps the first field of the view's order visible, as the column menu does.
    with layout_saved(page):
        panel(page, "hide").get_by_role("button", name="Hide all").click()
    shown = page.locator("#grid .tabulator-header .tabulator-col[tabulator-field]:visible")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("tabulator-field", name_id)
    expect(panel(page, "hide").get_by_label("Investor")).to_be_checked()
    assert name_id not in get_view(admin, view["id"])["config"]["hidden"]
    assert len(get_view(admin, view["id"])["config"]["hidden"]) == len(cols) - 1


def test_create_rename_and_delete_a_personal_view(pages, server, admin):
    seed_grid(admin, rows=5)
    page = pages.open("/")
    sign_in(page)
    before = {v["id"] for v in admin.get("/api/fundraising/views").json()["data"]}

    tool(page, "view-menu").click()
    page.get_by_role("menuitem", name="New view…").click()
    dialog = page.locator("dialog[data-view-dialog=create]")
    dialog.get_by_label("Name").fill("My pipeline")
    expect(dialog.get_by_label("Personal: only you")).to_be_checked()
    dialog.get_by_role("button", name="Create view").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#view-select option:checked")).to_have_text("My pipeline (personal)")
    views = admin.get("/api/fundraising/views").json()["data"]
    created = next(v for v in views if v["id"] not in before)
    assert created["name"] == "My pipeline" and created["shared"] is False and created["owner_id"] == admin.user["id"]
    assert f"view={created['id']}" in page.url

    # Rename from the keyboard: the menu opens on Enter, arrows move, Enter picks.
    tool(page, "view-menu").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menuitem", name="New view…")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Rename view…")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[data-view-dialog=rename]")
    expect(dialog.get_by_label("Name")).to_have_value("My pipeline")
    dialog.get_by_label("Name").fill("Hot pipeline")
    page.keyboard.press("Enter")
    expect(page.locator("#view-select option:checked")).to_have_text("Hot pipeline (personal)")
    assert get_view(admin, created["id"])["name"] == "Hot pipeline"

    tool(page, "view-menu").click()
    page.get_by_role("menuitem", name="Delete view…").click()
    dialog = page.locator("dialog[data-view-dialog=delete]")
    expect(dialog).to_contain_text("Hot pipeline")
    dialog.get_by_role("button", name="Delete view").click()
    expect(page.locator("#view-select option", has_text="Hot pipeline")).to_have_count(0)
    assert get_view(admin, created["id"]) is None
    assert {v["id"] for v in admin.get("/api/fundraising/views").json()["data"]} == before


def test_a_422_is_shown_in_the_builder_which_keeps_what_was_built(pages, server, admin):
    seed_grid(admin, rows=20)
    cols = columns_by_key(admin)
    owner_id = cols["owner"]["id"]
    view = make_view(admin, "Strict")
    page = open_grid(pages, view["id"])

    tool(page, "filter").click()
    filters = panel(page, "filter")
    filters.locator("[data-action=add-condition]").click()
    set_condition(filters.locator(".vt-cond").nth(0), "Owner", "is", "Jordan")
    filters.locator("[data-action=add-group]").first.click()
    set_condition(filters.locator(".vt-nested .vt-cond").nth(0), "Check size", ">")  # no number: the server refuses it
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.status == 422):
        filters.locator("[data-action=save-filter]").click()
    expect(filters.get_by_role("alert")).to_contain_text("must be a number")
    expect(filters.locator(".vt-nested .vt-field-error")).to_contain_text("must be a number")
    # Nothing was lost: both conditions, their fields and values, still there.
    expect(filters).to_be_visible()
    expect(filters.locator(".vt-cond")).to_have_count(2)
    expect(filters.locator(".vt-cond").nth(0).get_by_label("Field")).to_have_value(owner_id)
    expect(filters.locator(".vt-cond").nth(0).get_by_label("Value")).to_have_value("Jordan")
    expect(filters.locator(".vt-nested .vt-cond").get_by_label("Operator")).to_have_value(">")
    assert get_view(admin, view["id"])["config"] == {}
    expect(tool(page, "filter")).to_have_text("Filter")

    # Closing and reopening keeps the draft too; fixing the value saves.
    page.keyboard.press("Escape")
    expect(filters).to_be_hidden()
    tool(page, "filter").click()
    expect(filters.locator(".vt-cond").nth(0).get_by_label("Value")).to_have_value("Jordan")
    expect(filters.locator(".vt-unsaved")).to_have_text("Unsaved changes")
    filters.locator(".vt-nested .vt-cond").get_by_label("Value").fill("2000000")
    filters.locator("[data-action=save-filter]").click()
    expect(tool(page, "filter")).to_have_text("Filter (2)")
    saved = get_view(admin, view["id"])["config"]["filters"]
    assert saved["conditions"][0] == {"column_id": owner_id, "operator": "is", "value": "Jordan"}
    assert saved["conditions"][1]["conditions"] == [{"column_id": "check-size", "operator": ">", "value": 2000000}]
    expected = admin.get("/api/fundraising/rows", params={"view_id": view["id"]}).json()["total"]
    expect(page.locator(".count")).to_have_text(f"{expected} investor" + ("" if expected == 1 else "s"))
    # The browser logs the refused request; that one was expected.
    pages.problems[:] = [p for p in pages.problems if "status of 422" not in p]


def test_a_member_sees_the_servers_403_on_a_locked_shared_view(pages, server, admin):
    seed_grid(admin, rows=5)
    server.add_user(admin, "maya")
    locked = make_view(admin, "Board view", shared=True, locked=True)
    page = open_grid(pages, locked["id"], "maya", "member password 1")
    expect(page.locator(".vt-lock")).to_be_visible()

    tool(page, "view-menu").click()
    page.get_by_role("menuitem", name="Unlock view").click()
    expect(page.locator(".vt-message")).to_contain_text("only this view's owner or an admin")
    assert get_view(admin, locked["id"])["locked"] is True

    tool(page, "sort").click()
    sorts = panel(page, "sort")
    sorts.locator("[data-action=add-sort]").click()
    sorts.locator("[data-action=save-sort]").click()
    expect(sorts.get_by_role("alert")).to_contain_text("locked")
    expect(sorts.locator(".vt-sort")).to_have_count(1)
    assert get_view(admin, locked["id"])["config"] == {}
    pages.problems[:] = [p for p in pages.problems if "status of 403" not in p]
