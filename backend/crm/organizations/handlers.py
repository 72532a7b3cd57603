"""Organizations: the firms contacts work for; their web domain drives email matching."""
import re

from .. import records
from ..db import transaction
from ..errors import Invalid
from ..http.responses import Created
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


def list_organizations(req):
    """Organizations: search `q`, filter by `type`, `domain`, `tag`; `sort`; paginated."""
    return records.list_page(req, ORGANIZATION)


def create_organization(req):
    """Create an organization."""
    data = records.clean(req, ORGANIZATION)
    data.setdefault("type", "other")
    with transaction(req.db):
        return Created(records.insert(req.db, req, ORGANIZATION, data))


def get_organization(req):
    """One organization."""
    return records.require(req.db, ORGANIZATION, req.params["id"], records.include_deleted(req))


def replace_organization(req):
    """Replace every field of an organization."""
    data = records.full_record(ORGANIZATION, records.clean(req, ORGANIZATION))
    data["type"] = data["type"] or "other"
    with transaction(req.db):
        return records.update(req.db, req, ORGANIZATION, req.params["id"], data)


def patch_organization(req):
    """Change some fields of an organization."""
    data = records.clean(req, ORGANIZATION, partial=True)
    with transaction(req.db):
        return records.update(req.db, req, ORGANIZATION, req.params["id"], data)


def delete_organization(req):
    """Soft-delete an organization (its contacts stay, without it)."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, ORGANIZATION, req.params["id"])


def restore_organization(req):
    """Restore a deleted organization."""
    with transaction(req.db):
        return records.restore(req.db, req, ORGANIZATION, req.params["id"])[0]


def find_or_create(conn, req, name: str) -> str:
    """The id of the live organization called `name` (case-insensitive), created if missing."""
    found = conn.execute("SELECT id FROM organizations WHERE name = ? COLLATE NOCASE AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
                         (name,)).fetchone()
    if found:
        return found["id"]
    return records.insert(conn, req, ORGANIZATION, {"name": name, "type": "other", "tags": []})["id"]


def name_of(conn, organization_id):
    if not organization_id:
        return None
    found = conn.execute("SELECT name FROM organizations WHERE id = ? AND deleted_at IS NULL", (organization_id,)).fetchone()
    return found["name"] if found else None
