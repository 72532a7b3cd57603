"""What crm.ingest provides to features that may not import it (crm.hooks); `register()` runs at start-up."""
from .. import hooks
from . import edges, strength


def register() -> None:
    hooks.relationship_levels.register(strength.investor_levels)  # the grid's Relationship cells
    hooks.data_reset.register(edges.wipe)  # scores go with the mail and records they came from (before entities)
