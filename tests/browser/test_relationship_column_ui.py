"""The grid's Relationship column in a real browser: added through the field dialog, its cells drawn
as dots, date and the strongest team member (with a spoken label), sorted warmest first from its
header menu, and redrawn by itself when a refresh changes a score (the `relationships` op)."""
from datetime import datetime, timedelta, timezone

from email_helpers import add_investor
from helpers import eventually

from .browser_helpers import more_action, sign_in


def log(client, contact_id, kind, days_ago):
    r = client.post("/api/communications", {"contact_id": contact_id, "type": kind,
                                            "communication_date": (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()})
    assert r.status_code == 201, r.text


def refresh(client):
    r = client.post("/api/admin/relationships/refresh")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def order(page, column_id):
    """The Investor names of the drawn rows, top to bottom, with their Relationship cells' text."""
    return page.evaluate("""id => [...document.querySelectorAll('#grid .tabulator-row')].map((row) => [
        row.querySelector('.tabulator-cell.t-text')?.textContent,
        row.querySelector(`.tabulator-cell[tabulator-field="${id}"]`)?.textContent])""", column_id)


def test_the_relationship_column_renders_sorts_and_follows_a_refresh(pages, server, admin):
    people = {}
    for name, person, email in (("Acme LP", "Jane Doe", "jane@acme.example"), ("Beta Capital", "Bob Stone", "bob@beta.example"),
                                ("Zeta Trust", "Zed Zane", "zed@zeta.example")):
        row = admin.get(f"/api/fundraising/rows/{add_investor(admin, name, (person, email))}").json()["data"]
        people[name] = row["contacts"][0]["contact_id"]  # the classic contact the grid made for them
    for days in (2, 9, 20, 30):
        log(admin, people["Acme LP"], "call", days)  # four calls: level 3
    log(admin, people["Beta Capital"], "email", 4)    # one logged email out: level 1
    refresh(admin)

    page = pages.open("/")
    sign_in(page)
    more_action(page, "Add column…")
    dialog = page.get_by_role("dialog", name="Add a column")
    dialog.get_by_label("Name").fill("Warmth")
    dialog.get_by_label("Type").select_option("relationship")
    dialog.get_by_role("button", name="Add column").click()
    dialog.wait_for(state="detached")
    # The dialog closes at once; the new column reaches the server through the save queue just after.
    warmth = eventually(lambda: next((c for c in admin.get("/api/fundraising/state", params={"rows": 0}).json()["data"]
                                      ["grid"]["columns"] if c["name"] == "Warmth"), None),
                        what="the Warmth column never reached the server")
    column_id = warmth["id"]
    assert warmth["type"] == "relationship"

    day = lambda n: (datetime.now(timezone.utc) - timedelta(days=n)).date().isoformat()  # noqa: E731
    acme = page.locator(f"#grid .tabulator-cell[tabulator-field='{column_id}'] .warmth", has_text=f"●●●○ {day(2)} · admin")
    acme.wait_for()
    assert acme.get_attribute("aria-label") == f"Relationship level 3 of 4, last contact {day(2)}, strongest connection admin"

    # Warmest first, from the header menu: Acme (3), Beta (1), then Zeta (nobody in touch, blank).
    page.get_by_role("button", name="Field options: Warmth", exact=True).click()
    menu = page.get_by_role("menu", name="Field options: Warmth")
    with page.expect_response(lambda r: "/api/fundraising/rows" in r.url):
        menu.get_by_role("menuitem", name="Sort 9 → 1", exact=True).click()
    page.wait_for_function("""id => { const rows = [...document.querySelectorAll('#grid .tabulator-row')];
        return rows.length === 3 && rows[0].textContent.includes('Acme LP') && rows[2].textContent.includes('Zeta Trust'); }""",
                           arg=column_id)
    assert [name for name, _ in order(page, column_id)] == ["Acme LP", "Beta Capital", "Zeta Trust"]
    assert order(page, column_id)[1][1] == f"●○○○ {day(4)} · admin" and order(page, column_id)[2][1] == ""

    # Six meetings with Zeta and a refresh: the open grid redraws by itself and re-sorts (level 3 too,
    # and the later last contact).
    for days in (1, 3, 5, 7, 11, 13):
        log(admin, people["Zeta Trust"], "meeting", days)
    assert refresh(admin)["grid_version"] is not None
    page.wait_for_function("""() => document.querySelector('#grid .tabulator-row')?.textContent.includes('Zeta Trust')""")
    assert [name for name, _ in order(page, column_id)] == ["Zeta Trust", "Acme LP", "Beta Capital"]
