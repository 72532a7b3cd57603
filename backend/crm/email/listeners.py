"""What Gmail capture does when the core announces a change (crm.hooks); `register()` runs at start-up."""
from .. import hooks
from . import draft_store, proposal_store
from .store import wipe


def register() -> None:
    hooks.data_reset.register(proposal_store.wipe)  # proposals first: they point at the captured email
    hooks.data_reset.register(draft_store.wipe)  # drafts made through the CRM too: they name the email they answer
    hooks.data_reset.register(wipe)  # captured email is business data: reset-all-data takes it too
