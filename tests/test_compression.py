"""gzip for API JSON and static files, HEAD and Range on them, and event streams left alone.

Requests are sent with http.client (which neither asks for nor decodes gzip by itself), so each
test says exactly which Accept-Encoding it sends and reads the bytes on the wire.
"""
import gzip
import http.client
import json
import time

import pytest

from test_grid_sync import EventStream, apply_ok, get_state, keys, new_id, set_cell

BIG_JS = b"".join(b"export const line%d = 'the same words, again and again, compress well';\n" % i for i in range(400))
SMALL_CSS = b"body { margin: 0 }\n"
PNG = bytes(range(256)) * 20  # an image type: never gzipped, whatever its size


@pytest.fixture
def site(tmp_path, make_server):
    frontend = tmp_path / "frontend"
    frontend.mkdir()
    (frontend / "index.html").write_bytes(b"<!doctype html><title>t</title>" + b"<p>a page</p>\n" * 200)
    (frontend / "big.js").write_bytes(BIG_JS)
    (frontend / "small.css").write_bytes(SMALL_CSS)
    (frontend / "photo.png").write_bytes(PNG)
    server = make_server(frontend_dir=frontend)
    server.frontend = frontend
    return server


def fetch(server, path, method="GET", **headers):
    """(status, headers with lower-case names, body as sent) over a fresh connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


ACCEPTS = [
    ("gzip", True),
    ("gzip, deflate, br", True),
    ("GZip", True),
    ("x-gzip", True),
    ("*", True),
    ("br, *;q=0.5", True),
    ("gzip;q=0.001", True),
    ("gzip;q=0", False),
    ("gzip; q=0.0, *", False),        # gzip named and refused: * does not bring it back
    ("*;q=0", False),
    ("identity", False),
    ("deflate, br", False),
    ("gzip;q=nonsense", False),
    ("", False),
    (None, False),                    # no header: answered plainly (curl, scripts)
]


@pytest.mark.parametrize("accept, gzipped", ACCEPTS)
def test_negotiation_on_a_static_file_and_on_api_json(site, accept, gzipped):
    headers = {} if accept is None else {"Accept-Encoding": accept}
    for path in ("/big.js", "/api/openapi.json"):
        status, head, body = fetch(site, path, **headers)
        assert status == 200, path
        assert head["vary"].split(", ").count("Accept-Encoding") == 1, path  # compressible: always Vary
        assert int(head["content-length"]) == len(body)
        if gzipped:
            assert head["content-encoding"] == "gzip", path
        else:
            assert "content-encoding" not in head, path
        identity = fetch(site, path)[2]
        assert (gzip.decompress(body) if gzipped else body) == identity, path
        if gzipped:
            assert len(body) < len(identity) / 3, path


def test_the_gzip_body_is_the_file(site):
    status, head, body = fetch(site, "/big.js", **{"Accept-Encoding": "gzip"})
    assert gzip.decompress(body) == BIG_JS
    assert head["content-type"] == "text/javascript; charset=utf-8"


def test_small_files_and_images_are_sent_as_they_are(site):
    for path, content in (("/small.css", SMALL_CSS), ("/photo.png", PNG)):
        status, head, body = fetch(site, path, **{"Accept-Encoding": "gzip"})
        assert status == 200 and body == content, path
        assert "content-encoding" not in head and "vary" not in head, path
    # A small API answer too: /api/health is a few bytes.
    status, head, body = fetch(site, "/api/health", **{"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in head and json.loads(body)


def test_each_representation_has_its_etag_and_revalidates(site):
    _, plain, _ = fetch(site, "/big.js")
    _, packed, body = fetch(site, "/big.js", **{"Accept-Encoding": "gzip"})
    assert plain["etag"] != packed["etag"]
    assert plain["etag"].startswith('"') and packed["etag"].startswith('"') and packed["etag"].endswith('"')
    # The gzip bytes were made once and kept: the same bytes, the same ETag, every time.
    again = fetch(site, "/big.js", **{"Accept-Encoding": "gzip"})
    assert again[2] == body and again[1]["etag"] == packed["etag"]

    status, head, body = fetch(site, "/big.js", **{"If-None-Match": plain["etag"]})
    assert (status, body, head["etag"]) == (304, b"", plain["etag"])
    assert "content-length" not in head and head["vary"] == "Accept-Encoding"
    status, head, body = fetch(site, "/big.js", **{"If-None-Match": packed["etag"], "Accept-Encoding": "gzip"})
    assert (status, body, head["etag"]) == (304, b"", packed["etag"])
    # The other representation's tag does not stand for this one.
    status, head, body = fetch(site, "/big.js", **{"If-None-Match": plain["etag"], "Accept-Encoding": "gzip"})
    assert status == 200 and head["content-encoding"] == "gzip" and gzip.decompress(body) == BIG_JS
    status, head, body = fetch(site, "/big.js", **{"If-None-Match": packed["etag"]})
    assert status == 200 and body == BIG_JS

    # A changed file: both tags change, and the old ones no longer match.
    changed = BIG_JS + b"export const more = 1;\n"
    (site.frontend / "big.js").write_bytes(changed)
    status, head, body = fetch(site, "/big.js", **{"If-None-Match": packed["etag"], "Accept-Encoding": "gzip"})
    assert status == 200 and gzip.decompress(body) == changed and head["etag"] != packed["etag"]
    status, head, body = fetch(site, "/big.js", **{"If-None-Match": plain["etag"]})
    assert status == 200 and body == changed and head["etag"] != plain["etag"]


@pytest.mark.parametrize("path", ["/big.js", "/api/openapi.json"])
@pytest.mark.parametrize("accept", ["gzip", None])
def test_head_has_the_headers_of_get_and_no_body(site, path, accept):
    headers = {"Accept-Encoding": accept} if accept else {}
    _, get_head, get_body = fetch(site, path, **headers)
    status, head, body = fetch(site, path, method="HEAD", **headers)
    assert status == 200 and body == b""
    assert int(head["content-length"]) == len(get_body)
    for name in ("content-type", "content-encoding", "vary", "etag"):
        assert head.get(name) == get_head.get(name), name


RANGES = [
    ("bytes=0-99", 206, (0, 99)),
    ("bytes=100-", 206, (100, len(BIG_JS) - 1)),
    ("bytes=-50", 206, (len(BIG_JS) - 50, len(BIG_JS) - 1)),
    ("bytes=10-10", 206, (10, 10)),
    ("bytes=5-999999999", 206, (5, len(BIG_JS) - 1)),
    ("bytes=-999999999", 206, (0, len(BIG_JS) - 1)),
    (f"bytes={len(BIG_JS)}-", 416, None),
    ("bytes=999999999-1000000000", 416, None),
    ("bytes=-0", 416, None),
    ("bytes=0-1, 5-6", 200, None),    # several ranges: the whole file
    ("bytes=9-3", 200, None),         # not a valid range: ignored
    ("bytes=a-b", 200, None),
    ("items=0-5", 200, None),
    ("bytes=", 200, None),
]


@pytest.mark.parametrize("header, status, span", RANGES)
def test_ranges_on_static_files(site, header, status, span):
    got, head, body = fetch(site, "/big.js", **{"Range": header, "Accept-Encoding": "gzip"})
    assert got == status
    assert head["accept-ranges"] == "bytes"
    if status == 206:
        start, end = span
        assert body == BIG_JS[start:end + 1]
        assert head["content-range"] == f"bytes {start}-{end}/{len(BIG_JS)}"
        assert "content-encoding" not in head  # a range is of the identity bytes
        assert int(head["content-length"]) == len(body)
    elif status == 416:
        assert head["content-range"] == f"bytes */{len(BIG_JS)}"
        assert "outside the file" in json.loads(body)["error"]
    else:
        assert "content-range" not in head and gzip.decompress(body) == BIG_JS


def test_if_range_lets_the_range_stand_only_for_the_same_file(site):
    _, plain, _ = fetch(site, "/big.js")
    status, _, body = fetch(site, "/big.js", **{"Range": "bytes=0-9", "If-Range": plain["etag"]})
    assert status == 206 and body == BIG_JS[:10]
    status, _, body = fetch(site, "/big.js", **{"Range": "bytes=0-9", "If-Range": '"an-older-version"'})
    assert status == 200 and body == BIG_JS


def test_the_event_stream_is_not_compressed_and_each_event_arrives_at_once(server, admin):
    k = keys(get_state(admin))
    row = new_id()
    apply_ok(admin, {"op": "add_row", "row_id": row, "cells": {k["name"]: "LP"}})
    with EventStream(server, admin, headers={"Accept-Encoding": "gzip, deflate, br"}) as stream:
        assert stream.status == 200
        assert "content-encoding" not in stream.headers and "content-length" not in stream.headers
        stream.next("presence")
        for value in ("one", "two", "three"):
            started = time.monotonic()
            version = apply_ok(admin, set_cell(row, k["notes"], value))["version"]
            event = stream.next("ops", timeout=1.0)  # a buffering encoder would hold it back
            assert time.monotonic() - started < 1.0
            assert event["data"]["version"] == version and event["data"]["ops"][0]["after"] == value


def test_a_big_grid_answer_is_gzipped_and_the_same_data(server, admin):
    k = keys(get_state(admin))
    apply_ok(admin, *[{"op": "add_row", "row_id": new_id(), "cells": {k["name"]: f"LP {i}"}} for i in range(60)])
    auth = {"Authorization": f"Bearer {admin.token}"}
    _, plain_head, plain = fetch(server, "/api/fundraising/state", **auth)
    status, head, packed = fetch(server, "/api/fundraising/state", **auth, **{"Accept-Encoding": "gzip"})
    assert status == 200 and head["content-encoding"] == "gzip" and head["cache-control"] == "no-store"
    assert json.loads(gzip.decompress(packed)) == json.loads(plain)
    assert len(packed) * 4 < len(plain)


def test_level_zero_sends_api_answers_uncompressed_and_static_files_stay_gzipped(tmp_path, make_server):
    frontend = tmp_path / "frontend"
    frontend.mkdir()
    (frontend / "big.js").write_bytes(BIG_JS)
    server = make_server(frontend_dir=frontend, gzip_level=0)
    status, head, body = fetch(server, "/api/openapi.json", **{"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in head and json.loads(body)
    status, head, body = fetch(server, "/big.js", **{"Accept-Encoding": "gzip"})
    assert head["content-encoding"] == "gzip" and gzip.decompress(body) == BIG_JS


@pytest.mark.parametrize("level, words", [("10", "must be 0 to 9"), ("-1", "must not be negative"), ("six", "must be a whole number")])
def test_a_gzip_level_outside_0_to_9_is_refused_at_start(tmp_path, level, words):
    from crm import config as crm_config
    with pytest.raises(crm_config.ConfigError, match=f"CRM_GZIP_LEVEL {words}"):
        crm_config.load(environ={"CRM_GZIP_LEVEL": level}, data_dir=tmp_path)
