"""What the read tools read, on a read-only connection to the CRM's SQLite file.

`connect` opens it with `mode=ro` (SQLite refuses every write: "attempt to write a readonly
database") and `query_only`, and the same busy timeout as the server, so a reader waits out a
checkpoint instead of failing; WAL lets it read while the server writes. Each function reads
through the owning feature's functions (crm.ingest.dossier, crm.interactions, crm.reports,
crm.fundraising.export), never their tables.
"""
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .. import interactions
from ..db.connection import BUSY_TIMEOUT_MS
from ..fundraising import export as grid_export
from ..ingest import dossier
from ..reports import pipeline

KINDS = ("person", "organization")


def connect(db_path) -> sqlite3.Connection:
    """A read-only connection (rows as dicts) to the database at `db_path`."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = lambda cursor, values: {col[0]: value for col, value in zip(cursor.description, values)}
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")
    return conn


@contextmanager
def opened(db_path):
    """A read-only connection for one tool call, closed after it."""
    conn = connect(db_path)
    try:
        yield conn
    finally:
        conn.close()


def find_entity(conn, q: str, kind=None, limit: int = 10) -> list:
    """Entities whose name, address or domain contains `q` (or whose id it is), best first."""
    return dossier.find(conn, q, kind, limit=limit)


def entity_dossier(conn, entity_id: str):
    """Everything the CRM holds about one entity (crm.ingest.dossier.dossier), or None."""
    return dossier.dossier(conn, entity_id)


def entity_exists(conn, entity_id: str) -> bool:
    return interactions.entity_exists(conn, entity_id)


def list_interactions(conn, entity_id: str, limit: int = 20) -> dict:
    """The newest touches of an entity or of any record linked to it: {total, entries}."""
    entries, total = interactions.query(conn, entity=entity_id, limit=limit)
    return {"total": total, "entries": entries}


def pipeline_summary(conn) -> dict:
    """The classic pipeline by stage with its open totals, and the grid's funds and commitments."""
    stages = pipeline.by_stage(conn)
    open_stages = [s for s in stages if s["stage"] in pipeline.OPEN_STAGES]
    return {"stages": stages,
            "open": {"opportunities": sum(s["count"] for s in open_stages),
                     "expected": sum(s["expected"] for s in open_stages),
                     "committed": sum(s["committed"] for s in open_stages)},
            "grid": grid_export.summary(conn)}
