"""Numbered .sql migrations under a `schema_migrations` ledger.

A folder holds `NNNN_name.sql` files and, where a change can be undone,
`NNNN_name.down.sql`. Each pending file runs in its own transaction together
with its ledger row, so a failing migration leaves nothing behind and stays
pending. An applied file whose text has changed stops start-up: the database
no longer matches what the code believes it is. A namespace lets a feature
package keep its own folder in the same ledger (`NAMESPACES`).
"""
import hashlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..clock import now_iso
from .connection import transaction

CORE_MIGRATIONS = Path(__file__).parent / "migrations"
# Every folder of migrations, applied in this order: core first (features refer to its tables).
NAMESPACES = (
    ("core", CORE_MIGRATIONS),
    ("email", Path(__file__).parents[1] / "email" / "migrations"),
    ("ingest", Path(__file__).parents[1] / "ingest" / "migrations"),
)
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    namespace  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (namespace, version)
)
"""


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def down_path(self) -> Path:
        return self.path.with_name(self.path.name[:-4] + ".down.sql")


def discover(folder: Path) -> list:
    found = []
    for path in sorted(Path(folder).glob("*.sql")):
        if path.name.endswith(".down.sql"):
            continue
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations in {folder} share a version number")
    return found


def statements(sql: str):
    """Split a script into complete statements (triggers' BEGIN...END kept whole)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise MigrationError("migration ends with an incomplete statement")


def applied(conn, namespace: str) -> dict:
    conn.execute(LEDGER_SQL)
    result = conn.execute(
        "SELECT version, name, checksum FROM schema_migrations WHERE namespace = ?", (namespace,)
    ).fetchall()
    return {r["version"]: r for r in result}


def check_drift(migrations, done: dict, namespace: str) -> None:
    for migration in migrations:
        entry = done.get(migration.version)
        if entry and entry["checksum"] != migration.checksum:
            raise MigrationError(
                f"migration {namespace}/{migration.path.name} was changed after it was applied "
                f"(checksum {entry['checksum'][:12]}… recorded, {migration.checksum[:12]}… on disk). "
                "Restore the original file and add a new migration instead."
            )


def pending(conn, folder: Path = CORE_MIGRATIONS, namespace: str = "core") -> list:
    migrations = discover(folder)
    done = applied(conn, namespace)
    check_drift(migrations, done, namespace)
    return [m for m in migrations if m.version not in done]


def apply_migrations(conn, folder: Path = CORE_MIGRATIONS, namespace: str = "core") -> list:
    """Apply every pending migration, each in its own transaction. Returns the versions applied."""
    done = []
    for migration in pending(conn, folder, namespace):
        try:
            with transaction(conn):
                for statement in statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (namespace, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)",
                    (namespace, migration.version, migration.name, migration.checksum, now_iso()),
                )
        except sqlite3.Error as exc:
            raise MigrationError(f"migration {namespace}/{migration.path.name} failed and was rolled back: {exc}") from exc
        done.append(migration.version)
    return done


def apply_all(conn) -> list:
    """Apply every namespace's pending migrations. Returns "namespace/version" for each applied."""
    return [f"{namespace}/{version}" for namespace, folder in NAMESPACES
            for version in apply_migrations(conn, folder, namespace)]


def pending_all(conn) -> list:
    """Every namespace's pending migrations, in the order they would run."""
    return [m for namespace, folder in NAMESPACES for m in pending(conn, folder, namespace)]


def roll_back(conn, to_version: int, folder: Path = CORE_MIGRATIONS, namespace: str = "core") -> list:
    """Undo applied migrations above `to_version`, newest first, with their .down.sql files."""
    undone = []
    done = applied(conn, namespace)
    for migration in sorted(discover(folder), key=lambda m: m.version, reverse=True):
        if migration.version <= to_version or migration.version not in done:
            continue
        if not migration.down_path.exists():
            raise MigrationError(f"migration {migration.path.name} has no down script")
        with transaction(conn):
            for statement in statements(migration.down_path.read_text(encoding="utf-8")):
                conn.execute(statement)
            conn.execute("DELETE FROM schema_migrations WHERE namespace = ? AND version = ?", (namespace, migration.version))
        undone.append(migration.version)
    return undone
