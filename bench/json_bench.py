"""Request JSON benchmark: what checking a body costs next to parsing it.

What it measures
    Milliseconds to read a whole-grid save body (`PUT /api/fundraising/state`,
    the largest body the API takes: 10,000 investors are ~23 MB) three ways:
    `json.loads` alone (the floor), `validation.parse_json` (what every request
    body goes through: the parse with hooks that note anything suspect, then a
    depth-only walk), and `json.loads` followed by the full `check_json_tree`
    walk (what parse_json runs only when the parse saw something suspect). A
    fourth case is parse_json on the same body with one escaped character in a
    note, which takes the full walk.

How
    In process, no server: the body is built once (rows shaped like the grid's,
    cells keyed by 36-character column ids), and the cases are interleaved over
    `--rounds` rounds so that noise on this shared machine falls on all of them
    alike. Medians over the rounds, and each case's ratio to json.loads.

Usage: .venv/bin/python bench/json_bench.py [--rows 10000] [--rounds 7]
"""
import argparse
import json
import sys
import time
import uuid

import benchlib

sys.path.insert(0, str(benchlib.BACKEND))
from crm.validation import check_json_tree, parse_json  # noqa: E402

COLUMNS = 36  # about the 19-23 MB a 10,000-investor grid measures


def grid_body(rows: int, escaped: bool = False) -> str:
    columns = [str(uuid.UUID(int=i + 1)) for i in range(COLUMNS)]
    investors = []
    for n in range(rows):
        cells = {column: f"value {n}-{i}" if i % 3 else n * 1000 + i for i, column in enumerate(columns)}
        cells[columns[1]] = "Notes line one\nline two é" + ("\\u00e9" if escaped and n == rows // 2 else "")
        investors.append({"id": str(uuid.UUID(int=10**6 + n)), "version": n, "cells": cells})
    body = {"columns": [{"id": c, "name": f"Column {i}", "type": "text"} for i, c in enumerate(columns)],
            "investors": investors}
    text = json.dumps(body, ensure_ascii=False)
    # json.dumps escaped the backslash; put back a real \u escape for the "suspect" case.
    return text.replace("\\\\u00e9", "\\u00e9") if escaped else text


def full_walk(text):
    check_json_tree(json.loads(text))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()

    plain, escaped = grid_body(args.rows), grid_body(args.rows, escaped=True)
    assert "\\u00e9" in escaped and "\\u" not in plain
    cases = [
        ("json.loads", json.loads, plain),
        ("parse_json", parse_json, plain),
        ("json.loads + check_json_tree", full_walk, plain),
        ("parse_json, one \\u escape", parse_json, escaped),
    ]
    times = {name: [] for name, _, _ in cases}
    for r in range(args.rounds):
        for name, fn, text in cases[r % len(cases):] + cases[:r % len(cases)]:
            started = time.perf_counter()
            fn(text)
            times[name].append((time.perf_counter() - started) * 1000)

    m = benchlib.machine()
    print(f"\nRequest JSON: {args.rows:,} grid rows, {len(plain) / 1e6:.1f} MB, {args.rounds} interleaved rounds; "
          f"{m['nproc']} CPUs, Python {m['python']}")
    floor = benchlib.median(times["json.loads"])
    body = [[name, f"{benchlib.median(times[name]):.0f}", f"{min(times[name]):.0f}", f"{max(times[name]):.0f}",
             f"{benchlib.median(times[name]) / floor:.2f}x"] for name, _, _ in cases]
    benchlib.print_table(["case", "median ms", "min ms", "max ms", "vs json.loads"], body)


if __name__ == "__main__":
    main()
