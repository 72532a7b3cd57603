"""The lp_profiles table: its fields, investor types and paperwork flags."""
from .. import records
from ..contacts.model import CONTACT
from ..db import change_mark
from ..validation import Body, Field

INVESTOR_TYPES = ("individual", "family_office", "institution", "fund_of_funds", "endowment", "foundation",
                  "pension", "corporate", "trust", "other")
ACCREDITATION_METHODS = ("income", "net_worth", "professional_certification", "entity_assets",
                         "knowledgeable_employee", "third_party_verification", "other")
FLAGS = ("accredited", "qualified_purchaser", "legal_docs_signed", "wire_received", "k1_sent")

LP_PROFILE = records.Kind(
    entity="lp_profile",
    table="lp_profiles",
    body=Body(
        Field("contact_id", required=True, max_length=64),
        Field("commitment_amount", "number", min=0, nullable=True),
        Field("funded_amount", "number", min=0, nullable=True),
        Field("investor_type", "enum", choices=INVESTOR_TYPES, nullable=True),
        *(Field(flag, "boolean") for flag in FLAGS),
        Field("accreditation_method", "enum", choices=ACCREDITATION_METHODS, nullable=True),
        Field("accreditation_date", "date", nullable=True),
        Field("notes", "text", max_length=50_000, nullable=True),
    ),
    bool_fields=frozenset(FLAGS),
    filters=("investor_type", "contact_id", *FLAGS),
    sorts=("commitment_amount", "funded_amount", "investor_type", "created_at", "updated_at"),
    references={"contact_id": "contacts"},
    search_columns=("notes",),
    search_related=(("contact_id", CONTACT),),
)


def for_index(conn) -> list:
    """Every live LP profile with notes, as the search index reads it: id, contact_id, notes, updated_at."""
    return [dict(r) for r in conn.execute(
        "SELECT id, contact_id, notes, updated_at FROM lp_profiles"
        " WHERE deleted_at IS NULL AND notes IS NOT NULL AND notes != '' ORDER BY id")]


def for_resolution(conn) -> list:
    """(id, contact_id) of every live LP profile: entity resolution links each to its contact's entity."""
    return [(r["id"], r["contact_id"]) for r in conn.execute(
        "SELECT id, contact_id FROM lp_profiles WHERE deleted_at IS NULL ORDER BY id")]


def contacts_of(conn, ids) -> dict:
    """{LP profile id: its contact id} of the live profiles among `ids`."""
    ids = [i for i in set(ids) if i]
    return {r["id"]: r["contact_id"] for r in records.live_rows(conn, "lp_profiles", ids, "id, contact_id")}


def every_amount(conn) -> list:
    """Every commitment and funded amount of every LP profile (deleted ones too), for redaction."""
    return [amount for r in conn.execute("SELECT commitment_amount, funded_amount FROM lp_profiles")
            for amount in (r["commitment_amount"], r["funded_amount"]) if amount is not None]


def amounts_mark(conn) -> tuple:
    """What changes whenever a row of lp_profiles is added, edited or removed (db.change_mark)."""
    return change_mark(conn, "lp_profiles")
