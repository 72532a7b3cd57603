"""The grid as a partner types into it (issue 15): pastes with values that do not fit, undo by action,
Enter/Tab moving like Sheets, amounts typed as people write them, checkboxes that toggle on a click."""
import re

from playwright.sync_api import expect

from .browser_helpers import column_ids, eventually, more_action, seed_grid, sign_in


def cell(page, row_number, field):
    return page.locator(f"#grid .tabulator-row:nth-child({row_number}) .tabulator-cell[tabulator-field='{field}']")


def rows_by_position(client) -> list:
    return client.get("/api/fundraising/state").json()["data"]["grid"]["rows"]


def values(client, fields, rows=slice(0, 6)) -> list:
    return [[r["cells"].get(f) for f in fields] for r in rows_by_position(client)[rows]]


def expect_refusals(pages, n):
    """The browser logs each refused request (422) as a console error: exactly `n` are expected here."""
    refused = [p for p in pages.problems if "422" in p]
    assert len(refused) == n, pages.problems
    for p in refused:
        pages.problems.remove(p)


def open_grid(pages):
    page = pages.open("/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page)
    return page


def paste(page, text, at):
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    at.click()
    page.keyboard.press("Control+v")


def active(page, row_number, field):
    """The cell is the one selected (a one-cell range), and the grid has the keyboard."""
    expect(cell(page, row_number, field)).to_have_class(re.compile(r"tabulator-range-only-cell-selected"))
    page.wait_for_function("document.querySelector('#grid').contains(document.activeElement)", timeout=5000)


# -- pastes with values that do not fit -------------------------------------------------------------

def test_a_paste_saves_what_fits_and_marks_and_names_each_value_that_does_not(pages, server, admin):
    seed_grid(admin, rows=6)
    k = column_ids(admin)
    rows = rows_by_position(admin)
    page = open_grid(pages)
    # Owner, Status (single select) for rows 1-4: 'Alex' and 'Lukewarm' are no Status options, 'soon' no date.
    paste(page, "Jordan\tAlex\r\nSam\tMeeting\r\nAlex\tLukewarm\r\nJordan\tPassed\r\n", cell(page, 1, k["owner"]))
    expected = [["Jordan", rows[0]["cells"].get(k["status"])], ["Sam", "Meeting"],
                ["Alex", rows[2]["cells"].get(k["status"])], ["Jordan", "Passed"]]
    eventually(lambda: values(admin, [k["owner"], k["status"]], slice(0, 4)) == expected)
    alert = page.get_by_role("alert").filter(has_text="didn't fit")
    expect(alert).to_have_text("2 values didn't fit: 'Alex' is not a Status option; 'Lukewarm' is not a Status option")
    # Each skipped cell is marked (and says why), showing the saved value, not the pasted text.
    for number in (1, 3):
        expect(cell(page, number, k["status"])).to_have_class(re.compile(r"\bcell-unfit\b"))
        expect(cell(page, number, k["status"])).to_have_attribute("title", re.compile("is not a Status option"))
    expect(cell(page, 1, k["status"])).not_to_contain_text("Alex")
    expect(page.locator("#grid .cell-unfit")).to_have_count(2)
    # The save line does not stick on the refusal: what fitted is saved, and it says so.
    expect(page.locator(".save-status")).to_have_attribute("data-save-status", "saved")
    expect(page.locator(".save-status")).to_have_text("All changes saved")
    assert "ops[" not in page.locator(".toolbar").inner_text()
    expect_refusals(pages, 1)

    # Three misfits of different kinds in one paste are listed in plain words, with no ids.
    paste(page, "lots\t2,500,000\r\n5m\tmany\r\n-1\t\r\n", cell(page, 4, "fund-iii"))
    eventually(lambda: values(admin, ["fund-iii", "fund-iv"], slice(3, 6)) ==
               [[rows[3]["cells"].get("fund-iii"), 2_500_000], [5_000_000, rows[4]["cells"].get("fund-iv")], [rows[5]["cells"].get("fund-iii"), None]])
    expect(alert).to_have_text("3 values didn't fit: 'lots' is not a number for Fund III; 'many' is not a number for Fund IV; "
                               "a commitment cannot be negative (Fund III)")
    expect(page.locator("#grid .cell-unfit")).to_have_count(3)  # the earlier paste's marks are gone
    expect(page.locator(".save-status")).to_have_attribute("data-save-status", "saved")
    expect_refusals(pages, 1)


# -- undo and redo by action --------------------------------------------------------------------------

def test_a_paste_a_fill_and_a_range_delete_each_undo_and_redo_in_one_step(pages, server, admin):
    seed_grid(admin, rows=6)
    k = column_ids(admin)
    fields = [k["lead_source"], k["owner"]]
    original = values(admin, fields)
    page = open_grid(pages)
    status = page.locator(".save-status")

    paste(page, "Referral\tAlex\r\nConference\tJordan\r\n", cell(page, 1, k["lead_source"]))
    pasted = [["Referral", "Alex"], ["Conference", "Jordan"]] + original[2:]
    eventually(lambda: values(admin, fields) == pasted)
    expect(status).to_have_attribute("data-save-status", "saved")
    page.keyboard.press("Control+z")  # one key: both rows, both columns
    eventually(lambda: values(admin, fields) == original)
    expect(cell(page, 1, k["lead_source"])).to_have_text(original[0][0] or "")
    page.keyboard.press("Control+y")
    eventually(lambda: values(admin, fields) == pasted)
    page.keyboard.press("Control+z")
    eventually(lambda: values(admin, fields) == original)
    page.keyboard.press("Control+Shift+z")
    eventually(lambda: values(admin, fields) == pasted)

    # Fill down (Ctrl+D) over rows 1-4: one step.
    cell(page, 1, k["owner"]).click()
    cell(page, 4, k["owner"]).click(modifiers=["Shift"])
    page.keyboard.press("Control+d")
    eventually(lambda: [v[1] for v in values(admin, fields)][:4] == ["Alex"] * 4)
    page.keyboard.press("Control+z")
    eventually(lambda: values(admin, fields) == pasted)

    # Delete over a 2 x 3 range: one step.
    cell(page, 2, k["lead_source"]).click()
    cell(page, 4, k["owner"]).click(modifiers=["Shift"])
    page.keyboard.press("Delete")
    eventually(lambda: values(admin, fields)[1:4] == [[None, None]] * 3)
    page.keyboard.press("Control+z")
    eventually(lambda: values(admin, fields) == pasted)
    page.keyboard.press("Control+y")
    eventually(lambda: values(admin, fields)[1:4] == [[None, None]] * 3)
    expect(status).to_have_attribute("data-save-status", "saved")


# -- typing -----------------------------------------------------------------------------------------------

def test_enter_moves_down_and_tab_right_after_committing_as_in_sheets(pages, server, admin):
    seed_grid(admin, rows=5)
    k = column_ids(admin)
    rows = rows_by_position(admin)
    page = open_grid(pages)
    cell(page, 1, k["lead_source"]).click()
    page.keyboard.type("Referral")
    page.keyboard.press("Enter")
    active(page, 2, k["lead_source"])
    page.keyboard.type("Conference")
    page.keyboard.press("Tab")
    active(page, 2, k["owner"])
    page.keyboard.type("Jordan")
    page.keyboard.press("Shift+Tab")
    active(page, 2, k["lead_source"])
    page.keyboard.press("Enter")  # opens the editor on the selected cell
    page.locator("#grid input.cell-editor").wait_for()
    page.keyboard.press("Shift+Enter")  # commits, unchanged, and goes up
    active(page, 1, k["lead_source"])
    eventually(lambda: [rows_by_position(admin)[i]["cells"].get(k[f]) for i, f in ((0, "lead_source"), (1, "lead_source"), (1, "owner"))]
               == ["Referral", "Conference", "Jordan"])
    assert rows_by_position(admin)[2]["cells"].get(k["lead_source"]) == rows[2]["cells"].get(k["lead_source"])
    expect(page.locator("#grid input.cell-editor")).to_have_count(0)


def test_money_cells_take_amounts_as_people_type_them_and_keep_what_cannot_be_read(pages, server, admin):
    seed_grid(admin, rows=6)
    page = open_grid(pages)
    typed = [("$1.5M", 1_500_000, "$1,500,000"), ("1.5m", 1_500_000, "$1,500,000"), ("500k", 500_000, "$500,000"),
             ("2,500,000", 2_500_000, "$2,500,000"), ("€250k", 250_000, "$250,000"), ("(1,000)", -1000, "-$1,000")]
    cell(page, 1, "check-size").click()
    for text, _, _ in typed:
        page.keyboard.type(text)
        page.keyboard.press("Enter")
    eventually(lambda: [r["cells"].get("check-size") for r in rows_by_position(admin)[:6]] == [v for _, v, _ in typed])
    for number, (_, _, shown) in enumerate(typed, start=1):
        expect(cell(page, number, "check-size")).to_have_text(shown)
    # A fund column reads them the same way.
    cell(page, 1, "fund-iv").click()
    page.keyboard.type("€250k")
    page.keyboard.press("Enter")
    eventually(lambda: rows_by_position(admin)[0]["cells"].get("fund-iv") == 250_000)

    # What cannot be read stays in the cell, marked, with the reason beside it; nothing is saved.
    before = rows_by_position(admin)[2]["cells"].get("check-size")
    cell(page, 3, "check-size").click()
    page.keyboard.type("lots")
    page.keyboard.press("Enter")
    note = page.locator(".unfit-note")
    expect(note).to_have_text("'lots' is not a number for Check size")
    expect(note).to_be_visible()
    box, target = note.bounding_box(), cell(page, 3, "check-size").bounding_box()
    assert abs(box["x"] - target["x"]) < 4 and 0 <= box["y"] - (target["y"] + target["height"]) < 8  # just below the cell
    expect(cell(page, 3, "check-size")).to_have_text("lots")
    expect(cell(page, 3, "check-size")).to_have_class(re.compile(r"\bcell-unfit\b"))
    expect(page.locator(".save-status")).to_have_attribute("data-save-status", "saved")
    assert rows_by_position(admin)[2]["cells"].get("check-size") == before
    expect_refusals(pages, 1)
    # The editor opens on what was typed, for correction.
    cell(page, 3, "check-size").dblclick()
    editor = page.locator("#grid input.cell-editor")
    expect(editor).to_have_value("lots")
    editor.fill("2m")
    editor.press("Enter")
    eventually(lambda: rows_by_position(admin)[2]["cells"].get("check-size") == 2_000_000)
    expect(cell(page, 3, "check-size")).to_have_text("$2,000,000")
    expect(page.locator("#grid .cell-unfit")).to_have_count(0)


def test_a_checkbox_toggles_on_a_click_anywhere_in_the_cell_and_on_space(pages, server, admin):
    seed_grid(admin, rows=4)
    k = column_ids(admin)
    page = open_grid(pages)
    longshot = lambda i: bool(rows_by_position(admin)[i]["cells"].get(k["longshot"]))  # noqa: E731
    start = longshot(0)
    cell(page, 1, k["longshot"]).scroll_into_view_if_needed()
    box = cell(page, 1, k["longshot"]).bounding_box()
    page.mouse.click(box["x"] + box["width"] - 6, box["y"] + box["height"] - 6)  # the cell's far corner, not the box
    eventually(lambda: longshot(0) != start)
    expect(cell(page, 1, k["longshot"]).locator(".check")).to_have_attribute("data-on", "0" if start else "1")
    page.keyboard.press("Space")
    eventually(lambda: longshot(0) == start)
    expect(cell(page, 1, k["longshot"]).locator(".check")).to_have_attribute("data-on", "1" if start else "0")
    page.keyboard.press("Control+z")  # each toggle is one step
    eventually(lambda: longshot(0) != start)


def test_an_import_undoes_and_redoes_in_one_step(pages, server, admin, tmp_path):
    seed_grid(admin, rows=3)  # Sequoia Heritage, Cambridge Associates, Horsley Bridge
    k = column_ids(admin)
    owner_before = rows_by_position(admin)[0]["cells"].get(k["owner"])
    path = tmp_path / "owners.csv"
    path.write_text("Investor,Owner\r\nSequoia Heritage,Zed\r\nNew LP One,Ann\r\nNew LP Two,Bo\r\n", encoding="utf-8")
    page = open_grid(pages)
    more_action(page, "Import CSV…")
    wizard = page.locator("dialog[data-import-wizard]")
    wizard.get_by_label("CSV file").set_input_files(str(path))
    wizard.locator("[data-panel='mapping']").wait_for()
    wizard.get_by_role("button", name="Next").click()
    wizard.get_by_role("button", name="Import 3 rows").click()
    wizard.locator("[data-panel='done']").wait_for()
    wizard.get_by_role("button", name="Close").click()
    wizard.wait_for(state="detached")
    page.locator("#grid .tabulator-cell", has_text="New LP Two").wait_for()

    def grid_now():
        rows = rows_by_position(admin)
        return sorted(r["cells"].get(k["name"]) for r in rows), next(r for r in rows if r["cells"].get(k["name"]) == "Sequoia Heritage")["cells"].get(k["owner"])
    imported = (sorted(["Sequoia Heritage", "Cambridge Associates", "Horsley Bridge", "New LP One", "New LP Two"]), "Zed")
    assert grid_now() == imported
    cell(page, 2, k["notes"]).click()
    page.keyboard.press("Control+z")  # one key: the two added investors and the changed owner
    eventually(lambda: grid_now() == (sorted(["Sequoia Heritage", "Cambridge Associates", "Horsley Bridge"]), owner_before))
    expect(page.locator("#grid .tabulator-cell", has_text="New LP Two")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    eventually(lambda: grid_now() == imported)
    page.locator("#grid .tabulator-cell", has_text="New LP Two").wait_for()
    expect(page.locator(".save-status")).to_have_attribute("data-save-status", "saved")


def next_field(page, row_number, field):
    return cell(page, row_number, field).evaluate("c => c.nextElementSibling.getAttribute('tabulator-field')")


def test_tab_in_a_select_or_date_editor_commits_and_moves_right_without_opening_the_next_editor(pages, server, admin):
    seed_grid(admin, rows=3)
    k = column_ids(admin)
    page = open_grid(pages)
    saved = lambda field: rows_by_position(admin)[0]["cells"].get(field)
    status_before = saved(k["status"])
    for field, choose in ((k["status"], lambda: page.keyboard.press("ArrowDown")),
                          (k["follow_up"], lambda: page.locator("#grid .tabulator-cell.tabulator-editing input").fill("2027-03-15"))):
        after = next_field(page, 1, field)
        cell(page, 1, field).click()
        page.keyboard.press("Enter")
        expect(page.locator("#grid .tabulator-cell.tabulator-editing")).to_have_count(1)
        choose()
        page.keyboard.press("Tab")
        active(page, 1, after)
        expect(page.locator("#grid .tabulator-cell.tabulator-editing")).to_have_count(0)
        page.keyboard.press("Shift+Tab")
        active(page, 1, field)
    eventually(lambda: saved(k["follow_up"]) == "2027-03-15")
    eventually(lambda: saved(k["status"]) not in (None, status_before))


def test_refusals_shown_in_dialogs_name_fields_in_words_never_by_path(pages, server, admin):
    page = open_grid(pages)
    text = page.evaluate("""async () => (await import('/widgets/dialogs.js')).errorText({ payload: { fields: {
        'ops[0].config.format': 'must be number, currency, percent or date',
        'ops[1].fund.close_date': 'must be a date' } } })""")
    assert text == "format: must be number, currency, percent or date; close date: must be a date"


def test_the_keys_stay_on_the_grid_when_the_focused_cell_is_redrawn_away(pages, server, admin):
    """A click first focuses the cell it lands on, and a long scroll redraws the rows by removing them: a
    Shift+click just after one lost the focus with its row, to the page, where Ctrl+C reached nothing.
    The grid takes the focus back, and Ctrl+C copies the selected cell."""
    seed_grid(admin, rows=120)
    k = column_ids(admin)
    investor = rows_by_position(admin)[0]["cells"][k["name"]]
    page = open_grid(pages)
    cell(page, 1, k["name"]).click()
    page.evaluate("""(field) => {
      window.__focused = document.querySelector(`#grid .tabulator-row:nth-child(1) .tabulator-cell[tabulator-field="${field}"]`);
      window.__focused.focus();
      document.querySelector('#grid .tabulator-tableholder').scrollTop = 120 * 36;
    }""", k["name"])
    page.wait_for_function("() => !window.__focused.isConnected")  # its row was redrawn away
    page.wait_for_function("() => document.activeElement?.classList.contains('tabulator-tableholder')")
    page.keyboard.press("Control+c")
    assert page.evaluate("navigator.clipboard.readText()") == investor

    # A full redraw puts the same row back, and the focus dropped all the same.
    page.evaluate("""() => {
      const focused = document.querySelector('#grid .tabulator-table > .tabulator-row .tabulator-cell[tabulator-field]');
      focused.focus();
      const row = focused.closest('.tabulator-row'), after = row.nextSibling, rows = row.parentNode;
      row.remove();
      rows.insertBefore(row, after);
    }""")
    page.wait_for_function("() => document.activeElement?.classList.contains('tabulator-tableholder')")

    # A click outside the grid leaves the focus where the user sent it.
    page.locator(".count").click()
    page.wait_for_timeout(200)
    assert page.evaluate("document.activeElement === document.body")
