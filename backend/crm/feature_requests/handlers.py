"""Feature requests: the team's wish list for the CRM itself."""
from .. import records
from ..db import transaction
from ..results import Created
from .model import FEATURE_REQUEST

DEFAULTS = {"status": "open", "votes": 0}


def list_feature_requests(req):
    """Feature requests, most voted first; filter by `status`; search `q`."""
    return records.list_page(req, FEATURE_REQUEST)


def create_feature_request(req):
    """File a feature request."""
    data = {**DEFAULTS, **records.clean(req, FEATURE_REQUEST)}
    with transaction(req.db):
        return Created(records.insert(req.db, req, FEATURE_REQUEST, data))


def get_feature_request(req):
    """One feature request."""
    return records.require(req.db, FEATURE_REQUEST, req.params["id"], records.include_deleted(req))


def replace_feature_request(req):
    """Replace every field of a feature request."""
    data = records.full_record(FEATURE_REQUEST, records.clean(req, FEATURE_REQUEST))
    data = {**data, **{k: v for k, v in DEFAULTS.items() if data[k] is None}}
    with transaction(req.db):
        return records.update(req.db, req, FEATURE_REQUEST, req.params["id"], data)


def patch_feature_request(req):
    """Change a feature request (status, votes, text)."""
    data = records.clean(req, FEATURE_REQUEST, partial=True)
    with transaction(req.db):
        return records.update(req.db, req, FEATURE_REQUEST, req.params["id"], data)


def vote_feature_request(req):
    """Add one vote."""
    with transaction(req.db):
        current = records.require(req.db, FEATURE_REQUEST, req.params["id"])
        return records.update(req.db, req, FEATURE_REQUEST, current["id"], {"votes": current["votes"] + 1}, action="vote")


def delete_feature_request(req):
    """Soft-delete a feature request."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, FEATURE_REQUEST, req.params["id"])


def restore_feature_request(req):
    """Restore a deleted feature request."""
    with transaction(req.db):
        return records.restore(req.db, req, FEATURE_REQUEST, req.params["id"])[0]
