"""LP profiles: a closed investor's commitment, funding, accreditation and paperwork."""
from .. import records
from ..contacts.model import promote_to_investor
from ..db import transaction
from ..results import Created
from .model import LP_PROFILE


def list_lp_profiles(req):
    """LP profiles: filter by `investor_type`, contact and each flag (0/1); search `q` (the contact, notes)."""
    return records.list_page(req, LP_PROFILE)


def create_lp_profile(req):
    """Create a contact's LP profile; the contact becomes an investor."""
    data = records.clean(req, LP_PROFILE)
    with transaction(req.db):
        profile = records.insert(req.db, req, LP_PROFILE, data)
        promote_to_investor(req.db, req, data["contact_id"])
    return Created(profile)


def get_lp_profile(req):
    """One LP profile."""
    return records.require(req.db, LP_PROFILE, req.params["id"], records.include_deleted(req))


def replace_lp_profile(req):
    """Replace every field of an LP profile."""
    data = records.full_record(LP_PROFILE, records.clean(req, LP_PROFILE))
    with transaction(req.db):
        profile = records.update(req.db, req, LP_PROFILE, req.params["id"], data)
        promote_to_investor(req.db, req, profile["contact_id"])
    return profile


def patch_lp_profile(req):
    """Change some fields of an LP profile."""
    data = records.clean(req, LP_PROFILE, partial=True)
    with transaction(req.db):
        profile = records.update(req.db, req, LP_PROFILE, req.params["id"], data)
        promote_to_investor(req.db, req, profile["contact_id"])
    return profile


def delete_lp_profile(req):
    """Soft-delete an LP profile (the contact stays an investor)."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, LP_PROFILE, req.params["id"])


def restore_lp_profile(req):
    """Restore a deleted LP profile (its contact must be live and have no other)."""
    with transaction(req.db):
        return records.restore(req.db, req, LP_PROFILE, req.params["id"])[0]
