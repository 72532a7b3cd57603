"""Settings (Me and the admin tabs) and Feature requests in a real browser against the real server:
the digest's policy surviving a reload and its test email reaching a real SMTP server, an invite link
that lets a new user sign in, roles (a member never reaches an admin tab, and the server refuses),
backups with a typed-confirmation restore, Gmail with the stand-in Google, the audit log's filters,
reset all data, and voting on feature requests."""
import re

import pytest
from playwright.sync_api import expect

from email_helpers import capture_config, grant
from fakes.google import FakeGoogle
from smtp_helpers import certificate, smtp, smtp_settings  # noqa: F401  (fixtures)

from .browser_helpers import OUTPUT
from .conftest import Pages

PASSWORD = "correct horse battery"
MEMBER_PASSWORD = "member password 1"


@pytest.fixture
def opened(browser):
    """Pages for servers a test makes itself; any console error or CSP violation fails the test."""
    made = []

    def start(server):
        pages = Pages(browser, server.url)
        made.append(pages)
        return pages
    yield start
    for pages in made:
        pages.close()
    problems = [p for pages in made for p in pages.problems if "401" not in p]
    assert not problems, problems


def signed_in(pages, path, username="admin", password=PASSWORD, viewport=(1280, 800)):
    """Open `path`, sign in on the sign-in screen it shows, and come back to `path`."""
    page = pages.open(path, viewport=viewport)
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))
    return page


def refused(pages, status, count):
    """Chromium logs each refused request as a console error: take away the `count` this test expects
    (a number, or the numbers possible when a navigation may cut a request short)."""
    allowed = count if isinstance(count, (range, tuple)) else (count,)
    seen = []
    for _ in range(30):  # a refusal may still be on its way: let the browser's events in for up to 3 s
        seen = [p for p in pages.problems if f"status of {status}" in p]
        if len(seen) >= max(allowed):
            break
        next(page for context in pages.contexts for page in context.pages).wait_for_timeout(100)
    assert len(seen) in allowed, pages.problems
    for problem in seen:
        pages.problems.remove(problem)


def shot(page, name):
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def tab_names(page):
    nav = page.get_by_role("navigation", name="Settings sections")
    nav.wait_for()  # a page is mounted once its module has arrived (app.js imports it on demand)
    return nav.get_by_role("link").all_inner_texts()


# -- the daily digest -------------------------------------------------------------------------------

def test_digest_toggle_and_send_time_persist_and_the_test_email_arrives_by_smtp(smtp, make_server, opened):  # noqa: F811
    inbox, port = smtp("none")
    server = make_server(**smtp_settings(port, "none"))
    admin = server.register_admin()
    assert admin.get("/api/admin/digest/policy").json()["data"]["enabled"] is False
    browser_pages = opened(server)
    page = signed_in(browser_pages, "/settings/digest")
    expect(page.get_by_role("heading", name="Daily digest")).to_be_visible()
    enabled = page.get_by_label("Send the daily digest")
    expect(enabled).not_to_be_checked()
    expect(page.locator("[data-fact='next-due']")).to_have_text(re.compile("digest is off"))
    enabled.check()
    page.get_by_label(re.compile(r"^Send time")).select_option(label="07:00")
    page.get_by_label(re.compile(r"^Going cold after")).fill("14")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("[data-fact='next-due']")).not_to_have_text(re.compile("digest is off"))
    assert admin.get("/api/admin/digest/policy").json()["data"] == {"enabled": True, "send_hour": 7, "cold_after_days": 14}

    page.reload()
    expect(page.get_by_label("Send the daily digest")).to_be_checked()
    expect(page.get_by_label(re.compile(r"^Send time"))).to_have_value("7")
    expect(page.get_by_label(re.compile(r"^Going cold after"))).to_have_value("14")

    # A value the server refuses is named beside its field.
    page.get_by_label(re.compile(r"^Going cold after")).fill("400")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#field-cold_after_days-error")).not_to_be_empty()
    expect(page.get_by_label(re.compile(r"^Going cold after"))).to_have_attribute("aria-invalid", "true")
    assert admin.get("/api/admin/digest/policy").json()["data"]["cold_after_days"] == 14
    refused(browser_pages, 422, 1)

    page.get_by_role("button", name="Send Test Digest Email").click()
    expect(page.get_by_text("Test email sent to admin@fund.example by smtp.")).to_be_visible()
    assert len(inbox.envelopes) == 1 and inbox.envelopes[0].rcpt_tos == ["admin@fund.example"]

    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_label("Digest text")).not_to_be_empty()
    page.get_by_role("button", name="Send Digest Now").click()
    expect(page.get_by_text(re.compile(r"^Digest sent to admin@fund.example by smtp"))).to_be_visible()
    assert len(inbox.envelopes) == 2
    expect(page.locator("[data-fact='last-sent']")).not_to_have_text("Never")
    shot(page, "settings-digest")


# -- users, invites and roles -----------------------------------------------------------------------

def test_an_invite_link_lets_a_new_user_sign_in_and_a_member_cannot_reach_admin_pages(pages, server, admin):
    page = signed_in(pages, "/settings/users")
    users = page.get_by_role("table", name="Users")
    expect(users.get_by_role("row")).to_have_count(2)  # the header and the admin
    page.get_by_role("button", name="Invite", exact=True).click()  # no username: the server's word beside the field
    expect(page.locator("#field-username-error")).not_to_be_empty()
    refused(pages, 422, 1)
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Email").fill("maya@fund.example")
    page.get_by_label("Display name").fill("Maya Chen")
    page.get_by_role("button", name="Invite", exact=True).click()
    link = page.get_by_label("Invitation link for maya")
    expect(link).to_have_value(re.compile(r"/accept-invite#token="))
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    expect(users.get_by_role("row", name=re.compile("maya"))).to_contain_text("Invited")
    url = link.input_value()
    shot(page, "settings-users")

    # The invitee opens the link in their own browser, sets a password and is signed in.
    theirs = pages.open(url.replace(server.url, ""))
    theirs.get_by_label("New password").fill(MEMBER_PASSWORD)
    theirs.get_by_label("Repeat it").fill(MEMBER_PASSWORD)
    theirs.get_by_role("button", name="Set password").click()
    theirs.wait_for_selector("#grid.tabulator")
    assert "token" not in theirs.url
    assert server.client().post("/api/auth/login", {"username": "maya", "password": MEMBER_PASSWORD}).status_code == 200

    # A member sees Settings with only "Me"; every admin tab's address lands on "Me" instead.
    sidebar = theirs.get_by_role("complementary", name="Sections")
    sidebar.get_by_role("link", name="Settings").click()
    theirs.wait_for_url("**/settings")
    assert tab_names(theirs) == ["Me"]
    expect(theirs.get_by_text("Email capture is off on this server")).to_be_visible()
    for tab in ("users", "digest", "backups", "gmail", "search-index", "security", "audit", "reset"):
        theirs.goto(f"/settings/{tab}")
        theirs.wait_for_url("**/settings/me")
        expect(theirs.get_by_text("That section is for admins.")).to_be_visible()
        expect(theirs.get_by_role("heading", name="Me", exact=True)).to_be_visible()
        expect(theirs.get_by_text("Email capture is off on this server")).to_be_visible()
    assert tab_names(theirs) == ["Me"]
    refused(pages, 503, 0)  # capture is off here (GET /api/features): the blocklist is not even asked for
    # ...and the server refuses a member anyway.
    member = server.client()
    member.token = member.post("/api/auth/login", {"username": "maya", "password": MEMBER_PASSWORD}).json()["data"]["token"]
    for path in ("/api/admin/digest/policy", "/api/fundraising/backups", "/api/audit-log", "/api/security/status",
                 "/api/admin/ingest/status"):
        assert member.get(path).status_code == 403, path

    # Back as the admin: promote, reset the password (a link), deactivate.
    page.reload()
    row = users.get_by_role("row", name=re.compile("maya"))
    expect(row).to_contain_text("Active")
    row.get_by_label("Role of maya").select_option("admin")
    expect(page.get_by_text("maya updated.")).to_be_visible()
    assert next(u for u in admin.get("/api/users").json()["data"] if u["username"] == "maya")["role"] == "admin"
    row.get_by_role("button", name="Reset password of maya").click()
    expect(page.get_by_label("Password-reset link for maya")).to_have_value(re.compile(r"/accept-invite#token="))
    row.get_by_role("button", name="Deactivate maya").click()
    expect(row).to_contain_text("Deactivated")
    assert next(u for u in admin.get("/api/users").json()["data"] if u["username"] == "maya")["is_active"] is False
    expect(users.get_by_role("button", name="Deactivate admin")).to_have_count(0)  # not yourself: that would sign you out
    # The last active admin cannot demote themself: the server's reason is shown.
    users.get_by_role("row", name=re.compile("admin.*you")).get_by_label("Role of admin").select_option("member")
    expect(page.get_by_text("this is the last active admin; promote another admin first")).to_be_visible()
    assert admin.get("/api/auth/me").json()["data"]["role"] == "admin"
    refused(pages, 409, 1)


# -- Me ----------------------------------------------------------------------------------------------

def test_me_saves_the_name_and_digest_opt_out_and_changes_the_password(pages, server, admin):
    page = signed_in(pages, "/settings")
    assert tab_names(page) == ["Me", "Users", "Daily digest", "Backups", "Gmail", "Search index", "Security", "Audit log",
                              "Reset all data"]
    name = page.get_by_label("Display name")
    name.fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#field-display_name-error")).to_have_text("must not be blank")
    name.fill("Alex Admin")
    page.get_by_label("Don't send me the evening digest").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("summary", has_text="account menu")).to_contain_text("Alex Admin")
    me = admin.get("/api/auth/me").json()["data"]
    assert me["display_name"] == "Alex Admin" and me["digest_opt_out"] is True
    page.reload()
    expect(page.get_by_label("Display name")).to_have_value("Alex Admin")
    expect(page.get_by_label("Don't send me the evening digest")).to_be_checked()
    # Gmail capture is off on this server: the blocklist says so instead of failing.
    expect(page.get_by_text("Email capture is off on this server")).to_be_visible()
    refused(pages, 503, 0)  # not asked: GET /api/features says capture is off

    page.get_by_label("Current password").fill("not my password!")
    page.get_by_label("New password (10+ characters)").fill("a new password 2")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#field-current_password-error")).to_have_text("is not your current password")
    refused(pages, 422, 2)  # the blank name and the wrong password
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed. Your other sessions have ended.")).to_be_visible()
    assert admin.get("/api/auth/me").status_code == 401  # the other session ended
    # This tab carries on with its fresh token.
    page.get_by_label("Display name").fill("Alex A.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Display name")).to_have_value("Alex A.")
    assert server.client().post("/api/auth/login", {"username": "admin", "password": "a new password 2"}).status_code == 200
    expect(page.get_by_text("Email capture is off on this server")).to_be_visible()
    refused(pages, 503, 0)
    shot(page, "settings-me")


# -- backups ----------------------------------------------------------------------------------------

def test_backups_policy_take_verify_and_restore_with_a_typed_confirmation(pages, server, admin):
    r = admin.post("/api/feature-requests", {"title": "Before the backup"})
    assert r.status_code == 201, r.text
    page = signed_in(pages, "/settings/backups")
    page.get_by_label("Every (hours)").fill("0")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#field-interval_hours-error")).not_to_be_empty()
    refused(pages, 422, 1)
    page.get_by_label("Every (hours)").fill("6")
    page.get_by_label("Grid backups").uncheck()
    page.get_by_label("Full backups").check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    policy = admin.get("/api/fundraising/backup-policy").json()["data"]
    assert policy["interval_hours"] == 6 and policy["kinds"] == ["full"]

    page.get_by_role("button", name="Take a backup now").click()
    expect(page.get_by_text(re.compile(r"^Backup taken \(full"))).to_be_visible()
    table = page.get_by_role("table", name="Backups")
    expect(table.get_by_role("row")).to_have_count(2)
    table.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.get_by_text("The backup is sound.")).to_be_visible()
    expect(table.locator("td[data-col='verified_ok']")).to_have_text("OK")

    assert admin.post("/api/feature-requests", {"title": "After the backup"}).status_code == 201
    table.get_by_role("button", name=re.compile("^Restore")).click()
    preview = page.get_by_role("region", name="Restore preview")
    expect(preview).to_contain_text("Every table goes back to this backup.")
    expect(preview.get_by_role("table", name="Rows in the backup")).to_contain_text("feature_requests")
    go = preview.get_by_role("button", name="Restore this backup")
    expect(go).to_be_disabled()
    page.get_by_label("Type RESTORE to confirm").fill("restore")
    expect(go).to_be_disabled()
    page.get_by_label("Type RESTORE to confirm").fill("RESTORE")
    go.click()
    expect(page.get_by_text(re.compile(r"^Restored the backup of"))).to_be_visible(timeout=20_000)
    titles = [f["title"] for f in admin.get("/api/feature-requests").json()["data"]]
    assert titles == ["Before the backup"]
    expect(table.get_by_role("row")).to_have_count(3)  # the restored one and the pre-restore backup
    shot(page, "settings-backups")


# -- Gmail ------------------------------------------------------------------------------------------

def test_gmail_status_in_words_enroll_run_now_and_the_blocklist_for_everyone(make_server, opened, tmp_path):
    with FakeGoogle() as google:
        google.write_key_file(tmp_path / "sa.json")
        server = make_server(**capture_config(google, tmp_path / "sa.json"))
        admin = server.register_admin()
        grant(google, "admin@fund.example")
        browser_pages = opened(server)
        page = signed_in(browser_pages, "/settings/gmail")
        expect(page.get_by_text("No mailbox is captured yet.")).to_be_visible()
        page.get_by_role("button", name="Enroll everyone").click()
        expect(page.get_by_text("1 enrolled, 0 already captured.")).to_be_visible()
        mailbox = page.get_by_role("region", name="admin@fund.example")
        expect(mailbox).to_contain_text("Capturing normally")
        page.get_by_role("button", name="Sync all now").click()
        expect(page.get_by_text("Sync started for 1 mailbox.")).to_be_visible()
        expect(mailbox.locator("[data-fact='last-run']")).to_contain_text("finished", timeout=15_000)
        expect(mailbox.locator("[data-fact='last-success']")).not_to_have_text("Never yet")
        mailbox.get_by_text(re.compile(r"Recent runs \(\d+\)")).click()
        runs = mailbox.get_by_role("table", name="Recent runs of admin@fund.example")
        expect(runs.locator("tbody tr").first).to_contain_text("finished")
        expect(runs.locator("tbody tr").first).to_contain_text("listed")

        page.get_by_label("Address or domain").fill("nonsense")
        page.get_by_role("button", name="Block").click()
        expect(page.locator("#field-pattern-error")).to_have_text(re.compile("must be an address"))
        refused(browser_pages, 422, 1)
        page.get_by_label("Address or domain").fill("@spam.example")
        page.get_by_role("button", name="Block").click()
        entries = page.get_by_role("list", name="Blocklist for every mailbox")
        expect(entries).to_contain_text("@spam.example")
        expect(entries).to_contain_text("for everyone")
        blocked = admin.get("/api/email/blocklist").json()["data"]
        assert [(b["pattern"], b["scope"]) for b in blocked] == [("@spam.example", "all")]
        shot(page, "settings-gmail")

        # A member's own blocklist (Me): the admin's entry shows, theirs is added as "mine".
        server.add_user(admin, "maya", password=MEMBER_PASSWORD)
        theirs = signed_in(browser_pages, "/settings/me", "maya", MEMBER_PASSWORD)
        mine = theirs.get_by_role("list", name="My blocklist")
        expect(mine).to_contain_text("@spam.example")
        expect(mine.get_by_role("button", name="Remove @spam.example")).to_have_count(0)
        theirs.get_by_label("Address or domain").fill("Banker@Bank.example")
        theirs.get_by_label("Note").fill("personal")
        theirs.get_by_role("button", name="Block").click()
        expect(mine.locator("li", has_text="banker@bank.example")).to_contain_text("mine")
        assert [(b["pattern"], b["scope"]) for b in admin.get("/api/email/blocklist").json()["data"]] == [("@spam.example", "all")]
        theirs.close()
        entries.get_by_role("button", name="Remove @spam.example").click()
        expect(entries).to_contain_text("Nothing blocked yet.")
        assert admin.get("/api/email/blocklist").json()["data"] == []

        # The blocklist paginates (50 a page).
        for n in range(51):
            assert admin.post("/api/email/blocklist", {"pattern": f"@spam{n:02d}.example", "scope": "all"}).status_code == 201
        page.reload()
        expect(entries.locator("li")).to_have_count(50)
        expect(page.get_by_text("1–50 of 51")).to_be_visible()
        page.get_by_role("button", name="Next →").click()
        expect(entries.locator("li")).to_have_count(1)
        expect(page.get_by_text("51–51 of 51")).to_be_visible()


def test_gmail_off_says_how_to_turn_it_on(pages, server, admin):
    page = signed_in(pages, "/settings/gmail")
    expect(page.get_by_text(re.compile(r"Gmail capture is off on this server\. To turn it on: set CRM_GMAIL_INTEGRATION_ENABLED"))).to_be_visible()
    refused(pages, 503, 0)  # neither the status nor the blocklist is asked for


# -- the search index -------------------------------------------------------------------------------

def test_search_index_runs_an_ingest_and_refreshes_relationships(pages, server, admin):
    contact = admin.post("/api/contacts", {"first_name": "Ines", "last_name": "Okafor", "email": "ines@okafor.example",
                                           "notes": "Asked about the side letter for Fund II."})
    assert contact.status_code == 201, contact.text
    page = signed_in(pages, "/settings/search-index")
    facts = page.locator(".settings-facts")
    # Test servers open the index on first use (qdrant-client's import and the folder: seconds on a busy machine).
    expect(facts.locator("[data-fact='store']")).to_contain_text("Embedded (local mode", timeout=30_000)
    expect(facts.locator("[data-fact='last-run']")).to_contain_text("Never yet")
    expect(facts.locator("[data-fact='embedding']")).to_contain_text("BM25")  # no embedding server on this one
    page.get_by_role("button", name="Run ingest now").click()
    expect(page.get_by_text("Ingest started")).to_be_visible()
    page.get_by_role("button", name="Reload").click()
    expect(facts.locator("[data-fact='last-run']")).not_to_contain_text("Never yet", timeout=15_000)
    hits = admin.get("/api/search", params={"q": "side letter", "mode": "sparse"}).json()["data"]["hits"]
    assert [h["source_id"] for h in hits] == [contact.json()["data"]["id"]]
    page.get_by_role("button", name="Refresh entities and relationships").click()
    expect(page.get_by_text(re.compile(r"Relationships refreshed: \d+ added"))).to_be_visible()
    shot(page, "settings-search-index")


# -- security, audit log, reset ---------------------------------------------------------------------

def test_security_checklist_audit_filters_and_reset_all_data(pages, server, admin):
    assert admin.post("/api/feature-requests", {"title": "Keep me?"}).status_code == 201
    assert admin.patch("/api/admin/digest/policy", {"send_hour": 9}).status_code == 200
    page = signed_in(pages, "/settings/security")
    checks = page.get_by_role("list", name="Security checklist")
    report = admin.get("/api/security/status").json()["data"]
    expect(checks.get_by_role("listitem")).to_have_count(len(report["checks"]))
    expect(checks.locator("li[data-ok='false']")).to_have_count(sum(not c["ok"] for c in report["checks"]))
    shot(page, "settings-security")

    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/settings/audit")
    log = page.get_by_role("table", name="Audit log")
    expect(log.locator("tbody tr").first).not_to_have_class("empty")
    page.get_by_label("Entity type").fill("setting")
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text("send_hour")
    assert "entity_type=setting" in page.url
    page.reload()  # the filter lives in the address
    expect(page.get_by_label("Entity type")).to_have_value("setting")
    expect(log.locator("tbody tr")).to_have_count(1)
    page.get_by_label("From").fill("2000-01-01")
    page.get_by_label("Until (inclusive)").fill("2000-01-02")
    page.get_by_role("button", name="Filter").click()
    expect(log).to_contain_text("No entries match.")
    page.get_by_role("button", name="Clear").click()
    expect(log.locator("tbody tr").first).not_to_have_class("empty")
    page.get_by_label("Who").select_option(label="admin")
    page.get_by_label("Action").fill("create")
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text("feature_request")
    assert "actor_id=" in page.url and "action=create" in page.url
    shot(page, "settings-audit")

    page.go_back()  # back to Security
    page.wait_for_url("**/settings/security")
    expect(checks).to_be_visible()
    page.goto("/settings/reset")
    go = page.get_by_role("button", name="Reset all data")
    expect(go).to_be_disabled()
    page.get_by_label("Type RESET ALL DATA to confirm").fill("reset all data")
    expect(go).to_be_disabled()
    page.get_by_label("Type RESET ALL DATA to confirm").fill("RESET ALL DATA")
    go.click()
    expect(page.get_by_text(re.compile(r"^Done: 1 records deleted\. A full backup was taken first"))).to_be_visible(timeout=20_000)
    assert admin.get("/api/feature-requests").json()["data"] == []
    shot(page, "settings-reset")


# -- feature requests -------------------------------------------------------------------------------

def test_feature_requests_submit_vote_and_admins_set_the_status(pages, server, admin):
    member = server.add_user(admin, "maya", password=MEMBER_PASSWORD)
    assert admin.post("/api/feature-requests", {"title": "Dark mode", "body": "For late closes."}).status_code == 201
    page = signed_in(pages, "/feature-requests", "maya", MEMBER_PASSWORD, viewport=(820, 1180))
    table = page.get_by_role("table", name="Feature requests")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#field-title-error")).not_to_be_empty()
    refused(pages, 422, 1)
    page.get_by_label("What should the CRM do?").fill("Export the pipeline to PDF")
    page.get_by_label("Details (why, for whom)").fill("For the LP meeting.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_text("Submitted “Export the pipeline to PDF”.")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    row = table.get_by_role("row", name=re.compile("Export the pipeline"))
    row.get_by_role("button", name="Vote for Export the pipeline to PDF").click()
    expect(row.locator(".fr-votes")).to_have_text("1")
    row.get_by_role("button", name="Vote for Export the pipeline to PDF").click()
    expect(table.locator("tbody tr").first).to_contain_text("Export the pipeline")  # most voted first
    expect(row.locator(".fr-votes")).to_have_text("2")
    expect(row.get_by_label(re.compile("^Status of"))).to_have_count(0)  # a member cannot set the status
    expect(row).to_contain_text("Open")
    shot(page, "feature-requests-tablet")
    assert [f["votes"] for f in member.get("/api/feature-requests").json()["data"]] == [2, 0]

    admin_page = signed_in(pages, "/feature-requests")
    theirs = admin_page.get_by_role("table", name="Feature requests").get_by_role("row", name=re.compile("Dark mode"))
    theirs.get_by_label("Status of Dark mode").select_option("planned")
    expect(admin_page.get_by_text("“Dark mode” is now planned.")).to_be_visible()
    admin_page.get_by_label("Show").select_option("planned")
    expect(admin_page.get_by_role("table", name="Feature requests").locator("tbody tr")).to_have_count(1)
    assert "status=planned" in admin_page.url
    admin_page.reload()
    expect(admin_page.get_by_label("Show")).to_have_value("planned")
    expect(admin_page.get_by_role("table", name="Feature requests").locator("tbody tr")).to_have_count(1)
    admin_page.get_by_label("Show").select_option("")  # after a reload with a filter, "Any status" shows all again
    expect(admin_page.get_by_role("table", name="Feature requests").locator("tbody tr")).to_have_count(2)
    assert "status=" not in admin_page.url
    admin_page.get_by_label("Search Feature requests").fill("dark")
    expect(admin_page.get_by_role("table", name="Feature requests").locator("tbody tr")).to_have_count(1)
    shot(admin_page, "feature-requests")
    statuses = {f["title"]: f["status"] for f in admin.get("/api/feature-requests").json()["data"]}
    assert statuses == {"Dark mode": "planned", "Export the pipeline to PDF": "open"}


# -- every tab at a tablet's width ------------------------------------------------------------------

TABS = {"me": "Me", "users": "Users", "digest": "Daily digest", "backups": "Backups", "gmail": "Gmail",
        "search-index": "Search index", "security": "Security", "audit": "Audit log", "reset": "Reset all data"}


def test_every_tab_fits_a_tablet_and_is_reached_by_keyboard(pages, server, admin):
    page = signed_in(pages, "/settings/me", viewport=(820, 1180))
    expect(page.get_by_text("Email capture is off on this server")).to_be_visible()
    for tab, name in TABS.items():
        page.goto(f"/settings/{tab}")
        expect(page.get_by_role("heading", name=name, exact=True, level=2)).to_be_visible()
        if tab == "me":
            expect(page.get_by_text("Email capture is off on this server")).to_be_visible()
        if tab == "gmail":
            expect(page.get_by_text("Gmail capture is off on this server")).to_be_visible()
        expect(page.get_by_role("navigation", name="Settings sections").get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), f"{tab} scrolls sideways"
        shot(page, f"settings-{tab}-tablet")
    # Gmail is off here, and the pages know it without asking.
    refused(pages, 503, 0)  # not one: GET /api/features says capture is off
    # The tabs are links in the tab order, with a visible focus ring.
    page.goto("/settings/me")
    expect(page.get_by_text("Email capture is off on this server")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Settings sections")
    tabs.get_by_role("link", name="Me").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused == ["Users", "solid"], focused
    page.keyboard.press("Enter")
    page.wait_for_url("**/settings/users")
    expect(page.get_by_role("table", name="Users").locator("tbody tr")).to_have_count(1)
    refused(pages, 503, 0)
