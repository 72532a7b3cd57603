"""What the search index does when captured mail changes (crm.hooks.mail_synced); `register()` runs at start-up."""
from .. import hooks


def register() -> None:
    hooks.mail_synced.register(after_mail_synced)


def after_mail_synced(app, runs: list) -> None:
    """After a sync cycle that stored, matched or removed mail, on the sync's thread, outside any
    transaction: the incremental ingest (which logs its own failures)."""
    if app is None or getattr(app, "retrieval", None) is None:
        return
    app.retrieval.after_sync(runs)
