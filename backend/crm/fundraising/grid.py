"""Reading the grid: the whole state, rows through a view, one row's detail, history and changes.

Whole-grid reads come from the app's live snapshot (live.py): exact for the
current version, kept up to date by re-reading only the rows each edit touched.
"""
import json

from ..errors import Conflict, Invalid, NotFound
from ..validation import page_params, query_flag, whole_number
from . import compact, filters, groups, store, view_plan, views

MAX_PAGE = 1000
# shape=ids: a listing's ids in one answer, for the SPA's window of rows (frontend/widgets/rowwindow.js):
# 100,000 ids are ~3.8 MB of JSON, ~2 MB gzipped, and nothing else of the rows is sent.
MAX_IDS_PAGE = 500_000
MAX_ASKED_IDS = 1000  # ids=: the rows a window page asks for by id
MAX_CHANGES = 5000


def state_bytes(req) -> bytes:
    """The original API's shape as the response body: {grid: {columns, rows}, views, version, updated_at, updated_by}.
    `rows=0` leaves the rows out (the SPA pages them through GET /rows)."""
    snap = req.app.grid.snapshot(req.db)
    grid = snap.grid_parts() if query_flag(req.query, "rows", default=True) else [b'{"columns":', snap.columns_json, b"}"]
    tail = json.dumps({"views": views.visible(req.db, req.user), "version": snap.version, "updated_at": snap.updated_at,
                       "updated_by": snap.updated_by}, separators=(",", ":")).encode()
    return b"".join([b'{"data":{"grid":', *grid, b",", tail[1:], b"}"])  # one join: the grid may be ~190 MB


def matching_rows(req, query, snap=None) -> tuple:
    """(snapshot, view config, rows) through a view (filter, sort) and the `q` search; `archived=1`: archived rows instead.
    The live rows a view shows are worked out once per snapshot: the pages of one listing share them."""
    snap = snap or req.app.grid.snapshot(req.db)
    config = {}
    if query.get("view_id"):
        config = views.effective(views.get(req.db, req.user, query["view_id"])["config"], snap.columns)
    q, day = query.get("q", ""), filters.today()
    if query_flag(query, "archived"):
        return snap, config, _through(config, q, day, snap.columns, _archived_rows(req.db, snap.columns))
    # The day is part of the key: a filter on "today" shows other rows tomorrow, edits or not.
    plan = view_plan.Plan(config, q, day, snap.columns)
    return snap, config, snap.through_view(_view_key(config, q, day), plan)


def _view_key(config, q, day) -> str:
    return json.dumps([config.get("filters"), config.get("sorts"), q, day], sort_keys=True)


def _groups(snap, rows, config, query) -> list:
    """The view's groups over all its rows, worked out once per snapshot and view (every page of a
    listing carries them), and after an edit derived from the previous version's (groups.py)."""
    column_id = config["group_by"]
    if query_flag(query, "archived"):  # archived rows are read afresh each time: nothing to derive from
        return filters.group_rows(rows, column_id, snap.columns)
    q, day = query.get("q", ""), filters.today()
    plan = view_plan.Plan(config, q, day, snap.columns)  # which rows the view shows, and their order
    found = snap.groups_of((column_id, _view_key(config, q, day)), rows, lambda: groups.compute(rows, column_id, snap.columns),
                           lambda _, held, touched, old_row_of: groups.derive(held, old_row_of, snap.row_of, touched, plan,
                                                                              rows, snap.columns))
    return found.listed


def _through(config, q, day, columns, rows) -> list:
    return view_plan.Plan(config, q, day, columns).compute(rows)


def _archived_rows(conn, columns) -> list:
    stamps = {r["id"]: r for r in conn.execute(
        "SELECT i.id, i.archived_at, u.username AS archived_by FROM fundraising_investors i "
        "LEFT JOIN users u ON u.id = i.archived_by WHERE i.archived_at IS NOT NULL")}
    return [{**r, "archived_at": stamps[r["id"]]["archived_at"], "archived_by": stamps[r["id"]]["archived_by"]}
            for r in store.load_rows(conn, columns, only_archived=True)]


def view_rows_bytes(req) -> bytes:
    """GET /rows's body: a page of the matching rows, the total, groups when the view groups, the version.
    `version` cuts the page from that version (the first page's), so the pages of a listing fit together.
    `shape=compact`: the page column by column, each column named once (compact.py); `shape=ids`: only
    the rows' ids (and the grouped column's values when the view groups). `ids=a,b,...`: those rows, in
    that order, whatever the view (the ones no longer live left out): the SPA's window fills its rows so."""
    shape = compact.shape(req.query)
    limit, offset = _page(req.query, shape)
    wanted = asked_ids(req.query)
    if wanted is None:
        snap, config, rows = matching_rows(req, req.query, _pinned_snapshot(req))
    else:
        snap, config = _pinned_snapshot(req) or req.app.grid.snapshot(req.db), {}
        rows, offset = [row for row in map(snap.row_of, wanted) if row is not None], 0
    meta = {"total": len(rows), "limit": limit, "offset": offset, "version": snap.version}
    if config.get("group_by"):
        meta["groups"] = _groups(snap, rows, config, req.query)
    shown = rows[offset:offset + limit]
    if shape == "ids":
        body = json.dumps([r["id"] for r in shown], separators=(",", ":")).encode()
        meta = {"shape": "ids", **meta}
        if config.get("group_by"):  # the placeholders of a grouped view need their group (Tabulator groups them)
            meta |= {"group_by": config["group_by"], "group_values": [r["cells"].get(config["group_by"]) for r in shown]}
    elif shape == "compact":
        archived = query_flag(req.query, "archived")
        fields = compact.ARCHIVED_FIELDS if archived else compact.FIELDS
        body, head = snap.compact.page_json(shown, fields)
        meta = {**head, **meta}
    else:
        body = snap.rows_json(shown)
    tail = json.dumps(meta, separators=(",", ":")).encode()
    return b'{"data":' + body + b"," + tail[1:]


def asked_ids(query):
    """`ids`: row ids separated by commas (at most MAX_ASKED_IDS), or None when not asked; a 422 names a bad list."""
    raw = query.get("ids")
    if raw is None:
        return None
    if query_flag(query, "archived"):
        raise Invalid({"ids": "lists live rows: it cannot be combined with archived=1"})
    wanted = raw.split(",")
    if raw == "" or any(not i or len(i) > 64 for i in wanted):
        raise Invalid({"ids": "must be row ids separated by commas (each 1-64 characters)"})
    if len(wanted) > MAX_ASKED_IDS:
        raise Invalid({"ids": f"at most {MAX_ASKED_IDS} ids at a time"})
    return wanted


def _pinned_snapshot(req):
    raw = req.query.get("version")
    if raw is None or raw == "":
        return None
    version = whole_number(raw, "version")
    current = req.app.grid.snapshot(req.db)
    snap = current if current.version == version else req.app.grid.held(version)
    # Archived rows are read from the database as they are now: only the current version will do.
    if snap is None or (snap is not current and query_flag(req.query, "archived")):
        raise Conflict(f"the grid has moved on from version {raw}: load the rows again from the first page",
                       extra={"version": current.version})
    return snap


def _page(query, shape="full") -> tuple:
    most = MAX_IDS_PAGE if shape == "ids" else MAX_PAGE
    return page_params(query, default_limit=most, max_limit=most)


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
    """Ops after version `since`, oldest first; `reset` when too many (reload the state instead).

    Also `reset` for a `since` beyond the current version: a client that saw a version this grid has not
    reached (another server's, a database swapped under it) cannot be brought up to date by ops.
    """
    current = store.version(conn)["version"]
    if since > current:
        return {"version": current, "reset": True, "ops": []}
    count = conn.execute("SELECT count(*) AS n FROM fundraising_ops WHERE version > ?", (since,)).fetchone()["n"]
    if count > MAX_CHANGES:
        return {"version": current, "reset": True, "ops": []}
    ops = conn.execute(
        "SELECT o.seq, o.version, o.kind, o.investor_id AS row_id, o.column_id, o.before, o.after, o.actor_id, "
        "u.username AS actor, o.at FROM fundraising_ops o LEFT JOIN users u ON u.id = o.actor_id "
        # By version, then seq (the same order: a version's ops are written together): ordered by seq
        # alone, SQLite walked the whole log (an import's 100,000 rows: 170 ms) instead of the version index.
        "WHERE o.version > ? ORDER BY o.version, o.seq", (since,)).fetchall()
    return {"version": current, "reset": False, "ops": [_decoded(op) for op in ops]}


def parse_since(raw) -> int:
    if raw is None or raw == "":
        raise Invalid({"since": "is required: the last version you have"})
    return whole_number(raw, "since")
