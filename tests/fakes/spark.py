"""A stand-in for the local model server: OpenAI-compatible chat completions and embeddings.

    with FakeSpark() as spark:             # a real ThreadingHTTPServer on 127.0.0.1, ephemeral port
        make_server(spark_base_url=spark.base_url, ...)
        spark.reply = "The LP confirms the Fund II close for June."
        spark.mode = "slow"                # answer | down | slow | garbage | empty | redirect
        spark.requests                     # every request's JSON body, in order

`POST /v1/chat/completions` checks the request as the chat-completions API documents it (a
`model` string, a non-empty `messages` list of {role: system/user/assistant, content: string})
and answers 400 in the API's error shape otherwise. Modes: `answer` gives a chat.completion
whose choices[0].message.content is `reply`; `down` answers 503; `slow` waits `delay` seconds
first (longer than the client's timeout); `garbage` answers 200 with a body that is not JSON;
`empty` answers a well-formed completion whose content is ""; `redirect` answers 307 to
`redirect_to` (a client must not follow it). `closed_url` is a base URL where nothing listens
(a server that is off).

`POST /v1/embeddings` checks `model` (a string) and `input` (a string or a non-empty list of
strings) and answers `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
"model", "usage"}`. The vectors are deterministic: a hashed bag of words (`embedding(text)`,
EMBED_DIM floats, unit length), so texts sharing words are close and unrelated ones are not.
`embed_mode` is separate from the chat's `mode`: `answer`, `down` (503), `slow` (waits
`delay`), `error` (500), `busy` (429), `garbage` (200, not JSON), `flaky` (the next
`flaky_failures` requests answer 500, then it answers). `embedding_requests` holds their bodies.
"""
import hashlib
import math
import re
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("answer", "down", "slow", "garbage", "empty", "redirect")
EMBED_MODES = ("answer", "down", "slow", "error", "busy", "garbage", "flaky")
EMBED_DIM = 64
ROLES = ("system", "user", "assistant")


class FakeSpark:
    def __init__(self, reply="A one-line summary of the email.", delay=2.5):
        self.reply, self.delay, self.mode = reply, delay, "answer"
        self.redirect_to = None
        self.requests = []  # the chat JSON bodies received (valid or not), in order
        self.embed_mode, self.flaky_failures = "answer", 1
        self.embedding_requests = []  # the embeddings JSON bodies received, in order
        self.paths = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = None

    def __enter__(self):
        handler = type("Handler", (_Handler,), {"spark": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}/v1"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-spark",
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._closing.set()  # a slow answer in flight ends now
        self._server.shutdown()
        self._server.server_close()

    @property
    def closed_url(self) -> str:
        """A base URL on a port nothing listens on."""
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        return f"http://127.0.0.1:{port}/v1"

    # -- answering ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: bytes):
        """(status, content type, payload[, headers]) for one request."""
        with self._lock:
            self.paths.append(path)
        if method == "POST" and path == "/v1/embeddings":
            return self._embeddings(body)
        if method != "POST" or path != "/v1/chat/completions":
            return _error(404, f"no route {method} {path}", "not_found_error")
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_request_error")
        with self._lock:
            self.requests.append(request)
        problem = _check(request)
        if problem:
            return _error(400, problem, "invalid_request_error")
        if self.mode == "down":
            return _error(503, "the model is not loaded", "server_error")
        if self.mode == "redirect":
            return 307, "text/plain", b"", {"Location": self.redirect_to}
        if self.mode == "slow":
            self._closing.wait(self.delay)
        if self.mode == "garbage":
            return 200, "application/json", b'{"choices": [{"message": {"content": "half an ans'
        content = "" if self.mode == "empty" else self.reply
        return 200, "application/json", json.dumps(_completion(request["model"], content)).encode()

    def _embeddings(self, body: bytes):
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_request_error")
        with self._lock:
            self.embedding_requests.append(request)
            failing = self.embed_mode == "flaky" and self.flaky_failures > 0
            if failing:
                self.flaky_failures -= 1
        inputs = request.get("input") if isinstance(request, dict) else None
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(request, dict) or not isinstance(request.get("model"), str) or not request["model"]:
            return _error(400, "model must be a non-empty string", "invalid_request_error")
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            return _error(400, "input must be a string or a non-empty list of strings", "invalid_request_error")
        if self.embed_mode == "down":
            return _error(503, "the model is not loaded", "server_error")
        if self.embed_mode == "error" or failing:
            return _error(500, "internal error", "server_error")
        if self.embed_mode == "busy":
            return _error(429, "too many requests", "rate_limit_error")
        if self.embed_mode == "slow":
            self._closing.wait(self.delay)
        if self.embed_mode == "garbage":
            return 200, "application/json", b'{"data": [{"index": 0, "embedd'
        data = [{"object": "embedding", "index": i, "embedding": embedding(text)} for i, text in enumerate(inputs)]
        answer = {"object": "list", "data": data, "model": request["model"],
                  "usage": {"prompt_tokens": 0, "total_tokens": 0}}
        return 200, "application/json", json.dumps(answer).encode()


def embedding(text: str, dim: int = EMBED_DIM) -> list:
    """A deterministic unit vector: each lower-cased word (a trailing s dropped) adds ±1 to a hashed slot."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        word = word[:-1] if len(word) > 3 and word.endswith("s") else word
        h = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(h[:4], "big") % dim] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm if norm else 0.0 for x in vector] if any(vector) else [1.0 / math.sqrt(dim)] * dim


def _check(request) -> str | None:
    if not isinstance(request, dict):
        return "the body must be a JSON object"
    if not isinstance(request.get("model"), str) or not request["model"]:
        return "model must be a non-empty string"
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            return "each message needs a role (system, user or assistant) and a string content"
    return None


def _completion(model: str, content: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _error(status: int, message: str, kind: str):
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return status, "application/json", json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    spark = None  # set on the subclass each FakeSpark makes

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, content_type, payload, *headers = self.spark.handle(self.command, self.path, body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers[0] if headers else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a slow answer): nothing to deliver

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format, *args):  # keep test output quiet
        pass
