"""Shared by the browser tests: signing in through the UI and believable grid data."""
import random
import re
from pathlib import Path

from helpers import eventually  # noqa: F401  (the browser tests import it from here)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"  # git-ignored


def sign_in(page, username="admin", password="correct horse battery"):
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#grid .tabulator-row, #grid .tabulator-placeholder")


def more_action(page, name):
    """Choose `name` in the toolbar's More menu, where the less frequent actions live
    (Add column…, Archived investors…, Import CSV…, Export CSV)."""
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menu", name="More actions").get_by_role("menuitem", name=name, exact=True).click()


def column_ids(client) -> dict:
    """{built-in key: column id} of the grid's built-in columns."""
    state = client.get("/api/fundraising/state").json()["data"]
    return {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}


FIRMS = ["Sequoia Heritage", "Cambridge Associates", "Horsley Bridge", "Adams Street", "HarbourVest", "Pantheon",
         "Yale Investments Office", "Stanford Management Co.", "Knight Foundation", "Hall Family Office",
         "Northgate Capital", "Top Tier Capital", "Greenspring", "Weathergage", "StepStone", "Hamilton Lane",
         "Industry Ventures", "Foundry Group LP", "MIT Investment Mgmt", "Duke Management Co.", "Kauffman Fund",
         "Bessemer Trust", "Rockefeller Capital", "Pritzker Vlock", "Cendana Capital", "Sapphire Partners",
         "Next Frontier", "Screendoor", "Ahoy Capital", "Vintage Investment Partners"]
PEOPLE = ["Maya Chen", "James Okafor", "Priya Raman", "Lucas Meyer", "Sofia Alvarez", "Daniel Kim", "Hannah Weiss",
          "Omar Haddad", "Emily Carter", "Ravi Patel", "Grace Liu", "Tom Becker"]
OWNERS = ["Alex", "Jordan", "Sam"]
SOURCES = ["Warm intro", "Conference", "Existing LP", "Inbound", "Placement agent"]
KINDS = ["Endowment", "Foundation", "Family office", "Fund of funds", "Pension", "Individual"]
STATUSES = ["Not contacted", "Contacted", "Meeting", "Diligence", "Soft commit", "Committed", "Passed"]


def seed_grid(client, rows=60, seed=7):
    """Fill the grid with believable investors and two fund columns; return the state."""
    rng = random.Random(seed)
    state = client.get("/api/fundraising/state").json()["data"]
    by_key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    ops = [{"op": "add_column", "name": "Fund III", "type": "fund", "column_id": "fund-iii",
            "fund": {"name": "Fund III", "vintage": 2024, "target": 150_000_000}},
           {"op": "add_column", "name": "Fund IV", "type": "fund", "column_id": "fund-iv",
            "fund": {"name": "Fund IV", "vintage": 2026, "target": 250_000_000}},
           {"op": "add_column", "name": "Check size", "type": "currency", "column_id": "check-size"}]
    r = client.post("/api/fundraising/ops", {"base_version": state["version"], "ops": ops})
    assert r.status_code == 200, r.text
    version = r.json()["data"]["version"]
    adds = []
    for i in range(rows):
        firm = FIRMS[i % len(FIRMS)] + ("" if i < len(FIRMS) else f" {['II', 'III', 'IV'][i // len(FIRMS) - 1]}")
        person = PEOPLE[rng.randrange(len(PEOPLE))]
        status = rng.choice(STATUSES)
        committed = status in ("Soft commit", "Committed")
        first, last = person.split()
        cells = {
            by_key["name"]: firm, by_key["organization"]: rng.choice(KINDS),
            by_key["contacts"]: [{"name": person, "email": f"{first[0].lower()}{last.lower()}{i}@lp{i}.example", "title": "Partner"}], by_key["lead_source"]: rng.choice(SOURCES),
            by_key["owner"]: rng.choice(OWNERS), by_key["status"]: status,
            by_key["notes"]: rng.choice(["", "Met at annual meeting", "Wants co-invest rights", "Re-up likely", "Sent deck"]),
            by_key["follow_up"]: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < .5 else None,
            by_key["longshot"]: rng.random() < .15,
            "check-size": rng.choice([1, 2, 2.5, 5, 10, 15, 25]) * 1_000_000,
            "fund-iii": rng.choice([2, 5, 10, 20]) * 500_000 if rng.random() < .4 else None,
            "fund-iv": rng.choice([2, 5, 10, 20]) * 500_000 if committed else None,
        }
        adds.append({"op": "add_row", "cells": {k: v for k, v in cells.items() if v not in (None, "")}})
    r = client.post("/api/fundraising/ops", {"base_version": version, "ops": adds})
    assert r.status_code == 200, r.text
    return client.get("/api/fundraising/state").json()["data"]


def rows_in_order(client):
    """The grid's live rows, in grid order, as the API gives them."""
    return client.get("/api/fundraising/state").json()["data"]["grid"]["rows"]


def numbered_cell(page, n, field):
    """The cell under column id `field` in the row numbered `n` (1-based; the row must be drawn)."""
    number = page.locator(".row-number").filter(has_text=re.compile(rf"^{n}$"))
    return page.locator("#grid .tabulator-row").filter(has=number).locator(f".tabulator-cell[tabulator-field='{field}']")



def scroll_to_column(page, field):
    """Scroll the grid sideways until column id `field` shows, as a user would: the grid draws only the
    columns near the ones in view (widgets/tabulator.js), so a cell far to the side is not in the page.
    Scrolls again until the column's cells are drawn (the grid may still be loading or reloading)."""
    page.wait_for_function("""(field) => {
      const holder = document.querySelector('#grid .tabulator-tableholder');
      const column = document.querySelector(`#grid .tabulator-col[tabulator-field="${field}"]`);
      if (!holder || !column) return false;
      holder.scrollLeft += column.getBoundingClientRect().left - holder.getBoundingClientRect().left - 120;
      return Boolean(holder.querySelector(`.tabulator-row .tabulator-cell[tabulator-field="${field}"]`));
    }""", arg=field)
