"""The HTTP layer as a client sees it: envelopes, status codes, framing, keep-alive, logging.

Every test talks to a real server over a socket; nothing of ours is mocked.
Stateless tables loop over one server rather than being parametrised: each
server costs half a second to stop, and these cases cannot affect each other.
"""
import http.client
import json
import logging
import re
import socket
import time

import pytest

from crm.http.routing import route
from helpers import raw_http, status_of

JSON = {"Content-Type": "application/json"}


# --- helpers -----------------------------------------------------------------

def exchange(server, payload: bytes, timeout=5.0):
    """Send raw bytes (the request should say `Connection: close`), read to EOF.

    Returns (status, headers with lower-case names, body bytes exactly as sent).
    """
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers, body


def request_bytes(method, path, body=b"", headers=None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in (headers or {})):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def wait_for(predicate, timeout=5.0):
    """The access line is written just after the response is sent, so poll briefly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.01)
    return predicate()


def access_lines(caplog, request_id):
    return [r for r in caplog.records if r.name == "crm.http" and f"rid={request_id}" in r.getMessage()
            and r.levelno == logging.INFO]


CLIENT_LOGGERS = ("urllib3", "requests")  # the test's own HTTP client, not the server


def everything_logged(caplog) -> str:
    """Every server-side record's message, arguments and traceback, as one string."""
    parts = []
    for r in caplog.records:
        if r.name.startswith(CLIENT_LOGGERS):
            continue
        parts.append(r.getMessage())
        parts.append(repr(r.args))
        if r.exc_info:
            parts.append(logging.Formatter().formatException(r.exc_info))
    return "\n".join(parts)


# --- envelope ------------------------------------------------------------------

def test_data_is_wrapped_in_an_envelope(admin):
    assert admin.get("/api/health").json() == {"data": {"status": "ok"}}

    created = admin.post("/api/tags", {"name": "Anchor LP"})
    assert created.status_code == 201
    assert set(created.json()) == {"data"}
    assert created.json()["data"]["name"] == "Anchor LP"

    listed = admin.get("/api/tags").json()
    assert set(listed) == {"data", "total", "limit", "offset"}
    assert [t["name"] for t in listed["data"]] == ["Anchor LP"]
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)


def test_unknown_api_route_is_a_json_404(server):
    for path in ["/api/nope", "/api/contacts/1/2/3", "/api/", "/api/HEALTH", "/api/health/"]:
        r = server.client().get(path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"] == "application/json"
        body = r.json()
        assert set(body) == {"error"} and path in body["error"]


# --- methods -------------------------------------------------------------------

WRONG_METHODS = [
    ("POST", "/api/health", "GET, HEAD"),
    ("DELETE", "/api/health", "GET, HEAD"),
    ("GET", "/api/auth/login", "POST"),
    ("HEAD", "/api/auth/login", "POST"),
    ("PUT", "/api/contacts", "GET, HEAD, POST"),
    ("POST", "/api/contacts/0b0e9c1e-0000-4000-8000-000000000000", "DELETE, GET, HEAD, PATCH, PUT"),
]


def test_wrong_method_is_405_with_allow(server):
    client = server.client()
    for method, path, allow in WRONG_METHODS:
        r = client.request(method, path)
        assert (method, path, r.status_code) == (method, path, 405)
        assert r.headers["Allow"] == allow, (method, path)
        if method != "HEAD":
            assert method in r.json()["error"]


UNROUTED_METHODS = ["TRACE", "QUERY", "FOO", "CONNECT", "get", "PROPFIND"]


def test_methods_nothing_routes_are_json_405_on_a_known_path_and_404_elsewhere(server):
    for method in UNROUTED_METHODS:
        status, headers, body = exchange(server, request_bytes(method, "/api/contacts"))
        assert (method, status) == (method, 405)
        assert headers["allow"] == "GET, HEAD, POST"
        assert headers["content-type"] == "application/json"
        assert method in json.loads(body)["error"]

        status, headers, body = exchange(server, request_bytes(method, "/api/no-such-thing"))
        assert (method, status) == (method, 404)
        assert headers["content-type"] == "application/json" and "no such endpoint" in json.loads(body)["error"]

        status, headers, body = exchange(server, request_bytes(method, "/"))
        assert (method, status, headers["allow"]) == (method, 405, "GET, HEAD")
        assert headers["content-type"] == "application/json"


MALFORMED_REQUESTS = [
    (b"GE(T /api/health HTTP/1.1", 501),          # not a method token
    (b"G\x7fT /api/health HTTP/1.1", 501),
    (b"GET /api/health HTTP/9.9", 505),           # the stdlib's own refusals, in our shape too
    (b"GET /api/health HTTP/1.1 extra", 400),
    (b"GET /api/health HTTP/x", 400),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1", 414),
]


def test_malformed_requests_get_a_json_error_with_security_headers(server):
    for request_line, status in MALFORMED_REQUESTS:
        got, headers, body = exchange(server, request_line + b"\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert (request_line[:30], got) == (request_line[:30], status)
        assert headers["content-type"] == "application/json"
        assert set(json.loads(body)) == {"error"}
        assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers
        assert int(headers["content-length"]) == len(body)


def test_get_implies_head(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/api/health")
    get = conn.getresponse()
    get_body = get.read()
    conn.request("HEAD", "/api/health")
    head = conn.getresponse()
    assert head.status == 200
    assert head.read() == b""
    assert int(head.getheader("Content-Length")) == len(get_body) > 0
    assert head.getheader("Content-Type") == "application/json"
    conn.close()

    # Read to EOF on a raw socket: not one byte may follow a HEAD response's headers.
    status, headers, body = exchange(server, request_bytes("HEAD", "/api/health"))
    assert status == 200
    assert body == b""
    assert int(headers["content-length"]) == len(get_body)


# --- framing: Content-Length on every response ---------------------------------

FRAMING_CASES = [
    ("GET", "/api/health", b"", {}, 200),
    ("GET", "/api/nope", b"", {}, 404),
    ("POST", "/api/health", b"", {}, 405),
    ("GET", "/api/auth/me", b"", {}, 401),
    ("POST", "/api/auth/login", b"{bad", JSON, 400),
    ("POST", "/api/auth/login", b'{"password": "x"}', {"Content-Type": "text/plain"}, 415),
    ("POST", "/api/auth/login", b"{}", JSON, 422),
    ("POST", "/api/auth/login", b"5\r\nhello\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"}, 411),
    ("POST", "/api/auth/login", b"{}", {"Content-Length": "99999999"}, 413),
    ("OPTIONS", "/api/health", b"", {}, 200),
    ("GET", "/", b"", {}, 200),
    ("GET", "/no-such-file.png", b"", {}, 404),
]


def test_every_response_has_a_correct_content_length(server):
    for method, path, body, headers, status in FRAMING_CASES:
        case = f"{method} {path} -> {status}"
        got, response_headers, response_body = exchange(server, request_bytes(method, path, body, headers))
        assert got == status, case
        assert "content-length" in response_headers, case
        assert int(response_headers["content-length"]) == len(response_body), case
        if status >= 400:
            assert "error" in json.loads(response_body), case
        if status in (411, 413):  # the body was not read, so the connection cannot be reused
            assert response_headers.get("connection") == "close", case


# --- keep-alive ----------------------------------------------------------------

def test_keep_alive_serves_many_requests_on_one_connection(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.connect()
    sock = conn.sock
    exchanges = [
        ("GET", "/api/health", None, {}, 200),
        ("HEAD", "/api/health", None, {}, 200),
        ("POST", "/api/auth/login", b'{"username": "nobody"}', JSON, 422),  # body read, then refused
        ("POST", "/api/auth/login", b"{bad", JSON, 400),
        ("GET", "/api/nope", None, {}, 404),
        ("GET", "/api/auth/me", None, {}, 401),
        ("GET", "/api/bootstrap/status", None, {}, 200),
    ]
    for method, path, body, headers, status in exchanges:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        assert (method, path, r.status) == (method, path, status)
        assert r.version == 11
        assert r.getheader("Connection") is None
        assert conn.sock is sock, f"{method} {path} closed the connection"
    conn.close()


def test_a_body_refused_unread_never_becomes_the_next_request(server):
    # Both are refused by the router before the body is read.
    for method, path, status in [("POST", "/api/health", 405), ("PATCH", "/api/no-such-thing", 404)]:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request(method, path, body=b'{"a": 1}', headers=JSON)
        r = conn.getresponse()
        r.read()
        assert r.status == status
        # The server must not read '{"a": 1}GET ...' as the next request line; it closes instead.
        assert r.getheader("Connection") == "close"
        conn.request("GET", "/api/health")
        follow = conn.getresponse()
        assert follow.status == 200, (method, path)
        assert json.loads(follow.read()) == {"data": {"status": "ok"}}
        conn.close()


# --- request bodies --------------------------------------------------------------

MALFORMED = [b"{bad", b'{"username": "a",}', b"\xff\xfe{}", b"[1, 2", b"   ", b""]


def test_malformed_json_is_400_never_an_empty_object(admin):
    anonymous = admin.__class__(admin.base_url)
    for body in MALFORMED:
        r = anonymous.post("/api/auth/login", raw=body, headers=JSON)
        # Read as {}, the login would be a 422 ("password is required"); a 400 proves it was not.
        assert r.status_code == 400, (body, r.text)
        assert "fields" not in r.json()

    r = admin.post("/api/tags", raw=b'{"name": "Seed"', headers=JSON)
    assert r.status_code == 400
    assert "malformed JSON" in r.json()["error"]
    assert admin.get("/api/tags").json()["total"] == 0  # nothing was created


def test_wrong_content_type_is_415(server):
    client = server.client()
    for content_type in [None, "text/plain", "application/x-www-form-urlencoded", "text/json"]:
        headers = {"Content-Type": content_type} if content_type else {}
        r = client.post("/api/auth/login", raw=b'{"username": "a", "password": "b"}', headers=headers)
        assert r.status_code == 415, content_type
        assert "application/json" in r.json()["error"]

    r = client.post("/api/auth/login", raw=b'{"username": "x"}',
                             headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert r.status_code == 422  # parsed and validated, not refused as the wrong media type
    assert set(r.json()["fields"]) == {"password"}


def test_oversized_body_is_refused_without_reading_it(make_server):
    server = make_server(max_body_bytes=2048)
    # Claims 50 MB but sends four bytes: a server that tried to read it all would hang here.
    started = time.monotonic()
    reply = raw_http(server.host, server.port,
                     b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 52428800\r\n\r\n{\"a\"", read_timeout=10)
    elapsed = time.monotonic() - started
    assert status_of(reply) == 413
    assert elapsed < 2, f"413 took {elapsed:.1f} s"
    assert b"Connection: close" in reply
    assert b"52428800" in reply.partition(b"\r\n\r\n")[2]
    assert server.client().get("/api/health").status_code == 200


def test_body_over_the_limit_is_413_and_at_the_limit_is_read(make_server):
    server = make_server(max_body_bytes=2048)
    client = server.client()
    over = client.post("/api/auth/login", raw=b"x" * 3000, headers=JSON)
    assert over.status_code == 413
    assert "2048" in over.json()["error"]

    prefix = b'{"username": "'
    suffix = b'", "password": "p"}'
    exact = prefix + b"u" * (2048 - len(prefix) - len(suffix)) + suffix
    assert len(exact) == 2048
    at_limit = client.post("/api/auth/login", raw=exact, headers=JSON)
    assert at_limit.status_code == 422  # read and validated: the username is too long
    assert set(at_limit.json()["fields"]) == {"username"}

    chunked = raw_http(server.host, server.port,
                       b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert status_of(chunked) == 411
    assert b"Connection: close" in chunked
    assert "Content-Length" in json.loads(chunked.partition(b"\r\n\r\n")[2])["error"]


# --- validation --------------------------------------------------------------------

INVALID_USERS = [
    ({"username": "", "role": "emperor"}, {"username", "role"}),
    ({"username": "ok_name"}, {"role"}),
    ({"username": "ok_name", "role": "member", "colour": "blue"}, {"colour"}),
    ({"username": "ok_name", "role": "member", "email": "not-an-email"}, {"email"}),
    ({"username": 7, "role": "admin", "display_name": ["x"]}, {"username", "display_name"}),
]


def test_validation_is_422_naming_every_bad_field(admin):
    for body, bad_fields in INVALID_USERS:
        r = admin.post("/api/admin/users", body)
        assert r.status_code == 422, (body, r.text)
        fields = r.json()["fields"]
        assert set(fields) == bad_fields, body
        assert all(isinstance(message, str) and message for message in fields.values())
    assert "role" in admin.post("/api/admin/users", INVALID_USERS[0][0]).json()["error"]
    # Nothing was created.
    assert [u["username"] for u in admin.get("/api/users").json()["data"]] == ["admin"]


# --- unexpected errors ----------------------------------------------------------------

def test_unexpected_exception_is_500_with_request_id_and_no_traceback(server, caplog):
    caplog.set_level(logging.INFO, logger="crm")

    def boom(req):
        raise RuntimeError("secret detail")

    server.app.router.routes.append(route("GET", "/api/test-boom", boom, "public"))
    r = server.client().get("/api/test-boom")
    assert r.status_code == 500
    body = r.json()
    assert body == {"error": "internal server error", "request_id": r.headers["X-Request-Id"]}
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    assert "secret detail" not in r.text
    assert "Traceback" not in r.text and "RuntimeError" not in r.text

    rid = body["request_id"]
    errors = wait_for(lambda: [rec for rec in caplog.records if rec.levelno == logging.ERROR and rid in rec.getMessage()])
    assert len(errors) == 1 and errors[0].exc_info
    traceback_text = logging.Formatter().formatException(errors[0].exc_info)
    assert "RuntimeError: secret detail" in traceback_text and "in boom" in traceback_text
    access = wait_for(lambda: access_lines(caplog, rid))
    assert " 500 " in access[0].getMessage()
    # The server goes on serving.
    assert server.client().get("/api/health").status_code == 200


# --- logging ---------------------------------------------------------------------------

ACCESS = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms "
                    r"user=(?P<user>\S+) rid=(?P<rid>[0-9a-f]{32}) ip=(?P<ip>\S+)$")


def test_one_access_line_per_request(server, caplog):
    caplog.set_level(logging.INFO, logger="crm")
    client = server.client()
    target = client.get("/api/health", params={"invite": "QUERYSECRET42"})
    sentinel = client.get("/api/bootstrap/status")  # same keep-alive connection, so it is logged after
    wait_for(lambda: access_lines(caplog, sentinel.headers["X-Request-Id"]))

    rid = target.headers["X-Request-Id"]
    lines = access_lines(caplog, rid)
    assert len(lines) == 1
    match = ACCESS.match(lines[0].getMessage())
    assert match, lines[0].getMessage()
    assert match["method"] == "GET"
    assert match["path"] == "/api/health"  # no query string
    assert match["status"] == "200"
    assert float(match["ms"]) >= 0
    assert match["user"] == "-"
    assert match["rid"] == rid
    assert match["ip"] == "127.0.0.1"
    assert "QUERYSECRET42" not in everything_logged(caplog)


def test_errors_are_logged_with_their_status(server, caplog):
    caplog.set_level(logging.INFO, logger="crm")
    client = server.client()
    cases = [("GET", "/api/nope", 404), ("POST", "/api/health", 405), ("GET", "/no-file.css", 404),
             ("DELETE", "/", 405), ("GET", "/api/auth/me", 401)]
    rids = []
    for method, path, status in cases:
        r = client.request(method, path)
        assert r.status_code == status
        rids.append(r.headers["X-Request-Id"])
    for (method, path, status), rid in zip(cases, rids):
        lines = wait_for(lambda: access_lines(caplog, rid))
        assert len(lines) == 1, (method, path)
        match = ACCESS.match(lines[0].getMessage())
        assert (match["method"], match["path"], match["status"]) == (method, path, str(status))


def test_signed_in_requests_log_the_user_id(admin, caplog):
    caplog.set_level(logging.INFO, logger="crm")
    r = admin.get("/api/auth/me")
    user_id = r.json()["data"]["id"]
    lines = wait_for(lambda: access_lines(caplog, r.headers["X-Request-Id"]))
    assert ACCESS.match(lines[0].getMessage())["user"] == user_id


def test_passwords_tokens_and_query_strings_never_reach_the_log(server, caplog):
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    password = "Pa55-word-that-must-not-leak"
    client = server.client()
    registered = client.post("/api/auth/register", {"username": "boss", "password": password})
    assert registered.status_code == 201
    wrong = client.post("/api/auth/login", {"username": "boss", "password": password + "-wrong"})
    assert wrong.status_code == 401
    login = client.post("/api/auth/login", {"username": "boss", "password": password})
    assert login.status_code == 200
    token = login.json()["data"]["token"]
    client.token = token
    me = client.get("/api/auth/me", params={"access_token": "QS-TOKEN-123"})
    assert me.status_code == 200
    wait_for(lambda: access_lines(caplog, me.headers["X-Request-Id"]))

    logged = everything_logged(caplog)
    assert "rid=" + login.headers["X-Request-Id"] in logged  # the log was captured at all
    for secret in (password, password + "-wrong", token, registered.json()["data"]["token"], "QS-TOKEN-123"):
        assert secret not in logged
    # A token is three base64url parts; none of the signed parts may appear either.
    for part in token.split(".")[1:]:
        assert part not in logged


def test_the_whole_grid_save_takes_a_larger_body_but_only_from_a_signed_in_user(make_server):
    server = make_server(max_body_bytes=2048, max_grid_body_bytes=8192)
    admin = server.register_admin()
    state = admin.get("/api/fundraising/state").json()["data"]
    # Over CRM_MAX_BODY_BYTES, under CRM_MAX_GRID_BODY_BYTES: read and applied.
    body = {"grid": {"columns": state["grid"]["columns"], "rows": []}, "expected_version": state["version"],
            "padding": "x" * 3000}
    r = admin.put("/api/fundraising/state", body)
    assert r.status_code == 422 and set(r.json()["fields"]) == {"padding"}  # read, then validated
    del body["padding"]
    body["grid"]["rows"] = [{"id": "r1", "cells": {state["grid"]["columns"][0]["id"]: "Big LP " + "y" * 2500}}]
    r = admin.put("/api/fundraising/state", body)
    assert r.status_code == 200, r.text
    rows = admin.get("/api/fundraising/state").json()["data"]["grid"]["rows"]
    assert [r["id"] for r in rows] == ["r1"] and rows[0]["cells"][state["grid"]["columns"][0]["id"]].endswith("y" * 2500)
    # Over CRM_MAX_GRID_BODY_BYTES: 413 naming the limit.
    body["grid"]["rows"][0]["cells"][state["grid"]["columns"][0]["id"]] = "z" * 9000
    r = admin.put("/api/fundraising/state", body)
    assert r.status_code == 413 and "8192" in r.json()["error"]
    # Anyone else claiming a big body is refused before a byte of it is read.
    started = time.monotonic()
    reply = raw_http(server.host, server.port,
                     b"PUT /api/fundraising/state HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 8000\r\n\r\n{\"a\"", read_timeout=10)
    assert status_of(reply) == 401 and time.monotonic() - started < 2
    assert b"Connection: close" in reply
    # And the small limit still holds everywhere else.
    assert admin.post("/api/fundraising/views", raw=b"x" * 3000, headers=JSON).status_code == 413


def test_features_say_what_is_switched_on_to_signed_in_users_only(make_server):
    server = make_server(smtp_host="127.0.0.1", smtp_port=2525, smtp_security="none", smtp_from="d@fund.example")
    admin = server.register_admin()
    assert admin.get("/api/features").json()["data"] == {"email_capture": False, "local_model": False, "smtp": True}
    assert server.client().get("/api/features").status_code == 401
    member = server.add_user(admin, "maria")
    assert member.get("/api/features").status_code == 200
