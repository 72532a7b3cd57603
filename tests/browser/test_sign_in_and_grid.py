"""The SPA in a real browser: first run, sign-in, editing the grid, live updates."""
import time

from .browser_helpers import OUTPUT, more_action, seed_grid, sign_in

PASSWORD = "correct horse battery"


def grid_cell(page, row_number, column_name):
    """The cell at a 1-based row number under a column header (rows are virtual: scroll first)."""
    column = page.locator("#grid .tabulator-col", has_text=column_name).first.get_attribute("tabulator-field")
    return page.locator(f"#grid .tabulator-row:nth-child({row_number}) .tabulator-cell[tabulator-field='{column}']")


def test_first_run_creates_the_admin_then_sign_out_and_in(pages, server):
    page = pages.open("/")
    page.wait_for_url("**/setup")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Email").fill("admin@fund.example")
    page.get_by_label("Password (10+ characters)").fill(PASSWORD)
    page.get_by_role("button", name="Create admin").click()
    page.wait_for_selector("#grid.tabulator")
    token = page.evaluate("sessionStorage.getItem('crm.token')")
    assert token
    # The sign-in ends with the tab: nothing kept across visits holds it (only the grid's first
    # view's id, for the next visit's prefetch of its rows).
    kept = page.evaluate("Object.fromEntries(Object.entries(localStorage))")
    assert set(kept) == {"crm.first-view"} and token not in kept.values(), kept
    assert server.client().get("/api/bootstrap/status").json()["data"]["setup_required"] is False

    page.locator("summary", has_text="account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.evaluate("sessionStorage.getItem('crm.token')") is None
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_label("Username or email").fill("admin")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="wrong username or password").wait_for()
    sign_in(page, "admin", PASSWORD)
    assert page.url.endswith("/")


def test_invite_link_sets_a_password_and_change_password_works(pages, server, admin):
    r = admin.post("/api/admin/users", {"username": "maya", "role": "member", "email": "maya@fund.example"})
    invite = r.json()["data"]["invite"]["token"]
    page = pages.open(f"/accept-invite#token={invite}")
    page.get_by_label("New password").fill("maya password 1")
    page.get_by_label("Repeat it").fill("maya password 1")
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("#grid.tabulator")
    assert "token" not in page.url

    page.locator("summary", has_text="account menu").click()
    page.get_by_role("menuitem", name="Change password").click()
    page.wait_for_url("**/account")
    page.get_by_label("Current password").fill("maya password 1")
    page.get_by_label("New password (10+ characters)").fill("maya password 2")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_selector("#grid.tabulator")
    assert server.client().post("/api/auth/login", {"username": "maya", "password": "maya password 2"}).status_code == 200


def test_a_new_column_and_a_keyboard_edit_are_saved_and_seen_live_by_others(pages, server, admin):
    seed_grid(admin, rows=40)
    page = pages.open("/")
    sign_in(page)
    other = pages.open("/")
    sign_in(other)

    # Add a text column through the dialog.
    more_action(page, "Add column…")
    page.get_by_label("Name").fill("Warmth")
    page.get_by_label("Type").select_option("text")
    page.get_by_role("button", name="Add column", exact=True).click()
    page.wait_for_selector("#grid .tabulator-col[role=columnheader] >> text=Warmth")
    state = admin.get("/api/fundraising/state").json()["data"]
    column = next(c for c in state["grid"]["columns"] if c["name"] == "Warmth")

    # Keyboard: select the second row's Investor cell, arrow across to Organization, type, Enter.
    grid_cell(page, 2, "Investor").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.type("Acme Endowment")
    page.keyboard.press("Enter")
    first_row_id = None
    deadline = time.monotonic() + 10
    org = next(c for c in state["grid"]["columns"] if c["key"] == "organization")
    while time.monotonic() < deadline:
        rows = admin.get("/api/fundraising/rows", params={"limit": 1000}).json()["data"]
        hit = [r for r in rows if r["cells"].get(org["id"]) == "Acme Endowment"]
        if hit:
            first_row_id = hit[0]["id"]
            break
        time.sleep(0.2)
    assert first_row_id, "the edit never reached the server"
    page.locator("[data-save-status='saved']").wait_for()

    # The second browser sees it without reloading (the event stream).
    other.locator("#grid .tabulator-cell", has_text="Acme Endowment").wait_for(timeout=5000)

    # Delete clears, Ctrl+Z puts it back; each sends an op.
    grid_cell(page, 2, "Organization").click()
    page.keyboard.press("Delete")
    _wait_for_cell(admin, first_row_id, org["id"], None)
    page.keyboard.press("Control+z")
    _wait_for_cell(admin, first_row_id, org["id"], "Acme Endowment")
    assert column["type"] == "text"


def _wait_for_cell(client, row_id, column_id, value, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cells = client.get(f"/api/fundraising/rows/{row_id}").json()["data"]["cells"]
        if cells.get(column_id) == value:
            return
        time.sleep(0.2)
    raise AssertionError(f"cell is {cells.get(column_id)!r}, wanted {value!r}")


def test_screenshot_of_a_realistic_grid(pages, server, admin):
    seed_grid(admin, rows=120)
    page = pages.open("/", viewport=(1600, 900))
    sign_in(page)
    page.wait_for_timeout(300)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "grid.png"))
    assert page.locator(".count").inner_text() == "120 investors"
    assert page.locator("#grid .tabulator-row").count() < 120  # virtual rows: only what is on screen


def test_an_edit_made_after_the_session_ended_is_kept_and_sent_after_signing_in_again(pages, server, admin):
    seed_grid(admin, rows=5)
    page = pages.open("/")
    sign_in(page)
    state = admin.get("/api/fundraising/state").json()["data"]
    owner = next(c for c in state["grid"]["columns"] if c["key"] == "owner")
    # End this browser's session behind its back, as an expiry or an admin would.
    stale = page.evaluate("sessionStorage.getItem('crm.token')")
    assert server.client(stale).post("/api/auth/logout").status_code == 200

    grid_cell(page, 1, "Owner").dblclick()
    page.keyboard.press("Control+a")
    page.keyboard.type("Taylor")
    page.keyboard.press("Enter")
    page.wait_for_url("**/login")
    assert "Taylor" in page.evaluate("sessionStorage.getItem('crm.pending-ops')")
    sign_in(page)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = admin.get("/api/fundraising/rows", params={"limit": 10}).json()["data"]
        if any(r["cells"].get(owner["id"]) == "Taylor" for r in rows):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the queued edit was not replayed after signing in")
    page.locator("[data-save-status='saved']").wait_for()
    assert page.evaluate("sessionStorage.getItem('crm.pending-ops')") is None


def test_add_row_types_its_name_and_views_filter_on_the_server(pages, server, admin):
    seed_grid(admin, rows=30)
    page = pages.open("/")
    sign_in(page)
    assert page.locator(".count").inner_text() == "30 investors"
    page.get_by_role("button", name="+ Add investor").click()
    page.locator("#grid .cell-editor").wait_for()  # the new row's first cell opens for typing
    page.keyboard.type("Brand New LP")
    page.keyboard.press("Enter")
    page.locator(".count", has_text="31 investors").wait_for()
    deadline = time.monotonic() + 10
    while not admin.get("/api/fundraising/rows", params={"q": "Brand New LP"}).json()["total"]:
        assert time.monotonic() < deadline, "the new row never reached the server"
        time.sleep(0.2)
    page.locator("[data-save-status='saved']").wait_for()

    views = admin.get("/api/fundraising/views").json()["data"]
    follow_up = next(v for v in views if v["name"] == "Follow up")
    expected = admin.get("/api/fundraising/rows", params={"view_id": follow_up["id"], "limit": 1000}).json()["total"]
    assert 0 < expected < 31
    page.select_option("#view-select", label="Follow up")
    page.locator(".count", has_text=f"{expected} investor").wait_for()
    assert f"view={follow_up['id']}" in page.url


def test_the_empty_state_shows_only_once_the_rows_are_in(pages, server, admin):
    """An empty grid and a search that matches nothing say so; while rows load it says nothing."""
    page = pages.open("/")
    sign_in(page)
    placeholder = page.locator("#grid .tabulator-placeholder")
    placeholder.wait_for()
    assert "No investors in this view" in placeholder.inner_text()
    assert page.locator(".count").inner_text() == "0 investors"

    seed_grid(admin, rows=12)
    page.reload()
    page.locator("#grid .tabulator-row").first.wait_for()
    assert page.locator(".count").inner_text() == "12 investors"
    page.locator("#grid-search").fill("no such investor anywhere")
    placeholder.wait_for()
    assert page.locator(".count").inner_text() == "0 investors"
    assert page.locator("#grid").get_attribute("aria-busy") is None
    page.locator("#grid-search").fill("")
    page.locator("#grid .tabulator-row").first.wait_for()
    assert page.locator(".count").inner_text() == "12 investors"
    assert not placeholder.is_visible()

    # Another view: its rows are asked for (held here) after the old ones are cleared.
    held, released = [], []
    page.route(lambda url: "/api/fundraising/rows?" in url,
               lambda route: route.continue_() if released else held.append(route))
    page.select_option("#view-select", label="Follow up")
    page.wait_for_function("() => document.querySelector('#grid').getAttribute('aria-busy') === 'true'"
                           " && !document.querySelector('#grid .tabulator-row')")
    assert held and not placeholder.is_visible()
    released.append(True)
    for route in held:
        route.continue_()
    page.wait_for_function("() => document.querySelector('#grid').getAttribute('aria-busy') === null")
