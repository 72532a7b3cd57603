"""The app shell (issue 19, "Navigation"): the sidebar of sections and the header's search, which
finds investors, contacts and organizations (and, for admins, captured email) and opens the hit."""
import re

from playwright.sync_api import expect

from .browser_helpers import OUTPUT, column_ids, sign_in


def seed(admin):
    cols = column_ids(admin)
    state = admin.get("/api/fundraising/state").json()["data"]
    r = admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": [
        {"op": "add_row", "cells": {cols["name"]: "Sequoia Heritage", cols["organization"]: "Endowment"}},
        {"op": "add_row", "cells": {cols["name"]: "Horsley Bridge"}}]})
    assert r.status_code == 200, r.text
    rows = r.json()["data"]["rows"]
    org = admin.post("/api/organizations", {"name": "Sequent Partners", "type": "family_office"}).json()["data"]
    contact = admin.post("/api/contacts", {"first_name": "Maya", "last_name": "Sequeira", "email": "maya@sequent.example",
                                           "organization_id": org["id"]}).json()["data"]
    return {"rows": list(rows), "org": org, "contact": contact}


def test_the_search_finds_each_kind_and_opens_the_investor(pages, server, admin):
    made = seed(admin)
    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Search everything")
    expect(box).to_be_focused()
    box.fill("Seq")
    results = page.get_by_role("listbox", name="Search results")
    expect(results.get_by_role("group", name="Investors").get_by_role("option")).to_have_count(1)
    expect(results.get_by_role("group", name="Investors")).to_contain_text("Sequoia Heritage")
    expect(results.get_by_role("group", name="Contacts")).to_contain_text("Maya Sequeira")
    expect(results.get_by_role("group", name="Organizations")).to_contain_text("Sequent Partners")
    expect(results.get_by_role("group", name="Email")).to_have_count(0)  # capture is off here: not even asked
    expect(results.get_by_role("group", name="Investors").get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.screenshot(path=str(OUTPUT / "search.png"))
    box.press("Enter")
    sequoia = made["rows"][0]
    expect(page).to_have_url(re.compile(rf"/\?row={sequoia}$"))
    expect(page.locator(f"aside.row-drawer[data-row-id='{sequoia}']")).to_be_visible()
    expect(results).to_be_hidden()


def test_arrow_keys_choose_a_contact_and_it_opens_its_page(pages, server, admin):
    made = seed(admin)
    page = pages.open("/", viewport=(1280, 800))
    sign_in(page)
    box = page.get_by_role("combobox", name="Search everything")
    box.click()
    box.fill("maya")
    contact = page.get_by_role("group", name="Contacts").get_by_role("option", name=re.compile("Maya Sequeira"))
    expect(contact).to_be_visible()
    while contact.get_attribute("aria-selected") != "true":
        box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/contacts/{made['contact']['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Sequeira")


def test_a_member_is_not_offered_email_and_the_sidebar_marks_where_you_are(pages, server, admin):
    seed(admin)
    r = admin.post("/api/admin/users", {"username": "maria", "role": "member", "email": "maria@fund.example"})
    invite = r.json()["data"]["invite"]["token"]
    assert server.client().post("/api/auth/accept-invite", {"token": invite, "password": "member password 1"}).status_code == 200
    page = pages.open("/", viewport=(1280, 800))
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "maria", "member password 1")
    sections = page.get_by_role("complementary", name="Sections")
    expect(sections.get_by_role("link", name="Grid")).to_have_attribute("aria-current", "page")
    box = page.get_by_role("combobox", name="Search everything")
    box.fill("Horsley")
    expect(page.get_by_role("group", name="Investors")).to_contain_text("Horsley Bridge")
    assert not any("/api/email/" in url for url in asked)
    expect(page.get_by_role("listbox", name="Search results")).not_to_contain_text("Email")


def test_the_sidebar_folds_to_a_rail_and_remembers_it(pages, server, admin):
    page = pages.open("/", viewport=(1440, 900))
    sign_in(page)
    toggle = page.get_by_role("button", name="Sidebar")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    width = page.locator("aside.sidebar").evaluate("el => el.getBoundingClientRect().width")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.wait_for_function(f"document.querySelector('aside.sidebar').getBoundingClientRect().width < {width} / 2")
    page.reload()
    page.wait_for_selector("#grid .tabulator-row, #grid .tabulator-placeholder")
    expect(page.get_by_role("button", name="Sidebar")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("aside.sidebar").get_by_role("link", name="Grid")).to_be_visible()  # its initial still shows


def test_with_capture_on_an_admin_finds_captured_email(browser, make_server, tmp_path):
    from conftest import serving  # noqa: F401  (the server below is the real one, capture on)
    from email_helpers import DOMAIN, add_investor, capture_config, grant, mail
    from fakes.google import FakeGoogle

    from .conftest import Pages
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(**capture_config(google, tmp_path / "sa.json"))
        admin = server.register_admin()
        add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
        grant(google, f"admin@{DOMAIN}")
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        google.add_message(f"admin@{DOMAIN}", mail("Jane Doe <jane@acme.example>", f"admin@{DOMAIN}", "Side letter terms"))
        account = admin.get("/api/email/accounts").json()["data"][0]["id"]
        assert server.app.email.sync(account)["status"] == "ok"
        email_id = admin.get("/api/email/activity").json()["data"][0]["id"]
        opened = Pages(browser, server.url)
        try:
            page = opened.open("/", viewport=(1280, 800))
            sign_in(page)
            page.get_by_role("combobox", name="Search everything").fill("side letter")
            hit = page.get_by_role("group", name="Email").get_by_role("option", name=re.compile("Side letter terms"))
            expect(hit).to_be_visible()
            hit.click()
            expect(page).to_have_url(re.compile(rf"/communications\?q=Side\+letter\+terms&email={email_id}$|"
                                                rf"/communications\?q=Side%20letter%20terms&email={email_id}$"))
        finally:
            opened.close()
        assert not opened.problems, opened.problems
