"""A small HTTP client for tests (JSON in, requests.Response out, bearer token remembered), and `eventually`."""
import json
import socket
import time

import requests


class Client:
    def __init__(self, base_url: str, token: str = None):
        self.base_url = base_url
        self.token = token
        self.user = None
        self.session = requests.Session()

    def headers(self, extra=None) -> dict:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, *, headers=None, raw=None, params=None) -> requests.Response:
        extra = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            extra.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base_url + path, data=data, headers=self.headers(extra),
                                    params=params, timeout=30)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def raw_http(host: str, port: int, payload: bytes, read_timeout=5.0) -> bytes:
    """Send bytes exactly as given (no client-side path normalisation) and read the reply."""
    with socket.create_connection((host, port), timeout=read_timeout) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if _complete(b"".join(chunks)):
                    break
        except socket.timeout:
            pass
    return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def eventually(check, timeout=10, what="the server never showed the change"):
    """Poll until `check()` is truthy and return it (for what the server does in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
