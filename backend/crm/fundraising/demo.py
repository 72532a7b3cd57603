"""The grid half of the demo data: investors, two funds, a formula, shared views.

`seed(conn, firms)` runs inside the caller's transaction (crm/demo.py, which
passes the demo firms and their people it has just created). Everything is
written the way a partner's edits are: one ops Batch (columns, rows and their
cells, one new grid version) and `views.create` for the views. The people in
a row's Contacts cell carry the demo contacts' names and emails, so the bridge
(links.py) links each to its classic contact by email, as it does for real
data; nothing here touches a classic table. The content is the same every
time (a fixed seed); dates (Follow Up, the funds' vintages and closes) are
counted from the day of seeding: Fund I closed four years ago, Fund II is
being raised now.
"""
import random
from datetime import timedelta

from ..clock import new_id, utcnow
from . import ops, views
from .schema_ops import apply_column_op

INVESTORS = 40
# Status of each investor (a shuffled copy): every stage of the default options shows up.
STATUS_PLAN = (["Committed"] * 6 + ["Soft commit"] * 5 + ["Diligence"] * 5 + ["Meeting"] * 7 + ["Contacted"] * 7
               + ["Not contacted"] * 6 + ["Passed"] * 4)
PIPELINE = ("Contacted", "Meeting", "Diligence", "Soft commit", "Committed")
SIZES = (250_000, 500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000)
PARTNERS = ("Sam Okafor", "Maya Lindqvist", "Dev Raman")
LEAD_SOURCES = {"referral": "Referral", "conference": "Conference", "inbound": "Inbound", "airtable": "Airtable import"}
INVESTOR_TYPES = ("Family office", "Fund of funds", "Endowment", "Foundation", "Pension", "Corporate", "Bank",
                  "Wealth manager", "Individual", "Venture fund", "Other")
LONGSHOTS = 2  # the first investors not yet contacted are flagged as long shots
NOTES = {
    "Committed": "Signed the Fund II subscription documents; wire expected at the first close.",
    "Soft commit": "Verbal commitment to Fund II, subject to their investment committee next month.",
    "Diligence": "In the data room; reference calls with two portfolio founders booked.",
    "Meeting": "First partner meeting went well; asked for the quarterly letter and the track record.",
    "Contacted": "Intro email sent with the Fund II deck; waiting to hear back about a call.",
    "Not contacted": "Warm intro possible through an existing LP.",
    "Passed": "Passed for now: no new manager allocations this year. Revisit for Fund III.",
}


class _Seeder:
    """What views.create and audit.record read of a request: the seeder acts as no one (like the
    default views, the demo views have no owner)."""
    user = {"id": None, "role": None}
    actor = {"id": None, "kind": "system"}
    request_id = None
    ip = None


SEEDER = _Seeder()


def is_empty(conn) -> bool:
    """True while the grid is as a new CRM starts it: no investor rows (archived ones included)
    and no columns beyond the built-in ones (the demo's column names must be free)."""
    return conn.execute("SELECT 1 FROM fundraising_investors UNION ALL "
                        "SELECT 1 FROM fundraising_columns WHERE field_key IS NULL LIMIT 1").fetchone() is None


def seed(conn, firms: list, rng=None, today=None) -> dict:
    """Fill the grid from `firms` ([{name, type, people: [{first_name, last_name, email, title, source}]}]).

    Runs in the caller's open transaction; returns how many of each it created.
    """
    rng = rng or random.Random(14)
    today = today or utcnow().date()
    candidates = [f for f in firms if f["people"]]
    chosen = rng.sample(candidates, min(INVESTORS, len(candidates)))
    statuses = [STATUS_PLAN[n % len(STATUS_PLAN)] for n in range(len(chosen))]
    rng.shuffle(statuses)

    batch = ops.Batch(conn, None, ops.current_version(conn), check_conflicts=False)
    key = {c.field_key: c.id for c in batch.live_columns() if c.field_key}
    ids = {name: new_id() for name in ("Investor Type", "Fund I", "Fund II", "Total Committed")}
    funds = (("Fund I", {"vintage": today.year - 4, "target": 40_000_000, "close_date": f"{today.year - 4}-12-15"}),
             ("Fund II", {"vintage": today.year, "target": 75_000_000, "close_date": (today + timedelta(days=180)).isoformat()}))
    new_columns = [
        {"op": "add_column", "column_id": ids["Investor Type"], "name": "Investor Type", "type": "single_select",
         "options": list(INVESTOR_TYPES), "after_column_id": key["organization"]},
        *({"op": "add_column", "column_id": ids[name], "name": name, "type": "fund", "fund": {"name": name, **fund}}
          for name, fund in funds),
        {"op": "add_column", "column_id": ids["Total Committed"], "name": "Total Committed", "type": "formula",
         "formula": "{Fund I} + {Fund II}", "config": {"result_type": "number"}},
    ]
    for n, op in enumerate(new_columns):
        apply_column_op(batch, op["op"], op, f"demo.columns[{n}]")

    commitments, longshots = 0, 0
    for n, (firm, status) in enumerate(zip(chosen, statuses)):
        people = firm["people"][:2]
        fund_i = rng.choice(SIZES[:4]) if status not in ("Not contacted", "Contacted") and rng.random() < 0.45 else None
        fund_ii = rng.choice(SIZES) if status in ("Committed", "Soft commit") else None
        commitments += (fund_i is not None) + (fund_ii is not None)
        longshot = status == "Not contacted" and longshots < LONGSHOTS
        longshots += longshot
        cells = {
            key["name"]: firm["name"],
            key["organization"]: firm["name"],  # the classic organization's name: the bridge matches people within it
            key["contacts"]: [{"name": f"{p['first_name']} {p['last_name']}", "email": p["email"], "title": p["title"]}
                              for p in people],
            key["lead_source"]: LEAD_SOURCES.get(people[0]["source"], "Referral"),
            key["owner"]: rng.choice(PARTNERS),
            key["status"]: status,
            key["notes"]: NOTES[status] + (" Fund I LP." if fund_i else ""),
            key["graveyard"]: status == "Passed",
            key["longshot"]: longshot,
            key["follow_up"]: (today + timedelta(days=rng.randint(-7, 28))).isoformat() if status in PIPELINE[:-1] else None,
            ids["Investor Type"]: _investor_type(firm["type"]),
            ids["Fund I"]: fund_i,
            ids["Fund II"]: fund_ii,
        }
        batch.add_row({"cells": cells}, f"demo.rows[{n}]")
    batch.finish()

    _view(conn, "Fund II pipeline", {
        "filters": {"conjunction": "and", "conditions": [
            {"column_id": key["status"], "operator": "is_any_of", "value": list(PIPELINE)},
            {"column_id": key["graveyard"], "operator": "is", "value": False}]},
        "sorts": [{"column_id": key["status"], "direction": "desc"}, {"column_id": ids["Fund II"], "direction": "desc"}],
        "hidden": [ids["Fund I"], key["graveyard"], key["longshot"]], "frozen": 1})
    _view(conn, "By status", {
        "filters": {"conjunction": "and", "conditions": []},
        "sorts": [{"column_id": ids["Total Committed"], "direction": "desc"}],
        "group_by": key["status"], "hidden": [key["graveyard"], key["longshot"]], "frozen": 1})
    return {"grid_investors": len(chosen), "grid_funds": len(funds), "grid_commitments": commitments, "grid_views": 2}


def _view(conn, name, config) -> None:
    views.create(conn, SEEDER, {"name": name, "shared": True, "locked": False, "config": config})


def _investor_type(organization_type) -> str:
    label = (organization_type or "other").replace("_", " ").capitalize()
    return label if label in INVESTOR_TYPES else "Other"
