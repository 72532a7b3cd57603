"""The opportunities table: its fields and the pipeline stages."""
from .. import records
from ..contacts.model import CONTACT
from ..db import change_mark
from ..validation import Body, Field

# In pipeline order; enforced on every write, not only on the stage route.
PIPELINE_STAGES = ("prospect", "contacted", "meeting", "due_diligence", "soft_commit", "committed", "closed", "lost")
OPEN_STAGES = PIPELINE_STAGES[:-2]  # neither closed nor lost
AMOUNT = dict(type="number", min=0, nullable=True)

OPPORTUNITY = records.Kind(
    entity="opportunity",
    table="opportunities",
    body=Body(
        Field("contact_id", required=True, max_length=64),
        Field("organization_id", nullable=True, max_length=64),
        Field("fund_name", max_length=200, nullable=True),
        Field("stage", "enum", choices=PIPELINE_STAGES),
        Field("expected_amount", **AMOUNT),
        Field("commitment_amount", **AMOUNT),
        Field("probability", "integer", min=0, max=100, nullable=True, doc="percent"),
        Field("owner_id", nullable=True, max_length=64, doc="a user id"),
        Field("next_step", max_length=2000, nullable=True),
        Field("lost_reason", max_length=2000, nullable=True),
        Field("description", "text", max_length=20_000, nullable=True),
    ),
    filters=("stage", "contact_id", "organization_id", "owner_id", "fund_name"),
    sorts=("stage", "fund_name", "expected_amount", "commitment_amount", "probability", "created_at", "updated_at"),
    search_columns=("fund_name", "next_step", "description"),
    search_related=(("contact_id", CONTACT),),
    references={"contact_id": "contacts", "organization_id": "organizations", "owner_id": "users"},
)


def open_parties(conn) -> tuple:
    """(contact ids, organization ids) of live opportunities still open (neither closed nor lost)."""
    found = conn.execute(
        f"SELECT o.contact_id, o.organization_id FROM opportunities o JOIN contacts c ON c.id = o.contact_id"
        f" WHERE o.deleted_at IS NULL AND c.deleted_at IS NULL AND o.stage IN ({','.join('?' * len(OPEN_STAGES))})",
        OPEN_STAGES).fetchall()
    return {r["contact_id"] for r in found}, {r["organization_id"] for r in found if r["organization_id"]}


def for_index(conn) -> list:
    """Every live opportunity, as the search index reads it: id, contact_id, organization_id,
    fund_name, stage, description, next_step, updated_at."""
    return [dict(r) for r in conn.execute(
        "SELECT id, contact_id, organization_id, fund_name, stage, description, next_step, updated_at"
        " FROM opportunities WHERE deleted_at IS NULL ORDER BY id")]


def every_amount(conn) -> list:
    """Every expected and commitment amount of every opportunity (deleted ones too), for redaction."""
    return [amount for r in conn.execute("SELECT expected_amount, commitment_amount FROM opportunities")
            for amount in (r["expected_amount"], r["commitment_amount"]) if amount is not None]


def amounts_mark(conn) -> tuple:
    """What changes whenever a row of opportunities is added, edited or removed (db.change_mark)."""
    return change_mark(conn, "opportunities")
