"""Pipeline and Reports in a real browser: the pipeline board (drag, keyboard move, rollback), its list view, the
opportunity editor, and the reports dashboard. Data goes in through the real API."""
import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from .browser_helpers import OUTPUT, eventually

PASSWORD = "correct horse battery"


def sign_in_at(page, heading):
    """The page asked for needs sign-in first; after it the router comes back to it."""
    page.get_by_label("Username or email").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=heading, level=1).wait_for()


def refused(pages, status, count):
    """Chromium logs each refused request as a console error: exactly `count` were expected."""
    found = [p for p in pages.problems if f"status of {status}" in p]
    assert len(found) == count, pages.problems
    pages.problems[:] = [p for p in pages.problems if p not in found]


def created(response):
    assert response.status_code == 201, response.text
    return response.json()["data"]


def seed(admin):
    """An organization, four contacts and five opportunities over four stages."""
    org = created(admin.post("/api/organizations", {"name": "Horsley Bridge", "type": "fund_of_funds"}))
    people = {}
    for first, last in [("Maya", "Chen"), ("James", "Okafor"), ("Priya", "Raman"), ("Lucas", "Meyer")]:
        people[last] = created(admin.post("/api/contacts", {"first_name": first, "last_name": last, "organization_id": org["id"],
                                                            "email": f"{first.lower()}@lp.example"}))
    opp = lambda last, **kw: created(admin.post("/api/opportunities", {"contact_id": people[last]["id"], **kw}))
    opps = {
        "chen": opp("Chen", fund_name="Fund IV", stage="prospect", expected_amount=1_000_000),
        "okafor": opp("Okafor", fund_name="Fund IV", stage="prospect", expected_amount=2_000_000),
        "raman": opp("Raman", fund_name="Fund III", stage="meeting", expected_amount=5_000_000),
        "meyer": opp("Meyer", fund_name="Fund IV", stage="soft_commit", expected_amount=4_000_000, commitment_amount=3_000_000),
        "chen2": opp("Chen", fund_name="Fund III", stage="committed", expected_amount=500_000, commitment_amount=750_000),
    }
    return org, people, opps


def column(page, stage):
    return page.locator(f".board-column[data-stage='{stage}']")


def card(page, opportunity_id):
    return page.locator(f".board-card[data-id='{opportunity_id}']")


def head(page, stage):
    col = column(page, stage)
    return col.locator(".stage-count").inner_text(), col.locator(".stage-sum").inner_text()


def test_board_counts_drag_keyboard_move_and_rollback(pages, server, admin):
    _, _, opps = seed(admin)
    page = pages.open("/pipeline", viewport=(1280, 800))
    sign_in_at(page, "Pipeline")
    card(page, opps["chen"]["id"]).wait_for()
    assert page.url.endswith("/pipeline")

    # One column per stage in pipeline order, each with its count and sum (commitment where set).
    stages = page.locator(".board-column").evaluate_all("cols => cols.map(c => c.dataset.stage)")
    assert stages == ["prospect", "contacted", "meeting", "due_diligence", "soft_commit", "committed", "closed", "lost"]
    assert head(page, "prospect") == ("2", "$3,000,000")
    assert head(page, "soft_commit") == ("1", "$3,000,000")
    assert head(page, "committed") == ("1", "$750,000")
    assert head(page, "contacted") == ("0", "$0")
    chen = card(page, opps["chen"]["id"])
    assert chen.locator(".card-name").inner_text() == "Maya Chen"
    assert "Horsley Bridge" in chen.inner_text() and "Fund IV" in chen.inner_text() and "$1,000,000" in chen.inner_text()

    # Drag Chen's card from Prospect to Meeting: it moves at once and the server has it.
    chen.drag_to(column(page, "meeting"))
    column(page, "meeting").locator(f".board-card[data-id='{opps['chen']['id']}']").wait_for()
    assert head(page, "prospect") == ("1", "$2,000,000")
    assert head(page, "meeting") == ("2", "$6,000,000")
    eventually(lambda: admin.get(f"/api/opportunities/{opps['chen']['id']}").json()["data"]["stage"] == "meeting")
    page.get_by_role("status").filter(has_text="Moved Maya Chen to Meeting").wait_for()

    # The keyboard way: the card's "Move to…" select; the focus stays on it in its new column.
    card(page, opps["okafor"]["id"]).get_by_role("link", name="James Okafor").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Move James Okafor to")).to_be_focused()
    for _ in range(3):  # Prospect → Contacted → Meeting → Due diligence, each sent in turn
        page.keyboard.press("ArrowDown")
    column(page, "due_diligence").locator(f".board-card[data-id='{opps['okafor']['id']}']").wait_for()
    eventually(lambda: admin.get(f"/api/opportunities/{opps['okafor']['id']}").json()["data"]["stage"] == "due_diligence")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move James Okafor to"
    assert head(page, "prospect") == ("0", "$0")

    # A refused move (deleted meanwhile) goes back where it was, with the reason.
    assert admin.delete(f"/api/opportunities/{opps['raman']['id']}").status_code == 200
    page.get_by_label("Move Priya Raman to").select_option("committed")
    page.get_by_role("status").filter(has_text="Could not move Priya Raman to Committed").wait_for()
    column(page, "meeting").locator(f".board-card[data-id='{opps['raman']['id']}']").wait_for()
    assert head(page, "committed") == ("1", "$750,000")
    assert head(page, "meeting") == ("2", "$6,000,000")
    refused(pages, 404, 1)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "pipeline.png"), full_page=True)

    # Reload: the moves were saved; the deleted one is gone.
    page.reload()
    column(page, "meeting").locator(f".board-card[data-id='{opps['chen']['id']}']").wait_for()
    assert card(page, opps["raman"]["id"]).count() == 0
    assert head(page, "meeting") == ("1", "$1,000,000")

    # Tablet width: the board scrolls sideways, the cards and their selects stay usable.
    page.set_viewport_size({"width": 820, "height": 1180})
    card(page, opps["chen"]["id"]).get_by_label("Move Maya Chen to").select_option("contacted")
    column(page, "contacted").locator(f".board-card[data-id='{opps['chen']['id']}']").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 820  # the board scrolls, not the page
    page.screenshot(path=str(OUTPUT / "pipeline-tablet.png"), full_page=True)


def test_board_loads_every_page_of_opportunities(pages, server, admin):
    # More than one page (1,000) of opportunities: every card is counted; a column draws 100 and offers the rest.
    contact = created(admin.post("/api/contacts", {"first_name": "Grace", "last_name": "Liu"}))
    for i in range(1005):
        created(admin.post("/api/opportunities", {"contact_id": contact["id"], "fund_name": f"SPV {i}", "expected_amount": 1000}))
    page = pages.open("/pipeline", viewport=(1280, 800))
    sign_in_at(page, "Pipeline")
    page.get_by_role("status").filter(has_text="1,005 opportunities").wait_for(timeout=30_000)
    assert head(page, "prospect") == ("1005", "$1,005,000")
    assert page.locator(".board-card").count() == 100
    page.get_by_role("button", name="Show 100 more of 905").click()
    assert page.locator(".board-card").count() == 200
    while page.get_by_role("button", name=re.compile(r"^Show \d+ more of")).count():
        page.get_by_role("button", name=re.compile(r"^Show \d+ more of")).click()
    assert page.locator(".board-card").count() == 1005


def test_list_view_and_the_opportunity_editor(pages, server, admin):
    _, people, opps = seed(admin)
    page = pages.open("/pipeline?view=list", viewport=(1280, 800))
    sign_in_at(page, "Pipeline")
    table = page.get_by_role("table", name="Opportunities")
    table.locator(f"tr[data-id='{opps['meyer']['id']}']").wait_for()
    assert page.locator(".list-view .count").inner_text() == "1–5 of 5"
    row = table.locator(f"tr[data-id='{opps['meyer']['id']}']").inner_text()
    assert "Lucas Meyer" in row and "Soft commit" in row and "$3,000,000" in row and "Horsley Bridge" in row

    # The stage filter is in the URL: a reload keeps it.
    page.get_by_label("Stage", exact=True).select_option("prospect")
    page.wait_for_url("**/pipeline?view=list&stage=prospect")
    page.locator(".list-view .count").filter(has_text="1–2 of 2").wait_for()
    page.reload()
    page.locator(".list-view .count").filter(has_text="1–2 of 2").wait_for()
    assert page.get_by_label("Stage", exact=True).input_value() == "prospect"
    page.screenshot(path=str(OUTPUT / "pipeline-list.png"), full_page=True)
    # Board and back, through the toggle and the browser's back button.
    page.get_by_role("link", name="Board").click()
    column(page, "prospect").wait_for()
    page.go_back()
    page.locator(".list-view .count").filter(has_text="1–2 of 2").wait_for()

    # New opportunity: no contact, then a bad amount: the server's words beside each field.
    page.get_by_role("link", name="New opportunity").click()
    page.wait_for_url("**/opportunities/new")
    page.get_by_label("Fund", exact=True).fill("Fund V")
    page.get_by_label("Expected amount (USD)").fill("-5")
    page.get_by_role("button", name="Create opportunity").click()
    expect(page.locator("#contact-picker-error")).not_to_be_empty()
    expect(page.get_by_role("searchbox", name="Contact", exact=True)).to_be_focused()
    page.get_by_role("searchbox", name="Contact", exact=True).fill("Okafor")
    page.get_by_role("button", name="James Okafor").click()
    assert page.locator(".picked-contact").inner_text().startswith("James Okafor")
    page.get_by_role("button", name="Create opportunity").click()
    expect(page.locator("#field-expected_amount-error")).not_to_be_empty()
    assert page.get_by_label("Expected amount (USD)").get_attribute("aria-invalid") == "true"
    assert page.locator("#contact-picker-error").inner_text() == ""
    refused(pages, 422, 2)
    page.get_by_label("Expected amount (USD)").fill("2500000")
    page.get_by_label("Probability (%)").fill("40")
    page.get_by_role("button", name="Create opportunity").click()
    page.get_by_role("status").filter(has_text="Opportunity created.").wait_for()
    new_id = page.url.rsplit("/", 1)[1]
    saved = admin.get(f"/api/opportunities/{new_id}").json()["data"]
    assert (saved["contact_id"], saved["fund_name"], saved["expected_amount"], saved["probability"], saved["stage"]) == \
        (people["Okafor"]["id"], "Fund V", 2_500_000, 40, "prospect")

    # A reload shows the saved opportunity; an edit is a PATCH.
    page.reload()
    page.get_by_label("Expected amount (USD)").wait_for()
    expect(page.get_by_label("Fund", exact=True)).to_have_value("Fund V")
    assert page.locator(".picked-contact").inner_text().startswith("James Okafor")
    page.get_by_role("combobox", name="Stage", exact=True).select_option("meeting")
    page.get_by_label("Next step").fill("Send the data room link")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved at").wait_for()
    saved = admin.get(f"/api/opportunities/{new_id}").json()["data"]
    assert (saved["stage"], saved["next_step"]) == ("meeting", "Send the data room link")
    page.screenshot(path=str(OUTPUT / "opportunity.png"), full_page=True)

    # Delete asks first; then back to the board, and the server no longer has it.
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Yes, delete").click()
    page.wait_for_url("**/pipeline")
    column(page, "prospect").wait_for()
    assert admin.get(f"/api/opportunities/{new_id}").status_code == 404

    # A card's link opens its editor; an unknown id says so instead of a blank page.
    card(page, opps["chen"]["id"]).get_by_role("link", name="Maya Chen").click()
    page.wait_for_url(f"**/opportunities/{opps['chen']['id']}")
    expect(page.get_by_label("Fund", exact=True)).to_have_value("Fund IV")
    # A deep link from a contact: the contact is already picked.
    page.goto(f"/opportunities/new?contact={people['Raman']['id']}")
    expect(page.locator(".picked-contact")).to_contain_text("Priya Raman")
    page.get_by_role("button", name="Create opportunity").click()
    page.get_by_role("status").filter(has_text="Opportunity created.").wait_for()
    assert admin.get(page.url.replace(server.url, "/api")).json()["data"]["contact_id"] == people["Raman"]["id"]
    page.goto("/opportunities/nope")
    page.get_by_role("heading", name="Opportunity not found").wait_for()
    page.get_by_text("This opportunity no longer exists.").wait_for()
    refused(pages, 404, 1)


def test_reports_dashboard_charts_and_tables(pages, server, admin):
    _, people, opps = seed(admin)
    created(admin.post("/api/lp-profiles", {"contact_id": people["Meyer"]["id"], "investor_type": "family_office",
                                            "commitment_amount": 3_000_000, "funded_amount": 1_000_000}))
    created(admin.post("/api/lp-profiles", {"contact_id": people["Chen"]["id"], "investor_type": "endowment",
                                            "commitment_amount": 750_000, "funded_amount": 0}))
    now = datetime.now(timezone.utc)
    for days, kind, subject in [(1, "call", "Intro call with Maya"), (2, "email", "Sent the deck"), (9, "meeting", "Annual meeting")]:
        created(admin.post("/api/communications", {"contact_id": people["Chen"]["id"], "type": kind, "subject": subject,
                                                   "communication_date": (now - timedelta(days=days)).isoformat()}))
    page = pages.open("/reports", viewport=(1280, 800))
    sign_in_at(page, "Reports")

    figures = page.locator("#report-figures")
    figures.locator(".figure[data-figure='Contacts'] dd").first.filter(has_text="4").wait_for()
    assert figures.locator(".figure[data-figure='Open opportunities'] dd").first.inner_text() == "5"
    assert figures.locator(".figure[data-figure='Open pipeline, expected'] dd").first.inner_text() == "$12,500,000"
    assert figures.locator(".figure[data-figure='LP commitments'] dd").first.inner_text() == "$3,750,000"
    assert figures.locator(".figure[data-figure='Communications, last 30 days'] dd").first.inner_text() == "3"

    # Pipeline by stage: an SVG chart read out in its aria-label, and the same figures as a table.
    chart = page.locator("#report-pipeline svg[role=img]")
    chart.wait_for()
    label = chart.get_attribute("aria-label")
    assert "Prospect $3,000,000 (2)" in label and "Meeting $5,000,000 (1)" in label and "Lost $0 (0)" in label
    assert chart.locator("rect.bar").count() == 8
    widths = chart.locator("rect.bar").evaluate_all("bars => bars.map(b => Number(b.getAttribute('width')))")
    assert widths[2] == max(widths) and widths[1] == 0  # Meeting is the largest, Contacted empty
    row = page.get_by_role("table", name="Pipeline by stage").get_by_role("row", name="Soft commit")
    assert row.inner_text().split("\t") == ["Soft commit", "1", "$4,000,000", "$3,000,000"]

    lp = page.get_by_role("table", name="LPs by investor type")
    assert lp.get_by_role("row", name="Family office").inner_text().split("\t") == ["Family office", "1", "$3,000,000", "$1,000,000"]
    assert "Endowment $750,000" in page.locator("#report-lps svg").get_attribute("aria-label")

    # Activity per week: every week shown (zeros too), three communications in all.
    activity = page.get_by_role("table", name="Communications per week")
    totals = activity.locator("tbody tr td:last-child").all_inner_texts()
    assert len(totals) >= 12 and sum(int(t) for t in totals) == 3
    assert page.locator("#report-activity svg rect.bar").count() == len(totals)
    assert page.get_by_role("table", name="Logged by").get_by_role("row", name="admin").inner_text().split("\t") == ["admin", "3"]

    # Recent activity: newest first, each opening its contact.
    recent = page.locator(".recent-activity li")
    assert recent.count() == 3 and "Intro call with Maya" in recent.first.inner_text()
    page.screenshot(path=str(OUTPUT / "reports.png"), full_page=True)
    recent.first.get_by_role("link").click()
    page.wait_for_url(f"**/contacts/{people['Chen']['id']}")
    page.go_back()
    page.locator("#report-pipeline svg").wait_for()
    page.set_viewport_size({"width": 820, "height": 1180})
    assert page.evaluate("document.documentElement.scrollWidth") <= 820  # nothing runs off the side
    page.screenshot(path=str(OUTPUT / "reports-tablet.png"), full_page=True)


def test_a_member_sees_pipeline_and_reports_in_the_sidebar(pages, server, admin):
    server.add_user(admin, "maya", role="member", password="member password 1")
    page = pages.open("/reports", viewport=(1280, 800))
    page.get_by_label("Username or email").fill("maya")
    page.get_by_label("Password").fill("member password 1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    page.locator("#report-pipeline svg").wait_for()
    page.get_by_role("navigation").get_by_role("link", name="Pipeline").click()
    page.get_by_role("heading", name="Pipeline", level=1).wait_for()
    assert page.get_by_role("link", name="Pipeline").get_attribute("aria-current") == "page"
    page.get_by_role("status").filter(has_text="No opportunities yet").wait_for()
