"""What one digest reports, gathered for its window; crm.digest.compose writes the words.

Three views of the same captured mail:
  people     each active team member with a mailbox: their mail in the window (in their Sent or
             not: per mailbox), grouped by investor;
  investors  the window re-pivoted across the team: each email counted once however many
             mailboxes hold it, its direction the email's own (from one of our mailboxes or not);
  cold       investors with something open (a commitment to an unclosed fund, an open
             opportunity) whom nobody has emailed for `cold_after_days`, strongest team
             connection first.
"Investor" is whom an email's link names: the grid investor, else the live classic
organization, else the live classic contact, else the address it matched (a deleted
organization or contact falls back to the address).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..auth import users
from ..clock import iso, parse_iso
from ..contacts.model import live_names as contact_names
from ..email import window
from ..fundraising.store import investor_names, investors_with_open_interest
from ..opportunities.model import open_parties
from ..organizations.model import live_names as organization_names
from .schedule import LATE_CAPTURE

COLD_SHOWN = 25                        # going-cold lines in one digest; the rest are counted
CONNECTION_WINDOW = timedelta(days=365)  # how far back "strongest connection" looks


@dataclass
class Mail:
    id: str
    subject: str
    text: str          # the body's start, else the snippet
    sent_at: str
    outbound: bool     # the email's direction: from one of our mailboxes
    parties: list      # [(key, name)]


@dataclass
class Dealings:
    """One person's (or the team's) mail with one investor."""
    name: str
    sent: int = 0
    received: int = 0
    mails: list = field(default_factory=list)  # [(Mail, sent by this person)]
    people: set = field(default_factory=set)   # the team members on it (team view)


@dataclass
class Person:
    user_id: str
    name: str
    sent: int = 0
    received: int = 0
    investors: dict = field(default_factory=dict)  # key -> Dealings

    @property
    def email_count(self) -> int:
        return self.sent + self.received


@dataclass
class Cold:
    id: str
    name: str
    committed: float
    last_at: str | None         # the latest email with them, if any
    days: int | None            # since then
    connection: str | None      # the team member who knows them best
    connection_emails: int = 0
    both_ways: bool = False


@dataclass
class Activity:
    since: datetime
    until: datetime
    people: list      # [Person], every active member with a mailbox, in sign-up order
    investors: list   # [(key, Dealings)], most email first
    cold: list        # [Cold], strongest connection first, at most COLD_SHOWN
    cold_more: int    # going cold but not shown
    email_count: int
    cold_after_days: int


def collect(conn, since: datetime, until: datetime, cold_after_days: int, today: str) -> Activity:
    mails = _mails(conn, since, until)
    seen = window.sightings(conn, list(mails))
    people = _people(conn, mails, seen)
    held = {s["email_id"] for s in seen if s["user_id"] in people}
    mails = {i: m for i, m in mails.items() if i in held}  # mail only deactivated members hold is not the team's
    investors = _team_view(mails, seen, people)
    cold, more = going_cold(conn, until, cold_after_days, today, people)
    return Activity(since, until, list(people.values()), investors, cold, more, len(mails), cold_after_days)


def _mails(conn, since, until) -> dict:
    found = window.emails_captured(conn, iso(since), iso(until), sent_after=iso(since - LATE_CAPTURE))
    ids = [e["id"] for e in found]
    parties = _parties(conn, window.links(conn, ids))
    return {e["id"]: Mail(e["id"], e["subject"] or "(no subject)", (e["body"] or e["snippet"] or "").strip(),
                          e["sent_at"], bool(e["outbound"]), parties.get(e["id"], [])) for e in found}


def _parties(conn, links: list) -> dict:
    """{email id: [(key, name)]}: whom each email is with, each once."""
    investors = investor_names(conn, {l["fundraising_investor_id"] for l in links if l["fundraising_investor_id"]})
    organizations = organization_names(conn, [l["organization_id"] for l in links])
    contacts = contact_names(conn, [l["contact_id"] for l in links])
    found = {}
    for link in links:
        party = _party(link, investors, organizations, contacts)
        chosen = found.setdefault(link["email_id"], [])
        if party not in chosen:
            chosen.append(party)
    return found


def _party(link, investors, organizations, contacts) -> tuple:
    if link["fundraising_investor_id"] in investors:
        return "investor:" + link["fundraising_investor_id"], investors[link["fundraising_investor_id"]] or link["address"]
    if link["organization_id"] in organizations:
        return "organization:" + link["organization_id"], organizations[link["organization_id"]]
    if link["contact_id"] in contacts:
        return "contact:" + link["contact_id"], contacts[link["contact_id"]] or link["address"]
    return "address:" + link["address"], link["address"]


def _people(conn, mails: dict, seen: list) -> dict:
    active = users.active_people(conn)
    owners = window.mailbox_owners(conn)
    people = {uid: Person(uid, name) for uid, name in active.items() if uid in owners}
    for sighting in seen:
        person = people.get(sighting["user_id"])
        if person is None:  # a deactivated member's mailbox
            continue
        mail, sent = mails[sighting["email_id"]], bool(sighting["is_sent"])
        person.sent += sent
        person.received += not sent
        for key, name in mail.parties:
            dealings = person.investors.setdefault(key, Dealings(name))
            dealings.sent += sent
            dealings.received += not sent
            dealings.mails.append((mail, sent))
    return people


def _team_view(mails: dict, seen: list, people: dict) -> list:
    holders = {}
    for sighting in seen:
        if sighting["user_id"] in people:
            holders.setdefault(sighting["email_id"], set()).add(people[sighting["user_id"]].name)
    team = {}
    for mail in mails.values():
        for key, name in mail.parties:
            dealings = team.setdefault(key, Dealings(name))
            dealings.sent += mail.outbound
            dealings.received += not mail.outbound
            dealings.mails.append((mail, mail.outbound))
            dealings.people |= holders[mail.id]
    return sorted(team.items(), key=lambda kv: (-(kv[1].sent + kv[1].received), kv[1].name.casefold(), kv[0]))


def going_cold(conn, now: datetime, cold_after_days: int, today: str, people: dict) -> tuple:
    """([Cold] shown, how many more): off when cold_after_days is 0 or no active member's mailbox
    is captured (`people`: without mail there is nothing to judge by)."""
    if not cold_after_days or not people:
        return [], 0
    open_contacts, open_organizations = open_parties(conn)
    candidates = investors_with_open_interest(conn, today, open_contacts, open_organizations)
    last = window.last_contact(conn, [c["id"] for c in candidates], iso(now))
    cutoff = iso(now - timedelta(days=cold_after_days))
    cold = {c["id"]: Cold(c["id"], c["name"] or "(unnamed investor)", c["committed"], last.get(c["id"]),
                          _days_since(now, last.get(c["id"])), None)
            for c in candidates if last.get(c["id"]) is None or last[c["id"]] < cutoff}
    best = {}
    for t in window.team_contact(conn, list(cold), iso(now - CONNECTION_WINDOW), iso(now)):
        if t["user_id"] not in people:
            continue
        score = t["sent"] + t["received"] + min(t["sent"], t["received"])  # both ways counts more than one way
        if score > best.get(t["investor_id"], (0,))[0]:
            best[t["investor_id"]] = (score, t)
    for investor_id, (score, t) in best.items():
        found = cold[investor_id]
        found.connection = people[t["user_id"]].name
        found.connection_emails, found.both_ways = t["sent"] + t["received"], bool(t["sent"] and t["received"])
    ranked = sorted(cold.values(), key=lambda c: (-best.get(c.id, (0,))[0], -(c.committed or 0), c.name.casefold(), c.id))
    return ranked[:COLD_SHOWN], max(0, len(ranked) - COLD_SHOWN)


def _days_since(now: datetime, at) -> int | None:
    return None if at is None else max(0, (now - parse_iso(at)).days)
