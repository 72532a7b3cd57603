"""Gmail capture benchmark: the backfill of a 20,000-message mailbox through the stand-in Google.

What it measures
    The issue's goals for one mailbox of --messages (20,000) messages, 10 % of
    them mail with grid contacts:
      - local throughput: messages / the sync run's duration, the run being
        list + metadata + the capture rules and the matcher + full bodies of
        matched mail + store: >= 500 messages/s, ten times what Google's quota
        allows a mailbox (250 units/s over ~5.5 units a message is ~45/s), so
        that the quota, never the CRM, is what limits a real backfill;
      - quota units per message: the units the stand-in charged the mailbox
        and the run record's `units`, against the least the design needs:
        messages.list 5 a page of 500, messages.get format=metadata 5 a
        message, format=full 5 a matched message, and once a run getProfile 1
        and labels.list 1 (reported as a ratio; no goal beyond it);
      - peak memory: the server process's peak resident set while it syncs:
        <= 200 MiB.
    Also reported: the server's and the stand-in's CPU seconds over the run
    (which of the two processes the wall time went to), the attachment
    downloads that follow the run (5 units each, not in the run), and what the
    quota would allow at CRM_GMAIL_RATE_UNITS_SEC's default and at Google's
    limit.

How
    The stand-in Google (tests/fakes/google.py) runs in a child process,
    bench/fake_google_process.py, which builds the mailbox itself from
    --seed and --messages (nothing large crosses the pipe, and its stored
    messages are not in the server's memory). Mail over two years, oldest
    first: exactly 10 % matched mail, from one of the grid contacts (70 %) or
    sent to one (30 %, SENT), 40 % of it replies in an earlier thread, 40 %
    with an HTML alternative, 3 % with a 2-20 KB PDF attachment; the rest from
    senders at domains no investor has, one in nine of them a newsletter with
    List-Unsubscribe (skipped as bulk after the metadata fetch). Messages are
    0.4-4 KB of text (median 1 KB), up to 29 KB with an attachment.

    The sync is the real server, backend/server.py, as a subprocess over a
    fresh CRM_DATA_DIR (benchlib.Server), with capture on against the stand-in
    (CRM_GMAIL_INTEGRATION_ENABLED, CRM_GMAIL_API_BASE_URL, CRM_GMAIL_TOKEN_URI,
    a service account key the stand-in trusts, domain fund.example) and the
    quota lifted on both sides for the throughput run: CRM_GMAIL_RATE_UNITS_SEC
    = 1,000,000,000 (the mailbox's token bucket never waits) and the
    stand-in's per-user limit as high (it still counts every unit). The first
    admin registers (admin@fund.example, the mailbox), automatic backups are
    switched off (the backup loop first runs a minute after start-up) and one
    ops request adds --investors (200) grid investors with 1-2 contacts each,
    while the child fills the mailbox. Once it is full, POST
    /api/email/accounts/enroll-all enrolls the mailbox (not earlier: the
    scheduler's first step, a minute after start-up, would start the backfill
    of a half-filled mailbox; the run record's trigger is printed). Then the
    server's peak RSS is reset (writing 5 to /proc/<pid>/clear_refs), POST
    /api/email/sync/run-now starts the backfill and GET /api/email/status is
    polled every 0.1 s until the run is recorded, then until no attachment is
    pending. Throughput uses the run record's duration_ms (the server's own
    clock around the sync; the client's wall time to seeing it finished is
    printed beside it). Peak RSS is the server's VmHWM once the attachments
    are in. "server CPU s" and "stand-in CPU s" are each process's CPU time
    over the run (from /proc, 10 ms ticks): the two take turns (the sync
    waits for each answer), and the server's CPU is the sync's own cost, less
    disturbed by a busy machine than the wall time.

    Checks (the run fails otherwise): the run's status is ok, it listed every
    message, matched exactly the matched mail and fetched a body for each.

    --profile PATH does the same set-up, stops the server before the sync and
    runs that sync in this process under cProfile (the same Capture.sync the
    run-now thread calls, so the main thread is the one profiled), then prints
    where the time went; its throughput carries cProfile's overhead and is
    not a figure to record.

Usage
    .venv/bin/python bench/sync_bench.py [--messages 20000] [--json out.json]
    .venv/bin/python bench/sync_bench.py --quick                      # 1,000 messages: does it work
    .venv/bin/python bench/sync_bench.py --messages 2000 --profile /tmp/sync.prof
    .venv/bin/python bench/sync_bench.py --backend /tmp/other-checkout/backend
    Exit status 0 when the throughput and memory goals are met, 1 otherwise.
"""
import argparse
import cProfile
import io
import json
import math
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BACKEND, cpu_seconds, machine, reset_peak  # noqa: E402
from fake_google_process import investors  # noqa: E402

FAKE_SCRIPT = Path(__file__).resolve().parent / "fake_google_process.py"
DOMAIN = "fund.example"
MAILBOX = benchlib.ADMIN["email"]
UNLIMITED = 1_000_000_000  # units a second (the bucket) or a minute (the stand-in): never reached
PAGE = 500                 # CRM_GMAIL_BACKFILL_PAGE_SIZE's default and Gmail's largest page
LIST_UNITS, GET_UNITS, ATTACHMENT_UNITS, PER_RUN_UNITS = 5, 5, 5, 1 + 1  # getProfile + labels.list
DEFAULT_RATE, GOOGLE_RATE = 150, 250  # CRM_GMAIL_RATE_UNITS_SEC's default; Google's 15,000 a minute
GOAL_RATE = 500.0
GOAL_RSS_MIB = 200.0
POLL_S = 0.1


# ---------------------------------------------------------------- the stand-in Google

class FakeGoogleProcess:
    """bench/fake_google_process.py as a child: its endpoints at once, the filled mailbox's facts later."""

    def __init__(self, messages: int, investor_count: int, seed: int, key_file: Path):
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKE_SCRIPT), "--user", MAILBOX, "--key-file", str(key_file),
             "--messages", str(messages), "--investors", str(investor_count), "--seed", str(seed),
             "--quota-per-minute", str(UNLIMITED)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(benchlib.ROOT))
        self.endpoints = self._line()

    def _line(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the stand-in Google exited with code {self.proc.wait()}")
        return json.loads(line)

    def filled(self) -> dict:
        return self._line()

    def stats(self) -> dict:
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return self._line()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- the server

class Server(benchlib.Server):
    """The CRM with capture on against the stand-in, the quota bucket lifted."""

    def __init__(self, backend: Path, fake: dict, key_file: Path):
        super().__init__(label="sync", backend=backend, prefix="crm-sync-bench-", **capture_env(fake, key_file))

    def ok(self, method, path, body=None, expect=200) -> dict:
        status, payload, _ = self.request(method, path, json.dumps(body).encode() if body is not None else None)
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status} (expected {expect}): {payload[:500]!r}")
        return json.loads(payload)["data"]


def capture_env(fake: dict, key_file: Path) -> dict:
    return {"CRM_GMAIL_INTEGRATION_ENABLED": "1", "CRM_GMAIL_WORKSPACE_DOMAIN": DOMAIN,
            "CRM_GMAIL_SA_KEY_PATH": str(key_file), "CRM_GMAIL_API_BASE_URL": fake["url"],
            "CRM_GMAIL_TOKEN_URI": fake["token_url"], "CRM_GMAIL_RATE_UNITS_SEC": str(UNLIMITED)}


def set_up(server: Server, investor_count: int, seed: int) -> None:
    """The admin, no automatic backups, the grid's investors."""
    server.token = server.ok("POST", "/api/auth/register", benchlib.ADMIN, expect=201)["token"]
    status, payload, _ = server.request("PATCH", "/api/fundraising/backup-policy", json.dumps({"enabled": False}).encode())
    if status != 200:
        raise RuntimeError(f"PATCH /api/fundraising/backup-policy answered {status}: {payload[:300]!r}")
    state = server.ok("GET", "/api/fundraising/state")
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    ops = [{"op": "add_row", "cells": {key["name"]: inv["name"], key["contacts"]: inv["contacts"]}}
           for inv in investors(seed, investor_count)]
    server.ok("POST", "/api/fundraising/ops", {"base_version": state["version"], "ops": ops})


def enroll(server: Server) -> str:
    """Enroll the workspace's mailboxes; returns the account id of MAILBOX."""
    enrolled = server.ok("POST", "/api/email/accounts/enroll-all")["enrolled"]
    found = [a["id"] for a in enrolled if a["email"] == MAILBOX]
    if not found:
        raise RuntimeError(f"enroll-all did not enroll {MAILBOX}: {enrolled}")
    return found[0]


# ---------------------------------------------------------------- memory

def proc_status(pid: int, field: str) -> int:
    """A /proc/<pid>/status field in KiB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


# ---------------------------------------------------------------- the run

def account_status(server: Server, account_id: str) -> dict:
    accounts = server.ok("GET", "/api/email/status")["accounts"]
    return next(a for a in accounts if a["id"] == account_id)


def measure(server: Server, fake: FakeGoogleProcess, account_id: str, timeout: float) -> dict:
    """Run-now, poll until the run and then the attachment downloads are over (RuntimeError after
    `timeout` seconds); figures of both."""
    pid = server.proc.pid
    rss_before = proc_status(pid, "VmRSS")
    peak_reset = reset_peak(pid)
    cpu0, fake_cpu0 = cpu_seconds(pid), cpu_seconds(fake.proc.pid)
    t0 = time.perf_counter()
    server.ok("POST", "/api/email/sync/run-now", {"account_id": account_id}, expect=202)
    deadline = time.monotonic() + timeout
    while True:
        status = account_status(server, account_id)
        run = status["last_run"]
        if run and run["status"] != "running":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sync did not finish in {timeout:.0f} s: {status}")
        time.sleep(POLL_S)
    wall = time.perf_counter() - t0
    cpu, fake_cpu = cpu_seconds(pid) - cpu0, cpu_seconds(fake.proc.pid) - fake_cpu0
    peak_run = proc_status(pid, "VmHWM")
    pending_at_end = status["backlog"]["attachments_pending"]
    while status["backlog"]["attachments_pending"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"attachments still pending after {timeout:.0f} s: {status['backlog']}")
        time.sleep(POLL_S)
        status = account_status(server, account_id)
    attachments_s = time.perf_counter() - t0 - wall
    return {"run": run, "wall_s": wall, "server_cpu_s": cpu, "fake_cpu_s": fake_cpu,
            "rss_before_kib": rss_before, "peak_reset": peak_reset, "peak_run_kib": peak_run,
            "peak_kib": proc_status(pid, "VmHWM"), "attachments_pending_after_run": pending_at_end,
            "attachments_s": attachments_s, "fake": fake.stats()}


def minimum_units(messages: int, matched: int) -> int:
    return LIST_UNITS * max(1, math.ceil(messages / PAGE)) + GET_UNITS * messages + GET_UNITS * matched + PER_RUN_UNITS


def check(run: dict, facts: dict) -> None:
    want = {"status": "ok", "listed": facts["messages"], "matched": facts["matched"], "fetched": facts["matched"]}
    got = {k: run[k] for k in want}
    if got != want:
        raise RuntimeError(f"the run did not do what the mailbox asks: {got} (expected {want}); error: {run.get('error')}")


def profile(args, fake: FakeGoogleProcess, key_file: Path, server: Server, account_id: str) -> None:
    """The same sync in this process under cProfile: the server is stopped, its data directory reused."""
    sys.path.insert(0, str(args.backend.resolve()))
    from crm import config as config_module
    from crm.app import App
    server.stop()
    env = benchlib.server_env(str(server.data_dir), server.port, **capture_env(fake.endpoints, key_file))
    app = App(config_module.load(env))
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    run = app.email.sync(account_id)
    profiler.disable()
    seconds = time.perf_counter() - t0
    app.pool.close_all()
    profiler.dump_stats(args.profile)
    print(f"profiled run: {run['status']}, listed {run['listed']:,}, matched {run['matched']:,}, "
          f"{seconds:.2f} s under cProfile ({run['listed'] / seconds:,.0f} messages/s with its overhead); "
          f"wrote {args.profile}")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print(f"\n-- top 25 by {order} --")
        print(out.getvalue().strip())


# ---------------------------------------------------------------- report

def report(messages: int, facts: dict, m: dict) -> list:
    run = m["run"]
    seconds = run["duration_ms"] / 1000
    rate = messages / seconds
    minimum = minimum_units(messages, facts["matched"])
    attachments = m["fake"]["calls"].get("messages.attachments.get", 0)
    fake_sync_units = m["fake"]["units"] - ATTACHMENT_UNITS * attachments
    peak_mib = m["peak_kib"] / 1024
    head = ("messages", "matched", "wall s", "messages/s", "server CPU s", "stand-in CPU s", "units total",
            "units/message", "minimum units/message", "ratio", "peak RSS MiB")
    body = [(f"{messages:,}", f"{facts['matched']:,}", f"{seconds:.2f}", f"{rate:,.0f}", f"{m['server_cpu_s']:.2f}",
             f"{m['fake_cpu_s']:.2f}", f"{run['units']:,}", f"{run['units'] / messages:.3f}",
             f"{minimum / messages:.3f}", f"{run['units'] / minimum:.3f}", f"{peak_mib:.1f}")]
    benchlib.print_table(head, body, left=())
    print(f"\nwall s is the run record's duration (the server's clock around list + metadata + match + full + store); "
          f"the client saw it finished after {m['wall_s']:.2f} s (polling every {POLL_S} s)")
    print(f"units: run record {run['units']:,}; the stand-in charged {m['fake']['units']:,}, of which "
          f"{ATTACHMENT_UNITS * attachments:,} for {attachments} attachment download(s) after the run, so "
          f"{fake_sync_units:,} for the sync; minimum {minimum:,} = {LIST_UNITS} x {max(1, math.ceil(messages / PAGE))} "
          f"pages + {GET_UNITS} x {messages:,} metadata + {GET_UNITS} x {facts['matched']:,} full + {PER_RUN_UNITS}")
    print("calls at the stand-in: " + ", ".join(f"{k} {v:,}" for k, v in sorted(m["fake"]["calls"].items()))
          + f"; {m['fake']['batches']:,} batch requests, the largest of {m['fake']['largest_batch']}; "
          f"quota refusals {m['fake']['quota_violations']}")
    print(f"run record ({run['trigger']} trigger): listed {run['listed']:,}, fetched {run['fetched']:,}, "
          f"stored {run['stored']:,}, matched {run['matched']:,}, skipped {json.dumps(run['skipped'], sort_keys=True)}")
    print(f"CPU over the run: server {m['server_cpu_s']:.2f} s ({m['server_cpu_s'] / seconds:.0%} of a core, "
          f"{messages / m['server_cpu_s']:,.0f} messages per CPU second), stand-in {m['fake_cpu_s']:.2f} s "
          f"({m['fake_cpu_s'] / seconds:.0%} of a core)")
    print(f"memory: server RSS {m['rss_before_kib'] / 1024:.1f} MiB before the run, peak "
          f"{m['peak_run_kib'] / 1024:.1f} MiB by its end, {peak_mib:.1f} MiB after the attachments "
          f"({'peak reset before the run' if m['peak_reset'] else 'peak NOT reset: it includes start-up and set-up'})")
    print(f"attachments: {m['attachments_pending_after_run']} pending when the client saw the run end, all downloaded "
          f"{m['attachments_s']:.2f} s later")
    per_message = minimum / messages
    print(f"the quota allows {DEFAULT_RATE / per_message:.0f} messages/s at CRM_GMAIL_RATE_UNITS_SEC's default "
          f"({DEFAULT_RATE} units/s) and {GOOGLE_RATE / per_message:.0f} at Google's limit ({GOOGLE_RATE}); "
          f"measured {rate:,.0f} is {rate / (GOOGLE_RATE / per_message):.1f}x Google's")
    goals = [("throughput", f">= {GOAL_RATE:.0f} messages/s", f"{rate:,.0f}", rate >= GOAL_RATE),
             ("peak RSS", f"<= {GOAL_RSS_MIB:.0f} MiB", f"{peak_mib:.1f}", peak_mib <= GOAL_RSS_MIB),
             ("units", "at the minimum", f"{run['units'] / minimum:.3f}x", None)]
    print()
    benchlib.print_table(("goal", "target", "measured", "result"),
                         [(g, t, v, "-" if ok is None else "pass" if ok else "FAIL") for g, t, v, ok in goals])
    return [{"goal": g, "target": t, "measured": v, "pass": ok} for g, t, v, ok in goals]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages in the mailbox")
    parser.add_argument("--investors", type=int, default=200, help="grid investors (1-2 contacts each)")
    parser.add_argument("--quick", action="store_true", help="1,000 messages: check that the script works")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", metavar="PATH", help="run the sync in this process under cProfile instead")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--backend", type=Path, default=BACKEND, help="the backend folder to run (default: this checkout's)")
    args = parser.parse_args(argv)
    messages = 1_000 if args.quick else args.messages
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="crm-sync-bench-key-"))
    key_file = work / "service-account.json"
    fake = FakeGoogleProcess(messages, args.investors, args.seed, key_file)
    server = None
    try:
        server = Server(args.backend.resolve(), fake.endpoints, key_file)
        server.wait_ready()
        set_up(server, args.investors, args.seed)
        facts = fake.filled()
        account_id = enroll(server)
        print(f"mailbox: {facts['messages']:,} messages ({facts['raw_bytes'] / 2**20:.1f} MiB raw), "
              f"{facts['matched']:,} matched ({facts['attachments']} with an attachment), "
              f"{facts['newsletters']:,} newsletters; filled in {facts['fill_s']:.1f} s; "
              f"{args.investors} grid investors", flush=True)
        if args.profile:
            profile(args, fake, key_file, server, account_id)
            return 0
        m = measure(server, fake, account_id, timeout=300 + messages / 20)  # 20/s: far below any run seen
        check(m["run"], facts)
        print()
        goals = report(messages, facts, m)
    except BaseException:
        if server is not None:
            print("server log (tail):\n" + server.log_tail(), file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
            if args.keep:
                print(f"kept {server.data_dir}")
            else:
                shutil.rmtree(server.data_dir, ignore_errors=True)
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average now {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) on {info['nproc']} CPUs, "
          f"{load_before[0]:.2f} at the start")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": info, "messages": messages, "investors": args.investors, "seed": args.seed, "mailbox": facts,
            "minimum_units": minimum_units(messages, facts["matched"]), "measured": m, "goals": goals,
            "load_average_start": load_before, "load_average_end": load}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if all(g["pass"] is not False for g in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
