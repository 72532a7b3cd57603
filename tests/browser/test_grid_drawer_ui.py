"""The row drawer (Airtable's expanded record) in a real browser against the real server:
fields, contacts, commitments, editing, history, comments with @mentions, logging a
communication, live updates and automation changes, keyboard and focus."""
import re

from playwright.sync_api import expect

from .browser_helpers import OUTPUT, seed_grid, sign_in


def prepare(admin, rows=12):
    """A seeded grid whose first row has commitments to both funds, plus an email and a broken formula column."""
    state = seed_grid(admin, rows=rows)
    row = state["grid"]["rows"][0]
    ops = [{"op": "set_cell", "row_id": row["id"], "column_id": "fund-iii", "value": 5_000_000},
           {"op": "set_cell", "row_id": row["id"], "column_id": "fund-iv", "value": 2_500_000},
           {"op": "add_column", "name": "LP Email", "type": "email", "column_id": "lp-email"},
           {"op": "add_column", "name": "Per nothing", "type": "formula", "column_id": "broken", "formula": "{Check size} / 0"}]
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": ops})
    assert r.status_code == 200, r.text
    state = admin.get("/api/fundraising/state").json()["data"]
    columns = {c["name"]: c for c in state["grid"]["columns"]}
    return state, columns, state["grid"]["rows"][0]


def row_cells(client, row_id):
    r = client.get(f"/api/fundraising/rows/{row_id}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def grid_row(page, name):
    return page.locator("#grid .tabulator-row", has_text=name)


def open_drawer(page, name):
    grid_row(page, name).locator(".row-number").click()
    drawer = page.get_by_role("dialog", name=f"Investor details: {name}")
    expect(drawer).to_be_visible()
    return drawer


def field(drawer, column):
    return drawer.locator(f".field[data-column-id='{column['id']}']")


def saved(page):
    expect(page.locator("[data-save-status]")).to_have_attribute("data-save-status", "saved")


def test_drawer_shows_the_row_and_edits_a_field_with_history(pages, server, admin):
    state, columns, row = prepare(admin)
    name = row["cells"][columns["Investor"]["id"]]
    detail = row_cells(admin, row["id"])
    person = detail["contacts"][0]
    assert person["contact_id"]

    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    drawer = open_drawer(page, name)
    assert page.evaluate("document.activeElement.closest('.row-drawer') !== null"), "focus moves into the drawer"

    # Every field, in grid order, with its name and value.
    names = drawer.locator(".field .field-name").all_text_contents()
    assert names == [c["name"] for c in state["grid"]["columns"]]
    expect(field(drawer, columns["Investor"]).locator("input")).to_have_value(name)
    expect(field(drawer, columns["Check size"]).locator("input")).to_have_value(re.compile(r"^\$[\d,]+$"))
    # Formula and contacts are read-only; the formula's error is shown.
    broken = field(drawer, columns["Per nothing"])
    expect(broken).to_contain_text("#DIV/0")
    assert broken.locator("input, textarea, select").count() == 0
    expect(field(drawer, columns["Contacts"])).to_contain_text(person["name"])

    # Contacts with their linked classic contact; commitments by fund with a total.
    contacts = drawer.locator("[data-section=contacts]")
    expect(contacts).to_contain_text(person["name"])
    expect(contacts).to_contain_text(person["email"])
    expect(contacts).to_contain_text(person["title"])
    # The linked classic contact is a link on the name, never its id (issue 15).
    expect(contacts.get_by_role("link", name=person["name"])).to_have_attribute("href", re.compile(rf"^/contacts/{person['contact_id']}\?row="))
    expect(contacts).not_to_contain_text(person["contact_id"])
    commitments = drawer.locator("[data-section=commitments] table")
    expect(commitments.locator("tbody tr")).to_have_count(2)
    expect(commitments.locator("tbody tr", has_text="Fund III")).to_contain_text("$5,000,000")
    expect(commitments.locator("tbody tr", has_text="Fund IV")).to_contain_text("$2,500,000")
    expect(commitments.locator("tfoot")).to_contain_text("Total")
    expect(commitments.locator("tfoot")).to_contain_text("$7,500,000")
    page.screenshot(path=str(OUTPUT / "drawer.png"))

    # Edit a field: saved as an op, shown in the grid and in the history with actor and before/after.
    owner = columns["Owner"]
    before = row["cells"][owner["id"]]
    owner_input = field(drawer, owner).locator("input")
    owner_input.fill("Jordan Lee")
    owner_input.press("Enter")
    latest = drawer.locator(".history-item").first
    expect(latest).to_contain_text("Owner")
    expect(latest.locator(".h-after")).to_have_text("Jordan Lee")
    expect(latest.locator(".h-before")).to_have_text(before)
    expect(latest.locator(".h-meta strong")).to_have_text("admin")
    assert row_cells(admin, row["id"])["cells"][owner["id"]] == "Jordan Lee"
    expect(grid_row(page, name).locator(f".tabulator-cell[tabulator-field='{owner['id']}']")).to_have_text("Jordan Lee")
    history = admin.get(f"/api/fundraising/rows/{row['id']}/history").json()["data"]
    assert (history[0]["column_id"], history[0]["before"], history[0]["after"], history[0]["actor"]) == (owner["id"], before, "Jordan Lee", "admin")

    # Numbers are parsed as the grid parses them.
    check = field(drawer, columns["Check size"]).locator("input")
    check.fill("$1,250,000")
    check.press("Enter")
    expect(drawer.locator(".history-item").first.locator(".h-after")).to_have_text("$1,250,000")
    assert row_cells(admin, row["id"])["cells"]["check-size"] == 1_250_000
    check.fill("lots")
    check.press("Enter")
    # The server reads amounts (crm/amounts.py, as the importer does) and says, in words, what it cannot read.
    expect(field(drawer, columns["Check size"]).locator(".field-error")).to_have_text("'lots' is not a number for Check size")
    expect(check).to_have_attribute("aria-invalid", "true")
    check.press("Escape")  # puts the saved value back; the drawer stays open
    expect(check).to_have_value("1250000")
    expect(drawer).to_be_visible()

    # The server's 422 is shown under the field; nothing is saved.
    email = field(drawer, columns["LP Email"])
    email.locator("input").fill("not an email")
    email.locator("input").press("Enter")
    expect(email.locator(".field-error")).to_contain_text("email")
    assert row_cells(admin, row["id"])["cells"].get("lp-email") is None
    # The browser logs the refused requests; those console errors are expected, nothing else.
    refused = [p for p in pages.problems if "422" in p]
    assert len(refused) == 2, pages.problems  # "lots" and the email
    for p in refused:
        pages.problems.remove(p)
    email.locator("input").press("Escape")
    expect(email.locator("input")).to_have_value("")

    # Contacts are edited in the grid's people dialog; the new person is linked to a classic contact.
    field(drawer, columns["Contacts"]).get_by_role("button", name="Edit Contacts").click()
    people = page.locator("dialog.people")
    people.get_by_role("button", name="+ Add person").click()
    people.get_by_label("Name").last.fill("Ann Lee")
    people.get_by_label("Email").last.fill("ann@lp.example")
    people.get_by_role("button", name="Save").click()
    added = drawer.locator("[data-section=contacts] .contact", has_text="Ann Lee")
    expect(added).to_contain_text("ann@lp.example")
    expect(added.get_by_role("link", name="Ann Lee")).to_have_attribute("href", re.compile(r"^/contacts/[0-9a-f-]{36}\?row="))  # linked
    stored = row_cells(admin, row["id"])["contacts"]
    assert [p["name"] for p in stored] == [person["name"], "Ann Lee"] and stored[0]["id"] == person["id"]

    # Select fields edit too.
    status = columns["Status"]
    field(drawer, status).locator("select").select_option("Diligence")
    expect(drawer.locator(".history-item").first.locator(".h-after")).to_have_text("Diligence")
    assert row_cells(admin, row["id"])["cells"][status["id"]] == "Diligence"

    # The close button and Escape close it; focus leaves with it.
    drawer.get_by_role("button", name="Close details").click()
    expect(page.locator(".row-drawer")).to_have_count(0)
    drawer = open_drawer(page, name)
    page.keyboard.press("Escape")
    expect(page.locator(".row-drawer")).to_have_count(0)
    assert page.evaluate("document.activeElement.closest('#grid') !== null"), "focus goes back to the grid"
    saved(page)


def test_comments_with_mentions_edit_and_delete(pages, server, admin):
    state, columns, row = prepare(admin)
    name = row["cells"][columns["Investor"]["id"]]
    maya = server.add_user(admin, "maya")
    r = maya.post(f"/api/fundraising/rows/{row['id']}/comments", {"body": "Maya was here <b>not bold</b>"})
    assert r.status_code == 201, r.text

    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    drawer = open_drawer(page, name)
    comments = drawer.locator(".drawer-comments .comment")
    expect(comments).to_have_count(1)
    expect(comments.first.locator(".comment-body")).to_have_text("Maya was here <b>not bold</b>")
    assert comments.first.locator(".comment-body b").count() == 0
    # Someone else's comment cannot be edited or deleted from here.
    assert comments.first.get_by_role("button").count() == 0

    # "@" offers usernames; Enter picks one.
    box = drawer.get_by_label("Add a comment")
    box.click()
    box.type("Please call them, @ma")
    option = drawer.get_by_role("option", name=re.compile("@maya"))
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(box).to_have_value("Please call them, @maya ")
    box.type("today.")
    drawer.get_by_role("button", name="Comment", exact=True).click()
    expect(comments).to_have_count(2)
    mine = comments.nth(1)
    expect(mine.locator(".comment-body")).to_have_text("Please call them, @maya today.")
    expect(mine.locator(".mention")).to_have_text("@maya")
    expect(box).to_have_value("")

    inbox = maya.get("/api/fundraising/mentions").json()
    assert inbox["total"] == 1
    assert inbox["data"][0]["row_id"] == row["id"] and inbox["data"][0]["author"] == "admin"
    assert "@maya" in inbox["data"][0]["body"]

    # Edit your own comment.
    mine.get_by_role("button", name="Edit comment").click()
    editor = mine.get_by_label("Edit comment")
    expect(editor).to_be_focused()
    editor.fill("Called them; @maya please follow up.")
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator(".comment-body")).to_have_text("Called them; @maya please follow up.")
    expect(mine.locator(".mention")).to_have_text("@maya")
    expect(mine).to_contain_text("(edited)")
    listed = admin.get(f"/api/fundraising/rows/{row['id']}/comments").json()["data"]
    assert [c["body"] for c in listed] == ["Maya was here <b>not bold</b>", "Called them; @maya please follow up."]

    # Delete it (after a confirmation in place).
    mine.get_by_role("button", name="Delete comment").click()
    mine.get_by_role("button", name="Delete", exact=True).click()
    expect(comments).to_have_count(1)
    listed = admin.get(f"/api/fundraising/rows/{row['id']}/comments").json()["data"]
    assert [c["author"] for c in listed] == ["maya"]
    assert maya.get("/api/fundraising/mentions").json()["total"] == 0


def test_log_communication_shows_it_and_appends_to_notes(pages, server, admin):
    state, columns, row = prepare(admin)
    name = row["cells"][columns["Investor"]["id"]]
    notes = columns["Notes"]
    person = row_cells(admin, row["id"])["contacts"][0]

    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    drawer = open_drawer(page, name)
    communications = drawer.locator(".communication")
    expect(drawer.locator("[data-section=communications]")).to_contain_text("No communications")

    drawer.get_by_text("Log communication", exact=True).click()
    form = drawer.get_by_role("form", name="Log communication")
    form.get_by_label("Type").select_option("meeting")
    form.get_by_label("Date").fill("2026-03-02")
    expect(form.get_by_label("Contact")).to_have_value(person["id"])
    form.get_by_label("Subject").fill("Quarterly update")
    form.get_by_label("Body").fill("<b>Not bold</b> line one\nline two")
    form.get_by_role("button", name="Log").click()

    expect(communications).to_have_count(1)
    first = communications.first
    expect(first.locator(".comm-subject")).to_have_text("Quarterly update")
    expect(first.locator(".comm-body")).to_have_text("<b>Not bold</b> line one\nline two")
    assert first.locator(".comm-body b").count() == 0
    expect(first.locator(".comm-type")).to_have_text("meeting")
    expect(first).to_contain_text(person["name"])
    expect(first.locator("time")).to_have_attribute("datetime", re.compile("^2026-03-02"))

    line = f"2026-03-02 Meeting with {person['name']}: Quarterly update (admin)"
    expect(field(drawer, notes).locator("textarea")).to_have_value(re.compile(re.escape(line) + "$"))
    assert row_cells(admin, row["id"])["cells"][notes["id"]].endswith(line)
    expect(grid_row(page, name).locator(f".tabulator-cell[tabulator-field='{notes['id']}']")).to_contain_text("Quarterly update")
    classic = admin.get(f"/api/contacts/{person['contact_id']}/communications").json()["data"]
    assert [(c["type"], c["subject"]) for c in classic] == [("meeting", "Quarterly update")]
    expect(drawer.locator(".history-item").first.locator(".h-column")).to_have_text("Notes")
    drawer.locator("[data-section=contacts] h3").scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "drawer-activity.png"))


def test_drawer_follows_live_changes_shows_automations_and_pages_history(pages, server, admin):
    state, columns, row = prepare(admin)
    name = row["cells"][columns["Investor"]["id"]]
    status, longshot, owner, notes = columns["Status"], columns["Longshot"], columns["Owner"], columns["Notes"]
    r = admin.post("/api/fundraising/automations", {
        "name": "Passed means longshot", "trigger": "row_changed",
        "condition": {"conjunction": "and", "conditions": [{"column_id": status["id"], "operator": "is", "value": "Passed"}]},
        "actions": [{"type": "set_cell", "column_id": longshot["id"], "value": True}]})
    assert r.status_code == 201, r.text
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "set_cell", "row_id": row["id"], "column_id": longshot["id"], "value": False},
        *({"op": "set_cell", "row_id": row["id"], "column_id": notes["id"], "value": f"draft {i}"} for i in range(45))]})
    assert r.status_code == 200, r.text
    total = admin.get(f"/api/fundraising/rows/{row['id']}/history?limit=1").json()["total"]
    assert total > 50
    maya = server.add_user(admin, "maya")

    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    drawer = open_drawer(page, name)

    # History is paged: 25 first, then "Load more".
    items = drawer.locator(".history-item")
    expect(items).to_have_count(25)
    drawer.get_by_role("button", name=re.compile("Load more")).click()
    expect(items).to_have_count(50)
    expect(items.nth(25)).to_contain_text("Notes")

    # Someone else's edit arrives on the event stream and the open drawer shows it.
    r = maya.post("/api/fundraising/ops", {"base_version": admin.get("/api/fundraising/state").json()["data"]["version"],
                                           "ops": [{"op": "set_cell", "row_id": row["id"], "column_id": owner["id"], "value": "Maya M"}]})
    assert r.status_code == 200, r.text
    expect(field(drawer, owner).locator("input")).to_have_value("Maya M")
    expect(items.first.locator(".h-meta strong")).to_have_text("maya")

    # A rule's change is shown as the automation's.
    field(drawer, status).locator("select").select_option("Passed")
    expect(field(drawer, longshot).locator("input[type=checkbox]")).to_be_checked()
    made = drawer.locator(".history-item[data-actor-kind=automation]").first
    expect(made.locator(".badge")).to_have_text("Automation")
    expect(made).to_contain_text("after admin's edit")
    expect(made.locator(".h-column")).to_have_text("Longshot")
    assert row_cells(admin, row["id"])["cells"][longshot["id"]] is True
