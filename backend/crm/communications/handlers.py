"""Communications: notes, calls, emails, meetings and texts logged against a contact."""
from .. import records
from ..clock import iso, parse_iso
from ..db import transaction
from ..errors import Invalid
from ..http.responses import Created
from ..validation import Body, Field

TYPES = ("note", "call", "email", "meeting", "text")


def utc_text(value: str) -> str:
    """Any accepted ISO-8601 form → clock.iso's UTC text. Sorting, since/until and the reports
    compare these as strings, which is only time order when every value has the same form."""
    moment = parse_iso(value)
    if not 1900 <= moment.year <= 9000:  # also keeps the UTC shift in range and the year four digits
        raise ValueError("must be between the years 1900 and 9000")
    return iso(moment)


def _normalise(data: dict) -> None:
    if data.get("communication_date"):
        try:
            data["communication_date"] = utc_text(data["communication_date"])
        except ValueError as exc:
            raise Invalid({"communication_date": str(exc)}) from None


COMMUNICATION = records.Kind(
    entity="communication",
    table="communications",
    body=Body(
        Field("contact_id", required=True, max_length=64),
        Field("opportunity_id", nullable=True, max_length=64),
        Field("type", "enum", required=True, choices=TYPES),
        Field("subject", max_length=500, nullable=True),
        Field("body", "text", max_length=200_000, nullable=True),
        Field("communication_date", "datetime", required=True, doc="when it happened"),
        Field("outcome", max_length=2000, nullable=True),
        Field("next_action", max_length=2000, nullable=True),
        Field("attendees", "array", items="string"),
    ),
    json_fields=frozenset({"attendees"}),
    filters=("type", "contact_id", "opportunity_id", "created_by"),
    sorts=("communication_date", "type", "created_at", "updated_at"),
    default_sort="-communication_date",
    fts="communications_fts",
    search_columns=("subject", "body"),
    references={"contact_id": "contacts", "opportunity_id": "opportunities"},
    normalise=_normalise,
)


def _check_opportunity_belongs(conn, data: dict, current: dict = None) -> None:
    merged = {**(current or {}), **data}
    if merged.get("opportunity_id"):
        owner = conn.execute("SELECT contact_id FROM opportunities WHERE id = ?", (merged["opportunity_id"],)).fetchone()
        if owner and owner["contact_id"] != merged["contact_id"]:
            raise Invalid({"opportunity_id": "belongs to another contact"})


def list_communications(req):
    """Communications: search `q` (subject, body), filters, `since`/`until` on the event date; paginated."""
    where, params = [], []
    for name, op in (("since", ">="), ("until", "<")):
        if req.query.get(name):
            try:
                moment = utc_text(req.query[name])
            except ValueError:
                raise Invalid({name: "must be an ISO-8601 date or date-time"}) from None
            where.append(f"communications.communication_date {op} ?")
            params.append(moment)
    return records.list_page(req, COMMUNICATION, where, params)


def create_communication(req):
    """Log a communication."""
    data = records.clean(req, COMMUNICATION)
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data)
        return Created(records.insert(req.db, req, COMMUNICATION, data))


def get_communication(req):
    """One communication."""
    return records.require(req.db, COMMUNICATION, req.params["id"], records.include_deleted(req))


def replace_communication(req):
    """Replace every field of a communication."""
    data = records.full_record(COMMUNICATION, records.clean(req, COMMUNICATION))
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data)
        return records.update(req.db, req, COMMUNICATION, req.params["id"], data)


def patch_communication(req):
    """Change some fields of a communication."""
    data = records.clean(req, COMMUNICATION, partial=True)
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data, records.require(req.db, COMMUNICATION, req.params["id"]))
        return records.update(req.db, req, COMMUNICATION, req.params["id"], data)


def delete_communication(req):
    """Soft-delete a communication."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, COMMUNICATION, req.params["id"])


def restore_communication(req):
    """Restore a deleted communication (its contact must be live)."""
    with transaction(req.db):
        return records.restore(req.db, req, COMMUNICATION, req.params["id"])[0]
