"""The row menu in a real browser: archive (undo, the archived list, ranges), insert above/below,
log a communication, copy a record link, and the menu from the keyboard."""
import datetime
import json
import time

from playwright.sync_api import expect

from .browser_helpers import column_ids, eventually, more_action, seed_grid, sign_in


def grid_names(client):
    """Investor names of the live rows, in grid order."""
    state = client.get("/api/fundraising/state").json()["data"]
    name = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "name")
    return [r["cells"].get(name) for r in state["grid"]["rows"]]


def ids_by_name(client):
    state = client.get("/api/fundraising/state").json()["data"]
    name = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "name")
    return {r["cells"].get(name): r["id"] for r in state["grid"]["rows"]}


def archived_ids(client):
    return [r["id"] for r in client.get("/api/fundraising/rows", params={"archived": "1"}).json()["data"]]


def row(page, text):
    return page.locator("#grid .tabulator-row", has_text=text)


def shown_names(page, column_id):
    """Investor names of the rows on screen, top to bottom (small grids render every row)."""
    return page.locator(f"#grid .tabulator-row .tabulator-cell[tabulator-field='{column_id}']").all_inner_texts()


def open_menu(page, text, column_id):
    row(page, text).locator(f".tabulator-cell[tabulator-field='{column_id}']").click(button="right")
    menu = page.get_by_role("menu", name="Row actions")
    expect(menu).to_be_visible()
    return menu


def saved(page):
    page.locator("[data-save-status='saved']").wait_for()


def test_archive_from_the_menu_undo_then_restore_from_the_archived_list(pages, server, admin):
    seed_grid(admin, rows=6)
    keys = column_ids(admin)
    ids = ids_by_name(admin)
    target = ids["Horsley Bridge"]
    page = pages.open("/")
    sign_in(page)
    expect(page.locator(".count")).to_have_text("6 investors")

    # Right-click → Archive: the row leaves the grid and the archived list has it.
    menu = open_menu(page, "Horsley Bridge", keys["name"])
    menu.get_by_role("menuitem", name="Archive investor").click()
    expect(row(page, "Horsley Bridge")).to_have_count(0)
    expect(page.locator(".count")).to_have_text("5 investors")
    eventually(lambda: archived_ids(admin) == [target])
    assert "Horsley Bridge" not in grid_names(admin)

    # Undo in the toast puts it back, in its place.
    toast = page.locator(".toast", has_text="Investor archived")
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Undo").click()
    expect(row(page, "Horsley Bridge")).to_have_count(1)
    eventually(lambda: archived_ids(admin) == [])
    assert grid_names(admin)[2] == "Horsley Bridge"
    assert shown_names(page, keys["name"])[2] == "Horsley Bridge"
    expect(page.locator(".count")).to_have_text("6 investors")

    # Archive again, then restore it from the Archived dialog.
    open_menu(page, "Horsley Bridge", keys["name"]).get_by_role("menuitem", name="Archive investor").click()
    expect(row(page, "Horsley Bridge")).to_have_count(0)
    eventually(lambda: archived_ids(admin) == [target])
    saved(page)
    more_action(page, "Archived investors…")
    dialog = page.get_by_role("dialog", name="Archived investors")
    item = dialog.locator(".archived-item", has_text="Horsley Bridge")
    expect(item).to_be_visible()
    expect(item).to_contain_text("by admin")  # who archived it (archived_by in the archived listing)
    expect(dialog.locator(".archived-summary")).to_have_text("1 archived investor")
    dialog.get_by_role("button", name="Restore Horsley Bridge").click()
    expect(dialog.locator(".archived-empty")).to_contain_text("Nothing is archived")
    expect(row(page, "Horsley Bridge")).to_have_count(1)
    assert archived_ids(admin) == []
    assert "Horsley Bridge" in grid_names(admin)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)


def test_archiving_a_range_of_rows_archives_each_in_one_request_and_the_list_searches(pages, server, admin):
    seed_grid(admin, rows=6)
    keys = column_ids(admin)
    ids = ids_by_name(admin)
    page = pages.open("/")
    sign_in(page)
    requests = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/api/fundraising/ops") and requests.append(json.loads(r.post_data)))

    cell = lambda text: row(page, text).locator(f".tabulator-cell[tabulator-field='{keys['name']}']")
    cell("Cambridge Associates").click()
    cell("Adams Street").click(modifiers=["Shift"])
    menu = open_menu(page, "Horsley Bridge", keys["name"])  # inside the range: the range stays
    menu.get_by_role("menuitem", name="Archive 3 investors").click()
    for name in ("Cambridge Associates", "Horsley Bridge", "Adams Street"):
        expect(row(page, name)).to_have_count(0)
    expect(page.locator(".toast", has_text="3 investors archived")).to_be_visible()
    wanted = {ids["Cambridge Associates"], ids["Horsley Bridge"], ids["Adams Street"]}
    eventually(lambda: set(archived_ids(admin)) == wanted)
    assert grid_names(admin) == ["Sequoia Heritage", "HarbourVest", "Pantheon"]
    archives = [r for r in requests if any(op["op"] == "archive_row" for op in r["ops"])]
    assert len(archives) == 1 and {op["row_id"] for op in archives[0]["ops"]} == wanted

    # The archived list shows all three; its search narrows it; restoring one brings it back.
    saved(page)
    more_action(page, "Archived investors…")
    dialog = page.get_by_role("dialog", name="Archived investors")
    expect(dialog.locator(".archived-item")).to_have_count(3)
    dialog.get_by_label("Search archived investors").fill("adams")
    expect(dialog.locator(".archived-item")).to_have_count(1)
    expect(dialog.locator(".archived-item")).to_contain_text("Adams Street")
    dialog.get_by_role("button", name="Restore Adams Street").click()
    expect(dialog.locator(".archived-empty")).to_contain_text("No archived investors match")
    expect(row(page, "Adams Street")).to_have_count(1)
    assert set(archived_ids(admin)) == wanted - {ids["Adams Street"]}
    dialog.get_by_label("Search archived investors").fill("")
    expect(dialog.locator(".archived-item")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_insert_above_and_below_put_the_new_row_in_place(pages, server, admin):
    seed_grid(admin, rows=5)
    keys = column_ids(admin)
    page = pages.open("/")
    sign_in(page)

    open_menu(page, "Horsley Bridge", keys["name"]).get_by_role("menuitem", name="Insert investor above").click()
    page.locator("#grid .cell-editor").wait_for()  # the new row's first cell opens for typing
    page.keyboard.type("Above LP")
    page.keyboard.press("Enter")
    expect(row(page, "Above LP")).to_have_count(1)
    expect(page.locator(".count")).to_have_text("6 investors")
    eventually(lambda: "Above LP" in grid_names(admin))
    saved(page)

    open_menu(page, "Horsley Bridge", keys["name"]).get_by_role("menuitem", name="Insert investor below").click()
    page.locator("#grid .cell-editor").wait_for()
    page.keyboard.type("Below LP")
    page.keyboard.press("Enter")
    eventually(lambda: "Below LP" in grid_names(admin))
    saved(page)

    order = ["Sequoia Heritage", "Cambridge Associates", "Above LP", "Horsley Bridge", "Below LP", "Adams Street", "HarbourVest"]
    assert grid_names(admin) == order
    assert shown_names(page, keys["name"]) == order
    # And the first row: insert above it goes first.
    open_menu(page, "Sequoia Heritage", keys["name"]).get_by_role("menuitem", name="Insert investor above").click()
    page.locator("#grid .cell-editor").wait_for()
    page.keyboard.type("Top LP")
    page.keyboard.press("Enter")
    eventually(lambda: grid_names(admin)[:1] == ["Top LP"])
    assert shown_names(page, keys["name"])[0] == "Top LP"


def test_log_a_communication_from_the_menu(pages, server, admin):
    seed_grid(admin, rows=4)
    keys = column_ids(admin)
    target = ids_by_name(admin)["Cambridge Associates"]
    person = admin.get(f"/api/fundraising/rows/{target}").json()["data"]["contacts"][0]
    page = pages.open("/")
    sign_in(page)

    open_menu(page, "Cambridge Associates", keys["name"]).get_by_role("menuitem", name="Log communication…").click()
    dialog = page.get_by_role("dialog", name="Log communication")
    expect(dialog.get_by_label("Contact")).to_have_value(person["id"])
    expect(dialog.get_by_label("Date")).to_have_value(datetime.date.today().isoformat())
    dialog.get_by_label("Type").select_option("meeting")
    dialog.get_by_label("Subject").fill("Quarterly update")
    dialog.get_by_label("Notes").fill("Discussed Fund IV timing.")
    dialog.get_by_role("button", name="Log communication").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".toast", has_text="Communication logged")).to_be_visible()

    detail = admin.get(f"/api/fundraising/rows/{target}").json()["data"]
    logged = [c for c in detail["communications"] if c["subject"] == "Quarterly update"]
    assert len(logged) == 1
    assert logged[0]["type"] == "meeting" and logged[0]["body"] == "Discussed Fund IV timing."
    assert logged[0]["contact_id"] == person["contact_id"]
    assert logged[0]["communication_date"].startswith(datetime.date.today().isoformat())
    assert "Quarterly update (admin)" in detail["cells"][keys["notes"]]
    # The Notes cell in the grid shows the new line without a reload.
    notes = row(page, "Cambridge Associates").locator(f".tabulator-cell[tabulator-field='{keys['notes']}']")
    expect(notes).to_contain_text("Quarterly update")


def test_log_communication_explains_a_row_without_contacts(pages, server, admin):
    seed_grid(admin, rows=2)
    keys = column_ids(admin)
    version = admin.get("/api/fundraising/state").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [{"op": "add_row", "cells": {keys["name"]: "Nobody LP"}}]})
    assert r.status_code == 200, r.text
    page = pages.open("/")
    sign_in(page)
    open_menu(page, "Nobody LP", keys["name"]).get_by_role("menuitem", name="Log communication…").click()
    dialog = page.get_by_role("dialog", name="Log communication")
    expect(dialog).to_contain_text("no contacts yet")
    expect(dialog.get_by_role("button", name="Log communication")).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)


def test_the_menu_opens_from_the_keyboard_and_copies_a_record_link(pages, server, admin):
    seed_grid(admin, rows=4)
    keys = column_ids(admin)
    ids = ids_by_name(admin)
    page = pages.open("/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    sign_in(page)

    # Shift+F10 on the active cell: the menu opens with its first item focused; arrows move, Escape closes.
    row(page, "Horsley Bridge").locator(f".tabulator-cell[tabulator-field='{keys['organization']}']").click()
    page.keyboard.press("Shift+F10")
    menu = page.get_by_role("menu", name="Row actions")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Expand record")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Insert investor above")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)

    # Copy record link, chosen with the keyboard.
    page.keyboard.press("Shift+F10")
    expect(menu).to_be_visible()
    page.keyboard.press("c")  # typeahead: the first item starting with C
    expect(menu.get_by_role("menuitem", name="Copy record link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".toast", has_text="Link copied")).to_be_visible()
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == f"{server.url}/?row={ids['Horsley Bridge']}"

    # The ContextMenu key, End, Enter: archives the row.
    page.keyboard.press("ContextMenu")
    expect(menu).to_be_visible()
    page.keyboard.press("End")
    expect(menu.get_by_role("menuitem", name="Archive investor")).to_be_focused()
    page.keyboard.press("Enter")
    expect(row(page, "Horsley Bridge")).to_have_count(0)
    eventually(lambda: archived_ids(admin) == [ids["Horsley Bridge"]])


def test_expand_record_and_a_record_link_open_the_drawer(pages, server, admin):
    seed_grid(admin, rows=4)
    keys = column_ids(admin)
    ids = ids_by_name(admin)
    page = pages.open("/")
    sign_in(page)
    open_menu(page, "Adams Street", keys["name"]).get_by_role("menuitem", name="Expand record").click()
    expect(page.locator(f".row-drawer[data-row-id='{ids['Adams Street']}']")).to_be_visible()

    # A copied link (/?row=<id>) opens that row's drawer once the grid is loaded, through sign-in too.
    other = pages.open(f"/?row={ids['Cambridge Associates']}")
    sign_in(other)
    expect(other.locator(f".row-drawer[data-row-id='{ids['Cambridge Associates']}']")).to_be_visible()
