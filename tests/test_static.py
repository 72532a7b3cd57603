"""The SPA's static files: types, caching, client-side routes, and no way out of the directory."""
import hashlib
import http.client
import json

import pytest

from helpers import raw_http, status_of

FILES = {
    "index.html": (b"<!doctype html><title>Venture CRM</title><main id=app>the SPA</main>",
                   "text/html; charset=utf-8"),
    "app.js": (b"import { api } from './api.js';\nconsole.log('hi');\n", "text/javascript; charset=utf-8"),
    "style.css": (b"body { margin: 0 }\n", "text/css; charset=utf-8"),
    "logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', "image/svg+xml"),
    "data.json": (b'{"columns": ["name", "stage"]}', "application/json"),
}
SECRET = b"TOP-SECRET-OUTSIDE-THE-FRONTEND"


@pytest.fixture
def site(tmp_path, make_server):
    """A server whose frontend directory is a temporary folder; secret.txt sits beside it."""
    frontend = tmp_path / "frontend"
    (frontend / "assets").mkdir(parents=True)
    for name, (content, _) in FILES.items():
        (frontend / name).write_bytes(content)
    (frontend / "assets" / "icon.svg").write_bytes(FILES["logo.svg"][0])
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (frontend / "escape.txt").symlink_to(tmp_path / "secret.txt")
    server = make_server(frontend_dir=frontend)
    server.frontend = frontend
    return server


def test_files_are_served_with_their_types(site):
    client = site.client()
    for name, (content, content_type) in FILES.items():
        r = client.get("/" + name)
        assert r.status_code == 200, name
        assert r.headers["Content-Type"] == content_type, name
        assert r.content == content, name
        assert int(r.headers["Content-Length"]) == len(content)
    nested = client.get("/assets/icon.svg")
    assert nested.status_code == 200 and nested.headers["Content-Type"] == "image/svg+xml"


def test_root_serves_index_html(site):
    r = site.client().get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.content == FILES["index.html"][0]


def test_query_strings_do_not_change_the_file(site):
    r = site.client().get("/app.js?v=123")
    assert r.status_code == 200 and r.content == FILES["app.js"][0]


def test_head_gives_the_length_without_the_body(site):
    conn = http.client.HTTPConnection(site.host, site.port, timeout=5)
    conn.request("HEAD", "/app.js")
    r = conn.getresponse()
    assert r.status == 200
    assert r.read() == b""
    assert int(r.getheader("Content-Length")) == len(FILES["app.js"][0])
    assert r.getheader("ETag")
    # The connection is still usable, so no stray body bytes were sent.
    conn.request("GET", "/style.css")
    follow = conn.getresponse()
    assert follow.status == 200 and follow.read() == FILES["style.css"][0]
    conn.close()


def test_etag_and_conditional_requests(site):
    client = site.client()
    first = client.get("/app.js")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    assert first.headers["Cache-Control"] == "no-cache"
    assert client.get("/app.js").headers["ETag"] == etag  # stable
    assert client.get("/style.css").headers["ETag"] != etag  # per file

    not_modified = client.get("/app.js", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["ETag"] == etag
    listed = client.get("/app.js", headers={"If-None-Match": f'"something-else", {etag}'})
    assert listed.status_code == 304
    stale = client.get("/app.js", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == FILES["app.js"][0]

    # A changed file gets a new ETag, and the old one no longer matches.
    changed = b"console.log('version two, longer than before');\n"
    (site.frontend / "app.js").write_bytes(changed)
    fresh = client.get("/app.js", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.content == changed
    assert fresh.headers["ETag"] != etag
    assert fresh.headers["ETag"] == '"' + hashlib.sha256(changed).hexdigest()[:32] + '"'


def test_cache_control_on_static_and_api_responses(site):
    client = site.client()
    for path in ("/", "/app.js", "/logo.svg", "/grid/views/1"):
        assert client.get(path).headers["Cache-Control"] == "no-cache", path
    assert client.get("/api/health").headers["Cache-Control"] == "no-store"


def test_client_side_routes_get_index_html(site):
    client = site.client()
    for path in ("/grid/views/123", "/contacts", "/settings/users/", "/accept-invite"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8", path
        assert r.content == FILES["index.html"][0], path


def test_missing_files_with_an_extension_are_json_404s(site):
    client = site.client()
    for path in ("/missing.js", "/wp-login.php", "/assets/nope.css", "/grid/views/123.json"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"] == "application/json"
        assert set(r.json()) == {"error"}


TRAVERSALS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/assets/../../secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/..%5csecret.txt",
    "/../secret",           # no extension: must not fall back to index.html either
    "/%2e%2e%2fsecret",
    "/escape.txt",          # a symlink inside the directory that points outside it
]


def test_path_traversal_is_refused(site):
    # raw_http sends the path exactly as written; an HTTP library would normalise it.
    for path in TRAVERSALS:
        reply = raw_http(site.host, site.port, f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        assert status_of(reply) == 404, (path, reply[:200])
        assert SECRET not in reply, path
        assert "error" in json.loads(reply.partition(b"\r\n\r\n")[2]), path


def test_writes_to_static_paths_are_405(site):
    client = site.client()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/app.js", "/", "/grid/views/1"):
            r = client.request(method, path, raw=b"overwrite", headers={"Content-Type": "text/plain"})
            assert r.status_code == 405, (method, path)
            assert r.headers["Allow"] == "GET, HEAD"
            assert method in r.json()["error"]
    assert (site.frontend / "app.js").read_bytes() == FILES["app.js"][0]
    assert client.get("/app.js").status_code == 200  # the connection and server are fine


def test_missing_frontend_is_a_404_not_a_crash(tmp_path, make_server):
    server = make_server(frontend_dir=tmp_path / "empty")
    r = server.client().get("/grid")
    assert r.status_code == 404
    assert "front end" in r.json()["error"]
