"""Over a flaky link: edits made offline wait in the save queue, the status line says so, and when the
link is back the edits reach the server and the event stream replays what others changed meanwhile
(from the last version it saw, not by reloading the rows)."""
import time

from playwright.sync_api import expect

from .browser_helpers import eventually, seed_grid, sign_in
from .test_grid_collab_ui import cell, columns_by_key, expect_noise, row_ids, server_cell, type_into

EVENTS = "/api/fundraising/events"
OFFLINE_SECONDS = 30  # the issue asks for 30 s offline, and so it is


def open_grid(pages):
    page = pages.open("/")
    sign_in(page)
    page.locator(".live[data-live='live']").wait_for()  # the event stream is open
    return page


def watch_requests(page):
    """Every request the page makes, as (monotonic time, method, path, Last-Event-ID header)."""
    seen = []
    page.on("request", lambda r: seen.append((time.monotonic(), r.method, r.url.split("?")[0].split("//", 1)[1].split("/", 1)[1],
                                              r.headers.get("last-event-id"))))
    return seen


def test_edits_made_offline_for_30_s_are_saved_when_the_link_is_back_and_others_edits_are_replayed(pages, server, admin):
    seed_grid(admin, rows=12)
    maya = server.add_user(admin, "maya")
    cols, ids = columns_by_key(admin), row_ids(admin)
    owner, notes = cols["owner"], cols["notes"]
    page = open_grid(pages)
    requests = watch_requests(page)
    status = page.locator("[data-save-status]")

    type_into(page, cell(page, 1, owner), "Before the drop")
    expect(status).to_have_text("All changes saved")
    assert server_cell(admin, ids[0], owner) == "Before the drop"
    last_seen = admin.get("/api/fundraising/state", params={"rows": "0"}).json()["data"]["version"]

    page.context.set_offline(True)
    went_offline = time.monotonic()
    expect(status).to_have_attribute("data-save-status", "offline")
    expect(status).to_have_text("offline — all edits saved")
    expect(page.locator(".live")).to_have_attribute("data-live", "offline")  # the stream is dropped, not left hanging

    type_into(page, cell(page, 2, owner), "Offline one")
    expect(status).to_have_text("offline — 1 edit waiting")
    type_into(page, cell(page, 3, notes), "Offline two")
    expect(status).to_have_text("offline — 2 edits waiting")
    type_into(page, cell(page, 2, owner), "Offline one, again")  # the same cell again: still two edits
    expect(status).to_have_text("offline — 2 edits waiting")
    type_into(page, cell(page, 4, owner), "Offline three")
    expect(status).to_have_text("offline — 3 edits waiting")
    expect(status).to_have_attribute("data-save-status", "offline")

    # Meanwhile someone else edits other cells through the API.
    others = maya.post("/api/fundraising/ops", {"base_version": last_seen, "ops": [
        {"op": "set_cell", "row_id": ids[7], "column_id": notes, "value": "Maya while you were away"},
        {"op": "set_cell", "row_id": ids[8], "column_id": owner, "value": "Maya's owner"}]})
    assert others.status_code == 200, others.text
    assert others.json()["data"]["version"] == last_seen + 1

    # Offline for the whole 30 s: nothing reached the server, nothing of Maya's reached the page.
    time.sleep(max(0.0, OFFLINE_SECONDS - (time.monotonic() - went_offline)))
    assert time.monotonic() - went_offline >= OFFLINE_SECONDS
    assert server_cell(admin, ids[1], owner) != "Offline one, again"
    assert server_cell(admin, ids[2], notes) != "Offline two"
    expect(cell(page, 8, notes)).not_to_have_text("Maya while you were away")
    expect(status).to_have_text("offline — 3 edits waiting")
    expect(cell(page, 2, owner)).to_have_text("Offline one, again")  # the edits stay on screen while they wait
    # No hammering: while the browser knows it is offline, the queue and the stream ask nothing.
    offline_calls = [r for r in requests if r[0] >= went_offline and r[2] in ("api/fundraising/ops", EVENTS[1:])]
    assert offline_calls == []

    back = time.monotonic()
    page.context.set_offline(False)
    expect(status).to_have_text("All changes saved")
    saved_after = time.monotonic() - back
    # At once on "online": after 30 s offline the backoff alone would wait up to 36 s.
    assert saved_after < 3, f"saved {saved_after:.1f} s after the link came back"
    expect(status).to_have_attribute("data-save-status", "saved")
    eventually(lambda: server_cell(admin, ids[1], owner) == "Offline one, again", timeout=5)
    assert server_cell(admin, ids[0], owner) == "Before the drop"
    assert server_cell(admin, ids[2], notes) == "Offline two"
    assert server_cell(admin, ids[3], owner) == "Offline three"
    assert server_cell(admin, ids[7], notes) == "Maya while you were away"  # nobody's edit was lost

    # Maya's edits arrive by replay: the stream reconnected with the last version it saw ...
    expect(cell(page, 8, notes)).to_have_text("Maya while you were away")
    expect(cell(page, 9, owner)).to_have_text("Maya's owner")
    replayed_after = time.monotonic() - back
    assert replayed_after < 3, f"Maya's edits shown {replayed_after:.1f} s after the link came back"
    print(f"\nback online: saved after {saved_after:.2f} s, others' edits replayed after {replayed_after:.2f} s")
    expect(page.locator(".live")).to_have_attribute("data-live", "live")
    reconnects = [r for r in requests if r[0] >= back and r[2] == EVENTS[1:]]
    assert reconnects, "the event stream never reconnected"
    assert int(reconnects[0][3]) == last_seen, reconnects  # ... the version before Maya's edit
    # ... and not by loading the rows again; the page's own offline edits were not overwritten.
    assert not [r for r in requests if r[0] >= back and r[2].startswith("api/fundraising/rows")]
    expect(cell(page, 2, owner)).to_have_text("Offline one, again")
    expect(cell(page, 3, notes)).to_have_text("Offline two")


def test_edits_waiting_when_the_page_reloads_are_warned_about_kept_shown_and_sent_once_the_server_answers(pages, server, admin):
    seed_grid(admin, rows=6)
    cols, ids = columns_by_key(admin), row_ids(admin)
    owner, notes = cols["owner"], cols["notes"]
    page = open_grid(pages)
    status = page.locator("[data-save-status]")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    # The server is out of reach while the browser thinks it is online (a dead proxy, a Tor circuit gone).
    page.route("**/api/fundraising/ops", lambda route: route.abort("internetdisconnected"))
    type_into(page, cell(page, 1, owner), "Kept over a reload")
    type_into(page, cell(page, 2, notes), "Kept note")
    expect(status).to_have_text("offline — 2 edits waiting")

    page.reload()  # the page warns first (beforeunload), then the queue comes back from sessionStorage
    assert dialogs == ["beforeunload"]
    page.locator(".live[data-live='live']").wait_for()
    expect(cell(page, 1, owner)).to_have_text("Kept over a reload")  # shown over the server's values
    expect(cell(page, 2, notes)).to_have_text("Kept note")
    expect(status).to_have_text("offline — 2 edits waiting")
    assert server_cell(admin, ids[0], owner) != "Kept over a reload"

    page.unroute("**/api/fundraising/ops")  # the server answers again: the backoff's next try sends them
    expect(status).to_have_text("All changes saved", timeout=20_000)
    assert server_cell(admin, ids[0], owner) == "Kept over a reload"
    assert server_cell(admin, ids[1], notes) == "Kept note"
    assert page.evaluate("sessionStorage.getItem('crm.pending-ops')") is None
    expect_noise(pages, "net::ERR_INTERNET_DISCONNECTED")


def test_a_session_that_ended_while_offline_keeps_the_waiting_edits_until_signed_in_again(pages, server, admin):
    seed_grid(admin, rows=6)
    cols, ids = columns_by_key(admin), row_ids(admin)
    owner = cols["owner"]
    page = open_grid(pages)
    status = page.locator("[data-save-status]")
    page.context.set_offline(True)
    type_into(page, cell(page, 1, owner), "Waited through a sign-in")
    type_into(page, cell(page, 2, owner), "And this one")
    expect(status).to_have_text("offline — 2 edits waiting")
    # The session ends meanwhile (an expiry, an admin): back online, the save is answered 401.
    stale = page.evaluate("sessionStorage.getItem('crm.token')")
    assert server.client(stale).post("/api/auth/logout").status_code == 200
    page.context.set_offline(False)
    page.wait_for_url("**/login")
    assert "Waited through a sign-in" in page.evaluate("sessionStorage.getItem('crm.pending-ops')")
    assert server_cell(admin, ids[0], owner) != "Waited through a sign-in"
    sign_in(page)
    expect(page.locator("[data-save-status]")).to_have_text("All changes saved")
    assert server_cell(admin, ids[0], owner) == "Waited through a sign-in"
    assert server_cell(admin, ids[1], owner) == "And this one"


def test_a_restore_made_while_offline_reloads_the_rows_on_reconnect_and_keeps_the_waiting_edit(pages, server, admin):
    seed_grid(admin, rows=6)
    cols, ids = columns_by_key(admin), row_ids(admin)
    owner, notes = cols["owner"], cols["notes"]
    backup = admin.post("/api/fundraising/backup", {"kind": "grid"})
    assert backup.status_code == 201, backup.text
    original = server_cell(admin, ids[4], owner)
    page = open_grid(pages)
    requests = watch_requests(page)
    version = admin.get("/api/fundraising/state", params={"rows": "0"}).json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "set_cell", "row_id": ids[4], "column_id": owner, "value": "Undone by the restore"}]})
    assert r.status_code == 200, r.text
    expect(cell(page, 5, owner)).to_have_text("Undone by the restore")

    page.context.set_offline(True)
    type_into(page, cell(page, 2, notes), "Written offline")
    expect(page.locator("[data-save-status]")).to_have_text("offline — 1 edit waiting")
    restored = admin.post("/api/fundraising/restore", {"backup_id": backup.json()["data"]["id"]})
    assert restored.status_code == 200, restored.text  # one reset_grid op: the live clients must reload

    back = time.monotonic()
    page.context.set_offline(False)
    expect(page.locator("[data-save-status]")).to_have_text("All changes saved")
    expect(cell(page, 5, owner)).to_have_text(original or "")  # the rows were loaded again ...
    assert [r for r in requests if r[0] >= back and r[2].startswith("api/fundraising/rows")]
    expect(cell(page, 2, notes)).to_have_text("Written offline")  # ... under the edit that waited
    eventually(lambda: server_cell(admin, ids[1], notes) == "Written offline", timeout=5)
    assert server_cell(admin, ids[4], owner) == original
