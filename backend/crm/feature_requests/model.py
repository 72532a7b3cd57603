"""The feature_requests table: its fields and statuses."""
from .. import records
from ..validation import Body, Field

STATUSES = ("open", "planned", "in_progress", "done", "declined")

FEATURE_REQUEST = records.Kind(
    entity="feature_request",
    table="feature_requests",
    body=Body(
        Field("title", required=True, max_length=300),
        Field("body", "text", max_length=20_000, nullable=True),
        Field("status", "enum", choices=STATUSES),
        Field("votes", "integer", min=0),
    ),
    filters=("status", "created_by"),
    sorts=("votes", "status", "title", "created_at", "updated_at"),
    default_sort="-votes,-created_at",
    search_columns=("title", "body"),
)
