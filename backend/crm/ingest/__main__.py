"""python -m crm.ingest run [--full]: one ingest run from the command line, with a progress bar on
stderr and a summary table on stdout.

Reads the same settings as the server (CRM_DATA_DIR, CRM_EMBED_URL, CRM_QDRANT_URL, ...). In local
mode only one process may open the index folder: while the server runs it holds it, and this
command says what to do instead. Exit status: 0 done, 2 bad settings or arguments, 3 the index
or the database is not available.
"""
import argparse
import sys
import time

from .. import config as config_module
from ..db import connect
from . import embed
from .index import IndexBusy, local_path, open_index
from .pipeline import run

BAR_WIDTH = 30
ROWS = (("mode", "run"), ("rebuilt_because", "rebuilt because"), ("chunks", "chunks in the CRM"),
        ("added", "added"), ("reembedded", "changed, embedded again"), ("payload_updated", "payload updated"),
        ("dense_backfilled", "dense vector added"), ("unchanged", "unchanged (skipped)"), ("removed", "removed"),
        ("sparse_only", "stored sparse-only"), ("resparsed", "sparse vectors rewritten"), ("avgdl", "average length"),
        ("embed_error", "embeddings"), ("seconds", "seconds"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.ingest", description="Index the CRM's notes, "
                                     "communications and matched email for search.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="bring the search index up to date (incremental)")
    run_parser.add_argument("--full", action="store_true", help="start from an empty collection, embed everything")
    args = parser.parse_args(argv)
    try:
        config = config_module.load()
    except config_module.ConfigError as exc:
        print(f"crm.ingest: configuration error: {exc}", file=sys.stderr)
        return 2
    if not config.db_path.exists():
        print(f"crm.ingest: no database at {config.db_path}: start the server once (it creates it), "
              "or set CRM_DATA_DIR", file=sys.stderr)
        return 3
    try:
        index = open_index(config)
    except IndexBusy:
        print(busy_message(config), file=sys.stderr)
        return 3
    conn = connect(config.db_path)
    try:
        summary = run(conn, index, embed.from_config(config), full=args.full, progress=ProgressBar(sys.stderr))
    finally:
        conn.close()
        index.close()
    print(table(summary))
    return 0


def busy_message(config) -> str:
    return (f"crm.ingest: the search index in {local_path(config)} is open in another process, most likely the "
            "running CRM server (in local mode only one process may open it).\n"
            "Do one of these:\n"
            "  - ask the server to run it: POST /api/admin/ingest/run as an admin (body {\"full\": true} for a full "
            "run), then GET /api/admin/ingest/status;\n"
            "  - stop the server, run this command again, then start the server;\n"
            "  - run a Qdrant server and set CRM_QDRANT_URL for the server and this command: any number of "
            "processes can share it.")


class ProgressBar:
    """`[#####.....]  120/500 chunks` on one line of `stream`, redrawn at most ten times a second."""

    def __init__(self, stream):
        self.stream, self.drawn = stream, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.drawn < 0.1:
            return
        self.drawn = now
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:>7,}/{total:,} chunks")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def table(summary: dict) -> str:
    width = max(len(label) for _, label in ROWS)
    lines = []
    for key, label in ROWS:
        value = summary.get(key)
        if key == "embed_error":
            value = value or "ok"
        elif value is None:
            continue
        lines.append(f"{label:<{width}}  {value}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
