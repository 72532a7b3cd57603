"""Backups as the rest of the system sees them: take, list, verify, prune, preview, restore.

A restore always verifies its backup first (a damaged file is refused and
nothing is touched) and takes a `pre_restore` full backup of what is about
to be replaced. A grid restore rewrites the grid's tables in one transaction;
a full restore copies the backup into the live database with SQLite's backup
API while the app's gate holds every other request back, then re-opens its
connections and re-applies migrations.
"""
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from .. import audit
from ..clock import iso, new_id, now_iso, parse_iso, utcnow
from ..db import transaction
from ..db.migrate import apply_all
from ..errors import Conflict, Invalid, NotFound
from . import snapshots
from .snapshots import BackupError

KINDS = ("full", "grid")
REASONS = ("manual", "auto", "pre_restore", "pre_reset", "pre_import")


def _stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S%fZ")


def take(config, conn, kind: str, reason: str, user_id=None, req=None, at=None) -> dict:
    """Write a backup file, then record it. `conn` is a live connection outside any transaction:
    the copy is taken from a read snapshot, so writers are never held back by a write lock here.
    `at` is the scheduler's clock: the record's time, so the next due time is counted from it."""
    target = snapshots.folder(config)
    if kind == "full":
        name, counts = snapshots.write_full(config.db_path, target, _stamp())
    else:
        name, counts = snapshots.write_grid(conn, target, _stamp())
    path = target / name
    backup_id, digest = new_id(), snapshots.sha256_of(path)
    with transaction(conn):
        conn.execute("INSERT INTO backups (id, kind, reason, file, size, sha256, row_counts, created_at, created_by) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (backup_id, kind, reason, name, path.stat().st_size, digest, json.dumps(counts), iso(at) if at else now_iso(), user_id))
        audit.record(conn, req, "backup", backup_id, "create", {"kind": [None, kind], "reason": [None, reason], "file": [None, name]},
                     actor=None if req else {"id": user_id, "kind": "system"})
    return get(conn, backup_id)


def _shown(record) -> dict:
    record = dict(record)
    record["row_counts"] = json.loads(record["row_counts"])
    record["verified_ok"] = None if record["verified_ok"] is None else bool(record["verified_ok"])
    return record


def get(conn, backup_id) -> dict:
    found = conn.execute("SELECT * FROM backups WHERE id = ? AND deleted_at IS NULL", (backup_id,)).fetchone()
    if found is None:
        raise NotFound(f"no such backup: {backup_id}")
    return _shown(found)


def list_all(conn, limit, offset) -> tuple:
    total = conn.execute("SELECT count(*) AS n FROM backups WHERE deleted_at IS NULL").fetchone()["n"]
    found = conn.execute("SELECT * FROM backups WHERE deleted_at IS NULL ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                         (limit, offset)).fetchall()
    return [_shown(r) for r in found], total


def latest(conn):
    found = conn.execute("SELECT * FROM backups WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 1").fetchone()
    return _shown(found) if found else None


def verify(config, conn, backup_id, deep=False) -> dict:
    """Check a backup file, then record the result. The check (hash, quick_check or with `deep`
    integrity_check) runs outside any transaction: on a large database it takes seconds, and
    writers must not wait for it."""
    record = conn.execute("SELECT * FROM backups WHERE id = ? AND deleted_at IS NULL", (backup_id,)).fetchone()
    if record is None:
        raise NotFound(f"no such backup: {backup_id}")
    result = snapshots.check_file(record, snapshots.folder(config) / record["file"], deep=deep)
    with transaction(conn):
        conn.execute("UPDATE backups SET verified_at = ?, verified_ok = ?, verify_detail = ? WHERE id = ?",
                     (now_iso(), int(result["ok"]), result["detail"], backup_id))
    return {"id": backup_id, **result}


def prune(config, conn, keep: int, daily_days: int, now=None) -> list:
    """Delete old automatic backups beyond `keep` per kind, keeping the newest of each day for `daily_days`
    days and the newest verified backup."""
    now = now or utcnow()
    autos = conn.execute("SELECT * FROM backups WHERE reason = 'auto' AND deleted_at IS NULL ORDER BY created_at DESC").fetchall()
    protected = set()
    for kind in KINDS:  # `keep` counts each kind on its own
        protected |= {r["id"] for r in [a for a in autos if a["kind"] == kind][:keep]}
    newest_verified = conn.execute("SELECT id FROM backups WHERE verified_ok = 1 AND deleted_at IS NULL "
                                   "ORDER BY created_at DESC LIMIT 1").fetchone()
    if newest_verified:
        protected.add(newest_verified["id"])
    floor = iso(now - timedelta(days=daily_days))
    days_seen = set()
    for record in autos:  # newest first: the newest backup of each (kind, day) within the floor is kept
        day = (record["kind"], record["created_at"][:10])
        if record["created_at"] >= floor and day not in days_seen:
            protected.add(record["id"])
        days_seen.add(day)
    pruned = []
    for record in autos:
        if record["id"] in protected:
            continue
        path = snapshots.folder(config) / record["file"]
        path.unlink(missing_ok=True)
        conn.execute("UPDATE backups SET deleted_at = ? WHERE id = ?", (now_iso(), record["id"]))
        pruned.append(record["id"])
    return pruned


def _usable(config, conn, backup_id) -> tuple:
    record = conn.execute("SELECT * FROM backups WHERE id = ? AND deleted_at IS NULL", (backup_id,)).fetchone()
    if record is None:
        raise NotFound(f"no such backup: {backup_id}")
    path = snapshots.folder(config) / record["file"]
    check = snapshots.check_file(record, path, deep=True)  # a restore replaces the data: the full check first
    if not check["ok"]:
        raise Conflict(f"backup {record['file']} failed verification and will not be restored: {check['detail']}")
    return record, path


# -- preview ------------------------------------------------------------------------

def preview(config, conn, backup_id) -> dict:
    record, path = _usable(config, conn, backup_id)
    if record["kind"] == "grid":
        return {"kind": "grid", "backup": _shown(record), "rows": _grid_row_diff(conn, snapshots.read_grid(path))}
    return {"kind": "full", "backup": _shown(record), "tables": _table_diff(conn, path)}


def _grid_row_diff(conn, snapshot) -> dict:
    now = {r["id"]: r for r in conn.execute("SELECT * FROM fundraising_investors")}
    then = {r["id"]: r for r in snapshot["tables"]["fundraising_investors"]}
    changed = [i for i in now.keys() & then.keys() if now[i] != then[i]]
    return {"added": sorted(then.keys() - now.keys()), "removed": sorted(now.keys() - then.keys()), "changed": sorted(changed),
            "counts": {"added": len(then.keys() - now.keys()), "removed": len(now.keys() - then.keys()), "changed": len(changed)}}


def _table_diff(conn, path: Path) -> dict:
    """Per table: rows the restore brings back (added), drops (removed) and rewrites (changed), by primary key."""
    conn.execute("ATTACH DATABASE ? AS snapshot", (f"file:{path}?mode=ro",))
    try:
        result = {}
        for table in snapshots.MAIN_TABLES:
            key = next(c["name"] for c in conn.execute(f"PRAGMA main.table_info({table})") if c["pk"] == 1)
            added = conn.execute(f"SELECT count(*) AS n FROM snapshot.{table} s WHERE s.{key} NOT IN (SELECT {key} FROM main.{table})").fetchone()["n"]
            removed = conn.execute(f"SELECT count(*) AS n FROM main.{table} m WHERE m.{key} NOT IN (SELECT {key} FROM snapshot.{table})").fetchone()["n"]
            differ = conn.execute(f"SELECT count(*) AS n FROM (SELECT * FROM snapshot.{table} EXCEPT SELECT * FROM main.{table})").fetchone()["n"]
            result[table] = {"added": added, "removed": removed, "changed": differ - added}
        return result
    except sqlite3.OperationalError as exc:
        raise Invalid({"backup_id": f"this backup's schema differs from the current one ({exc}); restore it to compare"}) from None
    finally:
        conn.execute("DETACH DATABASE snapshot")


# -- restore --------------------------------------------------------------------------

def restore(app, req, backup_id) -> dict:
    """Restore a verified backup after taking a pre_restore full backup. The caller holds the app's gate exclusively."""
    config = app.config
    conn = req.db
    record, path = _usable(config, conn, backup_id)
    snapshot = snapshots.read_grid(path) if record["kind"] == "grid" else None
    if snapshot is not None:
        _check_authors(conn, snapshot)  # before anything is written, the pre_restore backup included
    safety = take(config, conn, "full", "pre_restore", req.user["id"], req)
    if record["kind"] == "grid":
        with transaction(conn):
            counts = _restore_grid(conn, snapshot)
            audit.record(conn, req, "backup", backup_id, "restore", {"kind": ["grid", "grid"], "pre_restore": [None, safety["id"]]})
        return {"restored": _shown(record), "pre_restore_backup": safety, "rows": counts}
    _restore_full(app, conn, path)
    with transaction(conn):
        audit.record(conn, req, "backup", backup_id, "restore", {"kind": ["full", "full"], "pre_restore": [None, safety["id"]]})
    return {"restored": _shown(record), "pre_restore_backup": safety}


def _check_authors(conn, snapshot) -> None:
    """Comments and mentions must keep their people: refuse a grid backup whose users are gone."""
    tables = snapshot["tables"]
    wanted = {c["author_id"] for c in tables.get("fundraising_comments", [])} | \
             {m["user_id"] for m in tables.get("fundraising_mentions", [])}
    known = {r["id"] for r in conn.execute("SELECT id FROM users")}
    missing = wanted - known
    if missing:
        raise Conflict(f"this grid backup has comments by or mentions of {len(missing)} user(s) this database no longer has "
                       "(a full restore replaced the users); restore a full backup from the same time instead")


def _restore_grid(conn, snapshot) -> dict:
    tables = snapshot["tables"]
    counts = {}
    conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at commit, once every table is back
    rule_ids = [r["id"] for r in tables.get("fundraising_automations", [])]
    conn.execute(f"UPDATE fundraising_automation_runs SET rule_id = NULL WHERE rule_id NOT IN ({','.join('?' for _ in rule_ids)})",
                 rule_ids)  # the run log stays; runs of rules the snapshot lacks lose their link
    for table in reversed(snapshots.GRID_TABLES):  # children first
        conn.execute(f"DELETE FROM {table}")
    for table in snapshots.GRID_TABLES:
        rows = tables.get(table, [])
        counts[table] = len(rows)
        if table == "fundraising_state":
            continue
        for row in rows:
            conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    # Links to classic records deleted since the snapshot are dropped rather than failing the restore.
    conn.execute("UPDATE fundraising_contacts SET contact_id = NULL WHERE contact_id NOT IN (SELECT id FROM contacts)")
    conn.execute("UPDATE fundraising_investors SET organization_id = NULL WHERE organization_id NOT IN (SELECT id FROM organizations)")
    _drop_lost_user_links(conn)
    # The version moves forward (never back to the snapshot's) so clients' since= cursors stay valid.
    version = conn.execute("SELECT coalesce(max(version), 0) AS v FROM fundraising_ops").fetchone()["v"] + 1
    conn.execute("INSERT INTO fundraising_state (id, version, updated_at) VALUES (1, ?, ?)", (version, now_iso()))
    conn.execute("INSERT INTO fundraising_ops (version, kind, actor_kind, at) VALUES (?, 'reset_grid', 'system', ?)", (version, now_iso()))
    return counts


def _drop_lost_user_links(conn) -> None:
    """Who wrote a row, who owns a view: links to users the database no longer has (a full restore went back
    to before them) are cleared like the links above. A required one (a comment's author) still fails the restore."""
    for table in snapshots.GRID_TABLES:
        nullable = {c["name"] for c in conn.execute(f"PRAGMA table_info({table})") if not c["notnull"]}
        for link in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if link["table"] == "users" and link["from"] in nullable:
                conn.execute(f"UPDATE {table} SET {link['from']} = NULL WHERE {link['from']} NOT IN (SELECT id FROM users)")


def _restore_full(app, conn, path: Path) -> None:
    """Copy the backup over the live database, keeping the record of every backup taken since."""
    kept = conn.execute("SELECT * FROM backups").fetchall()
    replaced_version = conn.execute("SELECT version FROM fundraising_state WHERE id = 1").fetchone()["version"]
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        source.backup(conn, pages=-1)
    finally:
        source.close()
    app.pool.close_all()  # cached statements and schema belong to the old file
    conn.execute("PRAGMA journal_mode=WAL")
    apply_all(conn)  # an older backup is brought up to the current schema
    with transaction(conn):
        conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at commit, once links to users gone with the restore are dropped
        conn.execute("DELETE FROM backups")
        for row in kept:
            conn.execute(f"INSERT INTO backups ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
        conn.execute("UPDATE backups SET created_by = NULL WHERE created_by NOT IN (SELECT id FROM users)")
        # As in a grid restore, the grid's version moves forward (never back to the backup's) and one
        # reset_grid op tells live clients to reload, so their since= cursors stay valid.
        version = max(replaced_version, conn.execute("SELECT version FROM fundraising_state WHERE id = 1").fetchone()["version"]) + 1
        conn.execute("UPDATE fundraising_state SET version = ?, updated_at = ? WHERE id = 1", (version, now_iso()))
        conn.execute("INSERT INTO fundraising_ops (version, kind, actor_kind, at) VALUES (?, 'reset_grid', 'system', ?)", (version, now_iso()))


def policy_defaults() -> dict:
    return {"enabled": True, "interval_hours": 24, "keep": 14, "daily_days": 7, "kinds": ["full", "grid"]}


def due(conn, policy, now=None) -> list:
    """The kinds whose automatic backup is due under `policy` at `now`."""
    if not policy["enabled"]:
        return []
    now = now or utcnow()
    wanted = []
    for kind in policy["kinds"]:
        last = conn.execute("SELECT max(created_at) AS at FROM backups WHERE kind = ? AND reason = 'auto' AND deleted_at IS NULL",
                            (kind,)).fetchone()["at"]
        if last is None or parse_iso(last) + timedelta(hours=policy["interval_hours"]) <= now:
            wanted.append(kind)
    return wanted


def run_scheduled(config, conn, policy, now=None) -> dict:
    """One scheduler step: take what is due, then prune. Returns what it did."""
    taken = []
    for kind in due(conn, policy, now):
        record = take(config, conn, kind, "auto", at=now)
        taken.append(record["id"])
        verify(config, conn, record["id"])
    if not policy["enabled"]:  # a disabled policy touches nothing, pruning included
        return {"taken": taken, "pruned": []}
    with transaction(conn):
        pruned = prune(config, conn, policy["keep"], policy["daily_days"], now)
    return {"taken": taken, "pruned": pruned}

