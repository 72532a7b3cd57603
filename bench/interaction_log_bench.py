"""What the interaction log costs bulk writes (docs/RETRIEVAL.md, "Interaction log").

The same two imports over the HTTP API on fresh databases, with crm.interactions' two writers
made no-ops ("log off") and writing ("log on"), in this one process (so the switch is a patch,
not a second tree), interleaved, medians of `--runs`:

    .venv/bin/python bench/interaction_log_bench.py [--rows 2000] [--runs 3]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT / "tests")]

from conftest import serving  # noqa: E402
from crm import interactions  # noqa: E402

WRITERS = (interactions.record, interactions.record_many)


def switch(on: bool) -> None:
    interactions.record, interactions.record_many = WRITERS if on else (lambda *a, **k: None,) * 2


def run(on: bool, rows: int) -> tuple:
    """(classic CSV import seconds, grid add_row seconds, entries logged)."""
    switch(on)
    try:
        with serving(tempfile.mkdtemp()) as server:
            admin = server.register_admin()
            people = [{"first_name": f"P{n}", "last_name": "Roe", "email": f"p{n}@lp{n % 97}.example",
                       "organization": f"Org {n % 300}"} for n in range(rows)]
            started = time.perf_counter()
            assert admin.post("/api/import/csv", {"rows": people}).status_code == 200
            classic = time.perf_counter() - started
            state = admin.get("/api/fundraising/state").json()["data"]
            key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
            ops = [{"op": "add_row", "cells": {key["name"]: f"Fund {n}",
                                               key["contacts"]: [{"name": f"G{n} Roe", "email": f"g{n}@inv{n}.example"}]}}
                   for n in range(rows)]
            started = time.perf_counter()
            assert admin.post("/api/fundraising/ops", {"base_version": state["version"], "ops": ops}).status_code == 200
            grid = time.perf_counter() - started
            return classic, grid, admin.get("/api/interactions", params={"limit": 1}).json()["total"]
    finally:
        switch(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {False: [], True: []}
    for _ in range(args.runs):
        for on in (False, True):
            results[on].append(run(on, args.rows))
    print(f"{'':8} | classic CSV import, {args.rows} contacts | grid add_row x{args.rows} | entries")
    for on in (False, True):
        classic = statistics.median(r[0] for r in results[on])
        grid = statistics.median(r[1] for r in results[on])
        print(f"log {'on ' if on else 'off'}  | {classic:>10.2f} s | {grid:>10.2f} s | {results[on][0][2]}")


if __name__ == "__main__":
    main()
