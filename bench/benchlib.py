"""What the benchmark scripts share: a server subprocess, the statistics, the machine, a text table.

The scripts put this folder on sys.path and `import benchlib`, so each one
still runs on its own as `.venv/bin/python bench/<name>.py`. Only the
harness lives here; what a script measures and how it reports it stays in
that script.
"""
import http.client
import math
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
FRONTEND = ROOT / "frontend"
HUGE_LIMIT = "100000000"
PASSWORD = "benchmark password 1"
ADMIN = {"username": "admin", "password": PASSWORD, "email": "admin@fund.example"}


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: str, port: int, frontend=FRONTEND, lift_404_ban: bool = True, **settings) -> dict:
    """The server's environment: rate limits out of reach, logging at WARNING, `settings` on top.

    `frontend` is set explicitly because a --backend from another tree would
    otherwise serve that tree's front end; None leaves the server's default.
    """
    # The caller's CRM_* settings are dropped so a developer's environment cannot change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update({
        "CRM_HOST": "127.0.0.1",
        "CRM_PORT": str(port),
        "CRM_DATA_DIR": str(data_dir),
        "CRM_GET_RATE_LIMIT_PER_MIN": HUGE_LIMIT,
        "CRM_WRITE_RATE_LIMIT_PER_MIN": HUGE_LIMIT,
        "CRM_LOGIN_RATE_LIMIT_PER_MIN": HUGE_LIMIT,
        "CRM_LOG_LEVEL": "WARNING",
    })
    if lift_404_ban:
        env["CRM_ABUSE_404_THRESHOLD"] = HUGE_LIMIT
    if frontend is not None:
        env["CRM_FRONTEND_DIR"] = str(frontend)
    env.update(settings)
    return env


class Server:
    """backend/server.py as a subprocess on a free port, its output in <data_dir>/server.log.

    `data_dir` None makes a fresh temporary one (named with `prefix`); the
    remaining keyword arguments go to server_env. Requests made through
    `request` share one keep-alive connection and carry `token` once set.
    """

    def __init__(self, label: str = "", backend: Path = BACKEND, data_dir=None, prefix: str = "crm-bench-",
                 log_mode: str = "wb", **env_options):
        self.label = label
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix=prefix))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.data_dir / "server.log", log_mode)
        self.proc = subprocess.Popen([sys.executable, str(Path(backend) / "server.py")],
                                     env=server_env(str(self.data_dir), self.port, **env_options), cwd=str(ROOT),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.conn = None
        self.token = None

    @property
    def name(self) -> str:
        return f"{self.label} server" if self.label else "server"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode} before it was ready")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/ready")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in time")

    def request(self, method, path, data=None, content_type="application/json") -> tuple:
        """(status, response bytes, wall seconds); `data` is an already encoded body, so encoding is not timed."""
        if self.conn is None:  # opened lazily (it connects on first use), so scripts that never call this hold none
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if data is not None:
            headers["Content-Type"] = content_type
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, payload, time.perf_counter() - t0

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (the server then closes its accept loop) and wait; kill it after `timeout` seconds."""
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def log_tail(self, chars: int = 3000) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")[-chars:]


def reset_peak(pid: int) -> bool:
    """Start VmHWM again from the present RSS (Linux 4.0+: 5 > clear_refs), so a later peak is told apart;
    False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- statistics

def percentile(sorted_values, p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def nearest_rank_percentile(sorted_values, p: float) -> float:
    """Nearest-rank percentile: always one of the values (http_bench's figures have been this since it began)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def median(values):
    """The median of any sequence (sorted here), NaN for none: a phase or case may measure nothing."""
    values = sorted(values)
    n = len(values)
    if not n:
        return float("nan")
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


# ---------------------------------------------------------------- reporting

def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux); "" where unavailable."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine() -> dict:
    return {"nproc": os.cpu_count(), "cpu": cpu_model() or "?", "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}


def print_table(head, body, left=(0,), gap="  ", min_widths=(), solid_rule=False) -> None:
    """Text cells in columns as wide as their widest cell (or `min_widths`), a rule of dashes under the head.

    Columns whose index is in `left` align left, the others right (numbers).
    The rule has a gap between columns unless `solid_rule`.
    """
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    widths = [max(w, m) for w, m in zip(widths, min_widths)] + widths[len(min_widths):]

    def line(cells):
        return gap.join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(head))
    print(("-" * len(gap) if solid_rule else gap).join("-" * w for w in widths))
    for cells in body:
        print(line(cells))
