"""The first rows need only the critical modules (issue 21): what only a click uses (the drawer, the
dialogs and formula editor, the fill handle, the event stream, the signed-out pages, the header's
search and mentions) is left out of index.html's preload list and fetched on demand or when idle,
and the grid's first API call is asked at boot with /me and /features, its answer taken once."""
import re

from playwright.sync_api import expect

from .browser_helpers import seed_grid, sign_in

LAZY = ["/widgets/drawer.js", "/widgets/dialogs.js", "/widgets/formula.js", "/widgets/fillhandle.js",
        "/widgets/events.js", "/pages/auth.js", "/widgets/search.js", "/widgets/mentions.js"]
STATE = "/api/fundraising/state?rows=0"

FETCHED = "performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname + new URL(e.name).search)"


def fetched(page):
    """Paths (with their query, ?v= cut off) the page has asked for so far."""
    return [re.sub(r"\?v=[0-9a-f]+$", "", url) for url in page.evaluate(FETCHED)]


def open_grid_signed_in(pages, server, admin):
    """A grid page booted with a token already in sessionStorage (the path a repeat visit takes)."""
    seed_grid(admin, rows=8)
    page = pages.open("/")
    sign_in(page)
    page.reload()
    page.wait_for_selector("#grid .tabulator-row")
    return page


def test_the_preload_list_names_only_what_the_first_rows_need(server):
    html = server.client().get("/").text
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"?]+)\?v=', html)
    assert "/pages/grid.js" in preloaded and "/widgets/tabulator.js" in preloaded and "/lazy.js" in preloaded
    assert not set(LAZY) & set(preloaded), set(LAZY) & set(preloaded)
    # app.js's own imports come first: it runs (and asks /me, /features and the grid's state) soonest.
    generated = [url for url in preloaded if url != "/pages/grid.js"]  # index.html names the grid by hand, first
    assert set(generated[:5]) == {"/api.js", "/config.js", "/dom.js", "/lazy.js", "/widgets/rowpages.js"}


def test_first_rows_without_the_drawer_then_the_drawer_opens_the_first_time(pages, server, admin):
    page = open_grid_signed_in(pages, server, admin)
    at_first_rows = fetched(page)
    assert "/widgets/drawer.js" not in at_first_rows and "/widgets/dialogs.js" not in at_first_rows
    # The grid's state was asked once, at boot, and the grid took that answer rather than asking again.
    assert at_first_rows.count(STATE) == 1, at_first_rows
    # So was the first view's first page (the view this browser's last visit had first), taken too:
    # asked before the state's answer came, and not asked again.
    first_pages = [u for u in at_first_rows if u.startswith("/api/fundraising/rows?") and "offset=0&" in u]
    assert len(first_pages) == 1, at_first_rows
    started = page.evaluate("""(names) => names.map((n) => performance.getEntriesByType('resource')
        .find((e) => new URL(e.name).pathname + new URL(e.name).search === n)).map((e) => [e.startTime, e.responseEnd])""",
                            [STATE, first_pages[0]])
    assert started[1][0] < started[0][1], started  # the rows were asked while the state was still on its way
    page.locator("#grid .tabulator-row").first.locator(".row-number").click()
    expect(page.get_by_role("dialog", name=re.compile("^Investor details: "))).to_be_visible()
    assert "/widgets/drawer.js" in fetched(page)
    # The header's search and mentions fill in after the shell.
    expect(page.get_by_role("combobox", name=re.compile("Search everything"))).to_be_visible()
    expect(page.locator(".mentions-button")).to_be_visible()


def test_the_column_dialogs_open_the_first_time_and_idle_prefetch_brings_the_rest(pages, server, admin):
    page = open_grid_signed_in(pages, server, admin)
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menu", name="More actions").get_by_role("menuitem", name="Add column…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Add a column")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Type").select_option("formula")  # the formula editor came with the dialogs
    expect(dialog.get_by_label("Formula", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    # Once the page is up and the browser idle, every lazily loaded module is fetched ahead of a click.
    page.wait_for_function(f"() => {FETCHED}.some((u) => u.startsWith('/widgets/fillhandle.js'))")
    page.wait_for_function(f"() => {FETCHED}.some((u) => u.startsWith('/pages/auth.js'))", timeout=15_000)


def test_a_prefetched_answer_is_taken_once_a_later_visit_asks_the_server(pages, server, admin):
    page = open_grid_signed_in(pages, server, admin)
    page.locator(".sidebar a[href='/contacts']").click()
    page.wait_for_url("**/contacts")
    page.locator(".sidebar a[href='/']").click()
    page.wait_for_selector("#grid .tabulator-row")
    assert fetched(page).count(STATE) == 2  # the second mount asked afresh: no stale answer reused


def test_a_stale_token_at_boot_still_signs_out(pages, server, admin):
    page = open_grid_signed_in(pages, server, admin)
    page.evaluate("sessionStorage.setItem('crm.token', 'not-a-session')")
    page.reload()
    expect(page.get_by_label("Username or email")).to_be_visible()
    assert STATE in fetched(page)  # the prefetch went out (and its 401 was not used)
    sign_in(page)
    expect(page.locator("#grid .tabulator-row").first).to_be_visible()
