"""What handlers return, and how it becomes bytes.

A handler returns plain data (wrapped as `{"data": ...}`), a `Page` (a list
with total/limit/offset), `Created` (201), both from crm.results, or a
`Response` it built itself.
"""
import json
from dataclasses import dataclass, field

from .. import results


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    stream: object = None  # an iterator of bytes for a long-lived response (Server-Sent Events)


def _json_default(value):
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(payload, status=200, headers=None) -> Response:
    body = json.dumps(payload, default=_json_default, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def to_response(result) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, results.Page):
        return json_response({"data": result.items, "total": result.total, "limit": result.limit, "offset": result.offset})
    if isinstance(result, results.Created):
        return json_response({"data": result.data}, status=201)
    return json_response({"data": result})


def error_response(exc) -> Response:
    return json_response(exc.body(), status=exc.status, headers=exc.headers)
