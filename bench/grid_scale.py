"""The grid at 100,000 investors: `bench/grid_bench.py --scale` (the rest of grid_bench.py is the 500 / 10,000 run).

What it measures (issue 21, "At 100,000 investors", the server's part)
    Two servers side by side: a 500-row grid and a --scale-row grid (default
    100,000), both 40 columns as grid_bench builds them, and on them:
      - set_cell p50 at the large size / p50 at 500 rows, requests alternating
        between the two servers round by round: goal <= 1.5;
      - a saved view (grid_bench's: a nested AND/OR filter, a 2-column sort),
        its first page as the SPA asks for it (GET /api/fundraising/rows?view_id=..
        &limit=<frontend/config.js TIMING.firstPage>): "cold" is the first read
        after a set_cell moved the version (what a user sees after an edit;
        views are cached per snapshot), "cached" the same request again:
        goal <= 500 ms cold;
      - the server's resident memory from /proc/<pid>/status: VmHWM (peak) and
        VmRSS (steady, at the end) with the grid loaded and the views used:
        goal <= 1.5 GiB;
      - restart to ready: SIGTERM, start the same data directory again, and
        time until GET /api/ready answers 200 ("up"), until the grid's first
        page of rows is served (the snapshot is built lazily, on the first
        read: "ready" for a user) and until the view's first page is served:
        goal <= 10 s to the first page;
      - the rest of the path, timed a few times (no goal of their own): the CSV
        import the SPA uses (preview + commit, which is also how the large
        grid is built), GET export (JSON and CSV), a row's history, search
        (`q=`), a group-by view's first page, backups (full and grid: take +
        verify), a column op (add_column: the snapshot is rebuilt) with the
        longest wait of a second client reading the first page meanwhile,
        archive and restore of a row, GET /changes and GET state (every row).

How
    The 500-row grid is built through the ops API (grid_bench.build_grid). The
    large one gets its 30 columns and the view through the API too, then its
    rows through the import: the same generator's rows (make_cells) written as
    the export writes cells (contacts "Name <email>", lists comma-separated,
    checkboxes "checked"), previewed as text/csv and committed (multipart:
    file + options, mode "append": names repeat) with the preview's
    suggestions, which map every header onto its existing column. Formula
    columns are computed by the import. --large-data DIR instead copies a kept
    data directory (--keep) holding such a grid. One client, requests one at a
    time over one keep-alive connection per server (the column-op case adds a
    second connection). Latency is the client's wall time for request + full
    response.

Usage
    .venv/bin/python bench/grid_bench.py --scale 100000 [--json out.json] [--keep]
    .venv/bin/python bench/grid_bench.py --scale 5000 --scale-rounds 20     # smoke run
    .venv/bin/python bench/grid_bench.py --scale 100000 --large-data /tmp/kept-dir   # reuse a kept grid
    .venv/bin/python bench/grid_bench.py --scale 100000 --large-data /tmp/kept-dir --baseline /tmp/old/backend
        # side by side: the edits, views, memory and restarts of both trees over copies of one kept grid
"""
import json
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import quote

import benchlib
import grid_bench
from benchlib import FRONTEND, median, percentile, reset_peak

GOAL_RATIO = 1.5
GOAL_VIEW_MS = 500.0
GOAL_RSS_BYTES = 1.5 * 2**30
GOAL_RESTART_S = 10.0
VIEW_NAME = "Active pipeline (bench)"
GROUP_VIEW = "By status (bench)"
FORMULA_NAMES = {name for name, _ in grid_bench.FORMULAS}


def first_page_size(frontend: Path = FRONTEND) -> int:
    """TIMING.firstPage from the SPA's config.js: the page the grid asks for first."""
    found = re.search(r"firstPage:\s*(\d+)", (frontend / "config.js").read_text())
    return int(found.group(1)) if found else 100


def memory(pid: int) -> dict:
    """{rss, peak} in bytes, from /proc/<pid>/status (VmRSS, VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) * 1024, "peak": int(fields["VmHWM"].split()[0]) * 1024}


# ---------------------------------------------------------------- the large grid, through the import

def cell_text(value) -> str:
    """A cell as the export writes it (what the importer reads back)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "checked"
    if isinstance(value, list):
        return ", ".join(f"{p['name']} <{p['email']}>" if isinstance(p, dict) else str(p) for p in value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def grid_csv(rows: int, ids: dict, seed: int) -> bytes:
    """`rows` rows of make_cells as a CSV of every column but the formulas, headed by the column names."""
    import csv
    import io
    import random
    rng = random.Random(seed)
    names = [name for name in ids if name not in FORMULA_NAMES]
    orgs = sorted({f"{rng.choice(grid_bench.ORG_WORDS)} {rng.choice(grid_bench.ORG_WORDS)} {rng.choice(grid_bench.ORG_SUFFIXES)}"
                   for _ in range(max(10, rows // 3))})
    today = date.today()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for n in range(rows):
        cells = grid_bench.make_cells(rng, n, ids, orgs, today)
        writer.writerow([cell_text(cells.get(ids[name])) for name in names])
    return out.getvalue().encode("utf-8")


def multipart(data: bytes, options: dict) -> tuple:
    """(body, content type) of a form with the file and its options, as the SPA's import sends them."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="grid.csv"\r\n'
             "Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n",
             f'--{boundary}\r\nContent-Disposition: form-data; name="options"\r\n'
             "Content-Type: application/json\r\n\r\n".encode() + json.dumps(options).encode() + b"\r\n"]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def build_by_import(server, rows: int, seed: int) -> dict:
    """The 30 columns and the view through the API, then `rows` rows through the CSV import; its timings."""
    import random
    rng = random.Random(seed)
    state = server.ok("GET", "/api/fundraising/state")["data"]
    ids = {c["name"]: c["id"] for c in state["grid"]["columns"]}
    ops, added = grid_bench.column_ops(rng)
    ids.update(added)
    server.ok("POST", "/api/fundraising/ops", {"base_version": state["version"], "ops": ops})
    server.ok("POST", "/api/fundraising/views", {"name": VIEW_NAME, "shared": True, "config": grid_bench.view_config(ids)},
              expect=201)
    t0 = time.perf_counter()
    data = grid_csv(rows, ids, seed + 1)
    made_s = time.perf_counter() - t0
    status, payload, preview_s = server.request("POST", "/api/fundraising/import/preview", data, "text/csv")
    if status != 200:
        raise RuntimeError(f"{server.label}: import preview answered {status}: {payload[:500]!r}")
    preview = json.loads(payload)["data"]
    if preview["problem_count"]:
        raise RuntimeError(f"{server.label}: the preview found problems: {preview['problems'][:3]}")
    mapping = {c["header"]: c["suggested"] for c in preview["columns"]}
    created = [h for h, m in mapping.items() if "column_id" not in m]
    if created:
        raise RuntimeError(f"{server.label}: the preview would create columns {created}")
    body, kind = multipart(data, {"mapping": mapping, "keys": ["Investor"], "mode": "append"})
    status, payload, commit_s = server.request("POST", "/api/fundraising/import/commit", body, kind)
    if status != 201:
        raise RuntimeError(f"{server.label}: import commit answered {status}: {payload[:500]!r}")
    report = json.loads(payload)["data"]
    if report["created"] != rows:
        raise RuntimeError(f"{server.label}: the import created {report['created']} rows of {rows}")
    server.version = report["version"]
    return {"csv_bytes": len(data), "body_bytes": len(body), "make_csv_s": made_s, "preview_s": preview_s,
            "commit_s": commit_s}


def grid_facts(data_dir: Path) -> dict:
    """Column ids by name, the live rows' ids and the views' ids by name, read from the database."""
    conn = sqlite3.connect(f"file:{data_dir / 'crm.db'}?mode=ro", uri=True)
    try:
        ids = dict(conn.execute("SELECT name, id FROM fundraising_columns WHERE deleted_at IS NULL"))
        rows = [r for (r,) in conn.execute("SELECT id FROM fundraising_investors WHERE archived_at IS NULL ORDER BY position, id")]
        views = dict(conn.execute("SELECT name, id FROM fundraising_views WHERE deleted_at IS NULL"))
    finally:
        conn.close()
    return {"ids": ids, "row_ids": rows, "view_id": views.get(VIEW_NAME), "views": views}


def sign_in(server) -> None:
    """Register the first admin, or sign in when the data directory already has one."""
    status, payload, _ = server.send("POST", "/api/auth/register", benchlib.ADMIN)
    if status != 201:
        doc = server.ok("POST", "/api/auth/login", {"username": benchlib.ADMIN["username"], "password": benchlib.PASSWORD})
    else:
        doc = json.loads(payload)
    server.token = doc["data"]["token"]


# ---------------------------------------------------------------- measuring

class Timings:
    """Named lists of milliseconds, with the response sizes."""

    def __init__(self):
        self.ms, self.bytes, self.notes = {}, {}, {}

    def add(self, name, seconds, size=0):
        self.ms.setdefault(name, []).append(seconds * 1000)
        self.bytes.setdefault(name, []).append(size)

    def timed(self, server, name, method, path, body=None, expect=200) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        status, payload, seconds = server.request(method, path, data)
        if status != expect:
            raise RuntimeError(f"{server.label}: {method} {path} answered {status}: {payload[:400]!r}")
        self.add(name, seconds, len(payload))
        try:
            return json.loads(payload)
        except ValueError:
            return {}


def set_cell(server, built, rng, timings, name) -> None:
    column_id = built["ids"][rng.choice(("Next Step", "Source Detail"))]
    value = f"{rng.choice(grid_bench.NEXT_STEPS)} #{server.version}.{rng.getrandbits(40)}"  # a kept grid has seen the seed
    op = {"op": "set_cell", "row_id": rng.choice(built["row_ids"]), "column_id": column_id, "value": value}
    doc = timings.timed(server, name, "POST", "/api/fundraising/ops", {"base_version": server.version, "ops": [op]})["data"]
    if doc["applied"] != 1:
        raise RuntimeError(f"{server.label}: a set_cell applied {doc['applied']} changes: {op} -> {str(doc)[:300]}")
    server.version = doc["version"]


def edits_and_views(small, large, built_small, built_large, rounds, page, rng, timings, samples) -> None:
    """Round by round: a set_cell on each server; every other round the view's first page cold then cached."""
    view = f"/api/fundraising/rows?view_id={quote(built_large['view_id'])}&limit={page}"
    plain = f"/api/fundraising/rows?limit={page}"
    for r in range(rounds):
        pair = [(small, built_small, "set_cell @ small"), (large, built_large, "set_cell @ large")]
        for server, built, name in (pair if r % 2 else pair[::-1]):
            set_cell(server, built, rng, timings, name)
        if r % 2 == 0:
            doc = timings.timed(large, "view first page, cold (after an edit)", "GET", view)
            timings.notes["view_total"] = doc["total"]
            timings.timed(large, "view first page, cached", "GET", view)
        else:
            timings.timed(large, "grid first page, cold (after an edit)", "GET", plain)
        samples.append(memory(large.proc.pid))


def rest_of_path(large, built, page, rng, timings, runs) -> None:
    """Search, group-by, history, changes, archive/restore, export, backups and GET state, each after an edit."""
    ids = built["ids"]
    group = large.ok("POST", "/api/fundraising/views", {"name": GROUP_VIEW, "shared": True, "config": {
        "sorts": [{"column_id": ids["Total Committed"], "direction": "desc"}], "group_by": ids["Status"]}}, expect=201)["data"]
    for _ in range(runs):
        set_cell(large, built, rng, timings, "set_cell @ large (before a case)")
        timings.timed(large, "search q= first page, cold", "GET", f"/api/fundraising/rows?q=summit%20capital&limit={page}")
        set_cell(large, built, rng, timings, "set_cell @ large (before a case)")
        doc = timings.timed(large, "group-by view first page, cold", "GET",
                            f"/api/fundraising/rows?view_id={quote(group['id'])}&limit={page}")
        timings.notes["groups"] = len(doc.get("groups") or [])
        timings.timed(large, "row history", "GET", f"/api/fundraising/rows/{rng.choice(built['row_ids'])}/history")
        timings.timed(large, "GET changes (last 20 versions)", "GET", f"/api/fundraising/changes?since={max(0, large.version - 20)}")
        row_id = rng.choice(built["row_ids"])
        for kind in ("archive_row", "restore_row"):
            doc = timings.timed(large, f"{kind} (POST ops)", "POST", "/api/fundraising/ops",
                                {"base_version": large.version, "ops": [{"op": kind, "row_id": row_id}]})
            large.version = doc["data"]["version"]
            timings.timed(large, f"grid first page after {kind}", "GET", f"/api/fundraising/rows?limit={page}")
    for _ in range(max(1, runs // 2)):
        set_cell(large, built, rng, timings, "set_cell @ large (before a case)")
        timings.timed(large, "export JSON (every row)", "GET", "/api/fundraising/export")
        timings.timed(large, "export CSV (every row)", "GET", "/api/fundraising/export?format=csv")
        timings.timed(large, "GET state (every row)", "GET", "/api/fundraising/state")
    for kind in ("full", "grid"):
        doc = timings.timed(large, f"backup {kind}: take", "POST", "/api/fundraising/backup", {"kind": kind}, expect=201)
        timings.timed(large, f"backup {kind}: verify", "POST", "/api/fundraising/backup-verify", {"backup_id": doc["data"]["id"]})


def column_op(large, built, page, timings, runs) -> None:
    """add_column (rebuilds the snapshot on the next read) and the first page after it, while a second
    client reads the first page in a loop: its longest wait is how long the rebuild holds readers back."""
    reader = benchlib.Server.__new__(benchlib.Server)  # a second connection to the same server, no process of its own
    reader.port, reader.token, reader.conn, reader.label = large.port, large.token, None, "reader"
    for n in range(runs):
        waits, stop = [], threading.Event()

        def read():
            while not stop.is_set():
                status, _, seconds = reader.request("GET", f"/api/fundraising/rows?limit={page}")
                waits.append(seconds * 1000)
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        time.sleep(0.3)
        doc = timings.timed(large, "add_column (POST ops)", "POST", "/api/fundraising/ops", {
            "base_version": large.version, "ops": [{"op": "add_column", "name": f"Scale note {n} {uuid.uuid4().hex[:6]}",
                                                    "type": "text"}]})
        large.version = doc["data"]["version"]
        timings.timed(large, "grid first page after add_column", "GET", f"/api/fundraising/rows?limit={page}")
        time.sleep(0.3)
        stop.set()
        thread.join()
        timings.add("a second reader's longest wait during add_column", max(waits) / 1000)
    if reader.conn is not None:
        reader.conn.close()


def restart(large, built, page, runs) -> tuple:
    """Stop the large server and start it over the same data `runs` times; seconds to up, first page, view page."""
    results, server = [], large
    for _ in range(runs):
        server.stop()
        t0 = time.perf_counter()
        server = grid_bench.Server(large.label, large.backend, data_dir=large.data_dir, log_mode="ab", **large.env_options)
        server.backend, server.env_options = large.backend, large.env_options
        server.wait_ready(timeout=120)
        up = time.perf_counter() - t0
        server.token = large.token
        status, _, _ = server.request("GET", f"/api/fundraising/rows?limit={page}")
        first = time.perf_counter() - t0
        status2, _, _ = server.request("GET", f"/api/fundraising/rows?view_id={quote(built['view_id'])}&limit={page}")
        view = time.perf_counter() - t0
        if status != 200 or status2 != 200:
            raise RuntimeError(f"after a restart the first pages answered {status} / {status2}")
        results.append({"up_s": up, "first_page_s": first, "view_page_s": view, "rss_after": memory(server.proc.pid)["rss"]})
    return results, server


# ---------------------------------------------------------------- the run

def run(args) -> int:
    info = benchlib.machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    backend = args.backend.resolve()
    page = first_page_size()
    env = {"CRM_MAX_BODY_BYTES": str(args.body_limit), "CRM_MAX_GRID_BODY_BYTES": str(max(args.body_limit, 64 * 2**20))} \
        if args.body_limit else {}
    large_dir = None
    if args.large_data:
        large_dir = Path(tempfile.mkdtemp(prefix="crm-grid-scale-large-"))
        shutil.copytree(args.large_data, large_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("server.log", "backups"))
    servers = {"small": grid_bench.Server("small", backend),
               "large": grid_bench.Server("large", backend, data_dir=large_dir, **env)}
    for server in servers.values():
        server.backend, server.env_options = backend, env if server.label == "large" else {}
    failed = True
    try:
        for server in servers.values():
            server.wait_ready(timeout=120)
            sign_in(server)
            server.no_auto_backups()
        small, large = servers["small"], servers["large"]
        print(f"building the {args.rows_small:,}-row grid through the ops API ...", flush=True)
        built_small = grid_bench.build_grid(small, args.rows_small, args.batch, args.seed)
        imported = None
        if large_dir is None:
            print(f"building the {args.scale:,}-row grid: columns and view through the API, rows through the import ...",
                  flush=True)
            imported = build_by_import(large, args.scale, args.seed + 100)
            print(f"  CSV {imported['csv_bytes'] / 2**20:.1f} MiB (made in {imported['make_csv_s']:.1f} s); "
                  f"preview {imported['preview_s']:.1f} s, commit {imported['commit_s']:.1f} s", flush=True)
        built_large = grid_facts(large.data_dir)
        build_peak = memory(large.proc.pid)["peak"]
        peak_reset = reset_peak(large.proc.pid)
        large.version = large.ok("GET", "/api/fundraising/state?rows=0")["data"]["version"]
        rows = len(built_large["row_ids"])
        print(f"large grid: {rows:,} rows x {len(built_large['ids'])} columns; first page = {page} rows "
              f"(frontend/config.js TIMING.firstPage)", flush=True)
        rng = __import__("random").Random(args.seed + 7)
        timings, samples = Timings(), [memory(large.proc.pid)]
        t0 = time.perf_counter()
        large.ok("GET", f"/api/fundraising/rows?limit={page}")
        timings.add("grid first page, first read since start-up (snapshot built)", time.perf_counter() - t0)
        for _ in range(5):  # warm-up, unmeasured
            set_cell(small, built_small, rng, Timings(), "warm")
            set_cell(large, built_large, rng, Timings(), "warm")
        print(f"measuring: {args.scale_rounds} rounds of edits and views ...", flush=True)
        edits_and_views(small, large, built_small, built_large, args.scale_rounds, page, rng, timings, samples)
        print("the rest of the path ...", flush=True)
        rest_of_path(large, built_large, page, rng, timings, args.scale_runs)
        samples.append(memory(large.proc.pid))
        column_op(large, built_large, page, timings, max(1, args.scale_runs // 2 + 1))
        samples.append(memory(large.proc.pid))
        mem = {"peak": max(s["peak"] for s in samples), "steady": samples[-1]["rss"], "build_peak": build_peak,
               "peak_reset_after_build": peak_reset}
        print("restarts ...", flush=True)
        restarts, servers["large"] = restart(large, built_large, page, args.scale_runs)
        report(args, rows, page, timings, mem, restarts, imported, built_small, info)
        failed = False
        return 0 if all(g["pass"] for g in goals(timings, mem, restarts)) else 1
    finally:
        for server in servers.values():
            code = server.stop()
            if code not in (0, None) or failed:
                print(f"{server.label} server exited with code {code}; its log:\n{server.log_tail()}")
            if args.keep:
                print(f"kept {server.data_dir}")
            else:
                shutil.rmtree(server.data_dir, ignore_errors=True)


def goals(timings, mem, restarts) -> list:
    small, large = median(timings.ms["set_cell @ small"]), median(timings.ms["set_cell @ large"])
    view = median(timings.ms["view first page, cold (after an edit)"])
    ready = median([r["first_page_s"] for r in restarts])
    return [
        {"goal": "set_cell p50 ratio large / 500 rows", "value": f"{large / small:.2f}", "target": f"<= {GOAL_RATIO:g}",
         "pass": large / small <= GOAL_RATIO},
        {"goal": "view first page after an edit (p50)", "value": f"{view:.0f} ms", "target": f"<= {GOAL_VIEW_MS:g} ms",
         "pass": view <= GOAL_VIEW_MS},
        {"goal": "server memory, peak (VmHWM)", "value": f"{mem['peak'] / 2**20:.0f} MiB", "target": "<= 1536 MiB",
         "pass": mem["peak"] <= GOAL_RSS_BYTES},
        {"goal": "server memory, steady (VmRSS)", "value": f"{mem['steady'] / 2**20:.0f} MiB", "target": "<= 1536 MiB",
         "pass": mem["steady"] <= GOAL_RSS_BYTES},
        {"goal": "restart to first page served (median)", "value": f"{ready:.2f} s", "target": f"<= {GOAL_RESTART_S:g} s",
         "pass": ready <= GOAL_RESTART_S},
    ]


def report(args, rows, page, timings, mem, restarts, imported, built_small, info) -> None:
    head = ("case", "N", "p50 ms", "p90 ms", "max ms", "mean KiB")
    body = []
    for name, values in timings.ms.items():
        values = sorted(values)
        body.append((name, str(len(values)), f"{percentile(values, 50):.1f}", f"{percentile(values, 90):.1f}",
                     f"{values[-1]:.1f}", f"{sum(timings.bytes[name]) / len(values) / 1024:.0f}"))
    print(f"\n{rows:,} rows x 40 columns (set_cell @ small: {args.rows_small:,} rows); first page {page} rows")
    benchlib.print_table(head, body)
    if imported:
        print(f"\nimport of {rows:,} rows: CSV {imported['csv_bytes'] / 2**20:.1f} MiB, preview {imported['preview_s']:.1f} s, "
              f"commit {imported['commit_s']:.1f} s (one run; the commit takes a pre_import backup first)")
    print("\nrestarts: " + "; ".join(f"up {r['up_s']:.2f} s, first page {r['first_page_s']:.2f} s, view page "
                                     f"{r['view_page_s']:.2f} s, then RSS {r['rss_after'] / 2**20:.0f} MiB" for r in restarts))
    print(f"view matched {timings.notes.get('view_total', 0):,} rows; group-by view: {timings.notes.get('groups', 0)} groups")
    print(f"memory: while building (the import included) peak {mem['build_peak'] / 2**20:.0f} MiB; then "
          + ("peak counted again from there" if mem["peak_reset_after_build"] else "peak NOT reset (no clear_refs)")
          + f": peak {mem['peak'] / 2**20:.0f} MiB, at the end {mem['steady'] / 2**20:.0f} MiB")
    print()
    found = goals(timings, mem, restarts)
    benchlib.print_table(("goal", "value", "target", "result"),
                         [(g["goal"], g["value"], g["target"], "pass" if g["pass"] else "FAIL") for g in found])
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": info, "rows": rows, "first_page": page, "ms": timings.ms, "bytes": timings.bytes,
            "memory": mem, "restarts": restarts, "import": imported, "goals": found,
            "small_build": {k: v for k, v in built_small.items() if k not in ("ids", "row_ids", "view_id")},
        }, indent=1) + "\n")
        print(f"wrote {args.json}")


# ---------------------------------------------------------------- side by side with another tree

SIDE_CASES = ("set_cell", "view first page, cold (after an edit)", "view first page, cached",
              "grid first page, cold (after an edit)", "search q= first page, cold (after an edit)",
              "group-by view first page, cold (after an edit)")


def side_by_side(args) -> int:
    """--baseline DIR with --large-data: two servers over copies of the same kept grid, this tree's and
    DIR's backend, the same requests to each in rotating order every round; then each one's memory
    and restart. The figures docs/PERFORMANCE.md quotes as before / after."""
    info = benchlib.machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    page = first_page_size()
    trees = {"before": args.baseline.resolve(), "after": args.backend.resolve()}
    servers, dirs = {}, []
    try:
        for label, backend in trees.items():
            data = Path(tempfile.mkdtemp(prefix=f"crm-grid-scale-{label}-"))
            dirs.append(data)
            shutil.copytree(args.large_data, data, dirs_exist_ok=True, ignore=shutil.ignore_patterns("server.log", "backups"))
            server = grid_bench.Server(label, backend, data_dir=data)
            server.backend, server.env_options = backend, {}
            servers[label] = server
        built = {}
        for label, server in servers.items():
            server.wait_ready(timeout=120)
            sign_in(server)
            server.no_auto_backups()
            built[label] = grid_facts(server.data_dir)
            server.version = server.ok("GET", "/api/fundraising/state?rows=0")["data"]["version"]
        ids = built["after"]["ids"]
        group = {"sorts": [{"column_id": ids["Total Committed"], "direction": "desc"}], "group_by": ids["Status"]}
        for label, server in servers.items():
            built[label]["group_id"] = server.ok("POST", "/api/fundraising/views", {
                "name": f"{GROUP_VIEW} {uuid.uuid4().hex[:6]}", "shared": True, "config": group}, expect=201)["data"]["id"]
        print(f"{len(built['after']['row_ids']):,} rows; first page {page} rows; {args.scale_rounds} rounds", flush=True)
        timings = {label: Timings() for label in servers}
        rng = __import__("random").Random(args.seed + 11)
        for label, server in servers.items():  # first reads (snapshots built), unmeasured
            side_round(server, built[label], page, rng, Timings(), 0)
        for r in range(args.scale_rounds):
            order = list(servers) if r % 2 else list(servers)[::-1]
            for label in order:
                side_round(servers[label], built[label], page, rng, timings[label], r + 1)
        memory_of = {label: memory(server.proc.pid) for label, server in servers.items()}
        restarts = {}
        for label, server in servers.items():
            restarts[label], servers[label] = restart(server, built[label], page, args.scale_runs)
        head = ("case", "N", "before p50 ms", "after p50 ms", "after / before")
        body = []
        for name in SIDE_CASES:
            b, a = median(timings["before"].ms.get(name, [])), median(timings["after"].ms.get(name, []))
            body.append((name, str(len(timings["after"].ms.get(name, []))), f"{b:.1f}", f"{a:.1f}", f"{a / b:.2f}"))
        for key, what in (("peak", "server memory, peak (VmHWM) MiB"), ("rss", "server memory, now (VmRSS) MiB")):
            body.append((what, "", f"{memory_of['before'][key] / 2**20:.0f}", f"{memory_of['after'][key] / 2**20:.0f}",
                         f"{memory_of['after'][key] / memory_of['before'][key]:.2f}"))
        for key, what in (("up_s", "restart: up (/api/ready) s"), ("first_page_s", "restart: first page served s"),
                          ("view_page_s", "restart: view's first page served s")):
            b, a = median([x[key] for x in restarts["before"]]), median([x[key] for x in restarts["after"]])
            body.append((what, str(len(restarts["after"])), f"{b:.2f}", f"{a:.2f}", f"{a / b:.2f}"))
        print()
        benchlib.print_table(head, body)
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": info, "ms": {k: t.ms for k, t in timings.items()},
                                                   "memory": memory_of, "restarts": restarts}, indent=1) + "\n")
        return 0
    finally:
        for server in servers.values():
            server.stop()
        for data in dirs:
            shutil.rmtree(data, ignore_errors=True)


def side_round(server, built, page, rng, timings, r) -> None:
    """One round against one server: an edit, then the view cold and cached, and every other round the
    plain first page, every third a search and the group-by view, each right after an edit."""
    view = f"/api/fundraising/rows?view_id={quote(built['view_id'])}&limit={page}"
    set_cell(server, built, rng, timings, "set_cell")
    timings.timed(server, "view first page, cold (after an edit)", "GET", view)
    timings.timed(server, "view first page, cached", "GET", view)
    if r % 2 == 0:
        set_cell(server, built, rng, timings, "set_cell")
        timings.timed(server, "grid first page, cold (after an edit)", "GET", f"/api/fundraising/rows?limit={page}")
    if r % 3 == 0:
        set_cell(server, built, rng, timings, "set_cell")
        timings.timed(server, "search q= first page, cold (after an edit)", "GET",
                      f"/api/fundraising/rows?q=summit%20capital&limit={page}")
        set_cell(server, built, rng, timings, "set_cell")
        timings.timed(server, "group-by view first page, cold (after an edit)", "GET",
                      f"/api/fundraising/rows?view_id={quote(built['group_id'])}&limit={page}")
