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
import gc
import math
import threading
import time
from collections import defaultdict
from functools import lru_cache
from datetime import date, datetime, timezone

from .. import audit
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
WRITE_CHUNK = 20_000  # edges written per transaction when refresh holds its own: about 0.2 s of write lock each
_refreshing = threading.Lock()


@lru_cache(maxsize=65536)  # most pairs share their counts and last day with many others: computed once
def score(sent: int, received: int, touches: int, last_day: date, today: date) -> dict:
    """{score, recency, frequency, reciprocity} (each rounded to 4 places) of a member's `touches`
    with an entity, the last on `last_day`; a two-way touch counts in both `sent` and `received`.
    The answer is shared (cached): do not change it."""
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
    """(weight, evidence, first_seen, last_seen) of one member's touches with one entity. One pass
    over the touches: a refresh makes this of every (member, entity) pair, 170,000 at 50,000 contacts."""
    sent = received = emails = 0
    last_sent = last_received = first = last = None
    for touch, (direction, at) in found.items():
        if direction != "in":
            sent += 1
            if last_sent is None or at > last_sent:
                last_sent = at
        if direction != "out":
            received += 1
            if last_received is None or at > last_received:
                last_received = at
        if first is None or at < first:
            first = at
        if last is None or at > last:
            last = at
        emails += touch[0] == "m"
    parts = score(sent, received, len(found), date(int(last[:4]), int(last[5:7]), int(last[8:10])), today)
    evidence = {"sent": sent, "received": received, "last_sent": last_sent, "last_received": last_received,
                "emails": emails, "logged": len(found) - emails, "level": level(parts["score"]),
                "recency": parts["recency"], "frequency": parts["frequency"], "reciprocity": parts["reciprocity"]}
    if people:
        evidence["people"] = people
    return parts["score"], evidence, first, last


def compute(conn, today: date) -> dict:
    """What refresh stores, read in one pass: {"emailed": {...}, "works_at": {...}} as edges.changes takes them, and members."""
    members = users.active_people(conn)
    kinds = entities.kinds(conn)
    touches = _touches(conn, members)
    touches = {key: found for key, found in touches.items() if key[1] in kinds}
    works_at = employments(conn, kinds)
    people = _with_organizations(touches, works_at)
    emailed = {key: _edge(found, today, len(people.get(key, ()))) for key, found in touches.items()}
    via_text = {}  # a handful of distinct evidences for tens of thousands of works_at edges: encoded once each
    for via in works_at.values():
        key = tuple(sorted(via))
        if key not in via_text:
            via_text[key] = edges.evidence_text({"via": list(key)})
    return {"emailed": emailed,
            "works_at": {pair: (1.0, via_text[tuple(sorted(via))], None, None) for pair, via in works_at.items()},
            "members": len({user_id for user_id, _ in emailed})}


def _finish(conn, found: dict, members: int, req) -> dict:
    """The summary; the grid told (its version moves) when a score changed; the audit entry when a
    request asked. In the last write transaction."""
    changed = edges.size(found["emailed"]) > 0
    summary = {"emailed": edges.counts(found["emailed"]), "works_at": edges.counts(found["works_at"]),
               "members": members, "grid_version": grid.relationships_changed(conn) if changed else None}
    if req is not None:
        audit.record(conn, req, "relationships", None, "refresh",
                     {kind: summary[kind] for kind in ("emailed", "works_at")})
    return summary


def refresh(conn, today: date = None, req=None) -> dict:
    """Recompute and store every score (as of `today`, a UTC date; default now); with `req`, audited
    as its actor's. Inside the caller's transaction if one is open. Otherwise it reads in one read
    transaction and writes in short BEGIN IMMEDIATEs of WRITE_CHUNK rows each, so the write lock is
    never held for long (the day's first refresh rewrites nearly every score). The summary:
    {emailed: {added, updated, removed, unchanged}, works_at: {...}, members, grid_version, ms}."""
    started = time.monotonic()
    today = today or datetime.now(timezone.utc).date()
    # A refresh makes hundreds of thousands of small dicts and tuples, none in a cycle: the cyclic
    # collector's passes over them were a quarter of its time at 50,000 contacts. Off meanwhile.
    collecting = gc.isenabled()
    with _refreshing:  # one at a time in a process (after a sync, the admin route): each diffs against the last
        gc.disable()
        try:
            summary = _refresh(conn, today, req)
        finally:
            if collecting:
                gc.enable()
    return {**summary, "ms": round((time.monotonic() - started) * 1000)}


def _refresh(conn, today: date, req) -> dict:
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # every read from one snapshot of the database
    try:
        computed = compute(conn, today)
        found = {"emailed": edges.changes(conn, "emailed", "user", computed["emailed"]),
                 "works_at": edges.changes(conn, "works_at", "entity", computed["works_at"])}
    finally:
        if own:
            conn.execute("COMMIT")
    if not own:
        for part in found.values():
            edges.write(conn, part)
        return _finish(conn, found, computed["members"], req)
    for part in found.values():
        for start in range(0, edges.size(part), WRITE_CHUNK):
            with transaction(conn):
                edges.write(conn, part, start, start + WRITE_CHUNK)
    with transaction(conn):
        return _finish(conn, found, computed["members"], req)


# -- reading scores ----------------------------------------------------------------------------

def _negated(text) -> tuple:
    """A sort key that puts later ISO times first."""
    return tuple(-ord(ch) for ch in (text or ""))


def investor_levels(conn, investor_ids) -> dict:
    """The grid's Relationship cells (crm.hooks.relationship_levels): {investor id: {level, last_contact,
    who}} for the investors whose entity some active member has touched. level and who are the
    strongest member's (ties: the latest contact, then the name); last_contact is the team's latest
    touch (YYYY-MM-DD)."""
    ids = list(investor_ids)
    if not ids:
        return {}
    members = users.active_people(conn)
    wanted = set(ids)
    of = {investor: entity for investor, entity in
          entities.linked(conn, "fundraising_investors", None if len(ids) > 500 else ids).items() if investor in wanted}
    best, latest = {}, {}
    for to, user_id, weight, last_seen in edges.weights_into(conn, set(of.values()), "emailed", "user"):
        name = members.get(user_id)
        if name is None:
            continue
        key = (weight, last_seen or "", _negated(name.casefold()))
        if to not in best or key > best[to][0]:
            best[to] = (key, name)
        if last_seen and last_seen > latest.get(to, ""):
            latest[to] = last_seen
    return {investor: {"level": level(best[entity][0][0]), "last_contact": latest[entity][:10] if entity in latest else None,
                       "who": best[entity][1]}
            for investor, entity in of.items() if entity in best}
