"""What crm.ingest provides to features that may not import it, and what it does when they
announce a change (crm.hooks); `register()` runs at start-up."""
import logging

from .. import hooks
from . import strength

log = logging.getLogger("crm.ingest")


def register() -> None:
    hooks.relationship_levels.register(strength.investor_levels)  # the grid's Relationship cells
    hooks.mail_synced.register(after_mail_synced)


def after_mail_synced(app, runs: list) -> None:
    """After a Gmail sync cycle that stored, matched or removed mail, on the sync's thread, outside
    any transaction, in order: entity resolution, relationship strength, the incremental ingest.
    A step that fails is logged and the next one still runs (stale scores beat no search)."""
    if app is None or getattr(app, "retrieval", None) is None:
        return
    conn = app.pool.acquire()
    try:
        _step("relationship strength", strength.refresh, conn)
    finally:
        app.pool.release(conn)
    app.retrieval.after_sync(runs)


def _step(name: str, function, conn) -> None:
    try:
        function(conn)
    except Exception:  # noqa: BLE001 - the sync loop must go on; the log has the trace
        log.exception("after the Gmail sync: %s failed", name)
