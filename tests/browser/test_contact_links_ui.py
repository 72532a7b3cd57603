"""The contact dossier's ways out (issue 19): the grid rows the contact is a person of, and, with
capture on, the email threads captured with them (an admin opens one in Communications)."""
import re

from playwright.sync_api import expect

from email_helpers import DOMAIN, add_investor, capture_config, grant, mail
from fakes.google import FakeGoogle

from .browser_helpers import OUTPUT, sign_in
from .conftest import Pages


def test_a_contact_on_the_grid_links_to_its_row_and_lists_its_email(browser, make_server, tmp_path):
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(**capture_config(google, tmp_path / "sa.json"))
        admin = server.register_admin()
        row = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
        add_investor(admin, "Beta Capital", ("Bob Stone", "bob@beta.example"))
        contact = admin.get(f"/api/fundraising/rows/{row}").json()["data"]["contacts"][0]["contact_id"]
        grant(google, f"admin@{DOMAIN}")
        assert admin.post("/api/email/accounts/enroll-all").status_code == 200
        google.add_message(f"admin@{DOMAIN}", mail("Jane Doe <jane@acme.example>", f"admin@{DOMAIN}", "Side letter terms"))
        google.add_message(f"admin@{DOMAIN}", mail("Bob Stone <bob@beta.example>", f"admin@{DOMAIN}", "Beta diligence"))
        account = admin.get("/api/email/accounts").json()["data"][0]["id"]
        assert server.app.email.sync(account)["status"] == "ok"
        opened = Pages(browser, server.url)
        try:
            page = opened.open("/", viewport=(1280, 800))
            sign_in(page)
            page.evaluate("path => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }",
                          f"/contacts/{contact}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Jane Doe")
            rows = page.locator("[data-section='grid-rows']")
            expect(rows.get_by_role("link")).to_have_count(1)
            expect(rows.get_by_role("link", name="Acme LP")).to_have_attribute("href", f"/?row={row}")
            email = page.locator("[data-section='email']")
            expect(email.locator("li.email-thread")).to_have_count(1)
            expect(email).to_contain_text("Side letter terms")
            expect(email).not_to_contain_text("Beta diligence")
            page.screenshot(path=str(OUTPUT / "contact-dossier.png"), full_page=True)
            email.get_by_role("link", name="Side letter terms").click()
            expect(page).to_have_url(re.compile(r"/communications\?q=Side(\+|%20)letter(\+|%20)terms"))
            expect(page.get_by_role("heading", level=1)).to_have_text("Communications")
            page.go_back()
            rows = page.locator("[data-section='grid-rows']")
            rows.get_by_role("link", name="Acme LP").click()
            expect(page.locator(f"aside.row-drawer[data-row-id='{row}']")).to_be_visible()
        finally:
            opened.close()
        assert not opened.problems, opened.problems
