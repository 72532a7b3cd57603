"""POST /api/fundraising/log-communication: one action, two records.

A communication is written to the classic CRM against the row's linked
contact, and a dated line is appended to the row's Notes as an op, so the
grid's history shows it too.
"""
from .. import records
from ..clock import now_iso
from ..communications.model import COMMUNICATION, TYPES
from ..contacts.model import CONTACT
from ..errors import Conflict, Invalid
from ..validation import Body, Field
from . import ops

BODY = Body(
    Field("row_id", required=True, max_length=64),
    Field("contact_id", max_length=64, nullable=True, doc="a grid contact of the row (default: its first)"),
    Field("type", "enum", required=True, choices=TYPES),
    Field("subject", max_length=500, nullable=True),
    Field("body", "text", max_length=200_000, nullable=True),
    Field("communication_date", "datetime", doc="when it happened (default: now)"),
    Field("outcome", max_length=2000, nullable=True),
    Field("next_action", max_length=2000, nullable=True),
)


def _contact(batch, row, wanted):
    people = [p for c in batch.live_columns() if c.type == "contacts" for p in row["cells"].get(c.id) or []]
    if not people:
        raise Invalid({"row_id": "this row has no contacts; add one before logging a communication"})
    person = next((p for p in people if p["id"] == wanted), None) if wanted else people[0]
    if person is None:
        raise Invalid({"contact_id": "is not a contact of this row"})
    if not person.get("contact_id") or records.fetch(batch.conn, CONTACT, person["contact_id"]) is None:
        raise Conflict("this grid contact has no live CRM contact; re-enter its email to link it again")
    return person


def log_communication(req, data) -> dict:
    batch = ops.Batch(req.db, req, ops.current_version(req.db), req.app.presence, check_conflicts=False)
    row = batch.row(data["row_id"], "row_id")
    person = _contact(batch, row, data.get("contact_id"))
    when = data.get("communication_date") or now_iso()
    communication = records.insert(req.db, req, COMMUNICATION, {
        "contact_id": person["contact_id"], "type": data["type"], "subject": data.get("subject"), "body": data.get("body"),
        "communication_date": when, "outcome": data.get("outcome"), "next_action": data.get("next_action"), "attendees": []})
    notes = batch.key_column("notes")
    summary = data.get("subject") or next(iter((data.get("body") or "").strip().splitlines()), "")[:120]
    line = f"{when[:10]} {data['type'].title()} with {person.get('name') or person.get('email')}" + (f": {summary}" if summary else "") \
        + f" ({req.user['username']})"
    current = row["cells"].get(notes.id) or ""
    batch.set_cell(row["id"], notes.id, f"{current}\n{line}" if current else line, "notes", conflict_check=False)
    result = batch.finish()
    return {"communication": communication, "notes_line": line, "version": result["version"]}

