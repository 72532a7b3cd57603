"""Relationship strength: how warm each team member is with each person and organization.

From metadata only, never content (docs/RETRIEVAL.md "Relationship strength"): who on the team
wrote to or heard from which address and when (`crm.email.queries.correspondence`: addresses,
direction, dates), and which classic communications they logged with which contact, of what type
and when (`crm.communications.model.touches`). No subject, snippet, body, outcome or attendee
list is read.

For a member and an entity, the touches are counted: `sent` (mail in the member's Sent to one of
the entity's addresses, a logged email or text, a call or meeting) and `received` (mail from the
entity in the member's mailbox, a call or meeting). Then

    score = recency x frequency x reciprocity
    recency     = 0.5 ** (days since the last touch / HALF_LIFE_DAYS)
    frequency   = min(1, log(1 + touches) / log(1 + FREQUENCY_SATURATION))
    reciprocity = ONE_WAY + (1 - ONE_WAY) x min(sent, received) / max(sent, received)

and the level is how many of LEVELS the score reaches (0-4). An organization's touches are its
people's (works_at) and its own, each email once. Only active people (not bots) count; a sighting
deleted in Gmail, a deleted communication and mail excluded after capture do not.

`refresh(conn)` recomputes every score and stores them on relationship_edges (kind `emailed`, from
a user), with the works_at edges they were aggregated through; re-running it on unchanged data
the same day writes nothing. Days are UTC dates: the decay moves once a day, at the first refresh
of the day.
"""
import math
import time
from collections import defaultdict
from datetime import date, datetime, timezone

from ..auth import users
from ..communications import model as communications
from ..contacts import model as contacts
from ..db import transaction
from ..email import queries as mail
from ..fundraising import store as grid
from . import edges, entities

HALF_LIFE_DAYS = 90          # a relationship untouched this long is worth half as much
FREQUENCY_SATURATION = 50    # touches at which frequency stops adding (log-saturating before)
ONE_WAY = 0.5                # reciprocity of one-way contact; mail both ways in balance is 1
LEVELS = (0.02, 0.15, 0.35, 0.6)  # the score each level from 1 to 4 needs
TWO_WAY = frozenset(("call", "meeting"))   # a logged conversation counts both ways
REACHED_OUT = frozenset(("email", "text"))  # a logged email or text: the member wrote
# A logged note is about someone, not a touch with them: it does not count.


def score(sent: int, received: int, touches: int, last_day: date, today: date) -> dict:
    """{score, recency, frequency, reciprocity} (each rounded to 4 places) of a member's `touches`
    with an entity, the last on `last_day`; a two-way touch counts in both `sent` and `received`."""
    age = max(0, (today - last_day).days)
    recency = 0.5 ** (age / HALF_LIFE_DAYS)
    frequency = min(1.0, math.log1p(touches) / math.log1p(FREQUENCY_SATURATION))
    most = max(sent, received)
    reciprocity = ONE_WAY + (1 - ONE_WAY) * (min(sent, received) / most if most else 0)
    value = recency * frequency * reciprocity
    return {"score": round(value, 4), "recency": round(recency, 4), "frequency": round(frequency, 4),
            "reciprocity": round(reciprocity, 4)}


def level(weight: float) -> int:
    """0-4: how many of LEVELS the score reaches."""
    return sum(weight >= threshold for threshold in LEVELS)


# -- gathering touches -------------------------------------------------------------------------

def _touches(conn, members: dict) -> dict:
    """{(user id, entity id): {touch id: (direction, at)}} for active members, direction "out",
    "in" or "both". Keyed by touch, so an email to two of a person's addresses is one touch."""
    touches = defaultdict(dict)
    addresses = entities.linked(conn, "email_address")
    for user_id, email_id, address, outbound, sent_at in mail.correspondence(conn):
        entity_id = addresses.get(address)
        if entity_id and user_id in members:
            touches[(user_id, entity_id)]["m:" + email_id] = ("out" if outbound else "in", sent_at)
    people = entities.linked(conn, "contacts")
    for touch_id, contact_id, user_id, kind, at in communications.touches(conn):
        entity_id = people.get(contact_id)
        direction = "both" if kind in TWO_WAY else "out" if kind in REACHED_OUT else None
        if entity_id and user_id in members and direction:
            touches[(user_id, entity_id)]["c:" + touch_id] = (direction, at)
    return touches


def employments(conn, kinds: dict) -> dict:
    """{(person entity, organization entity): the source tables saying so}: a grid contact on an
    investor that is an organization, a classic contact naming its organization."""
    found = defaultdict(set)
    sources = (("fundraising_contacts", "fundraising_investors", grid.contact_investors(conn)),
               ("contacts", "organizations", contacts.employers(conn)))
    for person_table, org_table, pairs in sources:
        person_of, org_of = entities.linked(conn, person_table), entities.linked(conn, org_table)
        for person_source, org_source in pairs:
            person, org = person_of.get(person_source), org_of.get(org_source)
            if kinds.get(person) == "person" and kinds.get(org) == "organization":
                found[(person, org)].add(person_table)
    return found


def _with_organizations(touches: dict, works_at) -> dict:
    """The touches with each organization's people's added to its own; {(user, org): people} too."""
    orgs_of = defaultdict(list)
    for person, org in works_at:
        orgs_of[person].append(org)
    people = defaultdict(set)
    for (user_id, entity_id), found in list(touches.items()):
        for org in orgs_of.get(entity_id, ()):
            touches.setdefault((user_id, org), {}).update(found)
            people[(user_id, org)].add(entity_id)
    return people


def _edge(found: dict, today: date, people: int) -> tuple:
    """(weight, evidence, first_seen, last_seen) of one member's touches with one entity."""
    out = [at for direction, at in found.values() if direction in ("out", "both")]
    came = [at for direction, at in found.values() if direction in ("in", "both")]
    moments = [at for _, at in found.values()]
    first, last = min(moments), max(moments)
    parts = score(len(out), len(came), len(found), date.fromisoformat(last[:10]), today)
    evidence = {"sent": len(out), "received": len(came), "last_sent": max(out, default=None),
                "last_received": max(came, default=None),
                "emails": sum(touch.startswith("m:") for touch in found),
                "logged": sum(touch.startswith("c:") for touch in found),
                "level": level(parts["score"]), **{k: parts[k] for k in ("recency", "frequency", "reciprocity")}}
    if people:
        evidence["people"] = people
    return parts["score"], evidence, first, last


def compute(conn, today: date) -> dict:
    """What refresh stores, read in one pass: {"emailed": {...}, "works_at": {...}} as edges.replace takes them."""
    members = users.active_people(conn)
    kinds = entities.kinds(conn)
    touches = _touches(conn, members)
    touches = {key: found for key, found in touches.items() if key[1] in kinds}
    works_at = employments(conn, kinds)
    people = _with_organizations(touches, works_at)
    emailed = {key: _edge(found, today, len(people.get(key, ()))) for key, found in touches.items()}
    return {"emailed": emailed,
            "works_at": {pair: (1.0, {"via": sorted(via)}, None, None) for pair, via in works_at.items()},
            "members": len({user_id for user_id, _ in emailed})}


def store(conn, computed: dict) -> dict:
    """Write what `compute` found, inside the caller's transaction; the summary of what changed.
    The grid is told (its version moves) only when a score changed."""
    emailed = edges.replace(conn, "emailed", "user", computed["emailed"])
    works_at = edges.replace(conn, "works_at", "entity", computed["works_at"])
    changed = any(emailed[k] for k in ("added", "updated", "removed"))
    return {"emailed": emailed, "works_at": works_at, "members": computed["members"],
            "grid_version": grid.relationships_changed(conn) if changed else None}


def refresh(conn, today: date = None) -> dict:
    """Recompute and store every score (as of `today`, a UTC date; default now). Inside the caller's
    transaction if one is open; otherwise it reads in one read transaction and writes in a short
    BEGIN IMMEDIATE of its own, so the write lock is held only for the writing. The summary:
    {emailed: {added, updated, removed, unchanged}, works_at: {...}, members, grid_version, ms}."""
    started = time.monotonic()
    today = today or datetime.now(timezone.utc).date()
    if conn.in_transaction:
        summary = store(conn, compute(conn, today))
    else:
        conn.execute("BEGIN")  # every read from one snapshot of the database
        try:
            computed = compute(conn, today)
        finally:
            conn.execute("COMMIT")
        with transaction(conn):
            summary = store(conn, computed)
    return {**summary, "ms": round((time.monotonic() - started) * 1000)}


# -- reading scores ----------------------------------------------------------------------------

def connections(conn, entity_id: str) -> list:
    """An entity's team connections, strongest first: user_id, who (display name), weight, level,
    last_contact (YYYY-MM-DD), first_seen, last_seen, evidence. Active people only."""
    members = users.active_people(conn)
    found = [e for e in edges.into(conn, [entity_id], "emailed", "user") if e["from_id"] in members]
    found.sort(key=lambda e: (-e["weight"], _negated(e["last_seen"]), members[e["from_id"]].casefold()))
    return [{"user_id": e["from_id"], "who": members[e["from_id"]], "weight": e["weight"], "level": level(e["weight"]),
             "last_contact": e["last_seen"][:10] if e["last_seen"] else None, "first_seen": e["first_seen"],
             "last_seen": e["last_seen"], "evidence": e["evidence"]} for e in found]


def _negated(text) -> tuple:
    """A sort key that puts later ISO times first."""
    return tuple(-ord(ch) for ch in (text or ""))


def investor_levels(conn, investor_ids) -> dict:
    """The grid's Relationship cells (crm.hooks.relationship_levels): {investor id: {level, last_contact,
    who}} for the investors whose entity some active member has touched. level and who are the
    strongest member's; last_contact is the team's latest touch (YYYY-MM-DD)."""
    ids = list(investor_ids)
    if not ids:
        return {}
    members = users.active_people(conn)
    of = entities.linked(conn, "fundraising_investors", None if len(ids) > 500 else ids)
    wanted = set(ids)
    of = {investor: entity for investor, entity in of.items() if investor in wanted}
    best, latest = {}, {}
    for edge in edges.into(conn, set(of.values()), "emailed", "user"):
        if edge["from_id"] not in members:
            continue
        to = edge["to_id"]
        key = (edge["weight"], edge["last_seen"] or "", _negated(members[edge["from_id"]].casefold()))
        if to not in best or key > best[to][0]:
            best[to] = (key, edge["from_id"])
        latest[to] = max(latest.get(to) or "", edge["last_seen"] or "")
    return {investor: {"level": level(best[entity][0][0]), "last_contact": latest[entity][:10] or None,
                       "who": members[best[entity][1]]}
            for investor, entity in of.items() if entity in best}
