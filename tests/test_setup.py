"""The README's promises: start.sh behaviour and the configuration table."""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import requests

from crm.config import VARIABLES

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_start(tmp_path, port):
    env = {**os.environ, "CRM_PORT": str(port), "CRM_DATA_DIR": str(tmp_path / "data")}
    started = time.monotonic()
    proc = subprocess.Popen([str(ROOT / "start.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while time.monotonic() - started < 120:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    return time.monotonic() - started, proc
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("start.sh did not serve within 120 s")
    except BaseException:
        proc.kill()
        raise


def stop(proc) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=15)
    return out


def test_start_sh_second_run_installs_nothing_and_is_quick(tmp_path):
    _, proc = run_start(tmp_path, free_port())  # the first run may install
    stop(proc)
    elapsed, proc = run_start(tmp_path, free_port())
    output = stop(proc)
    assert "installing" not in output
    assert elapsed < 5, f"second start took {elapsed:.1f} s"
    assert (tmp_path / "data" / "crm.db").exists(), "CRM_DATA_DIR was not honoured"
    assert proc.returncode == 0, output


def test_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `((?:CRM|SMTP)_[A-Z0-9_]+)` \|", readme, re.M))
    assert table == {v.name for v in VARIABLES}
