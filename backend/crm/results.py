"""What a handler may return besides plain data: a page of a list, or a record just created.

Neutral ground between the features (records.py builds Pages, handlers return both)
and http/responses.py, which turns them into bytes: neither has to import the other.
"""
from dataclasses import dataclass


@dataclass
class Page:
    """A list with its total and the window asked for: `{"data": items, "total", "limit", "offset"}`."""
    items: list
    total: int
    limit: int
    offset: int


@dataclass
class Created:
    """A record just created: answered 201 with `{"data": data}`."""
    data: object
