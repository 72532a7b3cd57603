"""Presence as partners see it (a closed tab leaves, one colour per person on every screen), the row
panel's contacts, mentions reaching the person mentioned, and a console free of Tabulator's noise."""
import re
import time

import pytest
from playwright.sync_api import expect

from .browser_helpers import eventually, seed_grid, sign_in

MAYA_PASSWORD = "maya password 12"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PEER = re.compile(r"\bpeer-cell\b")


def columns_by_key(client):
    state = client.get("/api/fundraising/state").json()["data"]
    return {c["key"] or c["name"]: c["id"] for c in state["grid"]["columns"]}


def row_ids(client):
    view = client.get("/api/fundraising/views").json()["data"][0]
    return [r["id"] for r in client.get("/api/fundraising/rows", params={"view_id": view["id"], "limit": 1000}).json()["data"]]


def cell(page, row_number, column_id):
    """The cell of the row at a 1-based position (all rows are drawn in these small grids)."""
    return page.locator(f"#grid .tabulator-table > .tabulator-row:nth-child({row_number}) "
                        f".tabulator-cell[tabulator-field='{column_id}']")


def open_grid(pages, user="admin", password="correct horse battery", path="/"):
    page = pages.open(path)
    sign_in(page, user, password)
    page.locator(".live[data-live='live']").wait_for()  # the event stream is open
    return page


@pytest.fixture
def team(pages, server, admin):
    """A 12-row grid, and maya (a member) with her password."""
    seed_grid(admin, rows=12)
    maya = server.add_user(admin, "maya", password=MAYA_PASSWORD)
    return {"admin": admin, "maya": maya, "cols": columns_by_key(admin), "ids": row_ids(admin)}


def avatars(page):
    return page.locator(".topbar .presence .avatar")


# -- presence ---------------------------------------------------------------------------------------

def test_a_closed_tab_leaves_the_other_screens_at_once(pages, team):
    a = open_grid(pages)
    b = open_grid(pages, "maya", MAYA_PASSWORD)
    cell(b, 3, team["cols"]["status"]).click()
    expect(avatars(a)).to_have_count(1)
    expect(cell(a, 3, team["cols"]["status"])).to_have_class(PEER)
    b.close()  # the tab is closed: it says so on its way out, rather than waiting 60 s to expire
    expect(avatars(a)).to_have_count(0, timeout=3000)
    expect(a.locator("#grid .peer-cell")).to_have_count(0, timeout=3000)


def test_one_person_in_two_tabs_has_one_avatar_and_closing_a_tab_takes_only_its_outline(pages, team):
    cols = team["cols"]
    a = open_grid(pages)
    b1 = open_grid(pages, "maya", MAYA_PASSWORD)
    b2 = open_grid(pages, "maya", MAYA_PASSWORD)
    cell(b2, 5, cols["owner"]).click()
    cell(b1, 3, cols["status"]).click()
    # Each tab's cell is outlined; maya is one person, so one avatar.
    expect(cell(a, 3, cols["status"])).to_have_class(PEER)
    expect(cell(a, 5, cols["owner"])).to_have_class(PEER)
    expect(avatars(a)).to_have_count(1)
    b1.close()
    expect(cell(a, 3, cols["status"])).not_to_have_class(PEER, timeout=3000)
    expect(cell(a, 5, cols["owner"])).to_have_class(PEER)  # her other tab is still there
    expect(avatars(a)).to_have_count(1)
    expect(avatars(a).first).to_have_attribute("title", re.compile("^maya"))


def test_a_tab_gone_without_a_word_expires_with_the_heartbeat_timeout(pages, server, team):
    a = open_grid(pages)
    b = open_grid(pages, "maya", MAYA_PASSWORD)
    cell(b, 4, team["cols"]["owner"]).click()
    expect(cell(a, 4, team["cols"]["owner"])).to_have_class(PEER)
    b.context.set_offline(True)  # its goodbye never arrives (a crash, a lost network)
    b.close()
    time.sleep(1.5)
    expect(avatars(a)).to_have_count(1)  # nothing was said: maya is still shown...
    server.app.presence.clock = lambda: time.monotonic() + 61  # ...until 60 s pass without a heartbeat
    expect(avatars(a)).to_have_count(0, timeout=3000)
    expect(a.locator("#grid .peer-cell")).to_have_count(0)
    pages.problems[:] = [p for p in pages.problems if "ERR_INTERNET_DISCONNECTED" not in p]


def background(locator):
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


def test_each_person_has_one_colour_the_same_on_every_screen(pages, team):
    cols = team["cols"]
    a = open_grid(pages)
    b = open_grid(pages, "maya", MAYA_PASSWORD)
    cell(b, 2, cols["owner"]).click()
    expect(avatars(a)).to_have_count(1)
    expect(avatars(b)).to_have_count(1)
    maya_seen_by_admin = background(avatars(a).first)
    admin_seen_by_maya = background(avatars(b).first)
    assert maya_seen_by_admin != admin_seen_by_maya
    # Your own avatar is in the colour the others see you in, and so is the outline of your cell.
    expect(b.locator(".topbar .avatar.me")).to_have_css("background-color", maya_seen_by_admin)
    expect(a.locator(".topbar .avatar.me")).to_have_css("background-color", admin_seen_by_maya)
    outlined = cell(a, 2, cols["owner"])
    expect(outlined).to_have_class(PEER)
    assert outlined.evaluate("el => getComputedStyle(el).outlineColor") == maya_seen_by_admin
    # A second screen of the same person: the same colour again.
    b2 = open_grid(pages, "maya", MAYA_PASSWORD)
    expect(b2.locator(".topbar .avatar.me")).to_have_css("background-color", maya_seen_by_admin)


# -- the row panel's contacts ---------------------------------------------------------------------------

def test_the_row_panel_shows_contacts_by_name_and_email_and_links_to_the_contact(pages, team):
    admin, ids, cols = team["admin"], team["ids"], team["cols"]
    detail = admin.get(f"/api/fundraising/rows/{ids[0]}").json()["data"]
    [person] = detail["contacts"]
    assert person["contact_id"]  # linked to a classic contact
    page = open_grid(pages)
    page.locator("#grid .tabulator-row").first.locator(".row-number").click()
    contacts = page.locator(f"aside.row-drawer[data-row-id='{ids[0]}'] [data-section='contacts']")
    expect(contacts.locator(".contact")).to_have_count(1)
    expect(contacts.locator(".contact-name")).to_contain_text(person["name"])
    expect(contacts.locator("a.contact-email")).to_have_text(person["email"])
    expect(contacts.locator("a.contact-email")).to_have_attribute("href", f"mailto:{person['email']}")
    assert not UUID.search(contacts.inner_text()), contacts.inner_text()  # never a raw id
    link = contacts.get_by_role("link", name=person["name"])
    link.click()
    expect(page).to_have_url(re.compile(rf"/contacts/{person['contact_id']}\?row={ids[0]}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(person["name"])
    expect(page.locator(".contact-fields dd[data-field='Email']")).to_have_text(person["email"])
    # And back to the investor, its panel open again.
    page.get_by_role("link", name="← Back to the investor").click()
    expect(page.locator(f"aside.row-drawer[data-row-id='{ids[0]}']")).to_be_visible()
    expect(page.locator(".drawer-title")).to_have_text(detail["cells"][cols["name"]])


# -- mentions ---------------------------------------------------------------------------------------

def test_a_mention_reaches_the_person_mentioned_and_opens_its_row(pages, team):
    admin, maya, ids, cols = team["admin"], team["maya"], team["ids"], team["cols"]
    page = open_grid(pages)
    badge = page.locator(".mentions-button .unread-count")
    expect(badge).to_be_hidden()
    r = maya.post(f"/api/fundraising/rows/{ids[6]}/comments", {"body": "@admin could you call them this week?"})
    assert r.status_code == 201, r.text
    expect(badge).to_have_text("1", timeout=3000)  # on the event stream, not at the next poll
    expect(page.get_by_role("button", name="Mentions: 1 unread")).to_be_visible()
    page.get_by_role("button", name="Mentions: 1 unread").click()
    panel = page.get_by_role("dialog", name="Mentions")
    item = panel.locator("a.mention-item")
    expect(item).to_have_count(1)
    row_name = admin.get(f"/api/fundraising/rows/{ids[6]}").json()["data"]["cells"][cols["name"]]
    expect(item.locator(".mention-row")).to_have_text(row_name)
    expect(item).to_contain_text("maya: @admin could you call them this week?")
    expect(item).to_have_attribute("data-unread", "")
    item.click()
    expect(page.locator(f"aside.row-drawer[data-row-id='{ids[6]}']")).to_be_visible()
    expect(page.locator(".drawer-comments")).to_contain_text("could you call them this week?")
    expect(panel).to_be_hidden()
    expect(badge).to_be_hidden()
    eventually(lambda: admin.get("/api/fundraising/mentions/unread").json()["data"]["unread"] == 0)
    # Read stays read: the list shows it without the unread mark.
    page.get_by_role("button", name="Mentions").click()
    expect(panel.locator("a.mention-item")).to_have_count(1)
    expect(panel.locator("a.mention-item[data-unread]")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


# -- noise --------------------------------------------------------------------------------------------

NOISE = ("Find Error", "frozen columns")


def test_a_normal_load_says_nothing_in_the_console(pages, server, team):
    """Two people at work, in views that freeze columns and filter rows out: none of Tabulator's warnings."""
    admin, maya, cols = team["admin"], team["maya"], team["cols"]
    name = cols["name"]
    view = admin.post("/api/fundraising/views", {"name": "No Sequoia", "shared": False, "config": {
        "frozen": 2, "filters": {"conjunction": "and", "conditions": [{"column_id": name, "operator": "does_not_contain", "value": "Sequoia"}]}}})
    assert view.status_code == 201, view.text
    warnings = []
    page = pages.open("/")
    page.on("console", lambda m: m.type in ("warning", "error") and warnings.append(m.text))
    page.reload()  # everything from the very first line of the load
    sign_in(page)
    page.locator(".live[data-live='live']").wait_for()
    page.locator("#view-select").select_option(view.json()["data"]["id"])
    expect(page.locator("#grid .tabulator-row")).to_have_count(11)
    # Maya works on the row this view leaves out: her cell and her edit name a row this grid does not hold.
    b = open_grid(pages, "maya", MAYA_PASSWORD)
    cell(b, 1, cols["owner"]).click()
    expect(avatars(page)).to_have_count(1)
    sequoia = team["ids"][0]
    state = maya.get("/api/fundraising/state?rows=0").json()["data"]
    r = maya.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "set_cell", "row_id": sequoia, "column_id": cols["owner"], "value": "Maya"}]})
    assert r.status_code == 200, r.text
    page.wait_for_timeout(1500)  # the op arrives on the stream
    page.locator("#view-select").select_option(index=0)  # and back: the columns are set again
    expect(page.locator("#grid .tabulator-row")).to_have_count(12)
    page.wait_for_timeout(300)
    noisy = [w for w in warnings if any(n in w for n in NOISE)]
    assert not noisy, noisy
    assert not warnings, warnings  # nothing else either
