"""SQLite set-up, the migration runner and its ledger, app_settings, audit atomicity."""
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crm import audit, settings
from crm.db import connect, transaction
from crm.db import migrate
from crm.db.connection import enable_wal

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def conn(tmp_path):
    path = tmp_path / "t.db"
    enable_wal(path)
    c = connect(path)
    yield c
    c.close()


def write(folder: Path, name: str, sql: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(sql)
    return path


def test_connection_pragmas(conn):
    assert conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()["foreign_keys"] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()["timeout"] == 5000


def test_server_database_is_wal_and_fully_migrated(server):
    c = connect(server.config.db_path)
    assert c.execute("PRAGMA journal_mode").fetchone()["journal_mode"] == "wal"
    ledger = c.execute("SELECT version, name, checksum FROM schema_migrations WHERE namespace = 'core'").fetchall()
    on_disk = migrate.discover(migrate.CORE_MIGRATIONS)
    assert [(r["version"], r["name"], r["checksum"]) for r in ledger] == [(m.version, m.name, m.checksum) for m in on_disk]
    c.close()


def test_migrations_apply_once_in_order(conn, tmp_path):
    folder = tmp_path / "m"
    write(folder, "0001_people.sql", "CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT);")
    write(folder, "0002_more.sql", "ALTER TABLE people ADD COLUMN email TEXT; CREATE INDEX people_email ON people(email);")
    assert migrate.apply_migrations(conn, folder, "test") == [1, 2]
    assert migrate.apply_migrations(conn, folder, "test") == []
    conn.execute("INSERT INTO people (id, name, email) VALUES ('1', 'a', 'a@x')")
    rows = conn.execute("SELECT version, name FROM schema_migrations WHERE namespace = 'test' ORDER BY version").fetchall()
    assert rows == [{"version": 1, "name": "people"}, {"version": 2, "name": "more"}]


def test_a_failing_migration_rolls_back_and_stays_pending(conn, tmp_path):
    folder = tmp_path / "m"
    write(folder, "0001_ok.sql", "CREATE TABLE a (x);")
    write(folder, "0002_bad.sql", "CREATE TABLE b (x); INSERT INTO no_such_table VALUES (1);")
    with pytest.raises(migrate.MigrationError, match="0002_bad.sql failed and was rolled back"):
        migrate.apply_migrations(conn, folder, "test")
    tables = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "a" in tables and "b" not in tables
    assert [m.version for m in migrate.pending(conn, folder, "test")] == [2]
    write(folder, "0002_bad.sql", "CREATE TABLE b (x);")
    assert migrate.apply_migrations(conn, folder, "test") == [2]


def test_triggers_survive_statement_splitting(conn, tmp_path):
    folder = tmp_path / "m"
    write(folder, "0001_t.sql", """
        CREATE TABLE t (x TEXT, n INTEGER DEFAULT 0);
        CREATE TABLE log (msg TEXT);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
            INSERT INTO log VALUES ('added; ' || new.x);
            UPDATE t SET n = n + 1;
        END;
    """)
    migrate.apply_migrations(conn, folder, "test")
    conn.execute("INSERT INTO t (x) VALUES ('a;b')")
    assert conn.execute("SELECT msg FROM log").fetchone()["msg"] == "added; a;b"


def test_checksum_drift_is_detected(conn, tmp_path):
    folder = tmp_path / "m"
    path = write(folder, "0001_a.sql", "CREATE TABLE a (x);")
    migrate.apply_migrations(conn, folder, "test")
    path.write_text("CREATE TABLE a (x, y);")
    with pytest.raises(migrate.MigrationError, match="was changed after it was applied"):
        migrate.apply_migrations(conn, folder, "test")


def test_namespaces_are_separate(conn, tmp_path):
    write(tmp_path / "core", "0001_a.sql", "CREATE TABLE a (x);")
    write(tmp_path / "email", "0001_b.sql", "CREATE TABLE b (x);")
    assert migrate.apply_migrations(conn, tmp_path / "core", "core") == [1]
    assert migrate.apply_migrations(conn, tmp_path / "email", "email") == [1]


def test_down_scripts_undo_the_core_schema(conn):
    migrate.apply_migrations(conn)
    migrate.roll_back(conn, 0)
    tables = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
    assert tables == {"schema_migrations"}
    assert conn.execute("SELECT count(*) AS n FROM schema_migrations WHERE namespace = 'core'").fetchone()["n"] == 0
    migrate.apply_migrations(conn)  # and forward again
    assert migrate.pending(conn) == []


def test_every_namespace_applies_in_order_and_the_email_schema_rolls_back_on_its_own(conn):
    applied = migrate.apply_all(conn)
    emails = [a for a in applied if a.startswith("email/")]
    assert applied[0] == "core/1" and applied.index("email/1") > applied.index("core/6")
    assert emails == [f"email/{n}" for n in range(1, len(emails) + 1)] and len(emails) >= 2
    tables = lambda: {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"emails", "email_accounts", "email_threads", "users"} <= tables()
    email = dict(migrate.NAMESPACES)["email"]
    assert migrate.roll_back(conn, 0, email, "email") == [int(a[6:]) for a in reversed(emails)]
    assert not {t for t in tables() if t.startswith("email")} and "users" in tables()
    assert migrate.pending_all(conn) == migrate.pending(conn, email, "email") != []
    assert migrate.apply_all(conn) == emails and migrate.pending_all(conn) == []


def test_bad_file_names_are_refused(tmp_path):
    write(tmp_path, "1_oops.sql", "SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="NNNN_name.sql"):
        migrate.discover(tmp_path)


def test_server_refuses_to_start_on_drift(tmp_path):
    """The real entry point stops with a clear message when an applied migration changed."""
    backend = tmp_path / "backend"
    shutil.copytree(ROOT / "backend", backend, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "CRM_PORT": "0"}
    db = tmp_path / "data" / "crm.db"
    (tmp_path / "data").mkdir()
    enable_wal(db)
    c = connect(db)
    migrate.apply_migrations(c, backend / "crm/db/migrations")
    c.close()
    first = backend / "crm/db/migrations/0001_core.sql"
    first.write_text(first.read_text() + "\n-- edited\n")
    proc = subprocess.run([sys.executable, str(backend / "server.py")], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3
    assert "was changed after it was applied" in proc.stderr


def test_ready_reports_pending_migrations(server):
    c = connect(server.config.db_path)
    c.execute("DELETE FROM schema_migrations WHERE namespace = 'core' AND version = 1")
    c.close()
    r = server.client().get("/api/ready")
    assert r.status_code == 503 and r.json()["pending"] == ["0001_core.sql"]


def test_settings_helper(conn):
    migrate.apply_migrations(conn)
    assert settings.get(conn, "policy", {"on": False}) == {"on": False}
    settings.put(conn, "policy", {"on": True, "hours": 6})
    settings.put(conn, "policy", {"on": True, "hours": 12})
    assert settings.get(conn, "policy", kind=dict) == {"on": True, "hours": 12}
    with pytest.raises(TypeError):
        settings.get(conn, "policy", kind=list)


def test_audit_commits_or_rolls_back_with_the_mutation(conn):
    migrate.apply_migrations(conn)
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(conn):
            audit.record(conn, None, "thing", "1", "create", {"name": [None, "x"]})
            conn.execute("INSERT INTO users (id) VALUES (NULL)")  # fails: NOT NULL columns
    assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == 0
    with transaction(conn):
        audit.record(conn, None, "thing", "1", "create", {"name": [None, "x"]})
    entry = conn.execute("SELECT * FROM audit_log").fetchone()
    assert entry["actor_kind"] == "system" and entry["entity_type"] == "thing"


def test_audit_diff_redacts_secrets():
    changes = audit.diff({"name": "a", "password_hash": "h1"}, {"name": "b", "password_hash": "h2"})
    assert changes == {"name": ["a", "b"], "password_hash": ["[redacted]", "[redacted]"]}


def test_audit_log_endpoint_filters_and_pages(server, admin):
    for name in ("u1", "u2", "u3"):
        admin.post("/api/admin/users", {"username": name, "role": "member"})
    r = admin.get("/api/audit-log", params={"entity_type": "user", "action": "create", "limit": 2})
    body = r.json()
    assert body["total"] == 3 and body["limit"] == 2 and body["offset"] == 0 and len(body["data"]) == 2
    second = admin.get("/api/audit-log", params={"entity_type": "user", "action": "create", "limit": 2, "offset": 2}).json()
    assert len(second["data"]) == 1
    ids = {e["entity_id"] for e in body["data"] + second["data"]}
    assert len(ids) == 3
    at = body["data"][0]["at"]
    newer = admin.get("/api/audit-log", params={"since": at, "action": "create"}).json()
    assert all(e["at"] >= at for e in newer["data"]) and newer["total"] >= 1
    none = admin.get("/api/audit-log", params={"until": "2000-01-01"}).json()
    assert none["total"] == 0
    assert admin.get("/api/audit-log", params={"actor_id": admin.user["id"], "action": "create"}).json()["total"] == 3


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"), ({"limit": "5000"}, "limit"), ({"limit": "x"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"since": "yesterday"}, "since"),
])
def test_audit_log_rejects_bad_query(admin, params, field):
    r = admin.get("/api/audit-log", params=params)
    assert r.status_code == 422 and field in r.json()["fields"]


def test_new_ids_are_random_version_4_uuids_in_canonical_text():
    import uuid
    from crm.clock import new_id
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    assert {text[19] for text in ids} == set("89ab")  # every variant nibble occurs: the bits are random
