"""Communications: notes, calls, emails, meetings and texts logged against a contact."""
from .. import records
from ..db import transaction
from ..errors import Invalid
from ..results import Created
from .model import COMMUNICATION, utc_text


def _check_opportunity_belongs(conn, data: dict, current: dict = None) -> None:
    merged = {**(current or {}), **data}
    if merged.get("opportunity_id"):
        owner = conn.execute("SELECT contact_id FROM opportunities WHERE id = ?", (merged["opportunity_id"],)).fetchone()
        if owner and owner["contact_id"] != merged["contact_id"]:
            raise Invalid({"opportunity_id": "belongs to another contact"})


def list_communications(req):
    """Communications: search `q` (subject, body), filters, `since`/`until` on the event date; paginated."""
    where, params = [], []
    for name, op in (("since", ">="), ("until", "<")):
        if req.query.get(name):
            try:
                moment = utc_text(req.query[name])
            except ValueError:
                raise Invalid({name: "must be an ISO-8601 date or date-time"}) from None
            where.append(f"communications.communication_date {op} ?")
            params.append(moment)
    return records.list_page(req, COMMUNICATION, where, params)


def create_communication(req):
    """Log a communication."""
    data = records.clean(req, COMMUNICATION)
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data)
        return Created(records.insert(req.db, req, COMMUNICATION, data))


def get_communication(req):
    """One communication."""
    return records.require(req.db, COMMUNICATION, req.params["id"], records.include_deleted(req))


def replace_communication(req):
    """Replace every field of a communication."""
    data = records.full_record(COMMUNICATION, records.clean(req, COMMUNICATION))
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data)
        return records.update(req.db, req, COMMUNICATION, req.params["id"], data)


def patch_communication(req):
    """Change some fields of a communication."""
    data = records.clean(req, COMMUNICATION, partial=True)
    with transaction(req.db):
        _check_opportunity_belongs(req.db, data, records.require(req.db, COMMUNICATION, req.params["id"]))
        return records.update(req.db, req, COMMUNICATION, req.params["id"], data)


def delete_communication(req):
    """Soft-delete a communication."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, COMMUNICATION, req.params["id"])


def restore_communication(req):
    """Restore a deleted communication (its contact must be live)."""
    with transaction(req.db):
        return records.restore(req.db, req, COMMUNICATION, req.params["id"])[0]
