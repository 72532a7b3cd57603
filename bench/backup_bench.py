"""Backup benchmark: a full backup of a 1 GB database while a writer keeps writing.

What it measures
    On a ~1 GB database (--size-mb) with a writer doing one small write
    transaction every 5 ms (--write-interval-ms):
      - the wall time of one full backup taken with the project's own code,
        crm.backups.service.take(config, conn, "full", "manual"), and its MB/s;
      - the writer's p50, p99 and max transaction latency with no backup
        running (phase A) and while the backup runs (phase B).
    Goal (issue): the writer's p99 during a backup grows by less than 2x,
    i.e. median p99(B) / median p99(A) < 2. Every backup must also pass
    crm.backups.service.verify (SHA-256, integrity_check, row counts).

How
    The database is a fresh CRM_DATA_DIR in a temporary directory, set up
    with the project's own code (crm.config.load, crm.app.prepare_database:
    WAL on, every migration, the default grid), then filled with audit_log
    rows whose `changes` JSON holds a ~4 KB before/after text (what editing a
    long communication body records), in executemany() transactions of 10,000
    rows, until the file reaches --size-mb. audit_log has no FTS triggers, so
    nothing is dropped or recreated and the schema stays exactly as migrated.
    The text is drawn from fixed phrases with a seeded RNG. A few classic
    records (organizations, contacts, communications) are added through the
    normal triggers so the backup's row counts are not all zero.

    The writer has its own connection (crm.db.connect, so the app's pragmas)
    and runs for the whole measurement: every --write-interval-ms it does
    BEGIN IMMEDIATE; INSERT one small audit_log row (every mutation in the
    app writes one); COMMIT, and records the time from BEGIN to the end of
    COMMIT. Slots are on a fixed schedule; a write that overruns pushes the
    next one back (no burst to catch up), and the run reports how many slots
    were missed. By default the writer is a thread in the benchmark process,
    as in the product, where a manual or scheduled backup runs on a request or
    background thread of the server process that also serves the writes
    (--writer process puts it in its own process, to separate the GIL's share
    from SQLite's and the disk's).

    Rounds alternate: phase A (baseline) is --baseline-s seconds with no
    backup; phase B is exactly the duration of one take() on a separate
    connection in the main thread. Writes are assigned to a phase by their
    start time, so B holds only writes that began while the backup ran.
    After each B (and a --settle-s pause) the backup is verified the way the
    scheduler and POST /api/backups/verify do it, service.verify inside
    BEGIN IMMEDIATE; the writer's figures during that are shown as phase V,
    for information only (not part of the goal). There is a --settle-s pause
    before every phase. --rounds A/B pairs (default 3); the table shows each
    round and the medians; the ratio uses the medians. A write that fails
    (SQLITE_BUSY once the 5 s busy timeout runs out) is counted as failed,
    with its time, and the writer carries on.
    Each backup is also split into its stages (online-backup copy, row
    counts, journal_mode=DELETE, fsync + rename, SHA-256, record) by timing
    wrappers around the snapshots functions, with the writer's p99 in each,
    so a miss can be traced to a stage.

    The database is in the page cache after the build (nothing here drops
    caches), so the copy reads from memory and the cost is mostly writing
    1 GB and syncing it, on the same disk as the live database's WAL.

Usage
    .venv/bin/python bench/backup_bench.py [--size-mb 1024] [--rounds 3] [--json out.json]
    .venv/bin/python bench/backup_bench.py --size-mb 50 --baseline-s 3   # smoke run
    .venv/bin/python bench/backup_bench.py --writer process
    Needs at least 4 GB free (more for larger sizes: the database, its WAL and
    one backup per round live in the temporary directory until the end).
    Exit status 0 when the p99 ratio meets the goal and every backup verifies, 1 otherwise.
"""
import argparse
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import BACKEND, machine, median, percentile, print_table  # noqa: E402

sys.path.insert(0, str(BACKEND))

GOAL_RATIO = 2.0
MIN_FREE_BYTES = 4 * 2**30
BATCH_ROWS = 10_000

PHRASES = ["Discussed the fund strategy and target sectors.", "They asked for the latest quarterly letter.",
           "Sent over the deck and the track record summary.", "Interested in a co-invest allocation.",
           "Wants to revisit after their investment committee meets.", "Needs the DDQ and audited financials.",
           "Talked through fees and carry; no objections.", "Introduced us to their CIO.",
           "Timing is tight this year; maybe next close.", "Asked about ESG reporting and climate exposure.",
           "Confirmed the commitment amount verbally.", "Scheduled a follow-up for next month.",
           "Left a voicemail, will try again Friday.", "Met at the conference, strong interest in healthcare.",
           "Reviewing the LPA with counsel.", "Happy with the portfolio marks this quarter.",
           "Raised questions about key-person provisions.", "Will wire funds after the capital call notice.",
           "Shared the updated pipeline and reserves model.", "Their consultant wants a call about the GP commit."]
ACTIONS = ("create", "update", "update", "update", "delete")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- the database

def build_database(data_dir: Path, size_mb: int, seed: int) -> dict:
    """A fresh CRM_DATA_DIR with the project's schema, filled with ~4 KB audit_log rows up to size_mb."""
    from crm import app as crm_app
    from crm import config as crm_config
    from crm.db import connect, transaction

    started = time.perf_counter()
    config = crm_config.load(environ={}, data_dir=data_dir, port=0)
    crm_app.prepare_database(config)
    migrate_s = time.perf_counter() - started

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    # A pool of paragraphs (~2 KB each) combined two at a time: varied text, cheap to make.
    paragraphs = []
    for _ in range(500):
        words, length = [], 0
        while length < 2000:
            words.append(rng.choice(PHRASES))
            length += len(words[-1]) + 1
        paragraphs.append(" ".join(words))
    entity_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(20_000)]
    actor_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(20)]

    def batch(n):
        for _ in range(n):
            at = iso(now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400)))
            changes = json.dumps({"body": [rng.choice(paragraphs), rng.choice(paragraphs)],
                                  "updated_at": [at, at]})
            yield (str(uuid.UUID(int=rng.getrandbits(128), version=4)), at, rng.choice(actor_ids), "user",
                   "communication", rng.choice(entity_ids), rng.choice(ACTIONS), changes,
                   f"req-{rng.getrandbits(48):012x}", "10.0.0.1")

    conn = connect(config.db_path)
    target = size_mb * 2**20
    t0 = time.perf_counter()
    try:
        # Build-only settings on this connection: a big cache so the indexes on random ids do not spill
        # over and over, and no fsync per batch (the file is checkpointed and checked at the end).
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA synchronous=OFF")
        # A handful of classic records through the normal tables and their FTS triggers.
        stamp = iso(now)
        with transaction(conn):
            for i in range(50):
                org_id, contact_id = str(uuid.UUID(int=rng.getrandbits(128), version=4)), str(uuid.UUID(int=rng.getrandbits(128), version=4))
                conn.execute("INSERT INTO organizations (id, name, type, created_at, updated_at) VALUES (?, ?, 'family_office', ?, ?)",
                             (org_id, f"Bench Org {i}", stamp, stamp))
                conn.execute("INSERT INTO contacts (id, first_name, last_name, organization_id, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (contact_id, f"First{i}", f"Last{i}", org_id, stamp, stamp))
                conn.execute("INSERT INTO communications (id, contact_id, type, subject, body, communication_date, created_at, "
                             "updated_at) VALUES (?, ?, 'note', 'Bench note', ?, ?, ?, ?)",
                             (str(uuid.UUID(int=rng.getrandbits(128), version=4)), contact_id, rng.choice(paragraphs), stamp, stamp, stamp))
        page_size = conn.execute("PRAGMA page_size").fetchone()["page_size"]
        while True:
            remaining = target - conn.execute("PRAGMA page_count").fetchone()["page_count"] * page_size
            if remaining <= 0:
                break
            n = min(BATCH_ROWS, max(100, remaining // 4800))  # a row and its index entries take ~4.8 KB
            with transaction(conn):
                conn.executemany("INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes, "
                                 "request_id, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch(n))
        insert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # The build wrote without fsync: flush it now, or the kernel's writeback of 1 GB lands in round 1.
        fd = os.open(config.db_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        checkpoint_s = time.perf_counter() - t0
        counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
                  for t in ("audit_log", "organizations", "contacts", "communications", "communications_fts")}
        journal = conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"]
    finally:
        conn.close()
    if counts["communications_fts"] != counts["communications"]:
        raise RuntimeError("the FTS triggers did not fire")
    if journal.lower() != "wal":
        raise RuntimeError(f"the database is in {journal} mode, not WAL")
    return {"config": config, "db_bytes": config.db_path.stat().st_size, "counts": counts, "page_size": page_size,
            "timings": {"migrate_s": migrate_s, "insert_s": insert_s, "checkpoint_s": checkpoint_s,
                        "total_s": time.perf_counter() - started}}


# ---------------------------------------------------------------- the writer

def writer_loop(db_path, interval_s: float, stop, ready, samples: list) -> None:
    """Small write transactions on a fixed schedule until `stop` is set; appends (start, latency_s, late_slots, failed)."""
    from crm.db import connect

    conn = connect(db_path)
    insert = ("INSERT INTO audit_log (id, at, actor_id, actor_kind, entity_type, entity_id, action, changes) "
              "VALUES (?, ?, NULL, 'system', 'app_setting', 'bench.writer', 'update', ?)")
    try:
        ready.set()
        n = 0
        next_slot = time.perf_counter()
        while not stop.is_set():
            delay = next_slot - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t0 = time.perf_counter()
            failed = 0
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(insert, (uuid.uuid4().hex, iso(datetime.now(timezone.utc)), f'{{"n": [{n - 1}, {n}]}}'))
                conn.execute("COMMIT")
            except sqlite3.OperationalError:  # "database is locked" once the busy timeout runs out: counted, not fatal
                failed = 1
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            t1 = time.perf_counter()
            n += 1
            next_slot += interval_s
            late = 0
            if next_slot < t1:  # overran: skip the slots already gone rather than burst to catch up
                late = int((t1 - next_slot) / interval_s) + 1
                next_slot += late * interval_s
            samples.append((t0, t1 - t0, late, failed))
    finally:
        conn.close()


def _writer_process(db_path, interval_s, stop, ready, pipe) -> None:
    sys.path.insert(0, str(BACKEND))
    samples = []
    writer_loop(db_path, interval_s, stop, ready, samples)
    pipe.send(samples)
    pipe.close()


class Writer:
    """The writer as a thread of this process (default) or as its own process; same loop either way."""

    def __init__(self, db_path, interval_s: float, mode: str):
        self.mode = mode
        if mode == "thread":
            self.stop, self.ready, self.samples = threading.Event(), threading.Event(), []
            self.worker = threading.Thread(target=writer_loop, args=(db_path, interval_s, self.stop, self.ready, self.samples),
                                           name="writer", daemon=True)
        else:
            ctx = multiprocessing.get_context("spawn")  # no fork of open SQLite connections
            self.stop, self.ready = ctx.Event(), ctx.Event()
            self.receive, send = ctx.Pipe(duplex=False)
            self.worker = ctx.Process(target=_writer_process, args=(str(db_path), interval_s, self.stop, self.ready, send),
                                      name="writer", daemon=True)

    def start(self) -> None:
        self.worker.start()
        if not self.ready.wait(60):
            raise RuntimeError("the writer did not start")

    def finish(self) -> list:
        self.stop.set()
        if self.mode == "thread":
            self.worker.join(60)
            return self.samples
        samples = self.receive.recv()  # perf_counter is CLOCK_MONOTONIC: comparable across processes
        self.worker.join(60)
        return samples


# ---------------------------------------------------------------- the backup, timed by stage

class StageClock:
    """Timing wrappers around the snapshots functions take() goes through; records (name, start, end)."""

    WRAPPED = ("write_full", "row_counts", "_publish", "sha256_of")

    def __init__(self, snapshots):
        self.snapshots = snapshots
        self.marks = []
        self.originals = {name: getattr(snapshots, name) for name in self.WRAPPED}
        for name, original in self.originals.items():
            setattr(snapshots, name, self._wrap(name, original))

    def _wrap(self, name, original):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.marks.append((name, t0, time.perf_counter()))
        return timed

    def restore(self) -> None:
        for name, original in self.originals.items():
            setattr(self.snapshots, name, original)

    def stages(self, start: float, end: float) -> list:
        """The backup between start and end as consecutive (stage, t0, t1) windows."""
        got = {name: (t0, t1) for name, t0, t1 in self.marks if start <= t0 <= end}
        full, counts, publish, digest = (got.get(n) for n in ("write_full", "row_counts", "_publish", "sha256_of"))
        if not (full and counts and publish and digest):
            return [("whole backup", start, end)]  # the code changed shape; no split
        return [("copy (online backup API)", full[0], counts[0]),
                ("row counts of the copy", counts[0], counts[1]),
                ("journal_mode=DELETE", counts[1], publish[0]),
                ("fsync + rename", publish[0], publish[1]),
                ("SHA-256 of the file", digest[0], digest[1]),
                ("record (insert + audit)", digest[1], end)]


# ---------------------------------------------------------------- measurement

def summarise(name, samples, window) -> dict:
    t0, t1 = window
    picked = [s for s in samples if t0 <= s[0] < t1]
    lat = sorted(s[1] * 1000 for s in picked)
    return {"phase": name, "seconds": t1 - t0, "writes": len(lat), "late_slots": sum(s[2] for s in picked),
            "failed": sum(s[3] for s in picked),
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": lat[-1] if lat else float("nan")}


def wal_bytes(db_path: Path) -> int:
    try:
        return Path(str(db_path) + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def phase_cells(r) -> tuple:
    return (r["phase"], str(r["writes"]), str(r["late_slots"]), str(r["failed"]), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
            f"{r['max_ms']:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="database size to build (default 1024)")
    parser.add_argument("--write-interval-ms", type=float, default=5.0, help="the writer's pace (default one write per 5 ms)")
    parser.add_argument("--baseline-s", type=float, default=10.0, help="length of each phase A (default 10 s)")
    parser.add_argument("--settle-s", type=float, default=2.0, help="pause before each phase (default 2 s)")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs (default 3)")
    parser.add_argument("--writer", choices=("thread", "process"), default="thread",
                        help="run the writer as a thread of this process (default, as in the server) or as its own process")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--tmp", type=Path, default=None, help="where to make the temporary directory (default: the system's)")
    args = parser.parse_args(argv)

    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    parent = args.tmp or Path(tempfile.gettempdir())
    need = max(MIN_FREE_BYTES, args.size_mb * 2**20 * (args.rounds + 3))  # database + WAL slack + one backup per round
    free = shutil.disk_usage(parent).free
    if free < need:
        print(f"refusing to run: {free / 2**30:.1f} GB free in {parent}, this run needs at least {need / 2**30:.1f} GB "
              f"(database, its WAL and {args.rounds} backups of ~{args.size_mb} MB). Free some space, pass a smaller "
              f"--size-mb or --rounds, or point --tmp elsewhere.", file=sys.stderr)
        return 2

    from crm.backups import service, snapshots
    from crm.db import connect

    data_dir = Path(tempfile.mkdtemp(prefix="crm-backup-bench-", dir=parent))
    writer = clock = conn = None
    try:
        print(f"building: ~{args.size_mb} MB of audit_log rows (~4 KB each) in {data_dir} ...", flush=True)
        built = build_database(data_dir, args.size_mb, args.seed)
        config = built["config"]
        t = built["timings"]
        db_mb = built["db_bytes"] / 2**20
        print(f"built in {t['total_s']:.1f} s (migrations {t['migrate_s']:.2f} s, inserting {t['insert_s']:.1f} s, "
              f"checkpoint + fsync {t['checkpoint_s']:.1f} s); database {db_mb:.0f} MiB, page size {built['page_size']}")
        print("rows: " + ", ".join(f"{k} {n:,}" for k, n in built["counts"].items()))

        conn = connect(config.db_path)  # the backup's own connection, as a request or the scheduler would have
        interval = args.write_interval_ms / 1000
        writer = Writer(config.db_path, interval, args.writer)
        writer.start()
        clock = StageClock(snapshots)
        print(f"measuring: writer ({args.writer}) one write per {args.write_interval_ms:g} ms; {args.rounds} rounds of "
              f"A = {args.baseline_s:g} s without a backup, B = one full backup ...", flush=True)
        windows, backups = [], []
        for round_no in range(1, args.rounds + 1):
            time.sleep(args.settle_s)
            a0 = time.perf_counter()
            time.sleep(args.baseline_s)
            windows.append(("A", round_no, (a0, time.perf_counter())))
            time.sleep(args.settle_s)
            wal_before = wal_bytes(config.db_path)
            b0 = time.perf_counter()
            record = service.take(config, conn, "full", "manual")
            b1 = time.perf_counter()
            windows.append(("B", round_no, (b0, b1)))
            wal_after = wal_bytes(config.db_path)
            time.sleep(args.settle_s)
            v0 = time.perf_counter()
            check = service.verify(config, conn, record["id"])  # as POST /api/backups/verify calls it
            v1 = time.perf_counter()
            windows.append(("V", round_no, (v0, v1)))
            backups.append({"round": round_no, "id": record["id"], "file": record["file"], "bytes": record["size"],
                            "seconds": b1 - b0, "mb_per_s": record["size"] / 2**20 / (b1 - b0), "verify_seconds": v1 - v0,
                            "verified_ok": check["ok"], "verify_detail": check["detail"],
                            "wal_bytes_before": wal_before, "wal_bytes_after": wal_after,
                            "stages": [(name, s1 - s0) for name, s0, s1 in clock.stages(b0, b1)],
                            "windows": clock.stages(b0, b1)})
            print(f"  round {round_no}: backup {b1 - b0:.2f} s, {'verified' if check['ok'] else 'VERIFY FAILED: ' + check['detail']}",
                  flush=True)
        samples = writer.finish()
        writer = None

        labels = {"A": "baseline", "B": "during backup", "V": "during verify (not in the goal)"}
        rounds_out, by_phase = [], {"A": [], "B": [], "V": []}
        for phase, round_no, window in windows:
            row = summarise(f"{phase}{round_no} {labels[phase]}", samples, window)
            by_phase[phase].append(row)
            rounds_out.append(row)
        a_rows, b_rows = by_phase["A"], by_phase["B"]
        med = lambda rows, key: median([r[key] for r in rows])  # noqa: E731
        med_rows = [{"phase": f"{phase} {labels[phase]} (median)", "seconds": med(rows, "seconds"), "writes": int(med(rows, "writes")),
                     "late_slots": int(med(rows, "late_slots")), "failed": int(med(rows, "failed")), "p50_ms": med(rows, "p50_ms"),
                     "p99_ms": med(rows, "p99_ms"), "max_ms": med(rows, "max_ms")}
                    for phase, rows in by_phase.items()]
        ratio = med_rows[1]["p99_ms"] / med_rows[0]["p99_ms"]
        per_round_ratio = [b["p99_ms"] / a["p99_ms"] for a, b in zip(a_rows, b_rows)]
        all_ok = all(b["verified_ok"] for b in backups)

        print()
        head = ("phase", "writes", "late slots", "failed", "p50 ms", "p99 ms", "max ms")
        print_table(head, [phase_cells(r) for r in rounds_out] + [phase_cells(r) for r in med_rows])
        print()
        print_table(("backup", "seconds", "MiB", "MiB/s", "WAL before", "WAL after", "verify", "verify s"),
                    [(f"round {b['round']}", f"{b['seconds']:.2f}", f"{b['bytes'] / 2**20:.0f}", f"{b['mb_per_s']:.0f}",
                      f"{b['wal_bytes_before'] / 2**20:.1f} MiB", f"{b['wal_bytes_after'] / 2**20:.1f} MiB",
                      "ok" if b["verified_ok"] else "FAILED", f"{b['verify_seconds']:.2f}") for b in backups]
                    + [("median", f"{median([b['seconds'] for b in backups]):.2f}",
                        f"{median([b['bytes'] for b in backups]) / 2**20:.0f}", f"{median([b['mb_per_s'] for b in backups]):.0f}",
                        "", "", "ok" if all_ok else "FAILED", f"{median([b['verify_seconds'] for b in backups]):.2f}")])
        print()
        stage_names = [name for name, _ in backups[0]["stages"]]
        stage_rows = []
        for i, name in enumerate(stage_names):
            per = [summarise(name, samples, b["windows"][i][1:]) for b in backups if len(b["windows"]) > i]
            stage_rows.append({"stage": name, "seconds": median([b["stages"][i][1] for b in backups]),
                               "writes": int(median([p["writes"] for p in per])),
                               "p99_ms": median([p["p99_ms"] for p in per if p["writes"]]),
                               "max_ms": max((p["max_ms"] for p in per if p["writes"]), default=float("nan"))})
        print_table(("backup stage (median over rounds)", "seconds", "writes", "writer p99 ms", "writer max ms"),
                    [(s["stage"], f"{s['seconds']:.2f}", str(s["writes"]), f"{s['p99_ms']:.2f}", f"{s['max_ms']:.2f}")
                     for s in stage_rows])
        print()
        print(f"p99 ratio B/A (medians): {med_rows[1]['p99_ms']:.2f} / {med_rows[0]['p99_ms']:.2f} ms = {ratio:.2f}x "
              f"(per round: {', '.join(f'{r:.2f}x' for r in per_round_ratio)})")
        met = ratio < GOAL_RATIO
        print(f"goal: writer p99 grows by less than {GOAL_RATIO:g}x during a backup -> {'met' if met else 'MISSED'}; "
              f"backups verified: {'ok' if all_ok else 'FAILED'}")
        if args.json:
            Path(args.json).write_text(json.dumps({
                "machine": info, "size_mb": args.size_mb, "db_bytes": built["db_bytes"], "rows": built["counts"],
                "build": built["timings"], "writer": args.writer, "write_interval_ms": args.write_interval_ms,
                "baseline_s": args.baseline_s, "rounds": args.rounds, "seed": args.seed,
                "phases": rounds_out, "medians": med_rows, "p99_ratio": ratio, "p99_ratio_per_round": per_round_ratio,
                "goal_ratio": GOAL_RATIO, "pass": met,
                "backups": [{k: v for k, v in b.items() if k != "windows"} for b in backups], "stages": stage_rows,
            }, indent=2) + "\n")
            print(f"wrote {args.json}")
        return 0 if met and all_ok else 1
    finally:
        if writer is not None:
            writer.finish()
        if clock is not None:
            clock.restore()
        if conn is not None:
            conn.close()
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
