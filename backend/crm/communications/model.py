"""The communications table: its fields and how their dates are stored."""
from .. import records
from ..clock import iso, parse_iso
from ..errors import Invalid
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


def for_index(conn) -> list:
    """Every live communication, as the search index reads it (crm.ingest.chunks): id, contact_id,
    opportunity_id, type, subject, body, outcome, next_action, communication_date, in id order."""
    return [dict(r) for r in conn.execute(
        "SELECT id, contact_id, opportunity_id, type, subject, body, outcome, next_action, communication_date"
        " FROM communications WHERE deleted_at IS NULL ORDER BY id")]


TOUCH_COLUMNS = ("id", "contact_id", "created_by", "type", "communication_date")


def touches(conn) -> list:
    """(id, contact_id, user_id, type, communication_date) of every live communication a user logged:
    who on the team was in touch with which contact, how and when (never its subject, body or outcome)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(f"SELECT {', '.join(TOUCH_COLUMNS)} FROM communications"
                          " WHERE deleted_at IS NULL AND created_by IS NOT NULL").fetchall()
