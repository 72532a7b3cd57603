"""HTTP core benchmark: throughput and latency of two authenticated GETs.

What it measures
    Requests per second, p50/p99 latency and non-200 count for
    `GET /api/auth/me` (token check + one user row) and `GET /api/users`
    (token check + a ~50-row list), each with HTTP/1.1 keep-alive (one
    persistent connection per client) and without it (a new connection per
    request, `Connection: close`). The ratio keep-alive / no-keep-alive shows
    what connection set-up (accept, a new server thread, TCP handshake) costs.

How
    The real server (`backend/server.py`) runs as a subprocess on a free port
    over a temporary CRM_DATA_DIR, with rate limits raised so the benchmark
    never trips them and logging at WARNING so log lines do not dominate. A
    first admin is registered and ~50 members created so the list is realistic.

    The clients are OS processes (default 16 processes x 1 thread), not
    threads: the machine has 2 cores and client threads would share one GIL,
    so the client would measure itself rather than the server (4 processes
    x 4 threads, `--processes 4`, measured the same within noise). The workers
    start once and stay alive; for each measured slice the parent tells every
    worker the same case, start time and deadline (time.monotonic is
    system-wide on Linux, so one clock serves all processes).

    The four cases are interleaved: the run is split into `--rounds` rounds
    and each round runs every case for seconds/rounds, in a rotated order, so
    that noise on this shared machine falls on all four cases alike and the
    ratios are side by side. Per-request latencies come back to the parent,
    which prints one table and optionally writes `--json PATH`. The table
    also gives the server's CPU time per request (from /proc/<pid>/stat),
    which says whether a case is bound by the server or by its clients.

    Client and server share the same 2 cores, so absolute figures are a floor
    for the server, not its capacity on a dedicated box; the ratios are what
    to compare between runs.

Usage: .venv/bin/python bench/http_bench.py [--seconds 10] [--json out.json]
"""
import argparse
import http.client
import json
import multiprocessing
import shutil
import sys
import threading
import time
from array import array
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import cpu_seconds  # noqa: E402

ENDPOINTS = ("/api/auth/me", "/api/users")
MEMBERS = 50


# ---------------------------------------------------------------- the server

def seed(base: str) -> str:
    """Register the first admin, add members so /api/users is a real list; return the token."""
    with requests.Session() as s:
        r = s.post(base + "/api/auth/register", json=benchlib.ADMIN)
        r.raise_for_status()
        token = r.json()["data"]["token"]
        s.headers["Authorization"] = f"Bearer {token}"
        for i in range(MEMBERS):
            name = f"member{i:02d}"
            r = s.post(base + "/api/admin/users",
                       json={"username": name, "role": "member", "email": f"{name}@fund.example"})
            r.raise_for_status()
        count = len(s.get(base + "/api/users").json()["data"])
    if count != MEMBERS + 1:
        raise RuntimeError(f"expected {MEMBERS + 1} users, the list has {count}")
    return token


# ---------------------------------------------------------------- the clients

class Client:
    """One simulated client: a loop of GETs, keeping its connection or not."""

    def __init__(self, port: int, token: str, path: str, keepalive: bool):
        self.port, self.path, self.keepalive = port, path, keepalive
        self.headers = {"Authorization": f"Bearer {token}"}
        if not keepalive:
            self.headers["Connection"] = "close"
        self.conn = None
        self.latencies = array("d")
        self.errors = {}

    def once(self) -> None:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        try:
            self.conn.request("GET", self.path, headers=self.headers)
            resp = self.conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
        self.latencies.append(time.perf_counter() - started)
        # Anything but a 200 is an error, a refused or reset connection included.
        if status != 200:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
        # A fresh connection per request without keep-alive; after an error
        # the old connection's state is unknown either way.
        if not self.keepalive or status != 200:
            self.conn.close()
            self.conn = None

    def run(self, start_at: float, deadline: float) -> None:
        time.sleep(max(0.0, start_at - time.monotonic()))
        while time.monotonic() < deadline:
            self.once()
        if self.conn is not None:
            self.conn.close()


def run_slice(port, token, threads, job) -> dict:
    """Run one case in this worker process with `threads` clients; merge their results."""
    path, keepalive, start_at, deadline = job
    clients = [Client(port, token, path, keepalive) for _ in range(threads)]
    if threads == 1:
        clients[0].run(start_at, deadline)
    else:
        workers = [threading.Thread(target=c.run, args=(start_at, deadline)) for c in clients]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    latencies, errors = array("d"), {}
    for c in clients:
        latencies.extend(c.latencies)
        for kind, n in c.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    return {"latencies": latencies.tobytes(), "errors": errors, "ended": time.monotonic()}


def worker_main(conn, port, token, threads) -> None:
    """A client process: run each slice the parent sends until it sends None."""
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(run_slice(port, token, threads, job))


def start_workers(processes, port, token, threads):
    ctx = multiprocessing.get_context("fork")  # cheap, and the workers need nothing re-imported
    workers = []
    for _ in range(processes):
        parent_end, child_end = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(child_end, port, token, threads), daemon=True)
        p.start()
        workers.append((p, parent_end))
    return workers


def stop_workers(workers) -> None:
    for p, conn in workers:
        try:
            conn.send(None)
        except OSError:
            pass
    for p, _ in workers:
        p.join(timeout=5)
        if p.is_alive():
            p.terminate()


# ---------------------------------------------------------------- measuring

class Tally:
    """Everything measured for one case, summed over its slices."""

    def __init__(self, path, keepalive):
        self.path, self.keepalive = path, keepalive
        self.latencies = array("d")
        self.errors = {}
        self.seconds = 0.0
        self.server_cpu = 0.0

    def add(self, result: dict) -> None:
        lat = array("d")
        lat.frombytes(result["latencies"])
        self.latencies.extend(lat)
        for kind, n in result["errors"].items():
            self.errors[kind] = self.errors.get(kind, 0) + n


def measure_slice(workers, tally, seconds, server_pid) -> None:
    # The common start is a little ahead so every worker has its job first.
    start_at = time.monotonic() + 0.05
    job = (tally.path, tally.keepalive, start_at, start_at + seconds)
    cpu_before = cpu_seconds(server_pid)
    for _, conn in workers:
        conn.send(job)
    ended = start_at
    for _, conn in workers:
        result = conn.recv()
        tally.add(result)
        ended = max(ended, result["ended"])
    tally.server_cpu += cpu_seconds(server_pid) - cpu_before
    # The last request of each client finishes after the deadline; count that time too.
    tally.seconds += ended - start_at


def run_cases(workers, seconds, rounds, server_pid) -> list:
    tallies = [Tally(path, ka) for path in ENDPOINTS for ka in (True, False)]
    share = seconds / rounds
    # Warm-up: first requests pay for imports, page cache and thread start-up.
    for t in tallies:
        measure_slice(workers, Tally(t.path, t.keepalive), min(0.3, share), server_pid)
    for r in range(rounds):
        k = r % len(tallies)  # rotate so no case always runs first or last in a round
        for t in tallies[k:] + tallies[:k]:
            measure_slice(workers, t, share, server_pid)
    return tallies


def summarise(t: Tally) -> dict:
    lat = sorted(t.latencies)
    n = len(lat)
    return {
        "endpoint": t.path,
        "keepalive": t.keepalive,
        "requests": n,
        "seconds": round(t.seconds, 3),
        "req_per_s": n / t.seconds if t.seconds else 0.0,
        "p50_ms": benchlib.nearest_rank_percentile(lat, 50) * 1000,
        "p99_ms": benchlib.nearest_rank_percentile(lat, 99) * 1000,
        "max_ms": (lat[-1] * 1000) if lat else float("nan"),
        "errors": sum(t.errors.values()),
        "error_kinds": t.errors,
        "server_cpu_ms_per_req": t.server_cpu * 1000 / n if n else float("nan"),
    }


def ratios(rows) -> dict:
    by = {(r["endpoint"], r["keepalive"]): r["req_per_s"] for r in rows}
    return {ep: (by[(ep, True)] / by[(ep, False)] if by[(ep, False)] else float("nan")) for ep in ENDPOINTS}


# ---------------------------------------------------------------- reporting

def machine() -> dict:
    # This script's --json has always used these names (and no SQLite version): kept so old figures compare.
    shared = benchlib.machine()
    return {"cpus": shared["nproc"], "cpu_model": benchlib.cpu_model(), "python": shared["python"],
            "platform": shared["platform"]}


def print_table(rows, rat, setup) -> None:
    print(f"\nHTTP core: {setup['clients']} clients as {setup['processes']} processes x "
          f"{setup['threads_per_process']} thread(s), {setup['seconds']} s per case in "
          f"{setup['rounds']} interleaved rounds; {setup['machine']['cpus']} CPUs, "
          f"Python {setup['machine']['python']}")
    head = ("endpoint", "keep-alive", "requests", "req/s", "p50 ms", "p99 ms", "errors", "srv CPU ms/req")
    body = [(r["endpoint"], "on" if r["keepalive"] else "off", str(r["requests"]), f"{r['req_per_s']:.0f}",
             f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", str(r["errors"]), f"{r['server_cpu_ms_per_req']:.2f}")
            for r in rows]
    # Fixed minimum widths, one space apart, a solid rule: this table's layout since the first figures.
    benchlib.print_table(head, body, left=(0, 1), gap=" ", min_widths=(16, 10, 9, 8, 8, 8, 7, 15), solid_rule=True)
    print()
    for ep, value in rat.items():
        print(f"keep-alive / no keep-alive throughput, {ep}: {value:.2f}x")
    for r in rows:
        if r["errors"]:
            print(f"errors {r['endpoint']} keep-alive={'on' if r['keepalive'] else 'off'}: {r['error_kinds']}")


# ---------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per case (default 10)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--processes", type=int, default=16,
                   help="client processes; clients are split evenly into threads (default 16, one client each)")
    p.add_argument("--rounds", type=int, default=0,
                   help="interleaved rounds (default: one per 2 s of --seconds, 1 to 5)")
    p.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = p.parse_args(argv)
    if args.clients % args.processes:
        p.error("--clients must be a multiple of --processes")
    if args.rounds <= 0:
        args.rounds = max(1, min(5, int(args.seconds // 2)))
    return args


def benchmark(args, port, token, server_pid) -> dict:
    threads = args.clients // args.processes
    workers = start_workers(args.processes, port, token, threads)
    try:
        tallies = run_cases(workers, args.seconds, args.rounds, server_pid)
    finally:
        stop_workers(workers)
    rows = [summarise(t) for t in tallies]
    setup = {"clients": args.clients, "processes": args.processes, "threads_per_process": threads,
             "seconds": args.seconds, "rounds": args.rounds, "users_listed": MEMBERS + 1,
             "machine": machine()}
    return {"setup": setup, "results": rows, "keepalive_ratio": ratios(rows)}


def main(argv=None) -> int:
    args = parse_args(argv)
    # This tree's server with its own defaults otherwise (front end, 404 ban): only rate limits and logging change.
    server = benchlib.Server(frontend=None, lift_404_ban=False)
    try:
        server.wait_ready(timeout=30)
        token = seed(server.url)
        figures = benchmark(args, server.port, token, server.proc.pid)
    except BaseException:
        server.log.flush()
        sys.stderr.write(server.log_tail(4000))
        raise
    finally:
        code = server.stop(timeout=15)
        shutil.rmtree(server.data_dir, ignore_errors=True)
    print_table(figures["results"], figures["keepalive_ratio"], figures["setup"])
    print(f"server stopped with exit code {code}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
