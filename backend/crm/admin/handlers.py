"""Admin views of the system: the audit trail and the go-live security checklist."""
from .. import audit
from ..clock import parse_iso
from ..errors import Invalid
from ..results import Page
from ..shapes import ANY, BOOLEAN, INTEGER, STRING, array, maybe, obj
from ..validation import page_params
from . import checklist

AUDIT_FILTERS = ("entity_type", "entity_id", "actor_id", "action")
AUDIT_ENTRY = obj(id=ANY, at=STRING, entity_type=STRING, entity_id=maybe(STRING), action=STRING, changes=ANY)
SECURITY = obj(env=STRING, ok=BOOLEAN, hsts=BOOLEAN, checks=array(obj(name=STRING, ok=BOOLEAN, detail=STRING)),
               banned_addresses=INTEGER, banned_users=INTEGER)


def audit_log(req):
    """Audit entries, newest first, filtered by entity, actor, action and date range."""
    limit, offset = page_params(req.query)
    errors = {}
    for name in ("since", "until"):
        if req.query.get(name):
            try:
                parse_iso(req.query[name])
            except ValueError:
                errors[name] = "must be an ISO-8601 date or date-time"
    if errors:
        raise Invalid(errors)
    filters = {name: req.query.get(name) for name in AUDIT_FILTERS}
    entries, total = audit.query(
        req.db, since=req.query.get("since"), until=req.query.get("until"), limit=limit, offset=offset, **filters
    )
    return Page(entries, total, limit, offset)


def security_status(req):
    """The go-live checklist, and how many callers are banned right now."""
    banned = req.app.shield.banned()
    return {**checklist.report(req.config, req.db),
            "banned_addresses": banned["addresses"], "banned_users": banned["users"]}
