"""The tag palette: names and colours offered when tagging records."""
import re

from .. import records
from ..db import transaction
from ..errors import Invalid
from ..http.responses import Created
from ..validation import Body, Field


def _colour(data: dict) -> None:
    if "color" in data and not re.fullmatch(r"#[0-9a-fA-F]{6}", data["color"] or ""):
        raise Invalid({"color": "must be a hex colour like #2f6fde"})


TAG = records.Kind(
    entity="tag",
    table="tags",
    body=Body(Field("name", required=True, max_length=60), Field("color", max_length=7)),
    sorts=("name", "created_at"),
    default_sort="name",
    search_columns=("name",),
    normalise=_colour,
)


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
