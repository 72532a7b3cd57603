"""Backups: full and grid kinds, the policy and its scheduler, verify, preview, restore, reset, export, the drill.

Everything goes through HTTP except the scheduler step, which is called with an
injected clock (`scheduler.step(app, now=...)`), and the checks that read the
database or a backup file directly to prove what the API claims.
"""
import hashlib
import importlib.util
import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm.backups import scheduler
from crm.db import connect

ROOT = Path(__file__).resolve().parents[1]
BACKUPS = "/api/fundraising/backups"
TAKE = "/api/fundraising/backup"
VERIFY = "/api/fundraising/backup-verify"
PREVIEW = "/api/fundraising/restore-preview"
RESTORE = "/api/fundraising/restore"
POLICY = "/api/fundraising/backup-policy"
RESET = "/api/admin/reset-all-data"
EXPORT = "/api/admin/export"
OPS = "/api/fundraising/ops"
STATE = "/api/fundraising/state"


# -- helpers ------------------------------------------------------------------------

def ok(r, status=200):
    assert r.status_code == status, f"{r.status_code} {r.text}"
    return r.json()["data"]


def take(client, kind="full") -> dict:
    return ok(client.post(TAKE, {"kind": kind}), 201)


def listed(client) -> list:
    return ok(client.get(BACKUPS, params={"limit": 1000}))


def by_id(client) -> dict:
    return {b["id"]: b for b in listed(client)}


def folder(server) -> Path:
    return Path(server.config.data_dir) / "backups"


def files(server) -> dict:
    """{file name: sha256} of everything in the backups folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder(server).iterdir())}


def sql(server, query, params=()):
    conn = connect(server.config.db_path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def dump(server) -> dict:
    """Every ordinary table's rows in a total order: the whole database, for 'nothing changed' checks."""
    conn = connect(server.config.db_path)
    try:
        tables = [r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                                  "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")]
        result = {}
        for table in tables:
            width = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
            order = ", ".join(str(i) for i in range(1, width + 1))
            result[table] = conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        return result
    finally:
        conn.close()


def state(client) -> dict:
    return ok(client.get(STATE))


def keys(client) -> dict:
    return {c["key"]: c["id"] for c in state(client)["grid"]["columns"] if c["key"]}


def apply_ops(client, *ops) -> dict:
    return ok(client.post(OPS, {"base_version": state(client)["version"], "ops": list(ops)}))


def add_row(row_id, k, **cells) -> dict:
    return {"op": "add_row", "row_id": row_id, "cells": {k[name]: value for name, value in cells.items()}}


def set_cell(row_id, column_id, value) -> dict:
    return {"op": "set_cell", "row_id": row_id, "column_id": column_id, "value": value}


def fill_grid(client, n=5) -> dict:
    """n rows (r0..r{n-1}) with plain, checkbox and contacts cells. Returns the column ids by key."""
    k = keys(client)
    apply_ops(client, *[add_row(f"r{i}", k, name=f"Investor {i}", status="Contacted", notes=f"note {i}", graveyard=i == 3,
                                contacts=[{"name": f"Grid Person{i}", "email": f"p{i}@lp.example"}]) for i in range(n)])
    return k


def grid_rows(client) -> tuple:
    """(live rows, archived rows), each in grid order."""
    live = state(client)["grid"]["rows"]
    archived = ok(client.get("/api/fundraising/rows", params={"archived": "1", "limit": 1000}))
    return live, archived


def new_contact(client, last) -> dict:
    return ok(client.post("/api/contacts", {"first_name": "Test", "last_name": last}), 201)


def contact_names(client) -> list:
    """Last names of the classic contacts made by `new_contact` (grid contacts make classic ones too: first name Grid)."""
    return sorted(c["last_name"] for c in ok(client.get("/api/contacts", params={"limit": 1000})) if c["first_name"] == "Test")


def audit(client, **params) -> list:
    return ok(client.get("/api/audit-log", params={"limit": 1000, **params}))


def file_of(server, backup) -> Path:
    return folder(server) / backup["file"]


# -- taking and listing -------------------------------------------------------------

def test_both_kinds_are_recorded_listed_together_and_written_whole(server, admin):
    k = fill_grid(admin, 3)
    for name in ("Ada", "Bo"):
        new_contact(admin, name)
    live = {t: len(rows) for t, rows in dump(server).items()}
    full = take(admin, "full")
    grid = take(admin, "grid")
    default = ok(admin.post(TAKE), 201)  # no body: a full backup

    assert (full["kind"], grid["kind"], default["kind"]) == ("full", "grid", "full")
    for record in (full, grid, default):
        path = file_of(server, record)
        assert record["reason"] == "manual" and record["created_by"] == admin.user["id"] and record["created_at"]
        assert record["size"] == path.stat().st_size > 0
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["verified_ok"] is None and record["deleted_at"] is None
    assert full["row_counts"] == {t: live[t] for t in full["row_counts"]}  # audit_log too: its entry comes after the copy
    assert full["row_counts"]["contacts"] == 2 + 3 and full["row_counts"]["fundraising_investors"] == 3  # 3 linked from grid cells
    assert full["row_counts"]["users"] == 1 and "backups" not in full["row_counts"] and len(full["row_counts"]) == 19
    assert grid["row_counts"]["fundraising_investors"] == 3 and grid["row_counts"]["fundraising_contacts"] == 3
    assert "contacts" not in grid["row_counts"]  # a grid backup holds the grid only

    # The full file is a self-contained SQLite database (rollback journal, no -wal beside it) holding the data.
    copy = sqlite3.connect(f"file:{file_of(server, full)}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert sorted(r[0] for r in copy.execute("SELECT last_name FROM contacts WHERE first_name = 'Test'")) == ["Ada", "Bo"]
    finally:
        copy.close()
    snapshot = json.loads(file_of(server, grid).read_text())
    assert snapshot["format"] == "venture-crm-grid/1"
    assert sorted(r["name"] for r in snapshot["tables"]["fundraising_investors"]) == ["Investor 0", "Investor 1", "Investor 2"]
    assert len(snapshot["tables"]["fundraising_views"]) == 3 and len(snapshot["tables"]["fundraising_columns"]) == len(k)

    # Listed together, newest first; the folder holds exactly the three published files, no temporaries.
    assert [b["id"] for b in listed(admin)] == [default["id"], grid["id"], full["id"]]
    assert sorted(files(server)) == sorted(b["file"] for b in (full, grid, default))
    assert not [n for n in files(server) if ".tmp" in n or n.endswith(("-wal", "-shm", "-journal"))]
    created = [e for e in audit(admin, entity_type="backup") if e["action"] == "create"]
    assert sorted(e["entity_id"] for e in created) == sorted([full["id"], grid["id"], default["id"]])


def test_last_backup_security_check_follows_the_newest_backup(server, admin):
    def check():
        items = ok(admin.get("/api/security/status"))["checks"]
        return next(i for i in items if i["name"] == "last_backup")

    assert check()["ok"] is False and "no backup" in check()["detail"]
    backup = take(admin)
    assert ok(admin.post(VERIFY, {"backup_id": backup["id"]}))["ok"] is True
    assert check()["ok"] is True and "(verified)" in check()["detail"]
    file_of(server, backup).write_bytes(b"garbage")
    assert ok(admin.post(VERIFY, {"backup_id": backup["id"]}))["ok"] is False
    assert check()["ok"] is False and "FAILED verification" in check()["detail"]


# -- who may, and what is refused --------------------------------------------------
# These tables run against one module-wide server; each case measures its own before and after.

@pytest.fixture(scope="module")
def boss(shared):
    boss = shared.register_admin()
    fill_grid(boss, 2)
    new_contact(boss, "Kept")
    boss.backup = take(boss, "grid")
    return boss


@pytest.fixture(scope="module")
def member(shared, boss):
    return shared.add_user(boss, "maria")


ADMIN_ONLY = [
    ("GET", BACKUPS, None),
    ("POST", TAKE, {"kind": "full"}),
    ("POST", TAKE, {"kind": "grid"}),
    ("POST", VERIFY, {"backup_id": "BACKUP"}),
    ("POST", PREVIEW, {"backup_id": "BACKUP"}),
    ("POST", RESTORE, {"backup_id": "BACKUP"}),
    ("GET", POLICY, None),
    ("PATCH", POLICY, {"enabled": False, "keep": 1}),
    ("POST", RESET, {"confirm": "RESET ALL DATA"}),
    ("GET", EXPORT, None),
]


@pytest.mark.parametrize("method,path,body", ADMIN_ONLY)
def test_backup_endpoints_are_admin_only(shared, boss, member, method, path, body):
    body = json.loads(json.dumps(body).replace("BACKUP", boss.backup["id"])) if body else None
    before, before_files = dump(shared), files(shared)

    r = member.request(method, path, body)
    assert r.status_code == 403, r.text
    r = shared.client().request(method, path, body)
    assert r.status_code == 401, r.text
    assert dump(shared) == before
    assert files(shared) == before_files


BAD = [
    (TAKE, {"kind": "weekly"}, 422, "kind"),
    (TAKE, {"kind": "full", "reason": "auto"}, 422, "reason"),
    (VERIFY, {}, 422, "backup_id"),
    (VERIFY, {"backup_id": "no-such-backup"}, 404, "no such backup"),
    (PREVIEW, {"backup_id": "no-such-backup"}, 404, "no such backup"),
    (RESTORE, {"backup_id": "no-such-backup"}, 404, "no such backup"),
    (RESTORE, {"backup_id": "x" * 65}, 422, "backup_id"),
    (RESET, {"confirm": "reset all data"}, 422, "confirm"),
    (RESET, {}, 422, "confirm"),
]


@pytest.mark.parametrize("path,body,status,mention", BAD)
def test_bad_backup_requests_are_refused_and_change_nothing(shared, boss, path, body, status, mention):
    before, before_files = dump(shared), files(shared)

    r = boss.post(path, body)
    assert r.status_code == status, r.text
    assert mention in r.text
    assert dump(shared) == before
    assert files(shared) == before_files


# -- the policy ---------------------------------------------------------------------

def test_policy_defaults_update_and_audit(server, admin):
    assert ok(admin.get(POLICY)) == {"enabled": True, "interval_hours": 24, "keep": 14, "daily_days": 7, "kinds": ["full", "grid"]}
    changed = ok(admin.patch(POLICY, {"interval_hours": 6, "kinds": ["grid"]}))
    assert changed == {"enabled": True, "interval_hours": 6, "keep": 14, "daily_days": 7, "kinds": ["grid"]}
    assert ok(admin.get(POLICY)) == changed
    entry = next(e for e in audit(admin, entity_type="setting") if e["entity_id"] == "backup_policy")
    assert entry["changes"]["interval_hours"] == [24, 6] and entry["changes"]["kinds"] == [["full", "grid"], ["grid"]]


@pytest.mark.parametrize("body,field", [
    ({"interval_hours": 0}, "interval_hours"),
    ({"interval_hours": 24 * 7 + 1}, "interval_hours"),
    ({"keep": 0}, "keep"),
    ({"daily_days": -1}, "daily_days"),
    ({"kinds": []}, "kinds"),
    ({"kinds": ["full", "weekly"]}, "kinds"),
    ({"enabled": "yes"}, "enabled"),
    ({"retain_forever": True}, "retain_forever"),
])
def test_bad_policy_is_refused_and_the_old_one_stays(shared, boss, body, field):
    ok(boss.patch(POLICY, {"interval_hours": 12}))
    before = dump(shared)
    r = boss.patch(POLICY, body)
    assert r.status_code == 422, r.text
    assert field in json.dumps(r.json())
    assert dump(shared) == before
    assert ok(boss.get(POLICY))["interval_hours"] == 12


# -- the scheduler, with an injected clock ------------------------------------------

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)


def autos(client) -> list:
    return sorted((b for b in listed(client) if b["reason"] == "auto"), key=lambda b: b["created_at"])


def test_scheduler_takes_what_is_due_and_rereads_the_policy_each_step(server, admin):
    app = server.app
    ok(admin.patch(POLICY, {"interval_hours": 6, "kinds": ["full"], "keep": 100, "daily_days": 0}))

    first = scheduler.step(app, now=T0)  # nothing yet: due at once
    assert len(first["taken"]) == 1 and first["pruned"] == []
    assert scheduler.step(app, now=T0 + timedelta(hours=5, minutes=59)) == {"taken": [], "pruned": []}
    second = scheduler.step(app, now=T0 + timedelta(hours=6))
    assert len(second["taken"]) == 1
    assert scheduler.step(app, now=T0 + timedelta(hours=6, minutes=1)) == {"taken": [], "pruned": []}
    assert scheduler.step(app, now=T0 + timedelta(hours=11, minutes=59)) == {"taken": [], "pruned": []}

    found = autos(admin)
    assert [b["id"] for b in found] == first["taken"] + second["taken"]
    assert all(b["kind"] == "full" and b["created_by"] is None and b["verified_ok"] is True for b in found)
    assert [b["created_at"] for b in found] == ["2030-03-01T09:00:00.000Z", "2030-03-01T15:00:00.000Z"]

    # Disabled: nothing, however late.
    ok(admin.patch(POLICY, {"enabled": False}))
    before_files = files(server)
    assert scheduler.step(app, now=T0 + timedelta(days=30)) == {"taken": [], "pruned": []}
    assert files(server) == before_files and len(autos(admin)) == 2

    # A policy change counts from the very next step: a shorter interval, then another kind.
    ok(admin.patch(POLICY, {"enabled": True, "interval_hours": 1}))
    third = scheduler.step(app, now=T0 + timedelta(hours=7))
    assert len(third["taken"]) == 1
    ok(admin.patch(POLICY, {"kinds": ["grid"]}))
    fourth = scheduler.step(app, now=T0 + timedelta(hours=7, minutes=1))  # grid never taken: due at once
    assert len(fourth["taken"]) == 1
    assert by_id(admin)[fourth["taken"][0]]["kind"] == "grid"
    assert scheduler.step(app, now=T0 + timedelta(hours=7, minutes=30)) == {"taken": [], "pruned": []}
    assert [b["kind"] for b in autos(admin)] == ["full", "full", "full", "grid"]
    assert sorted(files(server)) == sorted(b["file"] for b in autos(admin))


def test_retention_keeps_the_newest_and_one_a_day(server, admin):
    app = server.app
    ok(admin.patch(POLICY, {"interval_hours": 1, "kinds": ["full"], "keep": 3, "daily_days": 2}))
    manual = take(admin, "grid")  # manual backups are never pruned
    times = ["05-01T08:00", "05-01T20:00", "05-02T08:00", "05-02T20:00", "05-03T08:00", "05-03T14:00", "05-03T20:00",
             "05-04T08:00", "05-04T12:00", "05-04T16:00"]
    pruned = []
    for at in times:
        result = scheduler.step(app, now=datetime.fromisoformat(f"2031-{at}:00+00:00"))
        assert len(result["taken"]) == 1
        pruned += result["pruned"]

    # At 05-04 16:00: the 3 newest, plus the newest of each day back to 05-02 16:00.
    kept = [b["created_at"][5:16] for b in autos(admin)]
    assert kept == ["05-02T20:00", "05-03T20:00", "05-04T08:00", "05-04T12:00", "05-04T16:00"]
    assert len(pruned) == len(times) - len(kept) == 5
    assert manual["id"] in by_id(admin)
    assert sorted(files(server)) == sorted([manual["file"]] + [b["file"] for b in autos(admin)])
    gone = sql(server, "SELECT deleted_at FROM backups WHERE id IN (%s)" % ",".join("?" * len(pruned)), pruned)
    assert len(gone) == 5 and all(r["deleted_at"] for r in gone)  # the records stay, marked


def test_retention_never_prunes_the_newest_verified_backup(server, admin):
    app = server.app
    ok(admin.patch(POLICY, {"interval_hours": 24, "kinds": ["full"], "keep": 10, "daily_days": 0}))
    for day in range(3):
        assert len(scheduler.step(app, now=T0 + timedelta(days=day))["taken"]) == 1
    oldest, middle, newest = autos(admin)
    for damaged in (middle, newest):  # the two newer ones fail their next verification
        file_of(server, damaged).write_bytes(b"not a database")
        assert ok(admin.post(VERIFY, {"backup_id": damaged["id"]}))["ok"] is False

    ok(admin.patch(POLICY, {"keep": 1}))
    result = scheduler.step(app, now=T0 + timedelta(days=2, hours=1))  # not due: only pruning
    assert result == {"taken": [], "pruned": [middle["id"]]}
    assert [b["id"] for b in autos(admin)] == [oldest["id"], newest["id"]]
    assert file_of(server, oldest).is_file() and not file_of(server, middle).exists()


# -- verify ---------------------------------------------------------------------------

def flip_byte(path: Path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def delete(path: Path):
    path.unlink()


DAMAGE = [("flip a byte", flip_byte, "SHA-256 does not match"), ("truncate", truncate, "SHA-256 does not match"),
          ("delete", delete, "missing")]


@pytest.mark.parametrize("kind", ["full", "grid"])
def test_verify_passes_a_good_backup(server, admin, kind):
    fill_grid(admin, 3)
    new_contact(admin, "Ada")
    backup = take(admin, kind)
    result = ok(admin.post(VERIFY, {"backup_id": backup["id"]}))
    assert result["ok"] is True and result["row_counts"] == backup["row_counts"]
    shown = by_id(admin)[backup["id"]]
    assert shown["verified_ok"] is True and shown["verified_at"] and shown["verify_detail"] == result["detail"]
    entry = next(e for e in audit(admin, entity_type="backup") if e["action"] == "verify")
    assert entry["entity_id"] == backup["id"] and entry["changes"] == {"ok": [None, True]}
    deep = ok(admin.post(VERIFY, {"backup_id": backup["id"], "deep": True}))
    assert deep["ok"] is True and deep["row_counts"] == backup["row_counts"]
    assert (result["check"], deep["check"]) == (("quick_check", "integrity_check") if kind == "full" else ("grid_json",) * 2)
    refused = admin.post(VERIFY, {"backup_id": backup["id"], "deep": "yes"})
    assert refused.status_code == 422 and "deep" in refused.text


@pytest.mark.parametrize("kind", ["full", "grid"])
@pytest.mark.parametrize("damage,harm,detail", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_backup_fails_verify_and_is_never_restored(server, admin, kind, damage, harm, detail):
    k = fill_grid(admin, 3)
    new_contact(admin, "Ada")
    backup = take(admin, kind)
    apply_ops(admin, set_cell("r0", k["notes"], "changed after the backup"))  # a restore would undo this
    new_contact(admin, "Bo")
    harm(file_of(server, backup))

    result = ok(admin.post(VERIFY, {"backup_id": backup["id"]}))
    assert result["ok"] is False and detail in result["detail"]
    assert by_id(admin)[backup["id"]]["verified_ok"] is False

    before, before_files, before_state = dump(server), files(server), state(admin)
    for path in (PREVIEW, RESTORE):
        r = admin.post(path, {"backup_id": backup["id"]})
        assert r.status_code == 409, r.text
        assert "failed verification and will not be restored" in r.json()["error"] and detail in r.json()["error"]
        assert dump(server) == before and files(server) == before_files  # no pre_restore backup, nothing overwritten
    assert state(admin) == before_state
    assert contact_names(admin) == ["Ada", "Bo"]


def test_verify_checks_integrity_and_row_counts_behind_the_hash(server, admin):
    """A file whose record was written with the damage already in it: the hash matches, the contents do not."""
    new_contact(admin, "Ada")
    full, grid = take(admin, "full"), take(admin, "grid")

    counts = dict(full["row_counts"], contacts=7)
    sql_write(server, "UPDATE backups SET row_counts = ? WHERE id = ?", (json.dumps(counts), full["id"]))
    result = ok(admin.post(VERIFY, {"backup_id": full["id"]}))
    assert result["ok"] is False and "row counts differ" in result["detail"]

    path = file_of(server, full)
    page = 4096
    data = bytearray(path.read_bytes())
    data[page: page * 3] = b"\x00" * (page * 2)  # wipe b-tree pages, keep the header
    path.write_bytes(bytes(data))
    sql_write(server, "UPDATE backups SET sha256 = ?, row_counts = ? WHERE id = ?",
              (hashlib.sha256(bytes(data)).hexdigest(), json.dumps(full["row_counts"]), full["id"]))
    result = ok(admin.post(VERIFY, {"backup_id": full["id"]}))
    assert result["ok"] is False and result["check"] == "quick_check"
    assert "quick_check failed" in result["detail"] or "not a readable SQLite database" in result["detail"]
    result = ok(admin.post(VERIFY, {"backup_id": full["id"], "deep": True}))
    assert result["ok"] is False and result["check"] == "integrity_check"
    assert "integrity_check failed" in result["detail"] or "not a readable SQLite database" in result["detail"]

    gpath = file_of(server, grid)
    gpath.write_text(json.dumps({"format": "something-else/1", "tables": {}}))
    sql_write(server, "UPDATE backups SET sha256 = ? WHERE id = ?", (hashlib.sha256(gpath.read_bytes()).hexdigest(), grid["id"]))
    result = ok(admin.post(VERIFY, {"backup_id": grid["id"]}))
    assert result["ok"] is False and "not a grid backup" in result["detail"]
    r = admin.post(RESTORE, {"backup_id": grid["id"]})
    assert r.status_code == 409 and "not a grid backup" in r.json()["error"]


def sql_write(server, query, params):
    conn = connect(server.config.db_path)
    try:
        conn.execute(query, params)
    finally:
        conn.close()


# -- preview --------------------------------------------------------------------------

def test_preview_of_a_grid_backup_counts_rows_added_removed_and_changed(server, admin):
    k = fill_grid(admin, 5)
    backup = take(admin, "grid")
    apply_ops(admin, add_row("new1", k, name="New 1"), add_row("new2", k, name="New 2"),
              set_cell("r1", k["notes"], "rewritten"), set_cell("r2", k["contacts"], []),
              {"op": "archive_row", "row_id": "r4"})

    preview = ok(admin.post(PREVIEW, {"backup_id": backup["id"]}))
    assert preview["kind"] == "grid" and preview["backup"]["id"] == backup["id"]
    rows = preview["rows"]
    assert rows["counts"] == {"added": 0, "removed": 2, "changed": 3}
    assert rows["removed"] == ["new1", "new2"] and rows["changed"] == ["r1", "r2", "r4"] and rows["added"] == []

    # Rows gone for good (a reset deletes them) come back with the restore: "added".
    ok(admin.post(RESET, {"confirm": "RESET ALL DATA"}))
    preview = ok(admin.post(PREVIEW, {"backup_id": backup["id"]}))
    assert preview["rows"]["counts"] == {"added": 5, "removed": 0, "changed": 0}
    assert preview["rows"]["added"] == ["r0", "r1", "r2", "r3", "r4"]


def test_preview_of_a_full_backup_counts_per_table(server, admin):
    originals = [new_contact(admin, f"Orig{i}") for i in range(5)]
    backup = take(admin, "full")
    for name in ("Late1", "Late2", "Late3"):
        new_contact(admin, name)
    for contact in originals[:2]:
        assert admin.delete(f"/api/contacts/{contact['id']}").status_code == 200

    before = dump(server)
    tables = ok(admin.post(PREVIEW, {"backup_id": backup["id"]}))["tables"]
    assert dump(server) == before  # a preview writes nothing
    assert tables["contacts"] == {"added": 0, "removed": 3, "changed": 2}  # deletes are soft: the rows changed
    assert tables["organizations"] == {"added": 0, "removed": 0, "changed": 0}
    assert tables["users"] == {"added": 0, "removed": 0, "changed": 0}
    # Audited since the copy: the backup itself (its entry is written after the copy), 3 creates, 2 deletes.
    assert tables["audit_log"]["removed"] == 6 and tables["audit_log"]["added"] == 0

    # After a reset deletes them outright, the restore would bring all five back.
    ok(admin.post(RESET, {"confirm": "RESET ALL DATA"}))
    assert ok(admin.post(PREVIEW, {"backup_id": backup["id"]}))["tables"]["contacts"] == {"added": 5, "removed": 0, "changed": 0}


# -- restore --------------------------------------------------------------------------

def test_restore_of_a_grid_backup_brings_the_grid_back_exactly(server, admin):
    k = fill_grid(admin, 5)
    apply_ops(admin, {"op": "archive_row", "row_id": "r3"})
    new_contact(admin, "Classic")
    before = state(admin)
    before_rows = grid_rows(admin)
    backup = take(admin, "grid")

    apply_ops(admin, add_row("late", k, name="Late"), set_cell("r0", k["name"], "Renamed"),
              set_cell("r1", k["contacts"], [{"name": "Other", "email": "o@lp.example"}]),
              {"op": "archive_row", "row_id": "r2"}, {"op": "restore_row", "row_id": "r3"})
    view = ok(admin.post("/api/fundraising/views", {"name": "Late view", "config": {}}), 201)
    new_contact(admin, "Unrelated")  # classic data is not part of a grid backup
    version_before = state(admin)["version"]

    result = ok(admin.post(RESTORE, {"backup_id": backup["id"]}))
    assert result["restored"]["id"] == backup["id"]
    safety = result["pre_restore_backup"]
    assert safety["kind"] == "full" and safety["reason"] == "pre_restore"

    after = state(admin)
    assert grid_rows(admin) == before_rows
    assert after["grid"] == before["grid"]
    assert after["views"] == before["views"] and view["id"] not in [v["id"] for v in after["views"]]
    assert after["version"] > version_before  # the version moves on, never back
    assert contact_names(admin) == ["Classic", "Unrelated"]

    # The pre_restore backup holds what was replaced.
    copy = sqlite3.connect(f"file:{file_of(server, safety)}?mode=ro", uri=True)
    try:
        assert copy.execute("SELECT name FROM fundraising_investors WHERE id = 'r0'").fetchone()[0] == "Renamed"
        assert copy.execute("SELECT count(*) FROM fundraising_investors").fetchone()[0] == 6
    finally:
        copy.close()
    assert set(by_id(admin)) == {backup["id"], safety["id"]}
    actions = {(e["entity_id"], e["action"]) for e in audit(admin, entity_type="backup")}
    assert {(backup["id"], "restore"), (safety["id"], "create"), (backup["id"], "create")} <= actions

    # Work goes on: edit, add, take another backup.
    apply_ops(admin, set_cell("r0", k["notes"], "after restore"), add_row("after", k, name="After"))
    assert [r["cells"][k["name"]] for r in state(admin)["grid"]["rows"]][-1] == "After"
    take(admin, "grid")
    assert len(listed(admin)) == 3


def test_restore_of_a_full_backup_brings_the_database_back_and_keeps_every_backup(server, admin):
    k = fill_grid(admin, 3)
    for name in ("Ada", "Bo", "Cy"):
        new_contact(admin, name)
    before_contacts = ok(admin.get("/api/contacts", params={"limit": 1000}))
    before_grid = state(admin)["grid"]
    backup = take(admin, "full")
    keep = {t: rows for t, rows in dump(server).items() if t not in ("backups", "audit_log")}

    doomed = next(c for c in before_contacts if c["last_name"] == "Ada")
    assert admin.delete(f"/api/contacts/{doomed['id']}").status_code == 200
    new_contact(admin, "Late")
    apply_ops(admin, set_cell("r0", k["notes"], "late note"), add_row("late", k, name="Late"))
    grid_after = take(admin, "grid")  # taken after the full backup: must survive its restore
    ok(admin.patch(POLICY, {"keep": 3}))

    result = ok(admin.post(RESTORE, {"backup_id": backup["id"]}))
    safety = result["pre_restore_backup"]
    assert safety["reason"] == "pre_restore" and safety["kind"] == "full"

    assert ok(admin.get("/api/contacts", params={"limit": 1000})) == before_contacts
    assert state(admin)["grid"] == before_grid
    now = dump(server)
    log = ("fundraising_state", "fundraising_ops")  # the grid's version moves on past the restore (tested below)
    assert {t: rows for t, rows in now.items() if t not in ("backups", "audit_log") + log} == \
        {t: rows for t, rows in keep.items() if t not in log}
    assert now["fundraising_ops"][:-1] == keep["fundraising_ops"] and now["fundraising_ops"][-1]["kind"] == "reset_grid"
    assert ok(admin.get(POLICY))["keep"] == 14  # settings are data too
    assert set(by_id(admin)) == {backup["id"], grid_after["id"], safety["id"]}
    assert sql(server, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    assert sql(server, "PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    restored = [e for e in audit(admin, entity_type="backup") if e["action"] == "restore"]
    assert [e["entity_id"] for e in restored] == [backup["id"]]

    # The pre_restore backup can undo the restore.
    assert ok(admin.post(VERIFY, {"backup_id": safety["id"]}))["ok"] is True
    assert safety["row_counts"]["contacts"] == backup["row_counts"]["contacts"] + 1  # deletes are soft: "Late" is the one more

    # Work goes on over the restored file.
    new_contact(admin, "Dee")
    assert contact_names(admin) == ["Ada", "Bo", "Cy", "Dee"]
    apply_ops(admin, set_cell("r1", k["notes"], "after restore"))
    assert ok(admin.post(VERIFY, {"backup_id": take(admin, "full")["id"]}))["ok"] is True
    assert len(listed(admin)) == 4


def test_after_a_full_restore_live_clients_are_told_to_reload(server, admin):
    """A client that knew version v before the restore asks for changes since v: it must not miss what follows."""
    k = fill_grid(admin, 2)
    backup = take(admin, "full")
    for i in range(3):
        apply_ops(admin, set_cell("r0", k["notes"], f"edit {i}"))
    seen = state(admin)["version"]  # a live client's cursor

    ok(admin.post(RESTORE, {"backup_id": backup["id"]}))
    assert state(admin)["version"] > seen  # forward, never back to the backup's version
    apply_ops(admin, set_cell("r1", k["notes"], "after the restore"))
    found = ok(admin.get("/api/fundraising/changes", params={"since": seen}))
    kinds = [op["kind"] for op in found["ops"]]
    assert found["reset"] or kinds[0] == "reset_grid", found
    assert kinds[-1] == "set_cell" and found["ops"][-1]["after"] == "after the restore"


def test_full_restore_by_an_admin_the_backup_does_not_know(server, admin):
    """The restoring admin was created after the backup: their user row is gone from the restored file."""
    new_contact(admin, "Ada")
    backup = take(admin, "full")
    ops_admin = server.add_user(admin, "ops", role="admin")
    later = take(ops_admin, "grid")
    new_contact(ops_admin, "Late")

    result = ok(ops_admin.post(RESTORE, {"backup_id": backup["id"]}))
    assert contact_names(admin) == ["Ada"]
    found = by_id(admin)
    assert set(found) == {backup["id"], later["id"], result["pre_restore_backup"]["id"]}
    assert found[backup["id"]]["created_by"] == admin.user["id"]
    assert found[later["id"]]["created_by"] is None and found[result["pre_restore_backup"]["id"]]["created_by"] is None
    assert sql(server, "PRAGMA foreign_key_check") == []
    assert ok(admin.post(VERIFY, {"backup_id": result["pre_restore_backup"]["id"]}))["ok"] is True
    assert ops_admin.get("/api/contacts").status_code == 401  # a user the restored database never had is signed out


def test_grid_restore_of_rows_edited_by_a_user_a_full_restore_removed(server, admin):
    """Grid backup B holds rows written by `ops`; a full restore to before `ops` existed; then B is restored."""
    k = fill_grid(admin, 2)
    full = take(admin, "full")
    ops_admin = server.add_user(admin, "ops", role="admin")
    apply_ops(ops_admin, set_cell("r0", k["notes"], "by ops"), add_row("ops-row", k, name="Ops row"))
    grid = take(ops_admin, "grid")
    ok(admin.post(RESTORE, {"backup_id": full["id"]}))
    assert [r["id"] for r in state(admin)["grid"]["rows"]] == ["r0", "r1"]

    ok(admin.post(RESTORE, {"backup_id": grid["id"]}))
    rows = {r["id"]: r for r in state(admin)["grid"]["rows"]}
    assert list(rows) == ["r0", "r1", "ops-row"] and rows["r0"]["cells"][k["notes"]] == "by ops"
    assert sql(server, "PRAGMA foreign_key_check") == []


def test_reset_all_data_takes_a_pre_reset_backup_that_can_bring_everything_back(server, admin):
    k = fill_grid(admin, 4)
    for name in ("Ada", "Bo"):
        new_contact(admin, name)
    before_contacts = ok(admin.get("/api/contacts", params={"limit": 1000}))
    before_grid = state(admin)["grid"]

    result = ok(admin.post(RESET, {"confirm": "RESET ALL DATA"}))
    safety = by_id(admin)[result["pre_reset_backup"]]
    assert safety["kind"] == "full" and safety["reason"] == "pre_reset"
    assert safety["row_counts"]["contacts"] == 2 + 4 and safety["row_counts"]["fundraising_investors"] == 4  # 4 linked from grid cells
    assert contact_names(admin) == [] and state(admin)["grid"]["rows"] == []
    assert ok(admin.post(VERIFY, {"backup_id": safety["id"]}))["ok"] is True

    restore = ok(admin.post(RESTORE, {"backup_id": safety["id"]}))
    assert ok(admin.get("/api/contacts", params={"limit": 1000})) == before_contacts
    assert state(admin)["grid"]["rows"] == before_grid["rows"]
    reasons = sorted(b["reason"] for b in listed(admin))
    assert reasons == ["pre_reset", "pre_restore"]
    assert by_id(admin)[restore["pre_restore_backup"]["id"]]["row_counts"]["contacts"] == 0
    apply_ops(admin, set_cell("r0", k["notes"], "back to work"))


# -- export ---------------------------------------------------------------------------

def test_full_export_holds_everything_but_secrets(server, admin):
    fill_grid(admin, 2)
    new_contact(admin, "Ada")
    server.add_user(admin, "maria")
    r = admin.get(EXPORT)
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["Content-Disposition"]
    document = json.loads(r.content)
    assert document["format"] == "venture-crm-export/1"
    tables = document["tables"]
    assert sorted(u["username"] for u in tables["users"]) == ["admin", "maria"]
    assert sorted(c["last_name"] for c in tables["contacts"]) == ["Ada", "Person0", "Person1"]
    assert sorted(i["id"] for i in tables["fundraising_investors"]) == ["r0", "r1"]
    assert len(tables["fundraising_contacts"]) == 2 and tables["fundraising_columns"] and tables["fundraising_views"]
    assert tables["audit_log"] and tables["app_settings"] is not None
    assert all("password_hash" not in row and "token_version" not in row for row in tables["users"])
    text = r.content.decode()
    hashes = [u["password_hash"] for u in sql(server, "SELECT password_hash FROM users")]
    assert len(hashes) == 2 and all(hashes)
    assert not [h for h in hashes if h in text] and "$2b$" not in text  # no password hash anywhere, audit entries included
    assert not {"user_invites", "revoked_tokens", "schema_migrations"} & set(tables)
    live = {t: len(rows) for t, rows in dump(server).items()}
    for table in ("contacts", "fundraising_investors", "fundraising_contacts", "users", "fundraising_columns"):
        assert len(tables[table]) == live[table]


# -- the restore drill ------------------------------------------------------------------

def test_restore_drill_passes(tmp_path):
    spec = importlib.util.spec_from_file_location("restore_drill", ROOT / "scripts" / "restore_drill.py")
    drill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drill)
    report = drill.drill(tmp_path / "drill", contacts=90)
    assert report["ok"] is True and report["differing_tables"] == []
    assert report["before"] == report["after"]
    assert report["before"]["contacts"][0] == 90
    # the drill's own 30 investors, and the demo grid's with their commitments and linked contacts
    assert report["before"]["fundraising_investors"][0] > 30
    assert report["before"]["fundraising_commitments"][0] > 0 and report["before"]["fundraising_contacts"][0] > 0
    assert report["tables"] >= 20 and report["rows"] > 200
    assert report["verify"] == "hash, integrity and row counts check out"

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "restore_drill.py"), "--contacts", "60"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DRILL PASSED" in run.stdout


# -- concurrency --------------------------------------------------------------------------

def test_full_backup_while_another_thread_writes_is_a_consistent_prefix(server, admin):
    """A writer commits numbered rows through its own connection throughout; the backup holds exactly
    the first n of them, with every write acknowledged before the backup began among them."""
    writer = connect(server.config.db_path)
    acknowledged = []
    stop = threading.Event()
    errors = []

    def write():
        n = 0
        try:
            while not stop.is_set():
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("INSERT INTO tags (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                               (f"probe-{n:07d}", f"probe {n}", "2030-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z"))
                writer.execute("COMMIT")
                acknowledged.append(n)
                n += 1
                time.sleep(0.0005)  # a busy writer, not a lock hog: others get the write lock between commits
        except Exception as exc:  # reported below: the writer must never be refused
            errors.append(exc)

    thread = threading.Thread(target=write, name="probe-writer")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.005)
        acked_at_start = len(acknowledged)
        backup = take(admin, "full")
        acked_at_end = len(acknowledged)
        time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
        writer.close()
    assert errors == []
    assert acked_at_start >= 300 and acked_at_end > acked_at_start  # the writer kept committing during the backup

    copy = sqlite3.connect(f"file:{file_of(server, backup)}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        present = [int(r[0][6:]) for r in copy.execute("SELECT id FROM tags WHERE id LIKE 'probe-%' ORDER BY id")]
    finally:
        copy.close()
    assert present == list(range(len(present)))  # a prefix: no gap, nothing later without everything before
    assert len(present) >= acked_at_start  # every write acknowledged before the backup began is in it
    assert len(present) < len(acknowledged)  # and it is a snapshot, not whatever came later
    assert backup["row_counts"]["tags"] == len(present)
    assert ok(admin.post(VERIFY, {"backup_id": backup["id"]}))["ok"] is True


def test_full_restore_makes_concurrent_requests_wait_not_fail(make_server):
    """Readers hammer the API through a full restore. Every answer is a 200 showing the database either
    before the restore or after it: nothing from inside it, such as the pre_restore backup's audit entry,
    which exists only between its creation and the copy that replaces the audit log."""
    server = make_server(seed_demo_data=True)
    admin = server.register_admin()
    total = admin.get("/api/contacts").json()["total"]
    assert total >= 500
    backup = take(admin, "full")
    new_contact(admin, "AfterTheBackup")
    assert admin.get("/api/contacts").json()["total"] == total + 1

    answers, stop = [], threading.Event()
    asks = [("/api/contacts", {"limit": 20}), (BACKUPS, {}), ("/api/audit-log", {"entity_type": "backup", "action": "create"})]

    def hammer(offset):
        client = server.client(admin.token)
        n = offset
        while not stop.is_set():
            path, params = asks[n % len(asks)]
            n += 1
            started = time.monotonic()
            r = client.get(path, params=params)
            answers.append((started, time.monotonic(), path, r.status_code, r.json()))

    threads = [threading.Thread(target=hammer, args=(i,), name=f"hammer-{i}") for i in range(6)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        began = time.monotonic()
        r = admin.post(RESTORE, {"backup_id": backup["id"]})
        ended = time.monotonic()
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert r.status_code == 200, r.text
    safety = r.json()["data"]["pre_restore_backup"]["id"]
    assert answers and {a[3] for a in answers} == {200}
    assert [a for a in answers if a[0] < ended and a[1] > began], "no request overlapped the restore"

    totals = {a[4]["total"] for a in answers if a[2] == "/api/contacts"}
    assert totals <= {total, total + 1} and {a[4]["total"] for a in answers if a[2] == "/api/contacts" and a[0] > ended} == {total}
    listings = {frozenset(b["id"] for b in a[4]["data"]) for a in answers if a[2] == BACKUPS}
    assert listings <= {frozenset([backup["id"]]), frozenset([backup["id"], safety])}
    audited = [a for a in answers if a[2] == "/api/audit-log"]
    assert audited and not [a for a in audited if safety in {e["entity_id"] for e in a[4]["data"]}]
    assert admin.get("/api/contacts").json()["total"] == total
    assert sql(server, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"


def test_grid_restore_refuses_a_backup_whose_commenters_are_gone(server, admin):
    """A grid backup with comments by a user a full restore has since removed: 409, nothing written."""
    before_maria = admin.post("/api/fundraising/backup", {"kind": "full"}).json()["data"]["id"]
    maria = server.add_user(admin, "maria")
    state = admin.get("/api/fundraising/state").json()["data"]
    name = next(c["id"] for c in state["grid"]["columns"] if c["key"] == "name")
    admin.post("/api/fundraising/ops", {"base_version": state["version"],
                                        "ops": [{"op": "add_row", "row_id": "r1", "cells": {name: "Granite"}}]})
    assert maria.post("/api/fundraising/rows/r1/comments", {"body": "call them"}).status_code == 201
    grid_backup = admin.post("/api/fundraising/backup", {"kind": "grid"}).json()["data"]["id"]
    assert admin.post("/api/fundraising/restore", {"backup_id": before_maria}).status_code == 200
    backups_before = admin.get("/api/fundraising/backups").json()["total"]
    rows_before = admin.get("/api/fundraising/state").json()["data"]["grid"]["rows"]
    r = admin.post("/api/fundraising/restore", {"backup_id": grid_backup})
    assert r.status_code == 409 and "no longer has" in r.json()["error"]
    assert admin.get("/api/fundraising/state").json()["data"]["grid"]["rows"] == rows_before
    assert admin.get("/api/fundraising/backups").json()["total"] == backups_before  # not even a pre_restore backup
