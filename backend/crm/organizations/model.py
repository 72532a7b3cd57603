"""The organizations table: its fields and the rules other features call (find_or_create)."""
import re

from .. import records
from ..db import change_mark
from ..errors import Invalid
from ..validation import Body, Field

TYPES = ("family_office", "fund_of_funds", "endowment", "foundation", "pension", "corporate", "bank",
         "wealth_manager", "individual", "venture_fund", "service_provider", "other")


def normalise_domain(value: str):
    """'https://www.Example.com/about' → 'example.com'; None for nothing usable."""
    if not value:
        return None
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower())
    value = value.split("/")[0].split("?")[0].split("#")[0].split("@")[-1].split(":")[0]
    value = value[4:] if value.startswith("www.") else value
    return value if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value) else None


def _normalise(data: dict) -> None:
    if data.get("domain"):
        domain = normalise_domain(data["domain"])
        if domain is None:
            raise Invalid({"domain": "must be a domain like example.com"})
        data["domain"] = domain
    elif data.get("website") and "domain" not in data:
        data["domain"] = normalise_domain(data["website"])


ORGANIZATION = records.Kind(
    entity="organization",
    table="organizations",
    body=Body(
        Field("name", required=True, max_length=300),
        Field("type", "enum", choices=TYPES),
        Field("website", max_length=500, nullable=True),
        Field("domain", max_length=255, nullable=True, doc="normalised from website when absent"),
        Field("tags", "array", items="string"),
        Field("description", "text", max_length=20_000, nullable=True),
    ),
    json_fields=frozenset({"tags"}),
    filters=("type", "domain"),
    sorts=("name", "type", "domain", "created_at", "updated_at"),
    default_sort="name",
    fts="organizations_fts",
    search_columns=("name", "domain", "description"),
    normalise=_normalise,
)


def find_by_name(conn, name: str):
    """The id of the oldest live organization called `name` (case-insensitive), or None."""
    found = conn.execute("SELECT id FROM organizations WHERE name = ? COLLATE NOCASE AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
                         (name,)).fetchone()
    return found["id"] if found else None


def find_or_create(conn, req, name: str) -> str:
    """The id of the live organization called `name` (case-insensitive), created if missing."""
    found = find_by_name(conn, name)
    if found:
        return found
    return records.insert(conn, req, ORGANIZATION, {"name": name, "type": "other", "tags": []})["id"]


def name_of(conn, organization_id):
    if not organization_id:
        return None
    found = conn.execute("SELECT name FROM organizations WHERE id = ? AND deleted_at IS NULL", (organization_id,)).fetchone()
    return found["name"] if found else None


def known_domains(conn) -> list:
    """(domain, organization id) for every live organization with a domain."""
    return [(r["domain"], r["id"]) for r in conn.execute(
        "SELECT id, domain FROM organizations WHERE deleted_at IS NULL AND domain IS NOT NULL")]


def live_names(conn, ids) -> dict:
    """{id: name} of the live organizations among `ids` (a deleted one is left out)."""
    ids = [i for i in set(ids) if i]
    return {r["id"]: r["name"] for r in records.live_rows(conn, "organizations", ids, "id, name")}


def for_index(conn) -> list:
    """Every live organization, as the search index reads it: id, name, description, updated_at."""
    return [dict(r) for r in conn.execute(
        "SELECT id, name, description, updated_at FROM organizations WHERE deleted_at IS NULL ORDER BY id")]


def for_resolution(conn) -> list:
    """Every live organization, as entity resolution reads it: id, name, domain, website."""
    return [dict(r) for r in conn.execute(
        "SELECT id, name, domain, website FROM organizations WHERE deleted_at IS NULL ORDER BY id")]
# -- for redaction (crm.ingest.redact) ----------------------------------------------------------------

def every_name(conn) -> list:
    """(name, domain or None) of every organization, deleted ones too."""
    return [(r["name"], r["domain"]) for r in conn.execute("SELECT name, domain FROM organizations")]


def names_mark(conn) -> tuple:
    """What changes whenever a row of organizations is added, edited or removed (db.change_mark)."""
    return change_mark(conn, "organizations")
