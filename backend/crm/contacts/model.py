"""The contacts table: its fields and the rules other features call."""
import json

from .. import records
from ..db import change_mark
from ..validation import Body, Field

CONTACT_TYPES = ("prospect", "investor", "advisor", "service_provider", "other")
STATUSES = ("active", "inactive", "do_not_contact")

CONTACT = records.Kind(
    entity="contact",
    table="contacts",
    body=Body(
        Field("first_name", required=True, max_length=120),
        Field("last_name", required=True, max_length=120),
        Field("email", "email", max_length=254, nullable=True),
        Field("other_emails", "array", items="email"),
        Field("phone", max_length=60, nullable=True),
        Field("title", max_length=200, nullable=True),
        Field("organization_id", nullable=True, max_length=64),
        Field("contact_type", "enum", choices=CONTACT_TYPES),
        Field("status", "enum", choices=STATUSES),
        Field("source", max_length=200, nullable=True),
        Field("tags", "array", items="string"),
        Field("notes", "text", max_length=100_000, nullable=True),
        Field("linkedin_url", max_length=500, nullable=True),
        Field("city", max_length=120, nullable=True),
        Field("state", max_length=120, nullable=True),
        Field("country", max_length=120, nullable=True),
        Field("location_query", max_length=300, nullable=True),
    ),
    json_fields=frozenset({"other_emails", "tags"}),
    filters=("contact_type", "status", "organization_id", "source", "country"),
    sorts=("last_name", "first_name", "email", "contact_type", "status", "created_at", "updated_at"),
    default_sort="last_name,first_name",
    fts="contacts_fts",
    search_columns=("first_name", "last_name", "email", "notes"),
    references={"organization_id": "organizations"},
    normalise=lambda data: data.update(email=data["email"] or None) if "email" in data else None,
)
DEFAULTS = {"contact_type": "prospect", "status": "active"}

def promote_to_investor(conn, req, contact_id) -> None:
    """An LP profile makes its contact an investor (audited like any edit)."""
    contact = records.require(conn, CONTACT, contact_id)
    if contact["contact_type"] != "investor":
        records.update(conn, req, CONTACT, contact_id, {"contact_type": "investor"})


def organization_of(conn, contact_id):
    """The organization id of a live contact (None if it has none or is not live)."""
    found = conn.execute("SELECT organization_id FROM contacts WHERE id = ? AND deleted_at IS NULL", (contact_id,)).fetchone()
    return found["organization_id"] if found else None


def known_addresses(conn) -> list:
    """(address, contact id, organization id) for every email address of every live contact."""
    found = []
    for contact in conn.execute("SELECT id, email, other_emails, organization_id FROM contacts WHERE deleted_at IS NULL"):
        addresses = [contact["email"], *json.loads(contact["other_emails"] or "[]")]
        found += [(a.lower(), contact["id"], contact["organization_id"]) for a in addresses if a]
    return found


def employers(conn) -> list:
    """(contact id, organization id) of every live contact that names an organization."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: tens of thousands of contacts
    return cursor.execute("SELECT id, organization_id FROM contacts WHERE deleted_at IS NULL AND organization_id IS NOT NULL").fetchall()


def live_names(conn, ids) -> dict:
    """{id: "First Last"} of the live contacts among `ids` (a deleted one is left out)."""
    ids = [i for i in set(ids) if i]
    return {r["id"]: f"{r['first_name']} {r['last_name']}".strip()
            for r in records.live_rows(conn, "contacts", ids, "id, first_name, last_name")}


def for_index(conn) -> list:
    """Every live contact, as the search index reads it (its notes, and the names other chunks
    carry): id, first_name, last_name, organization_id, notes, updated_at, in id order."""
    return [dict(r) for r in conn.execute(
        "SELECT id, first_name, last_name, organization_id, notes, updated_at FROM contacts"
        " WHERE deleted_at IS NULL ORDER BY id")]


def for_resolution(conn) -> list:
    """Every live contact, as entity resolution reads it: id, first_name, last_name, emails (the
    primary address first, then other_emails, as stored), organization_id."""
    found = []
    for r in conn.execute("SELECT id, first_name, last_name, email, other_emails, organization_id FROM contacts"
                          " WHERE deleted_at IS NULL ORDER BY id"):
        emails = [a for a in (r["email"], *json.loads(r["other_emails"] or "[]")) if isinstance(a, str) and a]
        found.append({"id": r["id"], "first_name": r["first_name"], "last_name": r["last_name"], "emails": emails,
                      "organization_id": r["organization_id"]})
    return found
# -- for redaction (crm.ingest.redact): every name the CRM holds, deleted records too ---------------

def every_person(conn) -> list:
    """(first_name, last_name, phone) of every contact, deleted ones too: a person the CRM ever held is
    still someone whose name must not leave."""
    return [(r["first_name"], r["last_name"], r["phone"]) for r in conn.execute(
        "SELECT first_name, last_name, phone FROM contacts")]


def names_mark(conn) -> tuple:
    """What changes whenever a row of contacts is added, edited or removed (db.change_mark)."""
    return change_mark(conn, "contacts")
