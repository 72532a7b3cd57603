#!/usr/bin/env python3
"""Restore drill: fill a database, back it up, destroy it, restore it, prove nothing changed.

Every table is hashed row by row (rows in primary-key order, each row's values
as JSON) before the database is destroyed and again after the restore; the
drill passes only if every table's row count and hash match. It prints the
figures and exits 1 on any difference.

    .venv/bin/python scripts/restore_drill.py [--contacts 600] [--keep DIR]
"""
import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from crm import config as crm_config, demo  # noqa: E402
from crm.app import prepare_database  # noqa: E402
from crm.backups import service, snapshots  # noqa: E402
from crm.db import connect  # noqa: E402
from crm.db.migrate import pending  # noqa: E402
from crm.fundraising import ops, store  # noqa: E402


def table_hashes(conn) -> dict:
    """{table: (rows, sha256 of its rows in key order)} for every ordinary table."""
    result = {}
    tables = [r["name"] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE '%VIRTUAL%' "
        "AND name NOT LIKE '%_fts_%' ORDER BY name")]
    for table in tables:
        digest, count = hashlib.sha256(), 0
        width = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
        order = ", ".join(str(i) for i in range(1, width + 1))  # every column: a total order even without a key
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            digest.update(json.dumps(list(row.values()), default=str).encode())
            count += 1
        result[table] = (count, digest.hexdigest())
    return result


def fill(conn, contacts: int) -> None:
    demo.seed(conn, organizations=max(10, contacts // 3), contacts=contacts)
    rng = random.Random(7)
    columns = {c.field_key: c for c in store.load_columns(conn) if c.field_key}
    conn.execute("BEGIN IMMEDIATE")
    batch = ops.Batch(conn, None, ops.current_version(conn), check_conflicts=False)
    for n in range(contacts // 3):
        batch.add_row({"row_id": f"drill-{n}", "cells": {
            columns["name"].id: f"Investor {n}", columns["status"].id: rng.choice(["Contacted", "Meeting"]),
            columns["notes"].id: f"note {n}", columns["graveyard"].id: n % 7 == 0}}, f"row {n}")
    batch.finish()
    conn.execute("COMMIT")


def drill(data_dir: Path, contacts: int = 600) -> dict:
    config = crm_config.load(environ={}, data_dir=data_dir, port=0)
    prepare_database(config)
    conn = connect(config.db_path)
    started = time.perf_counter()
    fill(conn, contacts)
    filled = time.perf_counter()
    before = table_hashes(conn)
    record = service.take(config, conn, "full", "manual")
    checked = service.verify(config, conn, record["id"])
    backed_up = time.perf_counter()
    conn.close()
    backup_file = snapshots.folder(config) / record["file"]
    for suffix in ("", "-wal", "-shm"):  # destroy the live database
        Path(str(config.db_path) + suffix).unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(str(config.db_path))
    source.backup(target, pages=-1)
    source.close()
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    restored = time.perf_counter()
    conn = connect(config.db_path)
    after = table_hashes(conn)
    waiting = pending(conn)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    differing = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
    return {
        "ok": checked["ok"] and not differing and not waiting and list(integrity.values()) == ["ok"],
        "tables": len(before), "rows": sum(n for n, _ in before.values()), "differing_tables": differing,
        "backup_bytes": record["size"], "verify": checked["detail"],
        "seconds": {"fill": filled - started, "backup_and_verify": backed_up - filled, "restore": restored - backed_up},
        "before": before, "after": after,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=600)
    parser.add_argument("--keep", help="use (and keep) this directory instead of a temporary one")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="crm-drill-"))
    try:
        report = drill(folder, args.contacts)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{'table':32} {'rows':>8}  hash before = after")
    for table, (count, digest) in sorted(report["before"].items()):
        same = "yes" if report["after"].get(table) == (count, digest) else "NO"
        print(f"{table:32} {count:>8}  {same}")
    s = report["seconds"]
    print(f"\n{report['tables']} tables, {report['rows']} rows, backup {report['backup_bytes'] / 1e6:.1f} MB; "
          f"fill {s['fill']:.2f} s, backup+verify {s['backup_and_verify']:.2f} s, restore {s['restore']:.2f} s")
    print("DRILL PASSED" if report["ok"] else f"DRILL FAILED: {report['differing_tables'] or report['verify']}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
