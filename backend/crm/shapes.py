"""What the API answers, described for /api/openapi.json: small JSON-schema builders.

A handler module names its answers with these, as it names its bodies with
`validation.Body`, and the route table passes them on: `route(..., returns=one(USER))`.
An `Answer` is the success status and what its body holds; by default the body is the
envelope `{"data": <schema>}`, a `page` adds `total`, `limit` and `offset`.
Schemas list the fields a client may rely on; they never forbid more.
"""
from dataclasses import dataclass

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
ANY = {}


def maybe(schema: dict) -> dict:
    """The schema, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(optional=(), **properties) -> dict:
    """An object holding every named property (those in `optional` only sometimes)."""
    schema = {"type": "object", "properties": properties}
    required = [name for name in properties if name not in optional]
    if required:
        schema["required"] = required
    return schema


def array(items: dict = ANY) -> dict:
    return {"type": "array", "items": items}


OBJECT = {"type": "object"}
DELETED = obj(id=STRING, deleted=BOOLEAN)

# A stored field as a response shows it: JSON lists and flags always present, the rest may be null.
FIELD_TYPES = {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN, "object": OBJECT, "array": array()}


def field(spec) -> dict:
    """The response schema of a validation.Field."""
    base = FIELD_TYPES.get(spec.type, STRING)
    return base if spec.type in ("boolean", "array") else maybe(base)


@dataclass(frozen=True)
class Answer:
    schema: dict = None              # of `data` (None: anything), or of the whole body when not enveloped
    status: int = 200
    page: bool = False               # {"data": [schema...], "total", "limit", "offset"}
    media: str = "application/json"  # anything else is described as a string of that type
    envelope: bool = True
    also: str = None                 # another media type it may answer instead (`format=csv`)
    others: tuple = ()               # a page's other shapes, asked for by a query: ((item, {property: schema}), ...)


def one(schema: dict = None, status: int = 200, also: str = None) -> Answer:
    return Answer(schema, status, also=also)


def created(schema: dict = None) -> Answer:
    return Answer(schema, 201)


def page(item: dict, *others) -> Answer:
    """A list. `others`: other shapes a query may ask it in, each (its item, the properties it adds
    beside `data`); the document offers the page as any one of them."""
    return Answer(item, page=True, others=others)


def media(media_type: str) -> Answer:
    """A body that is not JSON (CSV, an event stream)."""
    return Answer(media=media_type, envelope=False)


def redirect() -> Answer:
    """A 302 to another page (its Location), with no body to speak of."""
    return Answer(status=302, media=None, envelope=False)


def bare(schema: dict) -> Answer:
    """JSON without the envelope (only the OpenAPI document itself)."""
    return Answer(schema, envelope=False)
