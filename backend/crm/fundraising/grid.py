"""Reading the grid: the whole state, rows through a view, one row's detail, history and changes.

Whole-grid reads share a snapshot cached per database and grid version: every
write to the grid's tables goes through an ops Batch (or a restore or reset)
that bumps the version, so a cached snapshot is exact until the version moves.
Reading 10,000 rows and encoding them takes most of a second; a cached read
costs a version check. Snapshots are shared: callers must not mutate them.
"""
import json
import threading
from collections import OrderedDict

from ..errors import Invalid, NotFound
from . import filters, store, views

MAX_PAGE = 1000
MAX_CHANGES = 5000


class Snapshot:
    def __init__(self, current, columns, rows):
        self.version, self.updated_at, self.updated_by = current["version"], current["updated_at"], current["updated_by"]
        self.columns, self.rows = columns, rows
        self._grid_json = None
        self._lock = threading.Lock()

    def grid_json(self) -> bytes:
        """{columns, rows} encoded once per snapshot."""
        with self._lock:
            if self._grid_json is None:
                self._grid_json = json.dumps({"columns": [c.as_api() for c in self.columns], "rows": self.rows},
                                             separators=(",", ":")).encode()
            return self._grid_json


_snapshots = OrderedDict()  # (database file, version) -> Snapshot
_snapshots_lock = threading.Lock()


def snapshot(conn) -> Snapshot:
    """The live (unarchived) grid at its current version, from cache when it has not moved."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # version and rows from one read snapshot
    try:
        current = store.version(conn)
        key = (conn.execute("PRAGMA database_list").fetchone()["file"], current["version"], current["updated_at"])
        with _snapshots_lock:
            found = _snapshots.get(key)
        if found is None:
            columns = store.load_columns(conn)
            found = Snapshot(current, columns, store.load_rows(conn, columns))
            with _snapshots_lock:
                _snapshots[key] = found
                while len(_snapshots) > 4:
                    _snapshots.popitem(last=False)
        return found
    finally:
        if own:
            conn.execute("COMMIT")


def state(conn, user) -> dict:
    """The original API's shape: {grid: {columns, rows}, views, version, updated_at, updated_by}."""
    snap = snapshot(conn)
    return {
        "grid": {"columns": [c.as_api() for c in snap.columns], "rows": snap.rows},
        "views": views.visible(conn, user),
        "version": snap.version, "updated_at": snap.updated_at, "updated_by": snap.updated_by,
    }


def state_bytes(conn, user) -> bytes:
    """state() as the JSON response body, reusing the snapshot's encoded grid."""
    snap = snapshot(conn)
    tail = json.dumps({"views": views.visible(conn, user), "version": snap.version, "updated_at": snap.updated_at,
                       "updated_by": snap.updated_by}, separators=(",", ":")).encode()
    return b'{"data":{"grid":' + snap.grid_json() + b"," + tail[1:] + b"}"


def view_rows(conn, user, query) -> dict:
    """Rows through a view (filter, sort, group) plus `q` search; a page of them with the total."""
    include_archived = query.get("archived") in ("1", "true")
    if include_archived:
        columns = store.load_columns(conn)
        rows = [r for r in store.load_rows(conn, columns, include_archived=True) if r["archived"]]
        version = store.version(conn)["version"]
    else:
        snap = snapshot(conn)
        columns, rows, version = snap.columns, snap.rows, snap.version
    config = {}
    if query.get("view_id"):
        config = views.effective(views.get(conn, user, query["view_id"])["config"], columns)
    matches = filters.compile_filter(config.get("filters"), columns)
    rows = [r for r in rows if matches(r["cells"])]
    rows = filters.search_rows(rows, query.get("q", ""))
    rows = filters.sort_rows(rows, config.get("sorts") or [], columns)
    result = {"total": len(rows)}
    if config.get("group_by"):
        result["groups"] = filters.group_rows(rows, config["group_by"], columns)
    limit, offset = _page(query)
    result.update({"rows": rows[offset:offset + limit], "limit": limit, "offset": offset, "version": version})
    return result


def _page(query) -> tuple:
    from ..validation import page_params
    return page_params(query, default_limit=MAX_PAGE, max_limit=MAX_PAGE)


def row_detail(conn, row_id) -> dict:
    columns = store.load_columns(conn)
    rows = store.load_rows(conn, columns, [row_id], include_archived=True)
    if not rows:
        raise NotFound(f"no such row: {row_id}")
    row = rows[0]
    contacts = [p for c in columns if c.type == "contacts" for p in row["cells"].get(c.id) or []]
    classic_ids = [p["contact_id"] for p in contacts if p.get("contact_id")]
    commitments = [{"fund_id": c.fund["id"], "column_id": c.id, "fund": c.fund["name"], "amount": row["cells"].get(c.id)}
                   for c in columns if c.type == "fund" and row["cells"].get(c.id) is not None]
    communications = []
    if classic_ids:
        marks = ",".join("?" for _ in classic_ids)
        communications = conn.execute(
            f"SELECT id, contact_id, type, subject, body, communication_date, created_by FROM communications "
            f"WHERE contact_id IN ({marks}) AND deleted_at IS NULL ORDER BY communication_date DESC LIMIT 100", classic_ids).fetchall()
    return {**row, "contacts": contacts, "commitments": commitments, "communications": communications}


def _decoded(op) -> dict:
    op["before"] = json.loads(op["before"]) if op["before"] is not None else None
    op["after"] = json.loads(op["after"]) if op["after"] is not None else None
    return op


def history(conn, row_id, limit, offset) -> tuple:
    if store.row_exists(conn, row_id) is None:
        raise NotFound(f"no such row: {row_id}")
    total = conn.execute("SELECT count(*) AS n FROM fundraising_ops WHERE investor_id = ?", (row_id,)).fetchone()["n"]
    found = conn.execute(
        "SELECT o.seq, o.version, o.kind, o.column_id, c.name AS column, o.before, o.after, o.actor_id, o.actor_kind, "
        "u.username AS actor, o.at FROM fundraising_ops o LEFT JOIN fundraising_columns c ON c.id = o.column_id "
        "LEFT JOIN users u ON u.id = o.actor_id WHERE o.investor_id = ? ORDER BY o.seq DESC LIMIT ? OFFSET ?",
        (row_id, limit, offset)).fetchall()
    return [_decoded(op) for op in found], total


def changes_since(conn, since: int) -> dict:
    """Ops after version `since`, oldest first; `reset` when too many (reload the state instead)."""
    current = store.version(conn)["version"]
    count = conn.execute("SELECT count(*) AS n FROM fundraising_ops WHERE version > ?", (since,)).fetchone()["n"]
    if count > MAX_CHANGES:
        return {"version": current, "reset": True, "ops": []}
    ops = conn.execute(
        "SELECT o.seq, o.version, o.kind, o.investor_id AS row_id, o.column_id, o.before, o.after, o.actor_id, "
        "u.username AS actor, o.at FROM fundraising_ops o LEFT JOIN users u ON u.id = o.actor_id "
        "WHERE o.version > ? ORDER BY o.seq", (since,)).fetchall()
    return {"version": current, "reset": False, "ops": [_decoded(op) for op in ops]}


def parse_since(raw) -> int:
    if raw is None or raw == "":
        raise Invalid({"since": "is required: the last version you have"})
    if not str(raw).isdigit():
        raise Invalid({"since": "must be a whole number"})
    return int(raw)
