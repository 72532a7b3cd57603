"""The column header menu in a real browser: edit a field (name, type, options, fund, formula),
insert, sort, group, hide, freeze and delete, each checked against the server's state and views."""
import re


from .browser_helpers import scroll_to_column, seed_grid, sign_in


def state(client):
    return client.get("/api/fundraising/state").json()["data"]


def column(data, name):
    return next(c for c in data["grid"]["columns"] if c["name"] == name)


def column_ids(data):
    return [c["id"] for c in data["grid"]["columns"]]


def current_view(client, name="All investors"):
    return next(v for v in client.get("/api/fundraising/views").json()["data"] if v["name"] == name)


def send(client, *ops):
    r = client.post("/api/fundraising/ops", {"base_version": state(client)["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def open_grid(pages, admin, rows=12):
    seed_grid(admin, rows=rows)
    page = pages.open("/")
    sign_in(page)
    return page


def open_menu(page, name):
    page.get_by_role("button", name=f"Field options: {name}", exact=True).click()
    menu = page.get_by_role("menu", name=f"Field options: {name}")
    menu.wait_for()
    return menu


def choose(page, field, item):
    open_menu(page, field).get_by_role("menuitem", name=item, exact=True).click()


def choose_saving_view(page, field, item):
    """Pick a menu item that changes the view; wait until the server saved it and the grid reloaded its rows."""
    with page.expect_response(lambda r: "/api/fundraising/rows" in r.url), \
            page.expect_response(lambda r: "/api/fundraising/views/" in r.url and r.request.method == "PATCH") as saved:
        choose(page, field, item)
    assert saved.value.ok, saved.value.text()


def menu_focus(page, text):
    page.wait_for_function("t => document.activeElement?.classList.contains('column-menu-item') && document.activeElement.textContent === t", arg=text)


def header(page, name):
    return page.locator("#grid .tabulator-col .tabulator-col-title", has_text=name)


def header_order(page):
    return page.evaluate("[...document.querySelectorAll('#grid .tabulator-header .tabulator-col[tabulator-field]')]"
                         ".filter((e) => e.offsetParent !== null).map((e) => e.getAttribute('tabulator-field'))")


def cell(page, row_number, column_id):
    """The cell in row `row_number` under `column_id`, scrolled to (only columns near the view are drawn)."""
    scroll_to_column(page, column_id)
    return page.locator(f"#grid .tabulator-row:nth-child({row_number}) .tabulator-cell[tabulator-field='{column_id}']")


def expected_422(pages):
    """The browser logs a refused request as a console error; in these tests the refusal is the point."""
    refused = [p for p in pages.problems if "status of 422" in p]
    assert refused, "the server never refused anything"
    pages.problems[:] = [p for p in pages.problems if p not in refused]


def test_rename_a_field_from_its_header_menu(pages, server, admin):
    page = open_grid(pages, admin)
    choose(page, "Check size", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Check size”")
    assert dialog.get_by_label("Name").input_value() == "Check size"
    assert dialog.get_by_label("Currency").input_value() == "USD"
    dialog.get_by_label("Name").fill("Ticket size")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")

    renamed = column(state(admin), "Ticket size")
    assert renamed["id"] == "check-size" and renamed["type"] == "currency"
    assert "Check size" not in [c["name"] for c in state(admin)["grid"]["columns"]]
    header(page, "Ticket size").wait_for()
    assert header(page, "Check size").count() == 0
    page.get_by_role("button", name="Field options: Ticket size", exact=True).wait_for()


def test_retype_text_to_number_and_a_refused_retype_keeps_what_was_typed(pages, server, admin):
    seed_grid(admin, rows=6)
    rows = [r["id"] for r in state(admin)["grid"]["rows"]]
    send(admin, {"op": "add_column", "name": "Employees", "type": "text", "column_id": "employees"},
         {"op": "add_column", "name": "Stage", "type": "text", "column_id": "stage"},
         {"op": "set_cell", "row_id": rows[0], "column_id": "employees", "value": "12"},
         {"op": "set_cell", "row_id": rows[1], "column_id": "employees", "value": "1,200"},
         {"op": "set_cell", "row_id": rows[0], "column_id": "stage", "value": "3"},
         {"op": "set_cell", "row_id": rows[1], "column_id": "stage", "value": "lots"})
    page = pages.open("/")
    sign_in(page)

    # A text column whose values read as numbers becomes a number column; the values are converted.
    choose(page, "Employees", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Employees”")
    note = dialog.get_by_role("note")
    assert not note.is_visible()
    dialog.get_by_label("Type").select_option("number")
    note.wait_for()
    assert "converts every value" in note.inner_text()
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    data = state(admin)
    assert column(data, "Employees")["type"] == "number"
    by_id = {r["id"]: r["cells"] for r in data["grid"]["rows"]}
    assert by_id[rows[0]]["employees"] == 12 and by_id[rows[1]]["employees"] == 1200
    scroll_to_column(page, "employees")
    page.locator("#grid .tabulator-cell.t-number[tabulator-field='employees']", has_text="1,200").wait_for()

    # "lots" is no number: the server refuses (422), the dialog says why and keeps the new name and type.
    choose(page, "Stage", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Stage”")
    dialog.get_by_label("Name").fill("Stage size")
    dialog.get_by_label("Type").select_option("number")
    dialog.get_by_role("button", name="Save").click()
    dialog.get_by_role("alert").filter(has_text="not valid as number").wait_for()
    assert "1 cell(s)" in dialog.get_by_role("alert").inner_text()
    assert dialog.get_by_label("Name").input_value() == "Stage size"
    assert dialog.get_by_label("Type").input_value() == "number"
    assert dialog.is_visible()
    assert column(state(admin), "Stage")["type"] == "text"  # nothing applied
    # Fix it by keeping the type: the rename alone goes through from the same dialog.
    dialog.get_by_label("Type").select_option("text")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    assert column(state(admin), "Stage size")["type"] == "text"
    expected_422(pages)


def test_edit_a_single_selects_options(pages, server, admin):
    page = open_grid(pages, admin, rows=30)
    before = state(admin)
    status = column(before, "Status")
    passed = [r["id"] for r in before["grid"]["rows"] if r["cells"][status["id"]] == "Passed"]
    assert passed, "the seed has investors who passed"

    choose(page, "Status", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Status”")
    assert dialog.get_by_label("Type").is_disabled()  # built-in: the type stays
    names = [o["name"] for o in status["options"]]
    assert [dialog.get_by_label(f"Option {i + 1}", exact=True).input_value() for i in range(len(names))] == names
    last = len(names)
    assert names[last - 1] == "Passed"
    dialog.get_by_label(f"Option {last}", exact=True).fill("Declined")               # rename: cells follow
    dialog.get_by_label("Colour of option 2").fill("#ff8800")                         # recolour
    dialog.get_by_role("button", name="Remove option 1").click()                      # remove "Not contacted"
    dialog.get_by_role("button", name="+ Add option").click()
    page.keyboard.type("Re-up")                                                       # the new option has the focus
    dialog.get_by_role("button", name=f"Move option {last} up").click()               # Re-up above Declined
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")

    after = column(state(admin), "Status")
    assert [o["name"] for o in after["options"]] == names[1:-1] + ["Re-up", "Declined"]
    assert next(o for o in after["options"] if o["name"] == "Contacted")["color"] == "#ff8800"
    assert next(o for o in after["options"] if o["name"] == "Declined")["id"] == status["options"][-1]["id"]
    cells = {r["id"]: r["cells"][status["id"]] for r in state(admin)["grid"]["rows"]}
    assert all(cells[row_id] == "Declined" for row_id in passed)
    assert "Passed" not in cells.values() and "Not contacted" not in cells.values()
    page.locator(f"#grid .tabulator-cell[tabulator-field='{status['id']}'] .pill", has_text="Declined").first.wait_for()


def test_edit_a_fund_columns_vintage_target_and_close_date(pages, server, admin):
    page = open_grid(pages, admin)
    choose(page, "Fund III", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Fund III”")
    assert dialog.get_by_label("Vintage").input_value() == "2024"
    assert dialog.get_by_label("Target").input_value() == "150000000"
    assert dialog.get_by_label("Type").is_disabled()
    dialog.get_by_label("Vintage").fill("2025")
    dialog.get_by_label("Target").fill("175000000")
    dialog.get_by_label("Close date").fill("2026-06-30")
    dialog.get_by_label("Vintage").press("Enter")  # Enter saves, as the Save button
    dialog.wait_for(state="detached")
    fund = column(state(admin), "Fund III")["fund"]
    assert (fund["name"], fund["vintage"], fund["target"], fund["close_date"]) == ("Fund III", 2025, 175_000_000, "2026-06-30")

    # Renamed with its details untouched, a fund named after its column follows it.
    choose(page, "Fund III", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Fund III”")
    dialog.get_by_label("Name").fill("Fund III (2025)")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    fund = column(state(admin), "Fund III (2025)")["fund"]
    assert (fund["name"], fund["vintage"]) == ("Fund III (2025)", 2025)


def test_a_bad_formula_is_refused_by_the_live_check_then_a_good_one_shows_new_values(pages, server, admin):
    seed_grid(admin, rows=8)
    send(admin, {"op": "add_column", "name": "Check (M)", "type": "formula", "column_id": "check-m",
                 "formula": "{Check size} / 1000000", "config": {"format": "number"}})  # millions, not money
    page = pages.open("/")
    sign_in(page)
    first_row = state(admin)["grid"]["rows"][0]
    check_size = first_row["cells"]["check-size"]
    cell(page, 1, "check-m").filter(has_text=re.compile(r"\d")).wait_for()
    assert float(cell(page, 1, "check-m").inner_text().replace(",", "")) > 0

    choose(page, "Check (M)", "Edit field…")
    dialog = page.get_by_role("dialog", name="Edit field “Check (M)”")
    dialog.locator(".formula-check.ok").wait_for()  # the saved formula is checked on opening
    formula = dialog.get_by_label("Formula")
    formula.fill("{Check size} * ")
    dialog.locator(".formula-check.bad").wait_for()
    dialog.get_by_role("button", name="Save").click()
    dialog.get_by_role("alert").filter(has_text="Fix the formula first").wait_for()
    assert dialog.is_visible()
    assert column(state(admin), "Check (M)")["formula"] == "{Check size} / 1000000"

    formula.fill("{Check size} / 500000")
    dialog.locator(".formula-check.ok").filter(has_text="gives number").wait_for()
    scrolled = page.evaluate("document.querySelector('#grid .tabulator-tableholder').scrollLeft")
    assert scrolled > 0  # the field is to the right, scrolled to
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    # The grid is drawn again with the changed field and stays where it was, not back at the first column.
    page.wait_for_function("(left) => document.querySelector('#grid .tabulator-tableholder').scrollLeft === left", arg=scrolled)
    assert column(state(admin), "Check (M)")["formula"] == "{Check size} / 500000"
    assert state(admin)["grid"]["rows"][0]["cells"]["check-m"] == check_size / 500000
    # Every row on screen shows its check size divided by the new divisor.
    page.wait_for_function("""() => {
      const rows = [...document.querySelectorAll('#grid .tabulator-row')];
      return rows.length > 0 && rows.every((r) => {
        const size = r.querySelector("[tabulator-field='check-size']").textContent.replace(/[^0-9.]/g, '');
        const shown = r.querySelector("[tabulator-field='check-m']").textContent.replace(/,/g, '');
        return shown !== '' && Number(shown) === Number(size) / 500000;
      });
    }""")


def test_insert_fields_right_and_left_of_another(pages, server, admin):
    seed_grid(admin, rows=8)
    data = state(admin)
    investor, organization, owner = (column(data, n)["id"] for n in ("Investor", "Organization", "Owner"))
    # The view shows Owner before Organization (its own column order), unlike the grid's order.
    view = current_view(admin)
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": {**view["config"], "order": [investor, owner, organization]}})
    assert r.status_code == 200, r.text
    page = pages.open("/")
    sign_in(page)
    shown = header_order(page)
    assert shown[:3] == [investor, owner, organization]

    choose(page, "Organization", "Insert field right")
    dialog = page.get_by_role("dialog", name="Insert a field right of “Organization”")
    dialog.get_by_label("Name").fill("Region")
    dialog.get_by_label("Type").select_option("single_select")
    dialog.get_by_role("button", name="+ Add option").click()
    page.keyboard.type("Europe")
    page.keyboard.press("Enter")  # Enter in an option adds the next one
    page.keyboard.type("Americas")
    dialog.get_by_role("button", name="Add field").click()
    dialog.wait_for(state="detached")
    data = state(admin)
    region = column(data, "Region")
    ids = column_ids(data)
    assert ids[ids.index(organization) + 1] == region["id"]  # the grid's order
    assert [o["name"] for o in region["options"]] == ["Europe", "Americas"]
    assert current_view(admin)["config"]["order"] == [investor, owner, organization, region["id"]]  # the view's
    assert header_order(page)[:4] == [investor, owner, organization, region["id"]]

    choose(page, "Owner", "Insert field left")
    dialog = page.get_by_role("dialog", name="Insert a field left of “Owner”")
    dialog.get_by_label("Name").fill("Co-owner")
    dialog.get_by_role("button", name="Add field").click()
    dialog.wait_for(state="detached")
    data = state(admin)
    co_owner = column(data, "Co-owner")["id"]
    ids = column_ids(data)
    assert ids[ids.index(owner) - 1] == co_owner
    assert current_view(admin)["config"]["order"] == [investor, co_owner, owner, organization, region["id"]]
    header(page, "Co-owner").wait_for()
    assert header_order(page)[:5] == [investor, co_owner, owner, organization, region["id"]]


def test_hide_and_freeze_from_the_menu_are_saved_in_the_view(pages, server, admin):
    page = open_grid(pages, admin)
    data = state(admin)
    notes, organization = column(data, "Notes")["id"], column(data, "Organization")["id"]

    choose_saving_view(page, "Notes", "Hide field")
    header(page, "Notes").wait_for(state="hidden")
    assert notes in current_view(admin)["config"]["hidden"]

    choose_saving_view(page, "Organization", "Freeze up to here")  # Investor, Organization
    page.locator(f"#grid .tabulator-col.tabulator-frozen[tabulator-field='{organization}']").wait_for()
    assert current_view(admin)["config"]["frozen"] == 2
    assert notes in current_view(admin)["config"]["hidden"]

    # Both survive a reload: they are the view's, not the page's.
    page.reload()
    page.locator(f"#grid .tabulator-col.tabulator-frozen[tabulator-field='{organization}']").wait_for()
    header(page, "Investor").wait_for()
    assert not header(page, "Notes").is_visible()


def test_sort_and_group_from_the_menu_are_saved_in_the_view(pages, server, admin):
    page = open_grid(pages, admin)
    investor = column(state(admin), "Investor")["id"]
    status = column(state(admin), "Status")["id"]
    first = "id => document.querySelector(`#grid .tabulator-row .tabulator-cell[tabulator-field='${id}']`)?.textContent"

    choose_saving_view(page, "Investor", "Sort Z → A")
    assert current_view(admin)["config"]["sorts"] == [{"column_id": investor, "direction": "desc"}]
    page.wait_for_function(f"id => ({first})(id) === 'Yale Investments Office'", arg=investor)
    choose_saving_view(page, "Investor", "Sort A → Z")
    assert current_view(admin)["config"]["sorts"] == [{"column_id": investor, "direction": "asc"}]
    page.wait_for_function(f"id => ({first})(id) === 'Adams Street'", arg=investor)

    choose_saving_view(page, "Status", "Group by this field")
    assert current_view(admin)["config"]["group_by"] == status
    choose_saving_view(page, "Status", "Ungroup")  # the menu knows the view is grouped by this field
    assert current_view(admin)["config"]["group_by"] is None
    assert current_view(admin)["config"]["sorts"] == [{"column_id": investor, "direction": "asc"}]


def test_delete_a_custom_field_but_not_a_built_in_one(pages, server, admin):
    seed_grid(admin, rows=8)
    view = current_view(admin)
    # The view remembers a width for the field: deleting it must not leave the view unsavable.
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": {**view["config"], "widths": {"check-size": 180}}})
    assert r.status_code == 200, r.text
    page = pages.open("/")
    sign_in(page)

    menu = open_menu(page, "Investor")
    delete = menu.get_by_role("menuitem", name="Delete field")
    assert delete.is_disabled()
    assert "Built-in" in delete.get_attribute("title")
    menu_focus(page, "Edit field…")
    page.keyboard.press("Escape")
    menu.wait_for(state="detached")

    choose(page, "Check size", "Delete field")
    confirm = page.get_by_role("alertdialog", name="Delete the field “Check size”?")
    assert "Check size" in confirm.inner_text()
    confirm.get_by_role("button", name="Cancel").click()
    confirm.wait_for(state="detached")
    assert "check-size" in column_ids(state(admin))

    choose(page, "Check size", "Delete field")
    confirm = page.get_by_role("alertdialog", name="Delete the field “Check size”?")
    with page.expect_response(lambda r: "/api/fundraising/views/" in r.url and r.request.method == "PATCH") as cleaned:
        confirm.get_by_role("button", name="Delete field").click()
    assert cleaned.value.ok
    header(page, "Check size").wait_for(state="detached")
    assert "check-size" not in column_ids(state(admin))
    assert "check-size" not in current_view(admin)["config"].get("widths", {})

    # The view still saves: hide a field through the menu.
    choose_saving_view(page, "Lead Source", "Hide field")
    header(page, "Lead Source").wait_for(state="hidden")
    assert column(state(admin), "Lead Source")["id"] in current_view(admin)["config"]["hidden"]


def test_the_menu_works_from_the_keyboard(pages, server, admin):
    page = open_grid(pages, admin)
    owner = column(state(admin), "Owner")["id"]
    cell(page, 1, owner).click()  # an active cell: typed keys would start editing it, but not from the header
    button = page.get_by_role("button", name="Field options: Owner", exact=True)
    button.focus()
    page.keyboard.press(" ")
    menu = page.get_by_role("menu", name="Field options: Owner")
    menu.wait_for()
    # Opened under its button, with the first item focused.
    box, menu_box = button.bounding_box(), menu.bounding_box()
    assert abs(menu_box["y"] - (box["y"] + box["height"])) < 12 and abs(menu_box["x"] - box["x"]) < 40
    menu_focus(page, "Edit field…")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Insert field left"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last enabled item (Delete is disabled for a built-in field)
    assert page.evaluate("document.activeElement.textContent") == "Freeze up to here"
    page.keyboard.press("Escape")
    menu.wait_for(state="detached")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Field options: Owner"
    assert page.locator("#grid .tabulator-editing").count() == 0

    page.keyboard.press("Enter")
    menu.wait_for()
    menu_focus(page, "Edit field…")
    page.keyboard.press("End")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.textContent") == "Hide field"
    with page.expect_response(lambda r: "/api/fundraising/views/" in r.url and r.request.method == "PATCH"):
        page.keyboard.press("Enter")
    header(page, "Owner").wait_for(state="hidden")
    assert owner in current_view(admin)["config"]["hidden"]

    # A header button out of view, focused: the rows scroll with the header, so the columns still line up.
    page.get_by_role("button", name="Field options: Check size", exact=True).focus()
    page.wait_for_function("""() => {
      const g = document.querySelector('#grid');
      const h = g.querySelector('.tabulator-header-contents').scrollLeft;
      return h > 0 && g.querySelector('.tabulator-tableholder').scrollLeft === h;
    }""")


def test_a_view_the_user_may_not_change_says_so_and_stays_as_it_was(pages, server, admin):
    seed_grid(admin, rows=5)
    view = current_view(admin)
    assert admin.patch(f"/api/fundraising/views/{view['id']}", {"locked": True}).status_code == 200
    server.add_user(admin, "maya")
    page = pages.open("/")
    sign_in(page, "maya", "member password 1")
    choose(page, "Notes", "Hide field")
    told = page.get_by_role("dialog", name="The view was not changed")
    told.get_by_role("alert").filter(has_text="locked").wait_for()
    told.get_by_role("button", name="OK").click()
    told.wait_for(state="detached")
    assert header(page, "Notes").is_visible()
    assert column(state(admin), "Notes")["id"] not in current_view(admin)["config"].get("hidden", [])
    refused = [p for p in pages.problems if "status of 403" in p]
    assert refused
    pages.problems[:] = [p for p in pages.problems if p not in refused]
