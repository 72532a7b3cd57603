"""The tag palette: names and colours offered when tagging records."""
from .. import records
from ..db import transaction
from ..results import Created
from .model import TAG


def list_tags(req):
    """The tag palette."""
    return records.list_page(req, TAG)


def create_tag(req):
    """Add a tag to the palette."""
    data = records.clean(req, TAG)
    with transaction(req.db):
        return Created(records.insert(req.db, req, TAG, data))


def delete_tag(req):
    """Remove a tag from the palette (records keep their tags)."""
    with transaction(req.db):
        return records.soft_delete(req.db, req, TAG, req.params["id"])


def restore_tag(req):
    """Put a removed tag back in the palette."""
    with transaction(req.db):
        return records.restore(req.db, req, TAG, req.params["id"])[0]
