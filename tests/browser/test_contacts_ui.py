"""Contacts and organizations in the browser (issue 19): the lists, the contact dossier,
the organization page, CSV export and import, soft delete with restore, and what a member sees."""
import re

from playwright.sync_api import expect

from .browser_helpers import OUTPUT

PASSWORD = "correct horse battery"


def open_as(pages, path, user="admin", password=PASSWORD, viewport=(1280, 800)):
    """Open `path`, sign in on the sign-in screen it sends us to, and come back to `path`."""
    page = pages.open(path, viewport=viewport)
    page.get_by_label("Username or email").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))
    return page


def expected_refusals(pages, count):
    """The browser logs each refused (422) request as a console error: exactly `count` are expected."""
    refused = [p for p in pages.problems if "422" in p]
    assert len(refused) == count, pages.problems
    for p in refused:
        pages.problems.remove(p)


def add_contact(client, first, last, **extra):
    r = client.post("/api/contacts", {"first_name": first, "last_name": last, **extra})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def add_organization(client, name, **extra):
    r = client.post("/api/organizations", {"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()["data"]


LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones", "Kim", "Lopez"]


def seed_people(client, count=60):
    org = add_organization(client, "Harbour Endowment", type="endowment", website="https://harbour.example")
    made = []
    for i in range(count):
        made.append(add_contact(client, f"Person{i:02d}", LAST[i % len(LAST)], email=f"p{i:02d}@lp.example",
                                organization_id=org["id"] if i % 3 == 0 else None,
                                contact_type="investor" if i % 4 == 0 else "prospect"))
    return org, made


def sort_by(page, label):
    """Click a column's sort button (its name gains ▲ or ▼ once sorted)."""
    page.locator("table.list th", has_text=label).get_by_role("button").click()


def rows(page):
    return page.locator("table.list[aria-label='Contacts'] tbody tr")


def test_contacts_list_searches_sorts_pages_filters_and_creates_with_field_errors(pages, server, admin):
    org, _ = seed_people(admin, 60)
    page = open_as(pages, "/contacts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    expect(page.locator("aside.sidebar a[aria-current=page]")).to_have_text("Contacts")
    count = page.locator(".list-tools .count")
    expect(count).to_have_text("1–50 of 60")
    expect(rows(page)).to_have_count(50)
    # Default order: last name, first name.
    expect(rows(page).first.locator("td").first).to_have_text("Person00 Adams")
    page.screenshot(path=str(OUTPUT / "contacts.png"))

    # Next page; the page is in the URL and survives a reload.
    page.get_by_role("button", name="Next →").click()
    expect(count).to_have_text("51–60 of 60")
    expect(page).to_have_url(re.compile(r"/contacts\?offset=50$"))
    page.reload()
    expect(count).to_have_text("51–60 of 60")
    expect(rows(page)).to_have_count(10)

    # Sort by email, descending on the second click.
    sort_by(page, "Email")
    expect(page.locator("th", has_text="Email")).to_have_attribute("aria-sort", "ascending")
    expect(rows(page).first).to_contain_text("p00@lp.example")
    sort_by(page, "Email")
    expect(page.locator("th", has_text="Email")).to_have_attribute("aria-sort", "descending")
    expect(rows(page).first).to_contain_text("p59@lp.example")
    expect(page).to_have_url(re.compile(r"sort=-email"))

    # Search, and a filter by type (both in the URL).
    page.get_by_label("Search Contacts").fill("Person07")
    expect(count).to_have_text("1–1 of 1")
    expect(rows(page).first).to_contain_text("Person07 Haddad")
    page.get_by_label("Search Contacts").fill("")
    expect(count).to_have_text("1–50 of 60")
    page.get_by_label("Type").select_option("investor")
    expect(count).to_have_text("1–15 of 15")
    expect(page).to_have_url(re.compile(r"contact_type=investor"))
    page.reload()
    expect(count).to_have_text("1–15 of 15")
    expect(page.get_by_label("Type")).to_have_value("investor")
    # The organization column links to the organization's page.
    expect(rows(page).filter(has_text="Person00 Adams").get_by_role("link", name="Harbour Endowment")).to_have_attribute("href", f"/organizations/{org['id']}")

    # New contact: the server's 422s appear beside the fields, nothing is created.
    page.get_by_role("button", name="New contact").click()
    form = page.get_by_role("form", name="New contact")
    form.get_by_label("Email").fill("not an email")
    form.get_by_role("button", name="Create contact").click()
    expect(form.locator("#field-first_name-error")).to_have_text("must not be empty")
    expect(form.locator("#field-last_name-error")).to_have_text("must not be empty")
    expect(form.locator("#field-email-error")).to_have_text("must be an email address like name@example.com")
    expect(form.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    # An organization that does not exist is refused beside its field, before anything is sent.
    form.get_by_label("First name").fill("Zoe")
    form.get_by_label("Last name").fill("Quinn")
    form.get_by_label("Email").fill("zoe@quinn.example")
    form.get_by_label("Organization").fill("No Such Org")
    form.get_by_role("button", name="Create contact").click()
    expect(form.locator("#field-organization_id-error")).to_contain_text('no organization is called "No Such Org"')
    assert admin.get("/api/contacts", params={"q": "Quinn"}).json()["total"] == 0
    form.get_by_label("Organization").fill("harbour endowment")  # any case
    form.get_by_label("Tags (comma-separated)").fill("re-up, co-invest")
    form.get_by_role("button", name="Create contact").click()
    page.wait_for_url(re.compile(r"/contacts/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Zoe Quinn")
    expect(page.locator(".contact-fields dd[data-field='Organization']")).to_have_text("Harbour Endowment")
    [made] = admin.get("/api/contacts", params={"q": "Quinn"}).json()["data"]
    assert (made["email"], made["organization_id"], made["tags"]) == ("zoe@quinn.example", org["id"], ["re-up", "co-invest"])
    expected_refusals(pages, 1)  # the first attempt (the unknown organization never left the browser)

    # Back returns to the filtered list.
    page.go_back()
    expect(count).to_have_text("1–15 of 15")


def test_show_deleted_restore_export_and_import_with_a_dry_run(pages, server, admin, tmp_path):
    org = add_organization(admin, "Pantheon")
    kept = add_contact(admin, "Ada", "Lovelace", email="ada@lp.example", organization_id=org["id"])
    gone = add_contact(admin, "Bob", "Gone", email="bob@lp.example")
    assert admin.delete(f"/api/contacts/{gone['id']}").status_code == 200
    page = open_as(pages, "/contacts")
    count = page.locator(".list-tools .count")
    expect(count).to_have_text("1–1 of 1")

    # Admins may show deleted contacts and restore one.
    page.get_by_label("Show deleted").check()
    expect(count).to_have_text("1–2 of 2")
    expect(page).to_have_url(re.compile(r"deleted=1"))
    deleted_row = rows(page).filter(has_text="Bob Gone")
    expect(deleted_row.locator(".badge.deleted")).to_have_text("deleted")
    deleted_row.get_by_role("button", name="Restore").click()
    expect(deleted_row.locator(".badge.deleted")).to_have_count(0)
    assert admin.get(f"/api/contacts/{gone['id']}").status_code == 200
    page.get_by_label("Show deleted").uncheck()
    expect(count).to_have_text("1–2 of 2")

    # Export: a real download of the server's CSV (fetched with the token).
    with page.expect_download() as got:
        page.get_by_role("button", name="Export CSV").click()
    download = got.value
    assert download.suggested_filename == "contacts.csv"
    text = open(download.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("id,first_name,last_name,email")
    assert "ada@lp.example" in text and "Pantheon" in text and "bob@lp.example" in text
    expect(page.locator(".page-status")).to_have_text("Exported contacts.csv.")

    # Import with a problem: the dry run lists it by row and the Import button stays off.
    bad = tmp_path / "bad.csv"
    bad.write_text("first_name,last_name,email\nCara,North,cara@lp.example\nDan,,not-an-email\n", encoding="utf-8")
    page.locator("#import-file").set_input_files(str(bad))
    card = page.get_by_role("region", name="Import contacts")
    problems = card.get_by_role("table", name="Problems")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr")).to_contain_text("3")
    expect(problems.locator("tbody tr")).to_contain_text("email")
    expect(card.get_by_role("button", name="Import")).to_be_disabled()
    card.get_by_role("button", name="Cancel").click()

    # A good file: the dry run says what would happen and writes nothing; then Import does it.
    good = tmp_path / "good.csv"
    good.write_text("first_name,last_name,email,title,favourite colour\nCara,North,cara@lp.example,Partner,green\n"
                    "Ada,Lovelace,ada@lp.example,Principal,blue\n", encoding="utf-8")
    page.locator("#import-file").set_input_files(str(good))
    card = page.get_by_role("region", name="Import contacts")
    expect(card.locator(".import-summary")).to_have_text("This file would create 1, update 1 and leave 0 unchanged.")
    expect(card).to_contain_text("'favourite colour' is not a contact field")
    expect(card).not_to_contain_text("null")
    assert admin.get("/api/contacts", params={"q": "North"}).json()["total"] == 0
    page.screenshot(path=str(OUTPUT / "contacts-import.png"))
    card.get_by_role("button", name="Import").click()
    expect(card.locator(".import-summary")).to_have_text("Imported: 1 created, 1 updated, 0 unchanged.")
    expect(count).to_have_text("1–3 of 3")
    expect(rows(page).filter(has_text="Cara North")).to_have_count(1)
    assert admin.get(f"/api/contacts/{kept['id']}").json()["data"]["title"] == "Principal"


def test_the_contact_dossier_edits_logs_and_deletes_with_restore(pages, server, admin):
    org = add_organization(admin, "Yale Investments Office", type="endowment")
    contact = add_contact(admin, "Maya", "Chen", email="maya@yale.example", phone="+1 203 555 0100", title="Director",
                          organization_id=org["id"], tags=["re-up", "warm"], notes="Met at the annual meeting")
    for i in range(25):
        r = admin.post("/api/communications", {"contact_id": contact["id"], "type": "email", "subject": f"Update {i:02d}",
                                              "communication_date": f"2026-01-{i + 1:02d}T15:00:00Z"})
        assert r.status_code == 201, r.text
    r = admin.post("/api/opportunities", {"contact_id": contact["id"], "organization_id": org["id"], "fund_name": "Fund IV",
                                          "stage": "due_diligence", "expected_amount": 5_000_000, "probability": 60, "next_step": "IC memo"})
    assert r.status_code == 201, r.text
    r = admin.post("/api/lp-profiles", {"contact_id": contact["id"], "commitment_amount": 2_500_000, "investor_type": "endowment",
                                        "accredited": True})
    assert r.status_code == 201, r.text

    page = open_as(pages, f"/contacts/{contact['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Chen")
    expect(page.get_by_role("link", name="← All contacts")).to_have_attribute("href", "/contacts")
    fields = page.locator(".dossier-details .contact-fields")
    expect(fields.locator("dd[data-field='Email']")).to_have_text("maya@yale.example")
    expect(fields.locator("dd[data-field='Organization'] a")).to_have_attribute("href", f"/organizations/{org['id']}")
    expect(fields.locator("dd[data-field='Tags'] .tag")).to_have_text(["re-up", "warm"])
    # Opportunities and LP profile.
    opps = page.get_by_role("table", name="Opportunities")
    expect(opps.locator("tbody tr")).to_have_count(1)
    expect(opps.locator("tbody tr")).to_contain_text("Fund IV")
    expect(opps.locator("tbody tr")).to_contain_text("due diligence")
    expect(opps.locator("tbody tr")).to_contain_text("$5,000,000")
    expect(opps.locator("tbody tr")).to_contain_text("60%")
    lp = page.locator("[data-section='lp-profile']")
    expect(lp.locator("dd[data-field='Commitment']")).to_have_text("$2,500,000")
    expect(lp.locator("dd[data-field='Accredited']")).to_have_text("Yes")
    expect(lp.locator("dd[data-field='Wire received']")).to_have_text("No")

    # The timeline: newest first, 20 at a time.
    timeline = page.get_by_role("list", name="Communications")
    expect(timeline.locator("li.communication")).to_have_count(20)
    expect(timeline.locator("li.communication").first).to_contain_text("Update 24")
    comms = page.locator("[data-section='communications']")
    expect(comms.locator(".count")).to_have_text("20 of 25")
    comms.get_by_role("button", name="Show more").click()
    expect(timeline.locator("li.communication")).to_have_count(25)
    expect(comms.get_by_role("button", name="Show more")).to_be_hidden()
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "contact.png"))

    # Log a communication: a blank date is refused beside its field; then it is logged and shown first.
    comms.get_by_role("button", name="Log communication").click()
    log = page.get_by_role("form", name="Log communication")
    log.get_by_label("Kind").select_option("meeting")
    log.get_by_label("When").fill("")
    log.get_by_label("Subject").fill("Annual meeting follow-up")
    log.get_by_label("What happened").fill("Wants co-invest rights")
    log.get_by_role("button", name="Log it").click()
    expect(log.locator("#field-communication_date-error")).to_have_text("is required")
    log.get_by_label("When").fill("2026-03-02T10:30")
    log.get_by_role("button", name="Log it").click()
    expect(timeline.locator("li.communication").first).to_contain_text("Annual meeting follow-up")
    expect(timeline.locator("li.communication")).to_have_count(20)  # the timeline starts again from its first page
    expect(comms.locator(".count")).to_have_text("20 of 26")
    logged = admin.get(f"/api/contacts/{contact['id']}/communications", params={"limit": 1}).json()["data"][0]
    assert (logged["type"], logged["subject"], logged["body"]) == ("meeting", "Annual meeting follow-up", "Wants co-invest rights")
    local = page.evaluate("new Date('2026-03-02T10:30').toISOString()")
    assert logged["communication_date"].replace(".000", "") == local.replace(".000", "")

    # Edit in place: a bad email is refused beside its field; a good edit is saved and shown.
    page.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_role("form", name="Edit contact")
    expect(edit.get_by_label("Organization")).to_have_value("Yale Investments Office")
    expect(edit.get_by_label("Tags (comma-separated)")).to_have_value("re-up, warm")
    edit.get_by_label("Email").fill("maya at yale")
    edit.get_by_label("Title").fill("Managing Director")
    edit.get_by_role("button", name="Save").click()
    expect(edit.locator("#field-email-error")).to_have_text("must be an email address like name@example.com")
    assert admin.get(f"/api/contacts/{contact['id']}").json()["data"]["title"] == "Director"
    edit.get_by_label("Email").fill("maya.chen@yale.example")
    edit.get_by_label("Organization").fill("")
    edit.get_by_role("button", name="Save").click()
    expect(fields.locator("dd[data-field='Title']")).to_have_text("Managing Director")
    expect(page.locator(".dossier-details dd[data-field='Email']")).to_have_text("maya.chen@yale.example")
    expect(page.locator(".dossier-details dd[data-field='Organization']")).to_have_count(0)
    stored = admin.get(f"/api/contacts/{contact['id']}").json()["data"]
    assert (stored["title"], stored["email"], stored["organization_id"]) == ("Managing Director", "maya.chen@yale.example", None)
    expected_refusals(pages, 2)

    # Soft delete takes its communications, opportunity and LP profile with it; Restore brings them back.
    page.get_by_role("button", name="Delete contact").click()
    banner = page.locator(".deleted-banner")
    expect(banner).to_contain_text("Deleted Maya Chen with 26 communications, 1 opportunity, 1 LP profile.")
    assert admin.get(f"/api/contacts/{contact['id']}").status_code == 404
    # An admin reloading the deep link still sees it, marked deleted.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Chen")
    expect(page.locator(".deleted-banner")).to_contain_text("This record is deleted.")
    expect(page.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    page.locator(".deleted-banner").get_by_role("button", name="Restore").click()
    expect(page.locator(".deleted-banner")).to_have_count(0)
    expect(page.get_by_role("list", name="Communications").locator("li.communication")).to_have_count(20)
    assert admin.get(f"/api/contacts/{contact['id']}").status_code == 200
    assert admin.get("/api/opportunities", params={"contact_id": contact["id"]}).json()["total"] == 1
    pages.problems[:] = [p for p in pages.problems if "404" not in p]  # the first, live-only look-up after the reload

    # At a tablet width the dossier is one column and still whole.
    tablet = pages.open(f"/contacts/{contact['id']}", viewport=(820, 1180))
    tablet.evaluate(f"sessionStorage.setItem('crm.token', {admin.token!r})")
    tablet.goto(f"/contacts/{contact['id']}")
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Maya Chen")
    expect(tablet.get_by_role("table", name="Opportunities").locator("tbody tr")).to_have_count(1)
    assert tablet.evaluate("document.documentElement.scrollWidth <= innerWidth")
    tablet.screenshot(path=str(OUTPUT / "contact-tablet.png"))


def test_organizations_list_and_page_with_contacts_edit_and_delete(pages, server, admin):
    for i, name in enumerate(["Adams Street", "Bessemer Trust", "Cendana Capital"]):
        add_organization(admin, name, type=["fund_of_funds", "family_office", "venture_fund"][i])
    page = open_as(pages, "/organizations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizations")
    count = page.locator(".list-tools .count")
    expect(count).to_have_text("1–3 of 3")
    page.get_by_label("Type").select_option("family_office")
    expect(count).to_have_text("1–1 of 1")
    page.get_by_label("Type").select_option("")
    sort_by(page, "Name")  # ascending (already the default order)
    sort_by(page, "Name")
    expect(page.locator("table.list tbody tr").first).to_contain_text("Cendana Capital")
    page.screenshot(path=str(OUTPUT / "organizations.png"))

    # Create: a bad domain is refused beside its field.
    page.get_by_role("button", name="New organization").click()
    form = page.get_by_role("form", name="New organization")
    form.get_by_label("Name").fill("Knight Foundation")
    form.get_by_label("Type").select_option("foundation")
    form.get_by_label("Domain").fill("not a domain")
    form.get_by_role("button", name="Create organization").click()
    expect(form.locator("#field-domain-error")).to_have_text("must be a domain like example.com")
    form.get_by_label("Domain").fill("")
    form.get_by_label("Website").fill("https://www.knightfoundation.example/about")
    form.get_by_role("button", name="Create organization").click()
    page.wait_for_url(re.compile(r"/organizations/[0-9a-f-]{36}$"))
    org_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Knight Foundation")
    expect(page.locator("dd[data-field='Domain']")).to_have_text("knightfoundation.example")
    expect(page.locator("dd[data-field='Type']")).to_have_text("foundation")
    expected_refusals(pages, 1)

    # Its contacts, linked to their dossiers.
    for first in ("Ann", "Ben"):
        add_contact(admin, first, "Knight", organization_id=org_id, email=f"{first.lower()}@knight.example")
    page.reload()
    people = page.get_by_role("table", name="Contacts of this organization")
    expect(people.locator("tbody tr")).to_have_count(2)
    expect(people.get_by_role("link", name="Ann Knight")).to_be_visible()

    # Edit in place.
    page.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_role("form", name="Edit organization")
    edit.get_by_label("Description").fill("Media and arts grants")
    edit.get_by_label("Tags (comma-separated)").fill("grants")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator("dd[data-field='Description']")).to_have_text("Media and arts grants")
    assert admin.get(f"/api/organizations/{org_id}").json()["data"]["tags"] == ["grants"]
    page.screenshot(path=str(OUTPUT / "organization.png"))

    # Delete, then restore from the banner.
    page.get_by_role("button", name="Delete organization").click()
    expect(page.locator(".deleted-banner")).to_contain_text("Deleted Knight Foundation")
    assert admin.get(f"/api/organizations/{org_id}").status_code == 404
    page.locator(".deleted-banner").get_by_role("button", name="Restore").click()
    expect(page.locator(".deleted-banner")).to_have_count(0)
    assert admin.get(f"/api/organizations/{org_id}").status_code == 200

    # From a contact row to its dossier and back.
    people.get_by_role("link", name="Ben Knight").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben Knight")
    expect(page.locator("dd[data-field='Organization']")).to_have_text("Knight Foundation")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Knight Foundation")


def test_a_member_sees_no_show_deleted_and_a_deleted_contact_is_gone(pages, server, admin):
    server.add_user(admin, "maya", role="member", password="member password 1")
    contact = add_contact(admin, "Omar", "Haddad", email="omar@lp.example")
    page = open_as(pages, "/contacts", user="maya", password="member password 1", viewport=(820, 1180))
    expect(page.locator(".list-tools .count")).to_have_text("1–1 of 1")
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")  # a tablet width: the table scrolls, not the page
    page.screenshot(path=str(OUTPUT / "contacts-tablet.png"))
    expect(page.get_by_label("Show deleted")).to_have_count(0)
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    # A member may delete a contact and undo it from the banner; a restore the server refuses says why.
    org = add_organization(admin, "Pritzker Vlock")
    linked = add_contact(admin, "Lucas", "Meyer", organization_id=org["id"])
    page.goto(f"/contacts/{linked['id']}")
    page.get_by_role("button", name="Delete contact").click()
    banner = page.locator(".deleted-banner")
    expect(banner).to_contain_text("Deleted Lucas Meyer.")
    assert admin.delete(f"/api/organizations/{org['id']}").status_code == 200
    banner.get_by_role("button", name="Restore").click()
    expect(banner).to_contain_text("Could not restore: cannot restore this contact yet (organization refers to a deleted record; restore that first)")
    assert admin.get(f"/api/contacts/{linked['id']}").status_code == 404
    assert admin.post(f"/api/organizations/{org['id']}/restore").status_code == 200
    banner.get_by_role("button", name="Restore").click()
    expect(page.locator(".deleted-banner")).to_have_count(0)
    expect(page.locator("dd[data-field='Organization']")).to_have_text("Pritzker Vlock")
    pages.problems[:] = [p for p in pages.problems if "409" not in p]

    assert admin.delete(f"/api/contacts/{contact['id']}").status_code == 200
    page.goto(f"/contacts/{contact['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact not found")
    expect(page.get_by_role("status").filter(has_text="no longer exists")).to_be_visible()
    pages.problems[:] = [p for p in pages.problems if "404" not in p]
