"""The OpenAPI 3.1 document, generated from the route table so it cannot drift.

Each operation gets its success status and body from the route's `returns`
(crm.shapes), its request body from the route's `Body`, its query parameters
from the route's `Query` rows, and `default` for every error.
"""
from ..shapes import INTEGER, array, obj
from ..validation import INT_MAX, Body

ERROR = {"$ref": "#/components/schemas/Error"}
QUERY_TYPES = {"flag": {"type": "integer", "enum": [0, 1]}, "integer": {"type": "integer"}, "string": {"type": "string"}}


def _parameter(q) -> dict:
    schema = dict(QUERY_TYPES[q.type])
    if q.type == "integer":
        schema.update(minimum=0 if q.min is None else q.min, maximum=INT_MAX if q.max is None else q.max)
    if q.choices:
        schema["enum"] = list(q.choices)
    return {"name": q.name, "in": "query", "required": False, "schema": schema, "description": q.doc}


def _success(answer) -> dict:
    if answer.media is None:
        return {"description": "redirect", "headers": {"Location": {"schema": {"type": "string"}}}}
    if answer.media != "application/json":
        return {"description": "success", "content": {answer.media: {"schema": {"type": "string"}}}}
    data = answer.schema if answer.schema is not None else {}
    if not answer.envelope:
        body = data
    elif answer.page:
        body = _page(data)
        if answer.others:
            body = {"anyOf": [body] + [_page(item, extra) for item, extra in answer.others]}
    else:
        body = obj(data=data)
    content = {"application/json": {"schema": body}}
    if answer.also:
        content[answer.also] = {"schema": {"type": "string"}}
    return {"description": "success", "content": content}


def _page(item, extra=None) -> dict:
    return obj(data=array(item), total=INTEGER, limit=INTEGER, offset=INTEGER, **(extra or {}))


def _operation(route) -> dict:
    doc = (route.handler.__doc__ or route.handler.__name__).strip()
    op = {
        "operationId": f"{route.handler.__module__.split('crm.')[-1].replace('.', '_')}_{route.handler.__name__}",
        "summary": doc.splitlines()[0],
        "x-auth": route.auth,
        "security": [] if route.auth == "public" else [{"bearer": []}],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.params
        ] + [_parameter(q) for q in route.query],
        "responses": {
            str(route.returns.status): _success(route.returns),
            "default": {"description": "error", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if isinstance(route.body, Body):
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body.json_schema()}}}
    elif isinstance(route.body, str):
        raw = {"type": "object"} if route.body == "application/json" else {"type": "string"}
        op["requestBody"] = {"required": True, "content": {route.body: {"schema": raw}}}
    return op


def build_document(routes) -> dict:
    paths = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Venture CRM API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
                }
            },
        },
        "paths": paths,
    }
