"""The SPA's files from the frontend directory.

Paths are decoded and resolved, and anything that resolves outside the
directory is refused. A path without a file extension that names no file is
a client-side route, so it gets index.html; a missing file with an extension
is a real 404 (scanners probing for /wp-login.php get a 404, not the SPA).

Caching: files are served as assets.py renders them (local references carry
`?v=<version>`). A URL whose `v` is the file's current version is
`public, max-age=31536000, immutable`; anything else (index.html, a URL
without `v`, a stale `v` asked for by a page loaded before a deploy) gets the
current bytes with `no-cache`, never cached as immutable: the page still works,
and its next load names the new URLs. Every representation has a strong ETag.

Encoding: a text file over encoding.MIN_BYTES is gzipped once, at the first
request, and kept with its own ETag (the identity one with `-gz`) beside the
identity bytes; such files always carry `Vary: Accept-Encoding`. A Range
request is answered from the identity bytes (`Accept-Ranges: bytes`): one
range is a 206, an unsatisfiable one a 416, several are answered with the
whole file (200).
"""
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote

from ..errors import NotFound
from . import encoding
from .assets import Assets
from .responses import Response

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Entry:
    """One file as served: its identity bytes and, for text over MIN_BYTES, its gzip bytes."""
    key: tuple
    version: str    # what `?v=` must say for the URL to be cached as immutable
    content_type: str
    body: bytes
    etag: str
    gzip_body: bytes = None
    gzip_etag: str = None


class StaticFiles:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.assets = Assets(self.root, self.resolve)
        self._cache = {}  # path -> Entry

    def resolve(self, url_path: str):
        """The file a URL path names, or None; never a file outside the root."""
        decoded = unquote(url_path)
        if "\x00" in decoded or "\\" in decoded:
            return None
        candidate = (self.root / decoded.lstrip("/")).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def serve(self, url_path: str, query: str = "", headers=None) -> Response:
        headers = headers or {}
        path = self._file_for(url_path)
        entry = self._entry(path)
        asked_version = parse_qs(query).get("v", [None])[0]
        # The page itself is never immutable: it is what names the current versions.
        immutable = asked_version is not None and asked_version == entry.version and path.suffix != ".html"
        out = {"Cache-Control": IMMUTABLE if immutable else "no-cache", "Accept-Ranges": "bytes"}
        if entry.gzip_body is not None:
            encoding.add_vary(out)
        range_header = headers.get("Range")
        if range_header and _if_range_holds(headers.get("If-Range"), entry.etag):
            ranged = _range_response(entry, range_header, out)
            if ranged is not None:
                return ranged
        gzip = entry.gzip_body is not None and encoding.accepts_gzip(headers.get("Accept-Encoding"))
        out["ETag"] = entry.gzip_etag if gzip else entry.etag
        if gzip:
            out["Content-Encoding"] = "gzip"
        if _matches(headers.get("If-None-Match"), out["ETag"]):
            return Response(304, b"", entry.content_type, out)
        return Response(200, entry.gzip_body if gzip else entry.body, entry.content_type, out)

    def _file_for(self, url_path: str) -> Path:
        path = self.resolve(url_path)
        if path is not None:
            return path
        traversal = ".." in unquote(url_path)
        has_extension = "." in url_path.rsplit("/", 1)[-1]
        if traversal or has_extension:
            raise NotFound(f"no such file: {url_path}")
        path = self.root / "index.html"
        if not path.is_file():
            raise NotFound("the front end is not installed")
        return path

    def _entry(self, path: Path) -> Entry:
        key, body, version = self.assets.render(path)
        cached = self._cache.get(path)
        if cached and cached.key == key:
            return cached
        content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        entry = Entry(key, version, content_type, body, etag)
        if encoding.compressible(content_type) and len(body) > encoding.MIN_BYTES:
            packed = encoding.gzip_bytes(body, encoding.STATIC_LEVEL)
            if len(packed) < len(body):
                entry = Entry(key, version, content_type, body, etag, packed, etag[:-1] + '-gz"')
        self._cache[path] = entry
        return entry


def _matches(if_none_match, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    # If-None-Match compares weakly (RFC 9110 §13.1.2): W/"x" matches "x".
    return "*" in tags or etag in [tag[2:] if tag.startswith("W/") else tag for tag in tags]


def _if_range_holds(if_range, etag: str) -> bool:
    """If-Range names the representation the client holds part of; only the identity one's ETag lets the range stand."""
    return not if_range or if_range.strip() == etag


def _byte_range(spec: str, size: int):
    """(start, end), inclusive; "unsatisfiable"; or None for a range to ignore (RFC 9110 §14.1.2: invalid is ignored)."""
    first, dash, last = (part.strip() for part in spec.partition("-"))
    if not dash or not (first or last) or not all(part.isdigit() for part in (first, last) if part):
        return None
    if not first:  # bytes=-n: the last n bytes
        n = int(last)
        return "unsatisfiable" if n == 0 or size == 0 else (max(0, size - n), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, min(int(last), size - 1) if last else size - 1


def _range_response(entry: Entry, header: str, out: dict):
    """A 206 or 416 for one byte range; None (the whole file) for several or a header that is not a byte range."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    size = len(entry.body)
    span = _byte_range(spec.strip(), size)
    if span is None:
        return None
    out = {**out, "ETag": entry.etag}
    if span == "unsatisfiable":
        body = json.dumps({"error": f"the range {spec.strip()} is outside the file ({size} bytes)"}).encode()
        return Response(416, body, "application/json", {**out, "Content-Range": f"bytes */{size}"})
    start, end = span
    return Response(206, entry.body[start:end + 1], entry.content_type, {**out, "Content-Range": f"bytes {start}-{end}/{size}"})
