"""Opportunities: the deal pipeline, one per contact and fund."""
from .. import records
from ..contacts.model import organization_of
from ..db import transaction
from ..results import Created
from ..validation import Body, Field
from .model import OPPORTUNITY, PIPELINE_STAGES

# The board and list show whose opportunity it is: the contact's name and organization, joined on
# unique keys (they add columns, never rows), as the contacts list adds organization_name.
WITH_NAMES = dict(
    select="opportunities.*, trim(coalesce(contacts.first_name, '') || ' ' || coalesce(contacts.last_name, '')) AS contact_name, "
           "organizations.name AS organization_name",
    joins="LEFT JOIN contacts ON contacts.id = opportunities.contact_id "
          "LEFT JOIN organizations ON organizations.id = opportunities.organization_id AND organizations.deleted_at IS NULL",
)

STAGE = Body(Field("stage", "enum", required=True, choices=PIPELINE_STAGES), Field("lost_reason", max_length=2000, nullable=True))


def list_opportunities(req):
    """Opportunities: filter by `stage`, contact, organization, owner, fund; search `q`; paginated.
    Each includes `contact_name` and `organization_name`."""
    return records.list_page(req, OPPORTUNITY, **WITH_NAMES)


def create_opportunity(req):
    """Create an opportunity (its organization defaults to the contact's)."""
    data = records.clean(req, OPPORTUNITY)
    data.setdefault("stage", "prospect")
    with transaction(req.db):
        if "organization_id" not in data:
            data["organization_id"] = organization_of(req.db, data["contact_id"])
        return Created(records.insert(req.db, req, OPPORTUNITY, data))


def get_opportunity(req):
    """One opportunity."""
    return records.require(req.db, OPPORTUNITY, req.params["id"], records.include_deleted(req))


def replace_opportunity(req):
    """Replace every field of an opportunity."""
    data = records.full_record(OPPORTUNITY, records.clean(req, OPPORTUNITY))
    data["stage"] = data["stage"] or "prospect"
    with transaction(req.db):
        return records.update(req.db, req, OPPORTUNITY, req.params["id"], data)


def patch_opportunity(req):
    """Change some fields of an opportunity."""
    data = records.clean(req, OPPORTUNITY, partial=True)
    with transaction(req.db):
        return records.update(req.db, req, OPPORTUNITY, req.params["id"], data)


def set_stage(req):
    """Move an opportunity to another pipeline stage."""
    data = req.validated()
    with transaction(req.db):
        return records.update(req.db, req, OPPORTUNITY, req.params["id"], data, action="stage")


def delete_opportunity(req):
    """Soft-delete an opportunity."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, OPPORTUNITY, req.params["id"])


def restore_opportunity(req):
    """Restore a deleted opportunity (its contact must be live)."""
    with transaction(req.db):
        return records.restore(req.db, req, OPPORTUNITY, req.params["id"])[0]
