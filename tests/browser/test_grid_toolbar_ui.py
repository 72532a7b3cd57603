"""The grid's toolbar at 1280x800: one line, the view tools together, and the More menu (Add column…,
Archived investors…, Import CSV…, Export CSV) reachable and working from the keyboard."""
import re

from playwright.sync_api import expect

from .browser_helpers import column_ids, seed_grid, sign_in

MORE_ITEMS = ["Add column…", "Archived investors…", "Import CSV…", "Export CSV"]

# Every laid-out child of the toolbar and every control in it: their boxes, the toolbar's box and overflow.
LAYOUT = """(bar) => {
  const style = getComputedStyle(bar);
  const inner = bar.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const shown = (el) => el.getClientRects().length > 0;
  const boxes = (list) => list.filter(shown).map((el) => {
    const r = el.getBoundingClientRect();
    return { what: el.outerHTML.slice(0, 70), top: el.offsetTop, y: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
  });
  const children = boxes([...bar.children]);
  const controls = boxes([...bar.querySelectorAll('button, input, select, .count, .save-status, .live, .vt-lock')]
    .filter((el) => !el.closest('[role=menu]')));
  const box = bar.getBoundingClientRect();
  return { children, controls, inner, tallest: Math.max(...children.map((c) => c.height)),
           scroll: bar.scrollWidth - bar.clientWidth, page: document.documentElement.scrollWidth - window.innerWidth,
           left: box.left, right: box.right };
}"""


def open_grid(pages, path="/"):
    page = pages.open(path, viewport=(1280, 800))
    sign_in(page)
    page.locator(".live[data-live='live']").wait_for()  # every row is in and the toolbar is complete
    return page


def assert_one_line(page):
    toolbar = page.get_by_role("toolbar", name="Grid tools")
    layout = toolbar.evaluate(LAYOUT)
    children, controls = layout["children"], layout["controls"]
    assert len(children) >= 7 and len(controls) >= 12, layout
    # One row: every child is centred on the same line (offsetTop + half its height), every control
    # overlaps every other vertically, and the toolbar is as tall as its tallest child, not two rows.
    middles = [c["top"] + c["height"] / 2 for c in children]
    assert max(middles) - min(middles) <= 2, children
    assert max(c["y"] for c in controls) < min(c["bottom"] for c in controls), controls
    assert layout["inner"] <= layout["tallest"] + 1, layout
    # Nothing sticks out: no horizontal overflow in the toolbar or the page, every control inside.
    assert layout["scroll"] <= 0 and layout["page"] <= 0, layout
    outside = [c["what"] for c in controls if c["left"] < layout["left"] or c["right"] > layout["right"] + 0.5]
    assert outside == [], outside
    return layout


def test_the_toolbar_fits_on_one_line_at_1280(pages, server, admin):
    seed_grid(admin, rows=80)
    keys = column_ids(admin)
    # A busy view: the tools' labels at their longest usual (counts, a group name).
    view = admin.get("/api/fundraising/views").json()["data"][0]
    config = {"filters": {"conjunction": "and", "conditions": [
                  {"column_id": keys["owner"], "operator": "is_not_empty"},
                  {"column_id": keys["lead_source"], "operator": "is_not_empty"}]},
              "sorts": [{"column_id": keys["name"], "direction": "asc"}],
              "group_by": keys["status"], "hidden": [keys["notes"]]}
    r = admin.patch(f"/api/fundraising/views/{view['id']}", {"config": config})
    assert r.status_code == 200, r.text
    page = open_grid(pages)
    expect(page.locator("[data-view-tool='filter']")).to_have_text("Filter (2)")
    expect(page.locator("[data-view-tool='group']")).to_have_text("Group: Status")
    assert_one_line(page)

    # The view picker and the view tools are one group; the less used actions are behind More.
    tools = page.get_by_role("group", name="View tools")
    expect(tools.get_by_label("View", exact=True)).to_be_visible()
    for key in ("view-menu", "filter", "sort", "group", "hide", "layout"):
        expect(tools.locator(f"[data-view-tool='{key}']")).to_be_visible()
    toolbar = page.get_by_role("toolbar", name="Grid tools")
    for name in ("+ Add investor", "More actions"):
        expect(toolbar.get_by_role("button", name=name, exact=True)).to_be_in_viewport()
    for name in ("+ Add column", "Archived", "Import CSV", "Export CSV"):
        expect(toolbar.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator(".save-status[role='status']")).to_be_in_viewport()

    # A message (the export's status) takes the room that is left, cut short: still one line.
    page.get_by_role("button", name="More actions").click()
    with page.expect_download():
        page.get_by_role("menuitem", name="Export CSV").click()
    expect(page.locator(".transfer-status")).to_have_text("Downloaded All investors.csv")
    page.locator(".transfer-status").evaluate("(el) => { el.textContent = 'Export failed: ' + 'a long reason '.repeat(40); }")
    assert_one_line(page)

    # The opened menu lies over the grid under its button; the toolbar does not grow.
    page.get_by_role("button", name="More actions").click()
    menu = page.get_by_role("menu", name="More actions")
    expect(menu).to_be_visible()
    assert_one_line(page)
    button, box = page.get_by_role("button", name="More actions").bounding_box(), menu.bounding_box()
    assert abs(box["y"] - (button["y"] + button["height"])) < 10 and box["x"] + box["width"] <= 1280, (button, box)


def test_the_more_menu_from_the_keyboard(pages, server, admin):
    seed_grid(admin, rows=6)
    page = open_grid(pages)
    more = page.get_by_role("button", name="More actions")
    menu = page.get_by_role("menu", name="More actions")
    expect(more).to_have_attribute("aria-haspopup", "menu")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()

    # Tab reaches it from the search box, past "+ Add investor".
    page.get_by_label("Search investors").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="+ Add investor")).to_be_focused()
    page.keyboard.press("Tab")
    expect(more).to_be_focused()
    page.keyboard.press("Tab")  # where Tab goes from the button, for the check further down
    after_more = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    more.focus()

    # Enter opens on the first item; the items are menuitems; arrows move and wrap; Home/End; letters.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert menu.get_attribute("id") == more.get_attribute("aria-controls")
    expect(menu.get_by_role("menuitem")).to_have_text(MORE_ITEMS)
    item = lambda name: menu.get_by_role("menuitem", name=name, exact=True)  # noqa: E731
    expect(item("Add column…")).to_be_focused()
    for name in MORE_ITEMS[1:] + MORE_ITEMS[:1]:
        page.keyboard.press("ArrowDown")
        expect(item(name)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(item("Export CSV")).to_be_focused()
    page.keyboard.press("Home")
    expect(item("Add column…")).to_be_focused()
    page.keyboard.press("End")
    expect(item("Export CSV")).to_be_focused()
    page.keyboard.press("i")
    expect(item("Import CSV…")).to_be_focused()

    # Escape closes and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()

    # Space and ArrowDown open on the first item, ArrowUp on the last.
    page.keyboard.press(" ")
    expect(item("Add column…")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    expect(item("Add column…")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowUp")
    expect(item("Export CSV")).to_be_focused()

    # Tab leaves: the menu closes and the focus goes on to what follows the button; Shift+Tab to what precedes it.
    page.keyboard.press("Tab")
    expect(menu).to_be_hidden()
    expect(more).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.activeElement.outerHTML.slice(0, 120)") == after_more
    more.focus()
    page.keyboard.press("Enter")
    expect(item("Add column…")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(menu).to_be_hidden()
    expect(page.get_by_role("button", name="+ Add investor")).to_be_focused()

    # A click outside closes it too.
    more.click()
    expect(menu).to_be_visible()
    page.locator(".count").click()
    expect(menu).to_be_hidden()


def choose(page, name):
    """Open More from the keyboard and choose `name` with arrows and Enter."""
    more = page.get_by_role("button", name="More actions")
    more.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="More actions")
    for _ in range(MORE_ITEMS.index(name)):
        page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name=name, exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_hidden()


def test_each_action_in_the_more_menu_works_from_the_keyboard(pages, server, admin):
    seed_grid(admin, rows=6)
    page = open_grid(pages)
    more = page.get_by_role("button", name="More actions")

    # Add column…: its dialog, filled and sent from the keyboard; the column appears; focus back on More.
    choose(page, "Add column…")
    dialog = page.get_by_role("dialog", name="Add a column")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Warmth")
    dialog.get_by_label("Type").select_option("text")
    dialog.get_by_label("Name").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#grid .tabulator-col[role=columnheader]", has_text="Warmth")).to_have_count(1)
    state = admin.get("/api/fundraising/state").json()["data"]
    assert any(c["name"] == "Warmth" and c["type"] == "text" for c in state["grid"]["columns"])
    expect(page.get_by_role("button", name="Field options: Warmth")).to_be_focused()  # where the new field is

    # Archived investors…: the archived list; Escape closes it.
    choose(page, "Archived investors…")
    archived = page.get_by_role("dialog", name="Archived investors")
    expect(archived).to_be_visible()
    expect(archived.locator(".archived-empty")).to_contain_text("Nothing is archived")
    page.keyboard.press("Escape")
    expect(archived).to_have_count(0)
    expect(more).to_be_focused()

    # Import CSV…: the wizard.
    choose(page, "Import CSV…")
    wizard = page.locator("dialog[data-import-wizard]")
    expect(wizard).to_be_visible()
    expect(wizard.get_by_label("CSV file")).to_be_attached()
    page.keyboard.press("Escape")
    expect(wizard).to_have_count(0)
    expect(more).to_be_focused()

    # Export CSV: the view's rows downloaded.
    with page.expect_download() as info:
        choose(page, "Export CSV")
    assert info.value.suggested_filename == "All investors.csv"
    expect(page.locator(".transfer-status")).to_have_text("Downloaded All investors.csv")
    expect(more).to_be_focused()


def test_a_member_gets_the_same_menu_and_the_view_menu_shares_its_keys(pages, server, admin):
    seed_grid(admin, rows=3)
    server.add_user(admin, "maya")
    page = pages.open("/", viewport=(1280, 800))
    sign_in(page, "maya", "member password 1")
    page.locator(".live[data-live='live']").wait_for()
    assert_one_line(page)
    page.get_by_role("button", name="More actions").click()
    expect(page.get_by_role("menu", name="More actions").get_by_role("menuitem")).to_have_text(MORE_ITEMS)
    page.keyboard.press("Escape")

    # The view tools' ⋯ is the same kind of menu: Escape returns to it, Tab moves on from it.
    options = page.get_by_role("button", name="View options")
    expect(options).to_have_attribute("aria-haspopup", "menu")
    options.focus()
    page.keyboard.press("ArrowDown")
    view_menu = page.get_by_role("menu", name="View options")
    expect(view_menu.get_by_role("menuitem", name="New view…")).to_be_focused()
    page.keyboard.press("End")
    expect(view_menu.get_by_role("menuitem", name="Delete view…")).to_be_focused()
    page.keyboard.press("Escape")
    expect(view_menu).to_be_hidden()
    expect(options).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(view_menu).to_be_hidden()
    expect(page.locator("[data-view-tool='filter']")).to_be_focused()
    expect(page.locator("[data-view-tool='filter']")).to_have_text(re.compile("^Filter"))


def test_the_column_and_row_menus_share_the_keys(pages, server, admin):
    """The header's ⋮ and the row menu use the same keys (menu.js); in the grid, where Tab moves the active
    cell, Tab closes them like Escape: the focus goes back to the header button, or to the grid."""
    seed_grid(admin, rows=4)
    page = open_grid(pages)
    owner = page.get_by_role("button", name="Field options: Owner", exact=True)
    owner.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Field options: Owner")
    expect(menu.get_by_role("menuitem", name="Edit field…")).to_be_focused()
    page.keyboard.press("h")  # a letter: the next item starting with it
    expect(menu.get_by_role("menuitem", name="Hide field")).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu).to_have_count(0)
    expect(owner).to_be_focused()

    page.locator("#grid .tabulator-row", has_text="Horsley Bridge").locator(".tabulator-cell").nth(1).click()
    page.keyboard.press("Shift+F10")
    rows = page.get_by_role("menu", name="Row actions")
    expect(rows.get_by_role("menuitem", name="Expand record")).to_be_focused()
    page.keyboard.press("l")
    expect(rows.get_by_role("menuitem", name="Log communication…")).to_be_focused()
    page.keyboard.press("Tab")
    expect(rows).to_have_count(0)
    expect(page.locator("#grid .tabulator-tableholder")).to_be_focused()
    assert page.locator("#grid .tabulator-editing").count() == 0
