"""The route table is the API: the auth matrix and the OpenAPI document both come from it."""
import uuid

import pytest

from crm.http.routes import ROUTES
from crm.http.routing import Router
from crm.validation import Body


def concrete(path: str) -> str:
    for name in ("id", "comment_id", "name"):
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    assert "{" not in path, f"add a sample value for {path}"
    return path


def call(client, route):
    return client.request(route.method, concrete(route.path), {} if route.method in ("POST", "PUT", "PATCH") else None)


@pytest.fixture
def principals(server, admin):
    member = server.add_user(admin, "maria", role="member")
    bot = server.add_user(admin, "digest-bot", role="bot", password="bot password 12")
    return {"anonymous": server.client(), "member": member, "bot": bot}


def test_auth_matrix(principals):
    """Walk every route: who must be turned away, and with which status."""
    failures = []
    for route in ROUTES:
        expected = {"anonymous": 401 if route.auth != "public" else None,
                    "member": 403 if route.auth in ("admin", "bot_or_admin") else None,
                    "bot": 403 if route.auth in ("user", "admin") else None}
        for who, status in expected.items():
            if status is None:
                continue
            got = call(principals[who], route).status_code
            if got != status:
                failures.append(f"{who} {route.method} {route.path}: {got}, expected {status}")
    assert not failures, "\n".join(failures)


def test_public_routes_need_no_token(server):
    # The OAuth callback is public too, but it needs Gmail capture on and its state (tests/test_email_routes.py).
    for route in ROUTES:
        if route.auth == "public" and route.method == "GET" and not route.path.startswith("/api/email/"):
            assert server.client().get(concrete(route.path)).status_code == 200, route.path


def test_openapi_matches_the_route_table(server):
    doc = server.client().get("/api/openapi.json").json()  # bare: the one answer without the envelope
    assert doc["openapi"] == "3.1.0" and "data" not in doc
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == {(r.method, r.path) for r in ROUTES}
    for r in ROUTES:
        op = doc["paths"][r.path][r.method.lower()]
        assert op["x-auth"] == r.auth
        assert (op["security"] == []) == (r.auth == "public")
        assert [p["name"] for p in op["parameters"] if p["in"] == "path"] == r.params
        assert [p["name"] for p in op["parameters"] if p["in"] == "query"] == [q.name for q in r.query]
        if isinstance(r.body, Body):
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == set(r.body.fields)
            assert set(schema.get("required", [])) == {n for n, f in r.body.fields.items() if f.required}
        assert op["summary"], f"{r.handler.__name__} needs a docstring"
        success = [code for code in op["responses"] if code != "default"]
        assert success == [str(r.returns.status)], (r.method, r.path)
        if r.returns.media == "application/json" and r.returns.envelope:
            body = op["responses"][success[0]]["content"]["application/json"]["schema"]
            shapes = body["anyOf"] if r.returns.others else [body]  # a page a query may ask in other shapes
            assert len(shapes) == 1 + len(r.returns.others), (r.method, r.path)
            for shape, extra in zip(shapes, [{}] + [extra for _, extra in r.returns.others]):
                assert shape["required"][0] == "data", (r.method, r.path)
                if r.returns.page:
                    optional = {"optional", *extra.get("optional", ())}  # obj()'s own argument, and what it names
                    assert set(shape["required"]) == {"data", "total", "limit", "offset", *extra} - optional
    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_router_rejects_duplicates_and_unknown_auth():
    with pytest.raises(ValueError, match="declared twice"):
        Router(ROUTES + [ROUTES[0]])
    from crm.http.routing import route
    with pytest.raises(ValueError, match="unknown auth level"):
        route("GET", "/api/x", lambda req: None, "everyone")


def test_first_match_wins_and_params_are_extracted():
    from crm.http.routing import route
    router = Router([route("GET", "/api/things/special", lambda r: 1, "public"),
                     route("GET", "/api/things/{id}", lambda r: 2, "public")])
    assert router.match("GET", "/api/things/special")[1] == {}
    assert router.match("GET", "/api/things/abc-1")[1] == {"id": "abc-1"}
    assert router.match("HEAD", "/api/things/abc-1")[0].method == "GET"
