"""Wiping the CRM's business data, behind an exact confirmation phrase."""
from .. import audit, hooks
from ..backups import service
from ..communications.model import COMMUNICATION
from ..contacts.model import CONTACT
from ..db import transaction
from ..errors import Invalid
from ..feature_requests.model import FEATURE_REQUEST
from ..lp_profiles.model import LP_PROFILE
from ..opportunities.model import OPPORTUNITY
from ..organizations.model import ORGANIZATION
from ..tags.model import TAG
from ..shapes import OBJECT, STRING, obj
from ..validation import Body, Field

PHRASE = "RESET ALL DATA"
# Children before parents, so foreign keys hold at every step.
WIPED = (COMMUNICATION, OPPORTUNITY, LP_PROFILE, CONTACT, ORGANIZATION, TAG, FEATURE_REQUEST)
RESET = Body(Field("confirm", required=True, max_length=100, doc=f'exactly "{PHRASE}"'))
DONE = obj(deleted=OBJECT, pre_reset_backup=STRING)


def reset_all_data(req):
    """Delete every business record (classic CRM and grid rows) after a pre_reset full backup;
    users, settings, the audit log, grid columns, views and rules stay."""
    data = req.validated()
    if data["confirm"] != PHRASE:
        raise Invalid({"confirm": f'must be exactly "{PHRASE}"'})
    safety = service.take(req.config, req.db, "full", "pre_reset", req.user["id"], req)
    with transaction(req.db):
        counts = {}
        for deleted in hooks.data_reset.announce(req.db):  # the grid's rows first: they point at classic contacts
            counts.update(deleted)
        for kind in WIPED:
            counts[kind.table] = req.db.execute(f"DELETE FROM {kind.table}").rowcount
            if kind.fts:
                req.db.execute(f"DELETE FROM {kind.fts}")
        audit.record(req.db, req, "database", None, "reset_all_data", {k: [v, 0] for k, v in counts.items()})
    return {"deleted": counts, "pre_reset_backup": safety["id"]}
