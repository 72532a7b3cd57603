"""Socket → Request → route → Response. The one place requests are dispatched.

Order for every request: read the line and headers, assign a request id, work
out the client address and the caller (its user, if its token is validly
signed, else that address), apply the caller's ban and rate limits, then either route
an /api/ path (body read with a size cap, principal authenticated, handler
called; a large-body route reads its body only after authentication and
authorisation) or serve a static file. Every response gets a Content-Length, the
security headers and one log line; an unexpected exception becomes a 500 JSON
naming the request id, with the traceback only in the log. Text bodies over
1 KiB are gzipped for clients that accept it (encoding.py); streams never are.
"""
import json
import logging
import re
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from ..auth.session import authenticate, authorize
from ..errors import ApiError, BadRequest, LengthRequired, NotFound, PayloadTooLarge
from ..security.headers import client_ip, cors_headers, security_headers
from . import encoding
from .request import Request
from .responses import Response, error_response, json_response, to_response

log = logging.getLogger("crm.http")
METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2


class CRMHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without this every keep-alive response waits ~40 ms for delayed ACKs.
    disable_nagle_algorithm = True
    server_version = "VentureCRM"
    sys_version = ""

    def __getattr__(self, name):
        # The stdlib answers a method without a do_<METHOD> with its own 501 HTML
        # page; every method comes here instead, so the router can answer 405
        # with Allow on a known path and 404 elsewhere, in JSON like the rest.
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def send_error(self, code, message=None, explain=None):
        """The stdlib's own refusals (a malformed request line, headers too large) in our JSON shape."""
        self.close_connection = True
        # A request line too broken to name its version leaves "HTTP/0.9", which
        # would send the body without a status line; a refusal always has one.
        self.request_version = "HTTP/1.1"
        body = json.dumps({"error": (message or HTTPStatus(code).phrase)[:200]}).encode()
        self.send_response(code)
        for name, value in security_headers(self.server.app.config.production).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        # The stdlib logs raw request lines (query strings may hold invite tokens); we log our own.
        pass

    def dispatch(self):
        app = self.server.app
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        path = self.path.split("?", 1)[0]
        ip = client_ip(app.config, self.client_address[0], self.headers.get("X-Forwarded-For", ""))
        state = {"user_id": None}
        self.body_read = False
        try:
            if not METHOD_TOKEN.fullmatch(self.command):
                raise ApiError(f"{self.command!r} is not a valid HTTP method", status=501)
            caller = app.shield.identify(self.headers.get("Authorization"), ip)
            response = self.handle_request(app, path, caller, ip, request_id, state)
        except ApiError as exc:
            response = error_response(exc)
        except Exception:
            log.exception("unhandled error rid=%s %s %s", request_id, self.command, path)
            response = json_response({"error": "internal server error", "request_id": request_id}, status=500)
        if not self.body_read and self.has_body():
            # Refused before its body was read (ban, rate limit, 404, 405): the unread
            # bytes would be parsed as the next request on this connection.
            self.close_connection = True
        self.send(app, response, request_id)
        log.info(
            "%s %s %d %.1fms user=%s rid=%s ip=%s",
            self.command, path, response.status, (time.perf_counter() - started) * 1000,
            state["user_id"] or "-", request_id, ip,
        )

    def handle_request(self, app, path, caller, ip, request_id, state) -> Response:
        app.shield.check(self.command, path, caller)
        if self.command == "OPTIONS":
            return self.preflight(app, path)
        if not path.startswith("/api/"):
            return self.serve_static(app, path, caller)
        try:
            route, params = app.router.match(self.command, path)
        except NotFound:
            app.shield.not_found(caller)
            raise
        if not route.large_body:
            body = self.read_body(app.config.max_body_bytes)
        req = Request(
            app=app, method=self.command, path=path, query_string=self.path.partition("?")[2],
            headers=self.headers, body=b"" if route.large_body else body, ip=ip, request_id=request_id,
        )
        req.route, req.params, req.signed_claims = route, params, caller.claims
        try:
            with app.gate.exclusive() if route.exclusive else app.gate.shared():
                req.user = authenticate(req, required=route.auth != "public")
                state["user_id"] = req.user["id"] if req.user else None
                authorize(req.user, route.auth)
                if route.large_body:  # tens of megabytes are read only from someone allowed to send them
                    req.body = self.read_body(app.config.max_grid_body_bytes)
                return to_response(route.handler(req))
        finally:
            req.close()

    def serve_static(self, app, path, caller) -> Response:
        if self.command not in ("GET", "HEAD"):
            self.read_body(app.config.max_body_bytes)
            return json_response({"error": f"{self.command} is not allowed on {path}"}, 405, {"Allow": "GET, HEAD"})
        try:
            return app.static.serve(path, self.path.partition("?")[2], self.headers)
        except NotFound:
            app.shield.not_found(caller)
            raise

    def preflight(self, app, path) -> Response:
        methods = app.router.allowed_methods(path) if path.startswith("/api/") else ["GET", "HEAD"]
        if not methods:
            raise NotFound(f"no such endpoint: {path}")
        allow = ", ".join(methods + ["OPTIONS"])
        headers = {"Allow": allow}
        headers.update(cors_headers(app.config, self.headers.get("Origin", ""), preflight=True, allow_methods=allow))
        return Response(200, b"", "text/plain", headers)

    def has_body(self) -> bool:
        return bool(self.headers.get("Transfer-Encoding")) or self.headers.get("Content-Length", "0").strip() not in ("", "0")

    def read_body(self, limit: int) -> bytes:
        """The request body, refused before reading when it is over the limit."""
        self.body_read = True  # from here on, either it is read or the connection closes
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise LengthRequired("chunked bodies are not accepted; send Content-Length")
        raw = self.headers.get("Content-Length")
        if not raw:
            return b""
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True
            raise BadRequest("Content-Length is not a number") from None
        if length < 0:
            self.close_connection = True
            raise LengthRequired("Content-Length is negative")
        if length > limit:
            self.close_connection = True  # the unread body would corrupt the next request
            raise PayloadTooLarge(f"request body is {length} bytes; the limit is {limit}")
        return self.rfile.read(length) if length else b""

    def send(self, app, response: Response, request_id: str) -> None:
        self.send_response(response.status)
        headers = security_headers(app.config.production)
        if self.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        headers.update(cors_headers(app.config, self.headers.get("Origin", "")))
        headers.update(response.headers)
        headers["X-Request-Id"] = request_id
        body = self.encode(response, headers)
        if response.stream is not None:
            # A stream has no length: it ends when the connection closes.
            self.close_connection = True
            headers["Content-Type"] = response.content_type
        elif response.status != 304:  # a 304 has no body by definition, so no framing headers
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(body))
        if self.close_connection:
            headers["Connection"] = "close"
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.stream is not None:
            self.write_stream(response.stream)
        elif self.command != "HEAD" and response.status != 304:
            self.wfile.write(body)

    def encode(self, response: Response, headers: dict) -> bytes:
        """The body to send: gzipped when it is text over MIN_BYTES and the client accepts gzip.

        A stream (Server-Sent Events, the backup export) is never compressed: zlib
        would hold each event back until its buffer filled. Static files come
        already negotiated (static.py keeps their gzip bytes) and pass through.
        """
        level = self.server.app.config.gzip_level
        if (response.stream is not None or not level or not self.path.startswith("/api/") or "Content-Encoding" in headers
                or response.status in (204, 206, 304) or len(response.body) <= encoding.MIN_BYTES
                or not encoding.compressible(response.content_type)):
            return response.body
        encoding.add_vary(headers)
        if not encoding.accepts_gzip(self.headers.get("Accept-Encoding")):
            return response.body
        headers["Content-Encoding"] = "gzip"
        return encoding.gzip_bytes(response.body, level)

    def write_stream(self, chunks) -> None:
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; that is how streams end
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
