"""What the search index holds: chunks of the CRM's prose, each with a deterministic point id.

Sources (read only through their owners' functions):
- `communications`: one chunk per live communication (subject, body, outcome, next action);
- `emails`: one per matched email a mailbox still holds (subject and its own text: quoted
  replies, greetings and the signature left out, by `crm.email.proposals.own_text`);
- `fundraising_investors`: one per dated entry of a grid row's Notes (a line starting with a date,
  with the undated lines after it; undated lines before the first date make one entry, undated);
- `contacts`, `lp_profiles`, `organizations`, `opportunities`: one per free-text field (contact
  notes, LP profile notes, organization description, opportunity description and next step).

A text longer than MAX_CHARS is split at line breaks (then words) into several chunks. The chunks
of one source record are numbered 0, 1, ... in that order; a chunk's point id is
uuid5(NAMESPACE, "<source_table>:<source_id>:<index>"), so the same record always lands on the
same points. Only the prose is embedded (`text`); ids, names, type, date and confidence are
payload, for filters and for showing a hit.
"""
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..clock import parse_iso
from ..communications.model import for_index as communications_for_index
from ..contacts.model import for_index as contacts_for_index
from ..email.proposals import own_text
from ..email.queries import matched_for_index
from ..fundraising.store import investor_names, notes_for_index
from ..lp_profiles.model import for_index as lp_profiles_for_index
from ..opportunities.model import for_index as opportunities_for_index
from ..organizations.model import for_index as organizations_for_index
from . import entities

# Fixed forever: changing it would move every point (a full re-ingest).
NAMESPACE = uuid.UUID("5b0c7c1e-3f0a-5d5e-9a43-8f2b6c0d2e71")
MAX_CHARS = 4000   # ~1,000 tokens: well inside bge-m3's window, and one topic per chunk
TITLE_CHARS = 120

TYPES = ("communication", "email", "grid_note", "contact_note", "lp_note", "organization_description",
         "opportunity_description", "opportunity_next_step")

# A Notes entry starts with a date: 2026-06-15 (what the CRM itself appends) or 6/15/2026 (pasted logs).
ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\b[\s:—–-]*")
US_DAY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b[\s:—–-]*")


@dataclass
class Chunk:
    id: str
    text: str
    payload: dict
    refs: list = field(default_factory=list, repr=False)  # (source_table, source_id) its entities come from

    @property
    def content_hash(self) -> str:
        return self.payload["content_hash"]


def point_id(source_table: str, source_id: str, index: int) -> str:
    """The deterministic Qdrant point id of a source record's `index`-th chunk."""
    return str(uuid.uuid5(NAMESPACE, f"{source_table}:{source_id}:{index}"))


def digest(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def collect(conn) -> list:
    """Every chunk the CRM holds now, entity ids resolved, in a stable order."""
    people = {c["id"]: c for c in contacts_for_index(conn)}
    orgs = {o["id"]: o for o in organizations_for_index(conn)}
    found = [*_communications(conn, people, orgs), *_emails(conn), *_grid_notes(conn, orgs),
             *_contact_notes(people, orgs), *_lp_notes(conn, people), *_organizations(orgs),
             *_opportunities(conn, people, orgs)]
    _resolve(conn, found)
    return found


# -- the sources -------------------------------------------------------------------------------------

def _communications(conn, people: dict, orgs: dict):
    for c in communications_for_index(conn):
        person = people.get(c["contact_id"])
        org_id = person["organization_id"] if person else None
        who = _person_name(person)
        text = _lines(c["subject"], c["body"], c["outcome"] and f"Outcome: {c['outcome']}",
                      c["next_action"] and f"Next: {c['next_action']}")
        title = f"{c['type'].title()} with {who or 'a contact'}" + (f": {c['subject']}" if c["subject"] else "")
        yield from _pieces("communications", c["id"], "communication", text, {
            "title": title, "names": _names(who, _org_name(orgs, org_id)), "date_ts": _epoch(c["communication_date"]),
            "confidence": 1.0, "communication_type": c["type"],
            "link": f"/contacts/{c['contact_id']}", "api": f"/api/communications/{c['id']}"},
            [("contacts", c["contact_id"]), ("organizations", org_id)])


def _emails(conn):
    found = matched_for_index(conn)
    investors = investor_names(conn, {link["fundraising_investor_id"] for e in found for link in e["links"]
                                      if link["fundraising_investor_id"]})
    for e in found:
        own = own_text(e["body_text"]) if e["body_text"] else (e["snippet"] or "")
        text = _lines(e["subject"], own)
        links = e["links"]
        refs = [(table, link[column]) for link in links for column, table in (
            ("fundraising_investor_id", "fundraising_investors"), ("fundraising_contact_id", "fundraising_contacts"),
            ("contact_id", "contacts"), ("organization_id", "organizations"))]
        refs += [("email_address", address.lower()) for address in {e["from_email"], *(l["address"] for l in links)} if address]
        names = _names(e["from_name"], *(investors.get(link["fundraising_investor_id"]) for link in links))
        yield from _pieces("emails", e["id"], "email", text, {
            "title": f"Email: {e['subject'] or '(no subject)'}", "names": names, "date_ts": _epoch(e["sent_at"]),
            "confidence": max((link["confidence"] for link in links), default=0.0), "thread_id": e["thread_id"],
            "link": f"/api/email/threads/{e['thread_id']}", "api": f"/api/email/threads/{e['thread_id']}"}, refs)


def _grid_notes(conn, orgs: dict):
    for investor in notes_for_index(conn):
        name = investor["name"] or investor["organization"] or "(unnamed investor)"
        refs = [("fundraising_investors", investor["id"]), ("organizations", investor["organization_id"])]
        index = 0
        for day, text in note_entries(investor["notes"]):
            for piece in split(text):
                yield _chunk("fundraising_investors", investor["id"], index, "grid_note", piece, {
                    "title": f"Notes of {name}" + (f", {day}" if day else ""),
                    "names": _names(investor["name"], investor["organization"], _org_name(orgs, investor["organization_id"])),
                    "date_ts": _day_epoch(day) if day else None, "confidence": 1.0,
                    "link": f"/api/fundraising/rows/{investor['id']}", "api": f"/api/fundraising/rows/{investor['id']}"},
                    refs)
                index += 1


def _contact_notes(people: dict, orgs: dict):
    for person in people.values():
        who = _person_name(person)
        yield from _pieces("contacts", person["id"], "contact_note", person["notes"], {
            "title": f"Notes on {who}", "names": _names(who, _org_name(orgs, person["organization_id"])),
            "date_ts": _epoch(person["updated_at"]), "confidence": 1.0,
            "link": f"/contacts/{person['id']}", "api": f"/api/contacts/{person['id']}"},
            [("contacts", person["id"]), ("organizations", person["organization_id"])])


def _lp_notes(conn, people: dict):
    for profile in lp_profiles_for_index(conn):
        who = _person_name(people.get(profile["contact_id"]))
        yield from _pieces("lp_profiles", profile["id"], "lp_note", profile["notes"], {
            "title": f"LP profile notes of {who or 'a contact'}", "names": _names(who),
            "date_ts": _epoch(profile["updated_at"]), "confidence": 1.0,
            "link": f"/contacts/{profile['contact_id']}", "api": f"/api/lp-profiles/{profile['id']}"},
            [("lp_profiles", profile["id"]), ("contacts", profile["contact_id"])])


def _organizations(orgs: dict):
    for org in orgs.values():
        yield from _pieces("organizations", org["id"], "organization_description", org["description"], {
            "title": f"About {org['name']}", "names": _names(org["name"]), "date_ts": _epoch(org["updated_at"]),
            "confidence": 1.0, "link": f"/organizations/{org['id']}", "api": f"/api/organizations/{org['id']}"},
            [("organizations", org["id"])])


def _opportunities(conn, people: dict, orgs: dict):
    for opp in opportunities_for_index(conn):
        person = people.get(opp["contact_id"])
        org_id = opp["organization_id"] or (person["organization_id"] if person else None)
        who, org = _person_name(person), _org_name(orgs, org_id)
        deal = f"{opp['fund_name'] or 'Opportunity'} with {org or who or 'a contact'}"
        common = {"names": _names(who, org), "date_ts": _epoch(opp["updated_at"]), "confidence": 1.0,
                  "link": f"/opportunities/{opp['id']}", "api": f"/api/opportunities/{opp['id']}"}
        refs = [("contacts", opp["contact_id"]), ("organizations", org_id)]
        index = 0
        for kind, label, text in (("opportunity_description", "", opp["description"]),
                                  ("opportunity_next_step", "next step: ", opp["next_step"])):
            for piece in split(text):
                yield _chunk("opportunities", opp["id"], index, kind, piece,
                             {**common, "title": f"{deal}" + (f" ({label.rstrip(': ')})" if label else "")}, refs)
                index += 1


# -- building chunks ---------------------------------------------------------------------------------

def _pieces(source_table, source_id, kind, text, meta: dict, refs: list):
    for index, piece in enumerate(split(text)):
        yield _chunk(source_table, source_id, index, kind, piece, meta, refs)


def _chunk(source_table, source_id, index, kind, text, meta: dict, refs: list) -> Chunk:
    payload = {"source_table": source_table, "source_id": source_id, "chunk_index": index, "type": kind,
               **meta, "title": _cut(" ".join(meta["title"].split()), TITLE_CHARS), "text": text,
               "content_hash": digest(text)}
    return Chunk(point_id(source_table, source_id, index), text, payload, [r for r in refs if r[1]])


def _resolve(conn, found: list) -> None:
    """Set each chunk's canonical entity ids (merges followed; empty when nothing is resolved yet)
    and the hash of its payload without the text (a relinked chunk is updated, not re-embedded)."""
    wanted = {}
    for chunk in found:
        for table, source_id in chunk.refs:
            wanted.setdefault(table, set()).add(source_id)
    linked = {table: entities.entities_of(conn, table, sorted(ids)) for table, ids in wanted.items()}
    canonical = {}

    def current(entity_id):
        if entity_id not in canonical:
            entity = entities.current(conn, entity_id)
            canonical[entity_id] = entity["id"] if entity else None
        return canonical[entity_id]

    for chunk in found:
        ids = (current(linked[table][source_id]) for table, source_id in chunk.refs if source_id in linked[table])
        chunk.payload["entity_ids"] = sorted({i for i in ids if i})
        chunk.payload["meta_hash"] = digest({k: v for k, v in chunk.payload.items()
                                             if k not in ("text", "content_hash", "meta_hash")})


def note_entries(notes: str) -> list:
    """[(day "YYYY-MM-DD" or None, text)] of a Notes cell: a line starting with a date opens an
    entry (the date and its separator are not part of the text), undated lines continue it."""
    entries = []
    for raw in (notes or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        day, rest = _dated(line)
        if day or not entries:
            entries.append([day, [rest] if rest else []])
        else:
            entries[-1][1].append(line)
    return [(day, "\n".join(lines)) for day, lines in entries if lines]


def _dated(line: str) -> tuple:
    match = ISO_DAY.match(line)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = US_DAY.match(line)
        if not match:
            return None, line
        month, day, year = (int(g) for g in match.groups())
        year += 2000 if year < 100 else 0
    try:
        return datetime(year, month, day).strftime("%Y-%m-%d"), line[match.end():].strip()
    except ValueError:  # 2026-13-45 is not a date: the line is text
        return None, line


def split(text) -> list:
    """`text` (whitespace-trimmed lines) in pieces of at most MAX_CHARS, cut at line breaks, then
    at words; [] for no text."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    pieces, current = [], ""
    for line in lines:
        while len(line) > MAX_CHARS:
            head = line[:MAX_CHARS].rsplit(" ", 1)[0] or line[:MAX_CHARS]
            pieces, current = _flush(pieces, current), ""
            pieces.append(head)
            line = line[len(head):].strip()
        if current and len(current) + 1 + len(line) > MAX_CHARS:
            pieces, current = _flush(pieces, current), ""
        current = f"{current}\n{line}" if current else line
    return _flush(pieces, current)


def _flush(pieces: list, current: str) -> list:
    return pieces + [current] if current else pieces


def _lines(*parts) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _person_name(person) -> str:
    return " ".join(p for p in (person["first_name"], person["last_name"]) if p) if person else ""


def _org_name(orgs: dict, org_id):
    org = orgs.get(org_id) if org_id else None
    return org["name"] if org else None


def _names(*names) -> list:
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def _epoch(text):
    if not text:
        return None
    try:
        return int(parse_iso(text).timestamp())
    except ValueError:
        return None


def _day_epoch(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
