"""The SPA's files from the frontend directory.

Paths are decoded and resolved, and anything that resolves outside the
directory is refused. A path without a file extension that names no file is
a client-side route, so it gets index.html; a missing file with an extension
is a real 404 (scanners probing for /wp-login.php get a 404, not the SPA).
Files carry a strong ETag and `Cache-Control: no-cache`: the browser keeps
them but revalidates, which is right for unbundled, unhashed modules.
"""
import hashlib
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote

from ..errors import NotFound
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


class StaticFiles:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._cache = {}  # path -> (mtime_ns, size, etag, bytes)

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

    def serve(self, url_path: str, if_none_match: str = None) -> Response:
        path = self.resolve(url_path)
        if path is None:
            traversal = ".." in unquote(url_path)
            has_extension = "." in url_path.rsplit("/", 1)[-1]
            if traversal or has_extension:
                raise NotFound(f"no such file: {url_path}")
            path = self.root / "index.html"
            if not path.is_file():
                raise NotFound("the front end is not installed")
        etag, body = self._read(path)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
            return Response(304, b"", TYPES.get(path.suffix, "application/octet-stream"), headers)
        content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(200, body, content_type, headers)

    def _read(self, path: Path):
        stat = os.stat(path)
        cached = self._cache.get(path)
        if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
            return cached[2], cached[3]
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self._cache[path] = (stat.st_mtime_ns, stat.st_size, etag, body)
        return etag, body
