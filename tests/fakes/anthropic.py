"""A stand-in for Anthropic's Messages API (`POST /v1/messages`), as its documentation describes it.

    with FakeAnthropic(key="sk-ant-test") as api:     # a real ThreadingHTTPServer on 127.0.0.1
        make_server(anthropic_base_url=api.base_url, anthropic_api_key="sk-ant-test")
        api.reply = "Summary: [PERSON_1] will commit."   # or a function of the request body
        api.fail(529, times=2)                          # the next two requests are overloaded
        api.requests                                    # every request: {"headers": {...}, "body": {...}}

It checks what the API checks: the `x-api-key` header (401 authentication_error when it is missing
or wrong), `anthropic-version` (400 when missing), `content-type: application/json`, and a body
with a `model` string, a positive integer `max_tokens`, an optional string `system`, and a
non-empty `messages` list of {role: user/assistant, content: string} starting with a user turn
(400 invalid_request_error otherwise). Errors are {"type": "error", "error": {"type", "message"}};
429 and 529 answers carry `retry-after: 0` unless `retry_after` says otherwise. `slow` makes every
answer wait `delay` seconds first. A successful answer is a Message: {id, type: "message", role:
"assistant", model, content: [{type: "text", text}], stop_reason: "end_turn", usage}.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
               503: "api_error", 529: "overloaded_error"}


class FakeAnthropic:
    def __init__(self, key="sk-ant-test-key", reply="OK"):
        self.key, self.reply = key, reply
        self.requests = []   # every request that reached /v1/messages: {"headers", "body" (parsed or raw text)}
        self.retry_after = "0"
        self.delay, self.slow = 0.0, False
        self._failures = []  # statuses still to answer, in order
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def __enter__(self):
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-anthropic",
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def fail(self, status: int, times: int = 1) -> None:
        """Answer the next `times` well-formed requests with this error status."""
        with self._lock:
            self._failures += [status] * times

    @property
    def bodies(self) -> list:
        return [r["body"] for r in self.requests]

    def handle(self, method: str, path: str, headers: dict, raw: bytes):
        """(status, payload dict, extra headers) for one request."""
        if method != "POST" or path != "/v1/messages":
            return _error(404, f"no route {method} {path}")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append({"headers": dict(headers), "body": body})
        if headers.get("x-api-key") != self.key:
            return _error(401, "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return _error(400, "anthropic-version: header is required")
        if not (headers.get("content-type") or "").startswith("application/json"):
            return _error(400, "content-type must be application/json")
        problem = _check(body)
        if problem:
            return _error(400, problem)
        with self._lock:
            status = self._failures.pop(0) if self._failures else None
        if self.slow:
            self._closing.wait(self.delay)
        if status:
            extra = {"retry-after": self.retry_after} if status in (429, 529) and self.retry_after is not None else {}
            return (*_error(status, "simulated failure")[:2], extra)
        text = self.reply(body) if callable(self.reply) else self.reply
        message = {"id": f"msg_fake_{len(self.requests)}", "type": "message", "role": "assistant",
                   "model": body["model"], "content": [{"type": "text", "text": text}],
                   "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": 10, "output_tokens": 10}}
        return 200, message, {}


def _check(body) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: field required"
    if not isinstance(body.get("max_tokens"), int) or isinstance(body["max_tokens"], bool) or body["max_tokens"] < 1:
        return "max_tokens: must be a positive integer"
    if "system" in body and not isinstance(body["system"], str):
        return "system: must be a string"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant") \
                or not isinstance(message.get("content"), str):
            return "messages: each needs a role (user or assistant) and a string content"
    if messages[0]["role"] != "user":
        return "messages: the first message must use the user role"
    unknown = set(body) - {"model", "max_tokens", "system", "messages", "temperature", "stop_sequences", "metadata"}
    if unknown:
        return f"{sorted(unknown)[0]}: Extra inputs are not permitted"
    return None


def _error(status: int, message: str):
    return status, {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    api = None  # set on the subclass each FakeAnthropic makes

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload, extra = self.api.handle(self.command, self.path, headers, raw)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format, *args):
        pass
