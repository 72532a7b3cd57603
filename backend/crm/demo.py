"""Demo data for trying the product: a small fund's CRM, the same every time.

Loaded at start-up when CRM_SEED_DEMO_DATA=1 and the database is empty: no
contacts, no grid investors and no grid columns of its own yet (refused in
production by config). It creates no users and prints nothing secret: records
are attributed to no one (created_by is empty). The classic records come
first; then the grid (fundraising/demo.py) gets investors whose contacts are
some of these people, linked through the grid's bridge, all in one
transaction: a restart with the flag still set finds the data there and adds
nothing, and a failed seed leaves nothing half done.
"""
import random
from datetime import timedelta

from . import records
from .clock import iso, utcnow
from .communications.model import COMMUNICATION, TYPES as COMMUNICATION_TYPES
from .contacts.model import CONTACT
from .db import transaction
from .fundraising import demo as grid_demo
from .lp_profiles.model import INVESTOR_TYPES, LP_PROFILE
from .opportunities.model import OPPORTUNITY, PIPELINE_STAGES
from .organizations.model import ORGANIZATION, TYPES as ORGANIZATION_TYPES

FIRST = ("Ada", "Grace", "Alan", "Katherine", "Claude", "Barbara", "Edsger", "Frances", "John", "Radia", "Ken", "Margaret",
         "Dennis", "Hedy", "Tim", "Shafi", "Leslie", "Donald", "Anita", "Vint", "Sophie", "Marcus", "Priya", "Jonas")
LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Shannon", "Liskov", "Dijkstra", "Allen", "Backus", "Perlman",
        "Thompson", "Hamilton", "Ritchie", "Lamarr", "Berners", "Goldwasser", "Lamport", "Knuth", "Borg", "Cerf")
FIRM_WORDS = ("Granite", "Harbor", "Summit", "Cedar", "Northwind", "Bluewater", "Ironwood", "Meridian", "Oakridge",
              "Silverline", "Beacon", "Kestrel", "Lakeshore", "Redwood", "Westbrook", "Highland", "Fairview", "Larkspur")
FIRM_KINDS = ("Capital", "Partners", "Family Office", "Endowment", "Foundation", "Holdings", "Advisors", "Trust")
FUNDS = ("Fund I", "Fund II", "Fund III", "Opportunity Fund")


def seed(conn, organizations=200, contacts=600, rng=None) -> dict:
    """Fill an empty CRM. Returns how many of each were created."""
    rng = rng or random.Random(31)
    now = utcnow()
    with transaction(conn):
        if conn.execute("SELECT count(*) AS n FROM contacts").fetchone()["n"] or not grid_demo.is_empty(conn):
            return {}
        org_ids = []
        firms = {}  # organization id -> what the grid's demo needs of it and its people
        for n in range(organizations):
            name = f"{rng.choice(FIRM_WORDS)} {rng.choice(FIRM_KINDS)} {n + 1}"
            slug = name.lower().replace(" ", "")
            organization = records.insert(conn, None, ORGANIZATION, {
                "name": name, "type": rng.choice(ORGANIZATION_TYPES), "website": f"https://www.{slug}.example",
                "domain": f"{slug}.example", "tags": rng.sample(["lp", "warm", "co-invest", "emerging"], 1), "description": None,
            })
            org_ids.append(organization["id"])
            firms[organization["id"]] = {"name": name, "type": organization["type"], "people": []}
        counts = {"organizations": organizations, "contacts": 0, "opportunities": 0, "communications": 0, "lp_profiles": 0}
        for n in range(contacts):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            org = rng.choice(org_ids)
            contact = records.insert(conn, None, CONTACT, {
                "first_name": first, "last_name": last, "email": f"{first}.{last}.{n}@example.com".lower(),
                "organization_id": org, "contact_type": rng.choice(("prospect", "prospect", "investor")),
                "status": "active", "source": rng.choice(("referral", "conference", "inbound", "airtable")),
                "tags": rng.sample(["priority", "warm", "cold", "family-office", "institutional"], 2),
                "title": rng.choice(("Partner", "CIO", "Principal", "Director", "Analyst")), "city": rng.choice(("Austin", "Boston", "Denver", "New York")),
            })
            counts["contacts"] += 1
            firms[org]["people"].append({k: contact[k] for k in ("first_name", "last_name", "email", "title", "source")})
            if rng.random() < 0.5:
                expected = rng.choice((250_000, 500_000, 1_000_000, 2_000_000, 5_000_000))
                stage = rng.choice(PIPELINE_STAGES)
                opp = records.insert(conn, None, OPPORTUNITY, {
                    "contact_id": contact["id"], "organization_id": org, "fund_name": rng.choice(FUNDS), "stage": stage,
                    "expected_amount": expected, "commitment_amount": expected if stage in ("committed", "closed") else None,
                    "probability": rng.choice((10, 25, 50, 75, 90)),
                })
                counts["opportunities"] += 1
            else:
                opp = None
            for _ in range(rng.randint(0, 4)):
                when = now - timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 23))
                kind = rng.choice(COMMUNICATION_TYPES)
                records.insert(conn, None, COMMUNICATION, {
                    "contact_id": contact["id"], "opportunity_id": opp["id"] if opp else None, "type": kind,
                    "subject": f"{kind.title()} with {first} {last}", "body": rng.choice((
                        "Discussed the fund's strategy and the timeline for the next close.",
                        "Sent the deck and the data-room link; follow up next week.",
                        "Interested in co-investment rights; asked about the fee structure.",
                        "Intro via a mutual LP; wants to meet the partners in person.")),
                    "communication_date": iso(when), "attendees": [],
                })
                counts["communications"] += 1
            if contact["contact_type"] == "investor" and rng.random() < 0.6:
                committed = rng.choice((250_000, 500_000, 1_000_000))
                records.insert(conn, None, LP_PROFILE, {
                    "contact_id": contact["id"], "commitment_amount": committed,
                    "funded_amount": committed * rng.choice((0, 0.25, 0.5, 1)),
                    "investor_type": rng.choice(INVESTOR_TYPES), "accredited": True,
                })
                counts["lp_profiles"] += 1
        counts.update(grid_demo.seed(conn, list(firms.values())))
    return counts
