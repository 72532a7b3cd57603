"""Organizations: the firms contacts work for; their web domain drives email matching."""
from .. import records
from ..db import transaction
from ..results import Created
from .model import ORGANIZATION


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
