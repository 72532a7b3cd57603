"""The OpenAPI 3.1 document, generated from the route table so it cannot drift."""
from ..validation import Body

ERROR = {"$ref": "#/components/schemas/Error"}


def _operation(route) -> dict:
    doc = (route.handler.__doc__ or route.handler.__name__).strip()
    summary = doc.splitlines()[0]
    op = {
        "operationId": f"{route.handler.__module__.split('crm.')[-1].replace('.', '_')}_{route.handler.__name__}",
        "summary": summary,
        "x-auth": route.auth,
        "security": [] if route.auth == "public" else [{"bearer": []}],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.params
        ] + [
            {"name": q.name, "in": "query", "required": False, "schema": {"type": q.type}, "description": q.doc}
            for q in route.query
        ],
        "responses": {
            "default": {"description": "error", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    ok = "201" if route.method == "POST" and route.handler.__name__.startswith(("create", "register")) else "200"
    op["responses"][ok] = {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}}
    if isinstance(route.body, Body):
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body.json_schema()}}}
    elif isinstance(route.body, str):
        op["requestBody"] = {"required": True, "content": {route.body: {"schema": {"type": "string"}}}}
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
