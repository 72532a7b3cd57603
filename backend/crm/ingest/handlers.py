"""crm.ingest's admin routes: run entity resolution and relationship strength now."""
from .. import audit
from ..db import transaction
from ..shapes import INTEGER, OBJECT, maybe, obj
from . import resolve, strength

COUNTS = obj(added=INTEGER, updated=INTEGER, removed=INTEGER, unchanged=INTEGER)
REFRESHED = obj(resolved=OBJECT, emailed=COUNTS, works_at=COUNTS, members=INTEGER, grid_version=maybe(INTEGER),
                ms=INTEGER)


def refresh_relationships(req):
    """Resolve entities and recompute every relationship strength now (both also run after each Gmail sync)."""
    with transaction(req.db):
        resolved = resolve.resolve_all(req.db)
        audit.record(req.db, req, "entities", None, "resolve", resolved if isinstance(resolved, dict) else {})
    summary = strength.refresh(req.db, req=req)  # its own short write transactions, audited in the last
    if summary["grid_version"] is not None:
        req.app.presence.notify()  # open grids' event streams send the `relationships` op now
    return {"resolved": resolved if isinstance(resolved, dict) else {}, **summary}
