"""The tags table: a palette entry's name and colour."""
import re

from .. import records
from ..errors import Invalid
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
