"""Opportunities: the deal pipeline, one per contact and fund."""
from .. import records
from ..contacts.model import CONTACT, organization_of
from ..db import transaction
from ..http.responses import Created
from ..validation import Body, Field

# In pipeline order; enforced on every write, not only on the stage route.
PIPELINE_STAGES = ("prospect", "contacted", "meeting", "due_diligence", "soft_commit", "committed", "closed", "lost")
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
STAGE = Body(Field("stage", "enum", required=True, choices=PIPELINE_STAGES), Field("lost_reason", max_length=2000, nullable=True))


def list_opportunities(req):
    """Opportunities: filter by `stage`, contact, organization, owner, fund; search `q`; paginated."""
    return records.list_page(req, OPPORTUNITY)


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
