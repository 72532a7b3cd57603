"""SQLite connections: one per request, the same pragmas everywhere.

WAL is a property of the database file and is set once at boot (`enable_wal`);
foreign keys and the busy timeout are per connection, so `connect` sets them
every time. Connections run in autocommit mode and writes open an explicit
`BEGIN IMMEDIATE` through `transaction`, so a read-modify-write takes the write
lock before it reads and never fails half-way with SQLITE_BUSY on upgrade.
"""
import sqlite3
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 5000


def _dict_factory(cursor, values):
    return {col[0]: value for col, value in zip(cursor.description, values)}


def connect(path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = _dict_factory
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Per connection, like the two above. In WAL mode NORMAL never corrupts the file; a power
    # cut (not a crash) may lose the last commits. FULL fsyncs every commit: 2-15 ms each here.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def enable_wal(path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()["journal_mode"]
        if mode.lower() != "wal":
            raise RuntimeError(f"could not put {path} in WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous=NORMAL")
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception. Not re-entrant."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def rows(conn, sql: str, params=()) -> list:
    return conn.execute(sql, params).fetchall()


def row(conn, sql: str, params=()):
    return conn.execute(sql, params).fetchone()


def change_mark(conn, table: str) -> tuple:
    """(row count, latest updated_at) of a table whose rows all carry updated_at: it changes
    whenever a row is added, edited or soft-deleted, so a reader that caches what it read (the
    redaction's known names) knows when to read again. `table` is a code-side constant."""
    found = conn.execute(f"SELECT count(*) AS n, max(updated_at) AS at FROM {table}").fetchone()
    return (found["n"], found["at"])
