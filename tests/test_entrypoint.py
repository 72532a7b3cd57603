"""docker_entrypoint.sh run for real against a temporary /data.

The script is the container's entrypoint; here every path it uses points into
a temporary directory (CRM_DATA_DIR, CRM_APP_DIR = this repository,
CRM_PYTHON = the test's interpreter). What the server was given is read from
/proc/<pid>/environ: the script execs the server, so that is the environment
the script exported.
"""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker_entrypoint.sh"
READY_WITHIN = 30  # seconds; first boot applies every migration
STOP_WITHIN = 10  # seconds, the limit for SIGTERM

SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "fund-crm",
    "private_key_id": "0123456789abcdef",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    "client_email": "crm-capture@fund-crm.iam.gserviceaccount.com",
    "client_id": "112233445566778899",
    "token_uri": "https://oauth2.googleapis.com/token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(data_dir: Path, **extra) -> dict:
    """A clean environment: nothing CRM_* or SMTP_* leaks in from the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "SMTP_"))}
    env.update(CRM_DATA_DIR=str(data_dir), CRM_APP_DIR=str(ROOT), CRM_PYTHON=sys.executable,
               CRM_HOST="127.0.0.1", CRM_PORT=str(free_port()))
    env.update(extra)
    return env


class Booted:
    def __init__(self, proc, env, log_path):
        self.proc, self.env, self.log_path = proc, env, log_path
        self.url = f"http://127.0.0.1:{env['CRM_PORT']}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def environ(self) -> dict:
        raw = Path(f"/proc/{self.proc.pid}/environ").read_bytes()
        return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)

    def stop(self) -> float:
        """SIGTERM; the seconds until the process exited (fails the test past STOP_WITHIN)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"still running {STOP_WITHIN} s after SIGTERM:\n{self.log}")
        return time.monotonic() - started


@pytest.fixture
def boot(tmp_path):
    """boot(data_dir, **env) runs the entrypoint and waits for /api/ready."""
    running = []

    def start(data_dir: Path, **extra) -> Booted:
        env = base_env(data_dir, **extra)
        log_path = tmp_path / f"entrypoint-{len(running)}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(["sh", str(ENTRYPOINT)], env=env, stdout=log, stderr=subprocess.STDOUT)
        booted = Booted(proc, env, log_path)
        running.append(booted)
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"entrypoint exited {proc.returncode}:\n{booted.log}")
            try:
                if requests.get(booted.url + "/api/ready", timeout=2).status_code == 200:
                    return booted
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        pytest.fail(f"not ready within {READY_WITHIN} s:\n{booted.log}")

    yield start
    for booted in running:
        if booted.proc.poll() is None:
            booted.proc.kill()
            booted.proc.wait()


def run_to_failure(data_dir: Path, **extra) -> subprocess.CompletedProcess:
    """Run the entrypoint where it must refuse to start (a server start would hang the test: timeout)."""
    return subprocess.run(["sh", str(ENTRYPOINT)], env=base_env(data_dir, **extra), capture_output=True,
                          text=True, timeout=30)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def register(url: str) -> str:
    r = requests.post(url + "/api/auth/register", json={"username": "ada", "password": "a long passphrase"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["data"]["token"]


# --- first boot, second boot --------------------------------------------------

def test_first_boot_prepares_data_and_a_second_boot_reuses_the_key(boot, tmp_path):
    data = tmp_path / "data"
    first = boot(data)
    secret_file = data / ".crm-secret"
    key = secret_file.read_text().strip()
    assert len(key) >= 32 and mode(secret_file) == 0o600
    for name in ("backups", "secrets", "email_attachments"):
        assert (data / name).is_dir() and mode(data / name) == 0o700, name
    env = first.environ()
    assert env["CRM_SECRET_KEY"] == key
    assert env["CRM_ENV"] == "production"
    assert env["CRM_DATA_DIR"] == str(data)
    assert env["CRM_GMAIL_INTEGRATION_ENABLED"] == "0"  # no key file: no capture
    assert "CRM_GMAIL_AUTH_METHOD" not in env
    assert env["SMTP_SELECTION"] == "disabled" and "SMTP_HOST" not in env
    assert "generated a new signing key" in first.log
    # Production mode is in force: HSTS is sent.
    assert "Strict-Transport-Security" in requests.get(first.url + "/api/health", timeout=5).headers
    token = register(first.url)
    assert first.stop() < STOP_WITHIN and first.proc.returncode == 0

    written = secret_file.stat().st_mtime_ns
    second = boot(data)
    assert second.environ()["CRM_SECRET_KEY"] == key
    assert secret_file.stat().st_mtime_ns == written
    assert "generated a new signing key" not in second.log
    # The same key signs: the first boot's token still works.
    r = requests.get(second.url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200 and r.json()["data"]["username"] == "ada"
    assert second.stop() < STOP_WITHIN and second.proc.returncode == 0


def test_a_secret_key_from_the_environment_is_used_and_not_written(boot, tmp_path):
    data = tmp_path / "data"
    given = "k" * 40
    booted = boot(data, CRM_SECRET_KEY=given)
    assert booted.environ()["CRM_SECRET_KEY"] == given
    assert not (data / ".crm-secret").exists()
    booted.stop()


# --- Gmail ------------------------------------------------------------------------

def test_gmail_capture_is_enabled_only_with_a_key(boot, tmp_path):
    data = tmp_path / "data"
    key_path = data / "secrets" / "gmail-service-account.json"
    key_path.parent.mkdir(parents=True)
    key_path.write_text(json.dumps(SERVICE_ACCOUNT))
    key_path.chmod(0o644)
    booted = boot(data, CRM_GMAIL_WORKSPACE_DOMAIN="fund.example")
    env = booted.environ()
    assert env["CRM_GMAIL_INTEGRATION_ENABLED"] == "1"
    assert env["CRM_GMAIL_AUTH_METHOD"] == "dwd"
    assert env["CRM_GMAIL_SA_KEY_PATH"] == str(key_path)
    assert env["CRM_GMAIL_WORKSPACE_DOMAIN"] == "fund.example"
    assert env["CRM_GMAIL_SYNC_INTERVAL_MIN"] == "180"
    assert mode(key_path) == 0o600  # tightened
    assert mode(data / "secrets") == 0o700
    booted.stop()

    key_path.unlink()
    again = boot(data, CRM_GMAIL_WORKSPACE_DOMAIN="fund.example")
    env = again.environ()
    assert env["CRM_GMAIL_INTEGRATION_ENABLED"] == "0"
    assert "CRM_GMAIL_SA_KEY_PATH" not in env and "CRM_GMAIL_AUTH_METHOD" not in env
    again.stop()


# --- SMTP -------------------------------------------------------------------------

SMTP_FROM_PACKAGE = dict(SMTP_SELECTION="custom", SMTP_HOST="smtp.fund.example", SMTP_PORT="465", SMTP_SECURITY="tls",
                         SMTP_FROM="Digest <digest@fund.example>", SMTP_USER="digest@fund.example", SMTP_PASS="app password")


def write_smtp_files(data: Path, **values) -> None:
    folder = data / "secrets" / "smtp"
    folder.mkdir(parents=True)
    for name, value in values.items():
        (folder / name).write_text(value + "\n")


def test_smtp_variables_from_the_package_store_are_exported(boot, tmp_path):
    data = tmp_path / "data"
    write_smtp_files(data, host="files.example", port="587", security="starttls", **{"from": "x@files.example"})
    env = boot(data, **SMTP_FROM_PACKAGE).environ()
    for name, value in SMTP_FROM_PACKAGE.items():
        assert env[name] == value, name  # the package's settings win over files


def test_smtp_variables_from_files_under_data_secrets(boot, tmp_path):
    data = tmp_path / "data"
    write_smtp_files(data, host="smtp.files.example", port="2525", security="starttls", username="u", password="p w",
                     **{"from": "Digest <digest@files.example>"})
    env = boot(data).environ()
    assert env["SMTP_HOST"] == "smtp.files.example"
    assert env["SMTP_PORT"] == "2525"
    assert env["SMTP_SECURITY"] == "starttls"
    assert env["SMTP_FROM"] == "Digest <digest@files.example>"
    assert env["SMTP_USER"] == "u" and env["SMTP_PASS"] == "p w"
    assert env["SMTP_SELECTION"] == "files"


def test_smtp_disabled_in_the_package_ignores_files(boot, tmp_path):
    data = tmp_path / "data"
    write_smtp_files(data, host="smtp.files.example", **{"from": "d@files.example"})
    env = boot(data, SMTP_SELECTION="disabled").environ()
    assert not {name for name in env if name.startswith("SMTP_") and name != "SMTP_SELECTION"}
    assert env["SMTP_SELECTION"] == "disabled"


def test_smtp_port_defaults_follow_the_security(boot, tmp_path):
    env = boot(tmp_path / "data", SMTP_HOST="smtp.fund.example", SMTP_SECURITY="tls", SMTP_FROM="d@fund.example").environ()
    assert env["SMTP_PORT"] == "465"
    env = boot(tmp_path / "data", SMTP_HOST="relay.fund.example", SMTP_SECURITY="none", SMTP_FROM="d@fund.example").environ()
    assert (env["SMTP_PORT"], env["SMTP_SECURITY"]) == ("25", "none")


# --- bad configuration: one clear line, nothing started ------------------------

def bad_key(data: Path, text: str) -> None:
    path = data / "secrets" / "gmail-service-account.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


BAD_CONFIGURATIONS = [
    # (case, setup on the data dir, environment, message)
    ("short secret", None, {"CRM_SECRET_KEY": "too short"}, "at least 32 characters"),
    ("short kept secret", lambda d: (d.mkdir(), (d / ".crm-secret").write_text("short\n")), {}, "at least 32 characters"),
    ("smtp port not a number", None, {"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "SMTP_PORT": "smtp"}, "SMTP_PORT must be a port number"),
    ("smtp port out of range", None, {"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "SMTP_PORT": "70000"}, "between 1 and 65535"),
    ("smtp security unknown", None, {"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "SMTP_SECURITY": "ssl"}, "SMTP_SECURITY must be tls, starttls or none"),
    ("smtp without a sender", None, {"SMTP_HOST": "h"}, "SMTP_FROM must be a sender address"),
    ("smtp password in the clear", None, {"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "SMTP_SECURITY": "none",
                                          "SMTP_USER": "u"}, "would send SMTP_PASS unencrypted"),
    ("digest sender not an address", None, {"CRM_DIGEST_SENDER": "partners"}, "CRM_DIGEST_SENDER must be an email address"),
    ("gmail key not json", lambda d: bad_key(d, "{not json"), {"CRM_GMAIL_WORKSPACE_DOMAIN": "fund.example"}, "is not readable JSON"),
    ("gmail key of the wrong type", lambda d: bad_key(d, json.dumps({**SERVICE_ACCOUNT, "type": "authorized_user"})),
     {"CRM_GMAIL_WORKSPACE_DOMAIN": "fund.example"}, "is not a service-account key"),
    ("gmail key without a domain", lambda d: bad_key(d, json.dumps(SERVICE_ACCOUNT)), {}, "CRM_GMAIL_WORKSPACE_DOMAIN is not set"),
    ("gmail domain not a domain", lambda d: bad_key(d, json.dumps(SERVICE_ACCOUNT)), {"CRM_GMAIL_WORKSPACE_DOMAIN": "fund"}, "must be a domain"),
    ("gmail interval zero", lambda d: bad_key(d, json.dumps(SERVICE_ACCOUNT)),
     {"CRM_GMAIL_WORKSPACE_DOMAIN": "fund.example", "CRM_GMAIL_SYNC_INTERVAL_MIN": "0"}, "CRM_GMAIL_SYNC_INTERVAL_MIN must be"),
    ("spark url without a scheme", None, {"CRM_SPARK_BASE_URL": "spark.local:8000"}, "CRM_SPARK_BASE_URL must start with http"),
    ("no application", None, {"CRM_APP_DIR": "/nonexistent/app"}, "no /nonexistent/app/backend/server.py"),
    ("no python", None, {"CRM_PYTHON": "/nonexistent/python3"}, "no Python interpreter"),
]


@pytest.mark.parametrize("case, setup, env, message", BAD_CONFIGURATIONS, ids=[c[0] for c in BAD_CONFIGURATIONS])
def test_a_bad_configuration_stops_with_a_clear_message(tmp_path, case, setup, env, message):
    data = tmp_path / "data"
    if setup:
        setup(data)
    result = run_to_failure(data, **env)
    assert result.returncode == 78, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("docker_entrypoint: ")]
    assert lines and message in lines[-1], result.stderr
    assert not (data / "crm.db").exists()  # the server never started


# --- SIGTERM ------------------------------------------------------------------------

def http_request(method, path, body=b"", token=None, head_only=False) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: crm", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head if head_only else head + body


def read_response(sock) -> bytes:
    sock.settimeout(STOP_WITHIN)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def test_sigterm_finishes_requests_in_flight_and_exits_cleanly_within_10_s(boot, tmp_path):
    data = tmp_path / "data"
    booted = boot(data)
    token = register(booted.url)
    port = int(booted.env["CRM_PORT"])

    # An idle keep-alive connection: it must not hold the shutdown up.
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(http_request("GET", "/api/health"))
    assert read_response(idle).startswith(b"HTTP/1.1 200")
    # A live event stream: it ends when shutdown begins.
    stream = requests.get(booted.url + "/api/fundraising/events", headers={"Authorization": f"Bearer {token}"},
                          stream=True, timeout=STOP_WITHIN)
    assert stream.status_code == 200
    # A write in flight: headers sent, body not yet.
    body = json.dumps({"first_name": "Grace", "last_name": "Inflight"}).encode()
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(http_request("POST", "/api/contacts", body, token, head_only=True))
    time.sleep(0.3)  # the server has read the request line and headers

    started = time.monotonic()
    booted.proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    slow.sendall(body)  # the body arrives after SIGTERM...
    answer = read_response(slow)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]  # ...and the request is still served
    assert b"Connection: close" in answer  # no keep-alive after shutdown began
    assert idle.recv(1) == b""  # the idle connection was closed
    streamed = b"".join(stream.iter_content(chunk_size=None))  # returns only because the stream ended
    assert streamed.startswith(b"retry:")

    try:
        booted.proc.wait(STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_WITHIN} s after SIGTERM:\n{booted.log}")
    assert time.monotonic() - started < STOP_WITHIN
    assert booted.proc.returncode == 0, booted.log
    assert "signal 15: shutting down" in booted.log and "stopped" in booted.log
    # New connections are refused once the server has stopped listening.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)

    # The in-flight write committed: it is there after the next boot.
    again = boot(data)
    r = requests.get(again.url + "/api/contacts", params={"q": "Inflight"},
                     headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200 and [c["first_name"] for c in r.json()["data"]] == ["Grace"]
    assert again.stop() < STOP_WITHIN and again.proc.returncode == 0
