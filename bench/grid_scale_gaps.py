"""The server's remaining gaps at 100,000 investors (issue 21), this tree against another, side by side.

What it measures
    - import: the grid's CSV import as the SPA sends it (grid_scale.build_by_import: the 30 columns
      and the view through the API, then preview as text/csv and commit as multipart, mode append)
      of --rows rows into a fresh server per tree, one tree after the other; the commit's time and
      the server's peak memory (VmHWM, the whole process's life: start-up, columns and import);
    - paste: 50,000 set_cell ops (5,000 random rows x 10 columns: text, long text, number,
      currency, percent, fund, single select, date, checkbox) in ONE POST /api/fundraising/ops,
      as frontend/widgets/savequeue.js sends a paste (it sends everything waiting, up to the
      server's 50,000 cell changes per request): the time to its answer is when the SPA says
      "saved"; then the grid's first page (the next read, which advances or rebuilds the snapshot).
      At --rows (over copies of --large-data) and at --small rows (built by the import);
    - groups: a group-by view (group by Status, sort by Total Committed) first page right after a
      set_cell, --rounds times;
    - verify: a full backup taken then verified (POST backup-verify), --verify-runs times.
    The servers of both trees run at once over copies of the same data and get the same requests
    in rotating order; medians are quoted.

Usage
    .venv/bin/python bench/grid_scale_gaps.py --large-data KEPT_DIR --baseline OLD_TREE/backend
    .venv/bin/python bench/grid_scale_gaps.py --large-data KEPT_DIR --baseline OLD/backend --cases paste,groups
    KEPT_DIR: a data directory holding a 100,000-row grid (grid_bench.py --scale 100000 --keep);
    it is copied, never changed.
"""
import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import grid_bench  # noqa: E402
import grid_scale  # noqa: E402
from benchlib import median  # noqa: E402

PASTE_COLUMNS = {
    "Notes": lambda rng: f"pasted note {rng.getrandbits(32)}", "Next Step": lambda rng: f"Call {rng.randint(1, 9999)}",
    "Source Detail": lambda rng: f"source {rng.getrandbits(24)}", "Probability": lambda rng: rng.randint(1, 99) / 100,
    "AUM ($M)": lambda rng: rng.randint(1, 5000), "Target Allocation": lambda rng: rng.randint(1, 100) * 250_000,
    "Fund I": lambda rng: rng.randint(1, 40) * 250_000, "Region": lambda rng: rng.choice(grid_bench.REGIONS),
    "Last Contacted": lambda rng: f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "Strategic": lambda rng: rng.random() < 0.5,
}
PASTE_ROWS = 5000


def start(label, backend, data_dir=None, copy_of=None):
    if copy_of is not None:
        data_dir = Path(tempfile.mkdtemp(prefix=f"crm-gaps-{label}-"))
        shutil.copytree(copy_of, data_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("server.log", "backups"))
    env = {"CRM_MAX_GRID_BODY_BYTES": str(256 * 2**20)}
    server = grid_bench.Server(label, backend, data_dir=data_dir, **env)
    server.wait_ready(timeout=180)
    grid_scale.sign_in(server)
    server.no_auto_backups()
    return server


def stop(server):
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


def paste_body(server, facts, rng) -> bytes:
    version = server.ok("GET", "/api/fundraising/state?rows=0")["data"]["version"]
    rows = rng.sample(facts["row_ids"], min(PASTE_ROWS, len(facts["row_ids"])))
    ops = [{"op": "set_cell", "row_id": r, "column_id": facts["ids"][name], "value": make(rng)}
           for r in rows for name, make in PASTE_COLUMNS.items()]
    return json.dumps({"base_version": version, "ops": ops}).encode()


def paste(server, facts, rng, out, size, later=0.0) -> None:
    """The paste, then the first page at once, or `later` seconds after it (a partner who opens the
    grid a moment later: the server's keeper may have made the new version ready by then)."""
    body = paste_body(server, facts, rng)
    status, payload, seconds = server.request("POST", "/api/fundraising/ops", body)
    if status != 200 or json.loads(payload)["data"]["applied"] < 40_000:
        raise RuntimeError(f"{server.label}: the paste answered {status}: {payload[:300]!r}")
    out.setdefault(f"paste 50,000 set_cell @ {size}: POST answered (saved)", []).append(seconds)
    time.sleep(later)
    t0 = time.perf_counter()
    server.ok("GET", "/api/fundraising/rows?limit=100")
    when = f"{later:g} s after it" if later else "after it"
    out.setdefault(f"paste @ {size}: first page {when}", []).append(time.perf_counter() - t0)


def group_round(server, facts, group_id, rng, out) -> None:
    version = server.ok("GET", "/api/fundraising/state?rows=0")["data"]["version"]
    name = rng.choice(("Status", "Fund II"))  # a row moving between groups, or a group's sum changing
    value = rng.choice(("Contacted", "Meeting", "Diligence")) if name == "Status" else rng.randint(1, 40) * 250_000
    op = {"op": "set_cell", "row_id": rng.choice(facts["row_ids"]), "column_id": facts["ids"][name], "value": value}
    server.ok("POST", "/api/fundraising/ops", {"base_version": version, "ops": [op]})
    status, payload, seconds = server.request("GET", f"/api/fundraising/rows?view_id={quote(group_id)}&limit=100")
    if status != 200 or not json.loads(payload).get("groups"):
        raise RuntimeError(f"{server.label}: the group-by view answered {status}: {payload[:300]!r}")
    out.setdefault("group-by view first page after an edit", []).append(seconds)


def verify(server, out) -> None:
    status, payload, seconds = server.request("POST", "/api/fundraising/backup", json.dumps({"kind": "full"}).encode())
    if status != 201:
        raise RuntimeError(f"{server.label}: backup answered {status}: {payload[:300]!r}")
    out.setdefault("full backup: take", []).append(seconds)
    backup_id = json.loads(payload)["data"]["id"]
    status, payload, seconds = server.request("POST", "/api/fundraising/backup-verify", json.dumps({"backup_id": backup_id}).encode())
    if status != 200 or not json.loads(payload)["data"]["ok"]:
        raise RuntimeError(f"{server.label}: verify answered {status}: {payload[:300]!r}")
    out.setdefault("full backup: verify", []).append(seconds)


def import_case(trees, rows, seed, out) -> None:
    for label, backend in trees.items():
        print(f"  import of {rows:,} rows, {label} ...", flush=True)
        server = start(label, backend)
        try:
            built = grid_scale.build_by_import(server, rows, seed)
            out[label].setdefault(f"import {rows:,} rows: preview", []).append(built["preview_s"])
            out[label].setdefault(f"import {rows:,} rows: commit", []).append(built["commit_s"])
            out[label].setdefault(f"import {rows:,} rows: server peak memory (VmHWM) MiB", []).append(
                grid_scale.memory(server.proc.pid)["peak"] / 2**20)
        finally:
            stop(server)


def large_cases(trees, args, out, cases) -> None:
    servers = {label: start(label, backend, copy_of=args.large_data) for label, backend in trees.items()}
    try:
        facts = grid_scale.grid_facts(next(iter(servers.values())).data_dir)
        size = f"{len(facts['row_ids']):,}"
        ids = facts["ids"]
        group = {"sorts": [{"column_id": ids["Total Committed"], "direction": "desc"}], "group_by": ids["Status"]}
        group_ids = {label: s.ok("POST", "/api/fundraising/views", {"name": f"By status {uuid.uuid4().hex[:6]}", "shared": True,
                                                                    "config": group}, expect=201)["data"]["id"]
                     for label, s in servers.items()}
        for label, s in servers.items():  # first reads: snapshots built, the group view's groups summed once
            s.ok("GET", f"/api/fundraising/rows?view_id={quote(group_ids[label])}&limit=100")
        rng = random.Random(args.seed)
        order = list(servers)
        if "groups" in cases:
            for r in range(args.rounds):
                for label in (order if r % 2 else order[::-1]):
                    group_round(servers[label], facts, group_ids[label], rng, out[label])
        if "paste" in cases:
            for r in range(args.paste_runs):
                for label in (order if r % 2 else order[::-1]):
                    for later in (0.0, args.later):
                        paste(servers[label], facts, random.Random(args.seed + 2 * r + bool(later)), out[label], size, later)
        if "verify" in cases:
            for r in range(args.verify_runs):
                for label in (order if r % 2 else order[::-1]):
                    verify(servers[label], out[label])
        for label, s in servers.items():
            out[label].setdefault(f"server memory at the end (VmHWM) MiB @ {size}", []).append(grid_scale.memory(s.proc.pid)["peak"] / 2**20)
    finally:
        for s in servers.values():
            stop(s)


def small_paste(trees, args, out) -> None:
    servers = {}
    try:
        for label, backend in trees.items():
            servers[label] = start(label, backend)
            grid_scale.build_by_import(servers[label], args.small, args.seed + 3)
        facts = {label: grid_scale.grid_facts(s.data_dir) for label, s in servers.items()}
        order = list(servers)
        for r in range(args.paste_runs):
            for label in (order if r % 2 else order[::-1]):
                for later in (0.0, args.later):
                    paste(servers[label], facts[label], random.Random(args.seed + 2 * r + bool(later)), out[label], f"{args.small:,}", later)
    finally:
        for s in servers.values():
            stop(s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large-data", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, required=True, help="the other tree's backend directory")
    parser.add_argument("--backend", type=Path, default=benchlib.BACKEND)
    parser.add_argument("--cases", default="import,paste,groups,verify")
    parser.add_argument("--rows", type=int, default=100_000, help="rows the import case imports")
    parser.add_argument("--small", type=int, default=10_000, help="rows of the smaller grid the paste runs on too")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--paste-runs", type=int, default=2)
    parser.add_argument("--later", type=float, default=2.0, help="s after a paste for its second first-page read")
    parser.add_argument("--verify-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    info = benchlib.machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    cases = set(args.cases.split(","))
    trees = {"before": args.baseline.resolve(), "after": args.backend.resolve()}
    out = {label: {} for label in trees}
    if cases & {"paste", "groups", "verify"}:
        print("the large grid: groups, paste, verify ...", flush=True)
        large_cases(trees, args, out, cases)
    if "paste" in cases:
        print(f"the {args.small:,}-row grid: paste ...", flush=True)
        small_paste(trees, args, out)
    if "import" in cases:
        import_case(trees, args.rows, args.seed + 100, out)
    body = []
    for name in out["after"]:
        b, a = median(out["before"].get(name, [])), median(out["after"][name])
        unit = "" if "MiB" in name else (" ms" if a < 1 else " s")
        scale = 1 if "MiB" in name or a >= 1 else 1000
        body.append((name, str(len(out["after"][name])), f"{b * scale:,.1f}{unit}", f"{a * scale:,.1f}{unit}", f"{a / b:.2f}"))
    print()
    benchlib.print_table(("case", "N", "before p50", "after p50", "after / before"), body)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": out}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
