"""The formula editor and formula results in a real browser: fields offered by name as you type
(an accessible combobox), functions with a line each, errors in words with their span marked, a
result's format (currency by default for a sum of money, chosen in the field dialog), and the row
panel showing a result exactly as the grid does."""
import re

from playwright.sync_api import expect

from .browser_helpers import eventually, more_action, scroll_to_column, seed_grid, sign_in


def state(client):
    return client.get("/api/fundraising/state").json()["data"]


def send(client, *ops):
    r = client.post("/api/fundraising/ops", {"base_version": state(client)["version"], "ops": list(ops)})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def column(data, name):
    return next(c for c in data["grid"]["columns"] if c["name"] == name)


def add_formula_dialog(page):
    more_action(page, "Add column…")
    dialog = page.get_by_role("dialog", name="Add a column")
    dialog.get_by_label("Name").fill("Total")
    dialog.get_by_label("Type").select_option("formula")
    return dialog


def options(dialog):
    return dialog.get_by_role("listbox", name="Fields and functions").get_by_role("option")


def selected_is_active(editor):
    """The option marked selected is the one the combobox names as active."""
    active = editor.get_attribute("aria-activedescendant")
    selected = editor.page.locator("[role=option][aria-selected=true]")
    expect(selected).to_have_count(1)
    return active == selected.get_attribute("id")


def test_a_brace_offers_the_fields_by_name_and_arrows_pick_one(pages, server, admin):
    seed_grid(admin, rows=4)
    page = pages.open("/")
    sign_in(page)
    dialog = add_formula_dialog(page)
    editor = dialog.get_by_role("combobox", name="Formula")
    expect(editor).to_have_attribute("aria-expanded", "false")

    editor.press_sequentially("{fu")
    expect(editor).to_have_attribute("aria-expanded", "true")
    expect(options(dialog)).to_have_text([re.compile(r"^\{Fund III\}"), re.compile(r"^\{Fund IV\}")])
    assert selected_is_active(editor)
    expect(options(dialog).first).to_have_attribute("aria-selected", "true")
    editor.press("ArrowDown")
    expect(options(dialog).nth(1)).to_have_attribute("aria-selected", "true")
    assert selected_is_active(editor)
    editor.press("Enter")
    expect(editor).to_have_value("{Fund IV}")
    expect(editor).to_have_attribute("aria-expanded", "false")

    # Typing filters by any part of the name; Tab inserts too.
    editor.press_sequentially(" + {size")
    expect(options(dialog)).to_have_text([re.compile(r"^\{Check size\}")])
    editor.press("Tab")
    expect(editor).to_have_value("{Fund IV} + {Check size}")
    expect(editor).to_be_focused()

    # Escape closes the list, and only the list: the dialog stays with what was typed.
    editor.press_sequentially(" - {")
    expect(editor).to_have_attribute("aria-expanded", "true")
    editor.press("Escape")
    expect(editor).to_have_attribute("aria-expanded", "false")
    expect(dialog).to_be_visible()
    editor.press_sequentially("Fund III}")
    dialog.locator(".formula-check.ok").filter(has_text="gives number").wait_for()
    dialog.get_by_role("button", name="Add column").click()
    dialog.wait_for(state="detached")
    saved = eventually(lambda: next((c for c in state(admin)["grid"]["columns"] if c["name"] == "Total"), None))
    assert saved["formula"] == "{Fund IV} + {Check size} - {Fund III}"


def test_a_word_offers_the_functions_with_a_line_each(pages, server, admin):
    seed_grid(admin, rows=4)
    page = pages.open("/")
    sign_in(page)
    dialog = add_formula_dialog(page)
    editor = dialog.get_by_role("combobox", name="Formula")
    editor.press_sequentially("roun")
    expect(options(dialog)).to_have_text([
        "ROUND(number, [digits])Rounded to digits decimal places, halves away from zero",
        "ROUNDDOWN(number, [digits])Rounded toward zero to digits decimal places",
        "ROUNDUP(number, [digits])Rounded away from zero to digits decimal places"])
    editor.press("Enter")
    expect(editor).to_have_value("ROUND(")
    editor.press_sequentially("{Check")
    editor.press("Enter")
    editor.press_sequentially(", -6)")
    expect(editor).to_have_value("ROUND({Check size}, -6)")
    dialog.locator(".formula-check.ok").wait_for()
    # Every function is listed with its line under the editor.
    dialog.get_by_text("Functions", exact=True).click()
    reference = dialog.locator(".formula-functions")
    expect(reference.locator("dt", has_text="DATETIME_DIFF(date1, date2, [unit])")).to_be_visible()
    expect(reference.locator("dd", has_text="date1 minus date2 in whole units")).to_be_visible()


def test_an_error_is_said_in_words_with_its_span_marked_in_the_editor(pages, server, admin):
    seed_grid(admin, rows=4)
    page = pages.open("/")
    sign_in(page)
    dialog = add_formula_dialog(page)
    editor = dialog.get_by_role("combobox", name="Formula")
    editor.fill("{Check size} + Fund III * 2")
    check = dialog.locator(".formula-check.bad")
    expect(check).to_have_text("Fund III is a field name: write {Fund III} (at character 16)")
    expect(dialog.locator(".formula-mirror mark")).to_have_text("Fund III")
    expect(editor).to_have_attribute("aria-invalid", "true")
    # The mark lies over the offending text: it starts where "Fund III" starts in the textarea.
    assert page.evaluate("""() => {
      const mark = document.querySelector('.formula-mirror mark').getBoundingClientRect();
      const area = document.querySelector('.formula-input').getBoundingClientRect();
      return mark.top > area.top && mark.top < area.bottom && mark.left > area.left + 100;
    }""")

    editor.fill("{Check size} + {Fund III} * 2")
    dialog.locator(".formula-check.ok").wait_for()
    expect(dialog.locator(".formula-check")).to_have_text("OK · gives number · shows as currency (USD)")
    expect(dialog.locator(".formula-mirror mark")).to_have_count(0)
    expect(editor).not_to_have_attribute("aria-invalid", "true")


def cell(page, row_id, column_id):
    """The cell of row `row_id` under `column_id`, scrolled to (only columns near the view are drawn)."""
    scroll_to_column(page, column_id)
    return page.locator(f"#grid .tabulator-row:has([tabulator-field]) .tabulator-cell[tabulator-field='{column_id}']").and_(
        page.locator(f"#grid [data-row-id='{row_id}'] .tabulator-cell[tabulator-field='{column_id}']"))


def grid_text(page, row_number, column_id):
    scroll_to_column(page, column_id)
    return page.locator(f"#grid .tabulator-row:nth-child({row_number}) .tabulator-cell[tabulator-field='{column_id}']")


def grid_with_a_total(pages, admin, rows):
    """A grid whose first row has two fund commitments and a Total formula summing them, signed in."""
    data = seed_grid(admin, rows=rows)
    first = data["grid"]["rows"][0]
    send(admin, {"op": "set_cell", "row_id": first["id"], "column_id": "fund-iii", "value": 5_000_000},
         {"op": "set_cell", "row_id": first["id"], "column_id": "fund-iv", "value": 2_500_000},
         {"op": "add_column", "name": "Total", "type": "formula", "column_id": "total", "formula": "{Fund III} + {Fund IV}"})
    page = pages.open("/")
    sign_in(page)
    expect(grid_text(page, 1, "total")).to_have_text("$7,500,000")
    return page


def test_a_sum_of_currency_fields_shows_as_currency_and_the_dialog_sets_another_format(pages, server, admin):
    page = grid_with_a_total(pages, admin, rows=4)

    page.get_by_role("button", name="Field options: Total", exact=True).click()
    page.get_by_role("menu", name="Field options: Total").get_by_role("menuitem", name="Edit field…").click()
    dialog = page.get_by_role("dialog", name="Edit field “Total”")
    fmt = dialog.get_by_label("Format")
    expect(fmt.locator("option").first).to_have_text("Automatic (currency)")
    fmt.select_option("percent")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    assert column(state(admin), "Total")["config"]["format"] == "percent"
    expect(grid_text(page, 1, "total")).to_have_text("750,000,000%")

    # Currency chosen with another currency; back to automatic follows the fields again.
    page.get_by_role("button", name="Field options: Total", exact=True).click()
    page.get_by_role("menu", name="Field options: Total").get_by_role("menuitem", name="Edit field…").click()
    dialog = page.get_by_role("dialog", name="Edit field “Total”")
    expect(dialog.get_by_label("Currency")).to_be_hidden()
    dialog.get_by_label("Format").select_option("currency")
    dialog.get_by_label("Currency").select_option("EUR")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    assert column(state(admin), "Total")["config"] == {"format": "currency", "currency": "EUR"}
    expect(grid_text(page, 1, "total")).to_have_text(re.compile(r"^€7,500,000$"))

    page.get_by_role("button", name="Field options: Total", exact=True).click()
    page.get_by_role("menu", name="Field options: Total").get_by_role("menuitem", name="Edit field…").click()
    dialog = page.get_by_role("dialog", name="Edit field “Total”")
    dialog.get_by_label("Format").select_option("")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    assert column(state(admin), "Total")["config"] == {"format": None}
    expect(grid_text(page, 1, "total")).to_have_text("$7,500,000")


def test_the_row_panel_shows_a_formula_result_as_the_grid_does_and_blank_stays_blank(pages, server, admin):
    data = seed_grid(admin, rows=4)
    name_id = column(data, "Investor")["id"]
    rows = data["grid"]["rows"]
    send(admin, {"op": "set_cell", "row_id": rows[0]["id"], "column_id": "fund-iii", "value": 5_000_000},
         {"op": "set_cell", "row_id": rows[1]["id"], "column_id": "fund-iii", "value": None},
         {"op": "add_column", "name": "Doubled", "type": "formula", "column_id": "doubled",
          "formula": "IF({Fund III}, {Fund III} * 2, BLANK())"},
         {"op": "add_column", "name": "Broken", "type": "formula", "column_id": "broken", "formula": "{Check size} / 0"})
    page = pages.open("/")
    sign_in(page)
    for number, row in ((1, rows[0]), (2, rows[1])):
        shown = grid_text(page, number, "doubled")
        expect(shown).to_have_text("$10,000,000" if number == 1 else "")
        page.locator("#grid .tabulator-row", has_text=row["cells"][name_id]).locator(".row-number").click()
        drawer = page.get_by_role("dialog", name=f"Investor details: {row['cells'][name_id]}")
        value = drawer.locator(".field[data-column-id='doubled'] .field-value")
        expect(value).to_have_text(shown.inner_text())
        assert value.inner_text() == shown.inner_text()
        # An error shows its code as the grid does, and its words beside it.
        expect(drawer.locator(".field[data-column-id='broken'] .cell-error")).to_have_text(
            grid_text(page, number, "broken").inner_text())
        expect(drawer.locator(".field[data-column-id='broken'] .field-value")).to_have_text("#DIV/0 division by zero")
        drawer.get_by_role("button", name=re.compile("Close")).first.click()
        expect(drawer).to_be_hidden()


def test_the_column_menu_sets_a_formula_results_format(pages, server, admin):
    page = grid_with_a_total(pages, admin, rows=2)

    def choose(name):
        page.get_by_role("button", name="Field options: Total", exact=True).click()
        menu = page.get_by_role("menu", name="Field options: Total")
        menu.get_by_role("menuitem", name=name, exact=True).click()
        menu.wait_for(state="detached")

    def current():
        page.get_by_role("button", name="Field options: Total", exact=True).click()
        menu = page.get_by_role("menu", name="Field options: Total")
        marked = menu.locator('[role="menuitem"][aria-current="true"]')
        expect(marked).to_have_count(1)
        text = marked.inner_text()
        page.keyboard.press("Escape")
        return text

    assert "Automatic format" in current()
    choose("Format as percent")
    eventually(lambda: column(state(admin), "Total")["config"].get("format") == "percent")
    expect(grid_text(page, 1, "total")).to_have_text("750,000,000%")
    assert "Format as percent" in current()
    choose("Format as number")
    expect(grid_text(page, 1, "total")).to_have_text("7,500,000")
    choose("Automatic format")
    eventually(lambda: column(state(admin), "Total")["config"] == {"format": None})
    expect(grid_text(page, 1, "total")).to_have_text("$7,500,000")
    # Text formulas take no number format: their menu offers none.
    send(admin, {"op": "add_column", "name": "Label", "type": "formula", "column_id": "label", "formula": "UPPER({Investor})"})
    page.reload()
    page.get_by_role("button", name="Field options: Label", exact=True).click()
    expect(page.get_by_role("menu", name="Field options: Label").get_by_role("menuitem", name="Format as number")).to_have_count(0)
