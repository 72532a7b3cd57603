"""Fixtures: a real server on an ephemeral port over a temporary data directory.

`make_server(**config)` starts one (config overrides as keyword arguments) and
stops it after the test; `server` is the default one with generous rate limits
so that tests do not trip them; `admin` is a signed-in first admin on it;
`shared` is one server for a whole module; `serving()` is the block under all.
"""
import sys
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT / "tests"))

from crm import config as crm_config  # noqa: E402
from crm.app import create_server  # noqa: E402
from fakes.google import FakeGoogle  # noqa: E402
from helpers import Client  # noqa: E402

QUIET_LIMITS = dict(login_rate_limit=10_000, write_rate_limit=100_000, get_rate_limit=100_000,
                    login_failures_per_user=1_000, abuse_404_threshold=10_000)


class RunningServer:
    def __init__(self, httpd):
        self.httpd = httpd
        self.app = httpd.app
        self.config = httpd.app.config
        host, port = httpd.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    def client(self, token=None) -> Client:
        return Client(self.url, token)

    def register_admin(self, username="admin", password="correct horse battery") -> Client:
        client = self.client()
        r = client.post("/api/auth/register", {"username": username, "password": password, "email": f"{username}@fund.example"})
        assert r.status_code == 201, r.text
        client.token = r.json()["data"]["token"]
        client.user = r.json()["data"]["user"]
        return client

    def add_user(self, admin: Client, username, role="member", password="member password 1") -> Client:
        """Create a user through the invite flow and return them signed in."""
        r = admin.post("/api/admin/users", {"username": username, "role": role, "email": f"{username}@fund.example"})
        assert r.status_code == 201, r.text
        invite = r.json()["data"]["invite"]["token"]
        client = self.client()
        r = client.post("/api/auth/accept-invite", {"token": invite, "password": password})
        assert r.status_code == 200, r.text
        client.token = r.json()["data"]["token"]
        client.user = r.json()["data"]["user"]
        return client


@contextmanager
def serving(data_dir, **overrides):
    """A real server over `data_dir` (QUIET_LIMITS, then `overrides`) for the length of the block."""
    settings = {**QUIET_LIMITS, **overrides}
    config = crm_config.load(environ={}, data_dir=Path(data_dir), port=0, **settings)
    httpd = create_server(config)
    threading.Thread(target=httpd.serve_forever, name="test-server", daemon=True).start()
    try:
        yield RunningServer(httpd)
    finally:
        httpd.app.stopping.set()  # ends event streams
        httpd.shutdown()
        httpd.server_close()
        httpd.app.retrieval.close()  # lets go of a local-mode search index folder


@pytest.fixture
def make_server(tmp_path_factory):
    with ExitStack() as started:
        def make(**overrides) -> RunningServer:
            data_dir = overrides.pop("data_dir", None) or tmp_path_factory.mktemp("data")
            return started.enter_context(serving(data_dir, **overrides))

        yield make


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for a whole test module: its error tables check that each case left things as they were."""
    with serving(tmp_path_factory.mktemp("shared")) as server:
        yield server


@pytest.fixture
def server(make_server) -> RunningServer:
    return make_server()


@pytest.fixture
def admin(server) -> Client:
    return server.register_admin()


@pytest.fixture
def google():
    """A stand-in Google (tests/fakes/google.py) for the length of the test."""
    with FakeGoogle() as fake:
        yield fake
